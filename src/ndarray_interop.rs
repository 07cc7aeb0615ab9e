//! ndarray interop (cargo feature `ndarray`): arrays to tensors and back, and runs of compiled
//! code directly on a caller's views.
//!
//! - `Tensor::from(view)` copies any view, whatever its layout, in logical (row-major) order.
//! - `ArrayD::<T>::try_from(tensor)` moves a tensor's buffer into an array without copying;
//!   `ArrayViewD::<T>::try_from(&tensor)` views it in place.
//! - `TensorRef::try_from(view)` and `TensorMut::try_from(view_mut)` borrow a view's buffer,
//!   so [`crate::jit::Executable::run_refs_into`] reads inputs and writes outputs in place. A
//!   borrowed view must be in standard layout (row-major and contiguous), since compiled code
//!   walks a plain buffer; any other view is refused with an error that says how to make one
//!   (`as_standard_layout()` copies it into one).
//!
//! ```
//! use graphjit::prelude::*;
//! use ndarray::{array, Array1};
//!
//! let m = parse_module("func @twice(%x: f32[3]) -> f32[3] {\n  %y = add %x, %x : f32[3]\n  return %y\n}")?;
//! let exe = compile(m.func("twice").expect("a function"))?;
//! let x = array![1.0f32, 2.5, -4.0];
//! let mut y = Array1::<f32>::zeros(3);
//! exe.run_refs_into(&[x.view().try_into()?], &mut [y.view_mut().try_into()?])?;
//! assert_eq!(y, array![2.0f32, 5.0, -8.0]);
//! # Ok::<(), graphjit::Error>(())
//! ```

use ndarray::{ArrayD, ArrayView, ArrayViewD, ArrayViewMut, Dimension, IxDyn};

use crate::error::Error;
use crate::tensor::{Element, Tensor};
use crate::tensor_ref::{TensorMut, TensorRef};
use crate::types::MAX_RANK;

/// Copies a view of any layout into a tensor, in row-major order. The conversion cannot fail:
/// an array beyond graphjit's rank or size limits makes a tensor that every run refuses by its
/// type, with the usual argument error.
impl<T: Element, D: Dimension> From<ArrayView<'_, T, D>> for Tensor {
    fn from(view: ArrayView<'_, T, D>) -> Tensor {
        let data = match view.to_slice() {
            Some(s) => s.to_vec(),
            None => view.iter().copied().collect(),
        };
        Tensor::from_vec_unchecked(data, view.shape().to_vec())
    }
}

/// Moves a tensor's buffer into an array of its shape (no copy); an error when `T` is not the
/// tensor's dtype.
impl<T: Element> TryFrom<Tensor> for ArrayD<T> {
    type Error = Error;

    fn try_from(t: Tensor) -> Result<ArrayD<T>, Error> {
        let dtype = t.dtype();
        let shape = t.shape().to_vec();
        let Some(v) = T::into_vec(t.into_data()) else {
            return Err(wrong_dtype::<T>(dtype));
        };
        ArrayD::from_shape_vec(IxDyn(&shape), v)
            .map_err(|e| Error::Buffer(format!("the tensor's shape {shape:?}: {e}")))
    }
}

/// Views a tensor's buffer as an array (no copy); an error when `T` is not its dtype.
impl<'a, T: Element> TryFrom<&'a Tensor> for ArrayViewD<'a, T> {
    type Error = Error;

    fn try_from(t: &'a Tensor) -> Result<ArrayViewD<'a, T>, Error> {
        let Some(s) = t.as_slice::<T>() else {
            return Err(wrong_dtype::<T>(t.dtype()));
        };
        ArrayViewD::from_shape(IxDyn(t.shape()), s)
            .map_err(|e| Error::Buffer(format!("the tensor's shape {:?}: {e}", t.shape())))
    }
}

/// Borrows a view's buffer for a run (no copy); an error when the view is not in standard
/// layout or breaks graphjit's limits.
impl<'a, T: Element, D: Dimension> TryFrom<ArrayView<'a, T, D>> for TensorRef<'a> {
    type Error = Error;

    fn try_from(view: ArrayView<'a, T, D>) -> Result<TensorRef<'a>, Error> {
        match view.to_slice() {
            Some(s) => TensorRef::new(s, view.shape()),
            None => Err(not_standard(T::DTYPE, view.shape(), view.strides())),
        }
    }
}

/// Borrows a mutable view's buffer as an output of a run (no copy); an error when the view is
/// not in standard layout or breaks graphjit's limits.
impl<'a, T: Element, D: Dimension> TryFrom<ArrayViewMut<'a, T, D>> for TensorMut<'a> {
    type Error = Error;

    fn try_from(view: ArrayViewMut<'a, T, D>) -> Result<TensorMut<'a>, Error> {
        if !view.is_standard_layout() {
            return Err(not_standard(T::DTYPE, view.shape(), view.strides()));
        }
        // The shape is copied out (inline: converting a view allocates nothing) before
        // `into_slice` consumes the view.
        let rank = view.ndim();
        if rank > MAX_RANK {
            return Err(Error::Buffer(format!(
                "a view of rank {rank} is more than graphjit's limit of {MAX_RANK}"
            )));
        }
        let mut dims = [0usize; MAX_RANK];
        dims[..rank].copy_from_slice(view.shape());
        let slice = view.into_slice().ok_or_else(|| {
            Error::Internal("a view in standard layout gave no slice".to_string())
        })?;
        TensorMut::new(slice, &dims[..rank])
    }
}

fn wrong_dtype<T: Element>(dtype: crate::types::DType) -> Error {
    Error::Buffer(format!(
        "the tensor holds {dtype}, not {} (the array's element type)",
        T::DTYPE
    ))
}

fn not_standard(dtype: crate::types::DType, shape: &[usize], strides: &[isize]) -> Error {
    Error::Buffer(format!(
        "a {dtype} view of shape {shape:?} with strides {strides:?} is not in standard layout \
         (row-major and contiguous), so compiled code cannot use it in place; pass \
         `view.as_standard_layout()` to copy it into one, or convert it with `Tensor::from`"
    ))
}
