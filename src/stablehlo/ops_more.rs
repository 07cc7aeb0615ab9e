//! The importer's builders for the ops of issue 11 part B: `reverse`, `pad`, `gather`,
//! `dot_general` (and `dot`) as graphjit's general op, and the further elementwise math
//! (`sign`, `round_nearest_afz`, `exponential_minus_one`, `log_plus_one`, `rsqrt`,
//! `logistic`, `is_finite`, `cbrt`, `atan2`, `popcnt`, `count_leading_zeros`, `chlo.erf`).
//! [`builder_for`] extends the table of `super::ops`.

use crate::ir::{Region, Value};
use crate::ops::dot_general::DotDims;
use crate::ops::gather::GatherDims;
use crate::ops::pad::split_negative;
use crate::ops::{BinaryOp, CmpOp, Op, UnaryOp};
use crate::tensor::{Scalar, Tensor};
use crate::types::TensorType;

use super::ast::{Attr, OpAst};
use super::build::{Builder, PResult};
use super::ops::{arity, declared, dims, ints_as_dims, short, BuildFn};

/// The builders of this file, by the op's name without `stablehlo.`.
pub(crate) fn builder_for(name: &str) -> Option<BuildFn> {
    Some(match name {
        "sign"
        | "round_nearest_afz"
        | "exponential_minus_one"
        | "log_plus_one"
        | "rsqrt"
        | "logistic"
        | "cbrt"
        | "popcnt"
        | "count_leading_zeros"
        | "chlo.erf" => math_unary,
        "atan2" => atan2,
        "is_finite" => is_finite,
        "reverse" => reverse,
        "bitcast_convert" => bitcast_convert,
        "pad" => pad,
        "gather" => gather,
        "dot_general" => dot_general,
        "dot" => dot,
        _ => return None,
    })
}

fn math_unary(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let u = match short(op) {
        "sign" => UnaryOp::Sign,
        "round_nearest_afz" => UnaryOp::RoundAfz,
        "exponential_minus_one" => UnaryOp::Expm1,
        "log_plus_one" => UnaryOp::Log1p,
        "rsqrt" => UnaryOp::Rsqrt,
        "logistic" => UnaryOp::Logistic,
        "cbrt" => UnaryOp::Cbrt,
        "popcnt" => UnaryOp::Popcnt,
        "count_leading_zeros" => UnaryOp::Clz,
        _ => UnaryOp::Erf,
    };
    Ok(vec![b.emit(r, Op::Unary(u), args, None, op)?])
}

fn atan2(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 2)?;
    Ok(vec![b.emit(
        r,
        Op::Binary(BinaryOp::Atan2),
        args,
        None,
        op,
    )?])
}

/// `is_finite(x)` is `|x| < inf`: false for NaN (an unordered compare) and for ±inf.
fn is_finite(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let t = b.ty(args[0]);
    if !t.dtype.is_float() {
        return Err(b.err(
            op.pos,
            format!("'{}' needs a float operand, got {}", op.name, t.dtype),
        ));
    }
    let inf = crate::ops::scalar::convert(Scalar::F64(f64::INFINITY), t.dtype);
    let c = b.constant(r, Tensor::full(inf, t.shape.clone()));
    let a = b.emit(r, Op::Unary(UnaryOp::Abs), args, None, op)?;
    Ok(vec![b.emit(
        r,
        Op::Compare(CmpOp::Lt),
        &[a, c],
        None,
        op,
    )?])
}

fn reverse(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let d = dims(b, op, &["dims", "dimensions"])?;
    Ok(vec![b.emit(r, Op::Reverse { dims: d }, args, None, op)?])
}

fn bitcast_convert(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let ty = declared(b, op)?;
    Ok(vec![b.emit(r, Op::BitcastConvert, args, Some(ty), op)?])
}

/// A signed list-of-integers attribute under any of `names`.
fn signed(b: &Builder, op: &OpAst, names: &[&str]) -> PResult<Vec<i64>> {
    op.attr(names).and_then(Attr::ints).ok_or_else(|| {
        b.err(
            op.pos,
            format!("'{}' needs the attribute '{}'", op.name, names[0]),
        )
    })
}

/// `pad`: graphjit's `pad` with the non-negative part of the edge padding, then a `slice`
/// for a negative (cropping) part.
fn pad(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 2)?;
    let low = signed(b, op, &["low", "edge_padding_low"])?;
    let high = signed(b, op, &["high", "edge_padding_high"])?;
    let interior = dims(b, op, &["interior", "interior_padding"])?;
    let shape = b.ty(args[0]).shape;
    let split = split_negative(&shape, &low, &high, &interior)
        .map_err(|m| b.err(op.pos, format!("'{}': {m}", op.name)))?;
    let padded = b.emit(
        r,
        Op::Pad {
            low: split.low,
            high: split.high,
            interior,
        },
        args,
        None,
        op,
    )?;
    let Some((start, limit)) = split.crop else {
        return Ok(vec![padded]);
    };
    let stride = vec![1; start.len()];
    Ok(vec![b.emit(
        r,
        Op::Slice {
            start,
            limit,
            stride,
        },
        &[padded],
        None,
        op,
    )?])
}

