//! The importer's table: one small function per StableHLO op, mapping it onto graphjit IR.
//!
//! [`builder_for`] is the table. Each builder gets the op's resolved operands and returns
//! its results; [`Builder::emit`] checks graphjit's type rule for every instruction, and the
//! caller checks the declared result types. An op missing from the table is an error naming
//! it, never a guess.

use crate::ir::Region;
use crate::ops::{BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use crate::tensor::{Scalar, Tensor};
use crate::types::{DType, TensorType};

use super::ast::{Attr, OpAst};
use super::build::{dense_tensor, show, Builder, PResult};
use crate::ir::Value;

pub(crate) type BuildFn = fn(&mut Builder, Region, &OpAst, &[Value]) -> PResult<Vec<Value>>;

/// The builder of a StableHLO op, by its full name.
pub(crate) fn builder_for(name: &str) -> Option<BuildFn> {
    let name = name.strip_prefix("stablehlo.").unwrap_or(name);
    Some(match name {
        "constant" => constant,
        "abs" | "negate" | "not" | "exponential" | "log" | "sqrt" | "tanh" | "sine" | "cosine"
        | "floor" | "ceil" | "round_nearest_even" => unary,
        "add"
        | "subtract"
        | "multiply"
        | "divide"
        | "remainder"
        | "minimum"
        | "maximum"
        | "power"
        | "and"
        | "or"
        | "xor"
        | "shift_left"
        | "shift_right_logical"
        | "shift_right_arithmetic" => binary,
        "compare" => compare,
        "chlo.square" => square,
        "select" => select,
        "clamp" => clamp,
        "convert" => convert,
        "reshape" => reshape,
        "broadcast_in_dim" => broadcast_in_dim,
        "transpose" => transpose,
        "slice" => slice,
        "dynamic_slice" => dynamic_slice,
        "dynamic_update_slice" => dynamic_update_slice,
        "concatenate" => concatenate,
        "iota" => iota,
        "reduce" => reduce,
        "reduce_window" => super::regions::reduce_window,
        "sort" => super::regions::sort,
        "scatter" => super::regions::scatter,
        "while" => while_loop,
        "if" => if_op,
        "case" => case,
        "call" | "func.call" => call,
        "optimization_barrier" => identity,
        "custom_call" => custom_call,
        _ => return super::ops_more::builder_for(name),
    })
}

pub(super) fn short(op: &OpAst) -> &str {
    op.name.strip_prefix("stablehlo.").unwrap_or(&op.name)
}

/// The single declared result type, which ops such as `convert` and `reshape` need.
pub(super) fn declared<'o>(b: &Builder, op: &'o OpAst) -> PResult<&'o TensorType> {
    match op.result_types.as_slice() {
        [t] => Ok(t),
        _ => Err(b.err(
            op.pos,
            format!("'{}' needs one declared result type", op.name),
        )),
    }
}

pub(super) fn arity(b: &Builder, op: &OpAst, args: &[Value], n: usize) -> PResult<()> {
    if args.len() != n {
        return Err(b.err(
            op.pos,
            format!("'{}' takes {n} operand(s), got {}", op.name, args.len()),
        ));
    }
    Ok(())
}

/// A list-of-integers attribute under any of `names`, as non-negative indices.
pub(super) fn dims(b: &Builder, op: &OpAst, names: &[&str]) -> PResult<Vec<usize>> {
    let a = op.attr(names).ok_or_else(|| {
        b.err(
            op.pos,
            format!("'{}' needs the attribute '{}'", op.name, names[0]),
        )
    })?;
    ints_as_dims(b, op, a, names[0])
}

pub(super) fn ints_as_dims(b: &Builder, op: &OpAst, a: &Attr, name: &str) -> PResult<Vec<usize>> {
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
                        "attribute '{name}' of '{}' has a negative entry {i}",
                        op.name
                    ),
                )
            })
        })
        .collect()
}

