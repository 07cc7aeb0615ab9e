//! Interchange of an elementwise `while` with its element loop. When a loop's tensors only
//! ever meet elementwise ops and its condition reads only scalars, every element follows the
//! same trip count and depends on nothing but its own earlier values; so instead of running
//! the loop once with a pass over memory per iteration, the code runs it once per group of
//! elements, with the group's vectors in registers for all iterations (issue 15, item 3).
//!
//! Every element sees the same operations in the same order as in the interpreter, with the
//! same scalar values (each group recomputes the loop's scalars, which are pure), so the bits
//! are those of the ordinary lowering. Only the unchecked entry is interchanged: the checked
//! variant counts back-edges against the run's limits, which a loop run once per group would
//! count many times over.

mod layout;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::SourceLoc;
use cranelift_codegen::ir::{self as clir, types, BlockArg, InstBuilder, MemFlagsData};

use super::fused::LeafSrc;
use super::outline::{by_block_length, parallel_worthy, Outlined};
use super::{Lowerer, Result};
use crate::ir::{Inst, Value};
use crate::jit::isel::{splat_value, vector_type};
use crate::jit::plan::EwOp;
use crate::ops::Op;
use crate::parallel::BLOCK;

use layout::{Layout, PINNED_SPLATS};

/// The element-trips (elements times trips) from which a loop over too few elements for
/// the pool on its own runs its groups there: W5's 1024 x 1000 do, and the hot pool's
/// hand-off (a few microseconds) is then a small part of the about 45 µs of work.
const PARALLEL_ELEMENT_TRIPS: u64 = 1 << 18;

/// The first value of a carried tensor in a group: read from a buffer, or one splat scalar.
#[derive(Clone, Copy)]
enum Init {
    Buf(clir::Value),
    Splat(clir::Value),
}

