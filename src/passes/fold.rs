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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::parse::parse_function;

    /// Folding decides from the type: a broadcast of a constant to 2^24 elements, and an op on
    /// it, stay unfolded (no constant above the limit exists afterwards), while the same
    /// program at 4 elements folds to one constant of the right value.
    #[test]
    fn large_results_are_never_materialized() {
        let src = |n: usize| {
            format!(
                "func @f(%x: f32[{n}]) -> f32[{n}] {{
  %c = const 2 : f32
  %b = broadcast %c dims=[] : f32[{n}]
  %d = mul %b, %b : f32[{n}]
  %y = add %x, %d : f32[{n}]
  return %y
}}"
            )
        };
        let mut big = parse_function(&src(1 << 24)).expect("parses");
        fold_constants(&mut big);
        for d in &big.insts {
            if let Op::Const(t) = &d.op {
                assert!(t.len() <= FOLD_LIMIT, "a constant of {} elements", t.len());
            }
        }
        assert!(big
            .insts
            .iter()
            .any(|d| matches!(d.op, Op::Broadcast { .. })));

        let mut small = parse_function(&src(4)).expect("parses");
        fold_constants(&mut small);
        let four = Tensor::from_vec(vec![4f32; 4], [4]).expect("tensor");
        assert!(small
            .insts
            .iter()
            .any(|d| matches!(&d.op, Op::Const(t) if *t == four)));
    }
}
