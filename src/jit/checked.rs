//! The limit-checked entry of a function with a `while`: compiled into a module of its own on
//! the first run that sets a limit, not with the function. Most programs never run under a
//! limit, and compiling both variants up front doubled the compile time of every function with
//! a loop.

use super::{build, new_module, region, CodeMemory, EntryFn, JitOptions};
use crate::error::{CompileError, Error};
use crate::ir::Function;

/// The entry with limit checks on every `while` back-edge, and the module that owns its code.
pub(super) struct CheckedCode {
    pub(super) entry: EntryFn,
    pub(super) scratch_bytes: usize,
    pub(super) code_bytes: usize,
    /// Whether the code may run a parallel region (see `lower::Lowered::parallel`).
    pub(super) parallel: bool,
    memory: CodeMemory,
}

impl Drop for CheckedCode {
    fn drop(&mut self) {
        if let Some(module) = self.memory.0.take() {
            // SAFETY: as for `Executable`: dropping needs exclusive access, so no run of this
            // code is in progress, and the entry pointer dies with `self`.
            unsafe { module.free_memory() };
        }
    }
}

/// What compiling the limit-checked variant later needs: the optimized function (verified)
/// and the options it was compiled with.
pub(super) struct CheckedSource {
    pub(super) f: Function,
    pub(super) options: JitOptions,
}

/// Compiles the limit-checked entry of `src` into a module of its own (see [`CheckedCode`]).
/// `region_calls` are the unchecked code's contexts, which live as long as the executable.
pub(super) fn compile_checked(
    src: &CheckedSource,
    region_calls: &[Option<Box<region::RegionCall>>],
) -> Result<CheckedCode, CompileError> {
    let f = &src.f;
    let mut module = new_module(f, &src.options).map_err(|e| match e {
        Error::Compile(c) => c,
        other => CompileError {
            func: f.name.clone(),
            message: other.to_string(),
        },
    })?;
    match build(f, &mut module, &src.options, true, region_calls) {
        Ok(b) => Ok(CheckedCode {
            entry: b.entry,
            scratch_bytes: b.scratch_bytes,
            code_bytes: b.code_bytes,
            parallel: b.parallel,
            memory: CodeMemory(Some(module)),
        }),
        Err(e) => {
            // SAFETY: nothing in this module was finalized or called.
            unsafe { module.free_memory() };
            Err(e)
        }
    }
}
