//! JIT tests of elementwise semantics on edge values: integer division, remainder and shifts,
//! conversions, float min/max/compare/round, and the shared transcendental functions. Each op
//! runs both on scalars (registers) and on tensors (loops), against reference values written
//! from the semantics table of the design notes (`/work/shared/DESIGN.md`, "Op semantics").

mod jit_util;

use graphjit::jit::compile;
use graphjit::ops::{scalar, BinaryOp, CmpOp, Op, UnaryOp};
use graphjit::{DType, Tensor};
use jit_util::*;

/// Runs `op` on two tensors elementwise and, element by element, on scalars.
fn run_binary<T: graphjit::tensor::Element>(
    o: Op,
    dt: DType,
    out: DType,
    a: &[T],
    b: &[T],
) -> Vec<Tensor> {
    let n = a.len();
    let f = single_op(o.clone(), &[ty(dt, &[n]), ty(dt, &[n])], ty(out, &[n]));
    let exe = compile(&f).unwrap();
    let t = exe
        .run(&[Tensor::from(a.to_vec()), Tensor::from(b.to_vec())])
        .unwrap()
        .remove(0);
    let fs = single_op(o, &[sc(dt), sc(dt)], sc(out));
    let exe_s = compile(&fs).unwrap();
    for i in 0..n {
        let s = exe_s
            .run(&[Tensor::scalar(a[i]), Tensor::scalar(b[i])])
            .unwrap()
            .remove(0);
        assert_eq!(s.get(0), t.get(i), "scalar and tensor code differ at {i}");
    }
    vec![t]
}

/// Reference functions of the tests.
type BinRef<T> = fn(T, T) -> T;
type CmpRef = fn(f32, f32) -> bool;
type UnRef = fn(f64) -> f64;

macro_rules! int_ref {
    ($name:ident, $t:ty, $u:ty) => {
        fn $name(op: BinaryOp, a: $t, b: $t) -> $t {
            let w = <$t>::BITS as $u;
            match op {
                BinaryOp::Add => a.wrapping_add(b),
                BinaryOp::Sub => a.wrapping_sub(b),
                BinaryOp::Mul => a.wrapping_mul(b),
                BinaryOp::Div if b == 0 => -1,
                BinaryOp::Div => a.wrapping_div(b),
                BinaryOp::Rem if b == 0 => a,
                BinaryOp::Rem => a.wrapping_rem(b),
                BinaryOp::Min => a.min(b),
                BinaryOp::Max => a.max(b),
                BinaryOp::And => a & b,
                BinaryOp::Or => a | b,
                BinaryOp::Xor => a ^ b,
                BinaryOp::Shl if b as $u >= w => 0,
                BinaryOp::Shl => a << b,
                BinaryOp::ShrLogical if b as $u >= w => 0,
                BinaryOp::ShrLogical => ((a as $u) >> b) as $t,
                BinaryOp::ShrArith => a >> (b as $u).min(w - 1),
                BinaryOp::Pow | BinaryOp::Atan2 => unreachable!(),
            }
        }
    };
}
int_ref!(ref_i32, i32, u32);
int_ref!(ref_i64, i64, u64);

const INT_OPS: [BinaryOp; 13] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Rem,
    BinaryOp::Min,
    BinaryOp::Max,
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::Xor,
    BinaryOp::Shl,
    BinaryOp::ShrLogical,
    BinaryOp::ShrArith,
];

#[test]
fn int_binary_edges_i32() {
    let vals = [
        0,
        1,
        -1,
        2,
        -2,
        7,
        -7,
        31,
        32,
        33,
        100,
        i32::MIN,
        i32::MAX,
        i32::MIN + 1,
    ];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &x in &vals {
        for &y in &vals {
            a.push(x);
            b.push(y);
        }
    }
    for op in INT_OPS {
        let t = run_binary(Op::Binary(op), DType::I32, DType::I32, &a, &b).remove(0);
        let got = t.as_slice::<i32>().unwrap();
        for i in 0..a.len() {
            assert_eq!(
                got[i],
                ref_i32(op, a[i], b[i]),
                "{} {} {}",
                op.name(),
                a[i],
                b[i]
            );
        }
    }
}

