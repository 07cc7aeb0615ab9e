//! The dtypes beyond the first five: their edge values (wrap points, division by zero, shifts
//! by the width, unsigned order), every conversion pair among all dtypes, `f16`/`bf16` rounding
//! (single rounding from wide types, and against the `half` crate), `bitcast_convert`, and the
//! examples of issue 10 through the builder. Every case runs in both executors.

mod jit_util;

use graphjit::ir::Function;
use graphjit::ops::{scalar, BinaryOp, CmpOp, Op, UnaryOp};
use graphjit::tensor::parse_scalar;
use graphjit::{interp, jit, DType, Data, Graph, Scalar, Tensor, TensorType};
use jit_util::single_op;

/// Runs `f` in both executors, checks that they agree bit for bit, and gives the results.
fn both(f: &Function, inputs: &[Tensor]) -> Vec<Tensor> {
    let i = interp::interpret(f, inputs).unwrap_or_else(|e| panic!("interpreted: {e}"));
    let c = jit::compile(f)
        .and_then(|e| e.run(inputs))
        .unwrap_or_else(|e| panic!("compiled: {e}"));
    assert_eq!(c, i, "compiled and interpreted results differ");
    i
}

fn dtype(name: &str) -> DType {
    DType::from_name(name).unwrap_or_else(|| panic!("no dtype {name}"))
}

fn scalar_of(atom: &str, d: DType) -> Scalar {
    parse_scalar(atom, d).unwrap_or_else(|e| panic!("{e}"))
}

/// Checks `op(args) == want` at rank 0 and, with each operand repeated three times, at rank 1.
fn check_op(op: Op, d: DType, out: DType, args: &[&str], want: &str) {
    let want = scalar_of(want, out);
    for shape in [vec![], vec![3]] {
        let params: Vec<TensorType> = args
            .iter()
            .map(|_| TensorType::new(d, shape.clone()))
            .collect();
        let f = single_op(op.clone(), &params, TensorType::new(out, shape.clone()));
        let inputs: Vec<Tensor> = args
            .iter()
            .map(|a| Tensor::full(scalar_of(a, d), shape.clone()))
            .collect();
        let got = both(&f, &inputs);
        assert_eq!(
            got[0],
            Tensor::full(want, shape.clone()),
            "{} on {d}{shape:?} of {args:?}",
            op.name()
        );
    }
}

fn binary(name: &str) -> Op {
    if let Some(c) = CmpOp::ALL.into_iter().find(|c| c.name() == name) {
        return Op::Compare(c);
    }
    Op::Binary(
        BinaryOp::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .unwrap_or_else(|| panic!("no binary op {name}")),
    )
}

