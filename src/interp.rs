//! The reference interpreter: runs a function on tensors with the kernels of [`crate::ops`].
//!
//! An [`Interpreter`] is prepared once from a [`Function`] and then runs it any number of
//! times. Preparation runs the verifier ([`crate::ir::verify`]: types of every op, region
//! structure, scoping, nesting at most [`crate::ir::MAX_REGION_DEPTH`] deep), then trusts it and
//! flattens the structured regions into a linear list of instructions with jumps, so that
//! running needs no recursion and no per-op analysis:
//!
//! - Every value has a fixed register. Rank-0 values live unboxed as bits in a `u64`
//!   register file, and the elementwise ops on them call a function prepared for their op
//!   and dtype, so scalar loops never allocate. Other values live in a file of tensors;
//!   parameters and constants are read in place, never copied.
//! - `while` becomes: copy the operands into the region arguments; cond; branch out when
//!   false; body; a parallel move of the body's yields into the region arguments; jump back.
//!   The loop's results are the region arguments' registers themselves.
//! - `if` becomes a branch over two arms that each move their yields into the results.
//! - A region op (`reduce`, `sort`, ...) becomes one instruction that runs its kernel in
//!   [`crate::ops::region_kernels`] with its region read once into a scalar program.
//! - A tensor is moved (not cloned) into a yield, a return or a loop's initial values when that
//!   use is its last one, found by a last-use analysis over the structured regions.

mod pool;
mod prepare;

use std::sync::Mutex;

use crate::error::{Error, RunError};
use crate::ir::{Function, Inst};
use crate::limits::{probe_allocation, RunOptions, RunState, Stop};
use crate::ops::region::{Body, RegionOp};
use crate::ops::scalar::{reg_to_scalar, scalar_to_reg};
use crate::ops::{kernels, region_kernels, Op};
use crate::tensor::Tensor;
use crate::types::{DType, TensorType};

/// Runs `f` on `inputs` once. To run a function many times, prepare an [`Interpreter`].
pub fn interpret(f: &Function, inputs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
    Interpreter::new(f)?.run(inputs)
}

/// [`interpret`] under the limits of `opts`.
pub fn interpret_with(
    f: &Function,
    inputs: &[Tensor],
    opts: &RunOptions,
) -> Result<Vec<Tensor>, Error> {
    Interpreter::new(f)?.run_with(inputs, opts)
}

type UnaryFn = Box<dyn Fn(u64) -> u64 + Send + Sync>;
type BinaryFn = Box<dyn Fn(u64, u64) -> u64 + Send + Sync>;

/// Where a value lives while the function runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// A rank-0 value, as bits in scalar register `.0`.
    Scalar(u32, DType),
    /// A tensor in tensor register `.0`.
    Tensor(u32),
    /// A tensor parameter, read in place from the inputs.
    Input(u32),
    /// A constant tensor, read in place from the interpreter.
    Const(u32),
}

/// Where an instruction's result goes.
#[derive(Clone, Copy, Debug)]
enum Dst {
    Scalar(u32),
    Tensor(u32),
}

/// One output of a `return`.
#[derive(Clone, Copy, Debug)]
enum Out {
    Scalar(u32, DType),
    Take(u32),
    Clone(Slot),
}

/// A tensor op run by [`kernels::eval`].
struct KernelInstr {
    inst: Inst,
    op: Op,
    ty: TensorType,
    args: Vec<Slot>,
    dst: Dst,
}

/// A region op run by [`region_kernels::eval`] with its region's scalar program.
struct RegionInstr {
    inst: Inst,
    op: RegionOp,
    body: Body,
    args: Vec<Slot>,
    dsts: Vec<Dst>,
    tys: Vec<TensorType>,
}

