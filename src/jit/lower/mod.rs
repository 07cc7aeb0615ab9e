//! Lowering of a verified, optimized graphjit function to Cranelift IR: the entry block,
//! regions, `while`/`if` control flow, and the dispatch of every op to its code generator.
//! Lowering trusts the verifier: it does not re-check types, and a broken invariant it still
//! meets is reported as an internal error, never as a panic.
//!
//! Every IR value becomes exactly one Cranelift value: a rank-0 value is the element itself in
//! an SSA register (`i8` for bool, `i32`, `i64`, `f32`, `f64`); a tensor of rank >= 1 is a
//! pointer to a row-major buffer. Buffers are function inputs (read only), constant data
//! objects (read only), or slots of the per-run scratch memory. Each tensor-producing
//! instruction owns one slot that only it writes, so a buffer can be shared by aliases
//! (`reshape`, `if` results) without copies; values never outlive one iteration of an
//! enclosing loop except through `yield`, which copies into the loop's own buffers.
//!
//! The submodules add code generators to [`Lowerer`]: `fused` (the loops of elementwise
//! groups and reductions, run from the fusion plan), `shape` (loops, shape ops, `reduce`,
//! `dot`) and `dot` (vectorized integer `dot`) and `index` (`dynamic_slice`, `dynamic_update_slice`). Which instructions compute an op is
//! `super::isel`'s business.

mod dot;
mod fused;
mod gather;
mod index;
mod interchange;
mod outline;
mod region;
mod region_fn;
mod region_reads;
mod region_window;
mod shape;
mod sub_fn;

use cranelift_codegen::ir::{self as clir, types, AbiParam, BlockArg, InstBuilder, MemFlagsData};
use cranelift_codegen::ir::{SourceLoc, Type};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_jit::JITModule;
use cranelift_module::Module;

use super::isel::{cl_type, Calls, Isel, Refused};
use super::plan::{Dest, EwOp, FusionPlan, Plan};
use super::runtime::RuntimeFn;
use crate::error::CompileError;
use crate::ir::{Function, Inst, Region, Value};
use crate::ops::Op;
use crate::types::{DType, TensorType};
use fused::{LeafSrc, Sink};

/// Tensor constants with more elements than this that are one repeated value are filled into
/// scratch by a loop instead of being stored as data, so that huge splats cost no memory twice.
const SPLAT_FILL_THRESHOLD: usize = 256;

/// The alignment of every scratch slot in bytes; it covers every dtype.
pub(crate) const SLOT_ALIGN: u64 = 16;

/// The largest scratch memory one run may need. Larger plans are refused at compile time.
pub(crate) const MAX_SCRATCH_BYTES: u64 = 1 << 40;

pub(crate) type Result<T> = std::result::Result<T, CompileError>;

/// What lowering one entry function needs from its caller.
pub(crate) struct Setup<'a> {
    pub f: &'a Function,
    pub plan: &'a FusionPlan,
    /// Whether fused loops, reductions and `dot` use 128-bit vectors.
    pub simd: bool,
    /// Whether `while` back-edges check the run's limits (the checked entry variant).
    pub checked: bool,
    pub config: TargetFrontendConfig,
    /// The runtime contexts of region ops, by instruction index.
    pub region_calls: &'a [Option<Box<crate::jit::region::RegionCall>>],
}

/// What lowering an entry function found out.
pub(crate) struct Lowered {
    /// The bytes of scratch memory the code uses.
    pub scratch: u64,
    /// Whether the code may run a parallel region (an outlined loop, or a runtime `dot`),
    /// so that a run must set up the parallel context (`crate::parallel::enter`).
    pub parallel: bool,
    /// The Cranelift IR of the outlined loop bodies, for dumps (printed when asked for).
    pub outlined_clif: Vec<clir::Function>,
}

