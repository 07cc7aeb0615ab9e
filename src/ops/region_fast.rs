//! Typed fast paths of the region kernels ([`super::region_kernels`]): when a region is one
//! binary op of its two arguments, or returns its second argument (scatter's "set"), the
//! kernels apply the op's typed function from [`super::scalar`] in a monomorphized loop
//! instead of running the region's program per element. The order of application is the
//! kernels' documented order, so the bits are the same.

use super::region::KeyStep;
use super::scalar::{BinaryVisitor, Elem};
use super::BinaryOp;
use crate::tensor::{Data, Scalar};
use crate::types::DType;

/// How a fast region combines `(current, new)`: `None` returns `new`; `Some((op, false))`
/// is `op(current, new)`, `Some((op, true))` is `op(new, current)`.
pub type Combine = Option<(BinaryOp, bool)>;

struct Pairs<'a, T> {
    out: &'a mut [T],
    src: &'a [T],
    pairs: &'a [(usize, usize)],
    swapped: bool,
}

impl<T: Copy> BinaryVisitor<T> for Pairs<'_, T> {
    type Out = Option<()>;
    fn visit<F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> Option<()> {
        for &(i, u) in self.pairs {
            let (a, b) = (*self.out.get(i)?, *self.src.get(u)?);
            *self.out.get_mut(i)? = if self.swapped { f(b, a) } else { f(a, b) };
        }
        Some(())
    }
}

/// `out[i] = combine(out[i], src[u])` for each pair `(i, u)`, in order. `None` if the
/// dtypes differ, an index is out of range, or the op is not defined on the dtype.
pub fn apply_pairs(out: &mut Data, src: &Data, pairs: &[(usize, usize)], c: Combine) -> Option<()> {
    fn go<T: Elem>(out: &mut Data, src: &Data, pairs: &[(usize, usize)], c: Combine) -> Option<()> {
        let out = T::slice_mut(out)?;
        let src = T::slice(src)?;
        match c {
            None => {
                for &(i, u) in pairs {
                    *out.get_mut(i)? = *src.get(u)?;
                }
                Some(())
            }
            Some((b, swapped)) => T::binary(
                b,
                Pairs {
                    out,
                    src,
                    pairs,
                    swapped,
                },
            )?,
        }
    }
    crate::dispatch_dtype!(out.dtype(), |T| go::<T>(out, src, pairs, c))
}

struct Scan<'a, T> {
    x: &'a [T],
    out: &'a mut [T],
    bases: &'a [usize],
    len: usize,
    stride: usize,
    init: T,
    swapped: bool,
}

impl<T: Copy> BinaryVisitor<T> for Scan<'_, T> {
    type Out = Option<()>;
    fn visit<F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> Option<()> {
        for &base in self.bases {
            let mut acc = self.init;
            for i in 0..self.len {
                let off = base + i * self.stride;
                let x = *self.x.get(off)?;
                acc = if self.swapped { f(x, acc) } else { f(acc, x) };
                *self.out.get_mut(off)? = acc;
            }
        }
        Some(())
    }
}

/// A running scan `acc = op(acc, x)` from `init` along rows of `len` elements `stride`
/// apart starting at each of `bases`, into a new buffer of `x`'s length.
pub fn scan(
    x: &Data,
    init: Scalar,
    bases: &[usize],
    len: usize,
    stride: usize,
    op: (BinaryOp, bool),
) -> Option<Data> {
    fn go<T: Elem>(
        x: &Data,
        init: Scalar,
        bases: &[usize],
        len: usize,
        stride: usize,
        op: (BinaryOp, bool),
    ) -> Option<Data> {
        let x = T::slice(x)?;
        let init = T::from_scalar(init)?;
        let mut out = vec![init; x.len()];
        T::binary(
            op.0,
            Scan {
                x,
                out: &mut out,
                bases,
                len,
                stride,
                init,
                swapped: op.1,
            },
        )??;
        Some(T::into_data(out))
    }
    crate::dispatch_dtype!(x.dtype(), |T| go::<T>(x, init, bases, len, stride, op))
}