fn constant(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 0)?;
    let ty = declared(b, op)?.clone();
    let t = match op.attr(&["value"]) {
        Some(Attr::Dense(d, _)) => dense_tensor(b.src, d, &ty, op.pos)?,
        _ => return Err(b.err(op.pos, "'stablehlo.constant' needs a 'dense<...>' value")),
    };
    Ok(vec![b.constant(r, t)])
}

fn unary(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let u = match short(op) {
        "abs" => UnaryOp::Abs,
        "negate" => UnaryOp::Neg,
        "not" => UnaryOp::Not,
        "exponential" => UnaryOp::Exp,
        "log" => UnaryOp::Log,
        "sqrt" => UnaryOp::Sqrt,
        "tanh" => UnaryOp::Tanh,
        "sine" => UnaryOp::Sin,
        "cosine" => UnaryOp::Cos,
        "floor" => UnaryOp::Floor,
        "ceil" => UnaryOp::Ceil,
        _ => UnaryOp::Round,
    };
    Ok(vec![b.emit(r, Op::Unary(u), args, None, op)?])
}

/// `chlo.square(x)` is `x * x`.
fn square(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    Ok(vec![b.emit(
        r,
        Op::Binary(BinaryOp::Mul),
        &[args[0], args[0]],
        None,
        op,
    )?])
}

fn binary_of(name: &str) -> Option<BinaryOp> {
    Some(match name {
        "add" => BinaryOp::Add,
        "subtract" => BinaryOp::Sub,
        "multiply" => BinaryOp::Mul,
        "divide" => BinaryOp::Div,
        "remainder" => BinaryOp::Rem,
        "minimum" => BinaryOp::Min,
        "maximum" => BinaryOp::Max,
        "power" => BinaryOp::Pow,
        "and" => BinaryOp::And,
        "or" => BinaryOp::Or,
        "xor" => BinaryOp::Xor,
        "shift_left" => BinaryOp::Shl,
        "shift_right_logical" => BinaryOp::ShrLogical,
        "shift_right_arithmetic" => BinaryOp::ShrArith,
        _ => return None,
    })
}

fn binary(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 2)?;
    let bin = binary_of(short(op)).ok_or_else(|| b.err(op.pos, "not a binary op"))?;
    Ok(vec![b.emit(r, Op::Binary(bin), args, None, op)?])
}

fn is_unsigned(d: DType) -> bool {
    d.name().starts_with('u')
}

fn compare(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 2)?;
    let word = |names: &[&str], pos: usize| {
        op.attr(names)
            .and_then(|a| a.word().map(str::to_string))
            .or_else(|| op.words.get(pos).cloned())
    };
    let dir = word(&["comparison_direction"], 0)
        .ok_or_else(|| b.err(op.pos, "'stablehlo.compare' needs a comparison direction"))?;
    let cmp = match dir.as_str() {
        "EQ" => CmpOp::Eq,
        "NE" => CmpOp::Ne,
        "LT" => CmpOp::Lt,
        "LE" => CmpOp::Le,
        "GT" => CmpOp::Gt,
        "GE" => CmpOp::Ge,
        d => return Err(b.err(op.pos, format!("unknown comparison direction '{d}'"))),
    };
    let dtype = b.ty(args[0]).dtype;
    if let Some(kind) = word(&["compare_type"], 1) {
        let ok = match kind.as_str() {
            "FLOAT" => dtype.is_float(),
            "SIGNED" => dtype == DType::Bool || (dtype.is_int() && !is_unsigned(dtype)),
            "UNSIGNED" => dtype == DType::Bool || is_unsigned(dtype),
            "NOTYPE" => true,
            "TOTALORDER" if dtype.is_float() => {
                let total = match cmp {
                    CmpOp::Eq => CmpOp::TotalEq,
                    CmpOp::Ne => CmpOp::TotalNe,
                    CmpOp::Lt => CmpOp::TotalLt,
                    CmpOp::Le => CmpOp::TotalLe,
                    CmpOp::Gt => CmpOp::TotalGt,
                    _ => CmpOp::TotalGe,
                };
                return Ok(vec![b.emit(r, Op::Compare(total), args, None, op)?]);
            }
            "TOTALORDER" => true,
            k => return Err(b.err(op.pos, format!("unknown compare type '{k}'"))),
        };
        if !ok {
            return Err(b.err(
                op.pos,
                format!("compare type {kind} does not match operands of {}", dtype),
            ));
        }
    }
    Ok(vec![b.emit(r, Op::Compare(cmp), args, None, op)?])
}

