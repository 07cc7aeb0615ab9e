//! The Cranelift backend: compiles a verified function to native code once, and runs it many
//! times ([`Executable`]), with a thread-safe compile cache ([`Compiler`]).
//!
//! Two ways to compile: [`Compiler::compile`] caches by (function, input signature,
//! options) and is what repeated compilation should use; [`compile`] / [`compile_with`]
//! compile every time.
//!
//! The pipeline of [`compile_with`]: verify, optimize (`crate::passes`), verify again, plan
//! fusion ([`plan`], an analysis of the IR), then per entry variant lower to Cranelift IR
//! (`lower`, choosing instructions in `isel`, calling `runtime` functions), define, and
//! finalize.
//!
//! Calling convention: one entry function per IR function (for a function with a `while`, a
//! second one with limit checks, compiled on the first run that sets a limit: see
//! [`Executable::run_with`]), `extern "C" fn(inputs: *const *const u8, outputs: *const
//! *mut u8, scratch: *mut u8, state: *mut RunState) -> u32`. `inputs[i]` points at parameter
//! `i`'s row-major buffer, `outputs[i]` at result `i`'s buffer (written by the code, a scalar
//! as one element), `scratch` at the run's private scratch memory of the size planned at
//! compile time, `state` at the run's limits (null for, and unused by, the unchecked
//! variant). The return value is 0, or 1 when a limit stopped the run (`state` says which).
//!
//! Memory plan (see `lower/mod.rs`): every tensor-producing instruction owns one 16-byte-aligned
//! scratch slot; each `while` owns two buffers per loop-carried tensor, swapped every
//! iteration. Slots are not reused, so the scratch size is the sum of the slot sizes, checked
//! against overflow at compile time. Each run takes its scratch from a pool inside the
//! [`Executable`] (allocating only when every pooled buffer is in use), so concurrent runs never
//! share scratch, and [`Executable::run_into`] does not allocate in the steady state.

mod cache;
mod checked;
mod disasm;
mod fresh;
// The plan and its Graphviz picture are public for `graphjit dump` only.
#[doc(hidden)]
pub mod graphviz;
mod half_float;
mod isel;
mod lower;
#[doc(hidden)]
pub mod plan;
mod region;
mod runtime;

use std::sync::{Mutex, MutexGuard, OnceLock};

pub use cache::{CacheLimits, CacheStats, Compiler};

use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};

use crate::error::{CompileError, Error, RunError};
use crate::ir::Function;
use crate::limits::{RunOptions, RunState, Stop};
use crate::tensor::Tensor;
use crate::tensor_ref::{TensorMut, TensorRef};
use crate::types::{DType, TensorType};
use checked::{compile_checked, CheckedCode, CheckedSource};
use runtime::RuntimeFn;

/// How hard Cranelift optimizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OptLevel {
    /// No optimization: fastest compilation.
    None,
    /// Cranelift's `speed` level (the default), except for functions of more than
    /// [`HUGE_FUNCTION`] instructions, which compile as with `None`.
    #[default]
    Speed,
}

/// The instruction count above which a function is compiled for compile time: its fused loops
/// are not unrolled and Cranelift's e-graph optimizer does not run. Both cost time per CLIF
/// instruction, and in a function this long they took half of the compile time (a chain of
/// 10,000 ops: 521 M instructions of compilation with them, 304 M without; callgrind) while
/// its run changed by 2% (266 K against 272 K instructions): graphjit's lowering already hoists
/// what the optimizer would, and a body of thousands of ops has its parallelism without a
/// second unrolled copy. Neither choice changes a result's bits.
pub const HUGE_FUNCTION: usize = 4096;

/// Options of a compilation; part of the cache key. Every combination computes the same bits;
/// the switches exist to measure what each optimization gains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JitOptions {
    pub opt_level: OptLevel,
    /// Fuse chains of elementwise ops (and the reductions they feed) into one loop.
    pub fusion: bool,
    /// Use 128-bit vector instructions in fused loops, reductions and `dot`.
    pub simd: bool,
}

impl Default for JitOptions {
    fn default() -> JitOptions {
        JitOptions {
            opt_level: OptLevel::Speed,
            fusion: true,
            simd: true,
        }
    }
}

