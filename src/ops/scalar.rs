//! The scalar meaning of every elementwise op: the one definition both executors use.
//!
//! Each op is a small typed function per dtype (trait methods of [`Arith`], [`FloatOps`],
//! [`Logic`], [`Shift`], the `cmp_*` functions and [`CastTo`]). The per-dtype tables of
//! [`Elem`] hand these functions to visitors as zero-sized function items, so the tensor
//! kernels are monomorphized per op and dtype with no dispatch inside their loops. The
//! `eval_*` functions are the slow, simple reference on [`Scalar`]s that tests (and the JIT's
//! edge-value tests) compare against.
//!
//! The interpreter and constant folding call these functions; the JIT emits inline code for
//! the cheap ops (tested against these functions on edge values) and calls the
//! `extern "C"` functions below for the transcendental ones, so both sides compute the very
//! same bits.
//!
//! **`exp` and `tanh`** are graphjit's own functions ([`vmath`]), not the standard library's:
//! polynomial code with a measured maximum error, over the whole range, of 1 ulp (`f32`
//! `exp`, against an `f64` reference), 1.25 ulp (`f32` `tanh`), and 1 and 2 ulp from std's
//! `f64` `exp` and `tanh` respectively (subnormal results kept, `exp` overflows to `+inf` and
//! underflows to `+0.0`, `tanh(±inf) = ±1`, `tanh(-0) = -0`, NaN gives NaN). The JIT emits
//! the same instruction sequence inline, in scalar and 128-bit vector form, so the results
//! are bit-identical to the interpreter's. `log`, `sin`, `cos`, `pow` are the Rust standard
//! library's (libm), called by address from compiled code.

use crate::ops::{BinaryOp, CmpOp, ReduceOp, UnaryOp};
use crate::tensor::{Element, Scalar};
use crate::types::DType;

#[path = "vmath.rs"]
pub mod vmath;

