//! Lowering of a graphjit function to Cranelift IR: the entry block, regions, `while`/`if`
//! control flow, and the dispatch of every op to its code generator.
//!
//! Every IR value becomes exactly one Cranelift value: a rank-0 value is the element itself in
//! an SSA register (`i8` for bool, `i32`, `i64`, `f32`, `f64`); a tensor of rank >= 1 is a
//! pointer to a row-major buffer. Buffers are function inputs (read only), constant data
//! objects (read only), or slots of the per-run scratch memory. Each tensor-producing
//! instruction owns one slot that only it writes, so a buffer can be shared by aliases
//! (`reshape`, `if` results) without copies; values never outlive one iteration of an
//! enclosing loop except through `yield`, which copies into the loop's own buffers.

use cranelift_codegen::ir::{
    self as clir, types, AbiParam, BlockArg, InstBuilder, MemFlagsData, SourceLoc, Type,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{DataDescription, FuncId, Module};

use super::fuse::{self, EwOp, FusionPlan, LeafSrc, Plan, Sink};
use crate::error::CompileError;
use crate::ir::{Function, Inst, Region, Value};
use crate::ops::Op;
use crate::types::{DType, Kind, TensorType};

/// Tensor constants with more elements than this that are one repeated value are filled into
/// scratch by a loop instead of being stored as data, so that huge splats cost no memory twice.
const SPLAT_FILL_THRESHOLD: usize = 256;

/// The alignment of every scratch slot in bytes; it covers every dtype.
pub(crate) const SLOT_ALIGN: u64 = 16;

/// The largest scratch memory one run may need. Larger plans are refused at compile time.
pub(crate) const MAX_SCRATCH_BYTES: u64 = 1 << 40;

pub(crate) type Result<T> = std::result::Result<T, CompileError>;

/// The Cranelift type of one element of `dtype` in a register: `f32`/`f64` as themselves,
/// every other dtype as the integer of its storage width (`bool` a byte holding 0 or 1; `f16`
/// and `bf16` their 16 bits).
pub(crate) fn cl_type(dtype: DType) -> Type {
    match (dtype.kind(), dtype.bits()) {
        (Kind::Float, 32) => types::F32,
        (Kind::Float, 64) => types::F64,
        _ => Type::int_with_byte_size(dtype.size_bytes() as u16).unwrap_or(types::I64),
    }
}

/// The state of lowering one function.
pub(crate) struct Lowerer<'a, 'b> {
    pub f: &'a Function,
    pub b: FunctionBuilder<'b>,
    pub module: &'a mut JITModule,
    /// Imported runtime functions (transcendentals), by symbol name.
    pub imports: &'a [(&'static str, FuncId)],
    /// Function references already declared in this function, by symbol name.
    pub func_refs: Vec<(&'static str, clir::FuncRef)>,
    /// The Cranelift value of each IR value, once defined.
    pub vals: Vec<Option<clir::Value>>,
    /// The scratch base pointer (third entry parameter).
    pub scratch: clir::Value,
    /// Bytes of scratch planned so far.
    pub scratch_size: u64,
    pub ptr_ty: Type,
    pub config: TargetFrontendConfig,
    /// Regions already lowered: each region is lowered once, which also stops a malformed
    /// function whose regions contain themselves.
    pub lowered: Vec<bool>,
    /// Whether elementwise ops are lowered through fused trees (`fuse.rs`).
    pub fusion: bool,
    /// Whether fused loops, reductions and `dot` use 128-bit vectors.
    pub simd: bool,
    /// The fusion plan of every value.
    pub plan: FusionPlan,
    /// Fused values whose instruction has been reached (they have no Cranelift value).
    pub deferred: Vec<bool>,
    /// The element source of every splat or broadcast that is read inside its consumers.
    pub leaf_srcs: Vec<Option<LeafSrc>>,
    /// Buffers that values must be written into (an output, or a loop's other buffer).
    pub dest_ptr: Vec<Option<clir::Value>>,
    /// The destination of the instruction being lowered, taken by `alloc_result`.
    pub result_dest: Option<clir::Value>,
    /// The limit checks on `while` back-edges, in the checked variant of the entry function.
    pub checks: Option<Checks>,
}

