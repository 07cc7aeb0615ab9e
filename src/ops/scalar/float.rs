//! The float definitions: the float-only functions ([`FloatOps`]) of `f32` and `f64` (IEEE
//! 754-2019 `minimum`/`maximum`, the `extern "C"` transcendental functions) and of `f16`/`bf16`
//! (computed in `f32`, rounded once), and the tables that hand them to the kernels.

use super::dispatch::{arith_binary, arith_unary};
use super::{
    cos_f32, cos_f64, exp_f32, exp_f64, log_f32, log_f64, pow_f32, pow_f64, rem_f32, rem_f64,
    sin_f32, sin_f64, tanh_f32, tanh_f64, Arith, BinaryVisitor, UnaryVisitor,
};
use crate::ops::{BinaryOp, UnaryOp};

/// The float-only functions (`f32`, `f64`).
pub trait FloatOps: Arith + crate::ops::math::FloatMath {
    fn pow(a: Self, b: Self) -> Self;
    fn exp(a: Self) -> Self;
    fn log(a: Self) -> Self;
    fn sqrt(a: Self) -> Self;
    fn tanh(a: Self) -> Self;
    fn sin(a: Self) -> Self;
    fn cos(a: Self) -> Self;
    fn floor(a: Self) -> Self;
    fn ceil(a: Self) -> Self;
    fn round(a: Self) -> Self;
}

macro_rules! float_ops {
    ($t:ident, $canonical_nan:expr, $pow:ident, $rem:ident, $exp:ident, $log:ident, $tanh:ident, $sin:ident, $cos:ident) => {
        impl Arith for $t {
            const ZERO: $t = 0.0;
            const ONE: $t = 1.0;
            const MIN_IDENTITY: $t = $t::INFINITY;
            const MAX_IDENTITY: $t = $t::NEG_INFINITY;
            #[inline(always)]
            fn add(a: $t, b: $t) -> $t {
                a + b
            }
            #[inline(always)]
            fn sub(a: $t, b: $t) -> $t {
                a - b
            }
            #[inline(always)]
            fn mul(a: $t, b: $t) -> $t {
                a * b
            }
            #[inline(always)]
            fn div(a: $t, b: $t) -> $t {
                a / b
            }
            #[inline(always)]
            fn rem(a: $t, b: $t) -> $t {
                $rem(a, b)
            }
            /// IEEE 754-2019 `minimum`: the canonical NaN if either is NaN, and `-0.0 < +0.0`.
            #[inline(always)]
            fn min(a: $t, b: $t) -> $t {
                if a < b {
                    a
                } else if b < a {
                    b
                } else if a.is_nan() || b.is_nan() {
                    $t::from_bits($canonical_nan)
                } else if a.is_sign_negative() {
                    // Equal operands: only the sign of a zero can differ.
                    a
                } else {
                    b
                }
            }
            /// IEEE 754-2019 `maximum`: the canonical NaN if either is NaN, and `-0.0 < +0.0`.
            #[inline(always)]
            fn max(a: $t, b: $t) -> $t {
                if a > b {
                    a
                } else if b > a {
                    b
                } else if a.is_nan() || b.is_nan() {
                    $t::from_bits($canonical_nan)
                } else if a.is_sign_negative() {
                    b
                } else {
                    a
                }
            }
            #[inline(always)]
            fn neg(a: $t) -> $t {
                -a
            }
            #[inline(always)]
            fn abs(a: $t) -> $t {
                a.abs()
            }
        }

        impl FloatOps for $t {
            #[inline(always)]
            fn pow(a: $t, b: $t) -> $t {
                $pow(a, b)
            }
            #[inline(always)]
            fn exp(a: $t) -> $t {
                $exp(a)
            }
            #[inline(always)]
            fn log(a: $t) -> $t {
                $log(a)
            }
            #[inline(always)]
            fn sqrt(a: $t) -> $t {
                a.sqrt()
            }
            #[inline(always)]
            fn tanh(a: $t) -> $t {
                $tanh(a)
            }
            #[inline(always)]
            fn sin(a: $t) -> $t {
                $sin(a)
            }
            #[inline(always)]
            fn cos(a: $t) -> $t {
                $cos(a)
            }
            #[inline(always)]
            fn floor(a: $t) -> $t {
                a.floor()
            }
            #[inline(always)]
            fn ceil(a: $t) -> $t {
                a.ceil()
            }
            /// Half to even, like Cranelift's `nearest`.
            #[inline(always)]
            fn round(a: $t) -> $t {
                a.round_ties_even()
            }
        }
    };
}

float_ops!(
    f32,
    super::CANONICAL_NAN_F32,
    pow_f32,
    rem_f32,
    exp_f32,
    log_f32,
    tanh_f32,
    sin_f32,
    cos_f32
);
float_ops!(
    f64,
    super::CANONICAL_NAN_F64,
    pow_f64,
    rem_f64,
    exp_f64,
    log_f64,
    tanh_f64,
    sin_f64,
    cos_f64
);

