//! Code generation for dynamic indexing (`dynamic_slice`, `dynamic_update_slice`), for
//! `reverse`, whose reads walk the operand backwards, and for `clamp`, whose bounds may be
//! scalars next to a tensor.
//!
//! The runtime start indices are clamped inline exactly as [`crate::ops::index::clamp_start`]
//! says (`smax` with 0, `smin` with `dim - size`), so every address stays inside the operand
//! whatever the indices. A window that is contiguous in the row-major buffer (leading
//! dimensions of size 1, then one partial dimension, then whole dimensions: `x[i]`, a row of a
//! matrix) is not copied at all: the result is a pointer into the operand, as `reshape`
//! results are, so `x[i]` in a loop costs the clamp and one load.

use cranelift_codegen::ir::{self as clir, types, InstBuilder};

use super::{Lowerer, Result};
use crate::jit::isel::cl_type;
use crate::jit::plan::EwOp;
use crate::ops::BinaryOp;
use crate::types::{DType, TensorType};

/// Whether a window of shape `sizes` is one contiguous run of the row-major buffer of
/// `shape`: size 1 in the leading dimensions, any size in one, full size after it.
fn contiguous(shape: &[usize], sizes: &[usize]) -> bool {
    let first_partial = sizes.iter().position(|&s| s != 1).unwrap_or(sizes.len());
    (first_partial + 1..shape.len()).all(|d| sizes[d] == shape[d])
}

impl Lowerer<'_, '_> {
    /// The element offset of the window of shape `sizes` in `shape` at the clamped runtime
    /// starts (scalars of the integer type `start_dt`).
    fn window_offset(
        &mut self,
        shape: &[usize],
        sizes: &[usize],
        starts: &[clir::Value],
        start_dt: DType,
    ) -> clir::Value {
        let st = crate::types::strides(shape);
        let mut acc = self.b.ins().iconst(types::I64, 0);
        for d in 0..shape.len() {
            let hi = shape[d].saturating_sub(sizes[d]) as i64;
            if hi == 0 {
                // The window spans the whole dimension: every start clamps to 0.
                continue;
            }
            let c = self.clamped_start(starts[d], start_dt, hi);
            let t = self.b.ins().imul_imm_s(c, st[d] as i64);
            acc = self.b.ins().iadd(acc, t);
        }
        acc
    }

    /// A runtime start index `raw` (a scalar of the integer type `dt`) clamped to `[0, hi]`
    /// as an `i64`, exactly as [`crate::ops::index::clamp_start`] of
    /// [`crate::ops::index::start_value`] reads it: signed starts are sign-extended and
    /// clamped at both ends; unsigned ones only have a top, so they take an unsigned
    /// minimum, which also sends a `u64` of 2^63 or more to the top rather than to 0.
    pub(crate) fn clamped_start(&mut self, raw: clir::Value, dt: DType, hi: i64) -> clir::Value {
        let top = self.b.ins().iconst(types::I64, hi);
        if dt.is_signed() {
            let s = if dt.bits() == 64 {
                raw
            } else {
                self.b.ins().sextend(types::I64, raw)
            };
            let zero = self.b.ins().iconst(types::I64, 0);
            let low = self.b.ins().smax(s, zero);
            self.b.ins().smin(low, top)
        } else {
            let s = if dt.bits() == 64 {
                raw
            } else {
                self.b.ins().uextend(types::I64, raw)
            };
            self.b.ins().umin(s, top)
        }
    }

    /// Copies every element of a window of type `window`: index `idx` reads element
    /// `sum(idx[d] * from_strides[d])` of `from` and writes `sum(idx[d] * to_strides[d])` of
    /// `to`.
    fn copy_window(
        &mut self,
        from: clir::Value,
        from_strides: &[usize],
        to: clir::Value,
        to_strides: &[usize],
        window: &TensorType,
    ) -> Result<()> {
        let dt = window.dtype;
        self.nest(&window.shape, &mut |l, idx| {
            let s = l.linear(idx, from_strides, 0);
            let x = l.load_elem(from, s, dt);
            let o = l.linear(idx, to_strides, 0);
            l.store_elem(x, to, o, dt);
            Ok(())
        })
    }