/// What the checked variant's back-edges use (see `crate::limits` for the protocol).
#[derive(Clone, Copy)]
pub(crate) struct Checks {
    /// The `RunState` pointer (the fourth entry parameter).
    pub state: clir::Value,
    /// The back-edges left before `graphjit_back_edge` must be called.
    pub budget: Variable,
    /// The block that returns the status 1: the run stopped, `RunState` says why.
    pub stop: clir::Block,
}

/// The runtime function compiled code calls at back-edges.
pub(crate) const BACK_EDGE_SYMBOL: &str = "graphjit_back_edge";

impl Checks {
    /// Sets up the checks at the top of the entry block.
    pub(crate) fn new(b: &mut FunctionBuilder<'_>, state: clir::Value) -> Checks {
        let first = b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            state,
            crate::limits::CHUNK_OFFSET,
        );
        let budget = b.declare_var(types::I64);
        b.def_var(budget, first);
        let stop = b.create_block();
        Checks {
            state,
            budget,
            stop,
        }
    }

    /// Fills the stop block; called once the body is lowered.
    pub(crate) fn finish(&self, b: &mut FunctionBuilder<'_>) {
        b.switch_to_block(self.stop);
        let status = b.ins().iconst(types::I32, 1);
        b.ins().return_(&[status]);
    }
}

impl<'a, 'b> Lowerer<'a, 'b> {
    pub(crate) fn err(&self, message: impl Into<String>) -> CompileError {
        CompileError {
            func: self.f.name.clone(),
            message: message.into(),
        }
    }

    /// The Cranelift value of an IR value, which must already be defined.
    pub(crate) fn val(&self, v: Value) -> Result<clir::Value> {
        self.vals
            .get(v.index())
            .copied()
            .flatten()
            .ok_or_else(|| self.err(format!("value {} is used before it is defined", v.0)))
    }