/// Lowers `s.f` into `b`, whose function has the entry signature.
pub(crate) fn lower_function(
    s: Setup<'_>,
    b: FunctionBuilder<'_>,
    calls: Calls<'_>,
) -> Result<Lowered> {
    let mut b = b;
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let checks = s.checked.then(|| Checks::new(&mut b, p[3]));
    let nv = s.f.values.len();
    let mut l = Lowerer {
        f: s.f,
        b,
        calls,
        vals: vec![None; nv],
        scratch: p[2],
        scratch_size: 0,
        ptr_ty: types::I64,
        config: s.config,
        simd: s.simd,
        plan: s.plan,
        deferred: vec![false; nv],
        leaf_srcs: vec![None; nv],
        dest_ptr: vec![None; nv],
        checks,
        region_calls: s.region_calls,
        outlined_clif: Vec::new(),
        outlined: false,
        in_place: region_reads::read_in_place(s.f),
    };
    l.ptr_ty = l.config.pointer_type();
    l.lower_body(p[0], p[1])?;
    if let Some(c) = l.checks {
        c.finish(&mut l.b);
    }
    let size = l.scratch_size;
    let parallel = [
        RuntimeFn::ParallelFor,
        RuntimeFn::DotF32,
        RuntimeFn::DotF64,
        RuntimeFn::DotF16,
        RuntimeFn::DotBF16,
        RuntimeFn::DotGeneral,
    ]
    .into_iter()
    .any(|f| l.calls.calls(f));
    let config = l.config;
    l.b.seal_all_blocks();
    l.b.finalize(config);
    Ok(Lowered {
        scratch: size,
        parallel,
        outlined_clif: l.outlined_clif,
    })
}

/// The state of lowering one function.
pub(crate) struct Lowerer<'a, 'b> {
    f: &'a Function,
    b: FunctionBuilder<'b>,
    /// The runtime functions, imported at first use.
    calls: Calls<'a>,
    /// The Cranelift value of each IR value, once defined.
    vals: Vec<Option<clir::Value>>,
    /// The scratch base pointer (third entry parameter).
    scratch: clir::Value,
    /// Bytes of scratch planned so far.
    scratch_size: u64,
    ptr_ty: Type,
    config: TargetFrontendConfig,
    /// Whether fused loops, reductions and `dot` use 128-bit vectors.
    simd: bool,
    /// The fusion plan of every value (trivial without fusion).
    plan: &'a FusionPlan,
    /// Fused values whose instruction has been reached (they have no Cranelift value).
    deferred: Vec<bool>,
    /// The element source of every splat or broadcast that is read inside its consumers.
    leaf_srcs: Vec<Option<LeafSrc>>,
    /// Buffers that values must be written into (an output, or a loop's other buffer).
    dest_ptr: Vec<Option<clir::Value>>,
    /// The limit checks on `while` back-edges, in the checked variant of the entry function.
    checks: Option<Checks>,
    /// The runtime contexts of region ops, by instruction index.
    region_calls: &'a [Option<Box<crate::jit::region::RegionCall>>],
    /// The Cranelift IR of the loop bodies outlined so far (`outline.rs`), for dumps.
    outlined_clif: Vec<clir::Function>,
    /// Whether this is an outlined loop body, which runs on a pool thread and so starts no
    /// parallel region of its own.
    outlined: bool,
    /// Values that every use reads in place, which get no buffer (`region_reads`).
    in_place: Vec<bool>,
}

/// What the checked variant's back-edges use (see `crate::limits` for the protocol).
#[derive(Clone, Copy)]
struct Checks {
    /// The `RunState` pointer (the fourth entry parameter).
    state: clir::Value,
    /// The back-edges left before `graphjit_back_edge` must be called.
    budget: Variable,
    /// The block that returns the status 1: the run stopped, `RunState` says why.
    stop: clir::Block,
}

impl Checks {
    /// Sets up the checks at the top of the entry block.
    fn new(b: &mut FunctionBuilder<'_>, state: clir::Value) -> Checks {
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
    fn finish(&self, b: &mut FunctionBuilder<'_>) {
        b.switch_to_block(self.stop);
        let status = b.ins().iconst(types::I32, 1);
        b.ins().return_(&[status]);
    }
}

impl<'a, 'b> Lowerer<'a, 'b> {
    /// An internal error: lowering met something the verifier should have refused.
    fn err(&self, message: impl Into<String>) -> CompileError {
        CompileError {
            func: self.f.name.clone(),
            message: format!("internal error: {}", message.into()),
        }
    }

    /// The instruction selector over this function.
    fn isel(&mut self) -> Isel<'_, 'b, 'a> {
        Isel {
            b: &mut self.b,
            calls: &mut self.calls,
        }
    }

    /// Turns a refusal of the instruction selector into an internal error.
    fn selected(
        &self,
        r: std::result::Result<clir::Value, Refused>,
        what: &str,
    ) -> Result<clir::Value> {
        r.map_err(|e| self.err(format!("no instruction for {what}: {e:?}")))
    }