    /// `clamp(lo, x, hi)`: `min(max(x, lo), hi)` with the `max` and `min` that instruction
    /// selection gives every executor path; a scalar bound stays in its register.
    pub(crate) fn lower_clamp(
        &mut self,
        args: &[clir::Value],
        tys: &[&TensorType],
        out: &TensorType,
    ) -> Result<clir::Value> {
        let dt = out.dtype;
        let ty = cl_type(dt);
        let clamp = |l: &mut Self, lo, x, hi| -> Result<clir::Value> {
            let low = l
                .isel()
                .emit(EwOp::Binary(BinaryOp::Max), dt, dt, ty, &[x, lo]);
            let low = l.selected(low, "the max of 'clamp'")?;
            let r = l
                .isel()
                .emit(EwOp::Binary(BinaryOp::Min), dt, dt, ty, &[low, hi]);
            l.selected(r, "the min of 'clamp'")
        };
        if out.is_scalar() {
            return clamp(self, args[0], args[1], args[2]);
        }
        let dst = self.alloc_tensor(out)?;
        self.counted_loop(out.num_elements() as u64, &mut |l, i| {
            let mut xs = [args[0], args[1], args[2]];
            for (k, x) in xs.iter_mut().enumerate() {
                if !tys[k].is_scalar() {
                    *x = l.load_elem(*x, i, dt);
                }
            }
            let r = clamp(l, xs[0], xs[1], xs[2])?;
            l.store_elem(r, dst, i, dt);
            Ok(())
        })?;
        Ok(dst)
    }

    /// `reverse`: a copy whose reads start at the offset and step by the signed steps of
    /// [`crate::ops::layout::reverse_steps`], the numbers the interpreter uses.
    pub(crate) fn lower_reverse(
        &mut self,
        src: clir::Value,
        ty: &TensorType,
        dims: &[usize],
    ) -> Result<clir::Value> {
        if ty.is_scalar() {
            return Ok(src);
        }
        let dst = self.alloc_tensor(ty)?;
        let (base, steps) = crate::ops::layout::reverse_steps(&ty.shape, dims);
        let out_strides = ty.strides();
        let dt = ty.dtype;
        self.nest(&ty.shape, &mut |l, idx| {
            let mut s = l.b.ins().iconst(types::I64, base as i64);
            for (&i, &k) in idx.iter().zip(&steps) {
                let t = l.b.ins().imul_imm_s(i, k);
                s = l.b.ins().iadd(s, t);
            }
            let x = l.load_elem(src, s, dt);
            let o = l.linear(idx, &out_strides, 0);
            l.store_elem(x, dst, o, dt);
            Ok(())
        })?;
        Ok(dst)
    }

    /// `dynamic_slice`: a pointer into the operand for contiguous windows, else a copy of
    /// the window into a new buffer.
    pub(super) fn lower_dynamic_slice(
        &mut self,
        src: clir::Value,
        in_ty: &TensorType,
        starts: &[clir::Value],
        start_dt: DType,
        out: &TensorType,
    ) -> Result<clir::Value> {
        if in_ty.is_scalar() {
            return Ok(src);
        }
        let dt = in_ty.dtype;
        let offset = self.window_offset(&in_ty.shape, &out.shape, starts, start_dt);
        let bytes = self.b.ins().imul_imm_s(offset, dt.size_bytes() as i64);
        let base = self.b.ins().iadd(src, bytes);
        if contiguous(&in_ty.shape, &out.shape) {
            return Ok(base);
        }
        let dst = self.alloc_tensor(out)?;
        self.copy_window(base, &in_ty.strides(), dst, &out.strides(), out)?;
        Ok(dst)
    }

    /// `dynamic_update_slice`: a copy of the operand with the update written over the
    /// clamped window.
    pub(super) fn lower_dynamic_update_slice(
        &mut self,
        src: clir::Value,
        update: clir::Value,
        in_ty: &TensorType,
        up_ty: &TensorType,
        starts: &[clir::Value],
        start_dt: DType,
    ) -> Result<clir::Value> {
        if in_ty.is_scalar() {
            return Ok(update);
        }
        let dt = in_ty.dtype;
        let dst = self.alloc_tensor(in_ty)?;
        let total = self.byte_size(in_ty);
        self.copy_bytes(dst, src, total);
        let offset = self.window_offset(&in_ty.shape, &up_ty.shape, starts, start_dt);
        let bytes = self.b.ins().imul_imm_s(offset, dt.size_bytes() as i64);
        let base = self.b.ins().iadd(dst, bytes);
        if contiguous(&in_ty.shape, &up_ty.shape) {
            let n = self.byte_size(up_ty);
            self.copy_bytes(base, update, n);
            return Ok(dst);
        }
        self.copy_window(update, &up_ty.strides(), base, &in_ty.strides(), up_ty)?;
        Ok(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::contiguous;

    #[test]
    fn contiguous_windows() {
        assert!(contiguous(&[5], &[1]));
        assert!(contiguous(&[5], &[3]));
        assert!(contiguous(&[4, 6], &[1, 6]));
        assert!(contiguous(&[4, 6], &[1, 2]));
        assert!(contiguous(&[4, 6], &[3, 6]));
        assert!(!contiguous(&[4, 6], &[2, 2]));
        assert!(contiguous(&[4, 6, 2], &[1, 3, 2]));
        assert!(!contiguous(&[4, 6, 2], &[1, 3, 1]));
    }
}
