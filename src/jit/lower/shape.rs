//! Code generation for loops over tensors: counted loops and loop nests, element access, and
//! the shape ops (broadcast, reshape, transpose, slice, concat, iota), `reduce` with its
//! documented 16-accumulator order, and `dot` with its sequential order.
//!
//! Every loop bound is a compile-time constant taken from the (checked) types, and every
//! address is a linear function of loop counters whose ranges those types bound, so the code
//! cannot read or write outside its buffers.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData};

use super::{Lowerer, Result};
use crate::jit::isel::cl_type;
use crate::jit::plan::EwOp;
use crate::ops::ReduceOp;
use crate::types::{DType, TensorType};

impl Lowerer<'_, '_> {
    /// Emits `for i in 0..n { body(i) }` with an `i64` counter. Loops of zero or one
    /// iteration are resolved at compile time.
    pub(super) fn counted_loop(
        &mut self,
        n: u64,
        body: &mut dyn FnMut(&mut Self, clir::Value) -> Result<()>,
    ) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        if n == 1 {
            let zero = self.b.ins().iconst(types::I64, 0);
            return body(self, zero);
        }
        let header = self.b.create_block();
        let body_b = self.b.create_block();
        let exit = self.b.create_block();
        let i = self.b.append_block_param(header, types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().jump(header, &[zero.into()]);
        self.b.switch_to_block(header);
        let more = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, i, n as i64);
        self.b.ins().brif(more, body_b, &[], exit, &[]);
        self.b.switch_to_block(body_b);
        body(self, i)?;
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().jump(header, &[next.into()]);
        self.b.switch_to_block(exit);
        Ok(())
    }

    /// Emits a loop nest over every index of `shape` in row-major order.
    pub(super) fn nest(
        &mut self,
        shape: &[usize],
        body: &mut dyn FnMut(&mut Self, &[clir::Value]) -> Result<()>,
    ) -> Result<()> {
        if shape.contains(&0) {
            return Ok(());
        }
        let mut idx = Vec::with_capacity(shape.len());
        self.nest_rec(shape, &mut idx, body)
    }

    fn nest_rec(
        &mut self,
        shape: &[usize],
        idx: &mut Vec<clir::Value>,
        body: &mut dyn FnMut(&mut Self, &[clir::Value]) -> Result<()>,
    ) -> Result<()> {
        if idx.len() == shape.len() {
            return body(self, idx);
        }
        let n = shape[idx.len()] as u64;
        self.counted_loop(n, &mut |l, i| {
            idx.push(i);
            let r = l.nest_rec(shape, idx, body);
            idx.pop();
            r
        })
    }

    /// `base + sum(idx[d] * coefs[d])`, an element index.
    pub(super) fn linear(
        &mut self,
        idx: &[clir::Value],
        coefs: &[usize],
        base: usize,
    ) -> clir::Value {
        let mut acc = self.b.ins().iconst(types::I64, base as i64);
        for (&i, &c) in idx.iter().zip(coefs) {
            if c != 0 {
                let t = self.b.ins().imul_imm_s(i, c as i64);
                acc = self.b.ins().iadd(acc, t);
            }
        }
        acc
    }

    /// The address of element `i` (an `i64` index) of a buffer of `dtype`.
    fn elem_addr(&mut self, ptr: clir::Value, i: clir::Value, dtype: DType) -> clir::Value {
        let size = dtype.size_bytes() as i64;
        let off = if size == 1 {
            i
        } else {
            self.b.ins().imul_imm_s(i, size)
        };
        self.b.ins().iadd(ptr, off)
    }

    pub(super) fn load_elem(
        &mut self,
        ptr: clir::Value,
        i: clir::Value,
        dtype: DType,
    ) -> clir::Value {
        let addr = self.elem_addr(ptr, i, dtype);
        self.b
            .ins()
            .load(cl_type(dtype), MemFlagsData::trusted(), addr, 0)
    }

    pub(super) fn store_elem(
        &mut self,
        x: clir::Value,
        ptr: clir::Value,
        i: clir::Value,
        dtype: DType,
    ) {
        let addr = self.elem_addr(ptr, i, dtype);
        self.b.ins().store(MemFlagsData::trusted(), x, addr, 0);
    }

    /// A new scratch tensor of type `ty` with every element `v`.
    pub(super) fn fill(&mut self, v: clir::Value, ty: &TensorType) -> Result<clir::Value> {
        let dst = self.alloc_tensor(ty)?;
        let dt = ty.dtype;
        self.counted_loop(ty.num_elements() as u64, &mut |l, i| {
            l.store_elem(v, dst, i, dt);
            Ok(())
        })?;
        Ok(dst)
    }

    /// Copies a strided view of `src` into the new row-major tensor of type `out`: output
    /// index `idx` reads source element `base + sum(idx[d] * coefs[d])`.
    fn gather(
        &mut self,
        src: clir::Value,
        coefs: &[usize],
        base: usize,
        out: &TensorType,
        dst: clir::Value,
    ) -> Result<()> {
        let dt = out.dtype;
        let out_strides = out.strides();
        self.nest(&out.shape, &mut |l, idx| {
            let s = l.linear(idx, coefs, base);
            let x = l.load_elem(src, s, dt);
            let o = l.linear(idx, &out_strides, 0);
            l.store_elem(x, dst, o, dt);
            Ok(())
        })
    }

    pub(super) fn lower_broadcast(
        &mut self,
        src: clir::Value,
        in_ty: &TensorType,
        dims: &[usize],
        out: &TensorType,
    ) -> Result<clir::Value> {
        if out.is_scalar() {
            return Ok(src);
        }
        if in_ty.is_scalar() {
            return self.fill(src, out);
        }
        let in_strides = in_ty.strides();
        let mut coefs = vec![0; out.rank()];
        for (i, &d) in dims.iter().enumerate() {
            if in_ty.shape[i] != 1 {
                coefs[d] = in_strides[i];
            }
        }
        let dst = self.alloc_tensor(out)?;
        self.gather(src, &coefs, 0, out, dst)?;
        Ok(dst)
    }

    /// Reshape keeps the row-major buffer: a tensor result aliases its operand.
    pub(super) fn lower_reshape(
        &mut self,
        src: clir::Value,
        in_ty: &TensorType,
        out: &TensorType,
    ) -> Result<clir::Value> {
        Ok(match (in_ty.is_scalar(), out.is_scalar()) {
            (true, true) | (false, false) => src,
            (true, false) => self.fill(src, out)?,
            (false, true) => self
                .b
                .ins()
                .load(cl_type(out.dtype), MemFlagsData::trusted(), src, 0),
        })
    }

    /// `bitcast_convert`: the same bytes seen with another type. Tensors keep their buffer,
    /// as `reshape` does (a narrower dtype's extra last dimension, or a wider one's missing
    /// one, covers the same bytes); a scalar is reinterpreted in its register, stored to a
    /// new buffer, or loaded from its operand's.
    pub(super) fn lower_bitcast(
        &mut self,
        src: clir::Value,
        in_ty: &TensorType,
        out: &TensorType,
    ) -> Result<clir::Value> {
        let to = cl_type(out.dtype);
        Ok(match (in_ty.is_scalar(), out.is_scalar()) {
            (true, true) if self.b.func.dfg.value_type(src) == to => src,
            (true, true) => self.b.ins().bitcast(to, MemFlagsData::new(), src),
            (true, false) => {
                let dst = self.alloc_tensor(out)?;
                self.b.ins().store(MemFlagsData::trusted(), src, dst, 0);
                dst
            }
            (false, true) => self.b.ins().load(to, MemFlagsData::trusted(), src, 0),
            (false, false) => src,
        })
    }

    /// Writes the transpose of `src` by `perm` into `dst`.
    pub(super) fn emit_transpose(
        &mut self,
        src: clir::Value,
        in_ty: &TensorType,
        perm: &[usize],
        dst: clir::Value,
    ) -> Result<()> {
        let in_strides = in_ty.strides();
        let coefs: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
        let shape: Vec<usize> = perm.iter().map(|&p| in_ty.shape[p]).collect();
        let out = TensorType::new(in_ty.dtype, shape);
        self.gather(src, &coefs, 0, &out, dst)
    }

    pub(super) fn lower_transpose(
        &mut self,
        src: clir::Value,
        in_ty: &TensorType,
        perm: &[usize],
        out: &TensorType,
    ) -> Result<clir::Value> {
        if out.is_scalar() {
            return Ok(src);
        }
        let dst = self.alloc_tensor(out)?;
        self.emit_transpose(src, in_ty, perm, dst)?;
        Ok(dst)
    }

    pub(super) fn lower_slice(
        &mut self,
        src: clir::Value,
        in_ty: &TensorType,
        start: &[usize],
        stride: &[usize],
        out: &TensorType,
    ) -> Result<clir::Value> {
        if out.is_scalar() {
            return Ok(src);
        }
        let in_strides = in_ty.strides();
        let coefs: Vec<usize> = (0..in_ty.rank())
            .map(|d| stride[d] * in_strides[d])
            .collect();
        let base = (0..in_ty.rank()).map(|d| start[d] * in_strides[d]).sum();
        let dst = self.alloc_tensor(out)?;
        self.gather(src, &coefs, base, out, dst)?;
        Ok(dst)
    }

    /// Concat copies, for each index of the dimensions before `axis`, one contiguous chunk of
    /// every operand after the other.
    pub(super) fn lower_concat(
        &mut self,
        srcs: &[clir::Value],
        in_tys: &[&TensorType],
        axis: usize,
        out: &TensorType,
    ) -> Result<clir::Value> {
        let dst = self.alloc_tensor(out)?;
        let es = out.dtype.size_bytes();
        let outer: usize = out.shape[..axis].iter().product();
        let inner: usize = out.shape[axis + 1..].iter().product();
        let out_chunk = out.shape[axis] * inner * es;
        let mut offset = 0;
        for (&src, ty) in srcs.iter().zip(in_tys) {
            let chunk = ty.shape[axis] * inner * es;
            self.counted_loop(outer as u64, &mut |l, o| {
                let so = l.b.ins().imul_imm_s(o, chunk as i64);
                let s = l.b.ins().iadd(src, so);
                let d0 = l.b.ins().imul_imm_s(o, out_chunk as i64);
                let d1 = l.b.ins().iadd_imm_s(d0, offset as i64);
                let d = l.b.ins().iadd(dst, d1);
                l.copy_bytes(d, s, chunk as u64);
                Ok(())
            })?;
            offset += chunk;
        }
        Ok(dst)
    }

    pub(super) fn lower_iota(&mut self, axis: usize, out: &TensorType) -> Result<clir::Value> {
        let dst = self.alloc_tensor(out)?;
        let dt = out.dtype;
        let out_strides = out.strides();
        self.nest(&out.shape, &mut |l, idx| {
            // The index converted as `convert` converts an `i64`.
            let r = l
                .isel()
                .emit(EwOp::Convert, DType::I64, dt, cl_type(dt), &[idx[axis]]);
            let v = l.selected(r, "'iota'")?;
            let o = l.linear(idx, &out_strides, 0);
            l.store_elem(v, dst, o, dt);
            Ok(())
        })?;
        Ok(dst)
    }

    /// `reduce`: the operand is first laid out as [kept axes..., reduced axes...] (a
    /// transpose into scratch unless the reduced axes already trail), so that each output
    /// element reduces one contiguous run of elements in row-major order of the reduced axes.
    pub(super) fn lower_reduce(
        &mut self,
        op: ReduceOp,
        axes: &[usize],
        src: clir::Value,
        in_ty: &TensorType,
        out: &TensorType,
        dest: Option<clir::Value>,
    ) -> Result<clir::Value> {
        let dt = in_ty.dtype;
        if in_ty.is_scalar() {
            // One element: it goes into accumulator 0; the others stay the identity.
            let id = self.isel().identity(op, dt);
            let id = self.selected(id, "a reduction identity")?;
            let mut acc = [id; 16];
            let first = self.isel().combine(op, dt, id, src);
            acc[0] = self.selected(first, "a reduction step")?;
            return self.combine_tree(op, dt, &acc);
        }
        let kept: Vec<usize> = (0..in_ty.rank()).filter(|d| !axes.contains(d)).collect();
        let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
        let k: usize = kept.iter().map(|&d| in_ty.shape[d]).product();
        let r: usize = axes.iter().map(|&d| in_ty.shape[d]).product();
        let data = if perm.iter().enumerate().all(|(i, &p)| i == p) {
            src
        } else {
            let tmp = self.alloc_tensor(in_ty)?;
            self.emit_transpose(src, in_ty, &perm, tmp)?;
            tmp
        };
        // The leaf's IR value only tells leaves of one tree apart; this tree has one.
        let ir = crate::ir::Value(0);
        if out.is_scalar() {
            let zero = self.b.ins().iconst(types::I64, 0);
            return self.reduce_buffer(op, dt, data, zero, r as u64, ir);
        }
        let dst = self.alloc_result(dest, out)?;
        self.counted_loop(k as u64, &mut |l, i| {
            let base = l.b.ins().imul_imm_s(i, r as i64);
            let v = l.reduce_buffer(op, dt, data, base, r as u64, ir)?;
            l.store_elem(v, dst, i, dt);
            Ok(())
        })?;
        Ok(dst)
    }

    /// `dot`. Floats call the runtime's `matrixmultiply` routine (`kernels::dot_f32` /
    /// `dot_f64`), the one the interpreter calls, with the buffers and sizes. Integers are
    /// computed inline: `C[i,j] = ((0 + A[i,0]*B[0,j]) + A[i,1]*B[1,j]) + ...`, wrapping. A
    /// matrix-vector product is the case `n = 1`, with the same layout.
    pub(super) fn lower_dot(
        &mut self,
        a: clir::Value,
        bm: clir::Value,
        a_ty: &TensorType,
        b_ty: &TensorType,
        out: &TensorType,
        dest: Option<clir::Value>,
    ) -> Result<clir::Value> {
        let dt = out.dtype;
        let (m, k) = (a_ty.shape[0], a_ty.shape[1]);
        let n = if b_ty.rank() == 2 { b_ty.shape[1] } else { 1 };
        let dst = self.alloc_result(dest, out)?;
        if dt.is_float() {
            let sizes: Vec<clir::Value> = [m, k, n]
                .iter()
                .map(|&d| self.b.ins().iconst(types::I64, d as i64))
                .collect();
            let r = self
                .isel()
                .call_dot(dt, &[a, bm, dst, sizes[0], sizes[1], sizes[2]]);
            self.selected(r, "a float dot")?;
            return Ok(dst);
        }
        let shape = super::dot::DotShape { m, k, n, dt };
        if self.dot_vectorizable(&shape) {
            self.emit_dot_simd(a, bm, dst, shape)?;
            return Ok(dst);
        }
        let ty = cl_type(dt);
        self.nest(&[m, n], &mut |l, idx| {
            let (i, j) = (idx[0], idx[1]);
            let acc = l.b.declare_var(ty);
            let z = l.dot_zero(dt)?;
            l.b.def_var(acc, z);
            let arow = l.b.ins().imul_imm_s(i, k as i64);
            l.counted_loop(k as u64, &mut |l, kk| {
                let ai = l.b.ins().iadd(arow, kk);
                let x = l.load_elem(a, ai, dt);
                let bk = l.b.ins().imul_imm_s(kk, n as i64);
                let bi = l.b.ins().iadd(bk, j);
                let y = l.load_elem(bm, bi, dt);
                let cur = l.b.use_var(acc);
                let next = l.mul_add(dt, cur, x, y)?;
                l.b.def_var(acc, next);
                Ok(())
            })?;
            let v = l.b.use_var(acc);
            let o = l.linear(idx, &[n, 1], 0);
            l.store_elem(v, dst, o, dt);
            Ok(())
        })?;
        Ok(dst)
    }
}
