//! Parallel loops: a large fused elementwise loop or reduction is outlined into a function
//! `body(ctx, block)` of its own that computes one block of about `crate::parallel::BLOCK`
//! elements (whole rows of the outermost dimension for a loop nest), and the entry function calls `graphjit_parallel_for(body, ctx, blocks)`, which
//! runs the blocks on the thread pool.
//!
//! `ctx` is a stack slot of the caller holding the values the body reads (buffer addresses,
//! scalars), 8 bytes each; it outlives the call. A body writes only its block's part of the
//! output (elementwise: the block's elements; reductions: the block's partial result), so
//! blocks never race, whichever thread runs them. What blocks compute depends on the shape
//! only; reductions combine their partial results after the call, in block order, on the
//! calling thread, so the thread count changes no bit.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self as clir, types, AbiParam, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind,
};
use cranelift_module::Module;

use super::fused::{LeafSrc, Node, Sink, Tree};
use super::{Lowerer, Result};
use crate::jit::runtime::RuntimeFn;
use crate::ops::ReduceOp;
use crate::parallel::{BLOCK, MIN_PARALLEL_BLOCKS};
use crate::types::DType;

/// The body of an outlined loop: given the lowerer of the new function, the captured values
/// as loaded there, and the block index (`i64`), it emits the block's code.
pub(super) type Body<'t> =
    dyn FnMut(&mut Lowerer<'_, '_>, &[clir::Value], clir::Value) -> Result<()> + 't;

/// An outlined block body (`Lowerer::outline_blocks`): its address and its context.
pub(super) struct Outlined {
    pub(super) addr: clir::Value,
    pub(super) ctx: clir::Value,
}

/// Whether a loop over `n` elements is worth the pool.
pub(super) fn parallel_worthy(n: u64) -> bool {
    n >= (MIN_PARALLEL_BLOCKS * BLOCK) as u64
}

/// The values a tree reads from its caller (buffer addresses and scalar registers), in node
/// order.
fn captures(t: &Tree) -> Vec<clir::Value> {
    t.nodes
        .iter()
        .filter_map(|n| match n {
            Node::Leaf {
                src: LeafSrc::Buf { ptr, .. } | LeafSrc::Splat(ptr),
                ..
            } => Some(*ptr),
            Node::Op { .. } => None,
        })
        .collect()
}

/// `t` with its captured values replaced, in the order of [`captures`], by `vals`.
fn with_captures(t: &Tree, vals: &[clir::Value]) -> Tree {
    let mut k = 0;
    let mut t = t.clone();
    for n in &mut t.nodes {
        if let Node::Leaf {
            src: LeafSrc::Buf { ptr: v, .. } | LeafSrc::Splat(v),
            ..
        } = n
        {
            *v = vals[k];
            k += 1;
        }
    }
    t
}

impl Lowerer<'_, '_> {
    /// Outlines `body` into a new function of the module and calls it for every block in
    /// `0..blocks` through `graphjit_parallel_for`; `captured` are the values of this function
    /// the body reads. A stopped run returns its status from the entry function at once.
    pub(super) fn parallel_blocks(
        &mut self,
        captured: &[clir::Value],
        blocks: u64,
        body: &mut Body<'_>,
    ) -> Result<()> {
        let o = self.outline_blocks(captured, body)?;
        self.call_parallel_for(&o, blocks);
        Ok(())
    }

