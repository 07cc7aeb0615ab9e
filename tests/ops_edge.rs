//! Edge-value tests of every op's scalar meaning, of the tensor kernels (including the
//! documented reduce and dot orders), and of the interpreter on functions built with the IR API.
//!
//! Expected values are written out by hand from the semantics table of the design notes (DESIGN.md), not
//! computed with the code under test.

use graphjit::error::{Error, RunError};
use graphjit::interp::{interpret, Interpreter};
use graphjit::ir::{Function, Region, Value};
use graphjit::ops::scalar::{
    convert, eval_binary, eval_compare, eval_select, eval_unary, reduce_combine, reduce_identity,
};
use graphjit::ops::{kernels, BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use graphjit::{DType, Scalar, Tensor, TensorType};

use BinaryOp as B;
use Scalar::{Bool, F32, F64, I32, I64};
use UnaryOp as U;

// ---------------------------------------------------------------------------------------------
// Scalar semantics.
// ---------------------------------------------------------------------------------------------

/// Checks `op(a, b) == want` bitwise (NaN equal to NaN), with a message naming the case.
fn bin(op: BinaryOp, a: Scalar, b: Scalar, want: Scalar) {
    let got = eval_binary(op, a, b);
    assert_eq!(got, Some(want), "{}({a:?}, {b:?})", op.name());
    // Bitwise, so that -0.0 and +0.0 are told apart (Scalar's PartialEq already is).
    if let (Some(F32(g)), F32(w)) = (got, want) {
        assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()));
    }
}

fn un(op: UnaryOp, x: Scalar, want: Scalar) {
    assert_eq!(eval_unary(op, x), Some(want), "{}({x:?})", op.name());
}

fn cmp(op: CmpOp, a: Scalar, b: Scalar, want: bool) {
    assert_eq!(
        eval_compare(op, a, b),
        Some(Bool(want)),
        "{}({a:?}, {b:?})",
        op.name()
    );
}

fn cvt(x: Scalar, to: DType, want: Scalar) {
    assert_eq!(convert(x, to), want, "convert {x:?} to {to}");
}

#[test]
fn int_div_and_rem_never_trap() {
    for (a, b, q, r) in [
        (7, 2, 3, 1),
        (-7, 2, -3, -1),
        (7, -2, -3, 1),
        (-7, -2, 3, -1),
        (7, 0, -1, 7),
        (0, 0, -1, 0),
        (-5, 0, -1, -5),
        (i32::MIN, -1, i32::MIN, 0),
        (i32::MIN, 0, -1, i32::MIN),
        (i32::MAX, -1, -i32::MAX, 0),
        (i32::MIN, i32::MIN, 1, 0),
    ] {
        bin(B::Div, I32(a), I32(b), I32(q));
        bin(B::Rem, I32(a), I32(b), I32(r));
        bin(
            B::Div,
            I64(a as i64),
            I64(b as i64),
            I64(if (a, b) == (i32::MIN, -1) {
                2147483648
            } else {
                q as i64
            }),
        );
    }
    bin(B::Div, I64(i64::MIN), I64(-1), I64(i64::MIN));
    bin(B::Rem, I64(i64::MIN), I64(-1), I64(0));
    bin(B::Div, I64(i64::MAX), I64(0), I64(-1));
    bin(B::Rem, I64(i64::MAX), I64(0), I64(i64::MAX));
    bin(B::Rem, I64(-9), I64(4), I64(-1));
}

#[test]
fn int_arithmetic_wraps() {
    bin(B::Add, I32(i32::MAX), I32(1), I32(i32::MIN));
    bin(B::Sub, I32(i32::MIN), I32(1), I32(i32::MAX));
    bin(B::Mul, I32(i32::MAX), I32(2), I32(-2));
    bin(B::Mul, I32(i32::MIN), I32(-1), I32(i32::MIN));
    bin(B::Mul, I32(65536), I32(65536), I32(0));
    bin(B::Add, I64(i64::MAX), I64(1), I64(i64::MIN));
    bin(B::Mul, I64(1 << 32), I64(1 << 32), I64(0));
    bin(B::Sub, I64(0), I64(i64::MIN), I64(i64::MIN));
    un(U::Neg, I32(i32::MIN), I32(i32::MIN));
    un(U::Abs, I32(i32::MIN), I32(i32::MIN));
    un(U::Neg, I64(i64::MIN), I64(i64::MIN));
    un(U::Abs, I64(i64::MIN), I64(i64::MIN));
    un(U::Abs, I32(-1), I32(1));
    un(U::Neg, I32(0), I32(0));
    un(U::Neg, I32(i32::MAX), I32(-i32::MAX));
    bin(B::Min, I32(i32::MIN), I32(i32::MAX), I32(i32::MIN));
    bin(B::Max, I32(-1), I32(0), I32(0));
    bin(B::Min, I64(-1), I64(1), I64(-1));
    bin(B::Max, I64(i64::MIN), I64(i64::MAX), I64(i64::MAX));
}

#[test]
fn bitwise_and_logical_ops() {
    un(U::Not, I32(0), I32(-1));
    un(U::Not, I32(-1), I32(0));
    un(U::Not, I32(i32::MIN), I32(i32::MAX));
    un(U::Not, I64(1), I64(-2));
    un(U::Not, Bool(true), Bool(false));
    un(U::Not, Bool(false), Bool(true));
    bin(B::And, I32(0b1100), I32(0b1010), I32(0b1000));
    bin(B::Or, I32(0b1100), I32(0b1010), I32(0b1110));
    bin(B::Xor, I32(0b1100), I32(0b1010), I32(0b0110));
    bin(B::Xor, I64(-1), I64(i64::MIN), I64(i64::MAX));
    bin(B::And, I64(-1), I64(i64::MIN), I64(i64::MIN));
    for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
        bin(B::And, Bool(a), Bool(b), Bool(a && b));
        bin(B::Or, Bool(a), Bool(b), Bool(a || b));
        bin(B::Xor, Bool(a), Bool(b), Bool(a != b));
    }
}

#[test]
fn shifts_read_the_amount_unsigned_and_saturate() {
    bin(B::Shl, I32(1), I32(31), I32(i32::MIN));
    bin(B::Shl, I32(1), I32(32), I32(0));
    bin(B::Shl, I32(-1), I32(33), I32(0));
    bin(B::Shl, I32(1), I32(-1), I32(0));
    bin(B::Shl, I32(3), I32(0), I32(3));
    bin(B::ShrLogical, I32(-1), I32(1), I32(i32::MAX));
    bin(B::ShrLogical, I32(-1), I32(31), I32(1));
    bin(B::ShrLogical, I32(-8), I32(32), I32(0));
    bin(B::ShrLogical, I32(-8), I32(-1), I32(0));
    bin(B::ShrArith, I32(-8), I32(1), I32(-4));
    bin(B::ShrArith, I32(-8), I32(40), I32(-1));
    bin(B::ShrArith, I32(8), I32(40), I32(0));
    bin(B::ShrArith, I32(-8), I32(-1), I32(-1));
    bin(B::ShrArith, I32(i32::MIN), I32(31), I32(-1));
    bin(B::ShrArith, I32(i32::MAX), I32(31), I32(0));
    bin(B::Shl, I64(1), I64(63), I64(i64::MIN));
    bin(B::Shl, I64(1), I64(64), I64(0));
    bin(B::Shl, I64(1), I64(32), I64(1 << 32));
    bin(B::ShrLogical, I64(-1), I64(63), I64(1));
    bin(B::ShrLogical, I64(-1), I64(64), I64(0));
    bin(B::ShrArith, I64(i64::MIN), I64(100), I64(-1));
    bin(B::ShrArith, I64(i64::MIN), I64(i64::MIN), I64(-1));
    bin(B::ShrArith, I64(5), I64(64), I64(0));
}

#[test]
fn float_arithmetic_is_ieee() {
    let inf = f32::INFINITY;
    let nan = f32::NAN;
    bin(B::Div, F32(1.0), F32(0.0), F32(inf));
    bin(B::Div, F32(-1.0), F32(0.0), F32(-inf));
    bin(B::Div, F32(1.0), F32(-0.0), F32(-inf));
    bin(B::Div, F32(0.0), F32(0.0), F32(nan));
    bin(B::Add, F32(inf), F32(-inf), F32(nan));
    bin(B::Mul, F32(0.0), F32(inf), F32(nan));
    bin(B::Mul, F32(-0.0), F32(5.0), F32(-0.0));
    bin(B::Add, F32(-0.0), F32(0.0), F32(0.0));
    bin(B::Add, F32(-0.0), F32(-0.0), F32(-0.0));
    bin(B::Sub, F32(0.0), F32(0.0), F32(0.0));
    bin(B::Mul, F32(f32::MAX), F32(2.0), F32(inf));
    // Subnormals are kept, not flushed to zero.
    let tiny = f32::from_bits(1);
    bin(B::Add, F32(tiny), F32(tiny), F32(f32::from_bits(2)));
    bin(
        B::Div,
        F32(f32::MIN_POSITIVE),
        F32(2.0),
        F32(f32::from_bits(0x0040_0000)),
    );
    bin(B::Mul, F32(tiny), F32(0.5), F32(0.0));
    bin(
        B::Mul,
        F32(f32::from_bits(3)),
        F32(0.5),
        F32(f32::from_bits(2)),
    );
    bin(
        B::Sub,
        F64(f64::MIN_POSITIVE),
        F64(f64::MIN_POSITIVE / 2.0),
        F64(f64::from_bits(1 << 51)),
    );
    bin(B::Div, F64(-1.0), F64(0.0), F64(f64::NEG_INFINITY));
    un(U::Neg, F32(0.0), F32(-0.0));
    un(U::Neg, F64(-0.0), F64(0.0));
    un(U::Abs, F32(-0.0), F32(0.0));
    un(U::Abs, F32(-inf), F32(inf));
    un(U::Abs, F64(-tiny as f64), F64(tiny as f64));
    un(U::Abs, F32(nan), F32(nan));
}

