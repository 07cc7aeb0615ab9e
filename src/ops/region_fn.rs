//! The region of a `sort` or `scatter` as a scalar function the shared kernels call
//! ([`RegionFn`]), and those kernels, written once for both executors: the interpreter
//! implements the function by running the region's flat program ([`BodyFn`], on `Scalar`s),
//! compiled code by calling a function it compiled from the same program (`jit::region`, on
//! the elements' bits). Each kernel is generic over the implementation, so it is
//! monomorphized for each executor and both run the same algorithm: the same comparisons in
//! the same order for a sort, the same updates in the same order for a scatter, hence the
//! same bits whatever the region computes (even a comparator that is not a strict weak order).

use super::region::Body;
use super::scalar::Elem;
use crate::tensor::Scalar;
use crate::types::{strides, DType};

/// A region as a scalar function. Elements are of type [`RegionFn::V`]: the interpreter's
/// `Scalar`s, or compiled code's register bits (`u64`, zero-extended, as
/// [`Elem::to_reg`]). Every method answers `None` only when the region does not fit the
/// call, which verification rules out.
pub trait RegionFn {
    /// An element as this implementation holds it.
    type V: Copy;

    /// A sort comparator on the operands' elements `a` and `b` (one per operand): whether the
    /// region's first yield on `(a[0], b[0], a[1], b[1], ...)` is true.
    fn less(&mut self, a: &[Self::V], b: &[Self::V]) -> Option<bool>;

    /// A scatter's update: `acc` becomes the region's yields on `(acc..., x...)`.
    fn update(&mut self, acc: &mut [Self::V], x: &[Self::V]) -> Option<()>;

    /// The sort key of the element `x` (one value per operand) for a comparator with a
    /// recognized key ([`Body::sort_key`]): the value of the region's slot `slot` on
    /// `(x[0], x[0], x[1], x[1], ...)`, as [`key_of`] orders it.
    fn key(&mut self, x: &[Self::V], slot: usize) -> Option<i128>;
}

/// The interpreter's [`RegionFn`]: the region's program run by [`Body::eval`].
pub struct BodyFn<'b> {
    body: &'b Body,
    call: Vec<Scalar>,
    regs: Vec<Scalar>,
    out: Vec<Scalar>,
}