/// Sorts each row (`len` elements `stride` apart from each of `bases`) of a single operand
/// by the total order, ascending or descending. Equal keys are identical elements (the order
/// tells every bit pattern apart), so an unstable sort gives the stable sort's result.
pub fn sort_rows(
    x: &Data,
    bases: &[usize],
    len: usize,
    stride: usize,
    descending: bool,
) -> Option<Data> {
    fn go<T: Elem>(
        x: &Data,
        bases: &[usize],
        len: usize,
        stride: usize,
        descending: bool,
    ) -> Option<Data> {
        let mut out = T::slice(x)?.to_vec();
        sort_rows_in_place(&mut out, bases, len, stride, descending)?;
        Some(T::into_data(out))
    }
    crate::dispatch_dtype!(x.dtype(), |T| go::<T>(x, bases, len, stride, descending))
}

/// [`sort_rows`] on a typed buffer, in place: contiguous rows are sorted where they are,
/// strided ones through one row of scratch. `None` if a row leaves the buffer.
pub fn sort_rows_in_place<T: Elem>(
    out: &mut [T],
    bases: &[usize],
    len: usize,
    stride: usize,
    descending: bool,
) -> Option<()> {
    let sort = |row: &mut [T]| {
        if descending {
            row.sort_unstable_by(|a, b| super::compare::order(*b, *a));
        } else {
            row.sort_unstable_by(|a, b| super::compare::order(*a, *b));
        }
    };
    if T::DTYPE.is_float() {
        return sort_float_rows(out, bases, len, stride, descending);
    }
    let mut row: Vec<T> = Vec::new();
    for &base in bases {
        if len == 0 {
            // An empty row (its base may lie past the end of an empty buffer).
            continue;
        }
        if stride == 1 || len == 1 {
            sort(out.get_mut(base..base.checked_add(len)?)?);
            continue;
        }
        row.clear();
        for i in 0..len {
            row.push(*out.get(base + i * stride)?);
        }
        sort(&mut row);
        for (i, &v) in row.iter().enumerate() {
            *out.get_mut(base + i * stride)? = v;
        }
    }
    Some(())
}

/// [`sort_rows_in_place`] for floats: each row's elements become their total keys
/// ([`super::compare::total_key`], one-to-one on bit patterns and ordered as the total
/// order), the keys are sorted as integers, and each key turns back into its element. Equal
/// keys are identical elements, so the result is the comparison sort's, at the speed of an
/// integer sort.
fn sort_float_rows<T: Elem>(
    out: &mut [T],
    bases: &[usize],
    len: usize,
    stride: usize,
    descending: bool,
) -> Option<()> {
    let w = T::DTYPE.bits();
    let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
    // The inverse of `total_key`: negative keys were sign-extended bits with all but the
    // sign flipped.
    let back = |k: i64| -> T {
        let s = if k < 0 { k ^ i64::MAX } else { k };
        T::from_reg(s as u64 & mask)
    };
    let mut keys: Vec<i64> = Vec::with_capacity(len);
    for &base in bases {
        if len == 0 {
            continue;
        }
        keys.clear();
        for i in 0..len {
            keys.push(super::compare::total_key(*out.get(base + i * stride)?));
        }
        if descending {
            keys.sort_unstable_by(|a, b| b.cmp(a));
        } else {
            keys.sort_unstable();
        }
        for (i, &k) in keys.iter().enumerate() {
            *out.get_mut(base + i * stride)? = back(k);
        }
    }
    Some(())
}