/// `(dtype, op, a, b, result)`: each row is the semantics table of the README, at an edge.
const BINARY_EDGES: &[(&str, &str, &str, &str, &str)] = &[
    // u8: wrapping arithmetic, x / 0 = MAX, x % 0 = x, unsigned order, shifts.
    ("u8", "add", "200", "100", "44"),
    ("u8", "sub", "0", "1", "255"),
    ("u8", "mul", "16", "16", "0"),
    ("u8", "mul", "200", "3", "88"),
    ("u8", "div", "7", "0", "255"),
    ("u8", "div", "255", "2", "127"),
    ("u8", "rem", "7", "0", "7"),
    ("u8", "rem", "255", "10", "5"),
    ("u8", "min", "0", "255", "0"),
    ("u8", "max", "200", "100", "200"),
    ("u8", "lt", "200", "100", "false"),
    ("u8", "ge", "255", "0", "true"),
    ("u8", "shl", "1", "7", "128"),
    ("u8", "shl", "1", "8", "0"),
    ("u8", "shr_logical", "128", "1", "64"),
    ("u8", "shr_logical", "255", "200", "0"),
    ("u8", "shr_arith", "128", "1", "192"),
    ("u8", "shr_arith", "128", "8", "255"),
    ("u8", "shr_arith", "127", "200", "0"),
    ("u8", "xor", "170", "255", "85"),
    // u16
    ("u16", "add", "65535", "1", "0"),
    ("u16", "div", "1", "0", "65535"),
    ("u16", "rem", "9", "0", "9"),
    ("u16", "lt", "32768", "1", "false"),
    ("u16", "shl", "1", "16", "0"),
    ("u16", "shr_logical", "32768", "15", "1"),
    // u32: JAX's random numbers live here.
    ("u32", "div", "7", "0", "4294967295"),
    ("u32", "mul", "65536", "65536", "0"),
    ("u32", "mul", "2654435769", "3", "3668340011"),
    ("u32", "sub", "0", "1", "4294967295"),
    ("u32", "max", "2147483648", "1", "2147483648"),
    ("u32", "gt", "4294967295", "0", "true"),
    ("u32", "shr_logical", "4294967295", "32", "0"),
    ("u32", "shr_logical", "4294967295", "9", "8388607"),
    ("u32", "shl", "3", "31", "2147483648"),
    ("u32", "or", "1065353216", "8388607", "1073741823"),
    // u64
    ("u64", "sub", "0", "1", "18446744073709551615"),
    ("u64", "div", "5", "0", "18446744073709551615"),
    (
        "u64",
        "rem",
        "18446744073709551615",
        "0",
        "18446744073709551615",
    ),
    ("u64", "lt", "9223372036854775808", "1", "false"),
    ("u64", "min", "9223372036854775808", "1", "1"),
    ("u64", "shl", "1", "64", "0"),
    (
        "u64",
        "shr_arith",
        "9223372036854775808",
        "63",
        "18446744073709551615",
    ),
    // i8, i16: as i32 and i64.
    ("i8", "add", "127", "1", "-128"),
    ("i8", "sub", "-128", "1", "127"),
    ("i8", "mul", "16", "16", "0"),
    ("i8", "div", "-128", "-1", "-128"),
    ("i8", "rem", "-128", "-1", "0"),
    ("i8", "div", "5", "0", "-1"),
    ("i8", "rem", "-5", "0", "-5"),
    ("i8", "rem", "-7", "2", "-1"),
    ("i8", "lt", "-1", "0", "true"),
    ("i8", "shl", "1", "7", "-128"),
    ("i8", "shl", "1", "-1", "0"),
    ("i8", "shr_arith", "-128", "100", "-1"),
    ("i8", "shr_logical", "-128", "1", "64"),
    ("i8", "max", "-128", "127", "127"),
    ("i16", "add", "32767", "1", "-32768"),
    ("i16", "div", "-32768", "-1", "-32768"),
    ("i16", "div", "3", "0", "-1"),
    ("i16", "shr_arith", "-2", "16", "-1"),
    ("i16", "shr_logical", "-1", "15", "1"),
    // f16 and bf16: computed in f32, rounded to nearest even once per op.
    ("f16", "add", "1", "0.00048828125", "1"),
    ("f16", "add", "1", "0.000732421875", "1.0009765625"),
    ("f16", "add", "65504", "16", "inf"),
    ("f16", "add", "65504", "15", "65504"),
    ("f16", "mul", "256", "256", "inf"),
    ("f16", "mul", "0.000061035156", "0.5", "0.000030517578"),
    ("f16", "div", "1", "0", "inf"),
    ("f16", "div", "1", "3", "0.33325195"),
    ("f16", "max", "-0.0", "0.0", "0.0"),
    ("f16", "min", "nan", "1", "nan"),
    ("f16", "lt", "-0.0", "0.0", "false"),
    ("f16", "ne", "nan", "nan", "true"),
    ("f16", "rem", "5.5", "2", "1.5"),
    ("bf16", "add", "1", "0.00390625", "1"),
    ("bf16", "add", "1", "0.0078125", "1.0078125"),
    ("bf16", "add", "256", "1", "256"),
    ("bf16", "add", "256", "3", "260"),
    ("bf16", "mul", "3e38", "2", "inf"),
    ("bf16", "div", "1", "3", "0.333984375"),
    ("bf16", "sub", "1", "1", "0.0"),
];