impl<'b> BodyFn<'b> {
    pub fn new(body: &'b Body) -> BodyFn<'b> {
        BodyFn {
            body,
            call: Vec::with_capacity(body.params.len()),
            regs: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl RegionFn for BodyFn<'_> {
    type V = Scalar;

    fn less(&mut self, a: &[Scalar], b: &[Scalar]) -> Option<bool> {
        self.call.clear();
        for (&x, &y) in a.iter().zip(b) {
            self.call.extend([x, y]);
        }
        self.body.eval(&self.call, &mut self.regs, &mut self.out)?;
        Some(self.out.first()? == &Scalar::Bool(true))
    }

    fn update(&mut self, acc: &mut [Scalar], x: &[Scalar]) -> Option<()> {
        self.call.clear();
        self.call.extend_from_slice(acc);
        self.call.extend_from_slice(x);
        self.body.eval(&self.call, &mut self.regs, &mut self.out)?;
        if self.out.len() != acc.len() {
            return None;
        }
        acc.copy_from_slice(&self.out);
        Some(())
    }

    fn key(&mut self, x: &[Scalar], slot: usize) -> Option<i128> {
        if slot < self.body.params.len() {
            return Some(key_of(*x.get(slot / 2)?));
        }
        self.call.clear();
        for &v in x {
            self.call.extend([v, v]);
        }
        self.body.eval(&self.call, &mut self.regs, &mut self.out)?;
        Some(key_of(*self.regs.get(slot)?))
    }
}

/// The sort key of an element for a strict total order (floats by the total order).
pub fn key_of(s: Scalar) -> i128 {
    crate::match_scalar!(s, |v| elem_key(v))
}

/// [`key_of`] of the element of dtype `dt` whose register bits are `r`.
pub fn key_of_bits(r: u64, dt: DType) -> i128 {
    crate::dispatch_dtype!(dt, |T| elem_key(T::from_reg(r)))
}

fn elem_key<T: Elem>(v: T) -> i128 {
    if T::DTYPE.is_float() {
        super::compare::total_key(v) as i128
    } else if T::DTYPE.is_signed() {
        // Sign-extend the zero-extended register bits of a signed integer.
        let w = T::DTYPE.bits();
        (((v.to_reg() << (64 - w)) as i64) >> (64 - w)) as i128
    } else {
        v.to_reg() as i128
    }
}

/// The register bits of `s` (as [`Elem::to_reg`]).
pub fn scalar_bits(s: Scalar) -> u64 {
    crate::match_scalar!(s, |v| v.to_reg())
}

/// The first offset of every row along `dim` of a tensor of `shape`, in row-major order.
pub fn row_bases(shape: &[usize], dim: usize) -> Vec<usize> {
    let st = strides(shape);
    let len = shape.get(dim).copied().unwrap_or(1);
    let n: usize = shape.iter().product();
    if len == 0 || n == 0 {
        return Vec::new();
    }
    let stride = st.get(dim).copied().unwrap_or(1);
    (0..n / len)
        .map(|r| (r / stride) * stride * len + r % stride)
        .collect()
}

/// Sorts the operands `cols` (row-major, of `shape`, sorted together) along `dim` in place
/// with the region `f`. With a recognized key (`key`, from [`Body::sort_key`]: operand,
/// descending, key slot) each row is sorted by its elements' keys, ties in increasing
/// position, which is the stable sort's order; otherwise by [`merge_sort`] with `f` as "less
/// than", whatever `f` answers.
pub fn sort<R: RegionFn>(
    f: &mut R,
    key: Option<(usize, bool, usize)>,
    cols: &mut [Vec<R::V>],
    shape: &[usize],
    dim: usize,
) -> Option<()> {
    let m = cols.len();
    let len = *shape.get(dim)?;
    let stride = strides(shape)[dim];
    let total: usize = shape.iter().product();
    if cols.iter().any(|c| c.len() != total) {
        return None;
    }
    if m == 0 || len <= 1 || total == 0 {
        return Some(());
    }
    // Each row is gathered into `items`, an element's operands side by side, so the sort
    // moves elements through contiguous memory instead of reading them through an index.
    let first = cols[0][0];
    let mut items: Vec<R::V> = vec![first; len * m];
    let mut buf: Vec<R::V> = Vec::new();
    let mut keys: Vec<(i128, usize)> = Vec::new();
    for base in row_bases(shape, dim) {
        for i in 0..len {
            for (c, col) in cols.iter().enumerate() {
                items[i * m + c] = col[base + i * stride];
            }
        }
        if let Some((_, descending, slot)) = key {
            // (key, position) pairs, sorted as pairs: as positions are unique an unstable
            // sort gives exactly the stable sort's order (ties in increasing position, in
            // both directions).
            keys.clear();
            for (i, x) in items.chunks_exact(m).enumerate() {
                keys.push((f.key(x, slot)?, i));
            }
            if descending {
                keys.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            } else {
                keys.sort_unstable();
            }
            for (i, &(_, p)) in keys.iter().enumerate() {
                for (c, col) in cols.iter_mut().enumerate() {
                    col[base + i * stride] = items[p * m + c];
                }
            }
        } else {
            merge_sort(&mut items, &mut buf, m, |a, b| f.less(a, b))?;
            for i in 0..len {
                for (c, col) in cols.iter_mut().enumerate() {
                    col[base + i * stride] = items[i * m + c];
                }
            }
        }
    }
    Some(())
}

/// A stable bottom-up merge sort of the elements of `items` (each `m` values) by `less`,
/// which may be any predicate: runs of width 1, 2, 4, ... are merged left to right, and an
/// element of the right run is taken first only when it is strictly less than the left run's
/// (`less(right, left)`). The result is a permutation whatever `less` answers, every index
/// stays in bounds, and the comparisons made depend only on `less`'s answers, so two
/// implementations of the same region make the same comparisons and give the same order.
/// `buf` is scratch.
pub fn merge_sort<V: Copy>(
    items: &mut Vec<V>,
    buf: &mut Vec<V>,
    m: usize,
    mut less: impl FnMut(&[V], &[V]) -> Option<bool>,
) -> Option<()> {
    if m == 0 {
        return Some(());
    }
    let n = items.len() / m;
    buf.clear();
    buf.extend_from_slice(items);
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j, mut k) = (lo, mid, lo);
            while i < mid && j < hi {
                let (l, r) = (&items[i * m..(i + 1) * m], &items[j * m..(j + 1) * m]);
                // Take from the right run only when it is strictly less: stability.
                let src = if less(r, l)? {
                    j += 1;
                    r
                } else {
                    i += 1;
                    l
                };
                if m == 1 {
                    // One value: a move, not a `memcpy` call of runtime length.
                    buf[k] = src[0];
                } else {
                    buf[k * m..(k + 1) * m].copy_from_slice(src);
                }
                k += 1;
            }
            buf[k * m..(k + mid - i) * m].copy_from_slice(&items[i * m..mid * m]);
            k += mid - i;
            buf[k * m..(k + hi - j) * m].copy_from_slice(&items[j * m..hi * m]);
            lo = hi;
        }
        std::mem::swap(items, buf);
        width *= 2;
    }
    Some(())
}