#[test]
fn float_rem_is_fmod() {
    bin(B::Rem, F32(5.5), F32(2.0), F32(1.5));
    bin(B::Rem, F32(-5.5), F32(2.0), F32(-1.5));
    bin(B::Rem, F32(5.5), F32(-2.0), F32(1.5));
    bin(B::Rem, F32(1.0), F32(0.0), F32(f32::NAN));
    bin(B::Rem, F32(f32::INFINITY), F32(1.0), F32(f32::NAN));
    bin(B::Rem, F32(1.0), F32(f32::INFINITY), F32(1.0));
    bin(B::Rem, F32(-0.0), F32(1.0), F32(-0.0));
    bin(B::Rem, F32(-4.0), F32(2.0), F32(-0.0));
    bin(B::Rem, F64(7.0), F64(2.5), F64(2.0));
    bin(B::Rem, F64(f64::NAN), F64(1.0), F64(f64::NAN));
}

#[test]
fn float_min_max_are_ieee_minimum_maximum() {
    let nan = f32::NAN;
    bin(B::Min, F32(-0.0), F32(0.0), F32(-0.0));
    bin(B::Min, F32(0.0), F32(-0.0), F32(-0.0));
    bin(B::Max, F32(-0.0), F32(0.0), F32(0.0));
    bin(B::Max, F32(0.0), F32(-0.0), F32(0.0));
    bin(B::Min, F32(nan), F32(1.0), F32(nan));
    bin(B::Min, F32(1.0), F32(nan), F32(nan));
    bin(B::Max, F32(nan), F32(f32::INFINITY), F32(nan));
    bin(B::Max, F32(f32::NEG_INFINITY), F32(nan), F32(nan));
    bin(
        B::Min,
        F32(f32::NEG_INFINITY),
        F32(1.0),
        F32(f32::NEG_INFINITY),
    );
    bin(
        B::Max,
        F32(f32::from_bits(1)),
        F32(0.0),
        F32(f32::from_bits(1)),
    );
    bin(
        B::Min,
        F32(-f32::from_bits(1)),
        F32(-0.0),
        F32(-f32::from_bits(1)),
    );
    bin(B::Min, F32(2.0), F32(3.0), F32(2.0));
    bin(B::Max, F32(-2.0), F32(-3.0), F32(-2.0));
    bin(B::Min, F64(-0.0), F64(0.0), F64(-0.0));
    bin(B::Max, F64(0.0), F64(-0.0), F64(0.0));
    bin(B::Min, F64(f64::NAN), F64(-1.0), F64(f64::NAN));
    bin(B::Max, F64(1.0), F64(f64::NAN), F64(f64::NAN));
}

#[test]
fn pow_follows_c99() {
    bin(B::Pow, F32(f32::NAN), F32(0.0), F32(1.0));
    bin(B::Pow, F32(1.0), F32(f32::NAN), F32(1.0));
    bin(B::Pow, F32(2.0), F32(10.0), F32(1024.0));
    bin(B::Pow, F32(-8.0), F32(1.0 / 3.0), F32(f32::NAN));
    bin(B::Pow, F32(0.0), F32(-1.0), F32(f32::INFINITY));
    bin(B::Pow, F32(-0.0), F32(-1.0), F32(f32::NEG_INFINITY));
    bin(B::Pow, F32(-0.0), F32(3.0), F32(-0.0));
    bin(B::Pow, F32(-1.0), F32(f32::INFINITY), F32(1.0));
    bin(B::Pow, F32(0.5), F32(f32::INFINITY), F32(0.0));
    bin(B::Pow, F64(-2.0), F64(3.0), F64(-8.0));
    bin(B::Pow, F64(4.0), F64(0.5), F64(2.0));
    bin(B::Pow, F64(f64::INFINITY), F64(-1.0), F64(0.0));
}

#[test]
fn transcendental_edge_values() {
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    un(U::Exp, F32(0.0), F32(1.0));
    un(U::Exp, F32(-inf), F32(0.0));
    un(U::Exp, F32(inf), F32(inf));
    un(U::Exp, F32(nan), F32(nan));
    un(U::Exp, F32(100.0), F32(inf));
    un(U::Log, F32(1.0), F32(0.0));
    un(U::Log, F32(0.0), F32(-inf));
    un(U::Log, F32(-0.0), F32(-inf));
    un(U::Log, F32(-1.0), F32(nan));
    un(U::Log, F32(inf), F32(inf));
    un(U::Sqrt, F32(-0.0), F32(-0.0));
    un(U::Sqrt, F32(-1.0), F32(nan));
    un(U::Sqrt, F32(inf), F32(inf));
    un(U::Sqrt, F32(4.0), F32(2.0));
    un(U::Sqrt, F64(2.0), F64(std::f64::consts::SQRT_2));
    un(U::Tanh, F32(inf), F32(1.0));
    un(U::Tanh, F32(-inf), F32(-1.0));
    un(U::Tanh, F32(-0.0), F32(-0.0));
    un(U::Sin, F32(-0.0), F32(-0.0));
    un(U::Sin, F32(inf), F32(nan));
    un(U::Cos, F32(0.0), F32(1.0));
    un(U::Cos, F64(-inf as f64), F64(f64::NAN));
    un(U::Exp, F64(0.0), F64(1.0));
    un(U::Log, F64(std::f64::consts::E), F64(1.0));
}

#[test]
fn rounding_ops() {
    for (x, fl, ce, ro) in [
        (2.5f32, 2.0f32, 3.0f32, 2.0f32),
        (3.5, 3.0, 4.0, 4.0),
        (-2.5, -3.0, -2.0, -2.0),
        (-0.5, -1.0, -0.0, -0.0),
        (0.5, 0.0, 1.0, 0.0),
        (1.5, 1.0, 2.0, 2.0),
        (-0.0, -0.0, -0.0, -0.0),
        (0.0, 0.0, 0.0, 0.0),
        (-1.25, -2.0, -1.0, -1.0),
        (8388609.0, 8388609.0, 8388609.0, 8388609.0),
        (f32::INFINITY, f32::INFINITY, f32::INFINITY, f32::INFINITY),
        (
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ),
        (f32::from_bits(1), 0.0, 1.0, 0.0),
        (-f32::from_bits(1), -1.0, -0.0, -0.0),
    ] {
        un(U::Floor, F32(x), F32(fl));
        un(U::Ceil, F32(x), F32(ce));
        un(U::Round, F32(x), F32(ro));
        un(U::Round, F64(x as f64), F64(ro as f64));
        un(U::Floor, F64(x as f64), F64(fl as f64));
        un(U::Ceil, F64(x as f64), F64(ce as f64));
    }
    un(U::Round, F32(f32::NAN), F32(f32::NAN));
    un(U::Floor, F64(f64::NAN), F64(f64::NAN));
    un(U::Round, F64(4503599627370497.0), F64(4503599627370497.0));
}

#[test]
fn comparisons_are_ieee_quiet() {
    let nan = F32(f32::NAN);
    for (op, want) in [
        (CmpOp::Eq, false),
        (CmpOp::Ne, true),
        (CmpOp::Lt, false),
        (CmpOp::Le, false),
        (CmpOp::Gt, false),
        (CmpOp::Ge, false),
    ] {
        cmp(op, nan, nan, want);
        cmp(op, nan, F32(1.0), want);
        cmp(op, F64(0.0), F64(f64::NAN), want);
    }
    cmp(CmpOp::Eq, F32(-0.0), F32(0.0), true);
    cmp(CmpOp::Lt, F32(-0.0), F32(0.0), false);
    cmp(CmpOp::Le, F32(-0.0), F32(0.0), true);
    cmp(CmpOp::Lt, F32(f32::NEG_INFINITY), F32(f32::MIN), true);
    cmp(CmpOp::Gt, F32(f32::from_bits(1)), F32(0.0), true);
    cmp(CmpOp::Lt, I32(i32::MIN), I32(i32::MAX), true);
    cmp(CmpOp::Gt, I32(-1), I32(0), false);
    cmp(CmpOp::Ge, I64(i64::MIN), I64(i64::MIN), true);
    cmp(CmpOp::Ne, I64(0), I64(-1), true);
    cmp(CmpOp::Lt, Bool(false), Bool(true), true);
    cmp(CmpOp::Gt, Bool(false), Bool(true), false);
    cmp(CmpOp::Eq, Bool(true), Bool(true), true);
    cmp(CmpOp::Ge, Bool(true), Bool(false), true);
}

