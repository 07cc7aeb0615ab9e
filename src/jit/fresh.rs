//! The result buffers of a run that allocates its outputs (`Executable::run` and the like):
//! large ones allocated without being zeroed, written by the compiled code, and made
//! tensors only once the run has written them.
//!
//! Why not zeroed: every element of every output is written by every run that succeeds
//! (`run_into` promises correct results whatever its outputs held before, and
//! `tests/parallel.rs` checks it on outputs full of other bytes), so zeros would only be
//! overwritten. Zeroing a 4 MB result costs a `memset` on the calling thread before the
//! parallel loop, or page faults there; unzeroed, the pages fault in on the threads whose
//! blocks first write them, in parallel.

use crate::tensor::{Data, Element, Tensor};
use crate::types::TensorType;

/// Results smaller than this are zeroed as before: their `memset` costs next to nothing, and
/// the plain path keeps a scalar run as short as it was (W1).
const ZEROED_BELOW_BYTES: usize = 1 << 16;

/// A result's buffer, ready for the compiled code to write.
pub(super) enum Unwritten<'t> {
    /// A small result, zeroed (see [`ZEROED_BELOW_BYTES`]).
    Zeroed(Tensor),
    /// A vector of the element type with room for every element of `ty` and length 0 until
    /// the run has written them all.
    Room { data: Data, ty: &'t TensorType },
}

impl<'t> Unwritten<'t> {
    /// Room for a result of type `ty` (whose size the caller has checked).
    pub(super) fn new(ty: &'t TensorType) -> Unwritten<'t> {
        let n = ty.num_elements();
        if n.saturating_mul(ty.dtype.size_bytes()) < ZEROED_BELOW_BYTES {
            return Unwritten::Zeroed(Tensor::zeros(ty));
        }
        let data = crate::dispatch_dtype!(ty.dtype, |T| T::into_data(Vec::<T>::with_capacity(n)));
        Unwritten::Room { data, ty }
    }

    /// The buffer's address, for the compiled code to write.
    pub(super) fn ptr(&mut self) -> *mut u8 {
        match self {
            Unwritten::Zeroed(t) => t.data_mut().as_mut_ptr(),
            Unwritten::Room { data, .. } => {
                crate::match_data!(data, |v| v.as_mut_ptr().cast::<u8>())
            }
        }
    }

    /// The result as a tensor.
    ///
    /// # Safety
    /// A run must have written every element at [`Unwritten::ptr`] (with a valid value of
    /// the dtype: 0 or 1 for `bool`).
    pub(super) unsafe fn written(self) -> Tensor {
        match self {
            Unwritten::Zeroed(t) => t,
            Unwritten::Room { mut data, ty } => {
                let n = ty.num_elements();
                // SAFETY: the capacity is `n` (see `new`), and the caller guarantees the
                // elements.
                crate::match_data!(&mut data, |v| unsafe { v.set_len(n) });
                // The length is the type's element count, so this always succeeds.
                Tensor::new(data, ty.shape.clone())
                    .unwrap_or_else(|| unreachable!("a result has its type's element count"))
            }
        }
    }
}

/// The tensors of a run's written results (a new vector: collecting in place would
/// reallocate, the two element types differing in size).
///
/// # Safety
/// As for [`Unwritten::written`], for every result.
pub(super) unsafe fn all_written(outs: Vec<Unwritten<'_>>) -> Vec<Tensor> {
    let mut ts = Vec::with_capacity(outs.len());
    // SAFETY: the caller guarantees every result.
    ts.extend(outs.into_iter().map(|o| unsafe { o.written() }));
    ts
}