#[test]
fn int_binary_edges_i64() {
    let vals = [
        0,
        1,
        -1,
        3,
        -3,
        63,
        64,
        65,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
        1 << 40,
    ];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &x in &vals {
        for &y in &vals {
            a.push(x);
            b.push(y);
        }
    }
    for op in INT_OPS {
        let t = run_binary(Op::Binary(op), DType::I64, DType::I64, &a, &b).remove(0);
        let got = t.as_slice::<i64>().unwrap();
        for i in 0..a.len() {
            assert_eq!(
                got[i],
                ref_i64(op, a[i], b[i]),
                "{} {} {}",
                op.name(),
                a[i],
                b[i]
            );
        }
    }
}

#[test]
fn documented_division_and_shift_values() {
    let d = |op, a: i32, b: i32| {
        run_binary(Op::Binary(op), DType::I32, DType::I32, &[a], &[b])[0]
            .get_item::<i32>()
            .unwrap()
    };
    assert_eq!(d(BinaryOp::Div, 7, 0), -1);
    assert_eq!(d(BinaryOp::Div, i32::MIN, -1), i32::MIN);
    assert_eq!(d(BinaryOp::Div, -7, 2), -3);
    assert_eq!(d(BinaryOp::Rem, 7, 0), 7);
    assert_eq!(d(BinaryOp::Rem, i32::MIN, -1), 0);
    assert_eq!(d(BinaryOp::Rem, -7, 2), -1);
    assert_eq!(d(BinaryOp::Shl, 1, 32), 0);
    assert_eq!(d(BinaryOp::Shl, 1, -1), 0);
    assert_eq!(d(BinaryOp::Shl, 1, 31), i32::MIN);
    assert_eq!(d(BinaryOp::ShrLogical, -8, 40), 0);
    assert_eq!(d(BinaryOp::ShrArith, -8, 40), -1);
    assert_eq!(d(BinaryOp::ShrArith, 8, -1), 0);
    assert_eq!(d(BinaryOp::ShrLogical, -8, 1), 0x7fff_fffc);
}

fn float_vals() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        1.5,
        2.5,
        -2.5,
        3.7,
        -3.7,
        1e10,
        -1e10,
        1e300,
        f64::MIN_POSITIVE / 4.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        2147483647.5,
        -2147483648.9,
        9.3e18,
    ]
}

fn same_f64(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

fn ieee_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else {
        a.min(b)
    }
}

fn ieee_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_positive() {
            a
        } else {
            b
        }
    } else {
        a.max(b)
    }
}

#[test]
fn float_binary_edges_f64() {
    let v = float_vals();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &x in &v {
        for &y in &v {
            a.push(x);
            b.push(y);
        }
    }
    let cases: [(BinaryOp, BinRef<f64>); 8] = [
        (BinaryOp::Add, |x, y| x + y),
        (BinaryOp::Sub, |x, y| x - y),
        (BinaryOp::Mul, |x, y| x * y),
        (BinaryOp::Div, |x, y| x / y),
        (BinaryOp::Min, ieee_min),
        (BinaryOp::Max, ieee_max),
        (BinaryOp::Rem, |x, y| scalar::rem_f64(x, y)),
        (BinaryOp::Pow, |x, y| scalar::pow_f64(x, y)),
    ];
    for (op, r) in cases {
        let t = run_binary(Op::Binary(op), DType::F64, DType::F64, &a, &b).remove(0);
        let got = t.as_slice::<f64>().unwrap();
        for i in 0..a.len() {
            assert!(
                same_f64(got[i], r(a[i], b[i])),
                "{} {} {} = {}",
                op.name(),
                a[i],
                b[i],
                got[i]
            );
        }
    }
}

/// Float comparisons are IEEE quiet: NaN compares false except `ne`.
#[test]
fn float_compare_f32() {
    let v: Vec<f32> = float_vals().iter().map(|&x| x as f32).collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &x in &v {
        for &y in &v {
            a.push(x);
            b.push(y);
        }
    }
    let cases: [(CmpOp, CmpRef); 6] = [
        (CmpOp::Eq, |x, y| x == y),
        (CmpOp::Ne, |x, y| x != y),
        (CmpOp::Lt, |x, y| x < y),
        (CmpOp::Le, |x, y| x <= y),
        (CmpOp::Gt, |x, y| x > y),
        (CmpOp::Ge, |x, y| x >= y),
    ];
    for (op, r) in cases {
        let t = run_binary(Op::Compare(op), DType::F32, DType::Bool, &a, &b).remove(0);
        let got = t.as_slice::<bool>().unwrap();
        for i in 0..a.len() {
            assert_eq!(got[i], r(a[i], b[i]), "{} {} {}", op.name(), a[i], b[i]);
        }
    }
}