#[test]
fn float_to_int_truncates_and_saturates() {
    for (x, want) in [
        (f32::NAN, 0),
        (f32::INFINITY, i32::MAX),
        (f32::NEG_INFINITY, i32::MIN),
        (3.9, 3),
        (-3.9, -3),
        (-0.0, 0),
        (1e10, i32::MAX),
        (-1e10, i32::MIN),
        (2147483520.0, 2147483520),
        (2147483648.0, i32::MAX),
        (-2147483648.0, i32::MIN),
        (f32::from_bits(1), 0),
    ] {
        cvt(F32(x), DType::I32, I32(want));
    }
    cvt(F64(f64::NAN), DType::I64, I64(0));
    cvt(F64(1e300), DType::I64, I64(i64::MAX));
    cvt(F64(-1e300), DType::I64, I64(i64::MIN));
    cvt(F64(-7.99), DType::I64, I64(-7));
    cvt(F64(2147483647.9), DType::I32, I32(i32::MAX));
    cvt(F64(3e9), DType::I32, I32(i32::MAX));
    cvt(F32(f32::NAN), DType::I64, I64(0));
    cvt(F32(9.223372e18), DType::I64, I64(i64::MAX));
}

#[test]
fn int_and_float_conversions_round_and_wrap() {
    cvt(I64((1 << 32) + 5), DType::I32, I32(5));
    cvt(I64(i64::MAX), DType::I32, I32(-1));
    cvt(I64(-1), DType::I32, I32(-1));
    cvt(I64(1 << 31), DType::I32, I32(i32::MIN));
    cvt(I32(-1), DType::I64, I64(-1));
    cvt(I32(i32::MIN), DType::I64, I64(-2147483648));
    // 2^24 + 1 is halfway between two f32 values: ties to even gives 2^24.
    cvt(I32(16777217), DType::F32, F32(16777216.0));
    cvt(I32(16777219), DType::F32, F32(16777220.0));
    cvt(I32(i32::MAX), DType::F32, F32(2147483648.0));
    // i64 -> f32 rounds once: 2^60 + 2^36 + 1 is just above the tie, so it rounds up to
    // 2^60 + 2^37 (going through f64 first would round twice and give 2^60).
    let x: i64 = (1 << 60) + (1 << 36) + 1;
    cvt(I64(x), DType::F32, F32(1152921642045800448.0));
    cvt(I64(x), DType::F64, F64(1152921573326323712.0));
    cvt(I64(i64::MIN), DType::F64, F64(-9223372036854775808.0));
    cvt(F64(1e40), DType::F32, F32(f32::INFINITY));
    cvt(F64(-1e40), DType::F32, F32(f32::NEG_INFINITY));
    cvt(F64(1e-300), DType::F32, F32(0.0));
    cvt(F64(-1e-300), DType::F32, F32(-0.0));
    cvt(F64(1.0 + 2f64.powi(-24)), DType::F32, F32(1.0));
    cvt(
        F64(1.0 + 2f64.powi(-24) + 2f64.powi(-50)),
        DType::F32,
        F32(1.0 + 2f32.powi(-23)),
    );
    cvt(F64(f64::NAN), DType::F32, F32(f32::NAN));
    cvt(F64(-0.0), DType::F32, F32(-0.0));
    cvt(
        F32(f32::from_bits(1)),
        DType::F64,
        F64(1.401298464324817e-45),
    );
    cvt(F32(-0.0), DType::F64, F64(-0.0));
    cvt(F32(0.1), DType::F64, F64(0.10000000149011612));
}

#[test]
fn conversions_to_and_from_bool() {
    cvt(F32(f32::NAN), DType::Bool, Bool(true));
    cvt(F32(-0.0), DType::Bool, Bool(false));
    cvt(F32(0.0), DType::Bool, Bool(false));
    cvt(F32(f32::from_bits(1)), DType::Bool, Bool(true));
    cvt(F64(f64::NEG_INFINITY), DType::Bool, Bool(true));
    cvt(I32(i32::MIN), DType::Bool, Bool(true));
    cvt(I32(0), DType::Bool, Bool(false));
    cvt(I64(1 << 40), DType::Bool, Bool(true));
    cvt(Bool(true), DType::F32, F32(1.0));
    cvt(Bool(false), DType::F64, F64(0.0));
    cvt(Bool(true), DType::I32, I32(1));
    cvt(Bool(true), DType::I64, I64(1));
    cvt(Bool(false), DType::Bool, Bool(false));
    cvt(F64(2.5), DType::F64, F64(2.5));
}

#[test]
fn ops_are_undefined_on_other_dtypes() {
    assert_eq!(eval_binary(B::Pow, I32(2), I32(3)), None);
    assert_eq!(eval_binary(B::Add, Bool(true), Bool(true)), None);
    assert_eq!(eval_binary(B::Shl, Bool(true), Bool(true)), None);
    assert_eq!(eval_binary(B::And, F64(1.0), F64(1.0)), None);
    assert_eq!(eval_binary(B::Add, I32(1), I64(1)), None);
    assert_eq!(eval_unary(U::Not, F32(1.0)), None);
    assert_eq!(eval_unary(U::Exp, I32(1)), None);
    assert_eq!(eval_unary(U::Neg, Bool(true)), None);
    assert_eq!(eval_unary(U::Round, I64(1)), None);
    assert_eq!(eval_compare(CmpOp::Eq, F32(1.0), F64(1.0)), None);
    assert_eq!(eval_select(I32(1), I32(1), I32(2)), None);
    assert_eq!(eval_select(Bool(true), I32(1), I64(2)), None);
    assert_eq!(eval_select(Bool(false), F32(1.0), F32(2.0)), Some(F32(2.0)));
    assert_eq!(reduce_identity(ReduceOp::And, DType::F32), None);
    assert_eq!(reduce_identity(ReduceOp::Sum, DType::Bool), None);
    assert_eq!(reduce_combine(ReduceOp::Or, F32(0.0), F32(1.0)), None);
    // Every accepted (op, dtype) pair has a definition, and only those.
    let sample = |d: DType| convert(I32(3), d);
    for d in DType::ALL {
        for op in UnaryOp::ALL {
            assert_eq!(
                eval_unary(op, sample(d)).is_some(),
                op.accepts(d),
                "{} {d}",
                op.name()
            );
        }
        for op in BinaryOp::ALL {
            let got = eval_binary(op, sample(d), sample(d));
            assert_eq!(got.is_some(), op.accepts(d), "{} {d}", op.name());
        }
        for op in ReduceOp::ALL {
            assert_eq!(
                reduce_identity(op, d).is_some(),
                op.accepts(d),
                "{} {d}",
                op.name()
            );
        }
    }
}

#[test]
fn reduce_identities_and_combiners() {
    assert_eq!(reduce_identity(ReduceOp::Sum, DType::F32), Some(F32(0.0)));
    assert_eq!(reduce_identity(ReduceOp::Prod, DType::F64), Some(F64(1.0)));
    assert_eq!(
        reduce_identity(ReduceOp::Min, DType::F32),
        Some(F32(f32::INFINITY))
    );
    assert_eq!(
        reduce_identity(ReduceOp::Max, DType::F64),
        Some(F64(f64::NEG_INFINITY))
    );
    assert_eq!(
        reduce_identity(ReduceOp::Min, DType::I32),
        Some(I32(i32::MAX))
    );
    assert_eq!(
        reduce_identity(ReduceOp::Max, DType::I64),
        Some(I64(i64::MIN))
    );
    assert_eq!(reduce_identity(ReduceOp::And, DType::I64), Some(I64(-1)));
    assert_eq!(reduce_identity(ReduceOp::Or, DType::I32), Some(I32(0)));
    assert_eq!(
        reduce_identity(ReduceOp::And, DType::Bool),
        Some(Bool(true))
    );
    assert_eq!(
        reduce_identity(ReduceOp::Or, DType::Bool),
        Some(Bool(false))
    );
    assert_eq!(reduce_identity(ReduceOp::Prod, DType::I32), Some(I32(1)));
    assert_eq!(
        reduce_combine(ReduceOp::Sum, I32(i32::MAX), I32(1)),
        Some(I32(i32::MIN))
    );
    assert_eq!(
        reduce_combine(ReduceOp::Min, F32(0.0), F32(-0.0)),
        Some(F32(-0.0))
    );
    assert_eq!(
        reduce_combine(ReduceOp::Max, F32(f32::NAN), F32(1.0)),
        Some(F32(f32::NAN))
    );
    assert_eq!(
        reduce_combine(ReduceOp::Prod, F64(-2.0), F64(0.0)),
        Some(F64(-0.0))
    );
    assert_eq!(reduce_combine(ReduceOp::And, I32(6), I32(3)), Some(I32(2)));
    assert_eq!(
        reduce_combine(ReduceOp::Or, Bool(false), Bool(true)),
        Some(Bool(true))
    );
}

// ---------------------------------------------------------------------------------------------
// Kernels.
// ---------------------------------------------------------------------------------------------

fn t<T: graphjit::tensor::Element>(v: Vec<T>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec()).expect("element count matches the shape")
}

