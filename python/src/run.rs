//! Running compiled or interpreted code from Python: the GIL is released, limits come from
//! keyword arguments, and Ctrl-C (or a `CancelToken`) stops a running loop through the
//! library's cancellation flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use graphjit::error::RunError as LibRunError;
use graphjit::RunOptions;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::to_py;

/// How often the calling thread wakes up to look for Ctrl-C while a loop runs. Python's signal
/// handler only sets a flag that the main thread must check, so the caller polls; 10 ms keeps a
/// stop well within the 0.1 s users notice.
const POLL: Duration = Duration::from_millis(10);

/// How long a run with loops may run on the calling thread before it moves to a helper thread
/// where Ctrl-C can reach it (see [`run_limited`]).
const INLINE: Duration = Duration::from_millis(5);

/// A flag that another Python thread sets to stop runs that were given it (`cancel=`); a
/// stopped run raises `graphjit.Cancelled`.
#[pyclass(module = "graphjit", frozen)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> CancelToken {
        CancelToken {
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Asks every run holding this token to stop at its next check.
    fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn __repr__(&self) -> String {
        format!("CancelToken(cancelled={})", self.cancelled())
    }
}

/// The limits a caller asked for with `max_iters=`, `timeout=`, `cancel=` and `max_memory=`,
/// and the thread count of `threads=`.
pub struct Limits {
    pub max_iters: Option<u64>,
    pub timeout: Option<Duration>,
    pub token: Option<Arc<AtomicBool>>,
    pub max_memory: Option<usize>,
    pub threads: Option<usize>,
}

impl Limits {
    pub fn from_kwargs(
        max_iters: Option<i64>,
        timeout: Option<f64>,
        cancel: Option<&Bound<'_, CancelToken>>,
        max_memory: Option<i64>,
    ) -> PyResult<Limits> {
        let max_memory = match max_memory {
            Some(n) => Some(usize::try_from(n).map_err(|_| {
                PyValueError::new_err(format!(
                    "max_memory must be a number of bytes >= 0, got {n}"
                ))
            })?),
            None => None,
        };
        let max_iters = match max_iters {
            Some(n) if n < 0 => {
                return Err(PyValueError::new_err(format!(
                    "max_iters must be >= 0, got {n}"
                )))
            }
            Some(n) => Some(n as u64),
            None => None,
        };
        let timeout = match timeout {
            Some(t) if !(t.is_finite() && t >= 0.0) => {
                return Err(PyValueError::new_err(format!(
                    "timeout must be a finite number of seconds >= 0, got {t}"
                )))
            }
            Some(t) => Some(Duration::from_secs_f64(t)),
            None => None,
        };
        Ok(Limits {
            max_iters,
            timeout,
            token: cancel.map(|c| Arc::clone(&c.get().flag)),
            max_memory,
            threads: None,
        })
    }

    /// The limits with `threads=`: how many threads a run's parallel loops use (results are
    /// the same bits for any count; the default is every available core).
    pub fn with_threads(mut self, threads: Option<i64>) -> PyResult<Limits> {
        self.threads = match threads {
            Some(n) if n < 1 => {
                return Err(PyValueError::new_err(format!(
                    "threads must be a count >= 1, got {n}"
                )))
            }
            Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            None => None,
        };
        Ok(self)
    }

    /// `opts` with the thread count, when one was asked for.
    fn threaded(&self, opts: RunOptions) -> RunOptions {
        match self.threads {
            Some(n) => opts.with_threads(n),
            None => opts,
        }
    }

    /// The run options of a call that started at `start` (the timeout counts from there; there
    /// is no start when there is no timeout).
    fn options(&self, start: Option<Instant>) -> RunOptions {
        let mut opts = RunOptions::new();
        if let Some(n) = self.max_iters {
            opts = opts.with_max_iterations(n);
        }
        if let (Some(t), Some(start)) = (self.timeout, start) {
            opts = opts.with_deadline(start + t);
        }
        if let Some(bytes) = self.max_memory {
            opts = opts.with_memory_limit(bytes);
        }
        self.threaded(opts)
    }
}

/// Runs `work` without the GIL under `limits`.
///
/// A function without loops always ends soon, so it runs on this thread. A function with loops
/// first runs on this thread for up to [`INLINE`]; most calls finish within that, without the
/// cost of a second thread (which on a loaded machine can wait milliseconds to be scheduled).
/// A run still going then is stopped and started again on a helper thread while this thread
/// polls for Ctrl-C and the caller's token; on Ctrl-C it sets the run's cancellation flag,
/// waits for the run to stop, and raises `KeyboardInterrupt`. Starting again is sound because a
/// run has no effects besides its results, and costs at most [`INLINE`] of repeated work.
pub fn run_limited<T: Send>(
    py: Python<'_>,
    interruptible: bool,
    limits: &Limits,
    work: impl Fn(&RunOptions) -> graphjit::Result<T> + Send + Sync,
) -> PyResult<T> {
    if !interruptible && limits.timeout.is_none() {
        // No deadline to count from: skip reading the clock, as most calls of small functions
        // do.
        let opts = limits.options(None);
        return py.detach(|| work(&opts)).map_err(to_py);
    }
    let start = Instant::now();
    let opts = limits.options(Some(start));
    if !interruptible {
        return py.detach(|| work(&opts)).map_err(to_py);
    }
    let user_deadline = opts.deadline();
    let probe_deadline = start + INLINE;
    if user_deadline.is_none_or(|d| d > probe_deadline) {
        let mut probe = RunOptions::new().with_deadline(probe_deadline);
        if let Some(n) = limits.max_iters {
            probe = probe.with_max_iterations(n);
        }
        if let Some(bytes) = limits.max_memory {
            probe = probe.with_memory_limit(bytes);
        }
        let probe = limits.threaded(probe);
        match py.detach(|| work(&probe)) {
            Err(graphjit::Error::Run(LibRunError::DeadlineExceeded { .. })) => {
                // A Ctrl-C during the probe is answered now rather than after the restart.
                py.check_signals()?;
            }
            other => return other.map_err(to_py),
        }
    }
    let flag = Arc::new(AtomicBool::new(false));
    let opts = opts.with_cancel_flag(Arc::clone(&flag));
    let token = limits.token.clone();
    let (result, interrupt) = py.detach(|| {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let (opts, work) = (&opts, &work);
            s.spawn(move || {
                // The receiver outlives the scope's threads, so the send cannot fail.
                let _ = tx.send(work(opts));
            });
            let mut interrupt = None;
            loop {
                match rx.recv_timeout(POLL) {
                    Ok(r) => return (r, interrupt),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if interrupt.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                interrupt = Some(e);
                                flag.store(true, Ordering::SeqCst);
                            }
                        }
                        if token.as_ref().is_some_and(|t| t.load(Ordering::SeqCst)) {
                            flag.store(true, Ordering::SeqCst);
                        }
                    }
                    // The worker panicked before sending; the scope re-raises its panic.
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return (
                            Err(graphjit::Error::Argument(
                                "the run's worker thread stopped without a result".into(),
                            )),
                            interrupt,
                        )
                    }
                }
            }
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    result.map_err(to_py)
}
