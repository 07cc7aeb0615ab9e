//! Reductions of fused trees: a contiguous tree folded in the documented blocked order
//! (`ops::kernels::reduce_blocked`), its 16 accumulators combined pairwise, and the fused
//! `reduce` op that feeds a tree straight into them.

use super::*;

impl Lowerer<'_, '_> {
    /// Reduces `r` consecutive elements of the contiguous tree `t` (flat, starting at element
    /// `start` of every buffer leaf) in the documented blocked order
    /// (`ops::kernels::reduce_blocked`): up to `BLOCK` elements in the 16-accumulator order,
    /// more as blocks of `BLOCK` elements whose results are combined from the left.
    pub(crate) fn reduce_tree(
        &mut self,
        op: ReduceOp,
        t: &Tree,
        start: clir::Value,
        r: u64,
    ) -> Result<clir::Value> {
        let block = BLOCK as u64;
        if r <= block {
            return self.reduce_lanes_tree(op, t, start, r);
        }
        if !self.outlined && parallel_worthy(r) {
            return self.reduce_tree_parallel(op, t, start, r);
        }
        let dt = t.dt(t.root());
        let first = self.reduce_lanes_tree(op, t, start, block)?;
        let acc_ty = self.b.func.dfg.value_type(first);
        let acc = self.b.declare_var(acc_ty);
        self.b.def_var(acc, first);
        let full = r / block;
        let rest = |l: &mut Self, blk_start: clir::Value, len: u64| -> Result<()> {
            let x = l.reduce_lanes_tree(op, t, blk_start, len)?;
            let cur = l.b.use_var(acc);
            let next = l.combine(op, dt, cur, x)?;
            l.b.def_var(acc, next);
            Ok(())
        };
        self.counted_loop(full - 1, &mut |l, i| {
            let off = l.b.ins().imul_imm_s(i, block as i64);
            let off = l.b.ins().iadd_imm_s(off, block as i64);
            let s = l.b.ins().iadd(start, off);
            rest(l, s, block)
        })?;
        if !r.is_multiple_of(block) {
            let s = self.b.ins().iadd_imm_s(start, (full * block) as i64);
            rest(self, s, r % block)?;
        }
        Ok(self.b.use_var(acc))
    }

    /// Reduces `r` consecutive elements of the contiguous tree `t` (flat, starting at element
    /// `start` of every buffer leaf) in the 16-accumulator order: element `i` goes into
    /// accumulator `i % 16`, then the fixed tree. With vectors the sixteen accumulators are
    /// `16 / lanes` vector registers, lane `j` of register `k` being accumulator
    /// `k * lanes + j`, which is the same assignment.
    pub(in crate::jit::lower) fn reduce_lanes_tree(
        &mut self,
        op: ReduceOp,
        t: &Tree,
        start: clir::Value,
        r: u64,
    ) -> Result<clir::Value> {
        let dt = t.dt(t.root());
        let es = dt.size_bytes() as i64;
        // The accumulators of a 16-bit float reduction are its bits (`Isel::combine`).
        let lanes = if self.simd && dt != DType::Bool && !dt.is_half() {
            t.lanes()
        } else {
            None
        };
        // The row: every buffer leaf contiguous from element `start`.
        let flat = Tree {
            nodes: t
                .nodes
                .iter()
                .map(|n| match n {
                    Node::Leaf {
                        src: LeafSrc::Buf { ptr, .. },
                        dt,
                        ir,
                    } => Node::Leaf {
                        src: LeafSrc::Buf {
                            ptr: *ptr,
                            coefs: vec![1, 1],
                        },
                        dt: *dt,
                        ir: *ir,
                    },
                    other => other.clone(),
                })
                .collect(),
            shape: vec![1, r as usize],
        };
        let row = self.row_state(&flat, &[start], lanes.is_some())?;
        let id = self.isel().identity(op, dt);
        let id = self.selected(id, "a reduction identity")?;
        let chunks = r / 16;
        let acc: Vec<clir::Value> = match lanes {
            Some(lanes) => {
                let vt = vtype(dt);
                let vid = self.b.ins().splat(vt, id);
                let vars: Vec<_> = (0..16 / lanes)
                    .map(|_| {
                        let v = self.b.declare_var(vt);
                        self.b.def_var(v, vid);
                        v
                    })
                    .collect();
                self.offset_loop(chunks, 16 * es, &mut |l, off| {
                    for (k, &a) in vars.iter().enumerate() {
                        let x = l.eval_vector(&flat, &row, off, k as i64 * 16)?;
                        let cur = l.b.use_var(a);
                        let next = l.combine(op, dt, cur, x)?;
                        l.b.def_var(a, next);
                    }
                    Ok(())
                })?;
                let mut acc = Vec::with_capacity(16);
                for &a in &vars {
                    let v = self.b.use_var(a);
                    for lane in 0..lanes {
                        acc.push(self.b.ins().extractlane(v, lane as u8));
                    }
                }
                acc
            }
            None => {
                let vars: Vec<_> = (0..16)
                    .map(|_| {
                        let v = self.b.declare_var(cl_type(dt));
                        self.b.def_var(v, id);
                        v
                    })
                    .collect();
                self.counted_loop(chunks, &mut |l, c| {
                    let i0 = l.b.ins().imul_imm_s(c, 16);
                    for (j, &a) in vars.iter().enumerate() {
                        let i = l.b.ins().iadd_imm_s(i0, j as i64);
                        let x = l.eval_scalar(&flat, &row, i)?;
                        let cur = l.b.use_var(a);
                        let next = l.combine(op, dt, cur, x)?;
                        l.b.def_var(a, next);
                    }
                    Ok(())
                })?;
                vars.iter().map(|&a| self.b.use_var(a)).collect()
            }
        };
        let mut acc = acc;
        for j in 0..(r % 16) {
            let i = self.b.ins().iconst(types::I64, (chunks * 16 + j) as i64);
            let x = self.eval_scalar(&flat, &row, i)?;
            acc[j as usize] = self.combine(op, dt, acc[j as usize], x)?;
        }
        self.combine_tree(op, dt, &acc)
    }
}