fn ty(dtype: DType, shape: &[usize]) -> TensorType {
    TensorType::new(dtype, shape.to_vec())
}

#[test]
fn elementwise_kernels_match_the_scalar_ops() {
    let a = t(vec![i32::MIN, -7, 7, 0], &[2, 2]);
    let b = t(vec![-1, 2, 0, 0], &[2, 2]);
    assert_eq!(
        kernels::binary(B::Div, &a, &b).unwrap(),
        t(vec![i32::MIN, -3, -1, -1], &[2, 2])
    );
    assert_eq!(
        kernels::binary(B::Rem, &a, &b).unwrap(),
        t(vec![0, -1, 7, 0], &[2, 2])
    );
    let x = t(vec![-0.0f32, 0.0, f32::NAN, 2.5], &[4]);
    let y = t(vec![0.0f32, -0.0, 1.0, -3.5], &[4]);
    assert_eq!(
        kernels::binary(B::Min, &x, &y).unwrap(),
        t(vec![-0.0f32, -0.0, f32::NAN, -3.5], &[4])
    );
    assert_eq!(
        kernels::unary(U::Round, &x).unwrap(),
        t(vec![-0.0f32, 0.0, f32::NAN, 2.0], &[4])
    );
    assert_eq!(
        kernels::compare(CmpOp::Ge, &x, &y).unwrap(),
        t(vec![true, true, false, true], &[4])
    );
    assert_eq!(
        kernels::convert(&x, DType::I32).unwrap(),
        t(vec![0i32, 0, 0, 2], &[4])
    );
    assert_eq!(
        kernels::convert(&x, DType::Bool).unwrap(),
        t(vec![false, false, true, true], &[4])
    );
    let p = t(vec![true, false, false, true], &[4]);
    assert_eq!(
        kernels::select(&p, &x, &y).unwrap(),
        t(vec![-0.0f32, -0.0, 1.0, 2.5], &[4])
    );
    let s = t(vec![1i64, 2, 3], &[3]);
    assert_eq!(
        kernels::binary(B::Shl, &s, &t(vec![63i64, 64, -1], &[3])).unwrap(),
        t(vec![i64::MIN, 0, 0], &[3])
    );
    // Rank 0 works like any other shape.
    assert_eq!(
        kernels::unary(U::Not, &Tensor::scalar(true)).unwrap(),
        Tensor::scalar(false)
    );
    // Empty tensors give empty results.
    let e = t(Vec::<f64>::new(), &[0, 3]);
    assert_eq!(kernels::unary(U::Exp, &e).unwrap(), e);
}

#[test]
fn broadcast_in_dim() {
    let row = t(vec![1i32, 2, 3], &[3]);
    assert_eq!(
        kernels::broadcast(&row, &[1], &[2, 3]).unwrap(),
        t(vec![1, 2, 3, 1, 2, 3], &[2, 3])
    );
    assert_eq!(
        kernels::broadcast(&row, &[0], &[3, 2]).unwrap(),
        t(vec![1, 1, 2, 2, 3, 3], &[3, 2])
    );
    let col = t(vec![1.5f32, -2.0], &[2, 1]);
    assert_eq!(
        kernels::broadcast(&col, &[0, 2], &[2, 2, 3]).unwrap(),
        t(
            vec![1.5f32, 1.5, 1.5, 1.5, 1.5, 1.5, -2.0, -2.0, -2.0, -2.0, -2.0, -2.0],
            &[2, 2, 3]
        )
    );
    assert_eq!(
        kernels::broadcast(&Tensor::scalar(true), &[], &[2, 2]).unwrap(),
        t(vec![true; 4], &[2, 2])
    );
    let one = t(vec![7i64], &[1]);
    assert_eq!(
        kernels::broadcast(&one, &[1], &[2, 3]).unwrap(),
        t(vec![7i64; 6], &[2, 3])
    );
    // Wrong sizes and non-increasing dims are errors, not panics.
    assert!(kernels::broadcast(&row, &[1], &[2, 4]).is_err());
    assert!(kernels::broadcast(&col, &[1, 0], &[2, 2]).is_err());
    assert!(kernels::broadcast(&row, &[3], &[2, 3]).is_err());
}

#[test]
fn transpose_reshape_slice_concat_iota() {
    // x[i,j,k] = 100i + 10j + k for shape [2,3,4].
    let mut v = Vec::new();
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..4 {
                v.push(100 * i + 10 * j + k);
            }
        }
    }
    let x = t(v, &[2, 3, 4]);
    // perm [2,0,1]: y[k,i,j] = x[i,j,k].
    let y = kernels::transpose(&x, &[2, 0, 1]).unwrap();
    assert_eq!(y.shape(), &[4, 2, 3]);
    let mut want = Vec::new();
    for k in 0..4 {
        for i in 0..2 {
            for j in 0..3 {
                want.push(100 * i + 10 * j + k);
            }
        }
    }
    assert_eq!(y, t(want, &[4, 2, 3]));
    assert!(kernels::transpose(&x, &[0, 0, 1]).is_err());

    let r = kernels::reshape(&x, &[4, 6]).unwrap();
    assert_eq!(r.shape(), &[4, 6]);
    // Flat index 7 is x[0,1,3].
    assert_eq!(r.get(7), Some(I32(13)));
    assert!(kernels::reshape(&x, &[5, 5]).is_err());

    // i = 1; j in {0, 2} (stride 2); k in {0, 3} (stride 3).
    let s = kernels::slice(&x, &[1, 0, 0], &[2, 3, 4], &[1, 2, 3]).unwrap();
    assert_eq!(s, t(vec![100, 103, 120, 123], &[1, 2, 2]));
    let v10 = t((0..10).collect::<Vec<i64>>(), &[10]);
    assert_eq!(
        kernels::slice(&v10, &[1], &[8], &[3]).unwrap(),
        t(vec![1i64, 4, 7], &[3])
    );
    assert_eq!(
        kernels::slice(&v10, &[4], &[4], &[1]).unwrap(),
        t(Vec::<i64>::new(), &[0])
    );
    assert!(kernels::slice(&v10, &[0], &[11], &[1]).is_err());
    assert!(kernels::slice(&v10, &[0], &[5], &[0]).is_err());

    let a = t(vec![1i32, 2, 3, 4], &[2, 2]);
    let b = t(vec![5i32, 6], &[1, 2]);
    let c = t(vec![7i32, 8, 9, 10, 11, 12], &[2, 3]);
    assert_eq!(
        kernels::concat(&[&a, &b], 0).unwrap(),
        t(vec![1, 2, 3, 4, 5, 6], &[3, 2])
    );
    assert_eq!(
        kernels::concat(&[&a, &c, &a], 1).unwrap(),
        t(vec![1, 2, 7, 8, 9, 1, 2, 3, 4, 10, 11, 12, 3, 4], &[2, 7])
    );
    let bools = t(vec![true, false], &[2]);
    assert_eq!(
        kernels::concat(&[&bools, &bools], 0).unwrap(),
        t(vec![true, false, true, false], &[4])
    );
    assert!(kernels::concat(&[&a, &b], 1).is_err());
    assert!(kernels::concat(&[], 0).is_err());

    assert_eq!(
        kernels::iota(&ty(DType::F32, &[2, 3]), 1).unwrap(),
        t(vec![0.0f32, 1.0, 2.0, 0.0, 1.0, 2.0], &[2, 3])
    );
    assert_eq!(
        kernels::iota(&ty(DType::I64, &[3, 2]), 0).unwrap(),
        t(vec![0i64, 0, 1, 1, 2, 2], &[3, 2])
    );
    assert!(kernels::iota(&ty(DType::Bool, &[2]), 0).is_err());
    assert!(kernels::iota(&ty(DType::I32, &[2]), 1).is_err());
}

#[test]
fn reduce_over_axes() {
    let x = t(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]);
    assert_eq!(
        kernels::reduce(ReduceOp::Sum, &[0], &x).unwrap(),
        t(vec![5, 7, 9], &[3])
    );
    assert_eq!(
        kernels::reduce(ReduceOp::Prod, &[1], &x).unwrap(),
        t(vec![6, 120], &[2])
    );
    assert_eq!(
        kernels::reduce(ReduceOp::Max, &[0, 1], &x).unwrap(),
        Tensor::scalar(6i32)
    );
    // The middle axis of a [2,3,2] tensor.
    let y = t((0..12).collect::<Vec<i64>>(), &[2, 3, 2]);
    assert_eq!(
        kernels::reduce(ReduceOp::Sum, &[1], &y).unwrap(),
        t(vec![6i64, 9, 24, 27], &[2, 2])
    );
    assert_eq!(
        kernels::reduce(ReduceOp::Min, &[0, 2], &y).unwrap(),
        t(vec![0i64, 2, 4], &[3])
    );
    let f = t(vec![1.0f32, f32::NAN, -0.0, 0.0], &[2, 2]);
    assert_eq!(
        kernels::reduce(ReduceOp::Min, &[1], &f).unwrap(),
        t(vec![f32::NAN, -0.0], &[2])
    );
    assert_eq!(
        kernels::reduce(ReduceOp::Max, &[0], &f).unwrap(),
        t(vec![1.0f32, f32::NAN], &[2])
    );
    let b = t(vec![true, false, true, true], &[2, 2]);
    assert_eq!(
        kernels::reduce(ReduceOp::And, &[1], &b).unwrap(),
        t(vec![false, true], &[2])
    );
    assert_eq!(
        kernels::reduce(ReduceOp::Or, &[0], &b).unwrap(),
        t(vec![true, true], &[2])
    );
    // Empty reductions give the identity; a sum of -0.0 starts from +0.0.
    let empty = t(Vec::<f32>::new(), &[2, 0]);
    assert_eq!(
        kernels::reduce(ReduceOp::Min, &[1], &empty).unwrap(),
        t(vec![f32::INFINITY; 2], &[2])
    );
    assert_eq!(
        kernels::reduce(ReduceOp::Sum, &[0], &t(vec![-0.0f32, -0.0], &[2])).unwrap(),
        Tensor::scalar(0.0f32)
    );
    assert_eq!(
        kernels::reduce(ReduceOp::Sum, &[], &Tensor::scalar(-0.0f64)).unwrap(),
        Tensor::scalar(0.0f64)
    );
    assert!(kernels::reduce(ReduceOp::And, &[0], &f).is_err());
    assert!(kernels::reduce(ReduceOp::Sum, &[1, 0], &x).is_err());
}

