//! The importer's builders of the StableHLO ops that carry a scalar region: variadic or
//! general `reduce`, `reduce_window`, `sort` and `scatter`. Each becomes one graphjit region
//! op ([`crate::ops::region::RegionOp`]) whose region is the StableHLO block, built op by op
//! like any other (its `tensor<f32>` arguments are graphjit's rank-0 values).

use crate::ir::{Region, Value};
use crate::ops::region::{signature, RegionOp, ScatterDims, Window};
use crate::ops::Op;
use crate::types::TensorType;

use super::ast::{Attr, OpAst};
use super::build::{Builder, PResult};

/// Emits `rop` on `args` with the op's single region as its body.
fn region_op(
    b: &mut Builder,
    r: Region,
    op: &OpAst,
    rop: RegionOp,
    args: &[Value],
) -> PResult<Vec<Value>> {
    let tys: Vec<TensorType> = args.iter().map(|&v| b.ty(v)).collect();
    let refs: Vec<&TensorType> = tys.iter().collect();
    let sig =
        signature(&rop, &refs).map_err(|e| b.err(op.pos, format!("'{}': {}", op.name, e.0)))?;
    let [block] = op.regions.as_slice() else {
        return Err(b.err(op.pos, format!("'{}' needs exactly one region", op.name)));
    };
    let inst = b.f.push_inst(
        r,
        Op::Region(rop),
        args.to_vec(),
        sig.results.clone(),
        Vec::new(),
    );
    let n = sig.params.len();
    let rargs = b.f.add_region_args(inst, sig.params.clone(), vec![None; n]);
    let body = b.f.add_region();
    let what = format!("region of '{}'", op.name);
    let y = b.block_with_args(body, block, &rargs, &what)?;
    b.check_yield(&y, &sig.yields, b.term_pos, "the region's result types")?;
    b.f.push_inst(body, Op::Yield, y, Vec::new(), Vec::new());
    b.f.set_regions(inst, vec![body]);
    Ok(b.f.results(inst).to_vec())
}

/// Non-negative integers of attribute `name`, or `default` when it is absent.
fn uints(
    b: &Builder,
    op: &OpAst,
    a: Option<&Attr>,
    name: &str,
    default: Vec<usize>,
) -> PResult<Vec<usize>> {
    let Some(a) = a else { return Ok(default) };
    let v = a.ints().ok_or_else(|| {
        b.err(
            op.pos,
            format!(
                "attribute '{name}' of '{}' must be a list of integers",
                op.name
            ),
        )
    })?;
    v.into_iter()
        .map(|i| {
            usize::try_from(i).map_err(|_| {
                b.err(
                    op.pos,
                    format!(
                        "'{}' with a negative {name} entry ({i}) is not supported by graphjit",
                        op.name
                    ),
                )
            })
        })
        .collect()
}

/// `stablehlo.reduce` with a region that is not one of graphjit's reductions, or with
/// several inputs (argmax): a `reduce` region op.
pub(crate) fn reduce(
    b: &mut Builder,
    r: Region,
    op: &OpAst,
    args: &[Value],
) -> PResult<Vec<Value>> {
    if op.regions.is_empty() {
        return Err(b.err(
            op.pos,
            "op 'stablehlo.reduce' of several inputs needs a reducer region",
        ));
    }
    let mut dims = uints(b, op, op.attr(&["dimensions"]), "dimensions", Vec::new())?;
    dims.sort_unstable();
    region_op(b, r, op, RegionOp::Reduce { dims }, args)
}

pub(crate) fn reduce_window(
    b: &mut Builder,
    r: Region,
    op: &OpAst,
    args: &[Value],
) -> PResult<Vec<Value>> {
    let rank = args.first().map_or(0, |&v| b.ty(v).rank());
    let dims = uints(
        b,
        op,
        op.attr(&["window_dimensions"]),
        "window_dimensions",
        Vec::new(),
    )?;
    let ones = vec![1; rank];
    let strides = uints(
        b,
        op,
        op.attr(&["window_strides"]),
        "window_strides",
        ones.clone(),
    )?;
    let base_dilations = uints(
        b,
        op,
        op.attr(&["base_dilations"]),
        "base_dilations",
        ones.clone(),
    )?;
    let window_dilations = uints(
        b,
        op,
        op.attr(&["window_dilations"]),
        "window_dilations",
        ones,
    )?;
    let pads = uints(b, op, op.attr(&["padding"]), "padding", vec![0; 2 * rank])?;
    if pads.len() != 2 * rank {
        return Err(b.err(
            op.pos,
            format!("'{}' needs {rank} (low, high) padding pairs", op.name),
        ));
    }
    let w = Window {
        dims,
        strides,
        base_dilations,
        window_dilations,
        pad_low: pads.iter().step_by(2).copied().collect(),
        pad_high: pads.iter().skip(1).step_by(2).copied().collect(),
    };
    region_op(b, r, op, RegionOp::ReduceWindow(w), args)
}

pub(crate) fn sort(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    let rank = args.first().map_or(0, |&v| b.ty(v).rank()) as i64;
    let d = op.attr(&["dimension"]).and_then(Attr::int).unwrap_or(-1);
    let d = if d < 0 { d + rank } else { d };
    if d < 0 || d >= rank {
        return Err(b.err(
            op.pos,
            format!("'{}' dimension is out of range for rank {rank}", op.name),
        ));
    }
    let stable = matches!(op.attr(&["is_stable"]), Some(Attr::Bool(true)));
    region_op(
        b,
        r,
        op,
        RegionOp::Sort {
            dim: d as usize,
            stable,
        },
        args,
    )
}

pub(crate) fn scatter(
    b: &mut Builder,
    r: Region,
    op: &OpAst,
    args: &[Value],
) -> PResult<Vec<Value>> {
    let dn = op.attr(&["scatter_dimension_numbers"]).ok_or_else(|| {
        b.err(
            op.pos,
            "'stablehlo.scatter' needs scatter_dimension_numbers",
        )
    })?;
    let list = |name: &str| uints(b, op, dn.field(name), name, Vec::new());
    let index_vector_dim = match dn.field("index_vector_dim") {
        None => 0,
        Some(a) => {
            let v = a
                .int()
                .or_else(|| a.ints().and_then(|l| l.first().copied()));
            match v.map(usize::try_from) {
                Some(Ok(v)) => v,
                _ => {
                    return Err(b.err(
                        op.pos,
                        "'stablehlo.scatter' index_vector_dim must be a non-negative integer",
                    ))
                }
            }
        }
    };
    let d = ScatterDims {
        update_window_dims: list("update_window_dims")?,
        inserted_window_dims: list("inserted_window_dims")?,
        input_batching_dims: list("input_batching_dims")?,
        scatter_indices_batching_dims: list("scatter_indices_batching_dims")?,
        scatter_dims_to_operand_dims: list("scatter_dims_to_operand_dims")?,
        index_vector_dim,
    };
    region_op(b, r, op, RegionOp::Scatter(d), args)
}
