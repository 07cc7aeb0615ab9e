//! Code generation for region ops. `reduce` is emitted inline: a loop nest over the kept
//! dimensions, an inner loop nest over the reduced ones in row-major order, and the region's
//! scalar program emitted in the inner loop through the instruction selector, on
//! accumulators held in Cranelift variables (the fold order `ops::region_kernels` defines;
//! a single-op region of a reduction kind takes the `reduce.<kind>` fast path and then
//! combines the initial value, as the kernel does). A `scatter` of one input is inline too:
//! a loop over the updates that reads each start index, checks that the window fits and
//! combines it with the region in a window loop (`x.at[i].add(v)` is a load, an add and a
//! store per update). The other region ops call
//! `graphjit_region` (`jit/region.rs`), which runs the shared kernel on their buffers.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData};

use super::{Lowerer, Result};
use crate::ir::Inst;
use crate::jit::isel::cl_type;
use crate::jit::plan::EwOp;
use crate::jit::runtime::RuntimeFn;
use crate::ops::region::{Body, RegionOp, ScatterDims};
use crate::ops::region_kernels::reduce_kind;
use crate::ops::Op;
use crate::types::{strides, DType};

impl Lowerer<'_, '_> {
    /// Lowers a region op `i`.
    pub(super) fn lower_region_op(&mut self, i: Inst, op: &RegionOp) -> Result<()> {
        let body = self
            .region_call(i)?
            .map(|c| c.body().clone())
            .ok_or_else(|| self.err("a region op has no context"))?;
        match op {
            RegionOp::Reduce { dims } => self.lower_reduce_region(i, dims, &body),
            RegionOp::Scatter(d) if self.f.inst(i).args.len() == 3 => {
                self.lower_scatter(i, d, &body)
            }
            _ => self.call_region_op(i),
        }
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

    /// A scatter of one input, inline: the input is copied into the result, then for each
    /// update (row-major over the update's scatter dimensions) the start is read from the
    /// indices, and a window that fits entirely is combined element by element with the
    /// region emitted in the loop, in the order of `ops::region_kernels::scatter_pairs`.
    fn lower_scatter(&mut self, i: Inst, d: &ScatterDims, body: &Body) -> Result<()> {
        let f = self.f;
        let data = f.inst(i);
        let (x_ty, idx_ty, u_ty) = (
            self.ty(data.args[0]),
            self.ty(data.args[1]),
            self.ty(data.args[2]),
        );
        // Rank-0 operands live in registers: give them buffers.
        let x = self.buffer_of(data.args[0])?;
        let idx = self.buffer_of(data.args[1])?;
        let u = self.buffer_of(data.args[2])?;
        let dt = x_ty.dtype;
        let out = self.alloc_tensor(x_ty)?;
        let bytes = self.byte_size(x_ty);
        self.copy_bytes(out, x, bytes);
        let in_shape = &x_ty.shape;
        let in_st = strides(in_shape);
        let up_shape = &u_ty.shape;
        let up_st = strides(up_shape);
        let idx_st = strides(&idx_ty.shape);
        let in_rank = in_shape.len();
        let window_in: Vec<usize> = (0..in_rank)
            .filter(|x| !d.inserted_window_dims.contains(x) && !d.input_batching_dims.contains(x))
            .collect();
        let up_scatter: Vec<usize> = (0..up_shape.len())
            .filter(|x| !d.update_window_dims.contains(x))
            .collect();
        let has_vec = d.index_vector_dim < idx_ty.rank();
        let mut extent = vec![1usize; in_rank];
        for (k, &ud) in d.update_window_dims.iter().enumerate() {
            extent[window_in[k]] = up_shape[ud];
        }
        if (0..in_rank).any(|x| in_shape[x] < extent[x]) {
            // No window fits (an empty input): the result is the input.
            return self.define_buffer(data.results[0], out);
        }
        let scatter_shape: Vec<usize> = up_scatter.iter().map(|&x| up_shape[x]).collect();
        let up_scatter_st: Vec<usize> = up_scatter.iter().map(|&x| up_st[x]).collect();
        // The index position of each scatter dimension: the indices' dimensions without the
        // index vector dimension, in order.
        let idx_dims: Vec<usize> = (0..idx_ty.rank())
            .filter(|&p| !(has_vec && p == d.index_vector_dim))
            .collect();
        let idx_coefs: Vec<usize> = idx_dims.iter().map(|&p| idx_st[p]).collect();
        let window_shape: Vec<usize> = d.update_window_dims.iter().map(|&x| up_shape[x]).collect();
        let win_up_st: Vec<usize> = d.update_window_dims.iter().map(|&x| up_st[x]).collect();
        let win_in_st: Vec<usize> = window_in.iter().map(|&x| in_st[x]).collect();
        let idx_dt = idx_ty.dtype;
        let signed = idx_dt.is_signed();
        let vec_st = if has_vec {
            idx_st[d.index_vector_dim]
        } else {
            0
        };
        self.nest(&scatter_shape, &mut |l, si| {
            let ibase = l.linear(si, &idx_coefs, 0);
            let mut start: Vec<Option<clir::Value>> = vec![None; in_rank];
            for (k, &od) in d.scatter_dims_to_operand_dims.iter().enumerate() {
                let off = l.b.ins().iadd_imm_s(ibase, (k * vec_st) as i64);
                let raw = l.load_elem(idx, off, idx_dt);
                let v = match (idx_dt.bits() < 64, signed) {
                    (true, true) => l.b.ins().sextend(types::I64, raw),
                    (true, false) => l.b.ins().uextend(types::I64, raw),
                    (false, _) => raw,
                };
                start[od] = Some(v);
            }
            for (b, &ib) in d.input_batching_dims.iter().enumerate() {
                let sb = d.scatter_indices_batching_dims[b];
                let pos = idx_dims
                    .iter()
                    .position(|&p| p == sb)
                    .and_then(|k| si.get(k).copied());
                start[ib] = pos;
            }
            // Whether the whole window fits: 0 <= start <= dim - extent, signed.
            let mut fits: Option<clir::Value> = None;
            let mut base = l.b.ins().iconst(types::I64, 0);
            for dim in 0..in_rank {
                let Some(s) = start[dim] else { continue };
                let room = in_shape[dim] as i64 - extent[dim] as i64;
                let lo = l.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, s, 0);
                let hi = l.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, s, room);
                let ok = l.b.ins().band(lo, hi);
                fits = Some(match fits {
                    Some(f) => l.b.ins().band(f, ok),
                    None => ok,
                });
                let t = l.b.ins().imul_imm_s(s, in_st[dim] as i64);
                base = l.b.ins().iadd(base, t);
            }
            let then_b = l.b.create_block();
            let next_b = l.b.create_block();
            match fits {
                Some(c) => {
                    l.b.ins().brif(c, then_b, &[], next_b, &[]);
                }
                None => {
                    l.b.ins().jump(then_b, &[]);
                }
            }
            l.b.switch_to_block(then_b);
            let ubase = l.linear(si, &up_scatter_st, 0);
            l.nest(&window_shape, &mut |l, wi| {
                let oi = l.linear(wi, &win_in_st, 0);
                let oi = l.b.ins().iadd(base, oi);
                let ou = l.linear(wi, &win_up_st, 0);
                let ou = l.b.ins().iadd(ubase, ou);
                let cur = l.load_elem(out, oi, dt);
                let upd = l.load_elem(u, ou, dt);
                let new = l.emit_body(body, &[cur, upd])?;
                l.store_elem(new[0], out, oi, dt);
                Ok(())
            })?;
            l.b.ins().jump(next_b, &[]);
            l.b.switch_to_block(next_b);
            Ok(())
        })?;
        self.define_buffer(data.results[0], out)
    }

    /// The buffer of an operand: its pointer, or for a rank-0 value a scratch slot it is
    /// stored into.
    fn buffer_of(&mut self, v: crate::ir::Value) -> Result<clir::Value> {
        let ty = self.ty(v);
        let x = self.val(v)?;
        if !ty.is_scalar() {
            return Ok(x);
        }
        let slot = self.alloc_tensor(ty)?;
        self.b.ins().store(MemFlagsData::trusted(), x, slot, 0);
        Ok(slot)
    }

    /// Defines `v` from the buffer `p`: the pointer, or for a rank-0 value its element.
    fn define_buffer(&mut self, v: crate::ir::Value, p: clir::Value) -> Result<()> {
        let ty = self.ty(v);
        let x = if ty.is_scalar() {
            self.b
                .ins()
                .load(cl_type(ty.dtype), MemFlagsData::trusted(), p, 0)
        } else {
            p
        };
        self.define(v, x);
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
