//! The functions compiled code calls, as a closed enum with their signatures and addresses
//! (the role of Cranelift's `LibCall`): the very functions of `crate::ops` the interpreter
//! calls, so that both executors compute the same bits.

use cranelift_codegen::ir::{types, AbiParam, Signature, Type};

use crate::ops::{kernels, math, scalar};

/// A runtime function. `exp` and `tanh` are not here: they are emitted inline from
/// `ops::vmath`, the definition the interpreter runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuntimeFn {
    LogF32,
    LogF64,
    SinF32,
    SinF64,
    CosF32,
    CosF64,
    PowF32,
    PowF64,
    RemF32,
    RemF64,
    /// `kernels::dot_f32(a, b, c, m, k, n)`: pointers and sizes, all 64-bit.
    DotF32,
    DotF64,
    /// `kernels::dot_f16` / `dot_bf16`: the same convention.
    DotF16,
    DotBF16,
    /// `limits::graphjit_back_edge(state, budget) -> budget`.
    BackEdge,
    /// `jit::region::graphjit_sort(ctx, args, outs, less, key) -> status`: `sort`'s kernel
    /// with its comparator (or the key it compares) compiled.
    Sort,
    /// `jit::region::graphjit_scatter(ctx, args, outs, update) -> status`: the kernel of a
    /// scatter of several inputs with its region compiled.
    Scatter,
    // The functions of `ops::math`, by float width.
    Expm1F32,
    Expm1F64,
    Log1pF32,
    Log1pF64,
    LogisticF32,
    LogisticF64,
    CbrtF32,
    CbrtF64,
    ErfF32,
    ErfF64,
    Atan2F32,
    Atan2F64,
    /// `ops::dot_general::dot_general_rt(desc, len, lhs, rhs, out) -> status`.
    DotGeneral,
    /// `graphjit_parallel_for(body, ctx, blocks) -> status`: runs an outlined loop body on
    /// the thread pool, once per block.
    ParallelFor,
}

impl RuntimeFn {
    /// Every runtime function, in the order of their import table.
    pub(crate) const ALL: [RuntimeFn; 31] = [
        RuntimeFn::LogF32,
        RuntimeFn::LogF64,
        RuntimeFn::SinF32,
        RuntimeFn::SinF64,
        RuntimeFn::CosF32,
        RuntimeFn::CosF64,
        RuntimeFn::PowF32,
        RuntimeFn::PowF64,
        RuntimeFn::RemF32,
        RuntimeFn::RemF64,
        RuntimeFn::DotF32,
        RuntimeFn::DotF64,
        RuntimeFn::DotF16,
        RuntimeFn::DotBF16,
        RuntimeFn::BackEdge,
        RuntimeFn::Sort,
        RuntimeFn::Scatter,
        RuntimeFn::Expm1F32,
        RuntimeFn::Expm1F64,
        RuntimeFn::Log1pF32,
        RuntimeFn::Log1pF64,
        RuntimeFn::LogisticF32,
        RuntimeFn::LogisticF64,
        RuntimeFn::CbrtF32,
        RuntimeFn::CbrtF64,
        RuntimeFn::ErfF32,
        RuntimeFn::ErfF64,
        RuntimeFn::Atan2F32,
        RuntimeFn::Atan2F64,
        RuntimeFn::DotGeneral,
        RuntimeFn::ParallelFor,
    ];