#[test]
fn binary_ops_at_the_edges_of_every_new_dtype() {
    for &(d, op, a, b, want) in BINARY_EDGES {
        let d = dtype(d);
        let op = binary(op);
        let out = if matches!(op, Op::Compare(_)) {
            DType::Bool
        } else {
            d
        };
        check_op(op, d, out, &[a, b], want);
    }
}

/// `(dtype, op, x, result)`.
const UNARY_EDGES: &[(&str, &str, &str, &str)] = &[
    ("u8", "neg", "1", "255"),
    ("u8", "neg", "0", "0"),
    ("u8", "abs", "200", "200"),
    ("u8", "not", "0", "255"),
    ("u16", "neg", "1", "65535"),
    ("u32", "abs", "4294967295", "4294967295"),
    ("u32", "neg", "2147483648", "2147483648"),
    ("u64", "not", "0", "18446744073709551615"),
    ("i8", "neg", "-128", "-128"),
    ("i8", "abs", "-128", "-128"),
    ("i8", "abs", "-127", "127"),
    ("i16", "neg", "-32768", "-32768"),
    ("i16", "not", "0", "-1"),
    ("f16", "sqrt", "2", "1.4140625"),
    ("f16", "neg", "0.0", "-0.0"),
    ("f16", "abs", "-inf", "inf"),
    ("f16", "exp", "12", "inf"),
    ("f16", "round", "2.5", "2"),
    ("f16", "floor", "-0.5", "-1"),
    ("bf16", "sqrt", "2", "1.4140625"),
    ("bf16", "exp", "1", "2.71875"),
    ("bf16", "neg", "nan", "nan"),
    ("bf16", "ceil", "0.5", "1"),
];

#[test]
fn unary_ops_at_the_edges_of_every_new_dtype() {
    for &(d, op, x, want) in UNARY_EDGES {
        let d = dtype(d);
        let op = UnaryOp::ALL
            .into_iter()
            .find(|u| u.name() == op)
            .unwrap_or_else(|| panic!("no unary op {op}"));
        check_op(Op::Unary(op), d, d, &[x], want);
    }
}

