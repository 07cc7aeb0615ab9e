//! Code generation for region ops. `reduce` is emitted inline: a loop nest over the kept
//! dimensions, an inner loop nest over the reduced ones in row-major order, and the region's
//! scalar program emitted in the inner loop through the instruction selector, on
//! accumulators held in Cranelift variables (the fold order `ops::region_kernels` defines;
//! a single-op region of a reduction kind takes the `reduce.<kind>` fast path and then
//! combines the initial value, as the kernel does). The other region ops call
//! `graphjit_region` (`jit/region.rs`), which runs the shared kernel on their buffers.

use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData};

use super::{Lowerer, Result};
use crate::ir::Inst;
use crate::jit::isel::cl_type;
use crate::jit::plan::EwOp;
use crate::jit::runtime::RuntimeFn;
use crate::ops::region::{Body, RegionOp};
use crate::ops::region_kernels::reduce_kind;
use crate::ops::Op;
use crate::types::{strides, DType};

impl Lowerer<'_, '_> {
    /// Lowers a region op `i`.
    pub(super) fn lower_region_op(&mut self, i: Inst, op: &RegionOp) -> Result<()> {
        if let RegionOp::Reduce { dims } = op {
            let body = self
                .region_call(i)?
                .map(|c| c.body().clone())
                .ok_or_else(|| self.err("a region op has no context"))?;
            return self.lower_reduce_region(i, dims, &body);
        }
        self.call_region_op(i)
    }

    fn region_call(&self, i: Inst) -> Result<Option<&crate::jit::region::RegionCall>> {
        Ok(self.region_calls.get(i.index()).and_then(|c| c.as_deref()))
    }