/// Broadcasts a scalar `v` to `shape` (the scalar operands StableHLO allows in `select` and
/// `clamp`); other values are returned as they are.
fn splat_to(b: &mut Builder, r: Region, v: Value, shape: &[usize], op: &OpAst) -> PResult<Value> {
    let t = b.ty(v);
    if !t.is_scalar() || shape.is_empty() {
        return Ok(v);
    }
    let ty = TensorType::new(t.dtype, shape.to_vec());
    b.emit(r, Op::Broadcast { dims: Vec::new() }, &[v], Some(&ty), op)
}

/// `select`, with StableHLO's scalar predicate kept as graphjit's scalar-predicate `select`.
fn select(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 3)?;
    Ok(vec![b.emit(r, Op::Select, args, None, op)?])
}

/// `clamp(lo, x, hi)` is `min(max(x, lo), hi)`, StableHLO's own definition.
fn clamp(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 3)?;
    let shape = b.ty(args[1]).shape;
    let lo = splat_to(b, r, args[0], &shape, op)?;
    let hi = splat_to(b, r, args[2], &shape, op)?;
    let m = b.emit(r, Op::Binary(BinaryOp::Max), &[args[1], lo], None, op)?;
    Ok(vec![b.emit(
        r,
        Op::Binary(BinaryOp::Min),
        &[m, hi],
        None,
        op,
    )?])
}

fn convert(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let ty = declared(b, op)?;
    Ok(vec![b.emit(r, Op::Convert, args, Some(ty), op)?])
}

fn reshape(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let ty = declared(b, op)?;
    Ok(vec![b.emit(r, Op::Reshape, args, Some(ty), op)?])
}

fn identity(_: &mut Builder, _: Region, _: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    Ok(args.to_vec())
}

/// StableHLO allows any order of `broadcast_dimensions`; graphjit's `broadcast` wants them
/// increasing, so an unordered one becomes a transpose of the operand first.
fn broadcast_in_dim(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let ty = declared(b, op)?.clone();
    let d = dims(b, op, &["dims", "broadcast_dimensions"])?;
    let mut x = args[0];
    let mut order: Vec<usize> = (0..d.len()).collect();
    order.sort_by_key(|&i| d[i]);
    if order.iter().enumerate().any(|(i, &o)| i != o) && d.len() == b.ty(x).rank() {
        let t = b.ty(x);
        let shape: Vec<usize> = order.iter().map(|&i| t.shape[i]).collect();
        let tt = TensorType::new(t.dtype, shape);
        x = b.emit(
            r,
            Op::Transpose {
                perm: order.clone(),
            },
            &[x],
            Some(&tt),
            op,
        )?;
    }
    let sorted: Vec<usize> = order.iter().map(|&i| d[i]).collect();
    Ok(vec![b.emit(
        r,
        Op::Broadcast { dims: sorted },
        &[x],
        Some(&ty),
        op,
    )?])
}

fn transpose(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let perm = dims(b, op, &["dims", "permutation"])?;
    Ok(vec![b.emit(r, Op::Transpose { perm }, args, None, op)?])
}

fn slice(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let start = dims(b, op, &["start_indices"])?;
    let limit = dims(b, op, &["limit_indices"])?;
    let stride = dims(b, op, &["strides"])?;
    Ok(vec![b.emit(
        r,
        Op::Slice {
            start,
            limit,
            stride,
        },
        args,
        None,
        op,
    )?])
}

fn dynamic_slice(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    let sizes = dims(b, op, &["sizes", "slice_sizes"])?;
    Ok(vec![b.emit(
        r,
        Op::DynamicSlice { sizes },
        args,
        None,
        op,
    )?])
}

