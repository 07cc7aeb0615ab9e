//! The eager and traced forms of the ops of issue 11 part B: the further elementwise math,
//! `is_finite`, `pad` (signed edges), `gather` and `take`, `dot_general` and `index`. The
//! generic functions take any [`Emit`], so eager tensors run them at once and traced values
//! record them too; [`more_value_methods`] adds them as methods to both.

use std::panic::Location;

use crate::eager::Emit;
use crate::error::Result;
use crate::graph::promote::op_error;
use crate::ops::dot_general::DotDims;
use crate::ops::gather::take_dims;
use crate::ops::pad::split_negative;
use crate::ops::{scalar, CmpOp, Op, UnaryOp};
use crate::tensor::{Scalar, Tensor};
use crate::types::TensorType;

type Loc = &'static Location<'static>;

/// `|x| < inf`: true for finite elements, false for ±inf and NaN (floats only).
pub(crate) fn is_finite<E: Emit>(e: &E, x: &E::V, loc: Loc) -> Result<E::V> {
    let t = E::ty(x);
    if !t.dtype.is_float() {
        let m = format!("needs a float operand, got {t}");
        return Err(op_error(&e.scope(), "is_finite", loc, m));
    }
    let inf = scalar::convert(Scalar::F64(f64::INFINITY), t.dtype);
    let c = e.emit(
        Op::Const(Tensor::full(inf, t.shape.clone())),
        &[],
        Some(t),
        loc,
    )?;
    let a = e.emit(Op::Unary(UnaryOp::Abs), &[x], None, loc)?;
    e.emit(Op::Compare(CmpOp::Lt), &[&a, &c], None, loc)
}

/// StableHLO's `pad` with signed edge padding: graphjit's `pad` of the non-negative part,
/// then a `slice` that crops the negative part.
pub(crate) fn pad<E: Emit>(
    e: &E,
    x: &E::V,
    value: &E::V,
    low: &[i64],
    high: &[i64],
    interior: &[usize],
    loc: Loc,
) -> Result<E::V> {
    let t = E::ty(x);
    let split = split_negative(&t.shape, low, high, interior)
        .map_err(|m| op_error(&e.scope(), "pad", loc, m))?;
    let op = Op::Pad {
        low: split.low,
        high: split.high,
        interior: interior.to_vec(),
    };
    let padded = e.emit(op, &[x, value], None, loc)?;
    match split.crop {
        None => Ok(padded),
        Some((start, limit)) => {
            let stride = vec![1; start.len()];
            let op = Op::Slice {
                start,
                limit,
                stride,
            };
            e.emit(op, &[&padded], None, loc)
        }
    }
}

/// `jnp.take(x, idx, axis, mode="clip")`: the slices of `x` at the integer indices `idx`
/// (any shape) along `axis`, each index clamped into range.
pub(crate) fn take<E: Emit>(e: &E, x: &E::V, idx: &E::V, axis: usize, loc: Loc) -> Result<E::V> {
    let t = E::ty(x);
    if axis >= t.rank() {
        let m = format!("axis {axis} is out of range for {t}");
        return Err(op_error(&e.scope(), "gather", loc, m));
    }
    let dims = take_dims(&t, E::ty(idx).rank(), axis);
    e.emit(Op::Gather { dims }, &[x, idx], None, loc)
}

/// `x[i]` for a scalar integer `i`: the sub-tensor at index `i` (clamped) of dimension 0.
pub(crate) fn index<E: Emit>(e: &E, x: &E::V, i: &E::V, loc: Loc) -> Result<E::V> {
    let it = E::ty(i);
    if !it.is_scalar() {
        let m = format!("the index must be a scalar integer, got {it}");
        return Err(op_error(&e.scope(), "index", loc, m));
    }
    take(e, x, i, 0, loc)
}

/// `dot_general` to a result of dtype `dtype` (the operands are converted to it first).
pub(crate) fn dot_general<E: Emit>(
    e: &E,
    a: &E::V,
    b: &E::V,
    dims: &DotDims,
    dtype: crate::types::DType,
    loc: Loc,
) -> Result<E::V> {
    let decl = TensorType::scalar(dtype);
    let shape =
        crate::ops::dot_general::infer_dot_general(&[&E::ty(a), &E::ty(b)], dims, Some(&decl))
            .map_err(|m| op_error(&e.scope(), "dot_general", loc, m.0))?;
    let op = Op::DotGeneral { dims: dims.clone() };
    e.emit(op, &[a, b], Some(shape), loc)
}

/// The methods of this module on eager tensors and traced values (see
/// `crate::eager::value_methods`).
macro_rules! more_value_methods {
    ($V:ty, $self_:ident => $emit:expr) => {
        crate::eager::value_methods!(@unary $V, $self_ => $emit;
            sign Sign, round_nearest_afz RoundAfz, expm1 Expm1, log1p Log1p, rsqrt Rsqrt,
            logistic Logistic, cbrt Cbrt, erf Erf, popcnt Popcnt, clz Clz);
        crate::eager::value_methods!(@binary $V, $self_ => $emit; atan2 Atan2);

        /// Whether each element is finite (not ±inf, not NaN); floats only.
        #[track_caller]
        pub fn is_finite(&$self_) -> Result<$V> {
            crate::eager_more::is_finite(&$emit, $self_, Location::caller())
        }

        /// StableHLO's `pad`: `low[d]`/`high[d]` copies of the scalar `value` around dimension
        /// `d` (negative: that many elements removed) and `interior[d]` between neighbours.
        #[track_caller]
        pub fn pad(&$self_, value: &$V, low: &[i64], high: &[i64], interior: &[usize]) -> Result<$V> {
            let loc = Location::caller();
            crate::eager_more::pad(&$emit, $self_, value, low, high, interior, loc)
        }

        /// StableHLO's `gather` with explicit dimension numbers (starts are clamped).
        #[track_caller]
        pub fn gather(&$self_, indices: &$V, dims: &crate::ops::gather::GatherDims) -> Result<$V> {
            let op = Op::Gather { dims: dims.clone() };
            $emit.emit(op, &[$self_, indices], None, Location::caller())
        }

        /// `jnp.take(self, indices, axis, mode="clip")`: a `gather` of whole slices.
        #[track_caller]
        pub fn take(&$self_, indices: &$V, axis: usize) -> Result<$V> {
            crate::eager_more::take(&$emit, $self_, indices, axis, Location::caller())
        }

        /// `x[i]` for a scalar integer `i`, clamped into range as JAX does.
        #[track_caller]
        pub fn index(&$self_, i: &$V) -> Result<$V> {
            crate::eager_more::index(&$emit, $self_, i, Location::caller())
        }

        /// StableHLO's `dot_general` with batch and contracting dimensions, accumulating in
        /// `dtype` (the operands are converted to it first).
        #[track_caller]
        pub fn dot_general(
            &$self_,
            rhs: &$V,
            dims: &crate::ops::dot_general::DotDims,
            dtype: DType,
        ) -> Result<$V> {
            crate::eager_more::dot_general(&$emit, $self_, rhs, dims, dtype, Location::caller())
        }
    };
}

pub(crate) use more_value_methods;
