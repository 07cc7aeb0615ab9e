//! Borrowed tensors: a dtype, a shape and a caller's buffer, for running compiled code on memory
//! graphjit does not own (ndarray views, NumPy arrays, any `&[T]` or byte buffer) without copying.
//!
//! A [`TensorRef`] is an input and a [`TensorMut`] an output of
//! [`crate::jit::Executable::run_refs`] and [`crate::jit::Executable::run_refs_into`]. Both are
//! checked when they are made (the buffer holds exactly the shape's elements, is aligned for
//! the dtype, and a bool buffer holds only 0 and 1), so the executable needs only to compare
//! dtypes and shapes with its signature before it hands the pointers to compiled code.

use std::marker::PhantomData;

use crate::error::Error;
use crate::tensor::{Element, Tensor};
use crate::types::{DType, TensorType, MAX_RANK};

/// A shape: kept inline when the borrowed tensor is made from a buffer and a shape, so that
/// making one never allocates (a run on borrowed buffers is meant to cost nothing beyond the
/// call), or borrowed from a [`Tensor`].
#[derive(Clone, Copy, Debug)]
enum Dims<'a> {
    Inline { dims: [usize; MAX_RANK], rank: u8 },
    Borrowed(&'a [usize]),
}

impl Dims<'_> {
    /// The shape and its element count, or an error when it breaks the limits of every
    /// graphjit type.
    fn new(dtype: DType, shape: &[usize]) -> Result<(Dims<'static>, usize), Error> {
        let Some(n) = TensorType::new(dtype, shape.to_vec()).checked_num_elements() else {
            return Err(Error::Buffer(format!(
                "the shape {shape:?} breaks the limits of a tensor (rank at most {MAX_RANK}, \
                 at most {} elements)",
                crate::types::MAX_ELEMENTS
            )));
        };
        let mut dims = [0; MAX_RANK];
        dims[..shape.len()].copy_from_slice(shape);
        let rank = shape.len() as u8;
        Ok((Dims::Inline { dims, rank }, n))
    }

    fn as_slice(&self) -> &[usize] {
        match self {
            Dims::Inline { dims, rank } => &dims[..*rank as usize],
            Dims::Borrowed(s) => s,
        }
    }
}

/// Checks a buffer of `bytes` bytes at `ptr` against a dtype and the element count of a shape.
fn check_buffer(dtype: DType, n: usize, ptr: *const u8, bytes: usize) -> Result<(), Error> {
    let size = dtype.size_bytes();
    if bytes != n * size {
        return Err(Error::Buffer(format!(
            "the buffer has {bytes} bytes, but {n} elements of {dtype} need {}",
            n * size
        )));
    }
    // Compiled code loads whole elements; a misaligned buffer can only come from bytes.
    if !(ptr as usize).is_multiple_of(size) {
        return Err(Error::Buffer(format!(
            "the buffer is not aligned for {dtype} (its address is not a multiple of {size})"
        )));
    }
    Ok(())
}

/// A read-only borrowed tensor: the dtype, shape and row-major elements of a caller's buffer.
#[derive(Clone, Copy, Debug)]
pub struct TensorRef<'a> {
    dtype: DType,
    shape: Dims<'a>,
    ptr: *const u8,
    bytes: usize,
    _buffer: PhantomData<&'a [u8]>,
}

// SAFETY: a `TensorRef` is a shared borrow of plain old data (`&'a [u8]`), which is Send and Sync.
unsafe impl Send for TensorRef<'_> {}
// SAFETY: as above.
unsafe impl Sync for TensorRef<'_> {}

impl<'a> TensorRef<'a> {
    /// A borrowed tensor of `shape` over `data` (row-major); an error when the element count
    /// does not match or the shape breaks the limits.
    pub fn new<T: Element>(data: &'a [T], shape: &[usize]) -> Result<TensorRef<'a>, Error> {
        let (s, n) = Dims::new(T::DTYPE, shape)?;
        check_buffer(
            T::DTYPE,
            n,
            data.as_ptr().cast(),
            std::mem::size_of_val(data),
        )?;
        Ok(TensorRef {
            dtype: T::DTYPE,
            shape: s,
            ptr: data.as_ptr().cast(),
            bytes: std::mem::size_of_val(data),
            _buffer: PhantomData,
        })
    }

    /// A borrowed tensor over raw bytes in the machine's byte order (what a foreign buffer,
    /// e.g. a NumPy array's, gives): the byte count must be the shape's, the address aligned
    /// for the dtype, and every byte of a bool buffer 0 or 1.
    pub fn from_bytes(
        dtype: DType,
        shape: &[usize],
        bytes: &'a [u8],
    ) -> Result<TensorRef<'a>, Error> {
        let (s, n) = Dims::new(dtype, shape)?;
        check_buffer(dtype, n, bytes.as_ptr(), bytes.len())?;
        if dtype == DType::Bool {
            if let Some(i) = bytes.iter().position(|&b| b > 1) {
                return Err(Error::Buffer(format!(
                    "element {i} of the bool buffer is {}, not 0 or 1",
                    bytes[i]
                )));
            }
        }
        Ok(TensorRef {
            dtype,
            shape: s,
            ptr: bytes.as_ptr(),
            bytes: bytes.len(),
            _buffer: PhantomData,
        })
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn shape(&self) -> &[usize] {
        self.shape.as_slice()
    }

    /// The element count.
    pub fn len(&self) -> usize {
        self.bytes / self.dtype.size_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The elements as a typed slice; `None` when `T` is not the dtype.
    pub fn as_slice<T: Element>(&self) -> Option<&'a [T]> {
        // SAFETY: the buffer was made from `&'a [T']` or checked bytes of the dtype, holds
        // `len()` aligned elements, and `T` is that element type.
        (T::DTYPE == self.dtype)
            .then(|| unsafe { std::slice::from_raw_parts(self.ptr.cast::<T>(), self.len()) })
    }

    /// The buffer's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        // SAFETY: the pointer and length come from a `&'a` slice of `bytes` bytes.
        unsafe { std::slice::from_raw_parts(self.ptr, self.bytes) }
    }