fn dynamic_update_slice(
    b: &mut Builder,
    r: Region,
    op: &OpAst,
    args: &[Value],
) -> PResult<Vec<Value>> {
    Ok(vec![b.emit(r, Op::DynamicUpdateSlice, args, None, op)?])
}

fn concatenate(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    let axis = single_dim(b, op, &["dim", "dimension"])?;
    Ok(vec![b.emit(r, Op::Concat { axis }, args, None, op)?])
}

fn single_dim(b: &Builder, op: &OpAst, names: &[&str]) -> PResult<usize> {
    op.attr(names)
        .and_then(Attr::int)
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| {
            b.err(
                op.pos,
                format!("'{}' needs a non-negative integer '{}'", op.name, names[0]),
            )
        })
}

fn iota(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 0)?;
    let axis = single_dim(b, op, &["dim", "iota_dimension"])?;
    let ty = declared(b, op)?;
    Ok(vec![b.emit(r, Op::Iota { axis }, args, Some(ty), op)?])
}

/// The reduction a reducer region computes, when it is one binary op of its two arguments.
fn reducer_kind(op: &OpAst) -> Option<&str> {
    if let Some(a) = &op.applies {
        return Some(a.strip_prefix("stablehlo.").unwrap_or(a));
    }
    let block = op.regions.first()?;
    let [inner, ret] = block.ops.as_slice() else {
        return None;
    };
    let (a, c) = (block.args.first()?, block.args.get(1)?);
    let uses: Vec<&str> = inner.operands.iter().map(|v| v.name.as_str()).collect();
    let args_ok = uses == [a.0.as_str(), c.0.as_str()] || uses == [c.0.as_str(), a.0.as_str()];
    let res = inner.results.first()?;
    let ret_ok =
        ret.name.ends_with("return") && ret.operands.len() == 1 && ret.operands[0].name == res.name;
    (args_ok && ret_ok && block.args.len() == 2).then(|| short(inner))
}

/// The identity of a reduction: an initial value equal to it needs no combining.
fn is_identity(kind: ReduceOp, s: Scalar) -> bool {
    match (kind, s) {
        (ReduceOp::Sum, Scalar::I32(0) | Scalar::I64(0)) => true,
        (ReduceOp::Sum, Scalar::F32(v)) => v == 0.0,
        (ReduceOp::Sum, Scalar::F64(v)) => v == 0.0,
        (ReduceOp::Prod, Scalar::I32(1) | Scalar::I64(1)) => true,
        (ReduceOp::Prod, Scalar::F32(v)) => v == 1.0,
        (ReduceOp::Prod, Scalar::F64(v)) => v == 1.0,
        (ReduceOp::Max, Scalar::I32(i32::MIN) | Scalar::I64(i64::MIN)) => true,
        (ReduceOp::Max, Scalar::F32(v)) => v == f32::NEG_INFINITY,
        (ReduceOp::Max, Scalar::F64(v)) => v == f64::NEG_INFINITY,
        (ReduceOp::Min, Scalar::I32(i32::MAX) | Scalar::I64(i64::MAX)) => true,
        (ReduceOp::Min, Scalar::F32(v)) => v == f32::INFINITY,
        (ReduceOp::Min, Scalar::F64(v)) => v == f64::INFINITY,
        (ReduceOp::And, Scalar::Bool(true) | Scalar::I32(-1) | Scalar::I64(-1)) => true,
        (ReduceOp::Or, Scalar::Bool(false) | Scalar::I32(0) | Scalar::I64(0)) => true,
        _ => false,
    }
}

