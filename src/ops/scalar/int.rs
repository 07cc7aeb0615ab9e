//! The integer definitions: wrapping arithmetic, XLA's rules for `x / 0`, `MIN / -1` and
//! out-of-range shifts, for the signed and the unsigned dtypes.

use super::{Arith, Logic, Shift};

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
