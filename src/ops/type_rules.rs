//! The type rule of every op without regions ([`infer`]): the result type from the operand
//! types, or what is wrong. Ops whose rules are long have theirs next to their kernels
//! (`index`, `layout`, `pad`, `gather`, `dot_general`); region ops are checked in `region`.

use super::{dot_general, gather, index, layout, pad, BinaryOp, Op, TypeError};
use crate::types::{DType, TensorType};

macro_rules! type_err {
    ($($t:tt)*) => { return Err(TypeError(format!($($t)*))) };
}

/// The type `bitcast_convert` gives a value of type `x` as `to`, by StableHLO's width rule
/// (see [`Op::BitcastConvert`]). An operand that does not fit gets a type that [`infer`] then
/// rejects with its own message.
pub fn bitcast_type(x: &TensorType, to: DType) -> TensorType {
    let (wa, wb) = (x.dtype.bits() as usize, to.bits() as usize);
    let mut shape = x.shape.clone();
    if wa > wb && wb > 1 {
        shape.push(wa / wb);
    } else if wa < wb {
        shape.pop();
    }
    TensorType::new(to, shape)
}

fn expect_arity(op: &Op, args: &[&TensorType], n: usize) -> Result<(), TypeError> {
    if args.len() != n {
        type_err!(
            "'{}' takes {n} operand{}, got {}",
            op.name(),
            if n == 1 { "" } else { "s" },
            args.len()
        );
    }
    Ok(())
}

fn check_axes_increasing(what: &str, axes: &[usize], rank: usize) -> Result<(), TypeError> {
    for (i, &a) in axes.iter().enumerate() {
        if a >= rank {
            type_err!("{what} {a} is out of range for rank {rank}");
        }
        if i > 0 && axes[i - 1] >= a {
            type_err!("{what} must be strictly increasing, got {axes:?}");
        }
    }
    Ok(())
}

