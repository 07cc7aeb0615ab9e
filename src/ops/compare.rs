//! StableHLO's `TOTALORDER` comparison type: the one definition of the total order on
//! floats, which `sort` comparators from `jnp.sort` use. Other dtypes are already totally
//! ordered, so on them the total comparisons are the plain ones.

use super::scalar::Elem;

/// The position of a float in the total order
/// `-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN` (NaNs ordered by payload): its
/// sign-magnitude bits, sign-extended and turned into two's complement by flipping the
/// magnitude of negative values.
pub fn total_key<T: Elem>(x: T) -> i64 {
    let w = T::DTYPE.bits();
    let r = x.to_reg();
    let s = ((r << (64 - w)) as i64) >> (64 - w);
    if s < 0 {
        s ^ i64::MAX
    } else {
        s
    }
}

/// The total order of two elements (see the module doc).
pub fn order<T: Elem>(a: T, b: T) -> std::cmp::Ordering {
    if T::DTYPE.is_float() {
        total_key(a).cmp(&total_key(b))
    } else {
        // Integers and bools are totally ordered already.
        a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal)
    }
}

pub fn total_eq<T: Elem>(a: T, b: T) -> bool {
    order(a, b).is_eq()
}

pub fn total_ne<T: Elem>(a: T, b: T) -> bool {
    order(a, b).is_ne()
}

pub fn total_lt<T: Elem>(a: T, b: T) -> bool {
    order(a, b).is_lt()
}

pub fn total_le<T: Elem>(a: T, b: T) -> bool {
    order(a, b).is_le()
}

pub fn total_gt<T: Elem>(a: T, b: T) -> bool {
    order(a, b).is_gt()
}

pub fn total_ge<T: Elem>(a: T, b: T) -> bool {
    order(a, b).is_ge()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_the_spec_order() {
        // The order of the StableHLO spec, written out by hand.
        let xs = [
            f32::from_bits(0xFFC0_0000), // -NaN
            f32::NEG_INFINITY,
            -1.5,
            -f32::MIN_POSITIVE,
            -0.0,
            0.0,
            f32::from_bits(1), // the smallest subnormal
            2.0,
            f32::INFINITY,
            f32::NAN,
        ];
        for i in 0..xs.len() {
            for j in 0..xs.len() {
                assert_eq!(total_lt(xs[i], xs[j]), i < j, "{:?} < {:?}", xs[i], xs[j]);
                assert_eq!(total_eq(xs[i], xs[j]), i == j);
            }
        }
        assert!(total_lt(-1.0f64, -0.0f64) && total_lt(-0.0f64, 0.0f64));
        assert!(total_lt(f64::INFINITY, f64::NAN));
    }

    #[test]
    fn integers_keep_their_order() {
        assert!(total_lt(-3i32, 2i32));
        assert!(total_lt(3u8, 200u8));
        assert!(total_ge(i64::MAX, i64::MIN));
    }
}
