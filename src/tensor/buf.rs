//! A tensor's element buffer: one element stored inline, or a vector on the heap.
//!
//! Rank-0 tensors are what Rust control flow on eager values makes and drops on every op
//! (`while first.lt(&second)?.item::<bool>()? { .. }`); storing their one element inline keeps
//! them out of the allocator, which was a quarter of such a loop's instructions. Everything
//! else reads a buffer as a slice (`Deref<Target = [T]>`), so the two forms behave alike.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// The elements of a [`crate::Data`]: read and written as a slice; built from a `Vec`, an
/// iterator or one element ([`Buf::one`]).
#[derive(Clone)]
pub struct Buf<T>(Repr<T>);

#[derive(Clone)]
enum Repr<T> {
    /// Exactly one element, without a heap allocation.
    One(T),
    Heap(Vec<T>),
}

impl<T> Buf<T> {
    /// A buffer of the single element `x`, stored inline.
    pub fn one(x: T) -> Buf<T> {
        Buf(Repr::One(x))
    }

    /// Whether the element is stored inline (then the buffer owns no heap memory).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::One(_))
    }

    /// The elements as a slice (what `Deref` gives, by name).
    pub fn as_slice(&self) -> &[T] {
        self
    }

    /// Sets the length of a heap buffer to `n` (an inline buffer always holds its one
    /// element, and is left as it is).
    ///
    /// # Safety
    /// As for [`Vec::set_len`]: `n` is at most the capacity, and the first `n` elements have
    /// been written with valid values of `T`.
    pub(crate) unsafe fn set_len(&mut self, n: usize) {
        if let Repr::Heap(v) = &mut self.0 {
            // SAFETY: the caller's guarantee, passed on.
            unsafe { v.set_len(n) }
        }
    }

    /// The elements as a vector (allocating one for an inline element).
    pub fn into_vec(self) -> Vec<T> {
        match self.0 {
            Repr::One(x) => vec![x],
            Repr::Heap(v) => v,
        }
    }
}

impl<T> Deref for Buf<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match &self.0 {
            Repr::One(x) => std::slice::from_ref(x),
            Repr::Heap(v) => v,
        }
    }
}

impl<T> DerefMut for Buf<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.0 {
            Repr::One(x) => std::slice::from_mut(x),
            Repr::Heap(v) => v,
        }
    }
}

impl<T> From<Vec<T>> for Buf<T> {
    fn from(v: Vec<T>) -> Buf<T> {
        Buf(Repr::Heap(v))
    }
}

impl<T> FromIterator<T> for Buf<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Buf<T> {
        Buf(Repr::Heap(iter.into_iter().collect()))
    }
}

/// Prints as a list, like the `Vec` it stands for.
impl<T: fmt::Debug> fmt::Debug for Buf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for Buf<T> {
    fn eq(&self, other: &Buf<T>) -> bool {
        **self == **other
    }
}

impl<T: PartialEq> PartialEq<[T]> for Buf<T> {
    fn eq(&self, other: &[T]) -> bool {
        **self == *other
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[T; N]> for Buf<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        **self == other[..]
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for Buf<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        **self == other[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_element_reads_and_writes_like_a_vector() {
        let mut a = Buf::one(7i32);
        let b = Buf::from(vec![7i32]);
        assert!(a.is_inline() && !b.is_inline());
        assert_eq!(a, b);
        assert_eq!(format!("{a:?}"), format!("{:?}", vec![7]));
        a[0] = 9;
        assert_eq!(&*a, &[9]);
        assert_eq!(a.into_vec(), vec![9]);
        assert_eq!(b.into_vec(), vec![7]);
        assert_eq!(Buf::one(3u8).into_vec(), vec![3]);
        let c: Buf<f32> = (0..3).map(|i| i as f32).collect();
        assert_eq!(c, [0.0, 1.0, 2.0]);
    }
}