/// `(from, value, to, result)`: conversions whose answers the issue's rules fix.
const CONVERSIONS: &[(&str, &str, &str, &str)] = &[
    // Float to int: truncate, saturate, NaN and negatives (for unsigned) to 0.
    ("f32", "-1.5", "u8", "0"),
    ("f32", "300", "u8", "255"),
    ("f32", "255.9", "u8", "255"),
    ("f32", "nan", "u32", "0"),
    ("f32", "-inf", "u64", "0"),
    ("f32", "inf", "u64", "18446744073709551615"),
    ("f64", "-200", "i8", "-128"),
    ("f64", "127.9", "i8", "127"),
    ("f64", "-40000", "i16", "-32768"),
    ("f64", "70000", "u16", "65535"),
    ("f16", "65504", "i32", "65504"),
    ("f16", "-inf", "i8", "-128"),
    ("bf16", "nan", "i64", "0"),
    ("bf16", "-1", "u8", "0"),
    // Int to int: keep the low bits, extend by the source's signedness.
    ("i32", "300", "u8", "44"),
    ("i32", "-1", "u8", "255"),
    ("u8", "255", "i32", "255"),
    ("u8", "255", "i8", "-1"),
    ("i8", "-1", "u32", "4294967295"),
    ("i8", "-1", "u64", "18446744073709551615"),
    ("u32", "4294967295", "i64", "4294967295"),
    ("u64", "18446744073709551615", "i16", "-1"),
    ("i16", "-32768", "u16", "32768"),
    // Int to float: one rounding, to nearest even.
    ("u64", "18446744073709551615", "f32", "18446744073709551616"),
    ("u32", "4294967295", "f32", "4294967296"),
    ("u32", "16777217", "f32", "16777216"),
    ("i64", "2155872257", "bf16", "2164260864"),
    ("u64", "2155872257", "bf16", "2164260864"),
    ("i32", "65520", "f16", "inf"),
    ("i32", "65519", "f16", "65504"),
    ("u16", "2049", "f16", "2048"),
    ("u16", "2051", "f16", "2052"),
    ("i8", "-128", "bf16", "-128"),
    // Float to narrower float: one rounding (never through f32 twice), overflow to inf.
    ("f64", "1.0004882812500009", "f16", "1.0009765625"),
    ("f64", "1.00390625000000093", "bf16", "1.0078125"),
    ("f64", "1e300", "bf16", "inf"),
    ("f64", "-1e300", "f16", "-inf"),
    ("f64", "1e-300", "bf16", "0.0"),
    ("f32", "3.4028235e38", "bf16", "inf"),
    ("f32", "65520", "f16", "inf"),
    ("f32", "5.9604645e-8", "f16", "5.9604645e-8"),
    ("f32", "2.9802322e-8", "f16", "0.0"),
    ("f32", "nan", "f16", "nan"),
    ("f16", "65504", "bf16", "65536"),
    ("bf16", "65536", "f16", "inf"),
    ("bf16", "9.536743e-7", "f16", "9.536743e-7"),
    ("f16", "0.33325195", "f64", "0.333251953125"),
    // Bool.
    ("bool", "true", "f16", "1"),
    ("bool", "true", "u64", "1"),
    ("f16", "-0.0", "bool", "false"),
    ("bf16", "nan", "bool", "true"),
    ("u8", "0", "bool", "false"),
    ("u32", "256", "bool", "true"),
];

#[test]
fn conversions_follow_the_rules() {
    for &(from, x, to, want) in CONVERSIONS {
        check_op(Op::Convert, dtype(from), dtype(to), &[x], want);
    }
}

/// A few values of each dtype for the all-pairs conversion test: zero, one, the extremes,
/// and for floats a fraction, a negative, NaN and the infinities.
fn samples(d: DType) -> Vec<Scalar> {
    let mut v = vec![d.min_value(), d.max_value()];
    let words: &[&str] = if d == DType::Bool {
        &["false", "true"]
    } else if d.is_float() {
        &["0", "-0.0", "1", "-2.5", "0.1", "nan", "1e-5", "300"]
    } else if d.is_signed() {
        &["0", "1", "-1", "100", "-100"]
    } else {
        &["0", "1", "100", "255"]
    };
    v.extend(words.iter().map(|w| scalar_of(w, d)));
    v
}

#[test]
fn every_conversion_pair_agrees_with_the_reference_in_both_executors() {
    for from in DType::ALL {
        let xs = samples(from);
        for to in DType::ALL {
            let want: Vec<Scalar> = xs.iter().map(|&x| scalar::convert(x, to)).collect();
            // Rank 1, all samples at once.
            let n = xs.len();
            let f = single_op(
                Op::Convert,
                &[TensorType::new(from, [n])],
                TensorType::new(to, [n]),
            );
            let input =
                Tensor::new(Data::from_scalars(from, &xs).expect("samples"), [n]).expect("tensor");
            let got = both(&f, &[input]);
            let want_t =
                Tensor::new(Data::from_scalars(to, &want).expect("results"), [n]).expect("tensor");
            assert_eq!(got[0], want_t, "{from} -> {to} at rank 1");
            // Rank 0, one sample at a time.
            let f = single_op(
                Op::Convert,
                &[TensorType::scalar(from)],
                TensorType::scalar(to),
            );
            for (&x, &w) in xs.iter().zip(&want) {
                let got = both(&f, &[Tensor::from_scalar(x)]);
                assert_eq!(
                    got[0],
                    Tensor::from_scalar(w),
                    "{from} {x} -> {to} at rank 0"
                );
            }
        }
    }
}