    pub(crate) fn ty(&self, v: Value) -> Result<&'a TensorType> {
        let f: &'a Function = self.f;
        f.values
            .get(v.index())
            .map(|d| &d.ty)
            .ok_or_else(|| self.err(format!("value {} does not exist", v.0)))
    }

    fn define(&mut self, v: Value, x: clir::Value) -> Result<()> {
        match self.vals.get_mut(v.index()) {
            Some(slot) => {
                *slot = Some(x);
                Ok(())
            }
            None => Err(self.err(format!("value {} does not exist", v.0))),
        }
    }

    /// The byte size of a tensor type, checked against overflow.
    pub(crate) fn byte_size(&self, ty: &TensorType) -> Result<u64> {
        let n = ty
            .checked_num_elements()
            .ok_or_else(|| self.err(format!("type {ty} is too large")))?;
        (n as u64)
            .checked_mul(ty.dtype.size_bytes() as u64)
            .ok_or_else(|| self.err(format!("the byte size of {ty} overflows")))
    }

    /// Plans a new scratch slot of `bytes` bytes and returns its address.
    pub(crate) fn alloc(&mut self, bytes: u64) -> Result<clir::Value> {
        let offset = self.scratch_size;
        let end = offset
            .checked_add(bytes)
            .and_then(|e| e.checked_add(SLOT_ALIGN - 1))
            .map(|e| e & !(SLOT_ALIGN - 1))
            .filter(|&e| e <= MAX_SCRATCH_BYTES)
            .ok_or_else(|| {
                self.err(format!(
                    "the scratch memory plan exceeds the limit of {MAX_SCRATCH_BYTES} bytes"
                ))
            })?;
        self.scratch_size = end;
        Ok(self.b.ins().iadd_imm_s(self.scratch, offset as i64))
    }

    /// The buffer of the result of the instruction being lowered: its planned destination, or
    /// a new scratch slot.
    pub(crate) fn alloc_result(&mut self, ty: &TensorType) -> Result<clir::Value> {
        match self.result_dest.take() {
            Some(p) => Ok(p),
            None => self.alloc_tensor(ty),
        }
    }

    /// Plans a scratch slot for a tensor of type `ty`.
    pub(crate) fn alloc_tensor(&mut self, ty: &TensorType) -> Result<clir::Value> {
        let bytes = self.byte_size(ty)?;
        self.alloc(bytes)
    }

    /// Copies `bytes` bytes between distinct buffers (the C library's `memcpy`).
    pub(crate) fn copy_bytes(&mut self, dst: clir::Value, src: clir::Value, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let size = self.b.ins().iconst(self.ptr_ty, bytes as i64);
        self.b.call_memcpy(self.config, dst, src, size);
    }

    /// The function reference of an imported runtime function.
    pub(crate) fn func_ref(&mut self, name: &'static str) -> Result<clir::FuncRef> {
        if let Some((_, r)) = self.func_refs.iter().find(|(n, _)| *n == name) {
            return Ok(*r);
        }
        let id = self
            .imports
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .ok_or_else(|| self.err(format!("runtime function {name} is not declared")))?;
        let r = self.module.declare_func_in_func(id, self.b.func);
        self.func_refs.push((name, r));
        Ok(r)
    }

    /// Lowers the function body into the entry block whose parameters are
    /// `(inputs, outputs, scratch)`.
    pub(crate) fn lower_body(&mut self, inputs: clir::Value, outputs: clir::Value) -> Result<()> {
        let f = self.f;
        // Step 1: bind parameters; scalars are loaded into registers, tensors stay pointers.
        for (i, &p) in f.params.iter().enumerate() {
            let ty = self.ty(p)?;
            let ptr =
                self.b
                    .ins()
                    .load(self.ptr_ty, MemFlagsData::trusted(), inputs, (i * 8) as i32);
            let v = if ty.is_scalar() {
                self.b
                    .ins()
                    .load(cl_type(ty.dtype), MemFlagsData::trusted(), ptr, 0)
            } else {
                ptr
            };
            self.define(p, v)?;
        }
        // Results planned to be computed in place get their output buffer up front.
        let mut out_ptrs: Vec<Option<clir::Value>> = vec![None; f.results.len()];
        for v in 0..f.values.len() {
            if let Some(fuse::Dest::Out(k)) = self.plan.dest[v] {
                if k < out_ptrs.len() {
                    let p = self.b.ins().load(
                        self.ptr_ty,
                        MemFlagsData::trusted(),
                        outputs,
                        (k * 8) as i32,
                    );
                    out_ptrs[k] = Some(p);
                    self.dest_ptr[v] = Some(p);
                }
            }
        }
        // Step 2: the body region, ending in `return`.
        let (term, rets) = self.lower_region(f.body)?;
        if !matches!(f.inst(term).op, Op::Return) {
            return Err(self.err("the function body does not end in 'return'"));
        }
        if rets.len() != f.results.len() {
            return Err(self.err("'return' does not match the function's result count"));
        }
        // Step 3: write the results into the caller's output buffers.
        self.b.set_srcloc(SourceLoc::new(term.0));
        for (i, (&r, rty)) in rets.iter().zip(&f.results).enumerate() {
            if self.ty(r)? != rty {
                return Err(self.err(format!(
                    "'return' operand {i} has type {}, the function returns {rty}",
                    self.ty(r)?
                )));
            }
            let out = match out_ptrs[i] {
                Some(p) => p,
                None => self.b.ins().load(
                    self.ptr_ty,
                    MemFlagsData::trusted(),
                    outputs,
                    (i * 8) as i32,
                ),
            };
            let x = self.val(r)?;
            if x == out {
                // Computed in place.
            } else if rty.is_scalar() {
                self.b.ins().store(MemFlagsData::trusted(), x, out, 0);
            } else {
                let bytes = self.byte_size(rty)?;
                self.copy_bytes(out, x, bytes);
            }
        }
        let ok = self.b.ins().iconst(types::I32, 0);
        self.b.ins().return_(&[ok]);
        Ok(())
    }

    /// Lowers the instructions of a region and returns its terminator and the terminator's
    /// operands (not yet converted: callers decide what to do with them).
    fn lower_region(&mut self, r: Region) -> Result<(Inst, Vec<Value>)> {
        let f = self.f;
        let insts = &f
            .regions
            .get(r.index())
            .ok_or_else(|| self.err(format!("region {} does not exist", r.0)))?
            .insts;
        match self.lowered.get_mut(r.index()) {
            Some(seen) if !*seen => *seen = true,
            _ => return Err(self.err(format!("region {} is used more than once", r.0))),
        }
        let Some((&last, rest)) = insts.split_last() else {
            return Err(self.err(format!("region {} is empty", r.0)));
        };
        for &i in rest {
            self.lower_inst(i)?;
        }
        let data = f
            .insts
            .get(last.index())
            .ok_or_else(|| self.err(format!("instruction {} does not exist", last.0)))?;
        if !data.op.is_terminator() {
            return Err(self.err(format!("region {} does not end in a terminator", r.0)));
        }
        for &a in &data.args {
            self.val(a)?;
        }
        Ok((last, data.args.clone()))
    }

    /// Lowers a nested region, which must end in `yield`, and returns the yielded values.
    fn lower_nested(&mut self, r: Region) -> Result<Vec<Value>> {
        let (term, ys) = self.lower_region(r)?;
        if !matches!(self.f.inst(term).op, Op::Yield) {
            return Err(self.err(format!("nested region {} does not end in 'yield'", r.0)));
        }
        Ok(ys)
    }

    /// Lowers one instruction.
    fn lower_inst(&mut self, i: Inst) -> Result<()> {
        let f = self.f;
        let data = f
            .insts
            .get(i.index())
            .ok_or_else(|| self.err(format!("instruction {} does not exist", i.0)))?;
        self.b.set_srcloc(SourceLoc::new(i.0));
        let op = &data.op;
        if op.is_terminator() {
            return Err(self.err(format!("'{}' in the middle of a region", op.name())));
        }
        if matches!(op, Op::While) {
            return self.lower_while(i);
        }
        if matches!(op, Op::If) {
            return self.lower_if(i);
        }
        // Re-check the op's type rule, so that a function that skipped verification cannot
        // make the generated loops run out of bounds.
        let arg_tys = data
            .args
            .iter()
            .map(|&a| self.ty(a))
            .collect::<Result<Vec<_>>>()?;
        let [res] = data.results[..] else {
            return Err(self.err(format!("'{}' must have one result", op.name())));
        };
        let res_ty = self.ty(res)?;
        let inferred = crate::ops::infer(op, &arg_tys, Some(res_ty))
            .map_err(|e| self.err(format!("'{}': {e}", op.name())))?;
        if &inferred != res_ty {
            return Err(self.err(format!(
                "'{}' produces {inferred}, declared as {res_ty}",
                op.name()
            )));
        }
        match self.plan.plan.get(res.index()) {
            Some(Plan::Inline) => {
                // Computed inside its consumer's loop (see `fuse.rs`).
                self.deferred[res.index()] = true;
                return Ok(());
            }
            Some(Plan::Leaf) => {
                let src = self.leaf_source(op, &data.args, arg_tys.first().copied(), res_ty)?;
                self.leaf_srcs[res.index()] = Some(src);
                return Ok(());
            }
            _ => {}
        }
        self.result_dest = self.dest_ptr.get(res.index()).copied().flatten();
        if self.fusion {
            let ew = match op {
                Op::Unary(u) => Some(EwOp::Unary(*u)),
                Op::Binary(b) => Some(EwOp::Binary(*b)),
                Op::Compare(c) => Some(EwOp::Compare(*c)),
                Op::Select => Some(EwOp::Select),
                Op::Convert => Some(EwOp::Convert),
                _ => None,
            };
            if let (Some(ew), false) = (ew, res_ty.is_scalar()) {
                let t = self.tree_of_op(ew, &data.args, res_ty.dtype, &res_ty.shape)?;
                let dst = self.alloc_result(res_ty)?;
                self.emit_fused(t, Sink::Store(dst))?;
                self.result_dest = None;
                return self.define(res, dst);
            }
            if let Op::Reduce { op: r, axes } = op {
                let in_ty = arg_tys[0];
                if !in_ty.is_scalar() && fuse::trailing(axes, in_ty.rank()) {
                    let dummy = self.scratch;
                    let out =
                        self.lower_reduce(*r, axes, dummy, Some(data.args[0]), in_ty, res_ty)?;
                    self.result_dest = None;
                    return self.define(res, out);
                }
            }
        }
        let args = data
            .args
            .iter()
            .map(|&a| self.val(a))
            .collect::<Result<Vec<_>>>()?;
        let dt = |k: usize| arg_tys[k].dtype;
        let out = match op {
            Op::Const(t) => self.lower_const(t)?,
            Op::Unary(u) => {
                let (u, d) = (*u, dt(0));
                self.elementwise(&args, &[d], res_ty, &mut |l, x| l.unary(u, d, x[0]))?
            }
            Op::Binary(bop) => {
                let (bop, d) = (*bop, dt(0));
                self.elementwise(&args, &[d, d], res_ty, &mut |l, x| {
                    l.binary(bop, d, x[0], x[1])
                })?
            }
            Op::Compare(c) => {
                let (c, d) = (*c, dt(0));
                self.elementwise(&args, &[d, d], res_ty, &mut |l, x| {
                    Ok(l.compare(c, d, x[0], x[1]))
                })?
            }
            Op::Select => {
                let d = dt(1);
                self.elementwise(&args, &[DType::Bool, d, d], res_ty, &mut |l, x| {
                    Ok(l.b.ins().select(x[0], x[1], x[2]))
                })?
            }
            Op::Convert => {
                let (from, to) = (dt(0), res_ty.dtype);
                self.elementwise(&args, &[from], res_ty, &mut |l, x| {
                    Ok(l.convert(from, to, x[0]))
                })?
            }
            Op::BitcastConvert => {
                let (from, to) = (dt(0), res_ty.dtype);
                if from.bits() == to.bits() {
                    let to_ty = cl_type(to);
                    self.elementwise(&args, &[from], res_ty, &mut |l, x| {
                        Ok(if l.b.func.dfg.value_type(x[0]) == to_ty {
                            x[0]
                        } else {
                            l.b.ins().bitcast(to_ty, MemFlagsData::new(), x[0])
                        })
                    })?
                } else {
                    self.lower_bitcast_resize(args[0], arg_tys[0], res_ty)?
                }
            }
            Op::Broadcast { dims } => self.lower_broadcast(args[0], arg_tys[0], dims, res_ty)?,
            Op::Reshape => self.lower_reshape(args[0], arg_tys[0], res_ty)?,
            Op::Transpose { perm } => self.lower_transpose(args[0], arg_tys[0], perm, res_ty)?,
            Op::Slice { start, stride, .. } => {
                self.lower_slice(args[0], arg_tys[0], start, stride, res_ty)?
            }
            Op::Concat { axis } => self.lower_concat(&args, &arg_tys, *axis, res_ty)?,
            Op::Iota { axis } => self.lower_iota(*axis, res_ty)?,
            Op::Reduce { op: r, axes } => {
                self.lower_reduce(*r, axes, args[0], None, arg_tys[0], res_ty)?
            }
            Op::Dot => self.lower_dot(args[0], args[1], arg_tys[0], arg_tys[1], res_ty)?,
            Op::While | Op::If | Op::Yield | Op::Return => {
                return Err(self.err(format!("'{}' cannot be lowered here", op.name())))
            }
        };
        self.result_dest = None;
        self.define(res, out)
    }

    /// The element source of a splat constant or a broadcast read inside its consumers.
    fn leaf_source(
        &mut self,
        op: &Op,
        args: &[Value],
        arg_ty: Option<&TensorType>,
        res_ty: &TensorType,
    ) -> Result<LeafSrc> {
        match (op, arg_ty) {
            (Op::Const(t), _) => {
                let s = t.get(0).ok_or_else(|| self.err("empty splat constant"))?;
                Ok(LeafSrc::Splat(self.scalar_const(s)))
            }
            (Op::Broadcast { dims }, Some(in_ty)) => {
                let src = self.val(args[0])?;
                if in_ty.is_scalar() {
                    return Ok(LeafSrc::Splat(src));
                }
                let in_strides = in_ty.strides();
                let mut coefs = vec![0; res_ty.rank()];
                for (i, &d) in dims.iter().enumerate() {
                    if in_ty.shape[i] != 1 {
                        coefs[d] = in_strides[i];
                    }
                }
                Ok(LeafSrc::Buf { ptr: src, coefs })
            }
            _ => Err(self.err(format!("'{}' cannot be fused", op.name()))),
        }
    }

    /// A constant: scalars are immediates; tensors are read-only data objects, except large
    /// splats, which a loop writes into scratch.
    fn lower_const(&mut self, t: &crate::tensor::Tensor) -> Result<clir::Value> {
        let ty = t.ty();
        if ty.is_scalar() {
            let s = t.get(0).ok_or_else(|| self.err("empty scalar constant"))?;
            return Ok(self.scalar_const(s));
        }
        if t.len() > SPLAT_FILL_THRESHOLD && t.is_splat() {
            let s = t.get(0).ok_or_else(|| self.err("empty constant"))?;
            let v = self.scalar_const(s);
            return self.fill(v, &ty);
        }
        let mut bytes = t.data().as_bytes().to_vec();
        if bytes.is_empty() {
            // A data object needs at least one byte; nothing reads it.
            bytes.push(0);
        }
        let id = self
            .module
            .declare_anonymous_data(false, false)
            .map_err(|e| self.err(format!("declaring constant data: {e}")))?;
        let mut desc = DataDescription::new();
        desc.define(bytes.into_boxed_slice());
        desc.set_align(SLOT_ALIGN);
        self.module
            .define_data(id, &desc)
            .map_err(|e| self.err(format!("defining constant data: {e}")))?;
        let gv = self.module.declare_data_in_func(id, self.b.func);
        Ok(self.b.ins().symbol_value(self.ptr_ty, gv))
    }

    /// A scalar immediate.
    pub(crate) fn scalar_const(&mut self, s: crate::tensor::Scalar) -> clir::Value {
        use crate::tensor::Scalar;
        match s {
            Scalar::F32(v) => self.b.ins().f32const(v),
            Scalar::F64(v) => self.b.ins().f64const(v),
            // Integers, bools and 16-bit floats as their bits, zero-extended as Cranelift's
            // `iconst` wants them.
            _ => {
                let bits = crate::interp::scalar_to_reg(s);
                self.b.ins().iconst(cl_type(s.dtype()), bits as i64)
            }
        }
    }

    /// Block parameters for a list of IR values (scalars by element type, tensors as pointers).
    fn append_params(&mut self, block: clir::Block, tys: &[TensorType]) -> Vec<clir::Value> {
        tys.iter()
            .map(|t| {
                let ct = if t.is_scalar() {
                    cl_type(t.dtype)
                } else {
                    self.ptr_ty
                };
                self.b.append_block_param(block, ct)
            })
            .collect()
    }

    /// `while`: header (cond region, block parameters = loop-carried values), body, exit.
    /// Loop-carried tensors live in two buffers per value, swapped every iteration: the body
    /// reads the current ones and `yield` copies into the other ones, so a yield that permutes
    /// carried values (`yield %b, %a`) never clobbers a value it still has to read.
    fn lower_while(&mut self, i: Inst) -> Result<()> {
        let f = self.f;
        let data = f.inst(i);
        let [cond_r, body_r] = data.regions[..] else {
            return Err(self.err("'while' needs a cond and a body region"));
        };
        let n = data.args.len();
        if data.region_args.len() != n || data.results.len() != n {
            return Err(self.err("'while' operands, region arguments and results differ in number"));
        }
        let tys = data
            .region_args
            .iter()
            .map(|&a| self.ty(a).cloned())
            .collect::<Result<Vec<_>>>()?;
        for (k, t) in tys.iter().enumerate() {
            if self.ty(data.args[k])? != t || self.ty(data.results[k])? != t {
                return Err(self.err(format!("'while' loop-carried value {k} changes type")));
            }
        }
        // The two buffers of every carried tensor; initial values are copied into the first.
        let mut init = Vec::with_capacity(n);
        let mut other = Vec::new();
        for (k, t) in tys.iter().enumerate() {
            let x = self.val(data.args[k])?;
            if t.is_scalar() {
                init.push(x);
            } else {
                let bytes = self.byte_size(t)?;
                let cur = self.alloc(bytes)?;
                let oth = self.alloc(bytes)?;
                self.copy_bytes(cur, x, bytes);
                init.push(cur);
                other.push(oth);
            }
        }
        let header = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        let params = self.append_params(header, &tys);
        let other_params: Vec<clir::Value> = other
            .iter()
            .map(|_| self.b.append_block_param(header, self.ptr_ty))
            .collect();
        let args: Vec<BlockArg> = init.iter().chain(&other).map(|&v| v.into()).collect();
        self.b.ins().jump(header, &args);

        // Header: bind the region arguments and evaluate the condition.
        self.b.switch_to_block(header);
        for (k, &ra) in data.region_args.iter().enumerate() {
            self.define(ra, params[k])?;
        }
        let c = self.lower_nested(cond_r)?;
        let [c] = c[..] else {
            return Err(self.err("'while' cond region must yield one value"));
        };
        if self.ty(c)? != &TensorType::scalar(DType::Bool) {
            return Err(self.err("'while' cond region must yield a scalar bool"));
        }
        let cv = self.val(c)?;
        self.b.set_srcloc(SourceLoc::new(i.0));
        self.b.ins().brif(cv, body, &[], exit, &[]);

        // Body: compute the next values, copy tensors into the other buffers, swap. Values
        // planned to be computed into the other buffer need no copy.
        self.b.switch_to_block(body);
        if let Some(&last) = f.region(body_r).insts.last() {
            let ys = &f.inst(last).args;
            let mut t = 0;
            for (k, ty) in tys.iter().enumerate() {
                if ty.is_scalar() {
                    continue;
                }
                if let Some(&y) = ys.get(k) {
                    if self.plan.dest.get(y.index()) == Some(&Some(fuse::Dest::Carried))
                        && self.ty(y)? == ty
                    {
                        self.dest_ptr[y.index()] = Some(other_params[t]);
                    }
                }
                t += 1;
            }
        }
        let ys = self.lower_nested(body_r)?;
        if ys.len() != n {
            return Err(self.err("'while' body yields the wrong number of values"));
        }
        self.b.set_srcloc(SourceLoc::new(i.0));
        let mut next = Vec::with_capacity(n);
        let mut next_other = Vec::new();
        let mut t = 0;
        for k in 0..n {
            if self.ty(ys[k])? != &tys[k] {
                return Err(self.err(format!("'while' body yields a wrong type at {k}")));
            }
            let y = self.val(ys[k])?;
            if tys[k].is_scalar() {
                next.push(y);
            } else {
                if y != other_params[t] {
                    let bytes = self.byte_size(&tys[k])?;
                    self.copy_bytes(other_params[t], y, bytes);
                }
                next.push(other_params[t]);
                next_other.push(params[k]);
                t += 1;
            }
        }
        let args: Vec<BlockArg> = next.iter().chain(&next_other).map(|&v| v.into()).collect();
        self.back_edge(i, header, &args)?;

        // Exit: the results are the header's current values (the header dominates the exit).
        self.b.switch_to_block(exit);
        for (k, &r) in data.results.iter().enumerate() {
            self.define(r, params[k])?;
        }
        Ok(())
    }

    /// The back-edge of a `while`: a jump to `header` with `args`, with the limit checks of
    /// the checked variant. A scalar loop counts its budget down inline (one decrement and
    /// one branch, straight back to the header) and calls the runtime only when it runs out;
    /// a loop that does tensor work calls it on every back-edge, so that its clock checks
    /// stay frequent (see `crate::limits`).
    fn back_edge(&mut self, w: Inst, header: clir::Block, args: &[BlockArg]) -> Result<()> {
        let Some(c) = self.checks else {
            self.b.ins().jump(header, args);
            return Ok(());
        };
        let back_edge = self.func_ref(BACK_EDGE_SYMBOL)?;
        let budget = self.b.use_var(c.budget);
        let left = self.b.ins().iadd_imm_s(budget, -1);
        if !crate::limits::loop_does_tensor_work(self.f, w) {
            self.b.def_var(c.budget, left);
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            self.b.ins().brif(left, header, args, slow, &[]);
            self.b.switch_to_block(slow);
        }
        let call = self.b.ins().call(back_edge, &[c.state, left]);
        let next = self.b.inst_results(call)[0];
        self.b.def_var(c.budget, next);
        self.b.ins().brif(next, header, args, c.stop, &[]);
        Ok(())
    }

    /// `if`: then and else blocks jump to a merge block whose parameters are the results.
    /// Tensor results are passed as pointers to the yielded buffers, without copies.
    fn lower_if(&mut self, i: Inst) -> Result<()> {
        let f = self.f;
        let data = f.inst(i);
        let [then_r, else_r] = data.regions[..] else {
            return Err(self.err("'if' needs a then and an else region"));
        };
        let [p] = data.args[..] else {
            return Err(self.err("'if' takes one operand"));
        };
        if self.ty(p)? != &TensorType::scalar(DType::Bool) {
            return Err(self.err("'if' needs a scalar bool predicate"));
        }
        let tys = data
            .results
            .iter()
            .map(|&r| self.ty(r).cloned())
            .collect::<Result<Vec<_>>>()?;
        let pv = self.val(p)?;
        let then_b = self.b.create_block();
        let else_b = self.b.create_block();
        let merge = self.b.create_block();
        let params = self.append_params(merge, &tys);
        self.b.ins().brif(pv, then_b, &[], else_b, &[]);
        for (block, region) in [(then_b, then_r), (else_b, else_r)] {
            self.b.switch_to_block(block);
            let ys = self.lower_nested(region)?;
            if ys.len() != tys.len() {
                return Err(self.err("an 'if' region yields the wrong number of values"));
            }
            let mut args = Vec::with_capacity(ys.len());
            for (k, &y) in ys.iter().enumerate() {
                if self.ty(y)? != &tys[k] {
                    return Err(self.err(format!("an 'if' region yields a wrong type at {k}")));
                }
                args.push(BlockArg::from(self.val(y)?));
            }
            self.b.set_srcloc(SourceLoc::new(i.0));
            self.b.ins().jump(merge, &args);
        }
        self.b.switch_to_block(merge);
        for (k, &r) in data.results.iter().enumerate() {
            self.define(r, params[k])?;
        }
        Ok(())
    }
}

/// The entry signature: `(inputs: *const *const u8, outputs: *const *mut u8, scratch: *mut u8,
/// state: *mut RunState) -> u32` (the state is null for, and unused by, the unchecked variant).
pub(crate) fn entry_signature(module: &JITModule) -> clir::Signature {
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I32));
    sig
}
