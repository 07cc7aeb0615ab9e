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
//!
//! The definitions are split by kind: the integer dtypes in `int`; the float ones (with
//! `f16`/`bf16`), the [`FloatOps`] trait and the tables of float ops in `float`, so that a new
//! float op is written in that one file; conversions in `cast`; the per-dtype op tables of
//! [`Elem`] that hand the functions to the kernels in `dispatch`. This file holds the traits
//! common to several kinds, the comparisons, and the reference entry points on [`Scalar`]s.

use crate::ops::{BinaryOp, CmpOp, ReduceOp, UnaryOp};
use crate::tensor::{Element, Scalar};
use crate::types::DType;

#[path = "vmath.rs"]
pub mod vmath;

/// The NaN `min` and `max` (and so `clamp` and the `min`/`max` reductions) return when an
/// operand is NaN: the positive quiet NaN without payload. IEEE 754-2019's `minimum` and
/// `maximum` leave the NaN open, and machine sequences differ in its sign, which `TOTALORDER`
/// comparisons and bitcasts observe; one defined NaN keeps both executors bit-identical.
pub const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
/// The `f64` form of [`CANONICAL_NAN_F32`].
pub const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;

mod cast;
mod dispatch;
mod float;
mod int;

pub use cast::CastTo;
pub use dispatch::{
    compare_with, reg_to_scalar, scalar_to_reg, with_convert, with_dtype, BinaryVisitor,
    CompareVisitor, ConvertVisitor, DTypeVisitor, Elem, UnaryVisitor,
};
pub use float::{FloatOps, HalfFloat};

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
// The typed definitions. Each op is a small function of one dtype; the tables (in `dispatch` and
// `float`) hand these functions (zero-sized function items) to visitors, so that kernels generic over the
// function type are monomorphized per op and dtype, with no dispatch in their loops.
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
