//! Run options shared by both executors: an iteration limit, a deadline and a cancellation
//! flag, checked on every `while` back-edge, with one definition of when each is checked; and
//! a memory budget, checked before each allocation a run makes.
//!
//! The rules, identical in the interpreter and in compiled code:
//!
//! - **Iterations** are the back-edges of the whole run (every jump from the end of a `while`
//!   body back to its condition), summed over all loops, nested or not. A run may take
//!   `max_iterations` back-edges; the next one stops it with [`RunError::IterationLimit`].
//!   A loop that runs its body 10 times takes 10 back-edges, so a limit of 10 lets it finish.
//! - **Cancellation and the deadline** are checked at every [`CLOCK_INTERVAL`]-th back-edge of
//!   the run, and at every back-edge of a loop that does tensor work (see
//!   [`loop_does_tensor_work`]), whose iterations are slow enough that a check costs nothing in
//!   comparison. Scalar iterations are cheap and bounded, so a stop comes at most
//!   [`CLOCK_INTERVAL`] of them late. Once another thread stores `true` into the flag, the
//!   next check stops the run with [`RunError::Cancelled`]; a run found past its deadline
//!   stops with [`RunError::DeadlineExceeded`].
//! - Cancellation and the deadline are also checked before every block of a parallel region
//!   (`crate::parallel::for_blocks`: a large fused loop or reduction of compiled code, the row
//!   blocks of a float `dot` in both executors), so a cancelled run stops within one block per
//!   thread even without loops. Nothing else is checked outside back-edges: a function without
//!   loops or parallel regions runs to its end, which its size bounds.
//!
//! Both executors drive one [`RunState`] per run: they count down a *budget* of back-edges
//! inline (in compiled code: one decrement and one branch) and call [`RunState::back_edge`]
//! when it reaches zero, or on every back-edge of a tensor loop. That function does all the counting and clock reading, so the two executors
//! cannot drift apart; compiled code calls it through `graphjit_back_edge`.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::RunError;
use crate::ir::{Function, Inst};

/// The clock is read at least every this many back-edges of a run (when a deadline is set).
pub const CLOCK_INTERVAL: u64 = 1024;

/// Limits of one run. `RunOptions::default()` sets none: a run may loop forever.
///
/// ```
/// use std::sync::{atomic::AtomicBool, Arc};
/// use std::time::Duration;
/// let cancel = Arc::new(AtomicBool::new(false));
/// let opts = graphjit::RunOptions::new()
///     .with_max_iterations(1_000_000)
///     .with_timeout(Duration::from_millis(50))
///     .with_cancel_flag(Arc::clone(&cancel));
/// assert_eq!(opts.max_iterations(), Some(1_000_000));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    max_iterations: Option<u64>,
    deadline: Option<Instant>,
    cancel: Option<Arc<AtomicBool>>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
}

impl RunOptions {
    /// No limits (the same as `default()`).
    pub fn new() -> RunOptions {
        RunOptions::default()
    }

    /// Stops a run at its back-edge number `n + 1` (counted over all loops of the run).
    pub fn with_max_iterations(mut self, n: u64) -> RunOptions {
        self.max_iterations = Some(n);
        self
    }

    /// Stops a run that is still looping at `at`.
    pub fn with_deadline(mut self, at: Instant) -> RunOptions {
        self.deadline = Some(at);
        self
    }

    /// Stops a run that is still looping `d` from now. A timeout too far in the future for the
    /// clock to represent means no deadline.
    pub fn with_timeout(mut self, d: Duration) -> RunOptions {
        self.deadline = Instant::now().checked_add(d);
        self
    }

    /// Stops a run at its next back-edge once `flag` is `true`. The flag is only read; the run
    /// never resets it.
    pub fn with_cancel_flag(mut self, flag: Arc<AtomicBool>) -> RunOptions {
        self.cancel = Some(flag);
        self
    }

    /// Caps the memory a run allocates besides its inputs at `bytes`: compiled code counts its
    /// scratch memory and the outputs it allocates, the interpreter every tensor it holds at
    /// once. A run that would go over stops with [`RunError::MemoryLimit`] before allocating.
    pub fn with_memory_limit(mut self, bytes: usize) -> RunOptions {
        self.memory_limit = Some(bytes);
        self
    }

    /// Runs large loops, reductions and `dot` on `n` threads (clamped to `1..=256`); the
    /// default is every available core. Results are the same bits for every `n` (see
    /// [`crate::parallel`]); `1` keeps the whole run on the calling thread.
    pub fn with_threads(mut self, n: usize) -> RunOptions {
        self.threads = Some(n.clamp(1, crate::parallel::MAX_THREADS));
        self
    }