/// The flat instruction set the interpreter runs.
enum Instr {
    Unary {
        f: UnaryFn,
        a: u32,
        dst: u32,
    },
    Binary {
        f: BinaryFn,
        a: u32,
        b: u32,
        dst: u32,
    },
    Select {
        p: u32,
        a: u32,
        b: u32,
        dst: u32,
    },
    /// Scalar register copy.
    Copy {
        src: u32,
        dst: u32,
    },
    Kernel(Box<KernelInstr>),
    Region(Box<RegionInstr>),
    /// Reshape of a tensor at its last use: the buffer is moved, not copied.
    ReshapeMove {
        src: u32,
        dst: u32,
        shape: Box<[usize]>,
    },
    /// Tensor register move (the source is dead afterwards).
    Move {
        src: u32,
        dst: u32,
    },
    /// Tensor copy from a register, an input or a constant.
    Clone {
        src: Slot,
        dst: u32,
    },
    Jump {
        target: u32,
    },
    BranchIfFalse {
        cond: u32,
        target: u32,
    },
    /// A comparison (or other bool-valued binary op) fused with the branch on its result,
    /// for the condition of a loop.
    BinaryBranchIfFalse {
        f: BinaryFn,
        a: u32,
        b: u32,
        target: u32,
    },
    /// The jump back to a loop's condition, where the run's limits are checked (see
    /// [`crate::limits`]); `tensor_loop` loops read the clock on every back-edge.
    BackEdge {
        target: u32,
        tensor_loop: bool,
    },
    Return(Box<[Out]>),
}

/// A function prepared for interpretation; see the module documentation.
pub struct Interpreter {
    func: String,
    params: Vec<(String, TensorType, Slot)>,
    code: Vec<Instr>,
    /// The scalar register file at the start of a run: constants are written here once.
    scalar_init: Vec<u64>,
    n_tensors: usize,
    consts: Vec<Tensor>,
    /// The iteration limit [`Interpreter::run`] applies.
    iteration_limit: Option<u64>,
    /// Buffers of earlier runs, reused by later ones (see `pool.rs`). A run takes the whole
    /// pool and gives it back at its end, so concurrent runs never wait for each other.
    pool: Mutex<pool::Pool>,
}

impl Interpreter {
    /// Verifies `f` and prepares it for running.
    pub fn new(f: &Function) -> Result<Interpreter, Error> {
        crate::ir::verify::verify_function(f)?;
        let it = prepare::Compiler::new(f)?.compile()?;
        // `run_scalar` reads and writes registers without bounds checks on the strength of
        // this check.
        if !scalar_registers_in_range(&it.code, it.scalar_init.len()) {
            return Err(it.internal("a scalar register is outside the register file"));
        }
        Ok(it)
    }

    /// Limits the total number of loop iterations of each [`Interpreter::run`] (`None`: no
    /// limit); a run that passes the limit stops with [`RunError::IterationLimit`].
    /// [`Interpreter::run_with`] takes its limits from its argument instead.
    pub fn set_iteration_limit(&mut self, limit: Option<u64>) {
        self.iteration_limit = limit;
    }

    /// The name of the function this interpreter runs.
    pub fn name(&self) -> &str {
        &self.func
    }