/// `f32 -> f16` and `f32 -> bf16` equal the `half` crate's conversions, bit for bit (NaN for
/// NaN), in both executors, on `count` f32 bit patterns spread over the whole range from
/// `start` with stride `step`.
fn check_half_conversions(start: u32, step: u32, count: usize) {
    let bits: Vec<u32> = (0..count as u32)
        .map(|i| start.wrapping_add(i.wrapping_mul(step)))
        .collect();
    let xs: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
    let n = xs.len();
    let input = Tensor::from_vec(xs.clone(), [n]).expect("tensor");
    for to in [DType::F16, DType::BF16] {
        let f = single_op(
            Op::Convert,
            &[TensorType::new(DType::F32, [n])],
            TensorType::new(to, [n]),
        );
        let got = both(&f, std::slice::from_ref(&input));
        let want = match to {
            DType::F16 => Tensor::from_vec(
                xs.iter()
                    .map(|&x| half::f16::from_f32(x))
                    .collect::<Vec<_>>(),
                [n],
            ),
            _ => Tensor::from_vec(
                xs.iter()
                    .map(|&x| half::bf16::from_f32(x))
                    .collect::<Vec<_>>(),
                [n],
            ),
        }
        .expect("tensor");
        assert_eq!(
            got[0], want,
            "f32 -> {to} from bit pattern {start:#x} step {step}"
        );
    }
}

#[test]
fn f32_to_16_bit_floats_match_the_half_crate_on_sampled_patterns() {
    // About 4 million patterns: an odd stride visits every exponent and many mantissas, and
    // the contiguous runs around 1.0, the f16 overflow threshold and the subnormals check
    // every rounding boundary there.
    check_half_conversions(0x1234_5677, 1021, 1 << 21);
    check_half_conversions(0x3F80_0000 - (1 << 19), 1, 1 << 20);
    check_half_conversions(0x477F_E000 - (1 << 18), 1, 1 << 19);
    check_half_conversions(0x3300_0000, 1, 1 << 19);
}

#[test]
#[ignore = "all 2^32 f32 bit patterns; run with --release -- --ignored"]
fn f32_to_16_bit_floats_match_the_half_crate_on_every_pattern() {
    let chunk = 1u32 << 24;
    for i in 0..256u32 {
        check_half_conversions(i * chunk, 1, chunk as usize);
    }
}

#[test]
fn bitcast_convert_reinterprets_bits_with_the_stablehlo_width_rule() {
    let run = |x: Tensor, to: TensorType| {
        let f = single_op(Op::BitcastConvert, &[x.ty()], to);
        both(&f, &[x]).remove(0)
    };
    // One width: the shape stays.
    assert_eq!(
        run(Tensor::scalar(1.0f32), TensorType::scalar(DType::U32)),
        Tensor::scalar(0x3F80_0000u32)
    );
    assert_eq!(
        run(
            Tensor::from([0x3C00u16, 0xFC00]),
            TensorType::new(DType::F16, [2])
        ),
        Tensor::from([half::f16::ONE, half::f16::NEG_INFINITY])
    );
    assert_eq!(
        run(Tensor::from([-1i64]), TensorType::new(DType::F64, [1]))
            .as_slice::<f64>()
            .map(|v| v[0].is_nan()),
        Some(true)
    );
    // Narrower: a last dimension of in_bits / out_bits, little-endian.
    assert_eq!(
        run(
            Tensor::scalar(0x0102_0304u32),
            TensorType::new(DType::U8, [4])
        ),
        Tensor::from([4u8, 3, 2, 1])
    );
    assert_eq!(
        run(Tensor::from([1u32, 2]), TensorType::new(DType::U16, [2, 2])),
        Tensor::from([[1u16, 0], [2, 0]])
    );
    // Wider: the last dimension goes.
    assert_eq!(
        run(
            Tensor::from([0u8, 0, 128, 63]),
            TensorType::scalar(DType::F32)
        ),
        Tensor::scalar(1.0f32)
    );
    assert_eq!(
        run(
            Tensor::from([[0xFFFFu16, 0xFFFF], [1, 0]]),
            TensorType::new(DType::I32, [2])
        ),
        Tensor::from([-1i32, 1])
    );
    // Type errors name the rule.
    let bad = [
        (
            TensorType::new(DType::U8, [3]),
            TensorType::scalar(DType::U32),
        ),
        (
            TensorType::scalar(DType::Bool),
            TensorType::scalar(DType::U8),
        ),
        (
            TensorType::scalar(DType::F32),
            TensorType::scalar(DType::U16),
        ),
    ];
    for (from, to) in bad {
        let f = single_op(Op::BitcastConvert, std::slice::from_ref(&from), to.clone());
        let e = graphjit::ir::verify::verify_function(&f).expect_err("invalid bitcast");
        assert!(
            e.to_string().contains("bitcast_convert"),
            "{from} -> {to}: {e}"
        );
    }
}