    /// The thread count set by [`RunOptions::with_threads`], if any.
    pub fn threads(&self) -> Option<usize> {
        self.threads
    }

    /// Makes these options the context of parallel regions on this thread while the guard
    /// lives (what both executors do for the length of a run).
    #[doc(hidden)]
    pub fn enter_parallel(&self) -> crate::parallel::Entered<'_> {
        crate::parallel::enter(self.threads, self.cancel.as_deref(), self.deadline)
    }

    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    /// Checks that a run holding `bytes` stays within the memory limit.
    pub fn check_memory(&self, func: &str, bytes: usize) -> Result<(), RunError> {
        match self.memory_limit {
            Some(limit) if bytes > limit => Err(RunError::MemoryLimit {
                func: func.to_string(),
                needed: bytes,
                limit,
            }),
            _ => Ok(()),
        }
    }

    pub fn max_iterations(&self) -> Option<u64> {
        self.max_iterations
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn cancel_flag(&self) -> Option<&Arc<AtomicBool>> {
        self.cancel.as_ref()
    }

    /// True when no limit is checked on back-edges (the memory limit is checked apart), so
    /// that an executor may skip every back-edge check.
    pub fn is_unlimited(&self) -> bool {
        self.max_iterations.is_none() && self.deadline.is_none() && self.cancel.is_none()
    }
}

/// Why a run stopped early (the executors' machinery; users see a [`RunError`]).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Stop {
    IterationLimit = 1,
    Cancelled = 2,
    DeadlineExceeded = 3,
}

impl Stop {
    /// The error of a run of `func` stopped for this reason under `opts`.
    pub fn error(self, func: &str, opts: &RunOptions) -> RunError {
        let func = func.to_string();
        match self {
            Stop::IterationLimit => RunError::IterationLimit {
                func,
                limit: opts.max_iterations.unwrap_or(u64::MAX),
            },
            Stop::Cancelled => RunError::Cancelled { func },
            Stop::DeadlineExceeded => RunError::DeadlineExceeded { func },
        }
    }

    /// The stop of a parallel region (its blocks check the flag and the clock).
    pub fn of_parallel(s: crate::parallel::Stopped) -> Stop {
        match s {
            crate::parallel::Stopped::Cancelled => Stop::Cancelled,
            crate::parallel::Stopped::DeadlineExceeded => Stop::DeadlineExceeded,
        }
    }
}

/// A flag that is never set, for runs without a cancellation flag, so that compiled code can
/// always read a byte instead of testing for a null pointer.
static NEVER_CANCELLED: AtomicBool = AtomicBool::new(false);

/// The limit state of one run, shared with compiled code (hence `repr(C)`): compiled code
/// reads the first budget at `CHUNK_OFFSET` and passes the state to `graphjit_back_edge`.
#[doc(hidden)]
#[repr(C)]
#[derive(Debug)]
pub struct RunState<'a> {
    /// The budget the current chunk started with (read by compiled code at entry).
    chunk: u64,
    /// Back-edges taken before the current chunk.
    base: u64,
    /// The largest number of back-edges allowed.
    limit: u64,
    deadline: Option<Instant>,
    cancel_flag: &'a AtomicBool,
    stop: Option<Stop>,
}

