//! Conversion between dtypes ([`CastTo`]), with the "round to odd" step that makes a
//! conversion to `f16`/`bf16` round only once.

use super::HalfFloat;

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
