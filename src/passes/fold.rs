//! Constant folding: a pure op whose operands are all constants becomes a constant.

use crate::ir::Function;
use crate::ops::{kernels, Op};
use crate::tensor::Tensor;

/// The largest folded result, in elements. Folding a big tensor would trade a cheap loop (or,
/// for a broadcast scalar, no loop at all: the backend reads the scalar in the consumer's
/// loop) for a large constant built at compile time.
const FOLD_LIMIT: usize = 1 << 12;

/// Replaces each pure op whose operands are constants with a constant holding its value.
/// Values are computed with the interpreter's kernels, so folding never changes a result.
pub fn fold_constants(f: &mut Function) {
    let mut consts: Vec<Option<Tensor>> = vec![None; f.values.len()];
    for r in super::regions_preorder(f) {
        for idx in 0..f.region(r).insts.len() {
            let i = f.region(r).insts[idx];
            let inst = f.inst(i);
            let folded = match &inst.op {
                Op::Const(t) => Some(t.clone()),
                // A constant has one result: ops with several (a variadic reduce, a sort of
                // several operands) are left to run.
                op if op.is_pure() && !inst.args.is_empty() && inst.results.len() == 1 => {
                    let args: Option<Vec<&Tensor>> = inst
                        .args
                        .iter()
                        .map(|a| consts[a.index()].as_ref())
                        .collect();
                    // The result's size is known from its type: a tensor too big to fold is
                    // never computed, so compile time does not grow with tensor size.
                    let ty = f.ty(inst.results[0]);
                    match args {
                        Some(args) if ty.num_elements() <= FOLD_LIMIT => {
                            kernels::eval(op, &args, ty).ok()
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(t) = folded {
                let v = inst.results[0];
                consts[v.index()] = Some(t.clone());
                let inst = &mut f.insts[i.index()];
                if !matches!(inst.op, Op::Const(_)) {
                    inst.op = Op::Const(t);
                    inst.args.clear();
                }
            }
        }
    }
}
