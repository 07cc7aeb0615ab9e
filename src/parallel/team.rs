//! One parallel region on the pool: the calling thread and helper tasks take blocks from a
//! shared range until none is left, and the calling thread waits only for blocks a helper
//! has already started, never for a helper that has not woken up yet.
//!
//! A helper that finished stays hot for [`HOT_WINDOW`]: it watches for the next region and
//! joins it directly, so that regions in a row (the runs of a loop, several large ops in one
//! run) do not each wait for a sleeping pool thread to be woken, which on a virtual machine
//! costs tens of µs (an inter-processor interrupt and a halted virtual CPU to resume). The
//! figures are in `benches/RESULTS.md` ("Thread scaling, round two").
//!
//! Why not a `rayon` scope: a scope's end waits for every spawned task, so a pool thread that
//! takes long to wake (tens of µs on a loaded virtual machine) delays the whole region, and
//! a thread outside the pool sleeps on a condition variable at the end and must be woken in
//! turn. Which thread runs a block never changes what it computes (see the parent module),
//! so blocks can go to whoever asks first.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Limits, Stopped};

/// The bit of [`Team::state`] that says the calling thread has closed the region.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// The value of [`Team::stop`] after a block panicked (not a [`Stopped`] status).
const PANICKED: u8 = u8::MAX;

/// How often the calling thread spins (a `pause` each, about 40 ns) waiting for a helper's
/// last block before it yields its core instead: a few µs, less than one block of
/// [`super::BLOCK`] elements takes.
const SPINS: u32 = 128;

/// How long a helper keeps watching for a new region after its own ended, before it goes
/// back to the pool (where it sleeps once idle). Long enough to bridge the gap between runs
/// of a loop; short enough that an idle process stops using the core at once.
const HOT_WINDOW: Duration = Duration::from_micros(200);

/// After this long without a new region, a hot helper yields its core between looks (the
/// machine may be shared) instead of spinning.
const SPIN_WINDOW: Duration = Duration::from_micros(20);

/// The latest region any thread opened, for hot helpers to join.
static LATEST: Mutex<Option<Arc<Team>>> = Mutex::new(None);

/// Counts the regions opened; a hot helper joins [`LATEST`] when it changes.
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// Helpers watching for a new region now: a region spawns that many fewer tasks.
static HOT: AtomicUsize = AtomicUsize::new(0);

/// A region's shared state. The calling thread's `f` and cancellation flag are borrowed as
/// raw pointers because helper tasks must be `'static`: a helper dereferences them only
/// between joining (a successful increment of `state` while it is not [`CLOSED`]) and
/// leaving, and the calling thread returns only once `state` is closed with no helper
/// inside, so they are alive whenever they are used.
struct Team {
    /// The blocks not handed out yet, `front..back`, as `front << 32 | back`. The calling
    /// thread takes blocks from the front and helpers from the back, so that when every
    /// thread is on time each takes the same part of the data in every run (and finds it
    /// in its own core's cache), while a late helper leaves its share to the others.
    range: AtomicU64,
    /// [`CLOSED`] once the calling thread took its last block, plus the number of helpers
    /// inside the region.
    state: AtomicUsize,
    /// 0, a [`Stopped`] status, or [`PANICKED`]: whoever sees a non-zero value takes no
    /// further block.
    stop: AtomicU8,
    /// The first panic of a helper, re-raised on the calling thread.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    cancel: *const AtomicBool,
    deadline: Option<Instant>,
    f: *const (dyn Fn(usize) + Sync + 'static),
    /// The most helpers the run asked for: more than that never work in the region at once.
    helpers: usize,
    /// [`GENERATION`] once this region was published: a later region has a larger one.
    generation: AtomicUsize,
}

// SAFETY: the raw pointers are only dereferenced while they are valid (see `Team`), and what
// they point to is `Sync` (`AtomicBool`, a `Sync` closure).
unsafe impl Send for Team {}
// SAFETY: as above.
unsafe impl Sync for Team {}

impl Team {
    /// Takes a block from the front (the calling thread) or the back (helpers), if any is
    /// left.
    fn take(&self, front: bool) -> Option<usize> {
        let mut cur = self.range.load(Ordering::Relaxed);
        loop {
            let (f, b) = (cur >> 32, cur & 0xffff_ffff);
            if f >= b {
                return None;
            }
            let (next, block) = if front {
                ((f + 1) << 32 | b, f)
            } else {
                (f << 32 | (b - 1), b - 1)
            };
            match self
                .range
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(block as usize),
                Err(now) => cur = now,
            }
        }
    }

