//! IR-to-IR passes: constant folding, common-subexpression elimination, dead-code elimination.
//!
//! The compiler runs [`optimize`] before translating to Cranelift, and `graphjit dump --stage
//! opt` prints its result. Folding evaluates ops with the interpreter's kernels
//! ([`crate::ops::kernels::eval`]), so a folded constant has exactly the bits the executors
//! would have computed at run time. The interpreter, as the reference, runs the IR as written.

mod cse;
mod dce;
mod fold;

pub use cse::eliminate_common_subexpressions;
pub use dce::eliminate_dead_code;
pub use fold::fold_constants;

use crate::ir::{print::canonicalize, Function, Region};

/// The pass pipeline: fold, CSE, DCE, then renumber into canonical order.
pub fn optimize(f: &Function) -> Function {
    let mut f = f.clone();
    fold_constants(&mut f);
    eliminate_common_subexpressions(&mut f);
    eliminate_dead_code(&mut f);
    canonicalize(&f)
}

/// Calls `visit` on every region reachable from the body, outer regions before inner ones.
pub(crate) fn regions_preorder(f: &Function) -> Vec<Region> {
    let mut out = Vec::new();
    let mut stack = vec![f.body];
    while let Some(r) = stack.pop() {
        out.push(r);
        for &i in f.region(r).insts.iter().rev() {
            for &sub in f.inst(i).regions.iter().rev() {
                stack.push(sub);
            }
        }
    }
    out
}
