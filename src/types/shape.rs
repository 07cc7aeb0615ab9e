//! `Shape`: the dimensions of a tensor type, stored inline up to rank 3.
//!
//! Every value's type holds one, and the eager API builds and compares several per op, so two
//! costs matter. A `Vec` allocates for every non-scalar shape it copies; `Shape` copies up to
//! three dimensions in place. And slice equality calls `memcmp`, which glibc's AVX-512 version,
//! given zero bytes at the dangling pointer of an empty `Vec` (a scalar's shape), runs as a
//! masked load needing a fault-suppression microcode assist: measured at about 250 ns a
//! comparison, most of the cost of an eager op on scalars. `Shape` compares its dimensions in
//! a plain loop, and an empty shape touches no memory.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

/// Dimensions stored in place; higher ranks live on the heap. Three keep a `Shape` at 32
/// bytes, and the error types that hold two tensor types small.
const INLINE: usize = 3;

/// The dimensions of a tensor, outermost first; empty for a scalar. Reads as a `[usize]`.
#[derive(Clone)]
pub struct Shape(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, dims: [usize; INLINE] },
    Heap(Vec<usize>),
}

impl Shape {
    /// The shape of a scalar.
    pub const fn scalar() -> Shape {
        Shape(Repr::Inline {
            len: 0,
            dims: [0; INLINE],
        })
    }

    /// A shape with the dimensions of `dims`.
    pub fn from_slice(dims: &[usize]) -> Shape {
        if dims.len() <= INLINE {
            let mut inline = [0; INLINE];
            inline[..dims.len()].copy_from_slice(dims);
            Shape(Repr::Inline {
                len: dims.len() as u8,
                dims: inline,
            })
        } else {
            Shape(Repr::Heap(dims.to_vec()))
        }
    }

    /// The dimensions as a slice.
    pub fn as_slice(&self) -> &[usize] {
        match &self.0 {
            Repr::Inline { len, dims } => &dims[..*len as usize],
            Repr::Heap(v) => v,
        }
    }

    /// The dimensions as a new `Vec`.
    pub fn to_vec(&self) -> Vec<usize> {
        self.as_slice().to_vec()
    }

    /// Removes the last dimension and returns it.
    pub fn pop(&mut self) -> Option<usize> {
        match &mut self.0 {
            Repr::Inline { len, dims } => {
                *len = len.checked_sub(1)?;
                Some(dims[*len as usize])
            }
            Repr::Heap(v) => v.pop(),
        }
    }

    /// Appends a dimension.
    pub fn push(&mut self, d: usize) {
        match &mut self.0 {
            Repr::Inline { len, dims } if (*len as usize) < INLINE => {
                dims[*len as usize] = d;
                *len += 1;
            }
            Repr::Inline { len, dims } => {
                let mut v = dims[..*len as usize].to_vec();
                v.push(d);
                self.0 = Repr::Heap(v);
            }
            Repr::Heap(v) => v.push(d),
        }
    }
}

/// Whether two shapes are equal, element by element: never `memcmp` (see the module doc).
#[inline]
pub fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl Default for Shape {
    fn default() -> Shape {
        Shape::scalar()
    }
}

impl Deref for Shape {
    type Target = [usize];
    #[inline]
    fn deref(&self) -> &[usize] {
        self.as_slice()
    }
}

impl DerefMut for Shape {
    fn deref_mut(&mut self) -> &mut [usize] {
        match &mut self.0 {
            Repr::Inline { len, dims } => &mut dims[..*len as usize],
            Repr::Heap(v) => v,
        }
    }
}

impl PartialEq for Shape {
    #[inline]
    fn eq(&self, other: &Shape) -> bool {
        same_shape(self, other)
    }
}

impl Eq for Shape {}

impl PartialEq<[usize]> for Shape {
    fn eq(&self, other: &[usize]) -> bool {
        same_shape(self, other)
    }
}

impl PartialEq<&[usize]> for Shape {
    fn eq(&self, other: &&[usize]) -> bool {
        same_shape(self, other)
    }
}

impl PartialEq<Vec<usize>> for Shape {
    fn eq(&self, other: &Vec<usize>) -> bool {
        same_shape(self, other)
    }
}

impl<const N: usize> PartialEq<[usize; N]> for Shape {
    fn eq(&self, other: &[usize; N]) -> bool {
        same_shape(self, other)
    }
}

impl PartialEq<Shape> for Vec<usize> {
    fn eq(&self, other: &Shape) -> bool {
        same_shape(self, other)
    }
}

impl PartialEq<Shape> for [usize] {
    fn eq(&self, other: &Shape) -> bool {
        same_shape(self, other)
    }
}

impl PartialEq<Shape> for &[usize] {
    fn eq(&self, other: &Shape) -> bool {
        same_shape(self, other)
    }
}

/// Hashes as the slice of dimensions does, consistently with `==`.
impl Hash for Shape {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_slice().hash(h);
    }
}

/// Prints as the slice of dimensions, `[2, 3]`.
impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Shape {
        if v.len() <= INLINE {
            Shape::from_slice(&v)
        } else {
            Shape(Repr::Heap(v))
        }
    }
}

impl From<&Vec<usize>> for Shape {
    fn from(v: &Vec<usize>) -> Shape {
        Shape::from_slice(v)
    }
}

impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Shape {
        Shape::from_slice(v)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Shape {
        Shape::from_slice(&v)
    }
}

impl<const N: usize> From<&[usize; N]> for Shape {
    fn from(v: &[usize; N]) -> Shape {
        Shape::from_slice(v)
    }
}

impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Shape {
        s.clone()
    }
}

impl From<Shape> for Vec<usize> {
    fn from(s: Shape) -> Vec<usize> {
        match s.0 {
            Repr::Heap(v) => v,
            Repr::Inline { .. } => s.to_vec(),
        }
    }
}

impl FromIterator<usize> for Shape {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Shape {
        let mut s = Shape::scalar();
        for d in iter {
            s.push(d);
        }
        s
    }
}

impl<'a> IntoIterator for &'a Shape {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_every_rank_read_compare_and_grow_like_slices() {
        for rank in 0..=7usize {
            let dims: Vec<usize> = (0..rank).map(|i| i * 3 + 1).collect();
            let s = Shape::from(dims.clone());
            assert_eq!(s.as_slice(), &dims[..]);
            assert_eq!(s.len(), rank);
            assert_eq!(s, Shape::from_slice(&dims));
            assert_eq!(s, dims);
            let grown: Shape = dims.iter().copied().collect();
            assert_eq!(grown, s);
            assert_eq!(format!("{s:?}"), format!("{dims:?}"));
            assert_eq!(Vec::from(s.clone()), dims);
            let mut longer = s.clone();
            longer.push(9);
            assert_ne!(longer, s, "rank {rank}");
            assert_eq!(&longer[..rank], &dims[..]);
            assert_eq!(longer[rank], 9);
        }
        assert_ne!(Shape::from([2, 3]), Shape::from([3, 2]));
        assert_eq!(Shape::scalar(), Shape::from(Vec::new()));
        assert!(Shape::default().is_empty());
    }

    #[test]
    fn equal_shapes_hash_alike() {
        use std::collections::hash_map::DefaultHasher;
        let h = |s: &Shape| {
            let mut h = DefaultHasher::new();
            s.hash(&mut h);
            h.finish()
        };
        let a = Shape::from(vec![1, 2, 3, 4, 5]);
        let b: Shape = [1, 2, 3, 4, 5].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(h(&a), h(&b));
    }
}