    /// The Cranelift value of an IR value, which must already be defined.
    fn val(&self, v: Value) -> Result<clir::Value> {
        self.vals
            .get(v.index())
            .copied()
            .flatten()
            .ok_or_else(|| self.err(format!("value {} is used before it is defined", v.0)))
    }

    fn ty(&self, v: Value) -> &'a TensorType {
        let f: &'a Function = self.f;
        f.ty(v)
    }

    fn define(&mut self, v: Value, x: clir::Value) {
        self.vals[v.index()] = Some(x);
    }

    /// The byte size of a tensor type; verified types are far below any overflow.
    fn byte_size(&self, ty: &TensorType) -> u64 {
        ty.num_elements() as u64 * ty.dtype.size_bytes() as u64
    }

    /// Plans a new scratch slot of `bytes` bytes and returns its address.
    fn alloc(&mut self, bytes: u64) -> Result<clir::Value> {
        let offset = self.scratch_size;
        let end = offset
            .checked_add(bytes)
            .and_then(|e| e.checked_add(SLOT_ALIGN - 1))
            .map(|e| e & !(SLOT_ALIGN - 1))
            .filter(|&e| e <= MAX_SCRATCH_BYTES)
            .ok_or_else(|| CompileError {
                func: self.f.name.clone(),
                message: format!(
                    "the scratch memory plan exceeds the limit of {MAX_SCRATCH_BYTES} bytes"
                ),
            })?;
        self.scratch_size = end;
        Ok(self.b.ins().iadd_imm_s(self.scratch, offset as i64))
    }

    /// The buffer of an instruction's result: its planned destination `dest`, or a new
    /// scratch slot.
    fn alloc_result(&mut self, dest: Option<clir::Value>, ty: &TensorType) -> Result<clir::Value> {
        match dest {
            Some(p) => Ok(p),
            None => self.alloc_tensor(ty),
        }
    }

    /// Plans a scratch slot for a tensor of type `ty`.
    fn alloc_tensor(&mut self, ty: &TensorType) -> Result<clir::Value> {
        let bytes = self.byte_size(ty);
        self.alloc(bytes)
    }

    /// Copies `bytes` bytes between distinct buffers (the C library's `memcpy`).
    fn copy_bytes(&mut self, dst: clir::Value, src: clir::Value, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let size = self.b.ins().iconst(self.ptr_ty, bytes as i64);
        self.b.call_memcpy(self.config, dst, src, size);
    }

    /// Lowers the function body into the entry block whose parameters are
    /// `(inputs, outputs, scratch, state)`.
    fn lower_body(&mut self, inputs: clir::Value, outputs: clir::Value) -> Result<()> {
        let f = self.f;
        // Step 1: bind parameters; scalars are loaded into registers, tensors stay pointers.
        for (i, &p) in f.params.iter().enumerate() {
            let ty = self.ty(p);
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
            self.define(p, v);
        }
        // Results planned to be computed in place get their output buffer up front.
        let mut out_ptrs: Vec<Option<clir::Value>> = vec![None; f.results.len()];
        for v in 0..f.values.len() {
            if let Some(Dest::Out(k)) = self.plan.dest[v] {
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
        // In a huge function with a `while`, the outputs pointer waits in a stack slot: in a
        // register it would be live through the loop but unused at its back-edge, and
        // Cranelift's register allocator would then compute the liveness of the whole loop
        // body twice (ARCHITECTURE.md, "Compile time follows program size"). Small functions
        // keep it in a register: their e-graph pass forwards the store to the load anyway.
        let huge_loop = f.insts.len() > crate::jit::HUGE_FUNCTION
            && f.insts.iter().any(|d| matches!(d.op, Op::While));
        let outputs_slot = huge_loop.then(|| {
            let data = clir::StackSlotData::new(clir::StackSlotKind::ExplicitSlot, 8, 3);
            let slot = self.b.create_sized_stack_slot(data);
            let ptr = self.ptr_ty;
            self.b.ins().stack_store(ptr, outputs, slot, 0);
            slot
        });
        // Step 2: the body region, ending in `return`.
        let (term, rets) = self.lower_region(f.body)?;
        // Step 3: write the results into the caller's output buffers.
        self.b.set_srcloc(SourceLoc::new(term.0));
        let outputs = match outputs_slot {
            Some(slot) if out_ptrs.iter().any(Option::is_none) => {
                self.b.ins().stack_load(self.ptr_ty, self.ptr_ty, slot, 0)
            }
            _ => outputs,
        };
        for (i, (&r, rty)) in rets.iter().zip(&f.results).enumerate() {
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
                let bytes = self.byte_size(rty);
                self.copy_bytes(out, x, bytes);
            }
        }
        let ok = self.b.ins().iconst(types::I32, 0);
        self.b.ins().return_(&[ok]);
        Ok(())
    }

    /// Lowers the instructions of a region and returns its terminator and the terminator's
    /// operands.
    fn lower_region(&mut self, r: Region) -> Result<(Inst, Vec<Value>)> {
        let f = self.f;
        let Some((&last, rest)) = f.region(r).insts.split_last() else {
            return Err(self.err(format!("region {} is empty", r.0)));
        };
        for &i in rest {
            self.lower_inst(i)?;
        }
        Ok((last, f.inst(last).args.clone()))
    }

    /// Lowers one instruction.
    fn lower_inst(&mut self, i: Inst) -> Result<()> {
        let f = self.f;
        let data = f.inst(i);
        self.b.set_srcloc(SourceLoc::new(i.0));
        let op = &data.op;
        match op {
            Op::While => return self.lower_while(i),
            Op::If => return self.lower_if(i),
            Op::Region(r) => return self.lower_region_op(i, r),
            Op::Case => return self.lower_case(i),
            _ => {}
        }
        let [res] = data.results[..] else {
            return Err(self.err(format!("'{}' must have one result", op.name())));
        };
        if self.in_place[res.index()] {
            // Read by its consumers without a buffer (see `region_reads`).
            return Ok(());
        }
        let arg_tys: Vec<&TensorType> = data.args.iter().map(|&a| self.ty(a)).collect();
        let res_ty = self.ty(res);
        match self.plan.plan_of(res) {
            Plan::Inline => {
                // Computed inside its consumer's loop (see `plan.rs`).
                self.deferred[res.index()] = true;
                return Ok(());
            }
            Plan::Leaf => {
                let src = self.leaf_source(op, &data.args, arg_tys.first().copied(), res_ty)?;
                self.leaf_srcs[res.index()] = Some(src);
                return Ok(());
            }
            Plan::Normal => {}
        }
        let dest = self.dest_ptr[res.index()];
        if let Some(ew) = EwOp::of(op) {
            // One group of the plan (of one op, without fusion): on registers for a scalar,
            // else a loop over the elements.
            let out = if res_ty.is_scalar() {
                let args = data
                    .args
                    .iter()
                    .map(|&a| self.val(a))
                    .collect::<Result<Vec<_>>>()?;
                let in_dt = arg_tys.last().map_or(res_ty.dtype, |t| t.dtype);
                let r = self
                    .isel()
                    .emit(ew, in_dt, res_ty.dtype, cl_type(res_ty.dtype), &args);
                self.selected(r, &op.name())?
            } else {
                let t = self.tree_of_op(ew, &data.args, res_ty.dtype, &res_ty.shape)?;
                let dst = self.alloc_result(dest, res_ty)?;
                self.emit_fused(t, Sink::Store(dst))?;
                dst
            };
            self.define(res, out);
            return Ok(());
        }
        if let Op::Reduce { op: r, axes } = op {
            let in_ty = arg_tys[0];
            let fused = self.plan.plan_of(data.args[0]) != Plan::Normal
                && !in_ty.is_scalar()
                && super::plan::trailing(axes, in_ty.rank());
            let out = if fused {
                self.lower_reduce_fused(*r, axes, data.args[0], in_ty, res_ty, dest)?
            } else {
                let src = self.val(data.args[0])?;
                self.lower_reduce(*r, axes, src, in_ty, res_ty, dest)?
            };
            self.define(res, out);
            return Ok(());
        }
        let args = data
            .args
            .iter()
            .map(|&a| self.val(a))
            .collect::<Result<Vec<_>>>()?;
        let out = match op {
            Op::Const(t) => self.lower_const(t)?,
            Op::Broadcast { dims } => self.lower_broadcast(args[0], arg_tys[0], dims, res_ty)?,
            Op::Reshape => self.lower_reshape(args[0], arg_tys[0], res_ty)?,
            Op::BitcastConvert => self.lower_bitcast(args[0], arg_tys[0], res_ty)?,
            Op::Transpose { perm } => self.lower_transpose(args[0], arg_tys[0], perm, res_ty)?,
            Op::Slice { start, stride, .. } => {
                self.lower_slice(args[0], arg_tys[0], start, stride, res_ty)?
            }
            Op::Concat { axis } => self.lower_concat(&args, &arg_tys, *axis, res_ty)?,
            Op::Iota { axis } => self.lower_iota(*axis, res_ty)?,
            Op::Dot => self.lower_dot(args[0], args[1], arg_tys[0], arg_tys[1], res_ty, dest)?,
            Op::DynamicSlice { .. } => {
                let start_dt = arg_tys.get(1).map_or(DType::I64, |t| t.dtype);
                self.lower_dynamic_slice(args[0], arg_tys[0], &args[1..], start_dt, res_ty)?
            }
            Op::Reverse { dims } => self.lower_reverse(args[0], arg_tys[0], dims)?,
            Op::Clamp => self.lower_clamp(&args, &arg_tys, res_ty)?,
            Op::DynamicUpdateSlice => {
                let start_dt = arg_tys.get(2).map_or(DType::I64, |t| t.dtype);
                let (x, u) = (arg_tys[0], arg_tys[1]);
                self.lower_dynamic_update_slice(args[0], args[1], x, u, &args[2..], start_dt)?
            }
            Op::Pad { low, interior, .. } => {
                self.lower_pad(args[0], args[1], arg_tys[0], low, interior, res_ty)?
            }
            Op::Gather { dims } => self.lower_gather(args[0], args[1], &arg_tys, dims, res_ty)?,
            Op::DotGeneral { dims } => {
                self.lower_dot_general(args[0], args[1], &arg_tys, dims, res_ty)?
            }
            Op::Unary(_)
            | Op::Binary(_)
            | Op::Compare(_)
            | Op::Select
            | Op::Convert
            | Op::Reduce { .. }
            | Op::Region(_)
            | Op::While
            | Op::If
            | Op::Case
            | Op::Yield
            | Op::Return => return Err(self.err(format!("'{}' cannot be lowered here", op.name()))),
        };
        self.define(res, out);
        Ok(())
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
                Ok(LeafSrc::Splat(self.isel().constant(s)))
            }
            (Op::Broadcast { dims }, Some(in_ty)) => {
                let src = self.val(args[0])?;
                if in_ty.is_scalar() {
                    return Ok(LeafSrc::Splat(src));
                }
                Ok(LeafSrc::Buf {
                    ptr: src,
                    coefs: broadcast_coefs(in_ty, dims, res_ty.rank()),
                })
            }
            _ => Err(self.err(format!("'{}' cannot be fused", op.name()))),
        }
    }

    /// A constant: scalars are immediates; tensors are read-only data objects, except large
    /// splats, which a loop writes into scratch.
    fn lower_const(&mut self, t: &crate::tensor::Tensor) -> Result<clir::Value> {
        let ty = t.ty();
        if ty.is_scalar() || (t.len() > SPLAT_FILL_THRESHOLD && t.is_splat()) {
            let s = t.get(0).ok_or_else(|| self.err("empty constant"))?;
            let v = self.isel().constant(s);
            return if ty.is_scalar() {
                Ok(v)
            } else {
                self.fill(v, &ty)
            };
        }
        let mut bytes = t.data().as_bytes().to_vec();
        if bytes.is_empty() {
            // A data object needs at least one byte; nothing reads it.
            bytes.push(0);
        }
        self.read_only_data(bytes)
    }

    /// Block parameters for a list of IR values (scalars by element type, tensors as pointers).
    fn append_params(&mut self, block: clir::Block, tys: &[&TensorType]) -> Vec<clir::Value> {
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
        if self.lower_while_interchanged(i)? {
            return Ok(());
        }
        let f = self.f;
        let data = f.inst(i);
        let [cond_r, body_r] = data.regions[..] else {
            return Err(self.err("'while' needs a cond and a body region"));
        };
        let n = data.args.len();
        let tys: Vec<&TensorType> = data.region_args.iter().map(|&a| self.ty(a)).collect();
        // The two buffers of every carried tensor; initial values are copied into the first.
        let mut init = Vec::with_capacity(n);
        let mut other = Vec::new();
        for (k, t) in tys.iter().enumerate() {
            let x = self.val(data.args[k])?;
            if t.is_scalar() {
                init.push(x);
            } else {
                let bytes = self.byte_size(t);
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
            self.define(ra, params[k]);
        }
        let (_, c) = self.lower_region(cond_r)?;
        let [c] = c[..] else {
            return Err(self.err("'while' cond region must yield one value"));
        };
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
                    if self.plan.dest_of(y) == Some(Dest::Carried) {
                        self.dest_ptr[y.index()] = Some(other_params[t]);
                    }
                }
                t += 1;
            }
        }
        let (_, ys) = self.lower_region(body_r)?;
        self.b.set_srcloc(SourceLoc::new(i.0));
        let mut next = Vec::with_capacity(n);
        let mut next_other = Vec::new();
        let mut t = 0;
        for (k, &y) in ys.iter().enumerate() {
            let y = self.val(y)?;
            if tys[k].is_scalar() {
                next.push(y);
            } else {
                if y != other_params[t] {
                    let bytes = self.byte_size(tys[k]);
                    self.copy_bytes(other_params[t], y, bytes);
                }
                next.push(other_params[t]);
                next_other.push(params[k]);
                t += 1;
            }
        }
        let args: Vec<BlockArg> = next.iter().chain(&next_other).map(|&v| v.into()).collect();
        self.back_edge(i, header, &args);

        // Exit: the results are the header's current values (the header dominates the exit).
        self.b.switch_to_block(exit);
        for (k, &r) in data.results.iter().enumerate() {
            self.define(r, params[k]);
        }
        Ok(())
    }

    /// The back-edge of a `while`: a jump to `header` with `args`, with the limit checks of
    /// the checked variant. A scalar loop counts its budget down inline (one decrement and
    /// one branch, straight back to the header) and calls the runtime only when it runs out;
    /// a loop that does tensor work calls it on every back-edge, so that its clock checks
    /// stay frequent (see `crate::limits`).
    fn back_edge(&mut self, w: Inst, header: clir::Block, args: &[BlockArg]) {
        let Some(c) = self.checks else {
            self.b.ins().jump(header, args);
            return;
        };
        let budget = self.b.use_var(c.budget);
        let left = self.b.ins().iadd_imm_s(budget, -1);
        if !crate::limits::loop_does_tensor_work(self.f, w) {
            self.b.def_var(c.budget, left);
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            self.b.ins().brif(left, header, args, slow, &[]);
            self.b.switch_to_block(slow);
        }
        let next = self
            .calls
            .call(&mut self.b, RuntimeFn::BackEdge, &[c.state, left]);
        self.b.def_var(c.budget, next);
        self.b.ins().brif(next, header, args, c.stop, &[]);
    }

    /// `if`: then and else blocks jump to a merge block whose parameters are the results.
    /// Tensor results are passed as pointers to the yielded buffers, without copies.
    fn lower_if(&mut self, i: Inst) -> Result<()> {
        let f = self.f;
        let data = f.inst(i);
        let ([then_r, else_r], [p]) = (&data.regions[..], &data.args[..]) else {
            return Err(self.err("'if' needs one operand, a then and an else region"));
        };
        let tys: Vec<&TensorType> = data.results.iter().map(|&r| self.ty(r)).collect();
        let pv = self.val(*p)?;
        let then_b = self.b.create_block();
        let else_b = self.b.create_block();
        let merge = self.b.create_block();
        let params = self.append_params(merge, &tys);
        self.b.ins().brif(pv, then_b, &[], else_b, &[]);
        for (block, region) in [(then_b, *then_r), (else_b, *else_r)] {
            self.b.switch_to_block(block);
            let (_, ys) = self.lower_region(region)?;
            let args = ys
                .iter()
                .map(|&y| self.val(y).map(BlockArg::from))
                .collect::<Result<Vec<_>>>()?;
            self.b.set_srcloc(SourceLoc::new(i.0));
            self.b.ins().jump(merge, &args);
        }
        self.b.switch_to_block(merge);
        for (k, &r) in data.results.iter().enumerate() {
            self.define(r, params[k]);
        }
        Ok(())
    }
}

/// The element strides over the result's dimensions with which a broadcast reads its
/// operand (0 along broadcast dimensions).
fn broadcast_coefs(in_ty: &TensorType, dims: &[usize], out_rank: usize) -> Vec<usize> {
    let in_strides = in_ty.strides();
    let mut coefs = vec![0; out_rank];
    for (i, &d) in dims.iter().enumerate() {
        if in_ty.shape[i] != 1 {
            coefs[d] = in_strides[i];
        }
    }
    coefs
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