/// `reduce` whose reducer is one of graphjit's reductions. The initial value is combined
/// with the result once, unless it is the reduction's identity.
fn reduce(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    let kind = if args.len() == 2 {
        reducer_kind(op)
    } else {
        None
    };
    let (rop, bop) = match kind {
        Some("add") => (ReduceOp::Sum, BinaryOp::Add),
        Some("multiply") => (ReduceOp::Prod, BinaryOp::Mul),
        Some("minimum") => (ReduceOp::Min, BinaryOp::Min),
        Some("maximum") => (ReduceOp::Max, BinaryOp::Max),
        Some("and") => (ReduceOp::And, BinaryOp::And),
        Some("or") => (ReduceOp::Or, BinaryOp::Or),
        Some(k) if op.regions.is_empty() => {
            return Err(b.err(
                op.pos,
                format!("op 'stablehlo.reduce' with reducer '{k}' is not supported by graphjit"),
            ))
        }
        // Several inputs (argmax) or any other region: a general `reduce` region op.
        _ => return super::regions::reduce(b, r, op, args),
    };
    if let Some(block) = op.regions.first() {
        let st = TensorType::scalar(b.ty(args[0]).dtype);
        if block.args.iter().any(|(_, t)| *t != st) {
            return Err(b.err(
                block.pos,
                format!("the reducer's arguments must be {}", show(&st)),
            ));
        }
    }
    let mut axes = dims(b, op, &["dimensions"])?;
    axes.sort_unstable();
    let red = b.emit(r, Op::Reduce { op: rop, axes }, &args[..1], None, op)?;
    let init = args[1];
    if !b.ty(init).is_scalar() {
        return Err(b.err(
            op.pos,
            "the initial value of 'stablehlo.reduce' must be a scalar",
        ));
    }
    if b.const_scalar(init).is_some_and(|s| is_identity(rop, s)) {
        return Ok(vec![red]);
    }
    let shape = b.ty(red).shape;
    let init = splat_to(b, r, init, &shape, op)?;
    Ok(vec![b.emit(r, Op::Binary(bop), &[red, init], None, op)?])
}

/// StableHLO's `while` has block arguments in each region; graphjit's shares one set of
/// region arguments between cond and body, so both blocks' arguments name the same values.
fn while_loop(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    let [cond_b, body_b] = op.regions.as_slice() else {
        return Err(b.err(op.pos, "'stablehlo.while' needs a cond and a body region"));
    };
    let types: Vec<TensorType> = args.iter().map(|&v| b.ty(v)).collect();
    let inst =
        b.f.push_inst(r, Op::While, args.to_vec(), types.clone(), Vec::new());
    let carried = b.f.add_region_args(inst, types.clone(), Vec::new());
    let cond = b.f.add_region();
    let c = b.block_with_args(cond, cond_b, &carried, "while's cond region")?;
    b.check_yield(
        &c,
        &[TensorType::scalar(DType::Bool)],
        cond_b.pos,
        "a while condition's types",
    )?;
    b.f.push_inst(cond, Op::Yield, c, Vec::new(), Vec::new());
    let body = b.f.add_region();
    let y = b.block_with_args(body, body_b, &carried, "while's body region")?;
    b.check_yield(&y, &types, b.term_pos, "the loop-carried types")?;
    b.f.push_inst(body, Op::Yield, y, Vec::new(), Vec::new());
    b.f.set_regions(inst, vec![cond, body]);
    Ok(b.f.results(inst).to_vec())
}

/// Emits `if pred { then } else { otherwise }`; the closures build the regions' contents.
fn emit_if(
    b: &mut Builder,
    r: Region,
    op: &OpAst,
    pred: Value,
    types: &[TensorType],
    then: &dyn Fn(&mut Builder, Region) -> PResult<Vec<Value>>,
    otherwise: &dyn Fn(&mut Builder, Region) -> PResult<Vec<Value>>,
) -> PResult<Vec<Value>> {
    let inst =
        b.f.push_inst(r, Op::If, vec![pred], types.to_vec(), Vec::new());
    let mut regions = Vec::new();
    for build in [then, otherwise] {
        let reg = b.f.add_region();
        let y = build(b, reg)?;
        b.check_yield(
            &y,
            types,
            op.pos,
            &format!("the result types of '{}'", op.name),
        )?;
        b.f.push_inst(reg, Op::Yield, y, Vec::new(), Vec::new());
        regions.push(reg);
    }
    b.f.set_regions(inst, regions);
    Ok(b.f.results(inst).to_vec())
}