/// Transcendental and libm-backed functions, callable from compiled code by address, so the
/// interpreter and the JIT agree. `exp` and `tanh` are graphjit's own polynomial code
/// ([`vmath`]); the others are the Rust standard library's.
macro_rules! extern_unary {
    ($($name:ident: $t:ty => $f:expr;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`, called by the interpreter and by compiled code.")]
            #[doc(hidden)]
            pub extern "C" fn $name(x: $t) -> $t {
                let f: fn($t) -> $t = $f;
                f(x)
            }
        )*
    };
}

extern_unary! {
    exp_f32: f32 => vmath::exp_f32;
    exp_f64: f64 => vmath::exp_f64;
    log_f32: f32 => f32::ln;
    log_f64: f64 => f64::ln;
    tanh_f32: f32 => vmath::tanh_f32;
    tanh_f64: f64 => vmath::tanh_f64;
    sin_f32: f32 => f32::sin;
    sin_f64: f64 => f64::sin;
    cos_f32: f32 => f32::cos;
    cos_f64: f64 => f64::cos;
}

/// C99 `pow`, with its special cases (`pow(x, 0) = 1` even for NaN `x`, `pow(1, y) = 1`).
#[doc(hidden)]
pub extern "C" fn pow_f32(a: f32, b: f32) -> f32 {
    a.powf(b)
}

/// C99 `pow`, with its special cases.
#[doc(hidden)]
pub extern "C" fn pow_f64(a: f64, b: f64) -> f64 {
    a.powf(b)
}

/// C `fmod`: the remainder has the sign of the dividend.
#[doc(hidden)]
pub extern "C" fn rem_f32(a: f32, b: f32) -> f32 {
    a % b
}

/// C `fmod`: the remainder has the sign of the dividend.
#[doc(hidden)]
pub extern "C" fn rem_f64(a: f64, b: f64) -> f64 {
    a % b
}

// ---------------------------------------------------------------------------------------------
// The typed definitions. Each op is a small function of one dtype; the tables below hand these
// functions (zero-sized function items) to visitors, so that kernels generic over the function
// type are monomorphized per op and dtype, with no dispatch in their loops.
// ---------------------------------------------------------------------------------------------

/// Arithmetic, defined on the numeric dtypes (`i32`, `i64`, `f32`, `f64`).
pub trait Arith: Copy + PartialOrd + 'static {
    const ZERO: Self;
    const ONE: Self;
    /// The identity of `min`: the largest value (`+inf` for floats).
    const MIN_IDENTITY: Self;
    /// The identity of `max`: the smallest value (`-inf` for floats).
    const MAX_IDENTITY: Self;
    fn add(a: Self, b: Self) -> Self;
    fn sub(a: Self, b: Self) -> Self;
    fn mul(a: Self, b: Self) -> Self;
    fn div(a: Self, b: Self) -> Self;
    fn rem(a: Self, b: Self) -> Self;
    fn min(a: Self, b: Self) -> Self;
    fn max(a: Self, b: Self) -> Self;
    fn neg(a: Self) -> Self;
    fn abs(a: Self) -> Self;
}

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

/// Bitwise ops on integers, logical ops on `bool`.
pub trait Logic: Copy + 'static {
    /// The identity of `and`: all ones (`true`).
    const ALL_ONES: Self;
    /// The identity of `or`: zero (`false`).
    const NONE: Self;
    fn and(a: Self, b: Self) -> Self;
    fn or(a: Self, b: Self) -> Self;
    fn xor(a: Self, b: Self) -> Self;
    fn not(a: Self) -> Self;
}

/// Shifts, defined on the integer dtypes. The amount is read as unsigned; amounts of at least
/// the bit width give 0 (`shl`, `shr_logical`) or fill with the sign bit (`shr_arith`).
pub trait Shift: Copy + 'static {
    fn shl(a: Self, b: Self) -> Self;
    fn shr_logical(a: Self, b: Self) -> Self;
    fn shr_arith(a: Self, b: Self) -> Self;
}

macro_rules! int_ops {
    ($t:ty, $u:ty, $bits:expr) => {
        impl Arith for $t {
            const ZERO: $t = 0;
            const ONE: $t = 1;
            const MIN_IDENTITY: $t = <$t>::MAX;
            const MAX_IDENTITY: $t = <$t>::MIN;
            #[inline(always)]
            fn add(a: $t, b: $t) -> $t {
                a.wrapping_add(b)
            }
            #[inline(always)]
            fn sub(a: $t, b: $t) -> $t {
                a.wrapping_sub(b)
            }
            #[inline(always)]
            fn mul(a: $t, b: $t) -> $t {
                a.wrapping_mul(b)
            }
            /// Truncating; `x / 0 = -1` and `MIN / -1 = MIN` (XLA), so it never traps.
            #[inline(always)]
            fn div(a: $t, b: $t) -> $t {
                if b == 0 {
                    -1
                } else {
                    a.wrapping_div(b)
                }
            }
            /// Sign of the dividend; `x % 0 = x` and `MIN % -1 = 0` (XLA).
            #[inline(always)]
            fn rem(a: $t, b: $t) -> $t {
                if b == 0 {
                    a
                } else {
                    a.wrapping_rem(b)
                }
            }
            #[inline(always)]
            fn min(a: $t, b: $t) -> $t {
                Ord::min(a, b)
            }
            #[inline(always)]
            fn max(a: $t, b: $t) -> $t {
                Ord::max(a, b)
            }
            #[inline(always)]
            fn neg(a: $t) -> $t {
                a.wrapping_neg()
            }
            #[inline(always)]
            fn abs(a: $t) -> $t {
                a.wrapping_abs()
            }
        }

        impl Logic for $t {
            const ALL_ONES: $t = -1;
            const NONE: $t = 0;
            #[inline(always)]
            fn and(a: $t, b: $t) -> $t {
                a & b
            }
            #[inline(always)]
            fn or(a: $t, b: $t) -> $t {
                a | b
            }
            #[inline(always)]
            fn xor(a: $t, b: $t) -> $t {
                a ^ b
            }
            #[inline(always)]
            fn not(a: $t) -> $t {
                !a
            }
        }

        impl Shift for $t {
            #[inline(always)]
            fn shl(a: $t, b: $t) -> $t {
                let s = b as $u;
                if s >= $bits {
                    0
                } else {
                    a << s
                }
            }
            #[inline(always)]
            fn shr_logical(a: $t, b: $t) -> $t {
                let s = b as $u;
                if s >= $bits {
                    0
                } else {
                    ((a as $u) >> s) as $t
                }
            }
            #[inline(always)]
            fn shr_arith(a: $t, b: $t) -> $t {
                let s = b as $u;
                a >> if s >= $bits { $bits - 1 } else { s }
            }
        }
    };
}

int_ops!(i8, u8, 8);
int_ops!(i16, u16, 16);
int_ops!(i32, u32, 32);
int_ops!(i64, u64, 64);

/// The unsigned integers: wrapping arithmetic, `x / 0` = MAX (all ones), `x % 0 = x`,
/// `abs` the identity, `neg` wrapping (`0 - x`); `shr_arith` reads the bits as signed, as
/// XLA does, so it fills with the top bit.
macro_rules! uint_ops {
    ($t:ty, $s:ty, $bits:expr) => {
        impl Arith for $t {
            const ZERO: $t = 0;
            const ONE: $t = 1;
            const MIN_IDENTITY: $t = <$t>::MAX;
            const MAX_IDENTITY: $t = 0;
            #[inline(always)]
            fn add(a: $t, b: $t) -> $t {
                a.wrapping_add(b)
            }
            #[inline(always)]
            fn sub(a: $t, b: $t) -> $t {
                a.wrapping_sub(b)
            }
            #[inline(always)]
            fn mul(a: $t, b: $t) -> $t {
                a.wrapping_mul(b)
            }
            /// Truncating; `x / 0` is all ones (XLA), so it never traps.
            #[inline(always)]
            fn div(a: $t, b: $t) -> $t {
                if b == 0 {
                    <$t>::MAX
                } else {
                    a / b
                }
            }
            /// `x % 0 = x` (XLA).
            #[inline(always)]
            fn rem(a: $t, b: $t) -> $t {
                if b == 0 {
                    a
                } else {
                    a % b
                }
            }
            #[inline(always)]
            fn min(a: $t, b: $t) -> $t {
                Ord::min(a, b)
            }
            #[inline(always)]
            fn max(a: $t, b: $t) -> $t {
                Ord::max(a, b)
            }
            #[inline(always)]
            fn neg(a: $t) -> $t {
                a.wrapping_neg()
            }
            #[inline(always)]
            fn abs(a: $t) -> $t {
                a
            }
        }

        impl Logic for $t {
            const ALL_ONES: $t = <$t>::MAX;
            const NONE: $t = 0;
            #[inline(always)]
            fn and(a: $t, b: $t) -> $t {
                a & b
            }
            #[inline(always)]
            fn or(a: $t, b: $t) -> $t {
                a | b
            }
            #[inline(always)]
            fn xor(a: $t, b: $t) -> $t {
                a ^ b
            }
            #[inline(always)]
            fn not(a: $t) -> $t {
                !a
            }
        }

        impl Shift for $t {
            #[inline(always)]
            fn shl(a: $t, b: $t) -> $t {
                if b >= $bits {
                    0
                } else {
                    a << b
                }
            }
            #[inline(always)]
            fn shr_logical(a: $t, b: $t) -> $t {
                if b >= $bits {
                    0
                } else {
                    a >> b
                }
            }
            #[inline(always)]
            fn shr_arith(a: $t, b: $t) -> $t {
                ((a as $s) >> if b >= $bits { $bits - 1 } else { b }) as $t
            }
        }
    };
}

uint_ops!(u8, i8, 8);
uint_ops!(u16, i16, 16);
uint_ops!(u32, i32, 32);
uint_ops!(u64, i64, 64);

macro_rules! float_ops {
    ($t:ident, $pow:ident, $rem:ident, $exp:ident, $log:ident, $tanh:ident, $sin:ident, $cos:ident) => {
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
            /// IEEE 754-2019 `minimum`: NaN if either is NaN, and `-0.0 < +0.0`.
            #[inline(always)]
            fn min(a: $t, b: $t) -> $t {
                if a < b {
                    a
                } else if b < a {
                    b
                } else if a.is_nan() || b.is_nan() {
                    a + b
                } else if a.is_sign_negative() {
                    // Equal operands: only the sign of a zero can differ.
                    a
                } else {
                    b
                }
            }
            /// IEEE 754-2019 `maximum`: NaN if either is NaN, and `-0.0 < +0.0`.
            #[inline(always)]
            fn max(a: $t, b: $t) -> $t {
                if a > b {
                    a
                } else if b > a {
                    b
                } else if a.is_nan() || b.is_nan() {
                    a + b
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

float_ops!(f32, pow_f32, rem_f32, exp_f32, log_f32, tanh_f32, sin_f32, cos_f32);
float_ops!(f64, pow_f64, rem_f64, exp_f64, log_f64, tanh_f64, sin_f64, cos_f64);

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

impl Logic for bool {
    const ALL_ONES: bool = true;
    const NONE: bool = false;
    #[inline(always)]
    fn and(a: bool, b: bool) -> bool {
        a & b
    }
    #[inline(always)]
    fn or(a: bool, b: bool) -> bool {
        a | b
    }
    #[inline(always)]
    fn xor(a: bool, b: bool) -> bool {
        a ^ b
    }
    #[inline(always)]
    fn not(a: bool) -> bool {
        !a
    }
}

/// Comparisons. Rust's `PartialOrd` is exactly graphjit's rule: IEEE quiet comparisons for
/// floats (NaN compares false except with `ne`, `-0.0 == +0.0`), `false < true` for `bool`.
#[inline(always)]
pub fn cmp_eq<T: PartialOrd>(a: T, b: T) -> bool {
    a == b
}
#[inline(always)]
pub fn cmp_ne<T: PartialOrd>(a: T, b: T) -> bool {
    a != b
}
#[inline(always)]
pub fn cmp_lt<T: PartialOrd>(a: T, b: T) -> bool {
    a < b
}
#[inline(always)]
pub fn cmp_le<T: PartialOrd>(a: T, b: T) -> bool {
    a <= b
}
#[inline(always)]
pub fn cmp_gt<T: PartialOrd>(a: T, b: T) -> bool {
    a > b
}
#[inline(always)]
pub fn cmp_ge<T: PartialOrd>(a: T, b: T) -> bool {
    a >= b
}

/// Conversion to another dtype: Rust's `as` between numbers (int to int keeps the low bits,
/// sign- or zero-extending when it widens; float to int truncates toward zero, saturates to
/// the target's range and sends NaN to 0, so negatives become 0 for unsigned; to float rounds
/// to nearest even), `x != 0` to `bool` (so NaN is true), and 0 or 1 from `bool`. To `f16` and
/// `bf16` the value is rounded once, to nearest even (overflow gives ±inf, NaN stays NaN);
/// from them it is first widened to `f32`, which is exact.
pub trait CastTo<U> {
    fn cast(self) -> U;
}

macro_rules! cast_num {
    ($($s:ty),* => $($d:ty),*) => { cast_num!(@outer [$($s),*] [$($d),*]); };
    (@outer [$($s:ty),*] $ds:tt) => { $( cast_num!(@inner $s $ds); )* };
    (@inner $s:ty [$($d:ty),*]) => {
        $(
            impl CastTo<$d> for $s {
                #[inline(always)]
                fn cast(self) -> $d {
                    self as $d
                }
            }
        )*
    };
}
cast_num!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64 => i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// An `f32` from which one rounding to `f16`/`bf16` gives the correctly rounded result: the
/// value itself when `f32` holds it, else its truncation with the last bit set ("round to
/// odd"). With at least two more bits than the 16-bit type, the odd last bit stands in for
/// everything below it, so converting an `f64` or a wide integer never rounds twice.
trait ToOddF32 {
    fn to_odd_f32(self) -> f32;
}

/// An integer of magnitude `m`: at most 24 significant bits are exact in `f32`; beyond that
/// the bits shifted out are folded into the last kept one.
fn int_to_odd_f32(negative: bool, m: u64) -> f32 {
    let width = 64 - m.leading_zeros();
    let r = if width <= 24 {
        m as f32
    } else {
        let s = width - 24;
        let t = (m >> s) | u64::from(m & ((1u64 << s) - 1) != 0);
        // Exact: `t` has 24 bits and the scale is a power of two far inside f32's range.
        t as f32 * (1u64 << s) as f32
    };
    if negative {
        -r
    } else {
        r
    }
}

macro_rules! odd_signed {
    ($($t:ty),*) => {
        $(impl ToOddF32 for $t {
            #[inline]
            fn to_odd_f32(self) -> f32 {
                int_to_odd_f32(self < 0, self.unsigned_abs() as u64)
            }
        })*
    };
}
odd_signed!(i8, i16, i32, i64);

macro_rules! odd_unsigned {
    ($($t:ty),*) => {
        $(impl ToOddF32 for $t {
            #[inline]
            fn to_odd_f32(self) -> f32 {
                int_to_odd_f32(false, self as u64)
            }
        })*
    };
}
odd_unsigned!(u8, u16, u32, u64);

impl ToOddF32 for f32 {
    #[inline]
    fn to_odd_f32(self) -> f32 {
        self
    }
}

impl ToOddF32 for f64 {
    #[inline]
    fn to_odd_f32(self) -> f32 {
        let y = self as f32;
        if self.is_nan() || f64::from(y) == self {
            return y;
        }
        // `y` is rounded: step it back toward zero when it went away from zero (an infinity
        // steps back to MAX), then mark it inexact with an odd last bit.
        let mut bits = y.to_bits();
        if f64::from(y).abs() > self.abs() {
            bits -= 1;
        }
        f32::from_bits(bits | 1)
    }
}

macro_rules! cast_half {
    ($($s:ty),*) => {
        $(
            impl CastTo<half::f16> for $s {
                #[inline(always)]
                fn cast(self) -> half::f16 {
                    HalfFloat::narrow(self.to_odd_f32())
                }
            }
            impl CastTo<half::bf16> for $s {
                #[inline(always)]
                fn cast(self) -> half::bf16 {
                    HalfFloat::narrow(self.to_odd_f32())
                }
            }
            impl CastTo<$s> for half::f16 {
                #[inline(always)]
                fn cast(self) -> $s {
                    self.widen() as $s
                }
            }
            impl CastTo<$s> for half::bf16 {
                #[inline(always)]
                fn cast(self) -> $s {
                    self.widen() as $s
                }
            }
        )*
    };
}
cast_half!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

macro_rules! cast_half_half {
    ($($s:ty => $d:ty),*) => {
        $(impl CastTo<$d> for $s {
            #[inline(always)]
            fn cast(self) -> $d {
                HalfFloat::narrow(self.widen())
            }
        })*
    };
}
cast_half_half!(half::f16 => half::f16, half::f16 => half::bf16, half::bf16 => half::f16, half::bf16 => half::bf16);

macro_rules! cast_bool {
    ($($t:ty: $zero:expr, $one:expr;)*) => {
        $(
            impl CastTo<bool> for $t {
                #[inline(always)]
                #[allow(clippy::float_cmp)]
                fn cast(self) -> bool {
                    self != $zero
                }
            }
            impl CastTo<$t> for bool {
                #[inline(always)]
                fn cast(self) -> $t {
                    if self { $one } else { $zero }
                }
            }
        )*
    };
}
cast_bool! {
    i8: 0, 1;
    i16: 0, 1;
    i32: 0, 1;
    i64: 0, 1;
    u8: 0, 1;
    u16: 0, 1;
    u32: 0, 1;
    u64: 0, 1;
    half::f16: half::f16::ZERO, half::f16::ONE;
    half::bf16: half::bf16::ZERO, half::bf16::ONE;
    f32: 0.0, 1.0;
    f64: 0.0, 1.0;
}

impl CastTo<bool> for bool {
    #[inline(always)]
    fn cast(self) -> bool {
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Dispatch: from an op and a dtype to the typed function, handed to a visitor.
// ---------------------------------------------------------------------------------------------

/// Receives the function of one unary op on `T`, as a zero-sized function item.
#[doc(hidden)]
pub trait UnaryVisitor<T> {
    type Out;
    fn visit<F: Fn(T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> Self::Out;
}

/// Receives the function of one binary op (or reduce combiner) on `T`.
#[doc(hidden)]
pub trait BinaryVisitor<T> {
    type Out;
    fn visit<F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> Self::Out;
}

/// Receives the function of one comparison on `T`.
#[doc(hidden)]
pub trait CompareVisitor<T> {
    type Out;
    fn visit<F: Fn(T, T) -> bool + Copy + Send + Sync + 'static>(self, f: F) -> Self::Out;
}

/// Receives an element type chosen at run time from a [`DType`].
#[doc(hidden)]
pub trait DTypeVisitor {
    type Out;
    fn visit<T: Elem>(self) -> Self::Out;
}

/// Receives a source and a destination element type for a conversion.
#[doc(hidden)]
pub trait ConvertVisitor {
    type Out;
    fn visit<S: Elem + CastTo<D>, D: Elem>(self) -> Self::Out;
}

macro_rules! define_elem {
    (; $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        /// An element type with its op tables: which ops it accepts and their typed functions.
        /// It converts to every dtype ([`CastTo`] for each row of the dtype table).
        pub trait Elem: Element + PartialOrd $(+ CastTo<$rt>)* {
            define_elem!(@methods);
        }
    };
    (@methods) => {
    /// The element's bits in a `u64` register (zero-extended; `bool` is 0 or 1), used by the
    /// interpreter's scalar registers.
    fn to_reg(self) -> u64;
    /// Reads a value written by [`Elem::to_reg`].
    fn from_reg(r: u64) -> Self;
    /// Hands the function of `op` on this dtype to `v`; `None` when `op` is not defined on it.
    fn unary<V: UnaryVisitor<Self>>(op: UnaryOp, v: V) -> Option<V::Out>;
    /// Hands the function of `op` on this dtype to `v`; `None` when `op` is not defined on it.
    fn binary<V: BinaryVisitor<Self>>(op: BinaryOp, v: V) -> Option<V::Out>;
    /// Hands the combining function of a reduction to `v`; `None` when not defined.
    fn reduce<V: BinaryVisitor<Self>>(op: ReduceOp, v: V) -> Option<V::Out>;
    /// The identity a reduction's accumulators start from; `None` when not defined.
    fn reduce_identity(op: ReduceOp) -> Option<Self>;
    /// The matrix product of row-major `a` (`[m,k]`) and `b` (`[k,n]`) in this dtype's
    /// documented order (see [`crate::ops::kernels`]); `None` on `bool` or when a length does
    /// not fit the shape.
    fn dot(a: &[Self], b: &[Self], m: usize, k: usize, n: usize) -> Option<Vec<Self>>;
    };
}

crate::for_each_dtype!(define_elem!());

fn arith_unary<T: Arith, V: UnaryVisitor<T>>(op: UnaryOp, v: V) -> Option<V::Out> {
    match op {
        UnaryOp::Neg => Some(v.visit(T::neg)),
        UnaryOp::Abs => Some(v.visit(T::abs)),
        _ => None,
    }
}

fn float_unary<T: FloatOps, V: UnaryVisitor<T>>(op: UnaryOp, v: V) -> Option<V::Out> {
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

fn arith_binary<T: Arith, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        BinaryOp::Add => v.visit(T::add),
        BinaryOp::Sub => v.visit(T::sub),
        BinaryOp::Mul => v.visit(T::mul),
        BinaryOp::Div => v.visit(T::div),
        BinaryOp::Rem => v.visit(T::rem),
        BinaryOp::Min => v.visit(T::min),
        BinaryOp::Max => v.visit(T::max),
        _ => return None,
    })
}

fn logic_binary<T: Logic, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        BinaryOp::And => v.visit(T::and),
        BinaryOp::Or => v.visit(T::or),
        BinaryOp::Xor => v.visit(T::xor),
        _ => return None,
    })
}

fn int_binary<T: Arith + Logic + Shift, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    match op {
        BinaryOp::Shl => Some(v.visit(T::shl)),
        BinaryOp::ShrLogical => Some(v.visit(T::shr_logical)),
        BinaryOp::ShrArith => Some(v.visit(T::shr_arith)),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => logic_binary(op, v),
        _ => arith_binary(op, v),
    }
}

fn float_binary<T: FloatOps, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    match op {
        BinaryOp::Pow => Some(v.visit(T::pow)),
        BinaryOp::Atan2 => crate::ops::math::float_binary(op, v),
        _ => arith_binary(op, v),
    }
}

fn numeric_reduce<T: Arith, V: BinaryVisitor<T>>(op: ReduceOp, v: V) -> Option<V::Out> {
    Some(match op {
        ReduceOp::Sum => v.visit(T::add),
        ReduceOp::Prod => v.visit(T::mul),
        ReduceOp::Min => v.visit(T::min),
        ReduceOp::Max => v.visit(T::max),
        ReduceOp::And | ReduceOp::Or => return None,
    })
}

fn numeric_identity<T: Arith>(op: ReduceOp) -> Option<T> {
    Some(match op {
        ReduceOp::Sum => T::ZERO,
        ReduceOp::Prod => T::ONE,
        ReduceOp::Min => T::MIN_IDENTITY,
        ReduceOp::Max => T::MAX_IDENTITY,
        ReduceOp::And | ReduceOp::Or => return None,
    })
}

fn logic_reduce<T: Logic, V: BinaryVisitor<T>>(op: ReduceOp, v: V) -> Option<V::Out> {
    match op {
        ReduceOp::And => Some(v.visit(T::and)),
        ReduceOp::Or => Some(v.visit(T::or)),
        _ => None,
    }
}

fn logic_identity<T: Logic>(op: ReduceOp) -> Option<T> {
    match op {
        ReduceOp::And => Some(T::ALL_ONES),
        ReduceOp::Or => Some(T::NONE),
        _ => None,
    }
}

impl Elem for bool {
    #[inline(always)]
    fn to_reg(self) -> u64 {
        self as u64
    }
    #[inline(always)]
    fn from_reg(r: u64) -> bool {
        r != 0
    }
    fn unary<V: UnaryVisitor<bool>>(op: UnaryOp, v: V) -> Option<V::Out> {
        match op {
            UnaryOp::Not => Some(v.visit(<bool as Logic>::not)),
            _ => None,
        }
    }
    fn binary<V: BinaryVisitor<bool>>(op: BinaryOp, v: V) -> Option<V::Out> {
        logic_binary(op, v)
    }
    fn reduce<V: BinaryVisitor<bool>>(op: ReduceOp, v: V) -> Option<V::Out> {
        logic_reduce(op, v)
    }
    fn reduce_identity(op: ReduceOp) -> Option<bool> {
        logic_identity(op)
    }
    fn dot(_: &[bool], _: &[bool], _: usize, _: usize, _: usize) -> Option<Vec<bool>> {
        None
    }
}

macro_rules! int_elem {
    ($t:ty, $u:ty) => {
        impl Elem for $t {
            #[inline(always)]
            fn to_reg(self) -> u64 {
                self as $u as u64
            }
            #[inline(always)]
            fn from_reg(r: u64) -> $t {
                r as $u as $t
            }
            fn unary<V: UnaryVisitor<$t>>(op: UnaryOp, v: V) -> Option<V::Out> {
                match op {
                    UnaryOp::Not => Some(v.visit(<$t as Logic>::not)),
                    UnaryOp::Sign | UnaryOp::Popcnt | UnaryOp::Clz => {
                        crate::ops::math::int_unary(op, v)
                    }
                    _ => arith_unary(op, v),
                }
            }
            fn binary<V: BinaryVisitor<$t>>(op: BinaryOp, v: V) -> Option<V::Out> {
                int_binary(op, v)
            }
            fn reduce<V: BinaryVisitor<$t>>(op: ReduceOp, v: V) -> Option<V::Out> {
                match op {
                    ReduceOp::And | ReduceOp::Or => logic_reduce(op, v),
                    _ => numeric_reduce(op, v),
                }
            }
            fn reduce_identity(op: ReduceOp) -> Option<$t> {
                match op {
                    ReduceOp::And | ReduceOp::Or => logic_identity(op),
                    _ => numeric_identity(op),
                }
            }
            fn dot(a: &[$t], b: &[$t], m: usize, k: usize, n: usize) -> Option<Vec<$t>> {
                crate::ops::kernels::dot_sequential(a, b, m, k, n)
            }
        }
    };
}
int_elem!(i8, u8);
int_elem!(i16, u16);
int_elem!(i32, u32);
int_elem!(i64, u64);
int_elem!(u8, u8);
int_elem!(u16, u16);
int_elem!(u32, u32);
int_elem!(u64, u64);

macro_rules! float_elem {
    ($t:ty, $u:ty, $dot:path) => {
        impl Elem for $t {
            #[inline(always)]
            fn to_reg(self) -> u64 {
                self.to_bits() as u64
            }
            #[inline(always)]
            fn from_reg(r: u64) -> $t {
                <$t>::from_bits(r as $u)
            }
            fn unary<V: UnaryVisitor<$t>>(op: UnaryOp, v: V) -> Option<V::Out> {
                float_unary(op, v)
            }
            fn binary<V: BinaryVisitor<$t>>(op: BinaryOp, v: V) -> Option<V::Out> {
                float_binary(op, v)
            }
            fn reduce<V: BinaryVisitor<$t>>(op: ReduceOp, v: V) -> Option<V::Out> {
                numeric_reduce(op, v)
            }
            fn reduce_identity(op: ReduceOp) -> Option<$t> {
                numeric_identity(op)
            }
            fn dot(a: &[$t], b: &[$t], m: usize, k: usize, n: usize) -> Option<Vec<$t>> {
                $dot(a, b, m, k, n)
            }
        }
    };
}
float_elem!(f32, u32, crate::ops::kernels::gemm_f32);
float_elem!(f64, u64, crate::ops::kernels::gemm_f64);
float_elem!(half::f16, u16, crate::ops::kernels::dot_half);
float_elem!(half::bf16, u16, crate::ops::kernels::dot_half);

/// A scalar as the bits of a `u64` register (see [`Elem::to_reg`]): how the interpreter holds
/// rank-0 values and how compiled code writes integer immediates.
pub fn scalar_to_reg(x: Scalar) -> u64 {
    crate::match_scalar!(x, |v| v.to_reg())
}

/// Reads a register written by [`scalar_to_reg`] as a scalar of `dtype`.
pub fn reg_to_scalar(r: u64, dtype: DType) -> Scalar {
    crate::dispatch_dtype!(dtype, |T| Element::into_scalar(<T as Elem>::from_reg(r)))
}

/// Hands the function of comparison `op` on `T` to `v` (every dtype accepts every comparison).
pub fn compare_with<T: Elem, V: CompareVisitor<T>>(op: CmpOp, v: V) -> V::Out {
    match op {
        CmpOp::Eq => v.visit(cmp_eq::<T>),
        CmpOp::Ne => v.visit(cmp_ne::<T>),
        CmpOp::Lt => v.visit(cmp_lt::<T>),
        CmpOp::Le => v.visit(cmp_le::<T>),
        CmpOp::Gt => v.visit(cmp_gt::<T>),
        CmpOp::Ge => v.visit(cmp_ge::<T>),
        CmpOp::TotalEq => v.visit(super::compare::total_eq::<T>),
        CmpOp::TotalNe => v.visit(super::compare::total_ne::<T>),
        CmpOp::TotalLt => v.visit(super::compare::total_lt::<T>),
        CmpOp::TotalLe => v.visit(super::compare::total_le::<T>),
        CmpOp::TotalGt => v.visit(super::compare::total_gt::<T>),
        CmpOp::TotalGe => v.visit(super::compare::total_ge::<T>),
    }
}

/// Calls `v` with the Rust element type of `dtype`.
pub fn with_dtype<V: DTypeVisitor>(dtype: DType, v: V) -> V::Out {
    crate::dispatch_dtype!(dtype, |T| v.visit::<T>())
}

/// Calls `v` with the Rust element types of a conversion from `from` to `to`.
pub fn with_convert<V: ConvertVisitor>(from: DType, to: DType, v: V) -> V::Out {
    struct Outer<V> {
        to: DType,
        v: V,
    }
    impl<V: ConvertVisitor> DTypeVisitor for Outer<V> {
        type Out = V::Out;
        fn visit<S: Elem>(self) -> V::Out {
            let v = self.v;
            crate::dispatch_dtype!(self.to, |D| v.visit::<S, D>())
        }
    }
    with_dtype(from, Outer { to, v })
}

// ---------------------------------------------------------------------------------------------
// Reference entry points on `Scalar`s: slow but simple, for tests and constant folding.
// ---------------------------------------------------------------------------------------------

struct Apply1<T>(T);
impl<T> UnaryVisitor<T> for Apply1<T> {
    type Out = T;
    fn visit<F: Fn(T) -> T>(self, f: F) -> T {
        f(self.0)
    }
}

struct Apply2<T>(T, T);
impl<T> BinaryVisitor<T> for Apply2<T> {
    type Out = T;
    fn visit<F: Fn(T, T) -> T>(self, f: F) -> T {
        f(self.0, self.1)
    }
}
impl<T> CompareVisitor<T> for Apply2<T> {
    type Out = bool;
    fn visit<F: Fn(T, T) -> bool>(self, f: F) -> bool {
        f(self.0, self.1)
    }
}

fn unary_t<T: Elem>(op: UnaryOp, x: T) -> Option<Scalar> {
    T::unary(op, Apply1(x)).map(Element::into_scalar)
}

fn binary_t<T: Elem>(op: BinaryOp, a: T, b: T) -> Option<Scalar> {
    T::binary(op, Apply2(a, b)).map(Element::into_scalar)
}

fn reduce_t<T: Elem>(op: ReduceOp, a: T, b: T) -> Option<Scalar> {
    T::reduce(op, Apply2(a, b)).map(Element::into_scalar)
}

/// The unary op on one element; `None` when the op is not defined on its dtype.
pub fn eval_unary(op: UnaryOp, x: Scalar) -> Option<Scalar> {
    crate::match_scalar!(x, |v| unary_t(op, v))
}

/// The binary op on two elements; `None` when their dtypes differ or the op is not defined
/// on their dtype.
pub fn eval_binary(op: BinaryOp, a: Scalar, b: Scalar) -> Option<Scalar> {
    crate::match_scalar_pair!(a, b, |x, y| binary_t(op, x, y))
}

/// The comparison of two elements as a `Scalar::Bool`; `None` when their dtypes differ.
pub fn eval_compare(op: CmpOp, a: Scalar, b: Scalar) -> Option<Scalar> {
    crate::match_scalar_pair!(a, b, |x, y| Some(Scalar::Bool(compare_with(
        op,
        Apply2(x, y)
    ))))
}

/// `select(p, a, b)` on elements: `a` when `p` is true; `None` unless `p` is a bool and `a`
/// and `b` have one dtype.
pub fn eval_select(p: Scalar, a: Scalar, b: Scalar) -> Option<Scalar> {
    match p {
        Scalar::Bool(p) if a.dtype() == b.dtype() => Some(if p { a } else { b }),
        _ => None,
    }
}

/// Converts an element to `to` (rules in [`CastTo`]).
pub fn convert(x: Scalar, to: DType) -> Scalar {
    fn cast_to<S: Elem>(x: S, to: DType) -> Scalar {
        crate::dispatch_dtype!(to, |D| Element::into_scalar(CastTo::<D>::cast(x)))
    }
    crate::match_scalar!(x, |v| cast_to(v, to))
}

/// The value every accumulator of a reduction starts from: 0 (`+0.0`) for `sum`, 1 for
/// `prod`, the largest value (`+inf`) for `min`, the smallest (`-inf`) for `max`, all ones
/// (`true`) for `and`, 0 (`false`) for `or`. `None` when the reduction is not defined on
/// `dtype`.
pub fn reduce_identity(op: ReduceOp, dtype: DType) -> Option<Scalar> {
    struct Id(ReduceOp);
    impl DTypeVisitor for Id {
        type Out = Option<Scalar>;
        fn visit<T: Elem>(self) -> Option<Scalar> {
            T::reduce_identity(self.0).map(Element::into_scalar)
        }
    }
    with_dtype(dtype, Id(op))
}

/// The combining function of a reduction on two elements; `None` when their dtypes differ
/// or the reduction is not defined on their dtype.
pub fn reduce_combine(op: ReduceOp, a: Scalar, b: Scalar) -> Option<Scalar> {
    crate::match_scalar_pair!(a, b, |x, y| reduce_t(op, x, y))
}
