//! A region compiled into a function of its own, for the kernels that call their region
//! per element or per comparison (`sort`, scatters of several inputs: see
//! `ops::region_fn`). The function is `fn(a, b, out)` on three pointers to arrays of 8-byte
//! slots: it loads the region's arguments from `a` and `b` (each element in the low bytes
//! of its slot, as `Elem::to_reg` puts it), runs the region's program through the
//! instruction selector (`emit_body`, the code inline regions use, so the bits of every
//! scalar op are the interpreter's) and stores the yields into `out`, one slot each, in the
//! yield's own width. It never traps and touches nothing else.

use cranelift_codegen::ir::{self as clir, AbiParam, InstBuilder, MemFlagsData, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
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
        let id = self
            .calls
            .module
            .declare_anonymous_function(&sig)
            .map_err(|e| self.err(format!("declaring a region function: {e}")))?;
        let mut func = clir::Function::with_name_signature(UserFuncName::user(1, id.as_u32()), sig);
        {
            let mut fctx = FunctionBuilderContext::new();
            let mut b = FunctionBuilder::new(&mut func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let p = b.block_params(entry).to_vec();
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
                    b.ins().load(cl_type(dt), flags, src, (8 * slot) as i32)
                })
                .collect();
            let mut sub = Lowerer {
                f: self.f,
                b,
                calls: self.calls.fork(),
                vals: Vec::new(),
                // A region plans no scratch (checked below); its base is never read.
                scratch: p[2],
                scratch_size: 0,
                ptr_ty: ptr,
                config: self.config,
                simd: self.simd,
                plan: self.plan,
                deferred: Vec::new(),
                leaf_srcs: Vec::new(),
                dest_ptr: Vec::new(),
                checks: None,
                region_calls: self.region_calls,
                outlined_clif: Vec::new(),
                outlined: true,
                in_place: Vec::new(),
            };
            let ys = sub.emit_body(body, &args)?;
            if sub.scratch_size != 0 {
                return Err(sub.err("a compiled region planned scratch memory"));
            }
            for (k, &y) in ys.iter().enumerate() {
                sub.b.ins().store(flags, y, p[2], (8 * k) as i32);
            }
            sub.b.ins().return_(&[]);
            sub.b.seal_all_blocks();
            let config = sub.config;
            sub.b.finalize(config);
        }
        self.outlined_clif.push(func.display().to_string());
        let mut ctx = self.calls.module.make_context();
        ctx.func = func;
        self.calls
            .module
            .define_function(id, &mut ctx)
            .map_err(|e| self.err(format!("code generation of a region failed: {e:?}")))?;
        let fref = self.calls.module.declare_func_in_func(id, self.b.func);
        Ok(self.b.ins().func_addr(ptr, fref))
    }
}
