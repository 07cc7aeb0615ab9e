//! Code generation for `gather`, `pad`, `dot_general` and `case`.
//!
//! `gather` follows the [`GatherPlan`] the interpreter evaluates: per result element, the
//! start indices it needs are loaded from the index tensor, clamped inline
//! ([`Lowerer::clamped_start`], the clamp of `dynamic_slice`), and the operand element is
//! loaded from `start + offset`: direct loads, no masks. `pad` fills the result with the
//! padding value and stores the operand at the positions of [`pad_placement`]. `dot_general`
//! calls [`crate::ops::dot_general::dot_general_rt`], the function the interpreter runs, with
//! a descriptor of the shapes and dimension numbers in a read-only data object.
//!
//! Scalars are registers in compiled code; an operand or result of rank 0 goes through a
//! one-element scratch slot here, so each lowering deals with buffers only.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData};
use cranelift_module::{DataDescription, Module};

use super::{Lowerer, Result, SLOT_ALIGN};
use crate::jit::isel::cl_type;
use crate::jit::runtime::RuntimeFn;
use crate::ops::dot_general::{encode, DotDims};
use crate::ops::gather::{GatherDims, GatherPlan, ResultDim, StartSrc};
use crate::ops::pad::pad_placement;
use crate::types::TensorType;

impl Lowerer<'_, '_> {
    /// A buffer holding the value `v` of type `ty`: `v` itself for a tensor, a new
    /// one-element slot for a scalar register.
    fn spilled(&mut self, v: clir::Value, ty: &TensorType) -> Result<clir::Value> {
        if !ty.is_scalar() {
            return Ok(v);
        }
        let slot = self.alloc_tensor(ty)?;
        self.b.ins().store(MemFlagsData::trusted(), v, slot, 0);
        Ok(slot)
    }

    /// The value of a result of type `ty` computed into the buffer `buf`: the buffer, or
    /// for a scalar its one element loaded into a register.
    fn reloaded(&mut self, buf: clir::Value, ty: &TensorType) -> clir::Value {
        if !ty.is_scalar() {
            return buf;
        }
        self.b
            .ins()
            .load(cl_type(ty.dtype), MemFlagsData::trusted(), buf, 0)
    }

    /// `gather(x, idx)`: every result element is one load of `x` at clamped starts.
    pub(crate) fn lower_gather(
        &mut self,
        x: clir::Value,
        idx: clir::Value,
        tys: &[&TensorType],
        dims: &GatherDims,
        out: &TensorType,
    ) -> Result<clir::Value> {
        let (xt, it) = (tys[0], tys[1]);
        let plan = GatherPlan::new(xt, it, dims).map_err(|e| self.err(e.0))?;
        let x = self.spilled(x, xt)?;
        let idx = self.spilled(idx, it)?;
        let dst = self.alloc_tensor(out)?;
        let out_strides = out.strides();
        let (dt, idt) = (out.dtype, it.dtype);
        self.nest(&out.shape, &mut |l, at| {
            // The first index-vector component of this element's batch.
            let batch_coefs: Vec<usize> = plan
                .result_dims
                .iter()
                .map(|rd| match rd {
                    ResultDim::Batch { index_stride, .. } => *index_stride,
                    ResultDim::Offset { .. } => 0,
                })
                .collect();
            let base = l.linear(at, &batch_coefs, 0);
            let mut off = l.b.ins().iconst(types::I64, 0);
            for (d, s) in plan.starts.iter().enumerate() {
                let stride = plan.operand_strides[d] as i64;
                let start = match *s {
                    StartSrc::Zero => continue,
                    StartSrc::Batch { result_dim } => at[result_dim],
                    StartSrc::Index { hi: 0, .. } => continue,
                    StartSrc::Index {
                        component_offset,
                        hi,
                    } => {
                        let p = l.b.ins().iadd_imm_s(base, component_offset as i64);
                        let raw = l.load_elem(idx, p, idt);
                        l.clamped_start(raw, idt, hi as i64)
                    }
                };
                let t = l.b.ins().imul_imm_s(start, stride);
                off = l.b.ins().iadd(off, t);
            }
            let offset_coefs: Vec<usize> = plan
                .result_dims
                .iter()
                .map(|rd| match rd {
                    ResultDim::Offset { operand_dim } => plan.operand_strides[*operand_dim],
                    ResultDim::Batch { .. } => 0,
                })
                .collect();
            let inner = l.linear(at, &offset_coefs, 0);
            let src = l.b.ins().iadd(off, inner);
            let v = l.load_elem(x, src, dt);
            let o = l.linear(at, &out_strides, 0);
            l.store_elem(v, dst, o, dt);
            Ok(())
        })?;
        Ok(self.reloaded(dst, out))
    }