    /// Takes and runs blocks until none is left or the region stops.
    ///
    /// # Safety
    /// `self.f` and `self.cancel` must be alive (see [`Team`]).
    unsafe fn work(&self, front: bool) {
        // SAFETY: the caller guarantees both pointers.
        let (f, cancel) = unsafe { (&*self.f, self.cancel.as_ref()) };
        let limits = Limits {
            cancel,
            deadline: self.deadline,
        };
        loop {
            if self.stop.load(Ordering::Relaxed) != 0 {
                return;
            }
            let Some(b) = self.take(front) else {
                return;
            };
            if let Some(why) = limits.check() {
                self.stop.store(why as u8, Ordering::Relaxed);
                return;
            }
            f(b);
        }
    }

    /// A helper task: joins unless the region is closed or has all the helpers it may have,
    /// works, and leaves. Returns whether it joined.
    fn help(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & CLOSED != 0 || s >= self.helpers {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        // SAFETY: this helper is inside the region, so the calling thread has not returned.
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| unsafe { self.work(false) })) {
            self.stop.store(PANICKED, Ordering::Relaxed);
            let mut slot = self.panic.lock().unwrap_or_else(|e| e.into_inner());
            slot.get_or_insert(p);
        }
        // Release: the blocks this helper wrote happen before the calling thread sees it leave.
        self.state.fetch_sub(1, Ordering::Release);
        true
    }
}

/// The task a region spawns on the pool: helps its region, then, if it got there in time,
/// stays hot for the regions that follow (see [`HOT_WINDOW`]). A task that arrives after its
/// region closed returns at once, so stale tasks never pile up hot waits.
fn helper_task(team: Arc<Team>) {
    if !team.help() {
        return;
    }
    let mut seen = team.generation.load(Ordering::Relaxed);
    drop(team);
    HOT.fetch_add(1, Ordering::SeqCst);
    let mut idle_since = Instant::now();
    loop {
        let g = GENERATION.load(Ordering::SeqCst);
        if g != seen {
            seen = g;
            let latest = LATEST.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(t) = latest {
                t.help();
            }
            idle_since = Instant::now();
            continue;
        }
        let idle = idle_since.elapsed();
        if idle >= HOT_WINDOW {
            break;
        }
        if idle < SPIN_WINDOW {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
    }
    HOT.fetch_sub(1, Ordering::SeqCst);
    // A region opened between the last look and leaving may have counted this helper as
    // hot and spawned no task for it: look once more.
    if GENERATION.load(Ordering::SeqCst) != seen {
        let latest = LATEST.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(t) = latest {
            t.help();
        }
    }
}

/// Runs blocks `0..blocks` of `f` on the calling thread and up to `helpers` tasks of `pool`.
/// `blocks` must be below 2^32 (see `Team::range`).
/// A panic of `f` on any thread is re-raised here once no helper runs a block any more.
pub(super) fn run(
    pool: &rayon::ThreadPool,
    helpers: usize,
    blocks: usize,
    cancel: *const AtomicBool,
    deadline: Option<Instant>,
    f: &(dyn Fn(usize) + Sync),
) -> Result<(), Stopped> {
    // SAFETY: only the lifetime is erased; `Team` says why the pointer is used only while
    // `f` is alive.
    let f: &'static (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(f) };
    let team = Arc::new(Team {
        range: AtomicU64::new(blocks as u64),
        state: AtomicUsize::new(0),
        stop: AtomicU8::new(0),
        panic: Mutex::new(None),
        cancel,
        deadline,
        f,
        helpers,
        generation: AtomicUsize::new(0),
    });
    // Publish the region to hot helpers, then spawn tasks for the helpers still missing.
    // With `SeqCst` on both sides, a helper counted in `HOT` here has read a generation
    // older than this one, so it sees this region (or, leaving, looks once more).
    {
        let mut latest = LATEST.lock().unwrap_or_else(|e| e.into_inner());
        let g = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
        team.generation.store(g, Ordering::Relaxed);
        *latest = Some(Arc::clone(&team));
    }
    let hot = HOT.load(Ordering::SeqCst);
    for _ in hot.min(helpers)..helpers {
        let t = Arc::clone(&team);
        pool.spawn(move || helper_task(t));
    }
    // SAFETY: this thread owns `f` and the flag for the whole call.
    let mine = catch_unwind(AssertUnwindSafe(|| unsafe { team.work(true) }));
    if mine.is_err() {
        team.stop.store(PANICKED, Ordering::Relaxed);
    }
    // No block is left to take: close the region to late helpers and wait for those inside,
    // each at most one block from leaving. Acquire pairs with their leaving.
    let mut s = team.state.fetch_or(CLOSED, Ordering::Acquire);
    let mut spins = 0;
    while s & !CLOSED != 0 {
        if spins < SPINS {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
        s = team.state.load(Ordering::Acquire);
    }
    if let Err(p) = mine {
        resume_unwind(p);
    }
    let helper_panic = team.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(p) = helper_panic {
        resume_unwind(p);
    }
    match Stopped::from_status(u32::from(team.stop.load(Ordering::Relaxed))) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}