    /// Checks the inputs against the parameters, runs the function, and gives its results.
    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
        let opts = match self.iteration_limit {
            Some(n) => RunOptions::new().with_max_iterations(n),
            None => RunOptions::new(),
        };
        self.run_with(inputs, &opts)
    }

    /// [`Interpreter::run`] under the limits of `opts` (see [`crate::limits`] for when each is
    /// checked). A stopped run leaves the interpreter ready for the next one.
    pub fn run_with(&self, inputs: &[Tensor], opts: &RunOptions) -> Result<Vec<Tensor>, Error> {
        if inputs.len() != self.params.len() {
            return Err(RunError::ArgCount {
                func: self.func.clone(),
                expected: self.params.len(),
                got: inputs.len(),
            }
            .into());
        }
        let mut s = self.scalar_init.clone();
        for (index, ((name, ty, slot), input)) in self.params.iter().zip(inputs).enumerate() {
            RunError::check_arg(&self.func, index, name, ty, input)?;
            if let (Slot::Scalar(r, _), Some(x)) = (slot, input.get(0)) {
                s[*r as usize] = scalar_to_reg(x);
            }
        }
        let mut t: Vec<Option<Tensor>> = std::iter::repeat_with(|| None)
            .take(self.n_tensors)
            .collect();
        // Parallel regions of the kernels (`crate::parallel`) follow this run's options.
        let _parallel = opts.enter_parallel();
        let mut limits = RunState::new(opts);
        let mut budget = limits.first_budget();
        // A run under a memory limit neither uses nor keeps pooled buffers: the limit counts
        // what the run holds, and pooled memory would be held outside that count.
        let pooling = opts.memory_limit().is_none();
        let mut pool = if pooling {
            std::mem::take(&mut *self.lock_pool())
        } else {
            pool::Pool::disabled()
        };
        let mut pc = 0usize;
        loop {
            let Some(instr) = self.code.get(pc) else {
                return Err(self.internal("ran past the end of the code"));
            };
            pc += 1;
            match instr {
                Instr::Binary { .. }
                | Instr::Unary { .. }
                | Instr::Copy { .. }
                | Instr::Select { .. }
                | Instr::BranchIfFalse { .. }
                | Instr::BinaryBranchIfFalse { .. }
                | Instr::Jump { .. } => {
                    // Scalar code runs in its own small loop, which keeps its state in
                    // registers; it stops at the first instruction it leaves to this one.
                    pc = self.run_scalar(pc - 1, &mut s, &mut budget)?;
                }
                Instr::BackEdge {
                    target,
                    tensor_loop,
                } => {
                    // The same protocol as compiled code: count down inline, and let
                    // `RunState` do the rest.
                    budget -= 1;
                    if budget == 0 || *tensor_loop {
                        budget = limits.back_edge(budget);
                        if budget == 0 {
                            let stop = limits.stopped().unwrap_or(Stop::Cancelled);
                            return Err(stop.error(&self.func, opts).into());
                        }
                    }
                    pc = *target as usize;
                }
                Instr::Kernel(k) => {
                    let bytes = match k.dst {
                        Dst::Tensor(_) => k.ty.num_elements() * k.ty.dtype.size_bytes(),
                        Dst::Scalar(_) => 0,
                    };
                    if opts.memory_limit().is_some() {
                        opts.check_memory(&self.func, held_bytes(&t).saturating_add(bytes))?;
                    }
                    probe_allocation(&self.func, bytes)?;
                    self.run_kernel(k, inputs, &mut s, &mut t, &mut pool)?
                }
                Instr::Region(k) => {
                    let bytes: usize = k
                        .tys
                        .iter()
                        .map(|t| t.num_elements() * t.dtype.size_bytes())
                        .sum();
                    if opts.memory_limit().is_some() {
                        opts.check_memory(&self.func, held_bytes(&t).saturating_add(bytes))?;
                    }
                    probe_allocation(&self.func, bytes)?;
                    self.run_region(k, inputs, &mut s, &mut t)?
                }
                Instr::Move { src, dst } => {
                    let x = self.take(&mut t, *src)?;
                    t[*dst as usize] = Some(x);
                }
                Instr::Clone { src, dst } => {
                    let x = self.read(*src, inputs, &t)?;
                    if opts.memory_limit().is_some() {
                        let bytes = tensor_bytes(x);
                        opts.check_memory(&self.func, held_bytes(&t).saturating_add(bytes))?;
                    }
                    let x = x.clone();
                    t[*dst as usize] = Some(x);
                }
                Instr::ReshapeMove { src, dst, shape } => {
                    let x = self.take(&mut t, *src)?;
                    let y = x
                        .reshaped(shape.to_vec())
                        .ok_or_else(|| self.internal("a reshape changed the element count"))?;
                    t[*dst as usize] = Some(y);
                }
                Instr::Return(outs) => {
                    let mut results = Vec::with_capacity(outs.len());
                    for out in outs.iter() {
                        results.push(match *out {
                            Out::Scalar(r, dt) => {
                                Tensor::from_scalar(reg_to_scalar(s[r as usize], dt))
                            }
                            Out::Take(r) => self.take(&mut t, r)?,
                            Out::Clone(slot) => {
                                let x = self.read(slot, inputs, &t)?;
                                if opts.memory_limit().is_some() {
                                    let done: usize = results.iter().map(tensor_bytes).sum();
                                    let bytes = held_bytes(&t) + done + tensor_bytes(x);
                                    opts.check_memory(&self.func, bytes)?;
                                }
                                x.clone()
                            }
                        });
                    }
                    if let Some(why) = crate::parallel::take_stopped() {
                        return Err(Stop::of_parallel(why).error(&self.func, opts).into());
                    }
                    if pooling {
                        // What the run still holds is garbage now: its buffers serve the
                        // next run.
                        for x in t.iter_mut().filter_map(Option::take) {
                            pool.give(x);
                        }
                        self.lock_pool().absorb(pool);
                    }
                    return Ok(results);
                }
            }
        }
    }

    /// Runs scalar instructions from `pc` until one that [`Interpreter::run_with`] handles
    /// itself (tensor ops, a `return`, a back edge that must consult the run's limits), and
    /// gives that instruction's index. Kept apart from `run_with` so that its few variables
    /// live in registers: this loop is all a scalar `while` (W2) runs. A back edge is taken
    /// here while the budget stays above zero after counting it, the protocol of `run_with`'s
    /// own back edge.
    #[inline(never)]
    fn run_scalar(&self, mut pc: usize, s: &mut [u64], budget: &mut u64) -> Result<usize, Error> {
        if s.len() != self.scalar_init.len() {
            return Err(self.internal("the scalar register file has the wrong size"));
        }
        let code = &self.code[..];
        let mut s = Regs(s);
        let mut left = *budget;
        while let Some(instr) = code.get(pc) {
            match instr {
                Instr::Binary { f, a, b, dst } => s.set(*dst, f(s.get(*a), s.get(*b))),
                Instr::Unary { f, a, dst } => s.set(*dst, f(s.get(*a))),
                Instr::Copy { src, dst } => s.set(*dst, s.get(*src)),
                Instr::Select { p, a, b, dst } => {
                    s.set(*dst, if s.get(*p) != 0 { s.get(*a) } else { s.get(*b) })
                }
                Instr::BranchIfFalse { cond, target } => {
                    if s.get(*cond) == 0 {
                        pc = *target as usize;
                        continue;
                    }
                }
                Instr::BinaryBranchIfFalse { f, a, b, target } => {
                    if f(s.get(*a), s.get(*b)) == 0 {
                        pc = *target as usize;
                        continue;
                    }
                }
                Instr::Jump { target } => {
                    pc = *target as usize;
                    continue;
                }
                Instr::BackEdge {
                    target,
                    tensor_loop: false,
                } if left > 1 => {
                    left -= 1;
                    pc = *target as usize;
                    // A loop's condition starts at its back edge's target; a fused
                    // comparison there runs at once, without another dispatch.
                    if let Some(Instr::BinaryBranchIfFalse { f, a, b, target }) = code.get(pc) {
                        pc = if f(s.get(*a), s.get(*b)) == 0 {
                            *target as usize
                        } else {
                            pc + 1
                        };
                    }
                    continue;
                }
                _ => break,
            }
            pc += 1;
        }
        *budget = left;
        Ok(pc)
    }

    fn lock_pool(&self) -> std::sync::MutexGuard<'_, pool::Pool> {
        // A poisoned pool holds only plain buffers, which are still valid.
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run_kernel(
        &self,
        k: &KernelInstr,
        inputs: &[Tensor],
        s: &mut [u64],
        t: &mut [Option<Tensor>],
        pool: &mut pool::Pool,
    ) -> Result<(), Error> {
        // Rank-0 operands live as bits; the kernels take tensors, so they are boxed here.
        let temps: Vec<Tensor> = k
            .args
            .iter()
            .filter_map(|a| match *a {
                Slot::Scalar(r, dt) => Some(Tensor::from_scalar(reg_to_scalar(s[r as usize], dt))),
                _ => None,
            })
            .collect();
        let mut temp = temps.iter();
        let mut args: Vec<&Tensor> = Vec::with_capacity(k.args.len());
        for &a in &k.args {
            args.push(match a {
                Slot::Scalar(..) => temp
                    .next()
                    .ok_or_else(|| self.internal("a scalar operand went missing"))?,
                _ => self.read(a, inputs, t)?,
            });
        }
        // Preparation checked the op's type rule on the declared types, and the inputs were
        // checked against the parameters, so the kernel need not check again.
        let pooled = match k.dst {
            Dst::Tensor(_) => pool.eval(&k.op, &args, &k.ty),
            Dst::Scalar(_) => None,
        };
        let out = match pooled {
            Some(out) => out,
            None => kernels::eval_verified(&k.op, &args, &k.ty)
                .map_err(|e| self.internal(&format!("instruction {}: {e}", k.inst.0)))?,
        };
        match k.dst {
            Dst::Tensor(r) => {
                // A loop overwrites its tensors every iteration: the old buffer is reused.
                if let Some(old) = t[r as usize].replace(out) {
                    pool.give(old);
                }
            }
            Dst::Scalar(r) => {
                let x = out
                    .get(0)
                    .ok_or_else(|| self.internal("a rank-0 result has no element"))?;
                s[r as usize] = scalar_to_reg(x);
            }
        }
        Ok(())
    }

    fn run_region(
        &self,
        k: &RegionInstr,
        inputs: &[Tensor],
        s: &mut [u64],
        t: &mut [Option<Tensor>],
    ) -> Result<(), Error> {
        let temps: Vec<Option<Tensor>> = k
            .args
            .iter()
            .map(|a| match *a {
                Slot::Scalar(r, dt) => Some(Tensor::from_scalar(reg_to_scalar(s[r as usize], dt))),
                _ => None,
            })
            .collect();
        let mut args: Vec<&Tensor> = Vec::with_capacity(k.args.len());
        for (&a, temp) in k.args.iter().zip(&temps) {
            args.push(match temp {
                Some(x) => x,
                None => self.read(a, inputs, t)?,
            });
        }
        let outs = region_kernels::eval(&k.op, &k.body, &args, &k.tys)
            .map_err(|e| self.internal(&format!("instruction {}: {e}", k.inst.0)))?;
        for (out, &dst) in outs.into_iter().zip(&k.dsts) {
            match dst {
                Dst::Tensor(r) => t[r as usize] = Some(out),
                Dst::Scalar(r) => {
                    let x = out
                        .get(0)
                        .ok_or_else(|| self.internal("a rank-0 result has no element"))?;
                    s[r as usize] = scalar_to_reg(x);
                }
            }
        }
        Ok(())
    }

    fn read<'a>(
        &'a self,
        slot: Slot,
        inputs: &'a [Tensor],
        t: &'a [Option<Tensor>],
    ) -> Result<&'a Tensor, Error> {
        match slot {
            Slot::Tensor(r) => t
                .get(r as usize)
                .and_then(Option::as_ref)
                .ok_or_else(|| self.internal("a tensor was read before it was written")),
            Slot::Input(i) => inputs
                .get(i as usize)
                .ok_or_else(|| self.internal("an input is missing")),
            Slot::Const(c) => self
                .consts
                .get(c as usize)
                .ok_or_else(|| self.internal("a constant is missing")),
            Slot::Scalar(..) => Err(self.internal("a scalar was read as a tensor")),
        }
    }

    fn take(&self, t: &mut [Option<Tensor>], r: u32) -> Result<Tensor, Error> {
        t.get_mut(r as usize)
            .and_then(Option::take)
            .ok_or_else(|| self.internal("a tensor was moved before it was written"))
    }

    /// An inconsistency that preparation should have ruled out: a bug found at run time,
    /// reported, never a panic.
    fn internal(&self, what: &str) -> Error {
        Error::Internal(format!("interpreting @{}: {what}", self.func))
    }
}