    /// Outlines `body` into a new function of the module, `fn(ctx, block) -> 0`, where `ctx`
    /// holds `captured`, the values of this function the body reads, in a stack slot of this
    /// frame. The caller runs it through [`Self::call_parallel_for`] or calls it directly.
    pub(super) fn outline_blocks(
        &mut self,
        captured: &[clir::Value],
        body: &mut Body<'_>,
    ) -> Result<Outlined> {
        let ptr = self.ptr_ty;
        // The captured values, 8 bytes each, in a stack slot of this frame.
        let size = (captured.len().max(1) * 8) as u32;
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            3,
        ));
        let tys: Vec<clir::Type> = captured
            .iter()
            .map(|&v| self.b.func.dfg.value_type(v))
            .collect();
        for (k, &v) in captured.iter().enumerate() {
            self.b.ins().stack_store(ptr, v, slot, (k * 8) as i32);
        }
        let sig = self.block_fn_signature();
        let addr = self.sub_function(sig, "an outlined loop body", |sub, p| {
            let loaded: Vec<clir::Value> = tys
                .iter()
                .enumerate()
                .map(|(k, &ty)| {
                    sub.b
                        .ins()
                        .load(ty, MemFlagsData::trusted(), p[0], (k * 8) as i32)
                })
                .collect();
            body(sub, &loaded, p[1])?;
            let zero = sub.b.ins().iconst(types::I64, 0);
            sub.b.ins().return_(&[zero]);
            Ok(())
        })?;
        let ctx = self.b.ins().stack_addr(ptr, slot, 0);
        Ok(Outlined { addr, ctx })
    }

    /// The signature of an outlined block body: `fn(ctx, block: i64) -> i64`.
    pub(super) fn block_fn_signature(&self) -> clir::Signature {
        let mut sig = self.calls.module.make_signature();
        sig.params.push(AbiParam::new(self.ptr_ty));
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        sig
    }

    /// Runs the outlined body `o` for every block in `0..blocks` on the pool
    /// (`graphjit_parallel_for`); a stopped run returns its status from the entry at once.
    pub(super) fn call_parallel_for(&mut self, o: &Outlined, blocks: u64) {
        let n = self.b.ins().iconst(types::I64, blocks as i64);
        let status = self
            .calls
            .call(&mut self.b, RuntimeFn::ParallelFor, &[o.addr, o.ctx, n]);
        let stop = self.b.create_block();
        let go_on = self.b.create_block();
        self.b.ins().brif(status, stop, &[], go_on, &[]);
        self.b.switch_to_block(stop);
        let st = self.b.ins().ireduce(types::I32, status);
        self.b.ins().return_(&[st]);
        self.b.switch_to_block(go_on);
    }

    /// Emits a fused loop over `t.shape` (after `collapse`) into `dst` as parallel blocks:
    /// each block takes whole units of the outermost dimension, as many as make about
    /// `BLOCK` elements (at least one), so a flat loop is cut into blocks of `BLOCK` elements.
    pub(super) fn emit_fused_parallel(&mut self, t: &Tree, dst: clir::Value) -> Result<()> {
        let n0 = t.shape.first().copied().unwrap_or(1) as u64;
        let inner: u64 = t.shape.iter().skip(1).map(|&d| d as u64).product();
        let per = (BLOCK as u64 / inner.max(1)).max(1);
        let (full, rem) = (n0 / per, n0 % per);
        let blocks = full + u64::from(rem != 0);
        let mut captured = captures(t);
        captured.push(dst);
        let oes = t.nodes.last().map_or(1, node_size) as i64;
        let tr = t.clone();
        self.parallel_blocks(&captured, blocks, &mut |l, vals, blk| {
            let (leaf_vals, dst) = vals.split_at(vals.len() - 1);
            let first = l.b.ins().imul_imm_s(blk, per as i64);
            // Each buffer leaf from the block's first unit (its stride along dimension 0).
            let mut shifted = Vec::with_capacity(leaf_vals.len());
            let mut k = 0;
            for node in &tr.nodes {
                match node {
                    Node::Leaf {
                        src: LeafSrc::Buf { coefs, .. },
                        dt,
                        ..
                    } => {
                        let step = coefs.first().copied().unwrap_or(0) as i64 * elem_size(*dt);
                        let off = l.b.ins().imul_imm_s(first, step);
                        shifted.push(l.b.ins().iadd(leaf_vals[k], off));
                        k += 1;
                    }
                    Node::Leaf { .. } => {
                        shifted.push(leaf_vals[k]);
                        k += 1;
                    }
                    Node::Op { .. } => {}
                }
            }
            let sub = with_captures(&tr, &shifted);
            let off = l.b.ins().imul_imm_s(first, inner as i64 * oes);
            let out = l.b.ins().iadd(dst[0], off);
            let one = |l: &mut Lowerer<'_, '_>, len: u64| {
                let mut s = sub.clone();
                s.shape[0] = len as usize;
                l.emit_fused(s, Sink::Store(out))
            };
            by_block_length(l, blk, full, per, rem, one)
        })
    }

    /// Reduces `r` elements of the contiguous tree `t` from element `start` (see
    /// `reduce_tree`) with the blocks on the pool: each block's result goes to its slot of a
    /// scratch array, and the slots are combined from the left afterwards.
    pub(super) fn reduce_tree_parallel(
        &mut self,
        op: ReduceOp,
        t: &Tree,
        start: clir::Value,
        r: u64,
    ) -> Result<clir::Value> {
        let block = BLOCK as u64;
        let (full, rem) = (r / block, r % block);
        let blocks = full + u64::from(rem != 0);
        let dt = t.nodes.last().map_or(DType::F32, node_dt);
        // Partial results are stored in the accumulator's register type, 8 bytes apart.
        let parts = self.alloc(blocks * 8)?;
        let mut captured = captures(t);
        captured.push(start);
        captured.push(parts);
        let tr = t.clone();
        let mut acc_ty = None;
        self.parallel_blocks(&captured, blocks, &mut |l, vals, blk| {
            let (leaf_vals, rest) = vals.split_at(vals.len() - 2);
            let sub = with_captures(&tr, leaf_vals);
            let first = l.b.ins().imul_imm_s(blk, block as i64);
            let s = l.b.ins().iadd(rest[0], first);
            let slot = l.b.ins().imul_imm_s(blk, 8);
            let slot = l.b.ins().iadd(rest[1], slot);
            let one = |l: &mut Lowerer<'_, '_>, len: u64| -> Result<()> {
                let x = l.reduce_lanes_tree(op, &sub, s, len)?;
                acc_ty = Some(l.b.func.dfg.value_type(x));
                l.b.ins().store(MemFlagsData::trusted(), x, slot, 0);
                Ok(())
            };
            by_block_length(l, blk, full, block, rem, one)
        })?;
        let ty = acc_ty.ok_or_else(|| self.err("a parallel reduction without blocks"))?;
        // The block results in block order, from the left, as `reduce_blocked` does.
        let first = self.b.ins().load(ty, MemFlagsData::trusted(), parts, 0);
        let acc = self.b.declare_var(ty);
        self.b.def_var(acc, first);
        self.counted_loop(blocks - 1, &mut |l, i| {
            let at = l.b.ins().imul_imm_s(i, 8);
            let at = l.b.ins().iadd(parts, at);
            let x = l.b.ins().load(ty, MemFlagsData::trusted(), at, 8);
            let cur = l.b.use_var(acc);
            let next = l.combine(op, dt, cur, x)?;
            l.b.def_var(acc, next);
            Ok(())
        })?;
        Ok(self.b.use_var(acc))
    }
}