impl JitOptions {
    /// One scalar loop per op: the code before the loop optimizations, kept for comparisons.
    pub fn plain() -> JitOptions {
        JitOptions {
            fusion: false,
            simd: false,
            ..JitOptions::default()
        }
    }
}

/// The entry point of compiled code (see the module documentation).
type EntryFn =
    unsafe extern "C" fn(*const *const u8, *const *mut u8, *mut u8, *mut RunState<'_>) -> u32;

/// The JIT module that owns the code and data memory of one [`Executable`].
struct CodeMemory(Option<JITModule>);

// SAFETY: after `finalize_definitions` the module is never used through a shared reference:
// `Executable` only reads the finalized code (immutable, executable memory) through raw
// pointers and touches the module again only in `Drop`, which has exclusive access. So the
// module's interior `RefCell` (its symbol cache) is never accessed from two threads, and
// moving the module between threads moves only owned memory.
unsafe impl Send for CodeMemory {}
// SAFETY: see above; no `&self` method of `CodeMemory` or `Executable` accesses the module.
unsafe impl Sync for CodeMemory {}

/// The private memory of one run.
struct Scratch {
    /// The scratch memory, as `u64` words so that it is 8-byte aligned.
    mem: Vec<u64>,
    /// The input and output pointer tables, kept to avoid allocating them on every run.
    ins: Vec<usize>,
    outs: Vec<usize>,
}

/// A compiled function: machine code plus what is needed to call it safely.
pub struct Executable {
    name: String,
    params: Vec<(String, TensorType)>,
    results: Vec<TensorType>,
    /// The sizes of `results`, computed once here so that a run allocating them does not.
    result_sizes: fresh::Sizes,
    entry: EntryFn,
    /// For a function with a `while`: what the limit-checked entry is compiled from, and that
    /// entry once a run with limits asked for it. A function without loops has no back-edge to
    /// check, so `entry` serves every run.
    checked_source: Option<Box<CheckedSource>>,
    checked: OnceLock<Result<CheckedCode, CompileError>>,
    scratch_bytes: usize,
    pool: Mutex<Vec<Scratch>>,
    /// The Cranelift IR of the entry function, printed on the first call of [`Executable::clif`]
    /// (printing it cost as much as a tenth of the compile time of a long function).
    clif_func: cranelift_codegen::ir::Function,
    /// The functions outlined from it (parallel loop bodies), printed when asked for:
    /// printing them at compile time was a tenth of compiling an interchanged loop.
    outlined_clif: Vec<cranelift_codegen::ir::Function>,
    clif: OnceLock<String>,
    code: disasm::CodeMap,
    /// Machine-code bytes of every compiled variant, what the compile cache counts.
    code_bytes: usize,
    /// Whether the code may run a parallel region (see `lower::Lowered::parallel`).
    parallel: bool,
    memory: CodeMemory,
    /// The contexts compiled code passes to `graphjit_sort` and `graphjit_scatter`; their
    /// addresses are constants in the code, so they live (boxed, unmoved) as long as it.
    region_calls: Vec<Option<Box<region::RegionCall>>>,
}

impl Drop for Executable {
    fn drop(&mut self) {
        if let Some(module) = self.memory.0.take() {
            // SAFETY: `drop` has exclusive access, so no run of this code is in progress
            // (runs borrow `&self`), and the entry pointer dies with `self`.
            unsafe { module.free_memory() };
        }
    }
}

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executable")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("results", &self.results)
            .field("scratch_bytes", &self.scratch_bytes)
            .finish_non_exhaustive()
    }
}

impl Executable {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameter types, in order.
    pub fn param_types(&self) -> Vec<TensorType> {
        self.params.iter().map(|(_, t)| t.clone()).collect()
    }

    /// The result types, in order.
    pub fn result_types(&self) -> &[TensorType] {
        &self.results
    }

    /// Bytes of scratch memory one run uses.
    pub fn scratch_bytes(&self) -> usize {
        self.scratch_bytes
    }

    /// Bytes of machine code (with its constants) of the compiled entry functions: the entry
    /// without limit checks, plus the limit-checked one once a limited run has compiled it.
    pub fn code_bytes(&self) -> usize {
        let checked = match self.checked.get() {
            Some(Ok(c)) => c.code_bytes,
            _ => 0,
        };
        self.code_bytes + checked
    }