#[test]
fn int_and_bool_compare() {
    let a = vec![i64::MIN, -1, 0, 5, i64::MAX];
    let b = vec![i64::MAX, -1, 1, 5, i64::MIN];
    let t = run_binary(Op::Compare(CmpOp::Lt), DType::I64, DType::Bool, &a, &b).remove(0);
    assert_eq!(
        t.as_slice::<bool>().unwrap(),
        &[true, false, true, false, false]
    );
    let a = vec![false, false, true, true];
    let b = vec![false, true, false, true];
    let t = run_binary(Op::Compare(CmpOp::Lt), DType::Bool, DType::Bool, &a, &b).remove(0);
    assert_eq!(t.as_slice::<bool>().unwrap(), &[false, true, false, false]);
    let t = run_binary(Op::Binary(BinaryOp::Xor), DType::Bool, DType::Bool, &a, &b).remove(0);
    assert_eq!(t.as_slice::<bool>().unwrap(), &[false, true, true, false]);
    let t = run_binary(Op::Binary(BinaryOp::And), DType::Bool, DType::Bool, &a, &b).remove(0);
    assert_eq!(t.as_slice::<bool>().unwrap(), &[false, false, false, true]);
}

fn run_unary(o: Op, input: Tensor, out: DType) -> Tensor {
    let n = input.len();
    let f = single_op(o, &[ty(input.dtype(), &[n])], ty(out, &[n]));
    compile(&f).unwrap().run(&[input]).unwrap().remove(0)
}

#[test]
fn unary_f64() {
    let v = float_vals();
    let cases: [(UnaryOp, UnRef); 11] = [
        (UnaryOp::Neg, |x| -x),
        (UnaryOp::Abs, f64::abs),
        (UnaryOp::Sqrt, f64::sqrt),
        (UnaryOp::Floor, f64::floor),
        (UnaryOp::Ceil, f64::ceil),
        (UnaryOp::Round, f64::round_ties_even),
        (UnaryOp::Exp, |x| scalar::exp_f64(x)),
        (UnaryOp::Log, |x| scalar::log_f64(x)),
        (UnaryOp::Tanh, |x| scalar::tanh_f64(x)),
        (UnaryOp::Sin, |x| scalar::sin_f64(x)),
        (UnaryOp::Cos, |x| scalar::cos_f64(x)),
    ];
    for (op, r) in cases {
        let t = run_unary(Op::Unary(op), Tensor::from(v.clone()), DType::F64);
        let got = t.as_slice::<f64>().unwrap();
        for i in 0..v.len() {
            assert!(
                same_f64(got[i], r(v[i])),
                "{} {} = {}",
                op.name(),
                v[i],
                got[i]
            );
        }
    }
}

#[test]
fn unary_f32_transcendentals() {
    let v: Vec<f32> = float_vals().iter().map(|&x| x as f32).collect();
    let cases: [(UnaryOp, extern "C" fn(f32) -> f32); 5] = [
        (UnaryOp::Exp, scalar::exp_f32),
        (UnaryOp::Log, scalar::log_f32),
        (UnaryOp::Tanh, scalar::tanh_f32),
        (UnaryOp::Sin, scalar::sin_f32),
        (UnaryOp::Cos, scalar::cos_f32),
    ];
    for (op, r) in cases {
        let t = run_unary(Op::Unary(op), Tensor::from(v.clone()), DType::F32);
        let want = Tensor::from(v.iter().map(|&x| r(x)).collect::<Vec<f32>>());
        assert_eq!(t, want, "{}", op.name());
    }
}

#[test]
fn int_unary_wraps() {
    let v = vec![i32::MIN, -5, 0, 5, i32::MAX];
    let t = run_unary(Op::Unary(UnaryOp::Neg), Tensor::from(v.clone()), DType::I32);
    assert_eq!(
        t.as_slice::<i32>().unwrap(),
        &[i32::MIN, 5, 0, -5, -i32::MAX]
    );
    let t = run_unary(Op::Unary(UnaryOp::Abs), Tensor::from(v.clone()), DType::I32);
    assert_eq!(t.as_slice::<i32>().unwrap(), &[i32::MIN, 5, 0, 5, i32::MAX]);
    let t = run_unary(Op::Unary(UnaryOp::Not), Tensor::from(v), DType::I32);
    assert_eq!(
        t.as_slice::<i32>().unwrap(),
        &[i32::MAX, 4, -1, -6, i32::MIN]
    );
    let t = run_unary(
        Op::Unary(UnaryOp::Not),
        Tensor::from(vec![true, false]),
        DType::Bool,
    );
    assert_eq!(t.as_slice::<bool>().unwrap(), &[false, true]);
}