fn if_op(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let [t, e] = op.regions.as_slice() else {
        return Err(b.err(op.pos, "'stablehlo.if' needs two regions"));
    };
    if b.ty(args[0]) != TensorType::scalar(DType::Bool) {
        return Err(b.err(op.pos, "the predicate of 'stablehlo.if' must be tensor<i1>"));
    }
    emit_if(
        b,
        r,
        op,
        args[0],
        &op.result_types,
        &|b, reg| b.block(reg, t, "if's true branch"),
        &|b, reg| b.block(reg, e, "if's false branch"),
    )
}

/// `case` on an `i32` index (what the spec allows) is graphjit's `case`; on another integer
/// type, a chain of `if`s: `index == 0 ? b0 : index == 1 ? b1 : ... : last`. Either way an
/// out-of-range index runs the last branch, as StableHLO says.
fn case(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    arity(b, op, args, 1)?;
    let it = b.ty(args[0]);
    if !it.is_scalar() || !it.dtype.is_int() {
        return Err(b.err(
            op.pos,
            "the index of 'stablehlo.case' must be a scalar integer",
        ));
    }
    if op.regions.is_empty() {
        return Err(b.err(op.pos, "'stablehlo.case' needs at least one branch"));
    }
    if it.dtype == DType::I32 {
        // graphjit's own n-way `case`, with the spec's rule for an out-of-range index.
        let types = op.result_types.clone();
        let inst =
            b.f.push_inst(r, Op::Case, args.to_vec(), types.clone(), Vec::new());
        let mut regions = Vec::with_capacity(op.regions.len());
        for branch in &op.regions {
            let reg = b.f.add_region();
            let y = b.block(reg, branch, "case branch")?;
            b.check_yield(&y, &types, op.pos, "the result types of 'stablehlo.case'")?;
            b.f.push_inst(reg, Op::Yield, y, Vec::new(), Vec::new());
            regions.push(reg);
        }
        b.f.set_regions(inst, regions);
        return Ok(b.f.results(inst).to_vec());
    }
    if op.regions.len() > 32 {
        return Err(b.err(
            op.pos,
            "'stablehlo.case' on a non-i32 index needs 1 to 32 branches",
        ));
    }
    case_from(b, r, op, args[0], 0)
}

fn case_from(b: &mut Builder, r: Region, op: &OpAst, idx: Value, k: usize) -> PResult<Vec<Value>> {
    let branch = &op.regions[k];
    if k + 1 == op.regions.len() {
        return b.block(r, branch, "case branch");
    }
    let dtype = b.ty(idx).dtype;
    let kv = match dtype.name() {
        "i32" => Scalar::I32(k as i32),
        "i64" => Scalar::I64(k as i64),
        d => return Err(b.err(op.pos, format!("a case index of {d} is not supported"))),
    };
    let kc = b.constant(r, Tensor::from_scalar(kv));
    let pred = b.emit(r, Op::Compare(CmpOp::Eq), &[idx, kc], None, op)?;
    emit_if(
        b,
        r,
        op,
        pred,
        &op.result_types,
        &|b, reg| b.block(reg, branch, "case branch"),
        &|b, reg| case_from(b, reg, op, idx, k + 1),
    )
}

fn call(b: &mut Builder, r: Region, op: &OpAst, args: &[Value]) -> PResult<Vec<Value>> {
    let name = op
        .callee
        .clone()
        .ok_or_else(|| b.err(op.pos, "a call needs a callee"))?;
    b.inline_call(r, &name, args, op)
}

fn custom_call(b: &mut Builder, _: Region, op: &OpAst, _: &[Value]) -> PResult<Vec<Value>> {
    Err(b.err(
        op.pos,
        format!(
            "op 'stablehlo.custom_call' (target @{}) is not supported by graphjit",
            op.callee.as_deref().unwrap_or("?")
        ),
    ))
}