/// The scalar register file of a run, as `run_scalar` reads it: its size is the interpreter's
/// register count, which `Interpreter::new` checked every register of the scalar
/// instructions against (`scalar_registers_in_range`).
struct Regs<'a>(&'a mut [u64]);

impl Regs<'_> {
    #[inline(always)]
    fn get(&self, r: u32) -> u64 {
        debug_assert!((r as usize) < self.0.len());
        // SAFETY: `r` is a register of a scalar instruction, below the register count by
        // `scalar_registers_in_range`, and `run_scalar` checked that the file has that size.
        unsafe { *self.0.get_unchecked(r as usize) }
    }

    #[inline(always)]
    fn set(&mut self, r: u32, x: u64) {
        debug_assert!((r as usize) < self.0.len());
        // SAFETY: as in `get`.
        unsafe { *self.0.get_unchecked_mut(r as usize) = x }
    }
}

/// Whether every register that a scalar instruction reads or writes is below `n`.
fn scalar_registers_in_range(code: &[Instr], n: usize) -> bool {
    let ok = |r: &u32| (*r as usize) < n;
    code.iter().all(|i| match i {
        Instr::Binary { a, b, dst, .. } => ok(a) && ok(b) && ok(dst),
        Instr::Unary { a, dst, .. } => ok(a) && ok(dst),
        Instr::Copy { src, dst } => ok(src) && ok(dst),
        Instr::Select { p, a, b, dst } => ok(p) && ok(a) && ok(b) && ok(dst),
        Instr::BranchIfFalse { cond, .. } => ok(cond),
        Instr::BinaryBranchIfFalse { a, b, .. } => ok(a) && ok(b),
        _ => true,
    })
}