fn node_dt(n: &Node) -> DType {
    match n {
        Node::Leaf { dt, .. } | Node::Op { dt, .. } => *dt,
    }
}

fn node_size(n: &Node) -> usize {
    node_dt(n).size_bytes()
}

fn elem_size(dt: DType) -> i64 {
    dt.size_bytes() as i64
}

/// Emits `body(len)` for block `blk` (a run-time index): `len` is `full_len` for the `full`
/// whole blocks and `rem` for the one after them, which a length that is not a multiple of
/// the block leaves; with `rem == 0` every block is whole and there is no branch.
pub(super) fn by_block_length(
    l: &mut Lowerer<'_, '_>,
    blk: clir::Value,
    full: u64,
    full_len: u64,
    rem: u64,
    mut body: impl FnMut(&mut Lowerer<'_, '_>, u64) -> Result<()>,
) -> Result<()> {
    if rem == 0 {
        return body(l, full_len);
    }
    let is_full =
        l.b.ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, blk, full as i64);
    let (full_b, tail_b, join) = (l.b.create_block(), l.b.create_block(), l.b.create_block());
    l.b.ins().brif(is_full, full_b, &[], tail_b, &[]);
    l.b.switch_to_block(full_b);
    body(l, full_len)?;
    l.b.ins().jump(join, &[]);
    l.b.switch_to_block(tail_b);
    body(l, rem)?;
    l.b.ins().jump(join, &[]);
    l.b.switch_to_block(join);
    Ok(())
}
