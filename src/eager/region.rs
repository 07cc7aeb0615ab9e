//! Region ops on eager tensors and traced values: `argmax`/`argmin`, `sort`/`argsort`,
//! cumulative ops and `x.at(i).set/add/...`, built exactly as the graph builder builds them
//! (the canned regions of [`Body`]) and run by the shared kernels.

use super::{Emit, Loc};
use crate::error::Result;
use crate::graph::promote::op_error;
use crate::ops::region::{signature, Body, RegionOp, ScatterDims, Window};
use crate::ops::scalar::{convert, reduce_identity};
use crate::ops::{region_kernels, BinaryOp, CmpOp, Op, ReduceOp};
use crate::tensor::{Scalar, Tensor};
use crate::types::{DType, TensorType};

/// Runs a region op on tensors: the type rule, then the kernel.
pub(crate) fn run_region(
    scope: &str,
    op: &RegionOp,
    body: &Body,
    args: &[&Tensor],
    loc: Loc,
) -> Result<(Vec<TensorType>, Vec<Tensor>)> {
    let tys: Vec<TensorType> = args.iter().map(|t| t.ty()).collect();
    let refs: Vec<&TensorType> = tys.iter().collect();
    let sig = signature(op, &refs).map_err(|e| op_error(scope, op.name(), loc, e.0))?;
    for t in &sig.results {
        t.check_size()
            .map_err(|m| op_error(scope, op.name(), loc, m))?;
    }
    let bytes: usize = sig
        .results
        .iter()
        .map(|t| t.num_elements() * t.dtype.size_bytes())
        .sum();
    crate::limits::check_eager_allocation(scope, bytes)?;
    let out = region_kernels::eval(op, body, args, &sig.results)?;
    Ok((sig.results, out))
}

fn scalar<E: Emit>(e: &E, s: Scalar, loc: Loc) -> Result<E::V> {
    e.emit(
        Op::Const(Tensor::from_scalar(s)),
        &[],
        Some(TensorType::scalar(s.dtype())),
        loc,
    )
}

fn iota<E: Emit>(e: &E, shape: Vec<usize>, axis: usize, loc: Loc) -> Result<E::V> {
    e.emit(
        Op::Iota { axis },
        &[],
        Some(TensorType::new(DType::I32, shape)),
        loc,
    )
}

fn last<V>(mut v: Vec<V>, scope: &str, op: &str, loc: Loc) -> Result<V> {
    v.pop()
        .ok_or_else(|| op_error(scope, op, loc, "gave no result".into()))
}

pub(crate) fn arg_best<E: Emit>(e: &E, x: &E::V, axis: usize, max: bool, loc: Loc) -> Result<E::V> {
    let ty = E::ty(x);
    let kind = if max { ReduceOp::Max } else { ReduceOp::Min };
    let Some(init) = reduce_identity(kind, ty.dtype) else {
        let m = format!("argmax/argmin need a numeric tensor, got {ty}");
        return Err(op_error(&e.scope(), "reduce", loc, m));
    };
    let idx = iota(e, ty.shape.to_vec(), axis.min(ty.rank()), loc)?;
    let (v0, i0) = (scalar(e, init, loc)?, scalar(e, Scalar::I32(0), loc)?);
    let body = Body::arg_best(ty.dtype, DType::I32, max);
    let op = RegionOp::Reduce { dims: vec![axis] };
    let out = e.emit_region(op, &body, &[x, &idx, &v0, &i0], loc)?;
    last(out, &e.scope(), "reduce", loc)
}

pub(crate) fn sorted<E: Emit>(
    e: &E,
    x: &E::V,
    axis: usize,
    descending: bool,
    with_index: bool,
    loc: Loc,
) -> Result<E::V> {
    let ty = E::ty(x);
    let op = RegionOp::Sort {
        dim: axis,
        stable: true,
    };
    let out = if with_index {
        let idx = iota(e, ty.shape.to_vec(), axis.min(ty.rank()), loc)?;
        let body = Body::order(&[ty.dtype, DType::I32], descending);
        e.emit_region(op, &body, &[x, &idx], loc)?
    } else {
        e.emit_region(op, &Body::order(&[ty.dtype], descending), &[x], loc)?
    };
    last(out, &e.scope(), "sort", loc)
}

pub(crate) fn cumulative<E: Emit>(
    e: &E,
    x: &E::V,
    axis: usize,
    op: BinaryOp,
    kind: ReduceOp,
    loc: Loc,
) -> Result<E::V> {
    let ty = E::ty(x);
    let (Some(&n), Some(init)) = (ty.shape.get(axis), reduce_identity(kind, ty.dtype)) else {
        let m = format!("needs a numeric tensor with an axis {axis}, got {ty}");
        return Err(op_error(&e.scope(), "reduce_window", loc, m));
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
    let init = scalar(e, init, loc)?;
    let out = e.emit_region(
        RegionOp::ReduceWindow(w),
        &Body::fold(op, ty.dtype),
        &[x, &init],
        loc,
    )?;
    last(out, &e.scope(), "reduce_window", loc)
}

/// `x.at[i]` updated by `body`: negative indices count from the end, indices still out of
/// range are dropped (see `graph::At`).
pub(crate) fn at<E: Emit>(
    e: &E,
    x: &E::V,
    i: &E::V,
    v: &E::V,
    body: &Body,
    loc: Loc,
) -> Result<E::V> {
    let (xt, it) = (E::ty(x), E::ty(i));
    if xt.rank() == 0 || it.rank() > 1 || !it.dtype.is_int() {
        let m = format!(
            "x.at[i] needs a tensor x and a scalar or vector of integer indices, got {xt} and {it}"
        );
        return Err(op_error(&e.scope(), "scatter", loc, m));
    }
    let m = it.shape.first().copied().unwrap_or(1);
    let full = |s: i64| Tensor::full(convert(Scalar::I64(s), it.dtype), it.shape.clone());
    let zero = e.emit(Op::Const(full(0)), &[], Some(it.clone()), loc)?;
    let dim = e.emit(
        Op::Const(full(xt.shape[0] as i64)),
        &[],
        Some(it.clone()),
        loc,
    )?;
    let neg = e.emit(Op::Compare(CmpOp::Lt), &[i, &zero], None, loc)?;
    let wrapped = e.emit(Op::Binary(BinaryOp::Add), &[i, &dim], None, loc)?;
    let i = e.emit(Op::Select, &[&neg, &wrapped, i], None, loc)?;
    let idx = e.emit(
        Op::Reshape,
        &[&i],
        Some(TensorType::new(it.dtype, vec![m, 1])),
        loc,
    )?;
    let mut ushape = vec![m];
    ushape.extend_from_slice(&xt.shape[1..]);
    let u = e.emit(
        Op::Reshape,
        &[v],
        Some(TensorType::new(xt.dtype, ushape)),
        loc,
    )?;
    let d = ScatterDims {
        update_window_dims: (1..xt.rank()).collect(),
        inserted_window_dims: vec![0],
        input_batching_dims: vec![],
        scatter_indices_batching_dims: vec![],
        scatter_dims_to_operand_dims: vec![0],
        index_vector_dim: 1,
    };
    let out = e.emit_region(RegionOp::Scatter(d), body, &[x, &idx, &u], loc)?;
    last(out, &e.scope(), "scatter", loc)
}