/// The list field `name` of the `dimension_numbers` record (absent means empty).
fn field_dims(b: &Builder, op: &OpAst, rec: &Attr, name: &str) -> PResult<Vec<usize>> {
    match rec.field(name) {
        Some(a) => ints_as_dims(b, op, a, name),
        None => Ok(Vec::new()),
    }
}

fn gather(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 2)?;
    let rec = op
        .attr(&["dimension_numbers"])
        .ok_or_else(|| b.err(op.pos, "'stablehlo.gather' needs 'dimension_numbers'"))?
        .clone();
    let ivd = match rec.field("index_vector_dim") {
        Some(a) => a
            .int()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| {
                b.err(
                    op.pos,
                    "'index_vector_dim' of 'stablehlo.gather' must be a non-negative integer",
                )
            })?,
        None => 0,
    };
    let g = GatherDims {
        offset_dims: field_dims(b, op, &rec, "offset_dims")?,
        collapsed_slice_dims: field_dims(b, op, &rec, "collapsed_slice_dims")?,
        operand_batching_dims: field_dims(b, op, &rec, "operand_batching_dims")?,
        start_indices_batching_dims: field_dims(b, op, &rec, "start_indices_batching_dims")?,
        start_index_map: field_dims(b, op, &rec, "start_index_map")?,
        index_vector_dim: ivd,
        slice_sizes: dims(b, op, &["slice_sizes"])?,
    };
    Ok(vec![b.emit(r, Op::Gather { dims: g }, args, None, op)?])
}

fn pair(op: &OpAst, pretty: &str, lhs: &str, rhs: &str) -> Option<(Vec<i64>, Vec<i64>)> {
    if let Some(Attr::Pair(l, r)) = op.attr(&[pretty]) {
        return Some((l.clone(), r.clone()));
    }
    let rec = op.attr(&["dot_dimension_numbers"])?;
    let get = |n: &str| rec.field(n).and_then(Attr::ints).unwrap_or_default();
    Some((get(lhs), get(rhs)))
}

fn dot_general(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 2)?;
    let (lb, rb) = pair(
        op,
        "batching_dims",
        "lhs_batching_dimensions",
        "rhs_batching_dimensions",
    )
    .unwrap_or_default();
    let (lc, rc) = pair(
        op,
        "contracting_dims",
        "lhs_contracting_dimensions",
        "rhs_contracting_dimensions",
    )
    .unwrap_or_default();
    let to_dims = |v: Vec<i64>| -> PResult<Vec<usize>> {
        v.into_iter()
            .map(|i| usize::try_from(i).map_err(|_| b.err(op.pos, "negative dimension")))
            .collect()
    };
    let d = DotDims {
        lhs_batch: to_dims(lb)?,
        rhs_batch: to_dims(rb)?,
        lhs_contract: to_dims(lc)?,
        rhs_contract: to_dims(rc)?,
    };
    let out = declared(b, op)?.clone();
    general_dot(b, r, op, args, d, &out)
}

/// `stablehlo.dot`: contracts the last lhs dimension with the first rhs one.
fn dot(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 2)?;
    let lr = b.ty(args[0]).rank();
    let out = declared(b, op)?.clone();
    let d = DotDims {
        lhs_contract: vec![lr.saturating_sub(1)],
        rhs_contract: vec![0],
        ..DotDims::default()
    };
    general_dot(b, r, op, args, d, &out)
}

/// graphjit's `dot` for the plain matrix product and matrix-vector product of one dtype
/// (its fast path); `dot_general` for everything else.
fn general_dot(
    b: &mut Builder,
    r: Region,
    op: &OpAst,
    args: &[Value],
    d: DotDims,
    out: &TensorType,
) -> PResult<Vec<Value>> {
    let (lt, rt) = (b.ty(args[0]), b.ty(args[1]));
    let plain = d.lhs_batch.is_empty()
        && lt.rank() == 2
        && (rt.rank() == 2 || rt.rank() == 1)
        && d.lhs_contract == [1]
        && d.rhs_contract == [0]
        && lt.dtype == out.dtype
        && rt.dtype == out.dtype;
    let v = if plain {
        b.emit(r, Op::Dot, args, Some(out), op)?
    } else {
        b.emit(r, Op::DotGeneral { dims: d }, args, Some(out), op)?
    };
    Ok(vec![v])
}