/// Bytes of a tensor's buffer.
fn tensor_bytes(t: &Tensor) -> usize {
    t.data().len() * t.dtype().size_bytes()
}

/// Bytes of the tensors a run holds in its registers: what the memory limit of
/// [`RunOptions::with_memory_limit`] counts in the interpreter. It is summed afresh before each
/// tensor allocation (only when a limit is set), which costs little next to the tensor op and
/// cannot drift from the registers' contents.
fn held_bytes(t: &[Option<Tensor>]) -> usize {
    t.iter().flatten().map(tensor_bytes).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{BinaryOp, CmpOp};
    use crate::tensor::Scalar;

    /// `(a, b) -> while a < b { a += 2; b += 1 }`.
    fn counter() -> Function {
        let i32t = TensorType::scalar(DType::I32);
        let mut f = Function::new("counter", vec![i32t.clone(), i32t.clone()]);
        let a0 = f.add_param(i32t.clone(), Some("first".into()));
        let b0 = f.add_param(i32t.clone(), Some("second".into()));
        let body = f.body;
        let two = f.push_inst(
            body,
            Op::Const(Tensor::scalar(2i32)),
            vec![],
            vec![i32t.clone()],
            vec![],
        );
        let one = f.push_inst(
            body,
            Op::Const(Tensor::scalar(1i32)),
            vec![],
            vec![i32t.clone()],
            vec![],
        );
        let (two, one) = (f.results(two)[0], f.results(one)[0]);
        let w = f.push_inst(
            body,
            Op::While,
            vec![a0, b0],
            vec![i32t.clone(), i32t.clone()],
            vec![],
        );
        let ra = f.add_region_args(w, vec![i32t.clone(), i32t.clone()], vec![]);
        let (cond, bod) = (f.add_region(), f.add_region());
        let c = f.push_inst(
            cond,
            Op::Compare(CmpOp::Lt),
            vec![ra[0], ra[1]],
            vec![TensorType::scalar(DType::Bool)],
            vec![],
        );
        let c = f.results(c)[0];
        f.push_inst(cond, Op::Yield, vec![c], vec![], vec![]);
        let a2 = f.push_inst(
            bod,
            Op::Binary(BinaryOp::Add),
            vec![ra[0], two],
            vec![i32t.clone()],
            vec![],
        );
        let b2 = f.push_inst(
            bod,
            Op::Binary(BinaryOp::Add),
            vec![ra[1], one],
            vec![i32t.clone()],
            vec![],
        );
        let (a2, b2) = (f.results(a2)[0], f.results(b2)[0]);
        f.push_inst(bod, Op::Yield, vec![a2, b2], vec![], vec![]);
        f.set_regions(w, vec![cond, bod]);
        let rs = f.results(w).to_vec();
        f.push_inst(body, Op::Return, rs, vec![], vec![]);
        f
    }

    #[test]
    fn counter_loop_compiles_to_scalar_code() {
        let it = Interpreter::new(&counter()).unwrap();
        assert!(it
            .code
            .iter()
            .all(|i| !matches!(i, Instr::Kernel(_) | Instr::Clone { .. })));
        // Two copies of the initial values, then a loop of four instructions: the yields are
        // computed in place (no copies) and the comparison is fused with the branch.
        assert!(matches!(
            it.code.as_slice(),
            [
                Instr::Copy { .. },
                Instr::Copy { .. },
                Instr::BinaryBranchIfFalse { target: 6, .. },
                Instr::Binary { .. },
                Instr::Binary { .. },
                Instr::BackEdge {
                    target: 2,
                    tensor_loop: false
                },
                Instr::Return(_),
            ]
        ));
        let out = it
            .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
            .unwrap();
        assert_eq!(out, vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]);
    }

    #[test]
    fn iteration_limit_stops_a_run() {
        let mut it = Interpreter::new(&counter()).unwrap();
        it.set_iteration_limit(Some(5));
        let e = it
            .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
            .unwrap_err();
        assert!(
            matches!(e, Error::Run(RunError::IterationLimit { limit: 5, .. })),
            "{e}"
        );
        it.set_iteration_limit(Some(10));
        assert!(it
            .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
            .is_ok());
    }

    #[test]
    fn registers_round_trip_scalars() {
        for x in [
            Scalar::Bool(true),
            Scalar::I32(-1),
            Scalar::I64(i64::MIN),
            Scalar::F32(-0.0),
            Scalar::F64(f64::NAN),
        ] {
            assert_eq!(reg_to_scalar(scalar_to_reg(x), x.dtype()), x);
        }
        assert_eq!(scalar_to_reg(Scalar::I32(-1)), 0xffff_ffff);
    }
}
