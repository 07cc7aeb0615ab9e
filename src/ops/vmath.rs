//! graphjit's own `exp` and `tanh` (`f32`, `f64`): polynomial code written once, generic over
//! the machine that runs it, so the interpreter (plain Rust on one float) and the JIT
//! (Cranelift instructions on one float or a 128-bit vector) perform the very same IEEE
//! operations in the same order and give the same bits.
//!
//! The algorithms use only operations every backend has exactly: `+ - * /` (never fused),
//! `abs`, a quiet `<` comparison with a select, and integer arithmetic on the bit patterns. Rounding to an integer uses the "magic number"
//! addition of `1.5 * 2^23`, so no conversion instruction (whose edge cases differ between
//! machines) is involved.
//!
//! Accuracy (measured by `tests/math_vmath.rs` over the whole range, subnormal results
//! included): `f32` `exp` within 0.96 ulp and `tanh` within 1.25 ulp of `f64` references;
//! `f64` `exp` within 1 ulp and `tanh` within 2 ulp of the standard library's `f64` functions.

/// The operations the functions of this module are written in. `F` is a float (or a vector of
/// floats) of one width, `I` the integers of that width and shape, `M` the result of a
/// comparison. The `f32` functions run on 32-bit machines, the `f64` ones on 64-bit machines.
pub trait Machine {
    type F: Copy;
    type I: Copy;
    type M: Copy;
    /// A float constant, rounded to the lane type (exact for every constant used here, which
    /// are written in that type).
    fn splat(&mut self, c: f64) -> Self::F;
    /// An integer constant, wrapped to the lane width.
    fn isplat(&mut self, c: i64) -> Self::I;
    fn add(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn sub(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn mul(&mut self, a: Self::F, b: Self::F) -> Self::F;
    fn div(&mut self, a: Self::F, b: Self::F) -> Self::F;
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
/// From this `|x|` on, `1 - 2 / (e^(2|x|) + 1)` rounds to exactly `1.0` in `f32`: there
/// `2 / (e^19 + 1) < 1.2e-8`, below half the spacing of the floats under 1 (`2^-25`).
const TANH_ONE: f32 = 9.5;
/// Coefficients of `(tanh(x) - x) / x^3` in `x^2` on `|x| < 0.625` (Cephes `tanhf`).
const TANH_P: [f32; 5] = [
    -5.704_988_7e-3,
    2.063_908_8e-2,
    -5.373_971_5e-2,
    1.333_144_2e-1,
    -3.333_328e-1,
];

/// `e^x` on `f32` lanes. NaN gives NaN, `-inf` and anything below about `-103.97` give `+0.0`, `+inf` and
/// anything above about `88.72` give `+inf`; subnormal results are rounded, not flushed.
pub fn exp32<M: Machine>(m: &mut M, x: M::F) -> M::F {
    let lo = m.splat(EXP_LO as f64);
    let hi = m.splat(EXP_HI as f64);
    // A comparison and a select per bound (not IEEE max/min, which cost several instructions
    // on x86-64); NaN compares false and stays NaN.
    let below = m.lt(x, lo);
    let x = m.select(below, lo, x);
    let above = m.lt(hi, x);
    let x = m.select(above, hi, x);
    let (y, n) = exp32_reduced(m, x);
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

/// The core of [`exp32`] on an argument already within `[EXP_LO, EXP_HI]` (or NaN):
/// `(e^r, n)` with `e^x = e^r * 2^n`, `n` an integer in the lanes' integers and `e^r` within
/// `[0.7, 1.42]`. The scaling by `2^n` is left to the caller, which may know that `n` is small
/// enough for one multiplication.
fn exp32_reduced<M: Machine>(m: &mut M, x: M::F) -> (M::F, M::I) {
    // n = round(x / ln 2): the integer lands in the low bits of t.
    let log2e = m.splat(LOG2E as f64);
    let shifter = m.splat(SHIFTER as f64);
    let t = m.mul(x, log2e);
    let t = m.add(t, shifter);
    let nf = m.sub(t, shifter);
    let tb = m.bits_of(t);
    let sb = m.isplat(SHIFTER.to_bits() as i64);
    let n = m.isub(tb, sb);
    // r = x - n ln 2, in two steps so that it stays accurate.
    let c1 = m.splat(LN2_HI as f64);
    let c2 = m.splat(LN2_LO as f64);
    let p1 = m.mul(nf, c1);
    let r = m.sub(x, p1);
    let p2 = m.mul(nf, c2);
    let r = m.sub(r, p2);
    // e^r = 1 + r + r^2 P(r).
    let z = m.mul(r, r);
    let mut p = m.splat(EXP_P[0] as f64);
    for &c in &EXP_P[1..] {
        let pr = m.mul(p, r);
        let cc = m.splat(c as f64);
        p = m.add(pr, cc);
    }
    let pz = m.mul(p, z);
    let y = m.add(pz, r);
    let one = m.splat(1.0);
    (m.add(y, one), n)
}

/// `tanh(x)` on `f32` lanes: odd, `tanh(±0) = ±0`, `tanh(±inf) = ±1`, NaN gives NaN.
pub fn tanh32<M: Machine>(m: &mut M, x: M::F) -> M::F {
    let a = m.abs(x);
    // Small |x|: a + a^3 P(a^2).
    let z = m.mul(a, a);
    let mut p = m.splat(TANH_P[0] as f64);
    for &c in &TANH_P[1..] {
        let pz = m.mul(p, z);
        let cc = m.splat(c as f64);
        p = m.add(pz, cc);
    }
    let pz = m.mul(p, z);
    let pza = m.mul(pz, a);
    let small = m.add(pza, a);
    // Large |x|: 1 - 2 / (e^(2a) + 1). From `TANH_ONE` on that is exactly 1, so `a` is
    // clamped there (NaN compares false and stays NaN), which keeps `n <= 28` in `exp`: one
    // exact multiplication by `2^n` replaces `exp32`'s two and its lower clamp, with the
    // same bits.
    let top = m.splat(TANH_ONE as f64);
    let above = m.lt(top, a);
    let ac = m.select(above, top, a);
    let a2 = m.add(ac, ac);
    let (y, n) = exp32_reduced(m, a2);
    let bias = m.isplat(127);
    let en = m.iadd(n, bias);
    let en = m.shl(en, 23);
    let s = m.float_of_bits(en);
    let e = m.mul(y, s);
    let one = m.splat(1.0);
    let two = m.splat(2.0);
    let d = m.add(e, one);
    let q = m.div(two, d);
    let large = m.sub(one, q);
    let limit = m.splat(TANH_SMALL as f64);
    let is_small = m.lt(a, limit);
    let t = m.select(is_small, small, large);
    // The sign of x on the (non-negative or NaN) result.
    let tb = m.bits_of(t);
    let xb = m.bits_of(x);
    let sign = m.isplat(i32::MIN as i64);
    let s = m.band(xb, sign);
    let r = m.bor(tb, s);
    m.float_of_bits(r)
}

/// `1.5 * 2^52`, the `f64` rounding shifter.
const SHIFTER64: f64 = 6_755_399_441_055_744.0;
/// `ln 2` in two parts (fdlibm): the high part ends in 32 zero bits, so `n * LN2_HI64` is
/// exact for every `|n| <= 1077` used here.
const LN2_HI64: f64 = 6.931_471_803_691_238e-1;
const LN2_LO64: f64 = 1.908_214_929_270_587_7e-10;
/// The clamp of `f64` `exp`: below -746 it rounds to `+0.0`, above 710 it overflows; inside,
/// `n` stays within `[-1077, 1025]`.
const EXP64_LO: f64 = -746.0;
const EXP64_HI: f64 = 710.0;
/// Taylor coefficients `1/k!` for `k = 13 .. 2`, highest first: on `|r| <= 0.35` the
/// truncation error is below `2^-57` relative.
const EXP64_P: [f64; 12] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
];
/// Cephes `tanh` on `|x| < 0.625`: `x + x^3 P(x^2) / Q(x^2)`, `Q` monic.
const TANH64_P: [f64; 3] = [
    -9.643_991_794_250_523e-1,
    -9.928_772_310_019_185e1,
    -1.614_687_684_417_084_5e3,
];
const TANH64_Q: [f64; 3] = [
    1.128_116_784_916_329_3e2,
    2.235_488_390_601_004_5e3,
    4.844_063_053_251_255e3,
];

/// `e^x` on `f64` lanes: the algorithm of [`exp32`] with `f64` constants and a degree-13
/// polynomial. `2^n` is split as `2^n1 * 2^n2` with `n1` found by the same rounding trick
/// (no 64-bit arithmetic shift, which 128-bit SIMD lacks).
pub fn exp64<M: Machine>(m: &mut M, x: M::F) -> M::F {
    let lo = m.splat(EXP64_LO);
    let hi = m.splat(EXP64_HI);
    // A comparison and a select per bound (not IEEE max/min, which cost several instructions
    // on x86-64); NaN compares false and stays NaN.
    let below = m.lt(x, lo);
    let x = m.select(below, lo, x);
    let above = m.lt(hi, x);
    let x = m.select(above, hi, x);
    let log2e = m.splat(std::f64::consts::LOG2_E);
    let shifter = m.splat(SHIFTER64);
    let sb = m.isplat(SHIFTER64.to_bits() as i64);
    let t = m.mul(x, log2e);
    let t = m.add(t, shifter);
    let nf = m.sub(t, shifter);
    let tb = m.bits_of(t);
    let n = m.isub(tb, sb);
    let c1 = m.splat(LN2_HI64);
    let c2 = m.splat(LN2_LO64);
    let p1 = m.mul(nf, c1);
    let r = m.sub(x, p1);
    let p2 = m.mul(nf, c2);
    let r = m.sub(r, p2);
    let z = m.mul(r, r);
    let mut p = m.splat(EXP64_P[0]);
    for &c in &EXP64_P[1..] {
        let pr = m.mul(p, r);
        let cc = m.splat(c);
        p = m.add(pr, cc);
    }
    let pz = m.mul(p, z);
    let y = m.add(pz, r);
    let one = m.splat(1.0);
    let y = m.add(y, one);
    // n1 = round(n / 2) (halves tie to even), n2 = n - n1: both within [-539, 513], so both
    // powers of two are normal.
    let half = m.splat(0.5);
    let h = m.mul(nf, half);
    let t1 = m.add(h, shifter);
    let t1b = m.bits_of(t1);
    let n1 = m.isub(t1b, sb);
    let n2 = m.isub(n, n1);
    let bias = m.isplat(1023);
    let e1 = m.iadd(n1, bias);
    let e1 = m.shl(e1, 52);
    let s1 = m.float_of_bits(e1);
    let e2 = m.iadd(n2, bias);
    let e2 = m.shl(e2, 52);
    let s2 = m.float_of_bits(e2);
    let y = m.mul(y, s1);
    m.mul(y, s2)
}

/// `tanh(x)` on `f64` lanes, like [`tanh32`]: a rational function below `|x| = 0.625`,
/// `1 - 2 / (e^(2|x|) + 1)` from it on, then the sign of `x`.
pub fn tanh64<M: Machine>(m: &mut M, x: M::F) -> M::F {
    let a = m.abs(x);
    let z = m.mul(a, a);
    let mut p = m.splat(TANH64_P[0]);
    for &c in &TANH64_P[1..] {
        let pz = m.mul(p, z);
        let cc = m.splat(c);
        p = m.add(pz, cc);
    }
    let q0 = m.splat(TANH64_Q[0]);
    let mut q = m.add(z, q0);
    for &c in &TANH64_Q[1..] {
        let qz = m.mul(q, z);
        let cc = m.splat(c);
        q = m.add(qz, cc);
    }
    let az = m.mul(a, z);
    let azp = m.mul(az, p);
    let f = m.div(azp, q);
    let small = m.add(a, f);
    let a2 = m.add(a, a);
    let e = exp64(m, a2);
    let one = m.splat(1.0);
    let two = m.splat(2.0);
    let d = m.add(e, one);
    let qq = m.div(two, d);
    let large = m.sub(one, qq);
    let limit = m.splat(0.625);
    let is_small = m.lt(a, limit);
    let t = m.select(is_small, small, large);
    let tb = m.bits_of(t);
    let xb = m.bits_of(x);
    let sign = m.isplat(i64::MIN);
    let s = m.band(xb, sign);
    let r = m.bor(tb, s);
    m.float_of_bits(r)
}

/// Plain Rust on one float of a width, with the integers of that width: what the interpreter
/// and constant folding run.
macro_rules! native {
    ($name:ident, $f:ty, $i:ty, $u:ty) => {
        #[doc = concat!("Plain Rust on one `", stringify!($f), "`.")]
        pub struct $name;

        impl Machine for $name {
            type F = $f;
            type I = $i;
            type M = bool;
            #[inline(always)]
            fn splat(&mut self, c: f64) -> $f {
                c as $f
            }
            #[inline(always)]
            fn isplat(&mut self, c: i64) -> $i {
                c as $i
            }
            #[inline(always)]
            fn add(&mut self, a: $f, b: $f) -> $f {
                a + b
            }
            #[inline(always)]
            fn sub(&mut self, a: $f, b: $f) -> $f {
                a - b
            }
            #[inline(always)]
            fn mul(&mut self, a: $f, b: $f) -> $f {
                a * b
            }
            #[inline(always)]
            fn div(&mut self, a: $f, b: $f) -> $f {
                a / b
            }
            #[inline(always)]
            fn abs(&mut self, a: $f) -> $f {
                a.abs()
            }
            #[inline(always)]
            fn bits_of(&mut self, a: $f) -> $i {
                a.to_bits() as $i
            }
            #[inline(always)]
            fn float_of_bits(&mut self, a: $i) -> $f {
                <$f>::from_bits(a as $u)
            }
            #[inline(always)]
            fn iadd(&mut self, a: $i, b: $i) -> $i {
                a.wrapping_add(b)
            }
            #[inline(always)]
            fn isub(&mut self, a: $i, b: $i) -> $i {
                a.wrapping_sub(b)
            }
            #[inline(always)]
            fn band(&mut self, a: $i, b: $i) -> $i {
                a & b
            }
            #[inline(always)]
            fn bor(&mut self, a: $i, b: $i) -> $i {
                a | b
            }
            #[inline(always)]
            fn shl(&mut self, a: $i, s: u8) -> $i {
                a.wrapping_shl(s as u32)
            }
            #[inline(always)]
            fn sshr(&mut self, a: $i, s: u8) -> $i {
                a.wrapping_shr(s as u32)
            }
            #[inline(always)]
            fn lt(&mut self, a: $f, b: $f) -> bool {
                a < b
            }
            #[inline(always)]
            fn select(&mut self, m: bool, x: $f, y: $f) -> $f {
                if m {
                    x
                } else {
                    y
                }
            }
        }
    };
}

native!(NativeF32, f32, i32, u32);
native!(NativeF64, f64, i64, u64);

/// `exp` on one `f32` (see [`exp32`]).
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    exp32(&mut NativeF32, x)
}

/// `tanh` on one `f32` (see [`tanh32`]).
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    tanh32(&mut NativeF32, x)
}

/// `exp` on one `f64` (see [`exp64`]).
#[inline]
pub fn exp_f64(x: f64) -> f64 {
    exp64(&mut NativeF64, x)
}

/// `tanh` on one `f64` (see [`tanh64`]).
#[inline]
pub fn tanh_f64(x: f64) -> f64 {
    tanh64(&mut NativeF64, x)
}
