//! Code generation for region ops. `reduce` is emitted inline: a loop nest over the kept
//! dimensions, an inner loop nest over the reduced ones in row-major order, and the region's
//! scalar program emitted in the inner loop through the instruction selector, on
//! accumulators held in Cranelift variables (the fold order `ops::region_kernels` defines;
//! a single-op region of a reduction kind takes the `reduce.<kind>` fast path and then
//! combines the initial value, as the kernel does). When the region has keep conditions
//! (`Body::keep_conditions`, argmax's `acc > x` and `acc != acc`), each is tested with a
//! branch to the next element before the rest of the region is emitted, and an `iota` input
//! is the loop counter (`region_reads`). A `scatter` of one input is inline too:
//! a loop over the updates that reads each start index, checks that the window fits (only
//! the bounds its index dtype can cross) and combines it with the region in a window loop
//! (`x.at[i].add(1)` is a load, an add and a store per update; a splat update is a
//! register). A prefix `reduce_window` (`cumsum`) is a running scan inline, any other window
//! a fold per output inline (`region_window`), a rank-0 window one step of the region.
//! `sort` and scatters of several inputs call their shared kernel (`graphjit_sort`,
//! `graphjit_scatter` in `jit/region.rs`) with their region compiled into a function of its
//! own (`region_fn`), which the kernel calls per comparison or update.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData};

use cranelift_frontend::Variable;