impl Lowerer<'_, '_> {
    /// Lowers `while` `i` interchanged with its element loop if it qualifies (see the module
    /// documentation); `Ok(false)` leaves it to the ordinary lowering.
    pub(super) fn lower_while_interchanged(&mut self, i: Inst) -> Result<bool> {
        let Some(lay) = self.interchange_layout(i) else {
            return Ok(false);
        };
        let f = self.f;
        let data = f.inst(i);
        let group = (lay.k * lay.lanes) as u64;
        let full = lay.n / group;
        let tail = lay.n % group;
        let mut inits = Vec::new();
        let mut dsts = Vec::new();
        for (k, &ra) in data.region_args.iter().enumerate() {
            let ty = self.ty(ra);
            if ty.is_scalar() {
                continue;
            }
            let a = data.args[k];
            inits.push(match self.splat_leaf(a) {
                Some(s) => Init::Splat(s),
                None => Init::Buf(self.val(a)?),
            });
            let dest = self.dest_ptr[data.results[k].index()];
            dsts.push(self.alloc_result(dest, ty)?);
        }
        let es = (16 / lay.lanes) as i64;
        let group_bytes = group as i64 * es;
        let tail_off = self.b.ins().iconst(types::I64, full as i64 * group_bytes);
        // The last, partial group runs on zero-padded copies, so that no vector reads or
        // writes past the tensors' ends.
        let pad = if tail > 0 {
            Some(self.padded_copies(&inits, lay.k, tail_off, tail * es as u64)?)
        } else {
            None
        };
        let pad_ref = pad.as_ref().map(|(pi, pd)| (pi.as_slice(), pd.as_slice()));
        let groups = full + u64::from(tail > 0);
        let scalars = if !self.outlined && groups >= 2 {
            // The final scalars come from running the loop's scalars alone, which also
            // counts the trips. The groups' loop is compiled once, as a function of blocks
            // of groups, which the pool runs or this thread calls block by block.
            let (trips, finals) = self.count_trips(i)?;
            let wide = parallel_worthy(lay.n);
            let per = if wide {
                (BLOCK as u64 / group).max(1)
            } else {
                1
            };
            let (o, blocks) = self.outline_groups(i, &lay, &inits, &dsts, full, per, pad_ref)?;
            if wide {
                self.call_parallel_for(&o, blocks);
            } else {
                // Few elements, but maybe many trips: with enough element-trips the groups
                // go to the pool, one per block.
                let least = PARALLEL_ELEMENT_TRIPS.div_ceil(groups * group);
                let big =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, trips, least as i64);
                let (par_b, ser_b, join) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                self.b.ins().brif(big, par_b, &[], ser_b, &[]);
                self.b.switch_to_block(par_b);
                self.call_parallel_for(&o, blocks);
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(ser_b);
                let sig = self.block_fn_signature();
                let sig = self.b.import_signature(sig);
                self.counted_loop(blocks, &mut |l, blk| {
                    l.b.ins().call_indirect(sig, o.addr, &[o.ctx, blk]);
                    Ok(())
                })?;
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(join);
            }
            finals
        } else {
            // All groups but the last run in a loop; the last runs after it, in straight-line
            // code, so that its final scalars (the same in every group) dominate what follows.
            let looped = if tail == 0 { full - 1 } else { full };
            self.offset_loop(looped, group_bytes, &mut |l, off| {
                l.interchanged_group(i, &lay, &inits, &dsts, off)
                    .map(|_| ())
            })?;
            match pad_ref {
                Some((pi, pd)) => {
                    let zero = self.b.ins().iconst(types::I64, 0);
                    self.interchanged_group(i, &lay, pi, pd, zero)?
                }
                None => {
                    let last_off = self.b.ins().iconst(types::I64, looped as i64 * group_bytes);
                    self.interchanged_group(i, &lay, &inits, &dsts, last_off)?
                }
            }
        };
        if let Some((_, pads)) = &pad {
            for (&p, &dst) in pads.iter().zip(&dsts) {
                let d = self.b.ins().iadd(dst, tail_off);
                self.copy_bytes(d, p, tail * es as u64);
            }
        }
        let mut t = 0;
        for (k, &r) in data.results.iter().enumerate() {
            match scalars[k] {
                Some(s) => self.define(r, s),
                None => {
                    self.define(r, dsts[t]);
                    t += 1;
                }
            }
        }
        Ok(true)
    }

    /// Zero-filled buffers of one group (`k` vectors) for each carried tensor, holding the
    /// `bytes` bytes of its first value from byte `off` (a splat stays a splat); returns
    /// the group's first values and the buffers.
    fn padded_copies(
        &mut self,
        inits: &[Init],
        k: usize,
        off: clir::Value,
        bytes: u64,
    ) -> Result<(Vec<Init>, Vec<clir::Value>)> {
        let zeros = self.b.ins().iconst(types::I64, 0);
        let zeros = self.b.ins().splat(types::I64X2, zeros);
        let mut pad_inits = Vec::with_capacity(inits.len());
        let mut pads = Vec::with_capacity(inits.len());
        for init in inits {
            let pad = self.alloc((k * 16) as u64)?;
            for v in 0..k {
                self.b
                    .ins()
                    .store(MemFlagsData::trusted(), zeros, pad, (v * 16) as i32);
            }
            pad_inits.push(match *init {
                Init::Buf(p) => {
                    let src = self.b.ins().iadd(p, off);
                    self.copy_bytes(pad, src, bytes);
                    Init::Buf(pad)
                }
                splat => splat,
            });
            pads.push(pad);
        }
        Ok((pad_inits, pads))
    }

    /// Compiles the groups of the interchanged `while` `i` into a function of blocks
    /// (`outline.rs`): blocks of `per` of the `groups` whole groups, then the padded last
    /// group `pad` (its first values and buffers) as one more block. Returns the function and
    /// the number of blocks. Each group is computed as on one thread and writes only its own
    /// elements, so whether and how the pool runs the blocks changes no bit.
    #[allow(clippy::too_many_arguments)]
    fn outline_groups(
        &mut self,
        i: Inst,
        lay: &Layout,
        inits: &[Init],
        dsts: &[clir::Value],
        groups: u64,
        per: u64,
        pad: Option<(&[Init], &[clir::Value])>,
    ) -> Result<(Outlined, u64)> {
        let group = (lay.k * lay.lanes) as u64;
        let group_bytes = group as i64 * (16 / lay.lanes) as i64;
        let (full, rem) = (groups / per, groups % per);
        let whole_blocks = full + u64::from(rem != 0);
        let blocks = whole_blocks + u64::from(pad.is_some());
        // What the groups read from this function: the tensors' first values, their
        // destinations (the padded group's too), and the scalars and splat leaves of
        // outside the loop.
        let free = self.free_values(i);
        let init_ptr = |init: &Init| match *init {
            Init::Buf(p) | Init::Splat(p) => p,
        };
        let mut captured: Vec<clir::Value> = inits.iter().map(init_ptr).collect();
        captured.extend_from_slice(dsts);
        if let Some((pi, pd)) = pad {
            captured.extend(pi.iter().map(init_ptr));
            captured.extend_from_slice(pd);
        }
        for &v in &free {
            captured.push(match self.splat_leaf(v) {
                Some(s) => s,
                None => self.val(v)?,
            });
        }
        let rebind = |inits: &[Init], vals: &[clir::Value]| -> Vec<Init> {
            inits
                .iter()
                .zip(vals)
                .map(|(init, &v)| match init {
                    Init::Buf(_) => Init::Buf(v),
                    Init::Splat(_) => Init::Splat(v),
                })
                .collect()
        };
        let o = self.outline_blocks(&captured, &mut |l, vals, blk| {
            let (init_vals, rest) = vals.split_at(inits.len());
            let (dst_vals, rest) = rest.split_at(dsts.len());
            let sub_inits = rebind(inits, init_vals);
            let (sub_pad, free_vals) = match pad {
                Some((pi, pd)) => {
                    let (pi_vals, rest) = rest.split_at(pi.len());
                    let (pd_vals, rest) = rest.split_at(pd.len());
                    (Some((rebind(pi, pi_vals), pd_vals)), rest)
                }
                None => (None, rest),
            };
            for (&v, &x) in free.iter().zip(free_vals) {
                if l.ty(v).is_scalar() {
                    l.define(v, x);
                } else {
                    l.leaf_srcs[v.index()] = Some(LeafSrc::Splat(x));
                }
            }
            let (whole_b, join) = (l.b.create_block(), l.b.create_block());
            if let Some((pi, pd)) = &sub_pad {
                // The last block is the padded group.
                let pad_b = l.b.create_block();
                let is_whole =
                    l.b.ins()
                        .icmp_imm_s(IntCC::UnsignedLessThan, blk, whole_blocks as i64);
                l.b.ins().brif(is_whole, whole_b, &[], pad_b, &[]);
                l.b.switch_to_block(pad_b);
                let zero = l.b.ins().iconst(types::I64, 0);
                l.interchanged_group(i, lay, pi, pd, zero)?;
                l.b.ins().jump(join, &[]);
            } else {
                l.b.ins().jump(whole_b, &[]);
            }
            l.b.switch_to_block(whole_b);
            let first = l.b.ins().imul_imm_s(blk, per as i64 * group_bytes);
            let one = |l: &mut Lowerer<'_, '_>, len: u64| {
                l.offset_loop(len, group_bytes, &mut |l, off| {
                    let at = l.b.ins().iadd(first, off);
                    l.interchanged_group(i, lay, &sub_inits, dst_vals, at)
                        .map(|_| ())
                })
            };
            by_block_length(l, blk, full, per, rem, one)?;
            l.b.ins().jump(join, &[]);
            l.b.switch_to_block(join);
            Ok(())
        })?;
        Ok((o, blocks))
    }

    /// The number of trips `while` `i` makes (an `i64`) and its final scalars (by carried
    /// position, `None` for the tensors), found by running its condition and the scalar
    /// instructions of its body alone: they depend on nothing else in an interchangeable
    /// loop. (A loop that never ends never ends here either, as it
    /// would not without the count.)
    fn count_trips(&mut self, i: Inst) -> Result<(clir::Value, Vec<Option<clir::Value>>)> {
        let f = self.f;
        let data = f.inst(i);
        let [cond_r, body_r] = data.regions[..] else {
            return Err(self.err("'while' needs a cond and a body region"));
        };
        let scalars: Vec<usize> = (0..data.region_args.len())
            .filter(|&c| self.ty(data.region_args[c]).is_scalar())
            .collect();
        let header = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        let mut args: Vec<BlockArg> = Vec::with_capacity(scalars.len() + 1);
        let mut params = Vec::with_capacity(scalars.len());
        for &c in &scalars {
            let x = self.val(data.args[c])?;
            args.push(x.into());
            let t = self.b.func.dfg.value_type(x);
            params.push(self.b.append_block_param(header, t));
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        args.push(zero.into());
        let count = self.b.append_block_param(header, types::I64);
        let done = self.b.append_block_param(exit, types::I64);
        let finals: Vec<clir::Value> = params
            .iter()
            .map(|&p| {
                let t = self.b.func.dfg.value_type(p);
                self.b.append_block_param(exit, t)
            })
            .collect();
        self.b.ins().jump(header, &args);
        self.b.switch_to_block(header);
        for (&c, &p) in scalars.iter().zip(&params) {
            self.define(data.region_args[c], p);
        }
        let (_, c) = self.lower_region(cond_r)?;
        let [c] = c[..] else {
            return Err(self.err("'while' cond region must yield one value"));
        };
        let cv = self.val(c)?;
        let mut out: Vec<BlockArg> = vec![count.into()];
        out.extend(params.iter().map(|&p| BlockArg::from(p)));
        self.b.ins().brif(cv, body, &[], exit, &out);
        self.b.switch_to_block(body);
        let (yield_i, insts) = f
            .region(body_r)
            .insts
            .split_last()
            .ok_or_else(|| self.err("empty while body"))?;
        for &b in insts {
            if self.ty(f.inst(b).results[0]).is_scalar() {
                self.lower_inst(b)?;
            }
        }
        let ys = &f.inst(*yield_i).args;
        let mut next: Vec<BlockArg> = Vec::with_capacity(scalars.len() + 1);
        for &c in &scalars {
            next.push(self.val(ys[c])?.into());
        }
        let more = self.b.ins().iadd_imm_s(count, 1);
        next.push(more.into());
        self.b.ins().jump(header, &next);
        self.b.switch_to_block(exit);
        let mut by_position = vec![None; data.region_args.len()];
        for (&c, &v) in scalars.iter().zip(&finals) {
            by_position[c] = Some(v);
        }
        Ok((done, by_position))
    }

    /// The values of outside `while` `i` that its condition and body read, and its scalar
    /// first values, each once.
    fn free_values(&self, i: Inst) -> Vec<Value> {
        let f = self.f;
        let data = f.inst(i);
        let mut inside = vec![false; f.values.len()];
        for &a in &data.region_args {
            inside[a.index()] = true;
        }
        for &r in &data.regions {
            for &j in &f.region(r).insts {
                for &v in &f.inst(j).results {
                    inside[v.index()] = true;
                }
            }
        }
        let scalar_inits = data
            .args
            .iter()
            .copied()
            .filter(|&a| self.ty(a).is_scalar());
        let reads = data
            .regions
            .iter()
            .flat_map(|&r| f.region(r).insts.iter())
            .flat_map(|&j| f.inst(j).args.iter().copied());
        let mut free: Vec<Value> = Vec::new();
        for v in scalar_inits.chain(reads) {
            if !inside[v.index()] && !free.contains(&v) {
                free.push(v);
            }
        }
        free
    }

    /// Runs the whole loop `i` on one group: the group's vectors of each carried tensor are
    /// read at byte offset `off` (from `inits`), carried in registers through every
    /// iteration, and stored at `off` into `dsts`. Returns the loop's final scalars, by
    /// carried position (`None` for the tensors).
    fn interchanged_group(
        &mut self,
        i: Inst,
        lay: &Layout,
        inits: &[Init],
        dsts: &[clir::Value],
        off: clir::Value,
    ) -> Result<Vec<Option<clir::Value>>> {
        let f = self.f;
        let data = f.inst(i);
        let [cond_r, body_r] = data.regions[..] else {
            return Err(self.err("'while' needs a cond and a body region"));
        };
        let k = lay.k;
        // The vectors of each tensor value of the loop, by IR value.
        let mut vecs: Vec<Option<Vec<clir::Value>>> = vec![None; f.values.len()];
        let vty = |l: &Self, v: Value| vector_type(l.ty(v).dtype);
        // Loop-invariant splats, materialized before the loop.
        let body = &f.region(body_r).insts;
        let mut invariant: Vec<(Value, clir::Value, clir::Type)> = Vec::new();
        for &b in body {
            let d = f.inst(b);
            // Scalar instructions read no splats (they have no tensor operands).
            if !matches!(d.op, Op::Yield) && self.ty(d.results[0]).is_scalar() {
                continue;
            }
            for &a in &d.args {
                if let (Some(s), Some(t)) = (self.splat_leaf(a), vty(self, a)) {
                    if !invariant.iter().any(|&(v, ..)| v == a) {
                        invariant.push((a, s, t));
                    }
                }
            }
            if let (Op::Const(c), Some(&r)) = (&d.op, d.results.first()) {
                let Some(t) = vty(self, r) else { continue };
                let s = c.get(0).ok_or_else(|| self.err("empty splat constant"))?;
                let s = self.isel().constant(s);
                invariant.push((r, s, t));
            }
        }
        let pin = invariant.len() <= PINNED_SPLATS;
        for (v, s, t) in invariant {
            let x = splat_value(&mut self.b, t, s, pin);
            vecs[v.index()] = Some(vec![x; k]);
        }

        // Entry: the group's first values, then the condition on them.
        let mut first: Vec<Vec<clir::Value>> = Vec::with_capacity(data.region_args.len());
        let mut t = 0;
        for (c, &ra) in data.region_args.iter().enumerate() {
            if self.ty(ra).is_scalar() {
                first.push(vec![self.val(data.args[c])?]);
                continue;
            }
            let vt = vty(self, ra).ok_or_else(|| self.err("an interchanged tensor type"))?;
            first.push(match inits[t] {
                Init::Buf(p) => {
                    let base = self.b.ins().iadd(p, off);
                    (0..k)
                        .map(|v| self.b.ins().load(vt, vflags(), base, (v * 16) as i32))
                        .collect()
                }
                Init::Splat(s) => vec![splat_value(&mut self.b, vt, s, false); k],
            });
            t += 1;
        }
        // The loop is rotated: the condition is evaluated before the first iteration and at
        // the end of every iteration, so an iteration takes one branch.
        let body_b = self.b.create_block();
        let exit = self.b.create_block();
        let mut params = Vec::with_capacity(data.region_args.len());
        let mut exit_params = Vec::with_capacity(data.region_args.len());
        for vals in &first {
            let ct = self.b.func.dfg.value_type(vals[0]);
            let mut ps = Vec::with_capacity(vals.len());
            let mut es = Vec::with_capacity(vals.len());
            for _ in vals {
                ps.push(self.b.append_block_param(body_b, ct));
                es.push(self.b.append_block_param(exit, ct));
            }
            params.push(ps);
            exit_params.push(es);
        }
        self.branch_on_cond(i, cond_r, &first, &mut vecs, body_b, exit)?;

        // Body: scalars as usual, tensors a vector at a time.
        self.b.switch_to_block(body_b);
        self.bind_carried(i, &params, &mut vecs);
        let (yield_i, insts) = body
            .split_last()
            .ok_or_else(|| self.err("empty while body"))?;
        for &b in insts {
            let d = f.inst(b);
            let res = d.results[0];
            if self.ty(res).is_scalar() {
                self.lower_inst(b)?;
                continue;
            }
            if vecs[res.index()].is_some() {
                // A splat constant, materialized before the loop.
                continue;
            }
            self.b.set_srcloc(SourceLoc::new(b.0));
            let vt = vty(self, res).ok_or_else(|| self.err("an interchanged tensor type"))?;
            let out = self.interchanged_op(b, vt, k, &vecs)?;
            vecs[res.index()] = Some(out);
        }
        self.b.set_srcloc(SourceLoc::new(i.0));
        let mut next: Vec<Vec<clir::Value>> = Vec::with_capacity(params.len());
        for &y in &f.inst(*yield_i).args {
            next.push(match &vecs[y.index()] {
                Some(vs) if !self.ty(y).is_scalar() => vs.clone(),
                _ => vec![self.val(y)?],
            });
        }
        self.branch_on_cond(i, cond_r, &next, &mut vecs, body_b, exit)?;

        // Exit: the final vectors are the group's results.
        self.b.switch_to_block(exit);
        let mut scalars = Vec::with_capacity(exit_params.len());
        let mut t = 0;
        for (&ra, p) in data.region_args.iter().zip(&exit_params) {
            if self.ty(ra).is_scalar() {
                scalars.push(Some(p[0]));
                continue;
            }
            let base = self.b.ins().iadd(dsts[t], off);
            for (v, &x) in p.iter().enumerate() {
                self.b.ins().store(vflags(), x, base, (v * 16) as i32);
            }
            scalars.push(None);
            t += 1;
        }
        Ok(scalars)
    }
}

