//! A region compiled into a function of its own, for the kernels that call their region
//! per element or per comparison (`sort`, scatters of several inputs: see
//! `ops::region_fn`). The function is `fn(a, b, out)` on three pointers to arrays of 8-byte
//! slots: it loads the region's arguments from `a` and `b` (each element in the low bytes
//! of its slot, as `Elem::to_reg` puts it), runs the region's program through the
//! instruction selector (`emit_body`, the code inline regions use, so the bits of every
//! scalar op are the interpreter's) and stores the yields into `out`, one slot each, in the
//! yield's own width. It never traps and touches nothing else.

use cranelift_codegen::ir::{self as clir, AbiParam, InstBuilder, MemFlagsData};
use cranelift_module::Module;

use super::{Lowerer, Result};
use crate::jit::isel::cl_type;
use crate::ops::region::Body;

/// Where a compiled region finds its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// A comparator's: argument `2k` is `a[k]` and `2k + 1` is `b[k]` (lhs and rhs of
    /// operand `k`).
    Pairs,
    /// A fold's: the first half of the arguments is `a` (the accumulators), the second `b`
    /// (the new elements).
    Halves,
}

impl Lowerer<'_, '_> {
    /// Compiles `body` into a new function of the module (see the module doc) and gives its
    /// address in the current function.
    pub(super) fn region_fn_addr(&mut self, body: &Body, layout: Layout) -> Result<clir::Value> {
        let ptr = self.ptr_ty;
        let mut sig = self.calls.module.make_signature();
        sig.params.extend([AbiParam::new(ptr); 3]);
        self.sub_function(sig, "a region function", |sub, p| {
            let flags = MemFlagsData::trusted();
            let half = body.params.len() / 2;
            let args: Vec<clir::Value> = body
                .params
                .iter()
                .enumerate()
                .map(|(k, &dt)| {
                    let (src, slot) = match layout {
                        Layout::Pairs => (p[k % 2], k / 2),
                        Layout::Halves if k < half => (p[0], k),
                        Layout::Halves => (p[1], k - half),
                    };
                    sub.b.ins().load(cl_type(dt), flags, src, (8 * slot) as i32)
                })
                .collect();
            let ys = sub.emit_body(body, &args)?;
            for (k, &y) in ys.iter().enumerate() {
                sub.b.ins().store(flags, y, p[2], (8 * k) as i32);
            }
            sub.b.ins().return_(&[]);
            Ok(())
        })
    }
}