use super::region_fn::Layout;
use super::region_reads::Src;
use super::{Lowerer, Result};
use crate::ir::Inst;
use crate::jit::isel::cl_type;
use crate::jit::plan::EwOp;
use crate::jit::runtime::RuntimeFn;
use crate::ops::region::{Body, RegionOp, ScatterDims};
use crate::ops::region_kernels::{prefix_scan_dim, reduce_kind};
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
            RegionOp::ReduceWindow(w) => match self.prefix_scan(i, w) {
                Some(dim) => self.lower_prefix_scan(i, dim, &body),
                None if self.window_inline(i) => self.lower_window(i, w, &body),
                None => self.lower_scalar_window(i, &body),
            },
            RegionOp::Sort { .. } => {
                // The comparator, or the function of the key it compares, compiled; the
                // kernel calls the one its path needs (the other address is null).
                let (less, key) = match body.sort_key() {
                    None => (Some(body.clone()), None),
                    Some((_, _, slot)) if slot >= body.params.len() => {
                        let mut k = body.clone();
                        k.yields = vec![slot];
                        (None, Some(k))
                    }
                    Some(_) => (None, None),
                };
                let mut fns = Vec::with_capacity(2);
                for b in [less, key] {
                    fns.push(match b {
                        Some(b) => self.region_fn_addr(&b, Layout::Pairs)?,
                        None => self.b.ins().iconst(types::I64, 0),
                    });
                }
                self.call_region_kernel(i, RuntimeFn::Sort, &fns)
            }
            RegionOp::Scatter(_) => {
                let update = self.region_fn_addr(&body, Layout::Halves)?;
                self.call_region_kernel(i, RuntimeFn::Scatter, &[update])
            }
        }
    }

    /// The scanned dimension when `reduce_window` `i` is a prefix window whose results have
    /// its inputs' shape (always, for a verified prefix window; checked all the same).
    fn prefix_scan(&self, i: Inst, w: &crate::ops::region::Window) -> Option<usize> {
        let d = self.f.inst(i);
        let shape = &self.ty(*d.args.first()?).shape;
        let dim = prefix_scan_dim(shape, w)?;
        d.results
            .iter()
            .all(|&r| &self.ty(r).shape == shape)
            .then_some(dim)
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
        let mut regs = body_regs(body, args);
        self.emit_slots(body, &mut regs, &body.yields)?;
        self.slots(&regs, &body.yields)
    }

    /// The registers of `slots`, which must have been emitted.
    fn slots(&self, regs: &[Option<clir::Value>], slots: &[usize]) -> Result<Vec<clir::Value>> {
        slots
            .iter()
            .map(|&y| regs.get(y).copied().flatten())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.err("a region slot is out of range"))
    }

    /// Emits the instructions of `body` that `want` depends on and that are not in `regs`
    /// yet, in program order, and records their registers in `regs` (so a later call in a
    /// dominated block reuses them).
    fn emit_slots(
        &mut self,
        body: &Body,
        regs: &mut [Option<clir::Value>],
        want: &[usize],
    ) -> Result<()> {
        let np = body.params.len();
        let mut need = vec![false; regs.len()];
        for &w in want {
            *need
                .get_mut(w)
                .ok_or_else(|| self.err("a region yield is out of range"))? = true;
        }
        for s in (np..regs.len()).rev() {
            if need[s] && regs[s].is_none() {
                for &a in &body.insts[s - np].args {
                    if let Some(n) = need.get_mut(a) {
                        *n = true;
                    }
                }
            }
        }
        let dtype_of = |s: usize| match s.checked_sub(np) {
            None => body.params[s],
            Some(k) => body.insts[k].dtype,
        };
        for s in np..regs.len() {
            if !need[s] || regs[s].is_some() {
                continue;
            }
            let inst = &body.insts[s - np];
            let xs = inst
                .args
                .iter()
                .map(|&a| regs.get(a).copied().flatten())
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
                    let in_dt = inst.args.last().map_or(inst.dtype, |&a| dtype_of(a));
                    let r = self
                        .isel()
                        .emit(ew, in_dt, inst.dtype, cl_type(inst.dtype), &xs);
                    self.selected(r, &op.name())?
                }
            };
            regs[s] = Some(v);
        }
        Ok(())
    }

    /// One step of a fold: the region on `(accumulators, elements)` assigned to `vars`.
    /// When the region has keep conditions ([`Body::keep_conditions`]), each is tested with
    /// a branch straight to the next element, and the rest of the region runs only when
    /// none holds (the argmax loop: one compare and one branch per element on most data).
    pub(super) fn fold_step(
        &mut self,
        body: &Body,
        keep: &[usize],
        vars: &[Variable],
        elems: &[clir::Value],
    ) -> Result<()> {
        let mut args: Vec<clir::Value> = vars.iter().map(|&v| self.b.use_var(v)).collect();
        args.extend_from_slice(elems);
        let mut regs = body_regs(body, &args);
        let cont = (!keep.is_empty()).then(|| self.b.create_block());
        if let Some(cont) = cont {
            for &c in keep {
                self.emit_slots(body, &mut regs, &[c])?;
                let cv = self.slots(&regs, &[c])?[0];
                let next = self.b.create_block();
                self.b.set_cold_block(next);
                self.b.ins().brif(cv, cont, &[], next, &[]);
                self.b.switch_to_block(next);
            }
        }
        self.emit_slots(body, &mut regs, &body.yields)?;
        let new = self.slots(&regs, &body.yields)?;
        for (&v, &x) in vars.iter().zip(&new) {
            self.b.def_var(v, x);
        }
        if let Some(cont) = cont {
            self.b.ins().jump(cont, &[]);
            self.b.switch_to_block(cont);
        }
        Ok(())
    }

    fn lower_reduce_region(&mut self, i: Inst, dims: &[usize], body: &Body) -> Result<()> {
        let f = self.f;
        let d = f.inst(i);
        let n = d.args.len() / 2;
        let in_ty = self.ty(d.args[0]);
        let inits = d.args[n..]
            .iter()
            .map(|&a| self.val(a))
            .collect::<Result<Vec<_>>>()?;
        let res_tys: Vec<_> = d.results.iter().map(|&r| self.ty(r)).collect();
        let dts: Vec<DType> = res_tys.iter().map(|t| t.dtype).collect();
        let kind = body.single_binary().and_then(reduce_kind);
        if let (1, Some(k)) = (n, kind.filter(|k| k.accepts(in_ty.dtype))) {
            // `region(init, reduce.<kind>(x))`, element by element.
            let x = self.val(d.args[0])?;
            let red = self.lower_reduce(k, dims, x, in_ty, res_tys[0], None)?;
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
        // The general fold; an `iota` input is read as its coordinate (see `region_reads`).
        let srcs = d.args[..n]
            .iter()
            .map(|&a| self.region_src(a, true, false))
            .collect::<Result<Vec<_>>>()?;
        let keep = body.keep_conditions(n);
        let shape = &in_ty.shape;
        let st = strides(shape);
        let kept: Vec<usize> = (0..shape.len()).filter(|x| !dims.contains(x)).collect();
        let kept_shape: Vec<usize> = kept.iter().map(|&x| shape[x]).collect();
        let kept_st: Vec<usize> = kept.iter().map(|&x| st[x]).collect();
        let red_shape: Vec<usize> = dims.iter().map(|&x| shape[x]).collect();
        let red_st: Vec<usize> = dims.iter().map(|&x| st[x]).collect();
        let out_st = strides(&kept_shape);
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
                // The element's coordinates in the input's dimension order.
                let mut at = Vec::with_capacity(shape.len());
                let (mut ko, mut kr) = (0, 0);
                for x in 0..shape.len() {
                    if dims.contains(&x) {
                        at.push(r[kr]);
                        kr += 1;
                    } else {
                        at.push(o[ko]);
                        ko += 1;
                    }
                }
                let mut elems = Vec::with_capacity(n);
                for (k, &s) in srcs.iter().enumerate() {
                    elems.push(l.read_src(s, &at, off, dts[k])?);
                }
                l.fold_step(body, &keep, &vars, &elems)
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

    /// A prefix `reduce_window` (JAX's `cumsum`, see `ops::region_kernels::prefix_scan_dim`)
    /// as a running scan, inline: for each row along the scanned dimension the accumulators
    /// start at the inits, fold each element with the region and are stored as that
    /// element's output, which is the fold of the row's elements up to it.
    fn lower_prefix_scan(&mut self, i: Inst, dim: usize, body: &Body) -> Result<()> {
        let f = self.f;
        let d = f.inst(i);
        let n = d.args.len() / 2;
        let shape = &self.ty(d.args[0]).shape;
        let srcs = d.args[..n]
            .iter()
            .map(|&a| self.region_src(a, false, false))
            .collect::<Result<Vec<_>>>()?;
        let inits = d.args[n..]
            .iter()
            .map(|&a| self.val(a))
            .collect::<Result<Vec<_>>>()?;
        let dts: Vec<DType> = d.results.iter().map(|&r| self.ty(r).dtype).collect();
        let mut outs = Vec::with_capacity(n);
        for &r in &d.results {
            // The first result may be planned into an output or a loop's buffer.
            let dest = self.dest_ptr[r.index()];
            outs.push(self.alloc_result(dest, self.ty(r))?);
        }
        let vars: Vec<_> = dts
            .iter()
            .map(|&dt| self.b.declare_var(cl_type(dt)))
            .collect();
        let st = strides(shape);
        let mut outer = shape.clone();
        outer[dim] = 1;
        let len = shape[dim] as u64;
        self.nest(&outer, &mut |l, o| {
            for (k, &v) in vars.iter().enumerate() {
                l.b.def_var(v, inits[k]);
            }
            let base = l.linear(o, &st, 0);
            l.counted_loop(len, &mut |l, j| {
                let t = l.b.ins().imul_imm_s(j, st[dim] as i64);
                let off = l.b.ins().iadd(base, t);
                let mut elems = Vec::with_capacity(n);
                for (k, &s) in srcs.iter().enumerate() {
                    elems.push(l.read_src(s, &[], off, dts[k])?);
                }
                l.fold_step(body, &[], &vars, &elems)?;
                for (k, &p) in outs.iter().enumerate() {
                    let x = l.b.use_var(vars[k]);
                    l.store_elem(x, p, off, dts[k]);
                }
                Ok(())
            })
        })?;
        for (k, &p) in outs.iter().enumerate() {
            self.define(d.results[k], p);
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
        // A splat constant update (a histogram's `1`) is a register (see `region_reads`).
        let u = match self.region_src(data.args[2], false, true)? {
            Src::Splat(x) => Src::Splat(x),
            _ => Src::Buf(self.buffer_of(data.args[2])?),
        };
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
        // The range of an index value, as the bounds test sees it (an index of 64 bits is
        // read as a signed `i64`).
        let bits = idx_dt.bits();
        let (idx_min, idx_max): (i128, i128) = if signed || bits >= 64 {
            (
                -(1i128 << (bits.min(64) - 1)),
                (1i128 << (bits.min(64) - 1)) - 1,
            )
        } else {
            (0, (1i128 << bits) - 1)
        };
        let mut from_batch = vec![false; in_rank];
        for &ib in &d.input_batching_dims {
            if let Some(b) = from_batch.get_mut(ib) {
                *b = true;
            }
        }
        let vec_st = if has_vec {
            idx_st[d.index_vector_dim]
        } else {
            0
        };
        self.unrolled_nest(&scatter_shape, &mut |l, si| {
            let ibase = l.linear(si, &idx_coefs, 0);
            let mut start: Vec<Option<clir::Value>> = vec![None; in_rank];
            for (k, &od) in d.scatter_dims_to_operand_dims.iter().enumerate() {
                let off = l.b.ins().iadd_imm_s(ibase, (k * vec_st) as i64);
                start[od] = Some(l.load_index(idx, off, idx_dt));
            }
            for (b, &ib) in d.input_batching_dims.iter().enumerate() {
                let sb = d.scatter_indices_batching_dims[b];
                let pos = idx_dims
                    .iter()
                    .position(|&p| p == sb)
                    .and_then(|k| si.get(k).copied());
                start[ib] = pos;
            }
            // Whether the whole window fits: 0 <= start <= dim - extent, signed. A bound that
            // every value of the index dtype meets is not tested (`u8` into 256 bins).
            let mut fits: Option<clir::Value> = None;
            let mut base = l.b.ins().iconst(types::I64, 0);
            for (dim, &batch) in from_batch.iter().enumerate() {
                let Some(s) = start[dim] else { continue };
                let room = in_shape[dim] as i64 - extent[dim] as i64;
                // Batching coordinates are loop counters: tested as before, not assumed.
                let (lo, hi) = if batch {
                    (i128::MIN, i128::MAX)
                } else {
                    (idx_min, idx_max)
                };
                let mut tests = Vec::new();
                if lo < 0 {
                    tests.push(l.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, s, 0));
                }
                if hi > room as i128 {
                    tests.push(l.b.ins().icmp_imm_s(IntCC::SignedLessThanOrEqual, s, room));
                }
                for ok in tests {
                    fits = Some(match fits {
                        Some(f) => l.b.ins().band(f, ok),
                        None => ok,
                    });
                }
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
            let ubase = match u {
                Src::Buf(_) => Some(l.linear(si, &up_scatter_st, 0)),
                _ => None,
            };
            l.nest(&window_shape, &mut |l, wi| {
                let oi = l.linear(wi, &win_in_st, 0);
                let oi = l.b.ins().iadd(base, oi);
                let cur = l.load_elem(out, oi, dt);
                let upd = match (u, ubase) {
                    (Src::Buf(p), Some(ubase)) => {
                        let ou = l.linear(wi, &win_up_st, 0);
                        let ou = l.b.ins().iadd(ubase, ou);
                        l.load_elem(p, ou, dt)
                    }
                    (Src::Splat(x), _) => x,
                    _ => return Err(l.err("a scatter update has no source")),
                };
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

    /// Element `i` of the integer buffer `p` of dtype `dt`, extended to `i64` by its
    /// signedness in the load itself (`movzx`/`movsx` from memory).
    fn load_index(&mut self, p: clir::Value, i: clir::Value, dt: DType) -> clir::Value {
        let size = dt.size_bytes() as i64;
        let off = if size == 1 {
            i
        } else {
            self.b.ins().imul_imm_s(i, size)
        };
        let addr = self.b.ins().iadd(p, off);
        let f = MemFlagsData::trusted();
        let ins = self.b.ins();
        match (dt.bits(), dt.is_signed()) {
            (8, false) => ins.uload8(types::I64, f, addr, 0),
            (8, true) => ins.sload8(types::I64, f, addr, 0),
            (16, false) => ins.uload16(types::I64, f, addr, 0),
            (16, true) => ins.sload16(types::I64, f, addr, 0),
            (32, false) => ins.uload32(f, addr, 0),
            (32, true) => ins.sload32(f, addr, 0),
            _ => ins.load(types::I64, f, addr, 0),
        }
    }

    /// [`Lowerer::nest`], with a one-dimensional loop of at least 8 iterations unrolled by
    /// 4 (and the rest in a second loop): the same calls of `body` in the same order, with
    /// a quarter of the loop's own instructions (the histogram's loop is mostly those).
    fn unrolled_nest(
        &mut self,
        shape: &[usize],
        body: &mut dyn FnMut(&mut Self, &[clir::Value]) -> Result<()>,
    ) -> Result<()> {
        let [n] = shape[..] else {
            return self.nest(shape, body);
        };
        if n < 8 {
            return self.nest(shape, body);
        }
        let n = n as u64;
        self.counted_loop(n / 4, &mut |l, i| {
            let i4 = l.b.ins().imul_imm_s(i, 4);
            body(l, &[i4])?;
            for k in 1..4 {
                let ik = l.b.ins().iadd_imm_s(i4, k);
                body(l, &[ik])?;
            }
            Ok(())
        })?;
        let done = (n / 4 * 4) as i64;
        self.counted_loop(n % 4, &mut |l, i| {
            let j = l.b.ins().iadd_imm_s(i, done);
            body(l, &[j])
        })
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

    /// Calls the kernel `kernel` (`graphjit_sort`, `graphjit_scatter`) with the op's context,
    /// arrays of operand and result buffer pointers, and `extra` (the addresses of compiled
    /// regions); rank-0 operands and results go through scratch slots.
    fn call_region_kernel(
        &mut self,
        i: Inst,
        kernel: RuntimeFn,
        extra: &[clir::Value],
    ) -> Result<()> {
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
        let mut args = vec![c, arg_arr, out_arr];
        args.extend_from_slice(extra);
        self.calls.call(&mut self.b, kernel, &args);
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

/// The registers of a body's slots with its arguments filled in.
fn body_regs(body: &Body, args: &[clir::Value]) -> Vec<Option<clir::Value>> {
    let np = body.params.len();
    let mut regs = vec![None; np + body.insts.len()];
    for (r, &a) in regs.iter_mut().zip(&args[..args.len().min(np)]) {
        *r = Some(a);
    }
    regs
}