impl Lowerer<'_, '_> {
    /// One step of a reduction.
    pub(in crate::jit::lower) fn combine(
        &mut self,
        op: ReduceOp,
        dt: DType,
        a: clir::Value,
        x: clir::Value,
    ) -> Result<clir::Value> {
        let r = self.isel().combine(op, dt, a, x);
        self.selected(r, "a reduction step")
    }

    /// The fixed tree over the sixteen accumulators of a reduction.
    pub(in crate::jit::lower) fn combine_tree(
        &mut self,
        op: ReduceOp,
        dt: DType,
        acc: &[clir::Value],
    ) -> Result<clir::Value> {
        let acc: &[clir::Value; 16] = acc
            .try_into()
            .map_err(|_| self.err("a reduction without sixteen accumulators"))?;
        let r = self.isel().combine_tree(op, dt, acc);
        self.selected(r, "a reduction tree")
    }

    /// Reduces `r` contiguous elements of the buffer `data` of `dt`, from element `start`:
    /// the reduction of a tree with one leaf.
    pub(in crate::jit::lower) fn reduce_buffer(
        &mut self,
        op: ReduceOp,
        dt: DType,
        data: clir::Value,
        start: clir::Value,
        r: u64,
        ir: Value,
    ) -> Result<clir::Value> {
        let t = Tree {
            nodes: vec![Node::Leaf {
                src: LeafSrc::Buf {
                    ptr: data,
                    coefs: vec![1],
                },
                dt,
                ir,
            }],
            shape: vec![r as usize],
        };
        self.reduce_tree(op, &t, start, r)
    }

    /// A trailing-axes `reduce` whose operand `arg` is a fused tree: each output element
    /// reduces its run of the tree's elements, computed as they are read. A tree whose
    /// leaves are not contiguous is stored first.
    pub(in crate::jit::lower) fn lower_reduce_fused(
        &mut self,
        op: ReduceOp,
        axes: &[usize],
        arg: Value,
        in_ty: &TensorType,
        out: &TensorType,
        dest: Option<clir::Value>,
    ) -> Result<clir::Value> {
        let t = self.tree_of(arg)?;
        if !t.contiguous() {
            let tmp = self.alloc_tensor(in_ty)?;
            self.emit_fused(t, Sink::Store(tmp))?;
            return self.lower_reduce(op, axes, tmp, in_ty, out, dest);
        }
        let r: usize = axes.iter().map(|&d| in_ty.shape[d]).product();
        if out.is_scalar() {
            let zero = self.b.ins().iconst(types::I64, 0);
            return self.reduce_tree(op, &t, zero, r as u64);
        }
        // The output count, not elements / r: with an empty reduced extent (r = 0) every
        // output element is still written, with the identity.
        let k = out.num_elements();
        let dst = self.alloc_result(dest, out)?;
        let dt = out.dtype;
        self.counted_loop(k as u64, &mut |l, i| {
            let start = l.b.ins().imul_imm_s(i, r as i64);
            let v = l.reduce_tree(op, &t, start, r as u64)?;
            l.store_elem(v, dst, i, dt);
            Ok(())
        })?;
        Ok(dst)
    }
}
