//! Region ops in the builder: `argmax`/`argmin` (a variadic `reduce` over value and index
//! pairs, as JAX lowers them), `sort`/`argsort` (total order), cumulative `cumsum`,
//! `cumprod`, `cummax`, `cummin` (a prefix `reduce_window`, as JAX lowers them on CPU), and
//! `x.at(i).set/add/mul/min/max(v)` (a `scatter`). The regions are the canned ones of
//! [`crate::ops::region::Body`].

use std::panic::Location;

use super::Var;
use crate::ops::region::{Body, RegionOp, ScatterDims, Window};
use crate::ops::scalar::{convert, reduce_identity};
use crate::ops::{BinaryOp, CmpOp, Op, ReduceOp};
use crate::tensor::{Scalar, Tensor};
use crate::types::{DType, TensorType};

type Loc = &'static Location<'static>;

impl<'g> Var<'g> {
    fn poisoned(self) -> Var<'g> {
        Var {
            graph: self.graph,
            value: None,
        }
    }

    fn scalar_const(self, s: Scalar) -> Var<'g> {
        self.graph.constant(Tensor::from_scalar(s))
    }

    fn arg_best(self, axis: usize, max: bool, loc: Loc) -> Var<'g> {
        let Some(ty) = self.ty() else { return self };
        let kind = if max { ReduceOp::Max } else { ReduceOp::Min };
        let Some(init) = reduce_identity(kind, ty.dtype) else {
            // Not numeric: the reduce's type rule reports it.
            return self.graph.emit(
                Op::Reduce {
                    op: kind,
                    axes: vec![axis],
                },
                &[self],
                None,
                loc,
            );
        };
        let idx = self.graph.emit(
            Op::Iota { axis },
            &[],
            Some(TensorType::new(DType::I32, ty.shape)),
            loc,
        );
        let args = [
            self,
            idx,
            self.scalar_const(init),
            self.scalar_const(Scalar::I32(0)),
        ];
        let body = Body::arg_best(ty.dtype, DType::I32, max);
        let op = RegionOp::Reduce { dims: vec![axis] };
        let outs = self.graph.emit_region(op, &args, &body, loc);
        outs.get(1).copied().unwrap_or_else(|| self.poisoned())
    }

    /// The index (`i32`) of the largest element along `axis`, as `jnp.argmax`: NaN counts as
    /// the largest, and ties give the first index.
    #[track_caller]
    pub fn argmax(self, axis: usize) -> Var<'g> {
        self.arg_best(axis, true, Location::caller())
    }

    /// The index (`i32`) of the smallest element along `axis`, as `jnp.argmin`.
    #[track_caller]
    pub fn argmin(self, axis: usize) -> Var<'g> {
        self.arg_best(axis, false, Location::caller())
    }

    fn sorted(self, axis: usize, descending: bool, with_index: bool, loc: Loc) -> Var<'g> {
        let Some(ty) = self.ty() else { return self };
        let mut args = vec![self];
        let mut dts = vec![ty.dtype];
        if with_index {
            let it = TensorType::new(DType::I32, ty.shape.clone());
            args.push(self.graph.emit(Op::Iota { axis }, &[], Some(it), loc));
            dts.push(DType::I32);
        }
        let op = RegionOp::Sort {
            dim: axis,
            stable: true,
        };
        let outs = self
            .graph
            .emit_region(op, &args, &Body::order(&dts, descending), loc);
        outs.last().copied().unwrap_or_else(|| self.poisoned())
    }

    /// The elements sorted along `axis` in the total order (`-NaN < -inf < ... < -0 < +0 <
    /// ... < inf < NaN`), ascending or descending; a stable sort.
    #[track_caller]
    pub fn sort(self, axis: usize, descending: bool) -> Var<'g> {
        self.sorted(axis, descending, false, Location::caller())
    }

    /// The indices (`i32`) that sort `self` along `axis` (stable, total order).
    #[track_caller]
    pub fn argsort(self, axis: usize, descending: bool) -> Var<'g> {
        self.sorted(axis, descending, true, Location::caller())
    }

    fn cumulative(self, axis: usize, op: BinaryOp, kind: ReduceOp, loc: Loc) -> Var<'g> {
        let Some(ty) = self.ty() else { return self };
        let (Some(&n), Some(init)) = (ty.shape.get(axis), reduce_identity(kind, ty.dtype)) else {
            let m = format!("needs a numeric tensor with an axis {axis}, got {ty}");
            return self.graph.fail_op(op.name(), loc, m);
        };
        let rank = ty.rank();
        let mut w = Window {
            dims: vec![1; rank],
            strides: vec![1; rank],
            base_dilations: vec![1; rank],
            window_dilations: vec![1; rank],
            pad_low: vec![0; rank],
            pad_high: vec![0; rank],
        };
        w.dims[axis] = n.max(1);
        w.pad_low[axis] = n.max(1) - 1;
        let args = [self, self.scalar_const(init)];
        let outs = self.graph.emit_region(
            RegionOp::ReduceWindow(w),
            &args,
            &Body::fold(op, ty.dtype),
            loc,
        );
        outs.first().copied().unwrap_or_else(|| self.poisoned())
    }

    /// The running sum along `axis` (`jnp.cumsum`), added in index order.
    #[track_caller]
    pub fn cumsum(self, axis: usize) -> Var<'g> {
        self.cumulative(axis, BinaryOp::Add, ReduceOp::Sum, Location::caller())
    }

    /// The running product along `axis`.
    #[track_caller]
    pub fn cumprod(self, axis: usize) -> Var<'g> {
        self.cumulative(axis, BinaryOp::Mul, ReduceOp::Prod, Location::caller())
    }

    /// The running maximum along `axis` (NaN propagates).
    #[track_caller]
    pub fn cummax(self, axis: usize) -> Var<'g> {
        self.cumulative(axis, BinaryOp::Max, ReduceOp::Max, Location::caller())
    }

    /// The running minimum along `axis`.
    #[track_caller]
    pub fn cummin(self, axis: usize) -> Var<'g> {
        self.cumulative(axis, BinaryOp::Min, ReduceOp::Min, Location::caller())
    }

    /// `x.at[i]` in JAX: a scalar index or a vector of indices into dimension 0, for
    /// [`At::set`], [`At::add`] and the like. Negative indices count from the end; indices
    /// still out of range are dropped, as JAX does.
    pub fn at(self, i: Var<'g>) -> At<'g> {
        At { x: self, i }
    }
}

