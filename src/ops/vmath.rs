//! graphjit's own `exp` and `tanh` for `f32`: polynomial code written once, generic over the
//! machine that runs it, so the interpreter (plain Rust on `f32`) and the JIT (Cranelift
//! instructions on `f32` or `f32x4`) perform the very same IEEE operations in the same order
//! and give the same bits.
//!
//! The algorithms use only operations every backend has exactly: `+ - * /` (never fused),
//! IEEE `minimum`/`maximum` (NaN propagates), `abs`, a comparison with a select, and 32-bit
//! integer arithmetic on the bit patterns. Rounding to an integer uses the "magic number"
//! addition of `1.5 * 2^23`, so no conversion instruction (whose edge cases differ between
//! machines) is involved.
//!
//! Accuracy (measured by `tests/math_vmath.rs` against `f64` references): `exp` within 1 ulp,
//! `tanh` within 2 ulp, over the whole `f32` range, subnormal results included.

/// The operations the functions of this module are written in. `F` is a float (or a vector of
/// floats), `I` the 32-bit integers of the same shape, `M` the result of a comparison.
pub trait F32Machine {
    type F: Copy;
    type I: Copy;
    type M: Copy;
    fn splat(&mut self, c: f32) -> Self::F;
    fn isplat(&mut self, c: i32) -> Self::I;
    fn add(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn sub(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn mul(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn div(&mut self, a: Self::F, b: Self::F) -> Self::F;
    /// IEEE 754-2019 `minimum`: NaN if either operand is NaN.
    fn min(&mut self, a: Self::F, b: Self::F) -> Self::F;
    /// IEEE 754-2019 `maximum`: NaN if either operand is NaN.
    fn max(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn abs(&mut self, a: Self::F) -> Self::F;
    fn bits_of(&mut self, a: Self::F) -> Self::I;
    fn float_of_bits(&mut self, a: Self::I) -> Self::F;
    /// Wrapping integer addition.
    fn iadd(&mut self, a: Self::I, b: Self::I) -> Self::I;
    /// Wrapping integer subtraction.
    fn isub(&mut self, a: Self::I, b: Self::I) -> Self::I;
    fn band(&mut self, a: Self::I, b: Self::I) -> Self::I;
    fn bor(&mut self, a: Self::I, b: Self::I) -> Self::I;
    fn shl(&mut self, a: Self::I, s: u8) -> Self::I;
    /// Arithmetic shift right.
    fn sshr(&mut self, a: Self::I, s: u8) -> Self::I;
    /// `a < b`, IEEE quiet (false when either is NaN).
    fn lt(&mut self, a: Self::F, b: Self::F) -> Self::M;
    /// `x` where `m` holds, else `y`.
    fn select(&mut self, m: Self::M, x: Self::F, y: Self::F) -> Self::F;
}

/// `log2(e)`, rounded to `f32`.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// `1.5 * 2^23`: adding it to a float of magnitude below `2^22` rounds that float to an
/// integer (ties to even), which then sits in the low mantissa bits.
const SHIFTER: f32 = 12_582_912.0;
/// `ln 2` in two parts (Cody-Waite): the high part has 9 significant bits, so `n * LN2_HI` is
/// exact for every `|n| <= 151` used here.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// The arguments are clamped to `[EXP_LO, EXP_HI]`: below, `exp` rounds to `+0.0`; above, it
/// overflows to `+inf`; inside, `n` stays within `[-150, 129]`, so `2^n` splits into two
/// normal powers of two.
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 89.0;
/// Minimax coefficients of `(e^r - 1 - r) / r^2` on `|r| <= ln(2)/2` (Cephes `expf`).
const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_6e-1,
    5e-1,
];
/// Below this `|x|`, `tanh` uses its odd polynomial; from it on, `1 - 2 / (e^(2|x|) + 1)`.
const TANH_SMALL: f32 = 0.625;
/// Coefficients of `(tanh(x) - x) / x^3` in `x^2` on `|x| < 0.625` (Cephes `tanhf`).
const TANH_P: [f32; 5] = [
    -5.704_988_7e-3,
    2.063_908_8e-2,
    -5.373_971_5e-2,
    1.333_144_2e-1,
    -3.333_328e-1,
];

/// `e^x`. NaN gives NaN, `-inf` and anything below about `-103.97` give `+0.0`, `+inf` and
/// anything above about `88.72` give `+inf`; subnormal results are rounded, not flushed.
pub fn exp<M: F32Machine>(m: &mut M, x: M::F) -> M::F {
    let lo = m.splat(EXP_LO);
    let hi = m.splat(EXP_HI);
    let x = m.max(x, lo);
    let x = m.min(x, hi);
    // n = round(x / ln 2): the integer lands in the low bits of t.
    let log2e = m.splat(LOG2E);
    let shifter = m.splat(SHIFTER);
    let t = m.mul(x, log2e);
    let t = m.add(t, shifter);
    let nf = m.sub(t, shifter);
    let tb = m.bits_of(t);
    let sb = m.isplat(SHIFTER.to_bits() as i32);
    let n = m.isub(tb, sb);
    // r = x - n ln 2, in two steps so that it stays accurate.
    let c1 = m.splat(LN2_HI);
    let c2 = m.splat(LN2_LO);
    let p1 = m.mul(nf, c1);
    let r = m.sub(x, p1);
    let p2 = m.mul(nf, c2);
    let r = m.sub(r, p2);
    // e^r = 1 + r + r^2 P(r).
    let z = m.mul(r, r);
    let mut p = m.splat(EXP_P[0]);
    for &c in &EXP_P[1..] {
        let pr = m.mul(p, r);
        let cc = m.splat(c);
        p = m.add(pr, cc);
    }
    let pz = m.mul(p, z);
    let y = m.add(pz, r);
    let one = m.splat(1.0);
    let y = m.add(y, one);
    // y * 2^n as (y * 2^n1) * 2^n2 with n1 = n >> 1, n2 = n - n1: both factors are normal
    // powers of two, the first product is exact, and the second rounds once (to a subnormal,
    // to zero or to infinity where the true result does).
    let n1 = m.sshr(n, 1);
    let n2 = m.isub(n, n1);
    let bias = m.isplat(127);
    let e1 = m.iadd(n1, bias);
    let e1 = m.shl(e1, 23);
    let s1 = m.float_of_bits(e1);
    let e2 = m.iadd(n2, bias);
    let e2 = m.shl(e2, 23);
    let s2 = m.float_of_bits(e2);
    let y = m.mul(y, s1);
    m.mul(y, s2)
}

/// `tanh(x)`: odd, `tanh(±0) = ±0`, `tanh(±inf) = ±1`, NaN gives NaN.
pub fn tanh<M: F32Machine>(m: &mut M, x: M::F) -> M::F {
    let a = m.abs(x);
    // Small |x|: a + a^3 P(a^2).
    let z = m.mul(a, a);
    let mut p = m.splat(TANH_P[0]);
    for &c in &TANH_P[1..] {
        let pz = m.mul(p, z);
        let cc = m.splat(c);
        p = m.add(pz, cc);
    }
    let pz = m.mul(p, z);
    let pza = m.mul(pz, a);
    let small = m.add(pza, a);
    // Large |x|: 1 - 2 / (e^(2a) + 1), which is 1 once e^(2a) overflows.
    let a2 = m.add(a, a);
    let e = exp(m, a2);
    let one = m.splat(1.0);
    let two = m.splat(2.0);
    let d = m.add(e, one);
    let q = m.div(two, d);
    let large = m.sub(one, q);
    let limit = m.splat(TANH_SMALL);
    let is_small = m.lt(a, limit);
    let t = m.select(is_small, small, large);
    // The sign of x on the (non-negative or NaN) result.
    let tb = m.bits_of(t);
    let xb = m.bits_of(x);
    let sign = m.isplat(i32::MIN);
    let s = m.band(xb, sign);
    let r = m.bor(tb, s);
    m.float_of_bits(r)
}

/// Plain Rust on one `f32`: what the interpreter and constant folding run.
pub struct Native;

impl F32Machine for Native {
    type F = f32;
    type I = i32;
    type M = bool;
    #[inline(always)]
    fn splat(&mut self, c: f32) -> f32 {
        c
    }
    #[inline(always)]
    fn isplat(&mut self, c: i32) -> i32 {
        c
    }
    #[inline(always)]
    fn add(&mut self, a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    fn sub(&mut self, a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    fn mul(&mut self, a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    fn div(&mut self, a: f32, b: f32) -> f32 {
        a / b
    }
    #[inline(always)]
    fn min(&mut self, a: f32, b: f32) -> f32 {
        <f32 as crate::ops::scalar::Arith>::min(a, b)
    }
    #[inline(always)]
    fn max(&mut self, a: f32, b: f32) -> f32 {
        <f32 as crate::ops::scalar::Arith>::max(a, b)
    }
    #[inline(always)]
    fn abs(&mut self, a: f32) -> f32 {
        a.abs()
    }
    #[inline(always)]
    fn bits_of(&mut self, a: f32) -> i32 {
        a.to_bits() as i32
    }
    #[inline(always)]
    fn float_of_bits(&mut self, a: i32) -> f32 {
        f32::from_bits(a as u32)
    }
    #[inline(always)]
    fn iadd(&mut self, a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn isub(&mut self, a: i32, b: i32) -> i32 {
        a.wrapping_sub(b)
    }
    #[inline(always)]
    fn band(&mut self, a: i32, b: i32) -> i32 {
        a & b
    }
    #[inline(always)]
    fn bor(&mut self, a: i32, b: i32) -> i32 {
        a | b
    }
    #[inline(always)]
    fn shl(&mut self, a: i32, s: u8) -> i32 {
        a.wrapping_shl(s as u32)
    }
    #[inline(always)]
    fn sshr(&mut self, a: i32, s: u8) -> i32 {
        a.wrapping_shr(s as u32)
    }
    #[inline(always)]
    fn lt(&mut self, a: f32, b: f32) -> bool {
        a < b
    }
    #[inline(always)]
    fn select(&mut self, m: bool, x: f32, y: f32) -> f32 {
        if m {
            x
        } else {
            y
        }
    }
}

/// `exp` on one `f32` (see [`exp`]).
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    exp(&mut Native, x)
}

/// `tanh` on one `f32` (see [`tanh`]).
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    tanh(&mut Native, x)
}