#[test]
fn reduce_follows_the_16_accumulator_order() {
    // x_0 = 1e8 and sixteen ones. In f32 (ulp 8 at 1e8):
    //   acc[0] = (0 + 1e8) + 1 = 1e8 (x_16 lands in acc[0] and is lost), acc[1..16] = 1.
    //   s_0 = (acc0 + acc4) + (acc8 + acc12) = (1e8 + 1) + 2 = 1e8; s_1 = s_2 = s_3 = 4.
    //   result = (1e8 + 4) + (4 + 4): 1e8 + 4 is a tie and rounds to even, 1e8; + 8 gives
    //   100000008, exactly.
    // A sequential sum adds each 1 to 1e8 and loses it: 1e8.
    let mut v = vec![1.0f32; 17];
    v[0] = 1e8;
    let sequential = v.iter().fold(0.0f32, |a, &x| a + x);
    assert_eq!(sequential, 1e8);
    let x = t(v.clone(), &[17]);
    let got = kernels::reduce(ReduceOp::Sum, &[0], &x).unwrap();
    assert_eq!(got, Tensor::scalar(100000008.0f32));
    // The same order per output row, reducing the leading axis of a transposed layout.
    let xt = t(
        v.iter().flat_map(|&e| [e, 2.0 * e]).collect::<Vec<f32>>(),
        &[17, 2],
    );
    let got = kernels::reduce(ReduceOp::Sum, &[0], &xt).unwrap();
    // Column 1 is 2e8 and sixteen twos: ulp 16 at 2e8, every step doubles the one above.
    assert_eq!(got, t(vec![100000008.0f32, 200000016.0], &[2]));
    // And over two axes, row-major over the reduced axes.
    let x2 = t(v, &[1, 17]);
    assert_eq!(
        kernels::reduce(ReduceOp::Sum, &[0, 1], &x2).unwrap(),
        Tensor::scalar(100000008.0f32)
    );
}

#[test]
fn dot_orders_int_sequential_float_by_kernel() {
    let a = t(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]);
    let b = t(vec![7i32, 8, 9, 10, 11, 12], &[3, 2]);
    assert_eq!(
        kernels::dot(&a, &b).unwrap(),
        t(vec![58, 64, 139, 154], &[2, 2])
    );
    let v = t(vec![1i32, 0, -1], &[3]);
    assert_eq!(kernels::dot(&a, &v).unwrap(), t(vec![-2, -2], &[2]));
    assert_eq!(
        kernels::dot(&t(vec![i32::MAX, 1], &[1, 2]), &t(vec![1i32, 1], &[2])).unwrap(),
        t(vec![i32::MIN], &[1])
    );
    // Float `dot` follows matrixmultiply's order (documented in `kernels::dot`); with k = 3
    // its micro-kernel still sums in k order, so ((0 + 1e8) + 1) + -1e8 = 0 in f32.
    let row = t(vec![1e8f32, 1.0, -1e8], &[1, 3]);
    let ones = t(vec![1.0f32; 3], &[3, 1]);
    assert_eq!(kernels::dot(&row, &ones).unwrap(), t(vec![0.0f32], &[1, 1]));
    // x*x rounds to 1 + 2^-11 (a tie, to even); adding -(1 + 2^-11) gives exactly +0.0.
    // (The first product goes into a zero accumulator, so even a kernel using FMA rounds it.)
    let x = 1.0 + 2f32.powi(-12);
    let c = -(1.0 + 2f32.powi(-11));
    let got = kernels::dot(&t(vec![x, 1.0], &[1, 2]), &t(vec![x, c], &[2])).unwrap();
    assert_eq!(got, t(vec![0.0f32], &[1]));
    // The sum starts from +0.0: -0.0 * 1 gives +0.0.
    let got = kernels::dot(&t(vec![-0.0f64], &[1, 1]), &t(vec![1.0f64], &[1])).unwrap();
    assert_eq!(got, t(vec![0.0f64], &[1]));
    // k = 0 gives zeros.
    let got = kernels::dot(
        &t(Vec::<f32>::new(), &[2, 0]),
        &t(Vec::<f32>::new(), &[0, 3]),
    );
    assert_eq!(got.unwrap(), t(vec![0.0f32; 6], &[2, 3]));
    assert!(kernels::dot(&a, &a).is_err());
    assert!(kernels::dot(&t(vec![true], &[1, 1]), &t(vec![true], &[1, 1])).is_err());
}

#[test]
fn eval_checks_the_declared_result_type() {
    let x = t(vec![1.0f32, 2.0], &[2]);
    let add = Op::Binary(B::Add);
    assert!(kernels::eval(&add, &[&x, &x], &ty(DType::F32, &[2])).is_ok());
    assert!(kernels::eval(&add, &[&x, &x], &ty(DType::F64, &[2])).is_err());
    assert!(kernels::eval(&add, &[&x], &ty(DType::F32, &[2])).is_err());
    let c = Op::Const(Tensor::scalar(1i32));
    assert_eq!(
        kernels::eval(&c, &[], &TensorType::scalar(DType::I32)).unwrap(),
        Tensor::scalar(1i32)
    );
    assert!(kernels::eval(&c, &[], &TensorType::scalar(DType::I64)).is_err());
    // Types over the size limit are refused before anything is allocated.
    let huge = ty(DType::F32, &[1 << 20, 1 << 20]);
    assert!(kernels::eval(
        &Op::Broadcast { dims: vec![] },
        &[&Tensor::scalar(1.0f32)],
        &huge
    )
    .is_err());
}

// ---------------------------------------------------------------------------------------------
// The interpreter.
// ---------------------------------------------------------------------------------------------

/// A little builder over the `Function` API, to keep test programs readable.
struct Builder {
    f: Function,
}

impl Builder {
    fn new(name: &str, results: Vec<TensorType>) -> Builder {
        Builder {
            f: Function::new(name, results),
        }
    }

    fn param(&mut self, name: &str, ty: TensorType) -> Value {
        self.f.add_param(ty, Some(name.to_string()))
    }

    fn op(&mut self, r: Region, op: Op, args: Vec<Value>, ty: TensorType) -> Value {
        let i = self.f.push_inst(r, op, args, vec![ty], vec![]);
        self.f.results(i)[0]
    }

    fn konst(&mut self, r: Region, x: Tensor) -> Value {
        let ty = x.ty();
        self.op(r, Op::Const(x), vec![], ty)
    }

    fn term(&mut self, r: Region, op: Op, args: Vec<Value>) {
        self.f.push_inst(r, op, args, vec![], vec![]);
    }

    /// A `while` in `r` carrying `init`; `cond` and `body` fill the regions given the region
    /// arguments and return the values to yield.
    fn while_loop(
        &mut self,
        r: Region,
        init: Vec<Value>,
        cond: impl FnOnce(&mut Builder, Region, &[Value]) -> Value,
        body: impl FnOnce(&mut Builder, Region, &[Value]) -> Vec<Value>,
    ) -> Vec<Value> {
        let tys: Vec<TensorType> = init.iter().map(|&v| self.f.ty(v).clone()).collect();
        let w = self.f.push_inst(r, Op::While, init, tys.clone(), vec![]);
        let args = self.f.add_region_args(w, tys, vec![]);
        let (cr, br) = (self.f.add_region(), self.f.add_region());
        let c = cond(self, cr, &args);
        self.term(cr, Op::Yield, vec![c]);
        let ys = body(self, br, &args);
        self.term(br, Op::Yield, ys);
        self.f.set_regions(w, vec![cr, br]);
        self.f.results(w).to_vec()
    }

    fn if_else(
        &mut self,
        r: Region,
        p: Value,
        tys: Vec<TensorType>,
        then: impl FnOnce(&mut Builder, Region) -> Vec<Value>,
        els: impl FnOnce(&mut Builder, Region) -> Vec<Value>,
    ) -> Vec<Value> {
        let i = self.f.push_inst(r, Op::If, vec![p], tys, vec![]);
        let (tr, er) = (self.f.add_region(), self.f.add_region());
        let ys = then(self, tr);
        self.term(tr, Op::Yield, ys);
        let ys = els(self, er);
        self.term(er, Op::Yield, ys);
        self.f.set_regions(i, vec![tr, er]);
        self.f.results(i).to_vec()
    }

