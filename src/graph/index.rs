//! Indexing in the builder: `dynamic_slice`, `dynamic_update_slice`, the `x[i]` and
//! `x.at[i].set(v)` forms built from them, `reverse` and `clamp`.

use std::panic::Location;

use super::Var;
use crate::ops::Op;
use crate::tensor::Tensor;
use crate::types::{DType, TensorType};

impl<'g> Var<'g> {
    /// StableHLO's `clamp(lo, self, hi)`: `min(max(self, lo), hi)` elementwise; `lo` and
    /// `hi` have the type of `self` or are scalars of its dtype.
    #[track_caller]
    pub fn clamp(self, lo: Var<'g>, hi: Var<'g>) -> Var<'g> {
        self.graph
            .emit(Op::Clamp, &[lo, self, hi], None, Location::caller())
    }

    /// StableHLO's `reverse`: the elements along each of `dims` in reverse order.
    #[track_caller]
    pub fn reverse(self, dims: &[usize]) -> Var<'g> {
        let op = Op::Reverse {
            dims: dims.to_vec(),
        };
        self.graph.emit(op, &[self], None, Location::caller())
    }

    /// StableHLO's `dynamic_slice`: the window of shape `sizes` at the runtime `starts` (one
    /// scalar integer per dimension, each clamped to `[0, dim - size]`).
    #[track_caller]
    pub fn dynamic_slice(self, starts: &[Var<'g>], sizes: &[usize]) -> Var<'g> {
        let mut args = vec![self];
        args.extend_from_slice(starts);
        let op = Op::DynamicSlice {
            sizes: sizes.to_vec(),
        };
        self.graph.emit(op, &args, None, Location::caller())
    }

    /// StableHLO's `dynamic_update_slice`: `self` with the window at the (clamped) `starts`
    /// replaced by `update`.
    #[track_caller]
    pub fn dynamic_update_slice(self, update: Var<'g>, starts: &[Var<'g>]) -> Var<'g> {
        let mut args = vec![self, update];
        args.extend_from_slice(starts);
        self.graph
            .emit(Op::DynamicUpdateSlice, &args, None, Location::caller())
    }

    /// `x[i]` for a scalar integer `i`: the sub-tensor at index `i` of dimension 0, clamped
    /// into range as JAX does (a `dynamic_slice` and a `reshape`).
    #[track_caller]
    pub fn index(self, i: Var<'g>) -> Var<'g> {
        let loc = Location::caller();
        let (Some(ty), Some(dt)) = (self.ty(), i.dtype()) else {
            return self;
        };
        let Some(starts) = self.leading_starts(i, dt, ty.rank(), loc) else {
            return self;
        };
        let mut sizes = ty.shape.clone();
        if let Some(s) = sizes.first_mut() {
            *s = 1;
        }
        let op = Op::DynamicSlice {
            sizes: sizes.to_vec(),
        };
        let window = self.graph.emit(op, &starts, None, loc);
        let rest = TensorType::new(ty.dtype, ty.shape.get(1..).unwrap_or(&[]).to_vec());
        self.graph.emit(Op::Reshape, &[window], Some(rest), loc)
    }

    /// `x.at[i].set(v)` for a scalar integer `i`: `self` with its sub-tensor at index `i` of
    /// dimension 0 (clamped into range) replaced by `v`, whose shape is that sub-tensor's.
    #[track_caller]
    pub fn set_index(self, i: Var<'g>, v: Var<'g>) -> Var<'g> {
        let loc = Location::caller();
        let (Some(ty), Some(dt), Some(vt)) = (self.ty(), i.dtype(), v.ty()) else {
            return self;
        };
        let mut shape = ty.shape.clone();
        if let Some(s) = shape.first_mut() {
            *s = 1;
        }
        let up = self.graph.emit(
            Op::Reshape,
            &[v],
            Some(TensorType::new(vt.dtype, shape)),
            loc,
        );
        let Some(mut args) = self.leading_starts(i, dt, ty.rank(), loc) else {
            return self;
        };
        args.insert(1, up);
        self.graph.emit(Op::DynamicUpdateSlice, &args, None, loc)
    }

    /// `[self, i, 0, 0, ...]`: the operand and start indices of a window at index `i` of
    /// dimension 0; `None` when `self` is a scalar (the error is recorded).
    fn leading_starts(
        self,
        i: Var<'g>,
        dt: DType,
        rank: usize,
        loc: &'static Location<'static>,
    ) -> Option<Vec<Var<'g>>> {
        if rank == 0 {
            let m = "cannot index a scalar".to_string();
            self.graph
                .state
                .borrow_mut()
                .fail(self.graph, "dynamic_slice", loc, m);
            return None;
        }
        let mut args = vec![self, i];
        if rank > 1 {
            let zero = Tensor::zeros(&TensorType::scalar(dt));
            let z = self
                .graph
                .emit(Op::Const(zero), &[], Some(TensorType::scalar(dt)), loc);
            args.extend(std::iter::repeat_n(z, rank - 1));
        }
        Some(args)
    }
}