/// Applies a scatter's updates: for each `(input offset, update offset)` pair in order, the
/// inputs' elements at the input offset become the region's yields on (those elements, the
/// updates' elements at the update offset).
pub fn scatter<R: RegionFn>(
    f: &mut R,
    outs: &mut [Vec<R::V>],
    updates: &[Vec<R::V>],
    pairs: &[(usize, usize)],
) -> Option<()> {
    let n = outs.len();
    if updates.len() != n {
        return None;
    }
    let Some(first) = outs.first().and_then(|o| o.first()).copied() else {
        // No input element, so no pair fits.
        return pairs.is_empty().then_some(());
    };
    let mut acc = vec![first; n];
    let mut x = vec![first; n];
    for &(off_in, off_up) in pairs {
        for k in 0..n {
            acc[k] = *outs[k].get(off_in)?;
            x[k] = *updates[k].get(off_up)?;
        }
        f.update(&mut acc, &x)?;
        for (o, &v) in outs.iter_mut().zip(&acc) {
            *o.get_mut(off_in)? = v;
        }
    }
    Some(())
}

/// The dtype of every slot of `body` (arguments, then instructions).
pub fn slot_dtypes(body: &Body) -> Vec<DType> {
    body.params
        .iter()
        .copied()
        .chain(body.insts.iter().map(|i| i.dtype))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A comparator that answers at random: the sort must still give a permutation.
    #[test]
    fn merge_sort_gives_a_permutation_for_any_predicate() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for n in [0usize, 1, 2, 3, 7, 64, 1000] {
            let mut items: Vec<u32> = (0..n as u32).flat_map(|i| [i, i * 3]).collect();
            let mut buf = Vec::new();
            merge_sort(&mut items, &mut buf, 2, |_, _| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                Some(state & 1 == 1)
            })
            .unwrap();
            let mut seen: Vec<u32> = items.chunks(2).map(|c| c[0]).collect();
            // Elements moved as wholes.
            assert!(items.chunks(2).all(|c| c[1] == c[0] * 3));
            seen.sort_unstable();
            assert_eq!(seen, (0..n as u32).collect::<Vec<_>>());
        }
    }

    #[test]
    fn merge_sort_is_stable() {
        // (key, position); sorted by key only.
        let keys = [3u32, 1, 3, 0, 1, 3, 2, 0];
        let mut items: Vec<u32> = keys
            .iter()
            .enumerate()
            .flat_map(|(i, &k)| [k, i as u32])
            .collect();
        let mut buf = Vec::new();
        merge_sort(&mut items, &mut buf, 2, |a, b| Some(a[0] < b[0])).unwrap();
        let got: Vec<(u32, u32)> = items.chunks(2).map(|c| (c[0], c[1])).collect();
        let mut want: Vec<(u32, u32)> = keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        want.sort_by_key(|p| p.0);
        assert_eq!(got, want);
    }

    #[test]
    fn row_bases_cover_every_row_once() {
        assert_eq!(row_bases(&[2, 3], 0), vec![0, 1, 2]);
        assert_eq!(row_bases(&[2, 3], 1), vec![0, 3]);
        assert_eq!(row_bases(&[2, 0, 3], 2), Vec::<usize>::new());
        assert_eq!(row_bases(&[2, 2, 2], 1), vec![0, 1, 4, 5]);
    }

    #[test]
    fn keys_of_bits_match_keys_of_scalars() {
        for s in [
            Scalar::F32(-0.0),
            Scalar::F32(f32::NAN),
            Scalar::I8(-3),
            Scalar::U16(65535),
            Scalar::Bool(true),
        ] {
            assert_eq!(key_of_bits(scalar_bits(s), s.dtype()), key_of(s), "{s}");
        }
    }
}