    fn ret(mut self, vals: Vec<Value>) -> Function {
        let body = self.f.body;
        self.term(body, Op::Return, vals);
        self.f
    }
}

fn i32t() -> TensorType {
    TensorType::scalar(DType::I32)
}

fn boolt() -> TensorType {
    TensorType::scalar(DType::Bool)
}

/// `(a, b) -> while a < b { a += 2; b += 1 }`.
fn counter() -> Function {
    let mut b = Builder::new("counter", vec![i32t(), i32t()]);
    let body = b.f.body;
    let first = b.param("first", i32t());
    let second = b.param("second", i32t());
    let two = b.konst(body, Tensor::scalar(2i32));
    let one = b.konst(body, Tensor::scalar(1i32));
    let rs = b.while_loop(
        body,
        vec![first, second],
        |b, r, a| b.op(r, Op::Compare(CmpOp::Lt), vec![a[0], a[1]], boolt()),
        |b, r, a| {
            vec![
                b.op(r, Op::Binary(B::Add), vec![a[0], two], i32t()),
                b.op(r, Op::Binary(B::Add), vec![a[1], one], i32t()),
            ]
        },
    );
    b.ret(rs)
}

#[test]
fn counter_loop() {
    let f = counter();
    let run = |a: i32, b: i32| interpret(&f, &[Tensor::scalar(a), Tensor::scalar(b)]).unwrap();
    assert_eq!(
        run(0, 10),
        vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]
    );
    assert_eq!(run(5, 3), vec![Tensor::scalar(5i32), Tensor::scalar(3i32)]);
    assert_eq!(
        run(-3, -2),
        vec![Tensor::scalar(-1i32), Tensor::scalar(-1i32)]
    );
    // One prepared interpreter runs many times.
    let it = Interpreter::new(&f).unwrap();
    for n in 0..20 {
        let out = it.run(&[Tensor::scalar(0i32), Tensor::scalar(n)]).unwrap();
        assert_eq!(out, vec![Tensor::scalar(2 * n), Tensor::scalar(2 * n)]);
    }
}

#[test]
fn wrong_arguments_are_errors_naming_the_parameter() {
    let f = counter();
    let e = interpret(&f, &[Tensor::scalar(0i32)]).unwrap_err();
    assert_eq!(
        e,
        Error::Run(RunError::ArgCount {
            func: "counter".into(),
            expected: 2,
            got: 1
        })
    );
    let e = interpret(&f, &[Tensor::scalar(0i32), Tensor::scalar(1i64)]).unwrap_err();
    match &e {
        Error::Run(RunError::ArgType {
            index, name, got, ..
        }) => {
            assert_eq!((*index, name.as_str()), (1, "second"));
            assert_eq!(**got, TensorType::scalar(DType::I64));
        }
        other => panic!("expected ArgType, got {other:?}"),
    }
    assert!(e.to_string().contains("%second"), "{e}");
    let e = interpret(&f, &[t(vec![0i32], &[1]), Tensor::scalar(1i32)]).unwrap_err();
    assert!(
        matches!(e, Error::Run(RunError::ArgType { index: 0, .. })),
        "{e}"
    );
}

/// `(x: f32[4], n: i32) -> x * 2^n` by a loop carrying the tensor and a counter.
fn doubling() -> Function {
    let v4 = ty(DType::F32, &[4]);
    let mut b = Builder::new("doubling", vec![v4.clone(), i32t()]);
    let body = b.f.body;
    let x = b.param("x", v4.clone());
    let n = b.param("n", i32t());
    let zero = b.konst(body, Tensor::scalar(0i32));
    let one = b.konst(body, Tensor::scalar(1i32));
    let two = b.konst(body, t(vec![2.0f32; 4], &[4]));
    let rs = b.while_loop(
        body,
        vec![x, zero],
        |b, r, a| b.op(r, Op::Compare(CmpOp::Lt), vec![a[1], n], boolt()),
        |b, r, a| {
            vec![
                b.op(r, Op::Binary(B::Mul), vec![a[0], two], v4.clone()),
                b.op(r, Op::Binary(B::Add), vec![a[1], one], i32t()),
            ]
        },
    );
    b.ret(rs)
}

#[test]
fn while_with_a_loop_carried_tensor() {
    let f = doubling();
    let x = t(vec![1.0f32, -0.5, 0.0, f32::INFINITY], &[4]);
    let out = interpret(&f, &[x.clone(), Tensor::scalar(3i32)]).unwrap();
    assert_eq!(out[0], t(vec![8.0f32, -4.0, 0.0, f32::INFINITY], &[4]));
    assert_eq!(out[1], Tensor::scalar(3i32));
    // Zero iterations return the input itself.
    let out = interpret(&f, &[x.clone(), Tensor::scalar(0i32)]).unwrap();
    assert_eq!(out[0], x);
}

#[test]
fn nested_loops() {
    // (n: i32, m: i32) -> (count, acc): for i < n { for j < m { count += 1; acc += j } }
    // where acc is an i64[2] tensor [sum j, sum 1].
    let v2 = ty(DType::I64, &[2]);
    let mut b = Builder::new("nested", vec![i32t(), v2.clone()]);
    let body = b.f.body;
    let n = b.param("n", i32t());
    let m = b.param("m", i32t());
    let zero = b.konst(body, Tensor::scalar(0i32));
    let one = b.konst(body, Tensor::scalar(1i32));
    let acc0 = b.konst(body, t(vec![0i64, 0], &[2]));
    let rs = b.while_loop(
        body,
        vec![zero, zero, acc0],
        |b, r, a| b.op(r, Op::Compare(CmpOp::Lt), vec![a[0], n], boolt()),
        |b, r, outer| {
            let inner = b.while_loop(
                r,
                vec![zero, outer[1], outer[2]],
                |b, r, a| b.op(r, Op::Compare(CmpOp::Lt), vec![a[0], m], boolt()),
                |b, r, a| {
                    let j64 = b.op(r, Op::Convert, vec![a[0]], TensorType::scalar(DType::I64));
                    let one64 = b.konst(r, Tensor::scalar(1i64));
                    let j1 = b_reshape(b, r, j64);
                    let one1 = b_reshape(b, r, one64);
                    let pair = b.op(r, Op::Concat { axis: 0 }, vec![j1, one1], v2.clone());
                    vec![
                        b.op(r, Op::Binary(B::Add), vec![a[0], one], i32t()),
                        b.op(r, Op::Binary(B::Add), vec![a[1], one], i32t()),
                        b.op(r, Op::Binary(B::Add), vec![a[2], pair], v2.clone()),
                    ]
                },
            );
            vec![
                b.op(r, Op::Binary(B::Add), vec![outer[0], one], i32t()),
                inner[1],
                inner[2],
            ]
        },
    );
    let f = b.ret(vec![rs[1], rs[2]]);
    let out = interpret(&f, &[Tensor::scalar(3i32), Tensor::scalar(4i32)]).unwrap();
    // count = 3 * 4; sum of j = 3 * (0 + 1 + 2 + 3) = 18.
    assert_eq!(out, vec![Tensor::scalar(12i32), t(vec![18i64, 12], &[2])]);
    let out = interpret(&f, &[Tensor::scalar(2i32), Tensor::scalar(0i32)]).unwrap();
    assert_eq!(out, vec![Tensor::scalar(0i32), t(vec![0i64, 0], &[2])]);
}

/// Reshapes a rank-0 i64 value to `i64[1]`.
fn b_reshape(b: &mut Builder, r: Region, v: Value) -> Value {
    b.op(r, Op::Reshape, vec![v], ty(DType::I64, &[1]))
}

#[test]
fn if_picks_an_arm() {
    // (p: bool, x: f32[3]) -> (p ? x + 1 : x * 2, x)
    let v3 = ty(DType::F32, &[3]);
    let mut b = Builder::new("pick", vec![v3.clone(), v3.clone(), i32t()]);
    let body = b.f.body;
    let p = b.param("p", boolt());
    let x = b.param("x", v3.clone());
    let ones = b.konst(body, t(vec![1.0f32; 3], &[3]));
    let twos = b.konst(body, t(vec![2.0f32; 3], &[3]));
    let rs = b.if_else(
        body,
        p,
        vec![v3.clone(), i32t()],
        |b, r| {
            let k = b.konst(r, Tensor::scalar(10i32));
            vec![b.op(r, Op::Binary(B::Add), vec![x, ones], v3.clone()), k]
        },
        |b, r| {
            let k = b.konst(r, Tensor::scalar(20i32));
            vec![b.op(r, Op::Binary(B::Mul), vec![x, twos], v3.clone()), k]
        },
    );
    let f = b.ret(vec![rs[0], x, rs[1]]);
    let x = t(vec![1.0f32, -2.0, 0.5], &[3]);
    let out = interpret(&f, &[Tensor::scalar(true), x.clone()]).unwrap();
    assert_eq!(
        out,
        vec![
            t(vec![2.0f32, -1.0, 1.5], &[3]),
            x.clone(),
            Tensor::scalar(10i32)
        ]
    );
    let out = interpret(&f, &[Tensor::scalar(false), x.clone()]).unwrap();
    assert_eq!(
        out,
        vec![t(vec![2.0f32, -4.0, 1.0], &[3]), x, Tensor::scalar(20i32)]
    );
}

