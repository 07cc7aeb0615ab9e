//! The edge-value table: every elementwise op on every dtype it accepts, over every pair of that
//! dtype's edge values, compiled and interpreted, at rank 0 (registers) and rank 1 (buffers).
//! Each element must equal the scalar reference in `ops::scalar`, bit for bit, in both executors.

mod common;

use common::edge_scalars as edges;
use graphjit::ir::Function;
use graphjit::ops::{scalar, BinaryOp, CmpOp, Op, UnaryOp};
use graphjit::{interp, jit, DType, Data, Scalar, Tensor, TensorType};

fn tensor(items: &[Scalar], dtype: DType, shape: Vec<usize>) -> Tensor {
    let data = Data::from_scalars(dtype, items).expect("items of the dtype");
    Tensor::new(data, shape).expect("as many items as the shape holds")
}

/// `f(p0, ..) = op(p0, ..)` over operands of `tys`, with result type `out`.
fn single(op: Op, tys: &[TensorType], out: TensorType) -> Function {
    let mut f = Function::new("edge", vec![out.clone()]);
    let ps: Vec<_> = tys
        .iter()
        .enumerate()
        .map(|(i, t)| f.add_param(t.clone(), Some(format!("p{i}"))))
        .collect();
    let body = f.body;
    let i = f.push_inst(body, op, ps, vec![out], vec![None]);
    let v = f.results(i)[0];
    f.push_inst(body, Op::Return, vec![v], vec![], vec![]);
    f
}

/// Runs `op` over the operand columns in both executors, at rank 1 and element by element at
/// rank 0, and compares every element with `reference`.
fn check(
    op: Op,
    cols: &[Vec<Scalar>],
    dtypes: &[DType],
    out_dtype: DType,
    reference: &[Scalar],
) -> usize {
    let n = reference.len();
    let name = op.name();
    // Rank 1: the whole column at once, through buffers and loops.
    let tys: Vec<TensorType> = dtypes
        .iter()
        .map(|&d| TensorType::new(d, vec![n]))
        .collect();
    let f = single(op.clone(), &tys, TensorType::new(out_dtype, vec![n]));
    let inputs: Vec<Tensor> = cols
        .iter()
        .zip(dtypes)
        .map(|(c, &d)| tensor(c, d, vec![n]))
        .collect();
    let want = tensor(reference, out_dtype, vec![n]);
    let i = interp::interpret(&f, &inputs).expect("interpreter runs");
    let c = jit::compile(&f)
        .and_then(|e| e.run(&inputs))
        .expect("compiled code runs");
    assert_eq!(
        i[0], want,
        "{name} {dtypes:?}: interpreter vs reference on {inputs:?}"
    );
    assert_eq!(
        c[0], want,
        "{name} {dtypes:?}: compiled vs reference on {inputs:?}"
    );
    // Rank 0: one compiled function, run on every row, values in registers.
    let tys0: Vec<TensorType> = dtypes.iter().map(|&d| TensorType::scalar(d)).collect();
    let f0 = single(op, &tys0, TensorType::scalar(out_dtype));
    let exe = jit::compile(&f0).expect("compiles");
    let interpreter = interp::Interpreter::new(&f0).expect("prepares");
    for (row, want) in reference.iter().enumerate() {
        let ins: Vec<Tensor> = cols.iter().map(|c| Tensor::from_scalar(c[row])).collect();
        let want = Tensor::from_scalar(*want);
        assert_eq!(
            exe.run(&ins).unwrap()[0],
            want,
            "{name} compiled at rank 0 on {ins:?}"
        );
        assert_eq!(
            interpreter.run(&ins).unwrap()[0],
            want,
            "{name} interpreted at rank 0 on {ins:?}"
        );
    }
    n
}

#[test]
fn unary_ops_on_edge_values() {
    let mut checked = 0;
    for op in UnaryOp::ALL {
        for dtype in DType::ALL.into_iter().filter(|&d| op.accepts(d)) {
            let xs = edges(dtype);
            let reference: Vec<Scalar> = xs
                .iter()
                .map(|&x| scalar::eval_unary(op, x).expect("defined"))
                .collect();
            checked += check(Op::Unary(op), &[xs], &[dtype], dtype, &reference);
        }
    }
    assert!(checked > 400, "{checked}");
}

fn pairs(dtype: DType) -> (Vec<Scalar>, Vec<Scalar>) {
    let e = edges(dtype);
    let a = e.iter().flat_map(|&x| e.iter().map(move |_| x)).collect();
    let b = e.iter().flat_map(|_| e.iter().copied()).collect();
    (a, b)
}

#[test]
fn binary_ops_on_every_pair_of_edge_values() {
    let mut checked = 0;
    for op in BinaryOp::ALL {
        for dtype in DType::ALL.into_iter().filter(|&d| op.accepts(d)) {
            let (a, b) = pairs(dtype);
            let reference: Vec<Scalar> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| scalar::eval_binary(op, x, y).expect("defined"))
                .collect();
            checked += check(Op::Binary(op), &[a, b], &[dtype, dtype], dtype, &reference);
        }
    }
    assert!(checked > 5000, "{checked}");
}