    /// The index of this function in [`RuntimeFn::ALL`] and in the import table.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The symbol the JIT module resolves to [`RuntimeFn::address`].
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            RuntimeFn::LogF32 => "graphjit_log_f32",
            RuntimeFn::LogF64 => "graphjit_log_f64",
            RuntimeFn::SinF32 => "graphjit_sin_f32",
            RuntimeFn::SinF64 => "graphjit_sin_f64",
            RuntimeFn::CosF32 => "graphjit_cos_f32",
            RuntimeFn::CosF64 => "graphjit_cos_f64",
            RuntimeFn::PowF32 => "graphjit_pow_f32",
            RuntimeFn::PowF64 => "graphjit_pow_f64",
            RuntimeFn::RemF32 => "graphjit_rem_f32",
            RuntimeFn::RemF64 => "graphjit_rem_f64",
            RuntimeFn::DotF32 => "graphjit_dot_f32",
            RuntimeFn::DotF64 => "graphjit_dot_f64",
            RuntimeFn::DotF16 => "graphjit_dot_f16",
            RuntimeFn::DotBF16 => "graphjit_dot_bf16",
            RuntimeFn::BackEdge => "graphjit_back_edge",
            RuntimeFn::Sort => "graphjit_sort",
            RuntimeFn::Scatter => "graphjit_scatter",
            RuntimeFn::Expm1F32 => "graphjit_expm1_f32",
            RuntimeFn::Expm1F64 => "graphjit_expm1_f64",
            RuntimeFn::Log1pF32 => "graphjit_log1p_f32",
            RuntimeFn::Log1pF64 => "graphjit_log1p_f64",
            RuntimeFn::LogisticF32 => "graphjit_logistic_f32",
            RuntimeFn::LogisticF64 => "graphjit_logistic_f64",
            RuntimeFn::CbrtF32 => "graphjit_cbrt_f32",
            RuntimeFn::CbrtF64 => "graphjit_cbrt_f64",
            RuntimeFn::ErfF32 => "graphjit_erf_f32",
            RuntimeFn::ErfF64 => "graphjit_erf_f64",
            RuntimeFn::Atan2F32 => "graphjit_atan2_f32",
            RuntimeFn::Atan2F64 => "graphjit_atan2_f64",
            RuntimeFn::DotGeneral => "graphjit_dot_general",
            RuntimeFn::ParallelFor => "graphjit_parallel_for",
        }
    }

    /// The address of the Rust function behind the symbol.
    pub(crate) fn address(self) -> *const u8 {
        match self {
            RuntimeFn::LogF32 => scalar::log_f32 as *const u8,
            RuntimeFn::LogF64 => scalar::log_f64 as *const u8,
            RuntimeFn::SinF32 => scalar::sin_f32 as *const u8,
            RuntimeFn::SinF64 => scalar::sin_f64 as *const u8,
            RuntimeFn::CosF32 => scalar::cos_f32 as *const u8,
            RuntimeFn::CosF64 => scalar::cos_f64 as *const u8,
            RuntimeFn::PowF32 => scalar::pow_f32 as *const u8,
            RuntimeFn::PowF64 => scalar::pow_f64 as *const u8,
            RuntimeFn::RemF32 => scalar::rem_f32 as *const u8,
            RuntimeFn::RemF64 => scalar::rem_f64 as *const u8,
            RuntimeFn::DotF32 => kernels::dot_f32 as *const u8,
            RuntimeFn::DotF64 => kernels::dot_f64 as *const u8,
            RuntimeFn::DotF16 => kernels::dot_f16 as *const u8,
            RuntimeFn::DotBF16 => kernels::dot_bf16 as *const u8,
            RuntimeFn::BackEdge => crate::limits::graphjit_back_edge as *const u8,
            RuntimeFn::Sort => super::region::graphjit_sort as *const u8,
            RuntimeFn::Scatter => super::region::graphjit_scatter as *const u8,
            RuntimeFn::Expm1F32 => math::expm1_f32 as *const u8,
            RuntimeFn::Expm1F64 => math::expm1_f64 as *const u8,
            RuntimeFn::Log1pF32 => math::log1p_f32 as *const u8,
            RuntimeFn::Log1pF64 => math::log1p_f64 as *const u8,
            RuntimeFn::LogisticF32 => math::logistic_f32 as *const u8,
            RuntimeFn::LogisticF64 => math::logistic_f64 as *const u8,
            RuntimeFn::CbrtF32 => math::cbrt_f32 as *const u8,
            RuntimeFn::CbrtF64 => math::cbrt_f64 as *const u8,
            RuntimeFn::ErfF32 => math::erf_f32 as *const u8,
            RuntimeFn::ErfF64 => math::erf_f64 as *const u8,
            RuntimeFn::Atan2F32 => math::atan2_f32 as *const u8,
            RuntimeFn::Atan2F64 => math::atan2_f64 as *const u8,
            RuntimeFn::DotGeneral => crate::ops::dot_general::dot_general_rt as *const u8,
            RuntimeFn::ParallelFor => graphjit_parallel_for as *const u8,
        }
    }

    /// The parameter and result types. Compiled code targets 64-bit hosts, so pointers and
    /// sizes are `i64`.
    fn types(self) -> (&'static [Type], Type) {
        const F32_1: &[Type] = &[types::F32];
        const F64_1: &[Type] = &[types::F64];
        const F32_2: &[Type] = &[types::F32, types::F32];
        const F64_2: &[Type] = &[types::F64, types::F64];
        const DOT: &[Type] = &[types::I64; 6];
        const BACK_EDGE: &[Type] = &[types::I64, types::I64];
        const PARALLEL_FOR: &[Type] = &[types::I64; 3];
        const SORT: &[Type] = &[types::I64; 5];
        const SCATTER: &[Type] = &[types::I64; 4];
        const DOT_GENERAL: &[Type] = &[types::I64; 5];
        match self {
            RuntimeFn::LogF32
            | RuntimeFn::SinF32
            | RuntimeFn::CosF32
            | RuntimeFn::Expm1F32
            | RuntimeFn::Log1pF32
            | RuntimeFn::LogisticF32
            | RuntimeFn::CbrtF32
            | RuntimeFn::ErfF32 => (F32_1, types::F32),
            RuntimeFn::LogF64
            | RuntimeFn::SinF64
            | RuntimeFn::CosF64
            | RuntimeFn::Expm1F64
            | RuntimeFn::Log1pF64
            | RuntimeFn::LogisticF64
            | RuntimeFn::CbrtF64
            | RuntimeFn::ErfF64 => (F64_1, types::F64),
            RuntimeFn::PowF32 | RuntimeFn::RemF32 | RuntimeFn::Atan2F32 => (F32_2, types::F32),
            RuntimeFn::PowF64 | RuntimeFn::RemF64 | RuntimeFn::Atan2F64 => (F64_2, types::F64),
            RuntimeFn::DotGeneral => (DOT_GENERAL, types::I64),
            RuntimeFn::DotF32 | RuntimeFn::DotF64 | RuntimeFn::DotF16 | RuntimeFn::DotBF16 => {
                (DOT, types::I64)
            }
            RuntimeFn::BackEdge => (BACK_EDGE, types::I64),
            RuntimeFn::ParallelFor => (PARALLEL_FOR, types::I64),
            RuntimeFn::Sort => (SORT, types::I64),
            RuntimeFn::Scatter => (SCATTER, types::I64),
        }
    }

    /// The signature of the function in the calling convention of `sig` (an empty signature
    /// of the host's default convention, from `Module::make_signature`).
    pub(crate) fn signature(self, mut sig: Signature) -> Signature {
        let (params, ret) = self.types();
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns.push(AbiParam::new(ret));
        sig
    }
}

