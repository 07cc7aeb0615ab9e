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

/// What a run's fresh results need, decided once when the function is compiled: the result
/// types are static, so a run only reads these two fields (W1's `run_with` paid 46
/// instructions for summing the sizes and testing them on every call).
#[derive(Clone, Copy, Debug)]
pub(super) struct Sizes {
    /// Bytes of all results together (saturated: a sum that overflows fails the memory
    /// checks as it should).
    pub(super) total_bytes: usize,
    /// Whether some result is large enough to be left unzeroed; when none is, a run takes the
    /// plain path of zeroed tensors only.
    any_large: bool,
}

impl Sizes {
    /// The sizes of results of the types `types`.
    pub(super) fn of(types: &[TensorType]) -> Sizes {
        let total_bytes = types
            .iter()
            .fold(0usize, |sum, ty| sum.saturating_add(bytes_of(ty)));
        Sizes {
            total_bytes,
            any_large: types.iter().any(|ty| !is_small(ty)),
        }
    }
}

/// Bytes of one result of type `ty` (saturated).
fn bytes_of(ty: &TensorType) -> usize {
    ty.num_elements().saturating_mul(ty.dtype.size_bytes())
}

/// Whether a result of type `ty` is zeroed (see [`ZEROED_BELOW_BYTES`]).
fn is_small(ty: &TensorType) -> bool {
    bytes_of(ty) < ZEROED_BELOW_BYTES
}

/// A run's results while it runs: tensors for the small ones (zeroed, as before), and for
/// each large one a buffer not yet written, which takes its tensor's place once the run has
/// written it.
pub(super) struct Fresh<'t> {
    tensors: Vec<Tensor>,
    /// The large results as (index, buffer, type), in index order; the buffer is a vector of
    /// the element type with room for every element and length 0. Empty (so not allocated)
    /// when every result is small.
    large: Vec<(usize, Data, &'t TensorType)>,
}

impl<'t> Fresh<'t> {
    /// Buffers for results of the types `types`, whose sizes are `sizes` (`Sizes::of(types)`,
    /// computed when the function was compiled, and checked by the caller).
    pub(super) fn new(types: &'t [TensorType], sizes: Sizes) -> Fresh<'t> {
        // The common case of small results only (a scalar run) takes the plain path.
        if !sizes.any_large {
            return Fresh {
                tensors: types.iter().map(Tensor::zeros).collect(),
                large: Vec::new(),
            };
        }
        let mut large = Vec::new();
        let tensors = types
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                if is_small(ty) {
                    return Tensor::zeros(ty);
                }
                let n = ty.num_elements();
                let data =
                    crate::dispatch_dtype!(ty.dtype, |T| T::into_data(Vec::<T>::with_capacity(n)));
                large.push((i, data, ty));
                // An empty placeholder (it allocates nothing) until the run has written it.
                Tensor::zeros(&TensorType::new(ty.dtype, [0]))
            })
            .collect();
        Fresh { tensors, large }
    }

    /// The buffers' addresses, in result order, for the compiled code to write.
    pub(super) fn ptrs(&mut self) -> impl Iterator<Item = *mut u8> + use<'_, 't> {
        let large = &mut self.large;
        let mut next = 0;
        self.tensors
            .iter_mut()
            .enumerate()
            .map(move |(i, t)| match large.get_mut(next) {
                Some((j, data, _)) if *j == i => {
                    next += 1;
                    crate::match_data!(data, |v| v.as_mut_ptr().cast::<u8>())
                }
                _ => t.data_mut().as_mut_ptr(),
            })
    }

    /// The results as tensors.
    ///
    /// # Safety
    /// A run must have written every element of every result at the addresses of
    /// [`Fresh::ptrs`] (with valid values of the dtype: 0 or 1 for `bool`).
    pub(super) unsafe fn written(self) -> Vec<Tensor> {
        if self.large.is_empty() {
            return self.tensors;
        }
        let mut tensors = self.tensors;
        for (i, mut data, ty) in self.large {
            let n = ty.num_elements();
            // SAFETY: the capacity is `n` (see `new`), and the caller guarantees the elements.
            crate::match_data!(&mut data, |v| unsafe { v.set_len(n) });
            // The length is the type's element count, so this always succeeds.
            tensors[i] = Tensor::new(data, ty.shape.clone())
                .unwrap_or_else(|| unreachable!("a result has its type's element count"));
        }
        tensors
    }
}