/// The type rule of every op without regions: given the operand types (and, for ops whose
/// result type is an attribute of the instruction, the declared result type), the result
/// type, or what is wrong. `While`, `If`, `Yield` and `Return` are checked by the verifier,
/// which sees their regions.
///
/// `declared` is the result type written in the IR; it is required by `const`, `convert`,
/// `reshape`, `broadcast` and `iota`, whose result type is not a function of their operands.
pub fn infer(
    op: &Op,
    args: &[&TensorType],
    declared: Option<&TensorType>,
) -> Result<TensorType, TypeError> {
    let need_declared = || {
        declared
            .cloned()
            .ok_or_else(|| TypeError(format!("'{}' needs a declared result type", op.name())))
    };
    match op {
        Op::Const(t) => {
            expect_arity(op, args, 0)?;
            let d = need_declared()?;
            if t.ty() != d {
                type_err!("constant of type {} declared as {d}", t.ty());
            }
            Ok(d)
        }
        Op::Unary(u) => {
            expect_arity(op, args, 1)?;
            if !u.accepts(args[0].dtype) {
                type_err!("'{}' is not defined on {}", u.name(), args[0].dtype);
            }
            Ok(args[0].clone())
        }
        Op::Binary(b) => {
            expect_arity(op, args, 2)?;
            if args[0] != args[1] {
                let hint = if args[0].dtype == args[1].dtype {
                    " (broadcast explicitly)"
                } else {
                    " (convert explicitly)"
                };
                type_err!(
                    "'{}' needs operands of one type, got {} and {}{hint}",
                    b.name(),
                    args[0],
                    args[1]
                );
            }
            if !b.accepts(args[0].dtype) {
                type_err!("'{}' is not defined on {}", b.name(), args[0].dtype);
            }
            Ok(args[0].clone())
        }
        Op::Compare(c) => {
            expect_arity(op, args, 2)?;
            if args[0] != args[1] {
                type_err!(
                    "'{}' needs operands of one type, got {} and {}",
                    c.name(),
                    args[0],
                    args[1]
                );
            }
            Ok(TensorType::new(DType::Bool, args[0].shape.clone()))
        }
        Op::Select => {
            expect_arity(op, args, 3)?;
            // StableHLO allows a scalar predicate that picks a whole operand.
            if args[0].dtype != DType::Bool
                || (args[0].shape != args[1].shape && !args[0].is_scalar())
            {
                type_err!(
                    "'select' needs a bool predicate of the operands' shape or a scalar one, got {}",
                    args[0]
                );
            }
            if args[1] != args[2] {
                type_err!(
                    "'select' needs operands of one type, got {} and {}",
                    args[1],
                    args[2]
                );
            }
            Ok(args[1].clone())
        }
        Op::Convert => {
            expect_arity(op, args, 1)?;
            let d = need_declared()?;
            if d.shape != args[0].shape {
                type_err!("'convert' keeps the shape: {} cannot become {d}", args[0]);
            }
            Ok(d)
        }
        Op::BitcastConvert => {
            expect_arity(op, args, 1)?;
            let d = need_declared()?;
            let (a, b) = (args[0].dtype, d.dtype);
            if a == DType::Bool || b == DType::Bool {
                type_err!(
                    "'bitcast_convert' is not defined on bool: {} cannot become {d}",
                    args[0]
                );
            }
            let (wa, wb) = (a.bits() as usize, b.bits() as usize);
            let mut shape = args[0].shape.clone();
            if wa > wb {
                shape.push(wa / wb);
            } else if wa < wb && shape.pop() != Some(wb / wa) {
                type_err!(
                    "'bitcast_convert' from {} to {b} needs a last dimension of {}",
                    args[0],
                    wb / wa
                );
            }
            if d.shape != shape {
                type_err!(
                    "'bitcast_convert' of {} to {b} gives {}, not {d}",
                    args[0],
                    TensorType::new(b, shape)
                );
            }
            Ok(d)
        }
        Op::Broadcast { dims } => {
            expect_arity(op, args, 1)?;
            let d = need_declared()?;
            if d.dtype != args[0].dtype {
                type_err!("'broadcast' keeps the dtype: {} cannot become {d}", args[0]);
            }
            if dims.len() != args[0].rank() {
                type_err!(
                    "'broadcast' needs one entry in dims per operand dimension: {} has rank {}, dims has {}",
                    args[0],
                    args[0].rank(),
                    dims.len()
                );
            }
            check_axes_increasing("broadcast dimension", dims, d.rank())?;
            for (i, &r) in dims.iter().enumerate() {
                let (s, t) = (args[0].shape[i], d.shape[r]);
                if s != t && s != 1 {
                    type_err!(
                        "'broadcast' cannot stretch dimension {i} of {} (size {s}) to size {t}",
                        args[0]
                    );
                }
            }
            Ok(d)
        }
        Op::Reshape => {
            expect_arity(op, args, 1)?;
            let d = need_declared()?;
            if d.dtype != args[0].dtype || d.num_elements() != args[0].num_elements() {
                type_err!(
                    "'reshape' keeps the dtype and element count: {} cannot become {d}",
                    args[0]
                );
            }
            Ok(d)
        }
        Op::Transpose { perm } => {
            expect_arity(op, args, 1)?;
            let r = args[0].rank();
            let mut seen = vec![false; r];
            if perm.len() != r {
                type_err!("'transpose' needs a permutation of {r} axes, got {perm:?}");
            }
            for &p in perm {
                if p >= r || seen[p] {
                    type_err!("'transpose' needs a permutation of 0..{r}, got {perm:?}");
                }
                seen[p] = true;
            }
            let shape = perm.iter().map(|&p| args[0].shape[p]).collect::<Vec<_>>();
            Ok(TensorType::new(args[0].dtype, shape))
        }
        Op::Slice {
            start,
            limit,
            stride,
        } => {
            expect_arity(op, args, 1)?;
            let r = args[0].rank();
            if start.len() != r || limit.len() != r || stride.len() != r {
                type_err!(
                    "'slice' needs start, limit and stride of {r} entries each for {}",
                    args[0]
                );
            }
            let mut shape = Vec::with_capacity(r);
            for d in 0..r {
                let (s, l, k, n) = (start[d], limit[d], stride[d], args[0].shape[d]);
                if k == 0 || s > l || l > n {
                    type_err!(
                        "'slice' dimension {d} needs 0 <= start <= limit <= {n} and stride >= 1, got start {s}, limit {l}, stride {k}"
                    );
                }
                shape.push((l - s).div_ceil(k));
            }
            Ok(TensorType::new(args[0].dtype, shape))
        }
        Op::Concat { axis } => {
            if args.is_empty() {
                type_err!("'concat' needs at least one operand");
            }
            let first = args[0];
            if *axis >= first.rank() {
                type_err!("'concat' axis {axis} is out of range for {first}");
            }
            let mut total = 0usize;
            for a in args {
                let same_other = a.rank() == first.rank()
                    && a.dtype == first.dtype
                    && (0..a.rank()).all(|d| d == *axis || a.shape[d] == first.shape[d]);
                if !same_other {
                    type_err!("'concat' along axis {axis} cannot join {first} and {a}");
                }
                total = total.saturating_add(a.shape[*axis]);
            }
            let mut shape = first.shape.clone();
            shape[*axis] = total;
            Ok(TensorType::new(first.dtype, shape))
        }
        Op::Iota { axis } => {
            expect_arity(op, args, 0)?;
            let d = need_declared()?;
            if *axis >= d.rank() {
                type_err!("'iota' axis {axis} is out of range for {d}");
            }
            if !d.dtype.is_numeric() {
                type_err!("'iota' needs a numeric type, got {d}");
            }
            Ok(d)
        }
        Op::Reduce { op: r, axes } => {
            expect_arity(op, args, 1)?;
            if !r.accepts(args[0].dtype) {
                type_err!("'reduce.{}' is not defined on {}", r.name(), args[0].dtype);
            }
            check_axes_increasing("reduce axis", axes, args[0].rank())?;
            let shape = (0..args[0].rank())
                .filter(|d| !axes.contains(d))
                .map(|d| args[0].shape[d])
                .collect::<Vec<_>>();
            Ok(TensorType::new(args[0].dtype, shape))
        }
        Op::Dot => {
            expect_arity(op, args, 2)?;
            let (a, b) = (args[0], args[1]);
            if a.dtype != b.dtype || !a.dtype.is_numeric() {
                type_err!("'dot' needs numeric operands of one dtype, got {a} and {b}");
            }
            match (a.rank(), b.rank()) {
                (2, 2) if a.shape[1] == b.shape[0] => {
                    Ok(TensorType::new(a.dtype, vec![a.shape[0], b.shape[1]]))
                }
                (2, 1) if a.shape[1] == b.shape[0] => {
                    Ok(TensorType::new(a.dtype, vec![a.shape[0]]))
                }
                _ => type_err!("'dot' needs [m,k] x [k,n] or [m,k] x [k], got {a} and {b}"),
            }
        }
        Op::DynamicSlice { sizes } => index::infer_dynamic_slice(args, sizes),
        Op::DynamicUpdateSlice => index::infer_dynamic_update_slice(args),
        Op::Clamp => {
            expect_arity(op, args, 3)?;
            let (lo, x, hi) = (args[0], args[1], args[2]);
            for (what, b) in [("min", lo), ("max", hi)] {
                if b.dtype != x.dtype || (b != x && !b.is_scalar()) {
                    type_err!("'clamp' {what} must have the type of {x} or be a scalar of its dtype, got {b}");
                }
            }
            if !BinaryOp::Max.accepts(x.dtype) {
                type_err!("'clamp' is not defined on {}", x.dtype);
            }
            Ok(x.clone())
        }
        Op::Reverse { dims } => {
            expect_arity(op, args, 1)?;
            layout::infer_reverse(args[0], dims)
        }
        Op::Pad {
            low,
            high,
            interior,
        } => pad::infer_pad(args, low, high, interior),
        Op::Gather { dims } => gather::infer_gather(args, dims),
        Op::DotGeneral { dims } => dot_general::infer_dot_general(args, dims, declared),
        Op::Region(_) | Op::While | Op::If | Op::Case | Op::Yield | Op::Return => {
            type_err!(
                "'{}' is checked with its regions by the verifier",
                op.name()
            )
        }
    }
}
