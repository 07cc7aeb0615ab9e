//! Code generation for a general `reduce_window` (any window, strides, dilations and
//! padding), inline: a loop nest over the outputs, an inner loop nest over the window
//! positions in row-major order, and for each position that falls on an element (not on
//! padding, not on a hole of base dilation) the region folded in through the instruction
//! selector. That is the order and the skipping of `ops::region_kernels`, so the bits are
//! the kernel's; the region is compiled rather than interpreted per element. A window of
//! rank-0 operands is one step of the region.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as clir, types, InstBuilder};

use super::{Lowerer, Result};
use crate::ir::Inst;
use crate::jit::isel::cl_type;
use crate::ops::region::{Body, Window};
use crate::types::{strides, DType};

impl Lowerer<'_, '_> {
    /// Whether `reduce_window` `i` is lowered by [`Lowerer::lower_window`]: its results are
    /// tensors (a rank-0 operand has nothing to window).
    pub(super) fn window_inline(&self, i: Inst) -> bool {
        let d = self.f.inst(i);
        !d.results.is_empty() && d.results.iter().all(|&r| !self.ty(r).is_scalar())
    }

    /// A `reduce_window` of rank-0 operands: its one window holds the one element, so each
    /// result is one step of the region on the initial values and the elements.
    pub(super) fn lower_scalar_window(&mut self, i: Inst, body: &Body) -> Result<()> {
        let d = self.f.inst(i);
        if d.args.iter().any(|&a| !self.ty(a).is_scalar()) {
            return Err(self.err("a window of rank-0 results has a tensor operand"));
        }
        let n = d.args.len() / 2;
        // The region's arguments are the accumulators (the initial values), then the elements.
        let args = d.args[n..]
            .iter()
            .chain(&d.args[..n])
            .map(|&a| self.val(a))
            .collect::<Result<Vec<_>>>()?;
        let ys = self.emit_body(body, &args)?;
        for (&r, &y) in d.results.iter().zip(&ys) {
            self.define(r, y);
        }
        Ok(())
    }

    /// A general `reduce_window`, inline (see the module doc).
    pub(super) fn lower_window(&mut self, i: Inst, w: &Window, body: &Body) -> Result<()> {
        let f = self.f;
        let d = f.inst(i);
        let n = d.args.len() / 2;
        let shape = self.ty(d.args[0]).shape.clone();
        let rank = shape.len();
        let fits = [
            &w.dims,
            &w.strides,
            &w.base_dilations,
            &w.window_dilations,
            &w.pad_low,
        ];
        if fits.iter().any(|v| v.len() != rank) {
            return Err(self.err("a window does not match its operand's rank"));
        }
        let srcs = d.args[..n]
            .iter()
            .map(|&a| self.region_src(a, false, false))
            .collect::<Result<Vec<_>>>()?;
        let inits = d.args[n..]
            .iter()
            .map(|&a| self.val(a))
            .collect::<Result<Vec<_>>>()?;
        let dts: Vec<DType> = d.results.iter().map(|&r| self.ty(r).dtype).collect();
        let out_shape = self.ty(d.results[0]).shape.clone();
        let mut outs = Vec::with_capacity(n);
        for &r in &d.results {
            let dest = self.dest_ptr[r.index()];
            outs.push(self.alloc_result(dest, self.ty(r))?);
        }
        let vars: Vec<_> = dts
            .iter()
            .map(|&dt| self.b.declare_var(cl_type(dt)))
            .collect();
        let st = strides(&shape);
        let out_st = strides(&out_shape);
        self.nest(&out_shape, &mut |l, o| {
            for (k, &v) in vars.iter().enumerate() {
                l.b.def_var(v, inits[k]);
            }
            l.nest(&w.dims, &mut |l, k| {
                // The operand position of window position `k`: in the padded, dilated
                // operand `p = o * stride + k * window_dilation`; it is an element when
                // `q = p - pad_low` is at least 0, a multiple of the base dilation, and
                // `q / base_dilation` is inside the dimension.
                let mut ok: Option<clir::Value> = None;
                let mut off = l.b.ins().iconst(types::I64, 0);
                for x in 0..rank {
                    let a = l.b.ins().imul_imm_s(o[x], w.strides[x] as i64);
                    let b = l.b.ins().imul_imm_s(k[x], w.window_dilations[x] as i64);
                    let p = l.b.ins().iadd(a, b);
                    let q = l.b.ins().iadd_imm_s(p, -(w.pad_low[x] as i64));
                    let mut tests =
                        vec![l.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, q, 0)];
                    let base = w.base_dilations[x] as i64;
                    let e = if base > 1 {
                        let r = l.b.ins().srem_imm_s(q, base);
                        tests.push(l.b.ins().icmp_imm_s(IntCC::Equal, r, 0));
                        l.b.ins().sdiv_imm_s(q, base)
                    } else {
                        q
                    };
                    tests.push(
                        l.b.ins()
                            .icmp_imm_s(IntCC::SignedLessThan, e, shape[x] as i64),
                    );
                    for t in tests {
                        ok = Some(match ok {
                            Some(c) => l.b.ins().band(c, t),
                            None => t,
                        });
                    }
                    let t = l.b.ins().imul_imm_s(e, st[x] as i64);
                    off = l.b.ins().iadd(off, t);
                }
                let fold = l.b.create_block();
                let next = l.b.create_block();
                match ok {
                    Some(c) => l.b.ins().brif(c, fold, &[], next, &[]),
                    None => l.b.ins().jump(fold, &[]),
                };
                l.b.switch_to_block(fold);
                let mut elems = Vec::with_capacity(n);
                for (j, &s) in srcs.iter().enumerate() {
                    elems.push(l.read_src(s, &[], off, dts[j])?);
                }
                l.fold_step(body, &[], &vars, &elems)?;
                l.b.ins().jump(next, &[]);
                l.b.switch_to_block(next);
                Ok(())
            })?;
            let oi = l.linear(o, &out_st, 0);
            for (k, &p) in outs.iter().enumerate() {
                let x = l.b.use_var(vars[k]);
                l.store_elem(x, p, oi, dts[k]);
            }
            Ok(())
        })?;
        for (k, &p) in outs.iter().enumerate() {
            self.define(d.results[k], p);
        }
        Ok(())
    }
}