    /// An owned copy (for the interpreter, or to keep the values).
    pub fn to_tensor(&self) -> Tensor {
        fn copy<T: Element>(r: &TensorRef<'_>) -> Tensor {
            let v = r.as_slice::<T>().unwrap_or_default().to_vec();
            Tensor::from_vec(v, r.shape()).expect("the shape was checked with the buffer")
        }
        crate::dispatch_dtype!(self.dtype, |T| copy::<T>(self))
    }

    pub(crate) fn ptr(&self) -> *const u8 {
        self.ptr
    }
}

impl<'a> From<&'a Tensor> for TensorRef<'a> {
    fn from(t: &'a Tensor) -> TensorRef<'a> {
        let bytes = t.data().as_bytes();
        TensorRef {
            dtype: t.dtype(),
            shape: Dims::Borrowed(t.shape()),
            ptr: bytes.as_ptr(),
            bytes: bytes.len(),
            _buffer: PhantomData,
        }
    }
}

/// A writable borrowed tensor: the dtype, shape and row-major elements of a caller's buffer,
/// which compiled code overwrites with a result.
#[derive(Debug)]
pub struct TensorMut<'a> {
    dtype: DType,
    shape: Dims<'a>,
    ptr: *mut u8,
    bytes: usize,
    _buffer: PhantomData<&'a mut [u8]>,
}

// SAFETY: a `TensorMut` is an exclusive borrow of plain old data (`&'a mut [u8]`), which is
// Send and Sync.
unsafe impl Send for TensorMut<'_> {}
// SAFETY: as above.
unsafe impl Sync for TensorMut<'_> {}

impl<'a> TensorMut<'a> {
    /// A writable borrowed tensor of `shape` over `data` (row-major).
    pub fn new<T: Element>(data: &'a mut [T], shape: &[usize]) -> Result<TensorMut<'a>, Error> {
        let (s, n) = Dims::new(T::DTYPE, shape)?;
        let bytes = std::mem::size_of_val(data);
        check_buffer(T::DTYPE, n, data.as_ptr().cast(), bytes)?;
        Ok(TensorMut {
            dtype: T::DTYPE,
            shape: s,
            ptr: data.as_mut_ptr().cast(),
            bytes,
            _buffer: PhantomData,
        })
    }

    /// A writable borrowed tensor over raw bytes in the machine's byte order. Compiled code
    /// writes only values of the dtype (0 or 1 for a bool).
    pub fn from_bytes(
        dtype: DType,
        shape: &[usize],
        bytes: &'a mut [u8],
    ) -> Result<TensorMut<'a>, Error> {
        let (s, n) = Dims::new(dtype, shape)?;
        check_buffer(dtype, n, bytes.as_ptr(), bytes.len())?;
        Ok(TensorMut {
            dtype,
            shape: s,
            ptr: bytes.as_mut_ptr(),
            bytes: bytes.len(),
            _buffer: PhantomData,
        })
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn shape(&self) -> &[usize] {
        self.shape.as_slice()
    }

    /// The element count.
    pub fn len(&self) -> usize {
        self.bytes / self.dtype.size_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The elements as a typed slice; `None` when `T` is not the dtype.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        // SAFETY: as for `TensorRef::as_slice`; the shared borrow of `self` excludes writes.
        (T::DTYPE == self.dtype)
            .then(|| unsafe { std::slice::from_raw_parts(self.ptr.cast::<T>(), self.len()) })
    }

    pub(crate) fn ptr(&mut self) -> *mut u8 {
        self.ptr
    }
}

impl<'a> From<&'a mut Tensor> for TensorMut<'a> {
    fn from(t: &'a mut Tensor) -> TensorMut<'a> {
        let (shape, data) = t.shape_and_data_mut();
        let bytes = data.as_bytes().len();
        TensorMut {
            dtype: data.dtype(),
            shape: Dims::Borrowed(shape),
            ptr: data.as_mut_ptr(),
            bytes,
            _buffer: PhantomData,
        }
    }
}