/// `x.at[i]`: see [`Var::at`].
#[derive(Clone, Copy, Debug)]
pub struct At<'g> {
    x: Var<'g>,
    i: Var<'g>,
}

impl<'g> At<'g> {
    fn scatter(self, v: Var<'g>, body: impl FnOnce(DType) -> Body, loc: Loc) -> Var<'g> {
        let g = self.x.graph;
        let (Some(xt), Some(it)) = (self.x.ty(), self.i.ty()) else {
            return self.x.poisoned();
        };
        if xt.rank() == 0 || it.rank() > 1 || !it.dtype.is_int() {
            let m = format!("x.at[i] needs a tensor x and a scalar or vector of integer indices, got {xt} and {it}");
            return g.fail_op("scatter", loc, m);
        }
        let m = it.shape.first().copied().unwrap_or(1);
        let n = convert(Scalar::I64(xt.shape[0] as i64), it.dtype);
        let zero = g.constant(Tensor::full(
            convert(Scalar::I64(0), it.dtype),
            it.shape.clone(),
        ));
        let dim = g.constant(Tensor::full(n, it.shape.clone()));
        let neg = g.emit(Op::Compare(CmpOp::Lt), &[self.i, zero], None, loc);
        let wrapped = g.emit(Op::Binary(BinaryOp::Add), &[self.i, dim], None, loc);
        let i = g.emit(Op::Select, &[neg, wrapped, self.i], None, loc);
        let idx = g.emit(
            Op::Reshape,
            &[i],
            Some(TensorType::new(it.dtype, vec![m, 1])),
            loc,
        );
        let mut ushape = vec![m];
        ushape.extend_from_slice(&xt.shape[1..]);
        let u = g.emit(
            Op::Reshape,
            &[v],
            Some(TensorType::new(xt.dtype, ushape)),
            loc,
        );
        let d = ScatterDims {
            update_window_dims: (1..xt.rank()).collect(),
            inserted_window_dims: vec![0],
            input_batching_dims: vec![],
            scatter_indices_batching_dims: vec![],
            scatter_dims_to_operand_dims: vec![0],
            index_vector_dim: 1,
        };
        let outs = g.emit_region(
            RegionOp::Scatter(d),
            &[self.x, idx, u],
            &body(xt.dtype),
            loc,
        );
        outs.first().copied().unwrap_or_else(|| self.x.poisoned())
    }

    /// `x.at[i].set(v)`: where indices repeat, the last update wins.
    #[track_caller]
    pub fn set(self, v: Var<'g>) -> Var<'g> {
        self.scatter(v, Body::replace, Location::caller())
    }

    /// `x.at[i].add(v)`: repeated indices add up, in update order.
    #[track_caller]
    pub fn add(self, v: Var<'g>) -> Var<'g> {
        self.scatter(v, |d| Body::fold(BinaryOp::Add, d), Location::caller())
    }

    /// `x.at[i].multiply(v)`.
    #[track_caller]
    pub fn mul(self, v: Var<'g>) -> Var<'g> {
        self.scatter(v, |d| Body::fold(BinaryOp::Mul, d), Location::caller())
    }

    /// `x.at[i].min(v)`.
    #[track_caller]
    pub fn min(self, v: Var<'g>) -> Var<'g> {
        self.scatter(v, |d| Body::fold(BinaryOp::Min, d), Location::caller())
    }

    /// `x.at[i].max(v)`.
    #[track_caller]
    pub fn max(self, v: Var<'g>) -> Var<'g> {
        self.scatter(v, |d| Body::fold(BinaryOp::Max, d), Location::caller())
    }
}