impl Lowerer<'_, '_> {
    /// Binds the carried values of `while` `i` to `vals` (per carried value: its scalar, or
    /// the group's vectors of a tensor).
    fn bind_carried(
        &mut self,
        i: Inst,
        vals: &[Vec<clir::Value>],
        vecs: &mut [Option<Vec<clir::Value>>],
    ) {
        let f = self.f;
        for (&ra, v) in f.inst(i).region_args.iter().zip(vals) {
            if self.ty(ra).is_scalar() {
                self.define(ra, v[0]);
            } else {
                vecs[ra.index()] = Some(v.clone());
            }
        }
    }

    /// Evaluates the condition of `while` `i` on the carried values `vals` and branches to
    /// `body` or `exit`, passing `vals` on.
    fn branch_on_cond(
        &mut self,
        i: Inst,
        cond_r: crate::ir::Region,
        vals: &[Vec<clir::Value>],
        vecs: &mut [Option<Vec<clir::Value>>],
        body: clir::Block,
        exit: clir::Block,
    ) -> Result<()> {
        self.bind_carried(i, vals, vecs);
        let (_, c) = self.lower_region(cond_r)?;
        let [c] = c[..] else {
            return Err(self.err("'while' cond region must yield one value"));
        };
        let cv = self.val(c)?;
        self.b.set_srcloc(SourceLoc::new(i.0));
        let args: Vec<BlockArg> = vals.iter().flatten().map(|&x| x.into()).collect();
        self.b.ins().brif(cv, body, &args, exit, &args);
        Ok(())
    }