/// An outlined loop body: `body(ctx, block)` computes block `block` of its loop, reading the
/// values its caller stored at `ctx`, and returns 0.
type BlockFn = unsafe extern "C" fn(ctx: u64, block: u64) -> u64;

/// The status [`graphjit_parallel_for`] returns when a block panicked (it cannot: compiled
/// code does not unwind; this keeps a bug from unwinding through compiled frames).
pub(crate) const STATUS_PANIC: u64 = 4;

/// Runs the outlined loop body `body` for every block in `0..blocks` on the current run's
/// threads (`crate::parallel::for_blocks`). Returns 0, or the status of why the run stopped
/// early (`parallel::Stopped::status`: cancelled, past its deadline), or [`STATUS_PANIC`].
///
/// # Safety
/// `body` must be the address of a finalized function of type [`BlockFn`] that touches only
/// its own block's part of any output, and `ctx` must be valid for it until this returns.
pub(crate) unsafe extern "C" fn graphjit_parallel_for(body: u64, ctx: u64, blocks: u64) -> u64 {
    // SAFETY: the caller guarantees `body` is a `BlockFn`.
    let f = unsafe { std::mem::transmute::<usize, BlockFn>(body as usize) };
    let run = || {
        crate::parallel::for_blocks(blocks as usize, &|b| {
            // SAFETY: the caller guarantees `ctx` for `body`; each block writes only its own
            // part of the output, so concurrent blocks never touch the same memory.
            unsafe { f(ctx, b as u64) };
        })
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(())) => 0,
        Ok(Err(why)) => why.status() as u64,
        Err(_) => STATUS_PANIC,
    }
}

#[cfg(test)]
mod tests {
    use super::RuntimeFn;

    #[test]
    fn indices_follow_the_table_and_symbols_are_distinct() {
        for (i, f) in RuntimeFn::ALL.iter().enumerate() {
            assert_eq!(f.index(), i, "{f:?}");
            for g in &RuntimeFn::ALL[i + 1..] {
                assert_ne!(f.symbol(), g.symbol());
            }
        }
    }
}
