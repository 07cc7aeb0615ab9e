//! The elementwise math StableHLO adds beyond the basic ops: `sign`, `round_nearest_afz`,
//! `expm1`, `log1p`, `rsqrt`, `logistic`, `cbrt`, `erf`, `atan2` on floats and `sign`,
//! `popcnt`, `clz` on integers, each defined once here.
//!
//! The transcendental ones are the pure-Rust `libm` crate's `f64` functions (a port of
//! FreeBSD's msun, the same on every host), called by the interpreter and by compiled code
//! through the `extern "C"` entry points below, so both executors compute the same bits. The
//! `f32` versions evaluate in `f64` and round once, which keeps them within 1 ulp of the
//! correctly rounded value; `f16`/`bf16` go through `f32` and round once, as every other op
//! does. `sign`, `round_nearest_afz` and `rsqrt` are exact IEEE sequences the JIT emits
//! inline (`rsqrt` of `f32` in `f64`: the square root and the division are each correctly
//! rounded there, so the rounded result is within 1 ulp).

use crate::ops::scalar::{BinaryVisitor, HalfFloat, UnaryVisitor};
use crate::ops::{BinaryOp, UnaryOp};

/// The float ops of this module, implemented for every float dtype.
pub trait FloatMath: Copy + 'static {
    fn sign(a: Self) -> Self;
    fn round_afz(a: Self) -> Self;
    fn expm1(a: Self) -> Self;
    fn log1p(a: Self) -> Self;
    fn rsqrt(a: Self) -> Self;
    fn logistic(a: Self) -> Self;
    fn cbrt(a: Self) -> Self;
    fn erf(a: Self) -> Self;
    fn atan2(a: Self, b: Self) -> Self;
}

/// The integer ops of this module, implemented for every integer dtype.
pub trait IntMath: Copy + 'static {
    fn sign(a: Self) -> Self;
    fn popcnt(a: Self) -> Self;
    fn clz(a: Self) -> Self;
}

/// The logistic function `1 / (1 + e^-x)` in `f64`. For negative `x` it is written
/// `e^x / (1 + e^x)`, so that `e^x` never overflows and small results keep their precision.
fn logistic64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + libm::exp(-x))
    } else {
        let e = libm::exp(x);
        e / (1.0 + e)
    }
}