    /// The `k` vectors of the tensor result of the body instruction `b` (an elementwise op or
    /// a broadcast scalar), from the vectors of its operands in `vecs`.
    fn interchanged_op(
        &mut self,
        b: Inst,
        vt: clir::Type,
        k: usize,
        vecs: &[Option<Vec<clir::Value>>],
    ) -> Result<Vec<clir::Value>> {
        let f = self.f;
        let d = f.inst(b);
        let res = d.results[0];
        if let Op::Broadcast { .. } = d.op {
            let s = self.val(d.args[0])?;
            return Ok(vec![self.b.ins().splat(vt, s); k]);
        }
        let ew = EwOp::of(&d.op).ok_or_else(|| self.err("an interchanged op"))?;
        let dt = self.ty(res).dtype;
        let in_dt = d.args.last().map_or(dt, |&a| self.ty(a).dtype);
        let mut out = Vec::with_capacity(k);
        for v in 0..k {
            let mut xs = Vec::with_capacity(d.args.len());
            for (j, &a) in d.args.iter().enumerate() {
                xs.push(match &vecs[a.index()] {
                    Some(vs) => vs[v],
                    // `select`'s scalar predicate picks a whole vector.
                    None if j == 0 && ew == EwOp::Select => self.val(a)?,
                    None if self.ty(a).is_scalar() => {
                        let at = vector_type(self.ty(a).dtype)
                            .ok_or_else(|| self.err("an interchanged scalar operand type"))?;
                        let s = self.val(a)?;
                        self.b.ins().splat(at, s)
                    }
                    None => {
                        return Err(self.err(format!(
                            "tensor {} has no vectors in an interchanged loop",
                            a.0
                        )))
                    }
                });
            }
            let r = if ew == EwOp::Select {
                self.b.ins().select(xs[0], xs[1], xs[2])
            } else {
                let r = self.isel().emit_lanes(ew, in_dt, dt, vt, &xs);
                self.selected(r, "an interchanged op")?
            };
            out.push(r);
        }
        Ok(out)
    }
}

/// Flags of the groups' vector loads and stores: in bounds, not 16-byte aligned.
fn vflags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}