impl<'a> RunState<'a> {
    /// The state at the start of a run under `opts`.
    pub fn new(opts: &'a RunOptions) -> RunState<'a> {
        let flag: &'a AtomicBool = opts.cancel.as_deref().unwrap_or(&NEVER_CANCELLED);
        let limit = opts.max_iterations.unwrap_or(u64::MAX);
        RunState {
            base: 0,
            chunk: Self::next_chunk(limit, 0),
            limit,
            deadline: opts.deadline,
            cancel_flag: flag,
            stop: None,
        }
    }

    /// Back-edges until the next call of [`RunState::back_edge`]: at most [`CLOCK_INTERVAL`],
    /// and exactly enough to reach back-edge `limit + 1`.
    fn next_chunk(limit: u64, done: u64) -> u64 {
        (limit - done).saturating_add(1).min(CLOCK_INTERVAL)
    }

    /// The budget to start counting down from.
    pub fn first_budget(&self) -> u64 {
        self.chunk
    }

    /// Reads the cancellation flag.
    #[inline]
    pub fn cancelled(&self) -> bool {
        self.cancel_flag.load(Ordering::Relaxed)
    }

    /// Checks every limit at a back-edge. `budget` is what is left of the current chunk after
    /// counting this back-edge (0 when it is used up; more for a tensor loop's check in the
    /// middle of a chunk). Returns the budget to continue with, or 0 when the run must stop
    /// (then [`RunState::stopped`] says why).
    pub fn back_edge(&mut self, budget: u64) -> u64 {
        let budget = budget.min(self.chunk);
        let done = self.base + (self.chunk - budget);
        let stop = if done > self.limit {
            Some(Stop::IterationLimit)
        } else if self.cancelled() {
            Some(Stop::Cancelled)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(Stop::DeadlineExceeded)
        } else {
            None
        };
        if let Some(s) = stop {
            self.stop = Some(s);
            return 0;
        }
        if budget > 0 {
            return budget;
        }
        self.base = done;
        self.chunk = Self::next_chunk(self.limit, done);
        self.chunk
    }

    /// Why the run stopped, if it did.
    pub fn stopped(&self) -> Option<Stop> {
        self.stop
    }
}

/// Where compiled code finds the first budget in a [`RunState`].
pub(crate) const CHUNK_OFFSET: i32 = std::mem::offset_of!(RunState<'static>, chunk) as i32;

/// [`RunState::back_edge`] for compiled code.
///
/// # Safety
///
/// `state` must point to a live `RunState` that nothing else accesses during the call.
pub(crate) unsafe extern "C" fn graphjit_back_edge(state: *mut RunState<'_>, budget: u64) -> u64 {
    // SAFETY: the caller passes the state of its own run, which outlives the run.
    match unsafe { state.as_mut() } {
        Some(s) => s.back_edge(budget),
        None => 0,
    }
}

/// True when a `while` does tensor work: some value defined in its regions (at any depth), or
/// some region argument, has rank 1 or more. Such a loop reads the clock on every back-edge
/// when a deadline is set; a purely scalar loop reads it every [`CLOCK_INTERVAL`] back-edges.
#[doc(hidden)]
pub fn loop_does_tensor_work(f: &Function, w: Inst) -> bool {
    let Some(d) = f.insts.get(w.index()) else {
        return false;
    };
    let non_scalar = |vs: &[crate::ir::Value]| {
        vs.iter()
            .any(|v| f.values.get(v.index()).is_some_and(|x| !x.ty.is_scalar()))
    };
    if non_scalar(&d.region_args) {
        return true;
    }
    // An explicit stack: nesting depth is bounded elsewhere, but this costs nothing.
    let mut stack: Vec<_> = d.regions.clone();
    let mut seen = 0usize;
    while let Some(r) = stack.pop() {
        seen += 1;
        if seen > f.regions.len() {
            // A malformed function whose regions contain themselves; the verifier rejects it.
            return true;
        }
        let Some(rd) = f.regions.get(r.index()) else {
            continue;
        };
        for &i in &rd.insts {
            let Some(id) = f.insts.get(i.index()) else {
                continue;
            };
            if non_scalar(&id.results) || non_scalar(&id.args) || non_scalar(&id.region_args) {
                return true;
            }
            stack.extend(id.regions.iter().copied());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives a state like an executor on a scalar loop, for `n` back-edges.
    fn scalar_edges(s: &mut RunState<'_>, n: u64) -> Result<u64, Stop> {
        let mut budget = s.first_budget();
        for k in 1..=n {
            budget -= 1;
            if budget == 0 {
                budget = s.back_edge(0);
                if budget == 0 {
                    assert!(k > 0);
                    return Err(s.stopped().expect("a stop reason"));
                }
            }
        }
        Ok(n)
    }

    #[test]
    fn the_limit_allows_exactly_max_iterations() {
        for limit in [0, 1, 2, 1023, 1024, 1025, 5000] {
            let opts = RunOptions::new().with_max_iterations(limit);
            let mut s = RunState::new(&opts);
            assert_eq!(scalar_edges(&mut s, limit), Ok(limit), "limit {limit}");
            let mut s = RunState::new(&opts);
            assert_eq!(
                scalar_edges(&mut s, limit + 1),
                Err(Stop::IterationLimit),
                "limit {limit}"
            );
        }
    }

    #[test]
    fn mid_chunk_checks_count_the_same_back_edges() {
        // A tensor loop calls `back_edge` on every back-edge; the count must not drift.
        let opts = RunOptions::new().with_max_iterations(3000);
        let mut s = RunState::new(&opts);
        let mut budget = s.first_budget();
        let mut taken = 0u64;
        loop {
            budget = s.back_edge(budget - 1);
            if budget == 0 {
                break;
            }
            taken += 1;
        }
        assert_eq!(taken, 3000);
        assert_eq!(s.stopped(), Some(Stop::IterationLimit));
    }

    #[test]
    fn no_limit_never_stops() {
        let opts = RunOptions::default();
        assert!(opts.is_unlimited());
        let mut s = RunState::new(&opts);
        assert_eq!(scalar_edges(&mut s, 100_000), Ok(100_000));
        assert_eq!(s.stopped(), None);
    }

    #[test]
    fn cancellation_and_deadline_stop_at_a_check() {
        let flag = Arc::new(AtomicBool::new(true));
        let opts = RunOptions::new().with_cancel_flag(Arc::clone(&flag));
        let mut s = RunState::new(&opts);
        assert!(s.cancelled());
        assert_eq!(s.back_edge(5), 0);
        assert_eq!(s.stopped(), Some(Stop::Cancelled));

        let opts = RunOptions::new().with_deadline(Instant::now());
        let mut s = RunState::new(&opts);
        assert_eq!(scalar_edges(&mut s, 5000), Err(Stop::DeadlineExceeded));
        let far = RunOptions::new().with_timeout(Duration::MAX);
        assert_eq!(far.deadline(), None);
    }
}

/// Allocations of at least this many bytes are probed by [`probe_allocation`]; smaller ones
/// cannot fail in a way a run could report (the allocator would fail on its own metadata first).
pub const PROBE_BYTES: usize = 1 << 20;

/// Asks the system for `bytes` and gives them back at once, so that a kernel about to allocate
/// a large result learns that the system refuses it as [`RunError::OutOfMemory`] instead of
/// the process aborting inside the kernel's `Vec` (Rust's infallible allocation aborts). The
/// interpreter's and eager ops' kernels build their results with plain `Vec`s; this probe
/// stands in front of them. Compiled runs allocate their outputs and scratch fallibly
/// themselves. On Linux with overcommit, what the system refuses is a request beyond what
/// memory and swap could ever hold; memory that runs out later is the kernel's OOM killer's.
#[inline]
pub fn probe_allocation(func: &str, bytes: usize) -> Result<(), RunError> {
    if bytes < PROBE_BYTES {
        return Ok(());
    }
    probe_large(func, bytes)
}

/// The probe itself, out of line: small sizes (every eager scalar) return above at once.
#[inline(never)]
fn probe_large(func: &str, bytes: usize) -> Result<(), RunError> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(bytes)
        .map_err(|_| RunError::OutOfMemory {
            func: func.to_string(),
            bytes,
        })
}

thread_local! {
    /// The memory limit of eager ops on this thread (see [`with_eager_memory_limit`]).
    static EAGER_LIMIT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Runs `f` with every eager op on this thread (eager tensors, and traced functions running
/// eagerly) refused with [`RunError::MemoryLimit`] when the result it would allocate is larger
/// than `bytes`. Eager ops cannot see which tensors their caller still holds, so each result is
/// counted on its own: the limit bounds every single allocation, not their sum. Scopes nest;
/// the innermost limit applies, and the previous one is restored when `f` returns or unwinds.
///
/// ```
/// use graphjit::limits::with_eager_memory_limit;
/// use graphjit::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32; 1024], vec![1024]).unwrap();
/// // Each result is 4 KiB: within a limit of 8 KiB, over one of 2 KiB.
/// assert!(with_eager_memory_limit(8 << 10, || &x * 2.0).is_ok());
/// assert!(with_eager_memory_limit(2 << 10, || &x * 2.0).is_err());
/// ```
pub fn with_eager_memory_limit<R>(bytes: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            EAGER_LIMIT.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(EAGER_LIMIT.with(|l| l.replace(Some(bytes))));
    f()
}

/// The check eager ops make before allocating a result of `bytes`: within this thread's eager
/// limit, and available from the system.
#[inline]
pub(crate) fn check_eager_allocation(scope: &str, bytes: usize) -> Result<(), RunError> {
    if let Some(limit) = EAGER_LIMIT.with(Cell::get) {
        if bytes > limit {
            return Err(RunError::MemoryLimit {
                func: scope.to_string(),
                needed: bytes,
                limit,
            });
        }
    }
    probe_allocation(scope, bytes)
}