#[test]
fn if_yielding_outer_values_keeps_them() {
    // (p, x: i32[2]) -> (if p { yield x } else { yield x + x }, x): the outer x survives.
    let v2 = ty(DType::I32, &[2]);
    let mut b = Builder::new("keep", vec![v2.clone(), v2.clone()]);
    let body = b.f.body;
    let p = b.param("p", boolt());
    let x0 = b.param("x0", v2.clone());
    let x = b.op(body, Op::Binary(B::Mul), vec![x0, x0], v2.clone());
    let rs = b.if_else(
        body,
        p,
        vec![v2.clone()],
        |_, _| vec![x],
        |b, r| vec![b.op(r, Op::Binary(B::Add), vec![x, x], v2.clone())],
    );
    let f = b.ret(vec![rs[0], x]);
    let x0 = t(vec![3i32, -4], &[2]);
    let out = interpret(&f, &[Tensor::scalar(true), x0.clone()]).unwrap();
    assert_eq!(out, vec![t(vec![9, 16], &[2]), t(vec![9, 16], &[2])]);
    let out = interpret(&f, &[Tensor::scalar(false), x0]).unwrap();
    assert_eq!(out, vec![t(vec![18, 32], &[2]), t(vec![9, 16], &[2])]);
}

#[test]
fn yields_that_permute_the_region_arguments() {
    // while i < n { (a, b, c, i) = (b, c, a, i + 1) } on tensors and a scalar swap alongside.
    let v1 = ty(DType::F64, &[1]);
    let mut b = Builder::new(
        "rotate",
        vec![v1.clone(), v1.clone(), v1.clone(), i32t(), i32t()],
    );
    let body = b.f.body;
    let n = b.param("n", i32t());
    let a = b.konst(body, t(vec![1.0f64], &[1]));
    let bb = b.konst(body, t(vec![2.0f64], &[1]));
    let c = b.param("c", v1.clone());
    let zero = b.konst(body, Tensor::scalar(0i32));
    let one = b.konst(body, Tensor::scalar(1i32));
    let hundred = b.konst(body, Tensor::scalar(100i32));
    let rs = b.while_loop(
        body,
        vec![a, bb, c, zero, hundred, one],
        |b, r, x| b.op(r, Op::Compare(CmpOp::Lt), vec![x[3], n], boolt()),
        |b, r, x| {
            let i = b.op(r, Op::Binary(B::Add), vec![x[3], one], i32t());
            vec![x[1], x[2], x[0], i, x[5], x[4]]
        },
    );
    let f = b.ret(vec![rs[0], rs[1], rs[2], rs[4], rs[5]]);
    let c = t(vec![3.0f64], &[1]);
    let run = |k: i32| interpret(&f, &[Tensor::scalar(k), c.clone()]).unwrap();
    let vals = |v: [f64; 3], s: [i32; 2]| {
        vec![
            t(vec![v[0]], &[1]),
            t(vec![v[1]], &[1]),
            t(vec![v[2]], &[1]),
            Tensor::scalar(s[0]),
            Tensor::scalar(s[1]),
        ]
    };
    assert_eq!(run(0), vals([1.0, 2.0, 3.0], [100, 1]));
    assert_eq!(run(1), vals([2.0, 3.0, 1.0], [1, 100]));
    assert_eq!(run(2), vals([3.0, 1.0, 2.0], [100, 1]));
    assert_eq!(run(4), vals([2.0, 3.0, 1.0], [100, 1]));
}

#[test]
fn loop_reads_its_initial_value_and_yields_loop_invariants() {
    // (x: i32[2]) -> while i < 3 { acc = acc + x; keep = x } starting from acc = x, keep = x.
    // x is both an operand of the while and used in its body: it must not be moved away.
    let v2 = ty(DType::I32, &[2]);
    let mut b = Builder::new("invariant", vec![v2.clone(), v2.clone(), v2.clone()]);
    let body = b.f.body;
    let x0 = b.param("x0", v2.clone());
    let x = b.op(body, Op::Unary(U::Neg), vec![x0], v2.clone());
    let zero = b.konst(body, Tensor::scalar(0i32));
    let one = b.konst(body, Tensor::scalar(1i32));
    let three = b.konst(body, Tensor::scalar(3i32));
    let rs = b.while_loop(
        body,
        vec![x, x, zero],
        |b, r, a| b.op(r, Op::Compare(CmpOp::Lt), vec![a[2], three], boolt()),
        |b, r, a| {
            vec![
                b.op(r, Op::Binary(B::Add), vec![a[0], x], v2.clone()),
                x,
                b.op(r, Op::Binary(B::Add), vec![a[2], one], i32t()),
            ]
        },
    );
    let f = b.ret(vec![rs[0], rs[1], x]);
    let out = interpret(&f, &[t(vec![1i32, -2], &[2])]).unwrap();
    assert_eq!(
        out,
        vec![
            t(vec![-4, 8], &[2]),
            t(vec![-1, 2], &[2]),
            t(vec![-1, 2], &[2])
        ]
    );
}

#[test]
fn scalars_and_tensors_mix() {
    // (x: f32[4]) -> (sum(x) broadcast back to f32[4], max(x) as a scalar, reshape(x) : [2,2])
    let v4 = ty(DType::F32, &[4]);
    let f32t = TensorType::scalar(DType::F32);
    let m22 = ty(DType::F32, &[2, 2]);
    let mut b = Builder::new(
        "mix",
        vec![v4.clone(), f32t.clone(), m22.clone(), v4.clone()],
    );
    let body = b.f.body;
    let x = b.param("x", v4.clone());
    let s = b.op(
        body,
        Op::Reduce {
            op: ReduceOp::Sum,
            axes: vec![0],
        },
        vec![x],
        f32t.clone(),
    );
    let half = b.konst(body, Tensor::scalar(0.5f32));
    let s2 = b.op(body, Op::Binary(B::Mul), vec![s, half], f32t.clone());
    let bs = b.op(body, Op::Broadcast { dims: vec![] }, vec![s2], v4.clone());
    let mx = b.op(
        body,
        Op::Reduce {
            op: ReduceOp::Max,
            axes: vec![0],
        },
        vec![x],
        f32t.clone(),
    );
    let neg = b.op(body, Op::Unary(U::Neg), vec![x], v4.clone());
    let r = b.op(body, Op::Reshape, vec![neg], m22.clone());
    let f = b.ret(vec![bs, mx, r, x]);
    let x = t(vec![1.0f32, 2.0, 3.0, -0.0], &[4]);
    let out = interpret(&f, std::slice::from_ref(&x)).unwrap();
    assert_eq!(
        out,
        vec![
            t(vec![3.0f32; 4], &[4]),
            Tensor::scalar(3.0f32),
            t(vec![-1.0f32, -2.0, -3.0, 0.0], &[2, 2]),
            x,
        ]
    );
}