    /// The Cranelift IR of the entry function, as given to code generation.
    pub fn clif(&self) -> &str {
        self.clif.get_or_init(|| {
            let mut clif = self.clif_func.display().to_string();
            for body in &self.outlined_clif {
                clif.push('\n');
                clif.push_str(&body.display().to_string());
            }
            clif
        })
    }

    /// A disassembly of the finalized machine code, with the start of each IR op's code
    /// marked and constant-pool bytes shown as data.
    pub fn asm(&self) -> Result<String, Error> {
        // SAFETY: the code memory lives as long as `self` and is never written after
        // finalization.
        let bytes =
            unsafe { std::slice::from_raw_parts(self.code.ptr as *const u8, self.code.len) };
        disasm::disassemble(&self.code, bytes).map_err(|message| {
            Error::Compile(CompileError {
                func: self.name.clone(),
                message,
            })
        })
    }

    /// Runs the code on `inputs` and returns freshly allocated results.
    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
        self.run_with(inputs, &RunOptions::default())
    }

    /// [`Executable::run`] under the limits of `opts` (see [`crate::limits`]). With no limit
    /// set, this runs the code without checks; otherwise the variant that checks every
    /// `while` back-edge, which the first such run of a function with a loop compiles (once;
    /// concurrent runs wait for it). A stopped run leaves the executable ready for the next one.
    pub fn run_with(&self, inputs: &[Tensor], opts: &RunOptions) -> Result<Vec<Tensor>, Error> {
        // Inputs are checked before the outputs are allocated; the fresh outputs have the
        // result types by construction, so neither needs checking again.
        self.check_inputs(inputs)?;
        let mut outs = self.fresh_outputs(opts)?;
        self.execute(inputs.iter().map(|t| t.data().as_ptr()), outs.ptrs(), opts)?;
        // SAFETY: the run succeeded, and a run that succeeds writes every element of every
        // output (see `fresh`).
        Ok(unsafe { outs.written() })
    }

    /// Runs the code on `inputs`, writing the results into `outputs`, which must have the
    /// result types. Does not allocate once the scratch pool holds a buffer.
    pub fn run_into(&self, inputs: &[Tensor], outputs: &mut [Tensor]) -> Result<(), Error> {
        self.run_into_with(inputs, outputs, &RunOptions::default())
    }

    /// [`Executable::run_into`] under the limits of `opts`. When the run stops early, the
    /// contents of `outputs` are unspecified.
    pub fn run_into_with(
        &self,
        inputs: &[Tensor],
        outputs: &mut [Tensor],
        opts: &RunOptions,
    ) -> Result<(), Error> {
        self.check_inputs(inputs)?;
        self.check_out_count(outputs.len())?;
        for (index, t) in outputs.iter().enumerate() {
            self.check_output(index, t.dtype(), t.shape(), t.data().len())?;
        }
        opts.check_memory(&self.name, self.scratch_bytes_for(opts)?)?;
        self.execute(
            inputs.iter().map(|t| t.data().as_ptr()),
            outputs.iter_mut().map(|t| t.data_mut().as_mut_ptr()),
            opts,
        )
    }

    /// Unwritten result buffers for a run that allocates its outputs (large ones not zeroed:
    /// the run writes every element, see [`fresh`]): the outputs and the scratch, both of sizes known
    /// now, are checked against the memory limit first, and the outputs' bytes asked of the
    /// system fallibly (see [`crate::limits::probe_allocation`]).
    fn fresh_outputs(&self, opts: &RunOptions) -> Result<fresh::Fresh<'_>, Error> {
        let out_bytes = self.result_sizes.total_bytes;
        let scratch = self.scratch_bytes_for(opts)?;
        opts.check_memory(&self.name, out_bytes.saturating_add(scratch))?;
        crate::limits::probe_allocation(&self.name, out_bytes)?;
        Ok(fresh::Fresh::new(&self.results, self.result_sizes))
    }

    /// Runs the code on borrowed inputs (a caller's buffers: ndarray views, NumPy arrays, any
    /// `&[T]`), which compiled code reads in place, and returns freshly allocated results.
    pub fn run_refs(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Tensor>, Error> {
        self.run_refs_with(inputs, &RunOptions::default())
    }

    /// [`Executable::run_refs`] under the limits of `opts`.
    pub fn run_refs_with(
        &self,
        inputs: &[TensorRef<'_>],
        opts: &RunOptions,
    ) -> Result<Vec<Tensor>, Error> {
        self.check_refs(inputs)?;
        let mut outs = self.fresh_outputs(opts)?;
        self.execute(inputs.iter().map(TensorRef::ptr), outs.ptrs(), opts)?;
        // SAFETY: as in `run_with`.
        Ok(unsafe { outs.written() })
    }

    /// Runs the code on borrowed inputs and writes the results into borrowed outputs, in
    /// place: nothing is copied, and nothing is allocated once the scratch pool holds a
    /// buffer. The outputs must have the result types.
    pub fn run_refs_into(
        &self,
        inputs: &[TensorRef<'_>],
        outputs: &mut [TensorMut<'_>],
    ) -> Result<(), Error> {
        self.run_refs_into_with(inputs, outputs, &RunOptions::default())
    }

    /// [`Executable::run_refs_into`] under the limits of `opts`. When the run stops early, the
    /// contents of `outputs` are unspecified.
    pub fn run_refs_into_with(
        &self,
        inputs: &[TensorRef<'_>],
        outputs: &mut [TensorMut<'_>],
        opts: &RunOptions,
    ) -> Result<(), Error> {
        self.check_refs(inputs)?;
        self.check_out_count(outputs.len())?;
        for (index, t) in outputs.iter().enumerate() {
            self.check_output(index, t.dtype(), t.shape(), t.len())?;
        }
        opts.check_memory(&self.name, self.scratch_bytes_for(opts)?)?;
        self.execute(
            inputs.iter().map(TensorRef::ptr),
            outputs.iter_mut().map(TensorMut::ptr),
            opts,
        )
    }

    /// Runs the code on checked inputs and outputs, given as pointers to their buffers.
    fn execute(
        &self,
        inputs: impl Iterator<Item = *const u8>,
        outputs: impl Iterator<Item = *mut u8>,
        opts: &RunOptions,
    ) -> Result<(), Error> {
        // The entry to call and its scratch size: without checks when no limit is set.
        let (entry, scratch_bytes, parallel) = match self.checked_code(opts)? {
            None => (self.entry, self.scratch_bytes, self.parallel),
            Some(c) => (c.entry, c.scratch_bytes, c.parallel),
        };
        let mut s = self.take_scratch(scratch_bytes)?;
        s.ins.clear();
        s.ins.extend(inputs.map(|p| p as usize));
        s.outs.clear();
        s.outs.extend(outputs.map(|p| p as usize));
        // The state lives on this stack frame for the whole call; the unchecked code never
        // reads it.
        let mut state = RunState::new(opts);
        // Parallel regions (outlined loops, `dot`) follow this run's threads and limits; code
        // without any skips setting them up (a scalar run takes ~40 ns).
        let parallel = parallel.then(|| opts.enter_parallel());
        let state_ptr = if opts.is_unlimited() {
            std::ptr::null_mut()
        } else {
            &mut state as *mut RunState<'_>
        };
        // SAFETY: the inputs and outputs were checked to have exactly the types the code was
        // compiled for, so every buffer holds the number of elements the code accesses, aligned
        // for its dtype (a `Vec` of the element type, or a borrowed buffer checked when it was
        // made); outputs are exclusive borrows, so no input aliases an output; the scratch
        // memory has (at least) the size planned for `entry` and is used by this run only;
        // the code memory
        // is alive while `self` is; `state_ptr` is null
        // or points to `state`, alive and used by this run only.
        let status = unsafe {
            entry(
                s.ins.as_ptr() as *const *const u8,
                s.outs.as_ptr() as *const *mut u8,
                s.mem.as_mut_ptr() as *mut u8,
                state_ptr,
            )
        };
        // The scratch holds nothing a later run reads before writing, even after a stop.
        self.lock_pool().push(s);
        // A parallel region that stopped returned its status (2, 3) from the code at once; a
        // `dot` that stopped recorded it, and the rest of the run went on to its end.
        let parallel_stop = parallel.and_then(|guard| {
            let stop = crate::parallel::take_stopped();
            drop(guard);
            stop
        });
        if status != 0 || parallel_stop.is_some() {
            return Err(self.stop_error(status, state.stopped(), parallel_stop, opts));
        }
        Ok(())
    }

    /// The error of a run whose code returned `status` (1: `RunState` says why; 2, 3: a
    /// parallel region stopped) or whose `dot` stopped. Out of line: the common path of a
    /// run stays small.
    #[cold]
    #[inline(never)]
    fn stop_error(
        &self,
        status: u32,
        state_stop: Option<Stop>,
        parallel_stop: Option<crate::parallel::Stopped>,
        opts: &RunOptions,
    ) -> Error {
        if status == runtime::STATUS_PANIC as u32 {
            return Error::Internal("a parallel loop body panicked".into());
        }
        let stop = match status {
            0 => parallel_stop.map_or(Stop::Cancelled, Stop::of_parallel),
            1 => state_stop.unwrap_or(Stop::Cancelled),
            s => {
                crate::parallel::Stopped::from_status(s).map_or(Stop::Cancelled, Stop::of_parallel)
            }
        };
        stop.error(&self.name, opts).into()
    }

    // Inlined as it was before runs set up parallel regions: out of line it costs a call
    // per run (~40 instructions of W1's ~590, measured with callgrind).
    #[inline]
    fn check_inputs(&self, inputs: &[Tensor]) -> Result<(), Error> {
        self.check_arg_count(inputs.len())?;
        for (index, (t, (name, ty))) in inputs.iter().zip(&self.params).enumerate() {
            RunError::check_arg(&self.name, index, name, ty, t)?;
        }
        Ok(())
    }

    fn check_refs(&self, inputs: &[TensorRef<'_>]) -> Result<(), Error> {
        self.check_arg_count(inputs.len())?;
        for (index, (t, (name, ty))) in inputs.iter().zip(&self.params).enumerate() {
            RunError::check_arg_parts(&self.name, index, name, ty, t.dtype(), t.shape(), t.len())?;
        }
        Ok(())
    }

    fn check_arg_count(&self, got: usize) -> Result<(), Error> {
        if got != self.params.len() {
            return Err(RunError::ArgCount {
                func: self.name.clone(),
                expected: self.params.len(),
                got,
            }
            .into());
        }
        Ok(())
    }

    fn check_out_count(&self, got: usize) -> Result<(), Error> {
        if got != self.results.len() {
            return Err(RunError::OutCount {
                func: self.name.clone(),
                expected: self.results.len(),
                got,
            }
            .into());
        }
        Ok(())
    }

    /// Checks output `index`, given as its dtype, shape and element count.
    fn check_output(
        &self,
        index: usize,
        dtype: DType,
        shape: &[usize],
        len: usize,
    ) -> Result<(), Error> {
        let expected = &self.results[index];
        if !expected.matches(dtype, shape) || len != expected.num_elements() {
            return Err(RunError::OutType {
                func: self.name.clone(),
                index,
                expected: Box::new(expected.clone()),
                got: Box::new(TensorType::new(dtype, shape)),
            }
            .into());
        }
        Ok(())
    }

    fn lock_pool(&self) -> MutexGuard<'_, Vec<Scratch>> {
        // A poisoned pool holds only plain buffers, which are still valid.
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A scratch buffer of at least `bytes` from the pool, or a new one. The two entry
    /// variants plan their scratch alike, but a pooled buffer smaller than asked for is grown
    /// rather than trusted.
    fn take_scratch(&self, bytes: usize) -> Result<Scratch, Error> {
        let words = bytes.div_ceil(8);
        let mut s = self.lock_pool().pop().unwrap_or_else(|| Scratch {
            mem: Vec::new(),
            ins: Vec::with_capacity(self.params.len()),
            outs: Vec::with_capacity(self.results.len()),
        });
        if s.mem.len() < words {
            s.mem
                .try_reserve_exact(words - s.mem.len())
                .map_err(|_| RunError::OutOfMemory {
                    func: self.name.clone(),
                    bytes,
                })?;
            s.mem.resize(words, 0);
        }
        Ok(s)
    }

    /// The scratch bytes of the entry that a run under `opts` calls.
    fn scratch_bytes_for(&self, opts: &RunOptions) -> Result<usize, Error> {
        Ok(self
            .checked_code(opts)?
            .map_or(self.scratch_bytes, |c| c.scratch_bytes))
    }

    /// The limit-checked code when a run under `opts` needs it (a limit is set and the
    /// function has a loop), compiled on first use; `None` when the unchecked entry serves.
    fn checked_code(&self, opts: &RunOptions) -> Result<Option<&CheckedCode>, Error> {
        let Some(src) = self.checked_source.as_deref() else {
            return Ok(None);
        };
        if opts.is_unlimited() {
            return Ok(None);
        }
        match self
            .checked
            .get_or_init(|| compile_checked(src, &self.region_calls))
        {
            Ok(c) => Ok(Some(c)),
            Err(e) => Err(Error::Compile(e.clone())),
        }
    }
}

/// Compiles `f` with default options, without a cache.
pub fn compile(f: &Function) -> Result<Executable, Error> {
    compile_with(f, &JitOptions::default())
}

/// Compiles `f` with `options`, without a cache.
pub fn compile_with(f: &Function, options: &JitOptions) -> Result<Executable, Error> {
    // Step 0: verify, then run the IR passes (folding uses the interpreter's kernels, so it
    // changes no result); everything below works on a verified, optimized function.
    crate::ir::verify::verify_function(f)?;
    let optimized = crate::passes::optimize(f);
    // The passes must keep the function valid; code generation trusts the verifier from here
    // on, so a pass that broke an invariant is caught here as the bug it is.
    crate::ir::verify::verify_function(&optimized)
        .map_err(|e| Error::Internal(format!("the passes made @{} invalid: {e}", f.name)))?;
    let f = &optimized;
    // Steps 1 and 2: a Cranelift module for the host.
    let mut module = new_module(f, options)?;
    // The contexts of region ops that call the runtime, shared by both entry variants.
    let region_calls = region::region_calls(f).map_err(|message| {
        Error::Compile(CompileError {
            func: f.name.clone(),
            message,
        })
    })?;
    match build(f, &mut module, options, false, &region_calls) {
        Ok(parts) => Ok(parts.into_executable(optimized, options, module, region_calls)),
        Err(e) => {
            // SAFETY: nothing in this module was finalized or called.
            unsafe { module.free_memory() };
            Err(Error::Compile(e))
        }
    }
}

/// Steps 1 and 2 of the pipeline: Cranelift configured for the host (cranelift-jit requires
/// `is_pic=false` and long-range calls to runtime functions), and a JIT module that resolves
/// the runtime functions to the very functions of `crate::ops` the interpreter calls.
///
/// Cranelift's own IR verifier runs in debug builds only: lowering trusts graphjit's verifier
/// and emits CLIF whose invariants the tests check under the verifier, and in release builds
/// it cost a fifth of the compile time of a long function (it runs after every Cranelift pass).
fn new_module(f: &Function, options: &JitOptions) -> Result<JITModule, Error> {
    let err = |message: String| {
        Error::Compile(CompileError {
            func: f.name.clone(),
            message,
        })
    };
    let mut flags = settings::builder();
    let opt = match options.opt_level {
        OptLevel::Speed if f.insts.len() <= HUGE_FUNCTION => "speed",
        OptLevel::Speed | OptLevel::None => "none",
    };
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    for (k, v) in [
        ("opt_level", opt),
        ("is_pic", "false"),
        ("use_colocated_libcalls", "false"),
        ("enable_verifier", verify),
    ] {
        flags
            .set(k, v)
            .map_err(|e| err(format!("setting {k}={v}: {e}")))?;
    }
    let isa = cranelift_native::builder()
        .map_err(|e| err(format!("the host is not supported: {e}")))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| err(format!("building the target ISA: {e}")))?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for rf in RuntimeFn::ALL {
        builder.symbol(rf.symbol(), rf.address());
    }
    Ok(JITModule::new(builder))
}

/// What `build` produces besides the module.
struct Built {
    entry: EntryFn,
    scratch_bytes: usize,
    clif_func: cranelift_codegen::ir::Function,
    outlined_clif: Vec<cranelift_codegen::ir::Function>,
    code: disasm::CodeMap,
    code_bytes: usize,
    parallel: bool,
}

impl Built {
    /// `f` is the optimized function, kept (not copied: a copy of a long loop was 3% of its
    /// compile time) when the limit-checked variant may have to be compiled from it later.
    fn into_executable(
        self,
        f: Function,
        options: &JitOptions,
        module: JITModule,
        region_calls: Vec<Option<Box<region::RegionCall>>>,
    ) -> Executable {
        let name = f.name.clone();
        let params = f
            .params
            .iter()
            .map(|&p| (f.value(p).name.clone(), f.ty(p).clone()))
            .collect();
        let results = f.results.clone();
        let has_loop = f
            .insts
            .iter()
            .any(|d| matches!(d.op, crate::ops::Op::While));
        let checked_source = has_loop.then(|| {
            Box::new(CheckedSource {
                f,
                options: *options,
            })
        });
        Executable {
            name,
            params,
            result_sizes: fresh::Sizes::of(&results),
            results,
            entry: self.entry,
            checked_source,
            checked: OnceLock::new(),
            scratch_bytes: self.scratch_bytes,
            pool: Mutex::new(Vec::new()),
            clif_func: self.clif_func,
            outlined_clif: self.outlined_clif,
            clif: OnceLock::new(),
            code: self.code,
            code_bytes: self.code_bytes,
            parallel: self.parallel,
            memory: CodeMemory(Some(module)),
            region_calls,
        }
    }
}

/// Declares, lowers, compiles and finalizes one entry function of `f` in `module`: without
/// limit checks, or (`checked`) with a check on every `while` back-edge.
fn build(
    f: &Function,
    module: &mut JITModule,
    options: &JitOptions,
    checked: bool,
    region_calls: &[Option<Box<region::RegionCall>>],
) -> Result<Built, CompileError> {
    let cerr = |message: String| CompileError {
        func: f.name.clone(),
        message,
    };
    // Step 3: declare the runtime functions as imports.
    let mut imports = Vec::with_capacity(RuntimeFn::ALL.len());
    for rf in RuntimeFn::ALL {
        let sig = rf.signature(module.make_signature());
        let id = module
            .declare_function(rf.symbol(), Linkage::Import, &sig)
            .map_err(|e| cerr(format!("declaring {}: {e}", rf.symbol())))?;
        imports.push(id);
    }
    // The fusion plan, an analysis of the IR that both entry variants follow.
    let plan = plan::plan(f, options.fusion);

    // Step 4: declare the entry function.
    let name = if checked {
        "graphjit_entry_checked"
    } else {
        "graphjit_entry"
    };
    let sig = lower::entry_signature(module);
    let id = module
        .declare_function(name, Linkage::Export, &sig)
        .map_err(|e| cerr(format!("declaring the entry function: {e}")))?;
    let mut ctx = module.make_context();
    ctx.func.signature = sig;

    // Step 5: translate the IR into Cranelift IR, following the plan.
    let mut fctx = FunctionBuilderContext::new();
    let setup = lower::Setup {
        f,
        plan: &plan,
        simd: options.simd,
        checked,
        config: module.target_config(),
        region_calls,
    };
    let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let lowered = lower::lower_function(setup, b, isel::Calls::new(module, imports))?;
    let scratch_size = lowered.scratch;
    let scratch_bytes = usize::try_from(scratch_size).map_err(|_| {
        cerr(format!(
            "{scratch_size} bytes of scratch do not fit in memory"
        ))
    })?;

    // Step 6: keep the Cranelift IR for dumps (printed only when asked for), then generate
    // machine code.
    let clif_func = ctx.func.clone();
    module
        .define_function(id, &mut ctx)
        .map_err(|e| cerr(format!("code generation failed: {e:?}")))?;
    let compiled = ctx
        .compiled_code()
        .ok_or_else(|| cerr("code generation produced no code".into()))?;
    let code_bytes = compiled.code_buffer().len();
    let parallel = lowered.parallel;
    let outlined_clif = lowered.outlined_clif;
    let relocs = disasm::reloc_names(module, &ctx.func, compiled);
    let mut code = disasm::CodeMap::new(f, compiled, relocs);
    module.clear_context(&mut ctx);

    // Step 7: link and make the memory executable.
    module
        .finalize_definitions()
        .map_err(|e| cerr(format!("finalizing the code: {e}")))?;
    let ptr = module.get_finalized_function(id);
    code.ptr = ptr as usize;
    // SAFETY: the finalized function has the signature declared in step 4, which is the C ABI
    // of `EntryFn` on the host (`make_signature` uses the host's default convention).
    let entry = unsafe { std::mem::transmute::<*const u8, EntryFn>(ptr) };
    Ok(Built {
        entry,
        scratch_bytes,
        clif_func,
        outlined_clif,
        code,
        code_bytes,
        parallel,
    })
}