/// `f16` and `bf16` as [`half`] stores them, with the two conversions every op needs.
pub trait HalfFloat: Copy {
    /// Exact: every `f16` and `bf16` value is an `f32` value.
    fn widen(self) -> f32;
    /// Rounds to nearest, ties to even; overflow gives ±inf, NaN stays NaN.
    fn narrow(x: f32) -> Self;
}

impl HalfFloat for half::f16 {
    #[inline(always)]
    fn widen(self) -> f32 {
        self.to_f32()
    }
    #[inline(always)]
    fn narrow(x: f32) -> Self {
        half::f16::from_f32(x)
    }
}

impl HalfFloat for half::bf16 {
    #[inline(always)]
    fn widen(self) -> f32 {
        self.to_f32()
    }
    #[inline(always)]
    fn narrow(x: f32) -> Self {
        half::bf16::from_f32(x)
    }
}

/// A unary op of `f16`/`bf16`: computed in `f32`, rounded once.
#[inline(always)]
fn via_f32_1<H: HalfFloat>(a: H, f: impl Fn(f32) -> f32) -> H {
    H::narrow(f(a.widen()))
}

/// A binary op of `f16`/`bf16`: computed in `f32`, rounded once. For `+ - * /` (and `sqrt`)
/// this is the correctly rounded result, since `f32` has more than `2p + 2` bits.
#[inline(always)]
fn via_f32_2<H: HalfFloat>(a: H, b: H, f: impl Fn(f32, f32) -> f32) -> H {
    H::narrow(f(a.widen(), b.widen()))
}

macro_rules! half_ops {
    ($t:ty) => {
        impl Arith for $t {
            const ZERO: $t = <$t>::ZERO;
            const ONE: $t = <$t>::ONE;
            const MIN_IDENTITY: $t = <$t>::INFINITY;
            const MAX_IDENTITY: $t = <$t>::NEG_INFINITY;
            #[inline(always)]
            fn add(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as Arith>::add)
            }
            #[inline(always)]
            fn sub(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as Arith>::sub)
            }
            #[inline(always)]
            fn mul(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as Arith>::mul)
            }
            #[inline(always)]
            fn div(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as Arith>::div)
            }
            #[inline(always)]
            fn rem(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as Arith>::rem)
            }
            #[inline(always)]
            fn min(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as Arith>::min)
            }
            #[inline(always)]
            fn max(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as Arith>::max)
            }
            #[inline(always)]
            fn neg(a: $t) -> $t {
                via_f32_1(a, <f32 as Arith>::neg)
            }
            #[inline(always)]
            fn abs(a: $t) -> $t {
                via_f32_1(a, <f32 as Arith>::abs)
            }
        }

        impl FloatOps for $t {
            #[inline(always)]
            fn pow(a: $t, b: $t) -> $t {
                via_f32_2(a, b, <f32 as FloatOps>::pow)
            }
            #[inline(always)]
            fn exp(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::exp)
            }
            #[inline(always)]
            fn log(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::log)
            }
            #[inline(always)]
            fn sqrt(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::sqrt)
            }
            #[inline(always)]
            fn tanh(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::tanh)
            }
            #[inline(always)]
            fn sin(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::sin)
            }
            #[inline(always)]
            fn cos(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::cos)
            }
            #[inline(always)]
            fn floor(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::floor)
            }
            #[inline(always)]
            fn ceil(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::ceil)
            }
            #[inline(always)]
            fn round(a: $t) -> $t {
                via_f32_1(a, <f32 as FloatOps>::round)
            }
        }
    };
}

half_ops!(half::f16);
half_ops!(half::bf16);

/// The table of float unary ops: an op added here and to [`FloatOps`] needs nothing else
/// in `ops::scalar`.
pub(super) fn float_unary<T: FloatOps, V: UnaryVisitor<T>>(op: UnaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        UnaryOp::Exp => v.visit(T::exp),
        UnaryOp::Log => v.visit(T::log),
        UnaryOp::Sqrt => v.visit(T::sqrt),
        UnaryOp::Tanh => v.visit(T::tanh),
        UnaryOp::Sin => v.visit(T::sin),
        UnaryOp::Cos => v.visit(T::cos),
        UnaryOp::Floor => v.visit(T::floor),
        UnaryOp::Ceil => v.visit(T::ceil),
        UnaryOp::Round => v.visit(T::round),
        UnaryOp::Neg | UnaryOp::Abs => return arith_unary(op, v),
        _ => return crate::ops::math::float_unary(op, v),
    })
}

/// The table of float binary ops.
pub(super) fn float_binary<T: FloatOps, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    match op {
        BinaryOp::Pow => Some(v.visit(T::pow)),
        BinaryOp::Atan2 => crate::ops::math::float_binary(op, v),
        _ => arith_binary(op, v),
    }
}
