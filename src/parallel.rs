//! Parallel regions: fixed-size blocks of work run on a thread pool (`rayon`), with the
//! thread count, cancellation flag and deadline of the current run.
//!
//! Results never depend on the thread count: a parallel region is a list of blocks whose
//! boundaries depend only on the shape of the work ([`BLOCK`] elements, or a fixed number of
//! rows), each block writes only its own part of the output, and whatever combines block
//! results (the partial sums of a reduction) does so in block order on one thread. Threads
//! only decide *which* thread computes a block, never what it computes.
//!
//! The executors set the run's context with [`enter`] for the length of a run (the thread
//! count of [`crate::RunOptions::with_threads`], the cancellation flag, the deadline); code
//! outside a run (eager ops, constant folding) sees the default: every available core, no
//! limits. Before each block a region checks the flag and the clock; once either says stop,
//! the remaining blocks are skipped and [`for_blocks`] returns why, so that a cancelled run
//! stops within one block of work per thread.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

mod team;

/// Elements in one block of a parallel elementwise loop or reduction. A multiple of 16, so
/// that a block's elements fill the sixteen accumulators of `ops::kernels::reduce_lanes` and
/// whole 128-bit vectors. Part of the semantics of `reduce` (see `ops::kernels::reduce`).
pub const BLOCK: usize = 1 << 14;

/// The fewest blocks that are worth running on the pool; smaller loops stay on the calling
/// thread, where they pay nothing for the pool (about 5 µs to wake and join the workers).
pub const MIN_PARALLEL_BLOCKS: usize = 4;

/// The most threads a run may ask for; more are clamped to it.
pub const MAX_THREADS: usize = 256;

/// Why a parallel region stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    Cancelled = 2,
    DeadlineExceeded = 3,
}

impl Stopped {
    /// The status a runtime function returns to compiled code for this stop.
    pub fn status(self) -> u32 {
        self as u32
    }

    /// The stop a non-zero status of [`Stopped::status`] stands for.
    pub fn from_status(s: u32) -> Option<Stopped> {
        match s {
            2 => Some(Stopped::Cancelled),
            3 => Some(Stopped::DeadlineExceeded),
            _ => None,
        }
    }
}

/// The parallel context of the run on this thread, in cells so that entering and leaving a
/// run costs a few loads and stores (a scalar run takes ~40 ns; the context must not show).
struct Ctx {
    /// 0: the default, every available core.
    threads: Cell<usize>,
    /// Null: no flag. Else the run's flag, alive while its [`Entered`] guard is.
    cancel: Cell<*const AtomicBool>,
    deadline: Cell<Option<Instant>>,
    /// The first stop a region of this run met (the executors read it after the run).
    stopped: Cell<Option<Stopped>>,
}

thread_local! {
    static CTX: Ctx = const {
        Ctx {
            threads: Cell::new(0),
            cancel: Cell::new(std::ptr::null()),
            deadline: Cell::new(None),
            stopped: Cell::new(None),
        }
    };
}

/// The cores of this machine (1 if unknown): the default thread count.
pub fn available_threads() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// Restores the previous context when dropped (runs may nest: an eager op inside a run).
pub struct Entered<'a> {
    prev: (usize, *const AtomicBool, Option<Instant>, Option<Stopped>),
    _flag: PhantomData<&'a AtomicBool>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let (t, c, d, s) = self.prev;
        let _ = CTX.try_with(|x| {
            x.threads.set(t);
            x.cancel.set(c);
            x.deadline.set(d);
            x.stopped.set(s);
        });
    }
}

/// Makes `threads` (`None`: every core), `cancel` and `deadline` the context of parallel
/// regions on this thread until the guard is dropped.
pub fn enter(
    threads: Option<usize>,
    cancel: Option<&AtomicBool>,
    deadline: Option<Instant>,
) -> Entered<'_> {
    let cancel = cancel.map_or(std::ptr::null(), |c| c as *const AtomicBool);
    let prev = CTX
        .try_with(|x| {
            (
                x.threads.replace(threads.unwrap_or(0)),
                x.cancel.replace(cancel),
                x.deadline.replace(deadline),
                x.stopped.replace(None),
            )
        })
        .unwrap_or((0, std::ptr::null(), None, None));
    Entered {
        prev,
        _flag: PhantomData,
    }
}

/// The thread count of the current run, at least 1 and at most [`MAX_THREADS`].
pub fn current_threads() -> usize {
    let t = CTX.try_with(|x| x.threads.get()).unwrap_or(0);
    let t = if t == 0 { available_threads() } else { t };
    t.clamp(1, MAX_THREADS)
}

/// The first stop a parallel region of the current run met, taken (cleared).
pub fn take_stopped() -> Option<Stopped> {
    CTX.try_with(|x| x.stopped.take()).ok().flatten()
}

/// A pool of at least `n` worker threads (`n >= 1`): one pool for the process, built at
/// first use and replaced by a larger one when a run asks for more threads than it has (the
/// old one's threads end once no region uses it). A region on `n + 1` threads spawns `n`
/// tasks, so a larger pool than needed runs them on `n` workers all the same. `None` if the
/// system refused to start the threads; callers then run on the calling thread.
fn pool(n: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = pool.as_ref().filter(|p| p.current_num_threads() >= n) {
        return Some(Arc::clone(p));
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("graphjit-{i}"))
        .build()
        .ok()?;
    let p = Arc::new(p);
    *pool = Some(Arc::clone(&p));
    Some(p)
}

/// What a block checks before it starts.
struct Limits<'a> {
    cancel: Option<&'a AtomicBool>,
    deadline: Option<Instant>,
}