/// Sorts each row of a single `f32` or `f64` operand (as [`sort_rows`]) by the total order of
/// a key map of its elements ([`super::region::Body::key_map`]), stably: elements with equal
/// keys (-0 and 0, NaNs, after `jnp.sort`'s canonicalization) keep their order. `None` for
/// other dtypes. The keys are sorted as `(key, position)` pairs, which as positions are
/// unique gives exactly the stable order, ascending or descending.
pub fn sort_rows_by_map(
    x: &Data,
    bases: &[usize],
    len: usize,
    stride: usize,
    descending: bool,
    map: &[KeyStep],
) -> Option<Data> {
    fn go<T: Elem>(
        x: &Data,
        bases: &[usize],
        len: usize,
        stride: usize,
        descending: bool,
        map: &[KeyStep],
    ) -> Option<Data> {
        let src = T::slice(x)?;
        let steps: Vec<(Option<T>, T)> = map
            .iter()
            .map(|s| {
                let when = match s.when {
                    Some(w) => Some(T::from_scalar(w)?),
                    None => None,
                };
                Some((when, T::from_scalar(s.value)?))
            })
            .collect::<Option<_>>()?;
        // `ne(x, x)` and `eq(x, C)` as the comparison ops define them on floats (IEEE).
        #[allow(clippy::eq_op)]
        let key = |v: T| -> i64 {
            let mut m = v;
            for &(when, value) in &steps {
                let hit = match when {
                    None => v != v,
                    Some(c) => v == c,
                };
                if hit {
                    m = value;
                    break;
                }
            }
            super::compare::total_key(m)
        };
        let mut out = src.to_vec();
        let dir = |k: i64| if descending { !k } else { k };
        if T::DTYPE.bits() <= 32 && u32::try_from(len).is_ok() {
            // The total key of a value of at most 32 bits takes 2^32 values: negative ones
            // from `i64::MIN` up, the others from 0 up. Mapped in order onto a `u32` (and
            // complemented when descending), each pair packs into one `u64` ordered as the
            // pair, so the sort moves 8 bytes per element, not 16.
            let narrow = |k: i64| -> u32 {
                let u = if k < 0 {
                    k.wrapping_sub(i64::MIN) as u32
                } else {
                    (k as u32).wrapping_add(1 << 31)
                };
                if descending {
                    !u
                } else {
                    u
                }
            };
            let mut keys: Vec<u64> = Vec::with_capacity(len);
            for &base in bases {
                keys.clear();
                for i in 0..len {
                    let k = narrow(key(*src.get(base + i * stride)?));
                    keys.push(u64::from(k) << 32 | i as u64);
                }
                keys.sort_unstable();
                for (i, &kp) in keys.iter().enumerate() {
                    let p = (kp & 0xFFFF_FFFF) as usize;
                    *out.get_mut(base + i * stride)? = *src.get(base + p * stride)?;
                }
            }
            return Some(T::into_data(out));
        }
        let mut keys: Vec<(i64, usize)> = Vec::with_capacity(len);
        for &base in bases {
            keys.clear();
            for i in 0..len {
                keys.push((dir(key(*src.get(base + i * stride)?)), i));
            }
            keys.sort_unstable();
            for (i, &(_, p)) in keys.iter().enumerate() {
                *out.get_mut(base + i * stride)? = *src.get(base + p * stride)?;
            }
        }
        Some(T::into_data(out))
    }
    match x.dtype() {
        DType::F32 => go::<f32>(x, bases, len, stride, descending, map),
        DType::F64 => go::<f64>(x, bases, len, stride, descending, map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_apply_in_order_and_scan_runs() {
        let mut out = Data::I32(vec![0; 4].into());
        let src = Data::I32(vec![5, 6, 7].into());
        apply_pairs(
            &mut out,
            &src,
            &[(1, 0), (1, 1), (3, 2)],
            Some((BinaryOp::Add, false)),
        )
        .unwrap();
        assert!(matches!(out, Data::I32(ref v) if v == &[0, 11, 0, 7]));
        apply_pairs(&mut out, &src, &[(0, 2), (0, 0)], None).unwrap();
        assert!(matches!(out, Data::I32(ref v) if v == &[5, 11, 0, 7]));
        let x = Data::F32(vec![1.0, 2.0, 3.0, 4.0].into());
        let s = scan(&x, Scalar::F32(0.5), &[0, 1], 2, 2, (BinaryOp::Sub, false)).unwrap();
        // Rows [1, 3] and [2, 4]: 0.5-1, -0.5-3 and 0.5-2, -1.5-4.
        assert!(matches!(s, Data::F32(ref v) if v == &[-0.5, -1.5, -3.5, -5.5]));
    }
}