    /// Emits the region's scalar program on `args` and gives the yielded values.
    pub(super) fn emit_body(
        &mut self,
        body: &Body,
        args: &[clir::Value],
    ) -> Result<Vec<clir::Value>> {
        let mut regs: Vec<clir::Value> = args.to_vec();
        let mut dts: Vec<DType> = body.params.clone();
        for inst in &body.insts {
            let xs = inst
                .args
                .iter()
                .map(|&a| regs.get(a).copied())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.err("a region operand is out of range"))?;
            let v = match &inst.op {
                Op::Const(t) => {
                    let s = t.get(0).ok_or_else(|| self.err("an empty constant"))?;
                    self.isel().constant(s)
                }
                Op::Reshape | Op::Broadcast { .. } => xs[0],
                op => {
                    let ew = EwOp::of(op)
                        .ok_or_else(|| self.err(format!("'{}' in a region", op.name())))?;
                    let in_dt = inst.args.last().map_or(inst.dtype, |&a| dts[a]);
                    let r = self
                        .isel()
                        .emit(ew, in_dt, inst.dtype, cl_type(inst.dtype), &xs);
                    self.selected(r, &op.name())?
                }
            };
            regs.push(v);
            dts.push(inst.dtype);
        }
        body.yields
            .iter()
            .map(|&y| regs.get(y).copied())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.err("a region yield is out of range"))
    }

    fn lower_reduce_region(&mut self, i: Inst, dims: &[usize], body: &Body) -> Result<()> {
        let f = self.f;
        let d = f.inst(i);
        let n = d.args.len() / 2;
        let in_ty = self.ty(d.args[0]);
        let vals = d
            .args
            .iter()
            .map(|&a| self.val(a))
            .collect::<Result<Vec<_>>>()?;
        let (xs, inits) = vals.split_at(n);
        let res_tys: Vec<_> = d.results.iter().map(|&r| self.ty(r)).collect();
        let dts: Vec<DType> = res_tys.iter().map(|t| t.dtype).collect();
        let kind = body.single_binary().and_then(reduce_kind);
        if let (1, Some(k)) = (n, kind.filter(|k| k.accepts(in_ty.dtype))) {
            // `region(init, reduce.<kind>(x))`, element by element.
            let red = self.lower_reduce(k, dims, xs[0], in_ty, res_tys[0], None)?;
            let out = if res_tys[0].is_scalar() {
                self.emit_body(body, &[inits[0], red])?[0]
            } else {
                let count = res_tys[0].num_elements() as u64;
                let dt = dts[0];
                let init = inits[0];
                self.counted_loop(count, &mut |l, e| {
                    let r = l.load_elem(red, e, dt);
                    let v = l.emit_body(body, &[init, r])?[0];
                    l.store_elem(v, red, e, dt);
                    Ok(())
                })?;
                red
            };
            self.define(d.results[0], out);
            return Ok(());
        }
        let shape = &in_ty.shape;
        let st = strides(shape);
        let kept: Vec<usize> = (0..shape.len()).filter(|x| !dims.contains(x)).collect();
        let kept_shape: Vec<usize> = kept.iter().map(|&x| shape[x]).collect();
        let kept_st: Vec<usize> = kept.iter().map(|&x| st[x]).collect();
        let red_shape: Vec<usize> = dims.iter().map(|&x| shape[x]).collect();
        let red_st: Vec<usize> = dims.iter().map(|&x| st[x]).collect();
        let out_st = strides(&kept_shape);
        let scalar_in = in_ty.is_scalar();
        let mut outs = Vec::with_capacity(n);
        for t in &res_tys {
            outs.push(if t.is_scalar() {
                None
            } else {
                Some(self.alloc_tensor(t)?)
            });
        }
        let vars: Vec<_> = dts
            .iter()
            .map(|&dt| self.b.declare_var(cl_type(dt)))
            .collect();
        for (k, &v) in vars.iter().enumerate() {
            self.b.def_var(v, inits[k]);
        }
        self.nest(&kept_shape, &mut |l, o| {
            for (k, &v) in vars.iter().enumerate() {
                l.b.def_var(v, inits[k]);
            }
            let base = l.linear(o, &kept_st, 0);
            l.nest(&red_shape, &mut |l, r| {
                let off = l.linear(r, &red_st, 0);
                let off = l.b.ins().iadd(base, off);
                let mut args = Vec::with_capacity(2 * n);
                for &v in &vars {
                    args.push(l.b.use_var(v));
                }
                for (k, &x) in xs.iter().enumerate() {
                    args.push(if scalar_in {
                        x
                    } else {
                        l.load_elem(x, off, dts[k])
                    });
                }
                let new = l.emit_body(body, &args)?;
                for (&v, &x) in vars.iter().zip(&new) {
                    l.b.def_var(v, x);
                }
                Ok(())
            })?;
            let oi = l.linear(o, &out_st, 0);
            for (k, out) in outs.iter().enumerate() {
                if let Some(p) = *out {
                    let x = l.b.use_var(vars[k]);
                    l.store_elem(x, p, oi, dts[k]);
                }
            }
            Ok(())
        })?;
        for (k, out) in outs.iter().enumerate() {
            let v = match *out {
                Some(p) => p,
                None => self.b.use_var(vars[k]),
            };
            self.define(d.results[k], v);
        }
        Ok(())
    }

    /// Calls `graphjit_region` with arrays of operand and result buffer pointers; rank-0
    /// operands and results go through scratch slots.
    fn call_region_op(&mut self, i: Inst) -> Result<()> {
        let f = self.f;
        let d = f.inst(i);
        let ctx = self
            .region_call(i)?
            .map(|c| c as *const _ as i64)
            .ok_or_else(|| self.err("a region op has no context"))?;
        let flags = MemFlagsData::trusted();
        let arg_arr = self.alloc(8 * d.args.len() as u64)?;
        for (k, &a) in d.args.iter().enumerate() {
            let ty = self.ty(a);
            let v = self.val(a)?;
            let p = if ty.is_scalar() {
                let slot = self.alloc_tensor(ty)?;
                self.b.ins().store(flags, v, slot, 0);
                slot
            } else {
                v
            };
            self.b.ins().store(flags, p, arg_arr, (8 * k) as i32);
        }
        let out_arr = self.alloc(8 * d.results.len() as u64)?;
        let mut outs = Vec::with_capacity(d.results.len());
        for (k, &r) in d.results.iter().enumerate() {
            let p = self.alloc_tensor(self.ty(r))?;
            self.b.ins().store(flags, p, out_arr, (8 * k) as i32);
            outs.push(p);
        }
        let c = self.b.ins().iconst(types::I64, ctx);
        self.calls
            .call(&mut self.b, RuntimeFn::Region, &[c, arg_arr, out_arr]);
        for (&r, &p) in d.results.iter().zip(&outs) {
            let ty = self.ty(r);
            let v = if ty.is_scalar() {
                self.b.ins().load(cl_type(ty.dtype), flags, p, 0)
            } else {
                p
            };
            self.define(r, v);
        }
        Ok(())
    }
}