#[test]
fn comparisons_on_every_pair_of_edge_values() {
    for op in CmpOp::ALL {
        for dtype in DType::ALL {
            let (a, b) = pairs(dtype);
            let reference: Vec<Scalar> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| scalar::eval_compare(op, x, y).expect("defined"))
                .collect();
            check(
                Op::Compare(op),
                &[a, b],
                &[dtype, dtype],
                DType::Bool,
                &reference,
            );
        }
    }
}

#[test]
fn conversions_between_every_pair_of_dtypes() {
    for from in DType::ALL {
        for to in DType::ALL {
            let xs = edges(from);
            let reference: Vec<Scalar> = xs.iter().map(|&x| scalar::convert(x, to)).collect();
            check(Op::Convert, &[xs], &[from], to, &reference);
        }
    }
}

#[test]
fn select_on_edge_values() {
    for dtype in DType::ALL {
        let (a, b) = pairs(dtype);
        let p: Vec<Scalar> = (0..a.len()).map(|i| Scalar::Bool(i % 3 == 0)).collect();
        let reference: Vec<Scalar> = (0..a.len())
            .map(|i| if i % 3 == 0 { a[i] } else { b[i] })
            .collect();
        check(
            Op::Select,
            &[p, a, b],
            &[DType::Bool, dtype, dtype],
            dtype,
            &reference,
        );
    }
}

/// The reference itself is pinned to the semantics table on the cases DESIGN.md names, so the
/// table above cannot pass with a wrong reference.
#[test]
fn the_reference_follows_the_semantics_table() {
    use Scalar::*;
    let b = |op, x, y| scalar::eval_binary(op, x, y).unwrap();
    assert_eq!(b(BinaryOp::Div, I32(7), I32(0)), I32(-1));
    assert_eq!(b(BinaryOp::Div, I32(i32::MIN), I32(-1)), I32(i32::MIN));
    assert_eq!(b(BinaryOp::Rem, I32(7), I32(0)), I32(7));
    assert_eq!(b(BinaryOp::Rem, I64(i64::MIN), I64(-1)), I64(0));
    assert_eq!(b(BinaryOp::Rem, I32(-7), I32(2)), I32(-1));
    assert_eq!(b(BinaryOp::Shl, I32(1), I32(32)), I32(0));
    assert_eq!(b(BinaryOp::ShrLogical, I32(-1), I32(-1)), I32(0));
    assert_eq!(b(BinaryOp::ShrArith, I64(-8), I64(64)), I64(-1));
    assert_eq!(b(BinaryOp::ShrLogical, I32(-8), I32(1)), I32(0x7FFF_FFFC));
    assert!(matches!(b(BinaryOp::Min, F32(f32::NAN), F32(1.0)), F32(x) if x.is_nan()));
    assert!(
        matches!(b(BinaryOp::Min, F32(-0.0), F32(0.0)), F32(x) if x.to_bits() == (-0.0f32).to_bits())
    );
    assert!(matches!(b(BinaryOp::Max, F64(-0.0), F64(0.0)), F64(x) if x.to_bits() == 0));
    assert!(matches!(b(BinaryOp::Rem, F64(-5.5), F64(2.0)), F64(x) if x == -1.5));
    assert_eq!(scalar::convert(F32(f32::NAN), DType::I32), I32(0));
    assert_eq!(scalar::convert(F64(1e300), DType::I64), I64(i64::MAX));
    assert_eq!(scalar::convert(F32(-3e9), DType::I32), I32(i32::MIN));
    assert_eq!(scalar::convert(F32(f32::NAN), DType::Bool), Bool(true));
    assert_eq!(scalar::convert(I64(1 << 32 | 5), DType::I32), I32(5));
    let u = |op, x| scalar::eval_unary(op, x).unwrap();
    assert_eq!(u(UnaryOp::Abs, I32(i32::MIN)), I32(i32::MIN));
    assert_eq!(u(UnaryOp::Neg, I64(i64::MIN)), I64(i64::MIN));
    assert!(matches!(u(UnaryOp::Round, F32(2.5)), F32(x) if x == 2.0));
    assert!(matches!(u(UnaryOp::Round, F64(-0.5)), F64(x) if x.to_bits() == (-0.0f64).to_bits()));
    let c = |op, x, y| scalar::eval_compare(op, x, y).unwrap();
    assert_eq!(c(CmpOp::Ne, F32(f32::NAN), F32(f32::NAN)), Bool(true));
    assert_eq!(c(CmpOp::Eq, F32(f32::NAN), F32(f32::NAN)), Bool(false));
    assert_eq!(c(CmpOp::Lt, F64(-0.0), F64(0.0)), Bool(false));
}