macro_rules! extern_math {
    ($($name:ident: $t:ty => $f:expr;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`, called by the interpreter and by compiled code.")]
            pub extern "C" fn $name(x: $t) -> $t {
                let f: fn($t) -> $t = $f;
                f(x)
            }
        )*
    };
}

extern_math! {
    expm1_f64: f64 => libm::expm1;
    log1p_f64: f64 => libm::log1p;
    cbrt_f64: f64 => libm::cbrt;
    erf_f64: f64 => libm::erf;
    logistic_f64: f64 => logistic64;
    expm1_f32: f32 => |x| libm::expm1(x as f64) as f32;
    log1p_f32: f32 => |x| libm::log1p(x as f64) as f32;
    cbrt_f32: f32 => |x| libm::cbrt(x as f64) as f32;
    erf_f32: f32 => |x| libm::erf(x as f64) as f32;
    logistic_f32: f32 => |x| logistic64(x as f64) as f32;
}

/// `atan2(y, x)` of `f64`, called by the interpreter and by compiled code.
pub extern "C" fn atan2_f64(y: f64, x: f64) -> f64 {
    libm::atan2(y, x)
}

/// `atan2(y, x)` of `f32`: evaluated in `f64`, rounded once.
pub extern "C" fn atan2_f32(y: f32, x: f32) -> f32 {
    libm::atan2(y as f64, x as f64) as f32
}

macro_rules! float_math {
    ($t:ty, $expm1:ident, $log1p:ident, $cbrt:ident, $erf:ident, $logistic:ident, $atan2:ident, $rsqrt:expr) => {
        impl FloatMath for $t {
            /// NaN stays NaN, `±0` stays `±0`, anything else is `±1` by its sign.
            #[inline(always)]
            fn sign(a: $t) -> $t {
                if a.is_nan() || a == 0.0 {
                    a
                } else {
                    (1.0 as $t).copysign(a)
                }
            }
            /// Half away from zero (Rust's `round`, C's `round`).
            #[inline(always)]
            fn round_afz(a: $t) -> $t {
                a.round()
            }
            #[inline(always)]
            fn expm1(a: $t) -> $t {
                $expm1(a)
            }
            #[inline(always)]
            fn log1p(a: $t) -> $t {
                $log1p(a)
            }
            #[inline(always)]
            fn rsqrt(a: $t) -> $t {
                let f: fn($t) -> $t = $rsqrt;
                f(a)
            }
            #[inline(always)]
            fn logistic(a: $t) -> $t {
                $logistic(a)
            }
            #[inline(always)]
            fn cbrt(a: $t) -> $t {
                $cbrt(a)
            }
            #[inline(always)]
            fn erf(a: $t) -> $t {
                $erf(a)
            }
            #[inline(always)]
            fn atan2(a: $t, b: $t) -> $t {
                $atan2(a, b)
            }
        }
    };
}

float_math!(
    f32,
    expm1_f32,
    log1p_f32,
    cbrt_f32,
    erf_f32,
    logistic_f32,
    atan2_f32,
    |x| (1.0 / (x as f64).sqrt()) as f32
);
float_math!(
    f64,
    expm1_f64,
    log1p_f64,
    cbrt_f64,
    erf_f64,
    logistic_f64,
    atan2_f64,
    |x| 1.0 / x.sqrt()
);

macro_rules! half_math {
    ($t:ty) => {
        impl FloatMath for $t {
            fn sign(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::sign(a.widen()))
            }
            fn round_afz(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::round_afz(a.widen()))
            }
            fn expm1(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::expm1(a.widen()))
            }
            fn log1p(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::log1p(a.widen()))
            }
            fn rsqrt(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::rsqrt(a.widen()))
            }
            fn logistic(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::logistic(a.widen()))
            }
            fn cbrt(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::cbrt(a.widen()))
            }
            fn erf(a: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::erf(a.widen()))
            }
            fn atan2(a: $t, b: $t) -> $t {
                <$t>::narrow(<f32 as FloatMath>::atan2(a.widen(), b.widen()))
            }
        }
    };
}

half_math!(half::f16);
half_math!(half::bf16);

macro_rules! int_math {
    ($($t:ty),*) => {
        $(
            impl IntMath for $t {
                /// `-1`, `0` or `1` (`0` or `1` for unsigned types).
                #[inline(always)]
                #[allow(unused_comparisons)]
                fn sign(a: $t) -> $t {
                    if a > 0 {
                        1
                    } else if a < 0 {
                        (0 as $t).wrapping_sub(1)
                    } else {
                        0
                    }
                }
                #[inline(always)]
                fn popcnt(a: $t) -> $t {
                    a.count_ones() as $t
                }
                /// The number of leading zero bits; the width for 0.
                #[inline(always)]
                fn clz(a: $t) -> $t {
                    a.leading_zeros() as $t
                }
            }
        )*
    };
}

int_math!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Hands the function of a unary op of this module on a float type to `v`; `None` for the
/// other unary ops and for the integer-only ones.
pub(crate) fn float_unary<T: FloatMath, V: UnaryVisitor<T>>(op: UnaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        UnaryOp::Sign => v.visit(T::sign),
        UnaryOp::RoundAfz => v.visit(T::round_afz),
        UnaryOp::Expm1 => v.visit(T::expm1),
        UnaryOp::Log1p => v.visit(T::log1p),
        UnaryOp::Rsqrt => v.visit(T::rsqrt),
        UnaryOp::Logistic => v.visit(T::logistic),
        UnaryOp::Cbrt => v.visit(T::cbrt),
        UnaryOp::Erf => v.visit(T::erf),
        _ => return None,
    })
}

/// Hands the function of a unary op of this module on an integer type to `v`.
pub(crate) fn int_unary<T: IntMath, V: UnaryVisitor<T>>(op: UnaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        UnaryOp::Sign => v.visit(T::sign),
        UnaryOp::Popcnt => v.visit(T::popcnt),
        UnaryOp::Clz => v.visit(T::clz),
        _ => return None,
    })
}

/// Hands the function of a binary op of this module on a float type to `v`.
pub(crate) fn float_binary<T: FloatMath, V: BinaryVisitor<T>>(
    op: BinaryOp,
    v: V,
) -> Option<V::Out> {
    match op {
        BinaryOp::Atan2 => Some(v.visit(T::atan2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_rounding_edges() {
        assert_eq!(
            <f32 as FloatMath>::sign(-0.0).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(<f32 as FloatMath>::sign(-3.5), -1.0);
        assert!(<f64 as FloatMath>::sign(f64::NAN).is_nan());
        assert_eq!(<f64 as FloatMath>::sign(f64::INFINITY), 1.0);
        assert_eq!(<f32 as FloatMath>::round_afz(2.5), 3.0);
        assert_eq!(<f32 as FloatMath>::round_afz(-2.5), -3.0);
        assert_eq!(<f32 as FloatMath>::round_afz(0.49999997), 0.0);
        assert_eq!(<i8 as IntMath>::sign(i8::MIN), -1);
        assert_eq!(<u8 as IntMath>::sign(200), 1);
        assert_eq!(<u16 as IntMath>::clz(0), 16);
        assert_eq!(<i32 as IntMath>::clz(-1), 0);
        assert_eq!(<i64 as IntMath>::popcnt(-1), 64);
        assert_eq!(<u8 as IntMath>::popcnt(0b1011_0000), 3);
    }

    #[test]
    fn logistic_tails() {
        assert_eq!(logistic64(0.0), 0.5);
        assert_eq!(logistic64(800.0), 1.0);
        assert_eq!(logistic64(-800.0), 0.0);
        // Far in the negative tail the result is e^x to within rounding, not 0.
        let x = -700.0f64;
        assert!((logistic64(x) / libm::exp(x) - 1.0).abs() < 1e-15);
        assert!(logistic64(f64::NAN).is_nan());
    }
}
