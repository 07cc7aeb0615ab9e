//! Functions the lowering adds to the module beside the entry: outlined parallel loop bodies
//! (`outline.rs`) and compiled regions (`region_fn.rs`). One place declares them, builds
//! them with a `Lowerer` of their own, checks them, defines them and keeps their Cranelift IR
//! for `dump --stage clif`, so the two kinds cannot drift apart.

use cranelift_codegen::ir::{self as clir, InstBuilder, Signature, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::Module;

use super::{Lowerer, Result};

impl Lowerer<'_, '_> {
    /// Declares a function of signature `sig` in the module and builds its body with `build`,
    /// which gets a `Lowerer` positioned in the new function's entry block and the entry's
    /// parameters, and must end the body with its return. The function plans no scratch
    /// memory (it has no frame of the entry's to borrow from). Returns the function's address
    /// in the current function; `what` names it in errors ("a loop body").
    pub(super) fn sub_function<F>(
        &mut self,
        sig: Signature,
        what: &str,
        build: F,
    ) -> Result<clir::Value>
    where
        F: FnOnce(&mut Lowerer<'_, '_>, &[clir::Value]) -> Result<()>,
    {
        let ptr = self.ptr_ty;
        let id = self
            .calls
            .module
            .declare_anonymous_function(&sig)
            .map_err(|e| self.err(format!("declaring {what}: {e}")))?;
        let mut func = clir::Function::with_name_signature(UserFuncName::user(1, id.as_u32()), sig);
        {
            let mut fctx = FunctionBuilderContext::new();
            let mut b = FunctionBuilder::new(&mut func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let p = b.block_params(entry).to_vec();
            let nv = self.f.values.len();
            let mut sub = Lowerer {
                f: self.f,
                b,
                calls: self.calls.fork(),
                vals: vec![None; nv],
                // No scratch is planned (checked below), so the base is never read.
                scratch: p[0],
                scratch_size: 0,
                ptr_ty: ptr,
                config: self.config,
                simd: self.simd,
                plan: self.plan,
                // Sized for every value: an interchanged loop (`interchange.rs`) lowers its
                // scalar instructions here as the entry would.
                deferred: vec![false; nv],
                leaf_srcs: vec![None; nv],
                dest_ptr: vec![None; nv],
                checks: None,
                region_calls: self.region_calls,
                outlined_clif: Vec::new(),
                outlined: true,
                in_place: self.in_place.clone(),
            };
            build(&mut sub, &p)?;
            if sub.scratch_size != 0 {
                return Err(sub.err(format!("{what} planned scratch memory")));
            }
            sub.b.seal_all_blocks();
            let config = sub.config;
            sub.b.finalize(config);
        }
        self.outlined_clif.push(func.clone());
        let mut ctx = self.calls.module.make_context();
        ctx.func = func;
        self.calls
            .module
            .define_function(id, &mut ctx)
            .map_err(|e| self.err(format!("code generation of {what} failed: {e:?}")))?;
        let fref = self.calls.module.declare_func_in_func(id, self.b.func);
        Ok(self.b.ins().func_addr(ptr, fref))
    }
}