impl Limits<'_> {
    fn check(&self) -> Option<Stopped> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Some(Stopped::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Stopped::DeadlineExceeded);
        }
        None
    }
}

/// Runs `f(b)` for every block `b` in `0..blocks`, on up to [`current_threads`] threads
/// (on the calling thread alone when there is one thread or fewer than
/// [`MIN_PARALLEL_BLOCKS`] blocks). `f` must touch only block `b`'s part of any output.
/// Returns why the region stopped early, if it did (and records it for [`take_stopped`]);
/// the blocks not started then were not run.
pub fn for_blocks(blocks: usize, f: &(dyn Fn(usize) + Sync)) -> Result<(), Stopped> {
    for_blocks_from(MIN_PARALLEL_BLOCKS, blocks, f)
}

/// [`for_blocks`] that uses the pool from `min_blocks` blocks on (for blocks much larger than
/// [`BLOCK`] elements, such as the row blocks of `dot`).
///
/// Threads take blocks one at a time from a shared counter, the calling thread included,
/// and the calling thread never waits for a helper that has not started: once no block is
/// left it closes the region, waits only for the blocks helpers are running, and returns. A
/// helper that wakes late then finds the region closed and returns without touching it. So a
/// slow wake-up of a pool thread costs nothing but the blocks it did not take, and the
/// calling thread does not sleep at the end (see `team`).
pub fn for_blocks_from(
    min_blocks: usize,
    blocks: usize,
    f: &(dyn Fn(usize) + Sync),
) -> Result<(), Stopped> {
    let (cancel, deadline) = CTX
        .try_with(|x| (x.cancel.get(), x.deadline.get()))
        .unwrap_or((std::ptr::null(), None));
    let threads = current_threads().min(blocks);
    // A region's block counter has 32 bits (`team::run`); no real shape has more blocks.
    let r = if threads < 2 || blocks < min_blocks.max(2) || blocks > u32::MAX as usize {
        // SAFETY: a non-null flag was set by `enter` from a reference that outlives its
        // guard, and the guard is alive while this run's code runs.
        let limits = Limits {
            cancel: unsafe { cancel.as_ref() },
            deadline,
        };
        run_range(0..blocks, &limits, f)
    } else {
        match pool(threads - 1) {
            Some(p) => team::run(&p, threads - 1, blocks, cancel, deadline, f),
            None => {
                // SAFETY: as above.
                let limits = Limits {
                    cancel: unsafe { cancel.as_ref() },
                    deadline,
                };
                run_range(0..blocks, &limits, f)
            }
        }
    };
    if let Err(why) = r {
        let _ = CTX.try_with(|x| {
            if x.stopped.get().is_none() {
                x.stopped.set(Some(why));
            }
        });
    }
    r
}

fn run_range(
    range: std::ops::Range<usize>,
    limits: &Limits<'_>,
    f: &(dyn Fn(usize) + Sync),
) -> Result<(), Stopped> {
    for b in range {
        if let Some(why) = limits.check() {
            return Err(why);
        }
        f(b);
    }
    Ok(())
}

/// The number of blocks of `n` elements: `ceil(n / BLOCK)`.
pub fn blocks_of(n: usize) -> usize {
    n.div_ceil(BLOCK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_block_runs_once_at_every_thread_count() {
        for threads in [1, 2, 3, 8] {
            let _g = enter(Some(threads), None, None);
            let hits: Vec<AtomicUsize> = (0..37).map(|_| AtomicUsize::new(0)).collect();
            for_blocks(hits.len(), &|b| {
                hits[b].fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn a_set_flag_skips_the_blocks_and_says_why() {
        let flag = Arc::new(AtomicBool::new(true));
        let _g = enter(Some(2), Some(&*flag), None);
        let ran = AtomicUsize::new(0);
        let r = for_blocks(100, &|_| {
            ran.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(r, Err(Stopped::Cancelled));
        assert_eq!(ran.load(Ordering::Relaxed), 0);
        assert_eq!(take_stopped(), Some(Stopped::Cancelled));
        assert_eq!(take_stopped(), None);
    }

    #[test]
    fn a_panicking_block_panics_the_caller() {
        for threads in [1, 2, 3] {
            let _g = enter(Some(threads), None, None);
            let ran = AtomicUsize::new(0);
            let r = std::panic::catch_unwind(|| {
                for_blocks(64, &|b| {
                    ran.fetch_add(1, Ordering::Relaxed);
                    assert_ne!(b, 40, "block 40 fails");
                })
            });
            assert!(r.is_err(), "{threads} threads");
            // Block 40 ran, and no block ran twice.
            let ran = ran.load(Ordering::Relaxed);
            assert!((1..=64).contains(&ran), "{ran}");
        }
    }

    #[test]
    fn many_regions_in_a_row_run_every_block_once() {
        // Helpers that wake after their region closed must leave it alone: each region's
        // counters are fresh, and a late helper of an old region must not run its blocks.
        let _g = enter(Some(2), None, None);
        for round in 0..200 {
            let hits: Vec<AtomicUsize> =
                (0..(4 + round % 7)).map(|_| AtomicUsize::new(0)).collect();
            for_blocks(hits.len(), &|b| {
                hits[b].fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
            assert!(
                hits.iter().all(|h| h.load(Ordering::Relaxed) == 1),
                "round {round}"
            );
        }
    }

    #[test]
    fn the_context_is_restored_after_a_run() {
        let outer = enter(Some(3), None, None);
        {
            let _inner = enter(Some(1), None, None);
            assert_eq!(current_threads(), 1);
        }
        assert_eq!(current_threads(), 3);
        drop(outer);
    }
}