#[test]
fn the_issue_examples_through_the_builder() {
    // u8 wraps: [100, 200, 255, 0] * 3 == [44, 88, 253, 0].
    let g = Graph::new("u8_mul");
    let x = g.input("x", DType::U8, [4]);
    g.outputs(&[x * 3u8]);
    let out = both_graph(&g, &[Tensor::from([100u8, 200, 255, 0])]);
    assert_eq!(out[0], Tensor::from([44u8, 88, 253, 0]));
    // u32 division by zero gives all ones; the literal 0 becomes a u32.
    let g = Graph::new("u32_div");
    let x = g.input("x", DType::U32, []);
    g.outputs(&[x / 0]);
    let out = both_graph(&g, &[Tensor::scalar(7u32)]);
    assert_eq!(out[0], Tensor::scalar(4294967295u32));
    // bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 and rounds to even, 1.
    let g = Graph::new("bf16_add");
    let x = g.input("x", DType::BF16, []);
    let y = g.input("y", DType::BF16, []);
    g.outputs(&[x + y]);
    let one = half::bf16::ONE;
    let out = both_graph(
        &g,
        &[
            Tensor::scalar(one),
            Tensor::scalar(half::bf16::from_f32(1.0 / 256.0)),
        ],
    );
    assert_eq!(out[0], Tensor::scalar(one));
}

fn both_graph(g: &Graph, inputs: &[Tensor]) -> Vec<Tensor> {
    let i = g
        .interpret(inputs)
        .unwrap_or_else(|e| panic!("interpreted: {e}"));
    let c = g
        .compile()
        .and_then(|e| e.run(inputs))
        .unwrap_or_else(|e| panic!("compiled: {e}"));
    assert_eq!(c, i, "compiled and interpreted results differ");
    i
}

#[test]
fn builder_literals_take_the_tensor_dtype_only_when_exact() {
    let g = Graph::new("lits");
    let x = g.input("x", DType::U8, []);
    g.outputs(&[x + 256]);
    let e = g
        .interpret(&[Tensor::scalar(1u8)])
        .expect_err("256 is not a u8");
    assert!(e.to_string().contains("cannot be a u8"), "{e}");
    let g = Graph::new("lits");
    let x = g.input("x", DType::U8, []);
    g.outputs(&[x + -1]);
    assert!(
        g.interpret(&[Tensor::scalar(1u8)]).is_err(),
        "-1 is not a u8"
    );
    let g = Graph::new("lits");
    let x = g.input("x", DType::F16, []);
    g.outputs(&[x * 0.1]);
    let out = both_graph(&g, &[Tensor::scalar(half::f16::from_f32(10.0))]);
    assert_eq!(out[0], Tensor::scalar(half::f16::from_f32(1.0)));
}