    /// `pad(x, value)`: the result filled with `value`, then `x` stored at its places.
    pub(crate) fn lower_pad(
        &mut self,
        x: clir::Value,
        value: clir::Value,
        xt: &TensorType,
        low: &[usize],
        interior: &[usize],
        out: &TensorType,
    ) -> Result<clir::Value> {
        if out.is_scalar() {
            // A scalar operand has nothing to pad.
            return Ok(x);
        }
        let x = self.spilled(x, xt)?;
        let dst = self.fill(value, out)?;
        let (base, steps) = pad_placement(out, low, interior);
        let in_strides = xt.strides();
        let dt = out.dtype;
        self.nest(&xt.shape, &mut |l, at| {
            let s = l.linear(at, &in_strides, 0);
            let v = l.load_elem(x, s, dt);
            let o = l.linear(at, &steps, base);
            l.store_elem(v, dst, o, dt);
            Ok(())
        })?;
        Ok(dst)
    }

    /// `dot_general(a, b)`: a call of the runtime's definition with a descriptor.
    pub(crate) fn lower_dot_general(
        &mut self,
        a: clir::Value,
        b: clir::Value,
        tys: &[&TensorType],
        dims: &DotDims,
        out: &TensorType,
    ) -> Result<clir::Value> {
        let (at, bt) = (tys[0], tys[1]);
        let a = self.spilled(a, at)?;
        let b = self.spilled(b, bt)?;
        let dst = self.alloc_tensor(out)?;
        let words = encode(at, bt, out.dtype, dims);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let desc = self.read_only_data(bytes)?;
        let len = self.b.ins().iconst(types::I64, words.len() as i64);
        self.calls
            .call(&mut self.b, RuntimeFn::DotGeneral, &[desc, len, a, b, dst]);
        Ok(self.reloaded(dst, out))
    }

    /// The address of a new read-only data object holding `bytes`.
    pub(super) fn read_only_data(&mut self, bytes: Vec<u8>) -> Result<clir::Value> {
        let module = &mut *self.calls.module;
        let id = module
            .declare_anonymous_data(false, false)
            .map_err(|e| self.err(format!("declaring read-only data: {e}")))?;
        let mut desc = DataDescription::new();
        desc.define(bytes.into_boxed_slice());
        desc.set_align(SLOT_ALIGN);
        let module = &mut *self.calls.module;
        module
            .define_data(id, &desc)
            .map_err(|e| self.err(format!("defining read-only data: {e}")))?;
        let gv = self.calls.module.declare_data_in_func(id, self.b.func);
        Ok(self.b.ins().symbol_value(self.ptr_ty, gv))
    }
}

impl Lowerer<'_, '_> {
    /// `case`: a chain of `brif`s on `index == k` for every branch but the last, which runs
    /// when none matched (an out-of-range index); every branch jumps to one merge block whose
    /// parameters are the results, as `if` does.
    pub(crate) fn lower_case(&mut self, i: crate::ir::Inst) -> Result<()> {
        let f = self.f;
        let data = f.inst(i);
        let [p] = data.args[..] else {
            return Err(self.err("'case' needs one operand"));
        };
        let tys: Vec<&TensorType> = data.results.iter().map(|&r| self.ty(r)).collect();
        let idx = self.val(p)?;
        let merge = self.b.create_block();
        let params = self.append_params(merge, &tys);
        let n = data.regions.len();
        for (k, &region) in data.regions.iter().enumerate() {
            if k + 1 < n {
                let this = self.b.create_block();
                let next = self.b.create_block();
                let hit = self.b.ins().icmp_imm_s(IntCC::Equal, idx, k as i64);
                self.b.ins().brif(hit, this, &[], next, &[]);
                self.b.switch_to_block(this);
                self.case_branch(region, merge, i)?;
                self.b.switch_to_block(next);
            } else {
                self.case_branch(region, merge, i)?;
            }
        }
        self.b.switch_to_block(merge);
        for (k, &r) in data.results.iter().enumerate() {
            self.define(r, params[k]);
        }
        Ok(())
    }

    /// Lowers one branch of a `case` into the current block and jumps to `merge` with its
    /// yields.
    fn case_branch(
        &mut self,
        region: crate::ir::Region,
        merge: clir::Block,
        i: crate::ir::Inst,
    ) -> Result<()> {
        let (_, ys) = self.lower_region(region)?;
        let args = ys
            .iter()
            .map(|&y| self.val(y).map(clir::BlockArg::from))
            .collect::<Result<Vec<_>>>()?;
        self.b.set_srcloc(clir::SourceLoc::new(i.0));
        self.b.ins().jump(merge, &args);
        Ok(())
    }
}