#[test]
fn scalar_fast_path_covers_every_scalar_op() {
    // One function per (op, dtype) on rank-0 values, compared with the scalar reference.
    let samples = |d: DType| -> Vec<Scalar> {
        match d {
            DType::Bool => vec![Bool(false), Bool(true)],
            DType::I32 => vec![I32(i32::MIN), I32(-1), I32(0), I32(7), I32(40)],
            DType::I64 => vec![I64(i64::MIN), I64(-1), I64(0), I64(3), I64(64)],
            DType::F32 => vec![F32(-0.0), F32(f32::NAN), F32(2.5), F32(-f32::INFINITY)],
            DType::F64 => vec![F64(0.0), F64(-1.5), F64(f64::NAN), F64(1e300)],
            // The other dtypes: their extremes and a few values converted from i64.
            d => [d.min_value(), d.max_value()]
                .into_iter()
                .chain([-1i64, 0, 3, 64].map(|v| graphjit::ops::scalar::convert(I64(v), d)))
                .collect(),
        }
    };
    for d in DType::ALL {
        let st = TensorType::scalar(d);
        for op in BinaryOp::ALL.into_iter().filter(|o| o.accepts(d)) {
            let mut b = Builder::new("bin", vec![st.clone()]);
            let body = b.f.body;
            let x = b.param("x", st.clone());
            let y = b.param("y", st.clone());
            let z = b.op(body, Op::Binary(op), vec![x, y], st.clone());
            let f = b.ret(vec![z]);
            let it = Interpreter::new(&f).unwrap();
            for &p in &samples(d) {
                for &q in &samples(d) {
                    let got = it
                        .run(&[Tensor::from_scalar(p), Tensor::from_scalar(q)])
                        .unwrap();
                    let want = eval_binary(op, p, q).unwrap();
                    assert_eq!(
                        got,
                        vec![Tensor::from_scalar(want)],
                        "{} {p:?} {q:?}",
                        op.name()
                    );
                }
            }
        }
        for op in UnaryOp::ALL.into_iter().filter(|o| o.accepts(d)) {
            let mut b = Builder::new("un", vec![st.clone()]);
            let body = b.f.body;
            let x = b.param("x", st.clone());
            let z = b.op(body, Op::Unary(op), vec![x], st.clone());
            let f = b.ret(vec![z]);
            for &p in &samples(d) {
                let got = interpret(&f, &[Tensor::from_scalar(p)]).unwrap();
                let want = eval_unary(op, p).unwrap();
                assert_eq!(got, vec![Tensor::from_scalar(want)], "{} {p:?}", op.name());
            }
        }
        for to in DType::ALL {
            let mut b = Builder::new("cvt", vec![TensorType::scalar(to)]);
            let body = b.f.body;
            let x = b.param("x", st.clone());
            let z = b.op(body, Op::Convert, vec![x], TensorType::scalar(to));
            let f = b.ret(vec![z]);
            for &p in &samples(d) {
                let got = interpret(&f, &[Tensor::from_scalar(p)]).unwrap();
                assert_eq!(
                    got,
                    vec![Tensor::from_scalar(convert(p, to))],
                    "{p:?} to {to}"
                );
            }
        }
        for op in CmpOp::ALL {
            let mut b = Builder::new("cmp", vec![boolt(), st.clone()]);
            let body = b.f.body;
            let x = b.param("x", st.clone());
            let y = b.param("y", st.clone());
            let z = b.op(body, Op::Compare(op), vec![x, y], boolt());
            let s = b.op(body, Op::Select, vec![z, x, y], st.clone());
            let f = b.ret(vec![z, s]);
            for &p in &samples(d) {
                for &q in &samples(d) {
                    let got = interpret(&f, &[Tensor::from_scalar(p), Tensor::from_scalar(q)]);
                    let c = eval_compare(op, p, q).unwrap();
                    let sel = eval_select(c, p, q).unwrap();
                    assert_eq!(
                        got.unwrap(),
                        vec![Tensor::from_scalar(c), Tensor::from_scalar(sel)],
                        "{} {p:?} {q:?}",
                        op.name()
                    );
                }
            }
        }
    }
}

#[test]
fn invalid_functions_are_errors() {
    // A use of a value defined inside a loop body, after the loop.
    let mut b = Builder::new("scope", vec![i32t()]);
    let body = b.f.body;
    let zero = b.konst(body, Tensor::scalar(0i32));
    let mut leaked = None;
    b.while_loop(
        body,
        vec![zero],
        |b, r, _| b.konst(r, Tensor::scalar(false)),
        |b, r, a| {
            let v = b.op(r, Op::Unary(U::Neg), vec![a[0]], i32t());
            leaked = Some(v);
            vec![v]
        },
    );
    let f = b.ret(vec![leaked.unwrap()]);
    let e = interpret(&f, &[]).unwrap_err();
    assert!(matches!(e, Error::Verify(_)), "{e}");

    // A result type that does not follow the op's rule.
    let mut b = Builder::new("types", vec![i32t()]);
    let body = b.f.body;
    let x = b.param("x", i32t());
    let y = b.op(
        body,
        Op::Binary(B::Add),
        vec![x, x],
        TensorType::scalar(DType::I64),
    );
    let f = b.ret(vec![y]);
    let e = interpret(&f, &[Tensor::scalar(1i32)]).unwrap_err();
    assert!(e.to_string().contains("'add'"), "{e}");

    // A return of the wrong type, and a body without a return.
    let mut b = Builder::new("ret", vec![i32t()]);
    let x = b.param("x", TensorType::scalar(DType::F32));
    let f = b.ret(vec![x]);
    assert!(interpret(&f, &[Tensor::scalar(1.0f32)]).is_err());
    let f = Function::new("empty", vec![]);
    assert!(interpret(&f, &[]).is_err());

    // A while whose cond yields an i32.
    let mut b = Builder::new("cond", vec![i32t()]);
    let body = b.f.body;
    let zero = b.konst(body, Tensor::scalar(0i32));
    let rs = b.while_loop(body, vec![zero], |_, _, a| a[0], |_, _, a| vec![a[0]]);
    let f = b.ret(rs);
    assert!(interpret(&f, &[]).is_err());
}

/// `depth` ifs nested in each other's then-arms, each yielding its inner result plus one.
fn nested_ifs(depth: usize) -> Function {
    let mut b = Builder::new("deep", vec![i32t()]);
    let body = b.f.body;
    let p = b.param("p", boolt());
    let one = b.konst(body, Tensor::scalar(1i32));
    let mut regions = vec![body];
    let mut ifs = Vec::new();
    for _ in 0..depth {
        let r = *regions.last().unwrap();
        let i = b.f.push_inst(r, Op::If, vec![p], vec![i32t()], vec![]);
        let (tr, er) = (b.f.add_region(), b.f.add_region());
        b.f.set_regions(i, vec![tr, er]);
        b.term(er, Op::Yield, vec![one]);
        ifs.push(i);
        regions.push(tr);
    }
    // Close the innermost arm, then each arm yields its inner if's result plus one.
    b.term(*regions.last().unwrap(), Op::Yield, vec![one]);
    for k in (0..depth).rev() {
        let inner = b.f.results(ifs[k])[0];
        let r = regions[k];
        if k == 0 {
            let f = b.ret(vec![inner]);
            return f;
        }
        let s = b.op(r, Op::Binary(B::Add), vec![inner, one], i32t());
        b.term(r, Op::Yield, vec![s]);
    }
    b.ret(vec![one])
}

#[test]
fn deep_nesting_is_bounded_not_a_stack_overflow() {
    use graphjit::ir::MAX_REGION_DEPTH;
    // Exactly at the bound it runs: depth d gives 1 + (d - 1) when p is true, 1 when false.
    let f = nested_ifs(MAX_REGION_DEPTH);
    let out = interpret(&f, &[Tensor::scalar(true)]).unwrap();
    assert_eq!(out, vec![Tensor::scalar(MAX_REGION_DEPTH as i32)]);
    let out = interpret(&f, &[Tensor::scalar(false)]).unwrap();
    assert_eq!(out, vec![Tensor::scalar(1i32)]);
    // One past the bound, and far past it, the verifier refuses the function (before any
    // recursion deeper than the bound) with an error that names the limit.
    for depth in [MAX_REGION_DEPTH + 1, 200, 1000] {
        let f = nested_ifs(depth);
        let e = interpret(&f, &[Tensor::scalar(true)]).unwrap_err();
        assert!(
            matches!(e, graphjit::Error::Verify(_)),
            "depth {depth}: {e:?}"
        );
        let limit = format!("nested deeper than the limit of {MAX_REGION_DEPTH}");
        assert!(e.to_string().contains(&limit), "depth {depth}: {e}");
        // The compiler verifies with the same bound.
        let e = graphjit::jit::compile(&f).expect_err("compiling too deep a function");
        assert!(e.to_string().contains(&limit), "depth {depth}: {e}");
    }
}

#[test]
fn values_computed_in_place_do_not_clobber_live_arguments() {
    // while i < n { (i, a, b, f0, f1) = (i + 1, a + 1, a * b, f1, f0 + f1) }
    // a + 1 must not overwrite a before a * b reads it; f0 + f1 must not overwrite f1, which
    // the yield still reads.
    let i64t = TensorType::scalar(DType::I64);
    let mut b = Builder::new("inplace", vec![i32t(), i32t(), i64t.clone(), i64t.clone()]);
    let body = b.f.body;
    let n = b.param("n", i32t());
    let zero = b.konst(body, Tensor::scalar(0i32));
    let one = b.konst(body, Tensor::scalar(1i32));
    let two = b.konst(body, Tensor::scalar(2i32));
    let f0 = b.konst(body, Tensor::scalar(0i64));
    let f1 = b.konst(body, Tensor::scalar(1i64));
    let rs = b.while_loop(
        body,
        vec![zero, one, two, f0, f1],
        |b, r, x| b.op(r, Op::Compare(CmpOp::Lt), vec![x[0], n], boolt()),
        |b, r, x| {
            let i1 = b.op(r, Op::Binary(B::Add), vec![x[0], one], i32t());
            let a1 = b.op(r, Op::Binary(B::Add), vec![x[1], one], i32t());
            let b1 = b.op(r, Op::Binary(B::Mul), vec![x[1], x[2]], i32t());
            let g = b.op(r, Op::Binary(B::Add), vec![x[3], x[4]], i64t.clone());
            vec![i1, a1, b1, x[4], g]
        },
    );
    let f = b.ret(vec![rs[1], rs[2], rs[3], rs[4]]);
    let out = interpret(&f, &[Tensor::scalar(3i32)]).unwrap();
    // (a, b): (1, 2) -> (2, 2) -> (3, 4) -> (4, 12); Fibonacci: (0, 1) -> ... -> (2, 3).
    assert_eq!(
        out,
        vec![
            Tensor::scalar(4i32),
            Tensor::scalar(12i32),
            Tensor::scalar(2i64),
            Tensor::scalar(3i64)
        ]
    );
    let out = interpret(&f, &[Tensor::scalar(90i32)]).unwrap();
    assert_eq!(out[2], Tensor::scalar(2880067194370816120i64));
}