/// Conversions follow Rust `as` (and `x != 0` to bool).
#[test]
fn conversions() {
    let v = float_vals();
    let conv = |input: Tensor, to: DType| run_unary(Op::Convert, input, to);
    let t = conv(Tensor::from(v.clone()), DType::I32);
    let want: Vec<i32> = v.iter().map(|&x| x as i32).collect();
    assert_eq!(t.as_slice::<i32>().unwrap(), want.as_slice());
    let t = conv(Tensor::from(v.clone()), DType::I64);
    let want: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    assert_eq!(t.as_slice::<i64>().unwrap(), want.as_slice());
    let t = conv(Tensor::from(v.clone()), DType::F32);
    assert_eq!(
        t,
        Tensor::from(v.iter().map(|&x| x as f32).collect::<Vec<_>>())
    );
    let t = conv(Tensor::from(v.clone()), DType::Bool);
    let want: Vec<bool> = v.iter().map(|&x| x != 0.0 || x.is_nan()).collect();
    assert_eq!(t.as_slice::<bool>().unwrap(), want.as_slice());
    let f32s: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let t = conv(Tensor::from(f32s.clone()), DType::I32);
    let want: Vec<i32> = f32s.iter().map(|&x| x as i32).collect();
    assert_eq!(t.as_slice::<i32>().unwrap(), want.as_slice());
    let t = conv(Tensor::from(f32s.clone()), DType::F64);
    assert_eq!(
        t,
        Tensor::from(f32s.iter().map(|&x| x as f64).collect::<Vec<_>>())
    );

    let ints = vec![
        i64::MIN,
        -1,
        0,
        1,
        16_777_217,
        (1 << 53) + 1,
        i64::MAX,
        1 << 40,
    ];
    let t = conv(Tensor::from(ints.clone()), DType::F32);
    assert_eq!(
        t,
        Tensor::from(ints.iter().map(|&x| x as f32).collect::<Vec<_>>())
    );
    let t = conv(Tensor::from(ints.clone()), DType::F64);
    assert_eq!(
        t,
        Tensor::from(ints.iter().map(|&x| x as f64).collect::<Vec<_>>())
    );
    let t = conv(Tensor::from(ints.clone()), DType::I32);
    let want: Vec<i32> = ints.iter().map(|&x| x as i32).collect();
    assert_eq!(t.as_slice::<i32>().unwrap(), want.as_slice());
    let t = conv(Tensor::from(ints.clone()), DType::Bool);
    let want: Vec<bool> = ints.iter().map(|&x| x != 0).collect();
    assert_eq!(t.as_slice::<bool>().unwrap(), want.as_slice());
    let t = conv(Tensor::from(vec![-1i32, i32::MIN]), DType::I64);
    assert_eq!(t.as_slice::<i64>().unwrap(), &[-1, i32::MIN as i64]);
    let t = conv(Tensor::from(vec![true, false]), DType::F64);
    assert_eq!(t.as_slice::<f64>().unwrap(), &[1.0, 0.0]);
    let t = conv(Tensor::from(vec![true, false]), DType::I64);
    assert_eq!(t.as_slice::<i64>().unwrap(), &[1, 0]);

    // The same conversions on scalars (registers rather than loops).
    let f = single_op(Op::Convert, &[sc(DType::F32)], sc(DType::I32));
    let exe = compile(&f).unwrap();
    for (x, want) in [
        (f32::NAN, 0),
        (1e10, i32::MAX),
        (f32::NEG_INFINITY, i32::MIN),
        (-1.9, -1),
    ] {
        let out = exe.run(&[Tensor::scalar(x)]).unwrap();
        assert_eq!(out[0].get_item::<i32>(), Some(want), "{x}");
    }
}

#[test]
fn select_elementwise() {
    let f = single_op(
        Op::Select,
        &[
            ty(DType::Bool, &[4]),
            ty(DType::F64, &[4]),
            ty(DType::F64, &[4]),
        ],
        ty(DType::F64, &[4]),
    );
    let out = compile(&f)
        .unwrap()
        .run(&[
            Tensor::from(vec![true, false, false, true]),
            Tensor::from(vec![1.0, 2.0, 3.0, 4.0]),
            Tensor::from(vec![-1.0, -2.0, -3.0, -4.0]),
        ])
        .unwrap();
    assert_eq!(out[0], Tensor::from(vec![1.0, -2.0, -3.0, 4.0]));
}
