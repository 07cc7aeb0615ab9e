//! A native baseline for issue 15's thread-scaling criterion: W4's `sum(x*x)` and W3a's
//! `poly` over 2^20 `f32`, written in plain Rust and run on one and on two threads, so that
//! graphjit's ratios can be compared with what this machine gives code that has no runtime.
//!
//! Run with `cargo run --release --example native_scaling [seconds]`. It uses no part of
//! graphjit: the point is the hardware's limit (memory bandwidth, the cost of waking a
//! thread), not the library. The second thread is a persistent worker spinning on an atomic
//! counter, the cheapest hand-off there is, so its figures bound what any pool can reach.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const N: usize = 1 << 20;

/// `sum(x*x)` with 16 independent partial sums, the shape graphjit's `reduce` has (and one
/// LLVM turns into vector adds).
fn sumsq(x: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let chunks = x.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    for (a, v) in acc.iter_mut().zip(tail) {
        *a += v * v;
    }
    acc.iter().sum()
}

/// W3a's `((x*2+1)*x - 3)/(x+4)`, elementwise into `y`.
fn poly(x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = ((x * 2.0 + 1.0) * x - 3.0) / (x + 4.0);
    }
}

/// The job the worker runs for one round: which half to do and where to put the result.
#[derive(Clone, Copy)]
struct Job {
    kind: usize,
    x: *const f32,
    y: *mut f32,
    len: usize,
}

// SAFETY: the pointers are only dereferenced while the round that published them waits for
// the worker to finish, and the halves the two threads touch are disjoint.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

/// A second thread that spins waiting for rounds: `go` counts published rounds, `done`
/// counts finished ones; `out` carries a sum's bits back.
struct Worker {
    go: AtomicUsize,
    done: AtomicUsize,
    out: AtomicU64,
    job: std::sync::Mutex<Option<Job>>,
}

fn run_job(j: Job) -> f32 {
    // SAFETY: see `Job`.
    let x = unsafe { std::slice::from_raw_parts(j.x, j.len) };
    if j.kind == 0 {
        sumsq(x)
    } else {
        let y = unsafe { std::slice::from_raw_parts_mut(j.y, j.len) };
        poly(x, y);
        0.0
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `f` repeatedly for `budget` and returns the median time of one call, in µs.
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while start.elapsed() < budget || times.len() < 50 {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    median(times)
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let budget = Duration::from_secs_f64(secs);
    // The same kind of input as `rand:f32[...]`: values in [0, 1), by an xorshift generator.
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let x: Vec<f32> = (0..N)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    let mut y = vec![0f32; N];

    let worker = Worker {
        go: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        out: AtomicU64::new(0),
        job: std::sync::Mutex::new(None),
    };
    let stop = AtomicUsize::new(0);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let mut seen = 0;
            while stop.load(Ordering::Acquire) == 0 {
                let g = worker.go.load(Ordering::Acquire);
                if g == seen {
                    std::hint::spin_loop();
                    continue;
                }
                seen = g;
                let job = worker.job.lock().unwrap().expect("a published job");
                let r = run_job(job);
                worker.out.store(r.to_bits() as u64, Ordering::Relaxed);
                worker.done.store(g, Ordering::Release);
            }
        });
        // One round on two threads: the worker takes the second half, this thread the first.
        let two = |kind: usize, x: &[f32], y: &mut [f32]| -> f32 {
            let h = N / 2;
            *worker.job.lock().unwrap() = Some(Job {
                kind,
                x: x[h..].as_ptr(),
                y: y[h..].as_mut_ptr(),
                len: h,
            });
            let round = worker.go.fetch_add(1, Ordering::AcqRel) + 1;
            let mine = run_job(Job {
                kind,
                x: x.as_ptr(),
                y: y.as_mut_ptr(),
                len: h,
            });
            while worker.done.load(Ordering::Acquire) != round {
                std::hint::spin_loop();
            }
            mine + f32::from_bits(worker.out.load(Ordering::Relaxed) as u32)
        };

        let s1 = measure(budget, || {
            black_box(sumsq(black_box(&x)));
        });
        let s2 = measure(budget, || {
            black_box(two(0, black_box(&x), &mut y));
        });
        let p1 = measure(budget, || {
            poly(black_box(&x), &mut y);
            black_box(&y);
        });
        let p2 = measure(budget, || {
            two(1, black_box(&x), &mut y);
            black_box(&y);
        });
        println!(
            "sumsq 2^20 f32: 1 thread {s1:.1} µs, 2 threads {s2:.1} µs, ratio {:.2}x",
            s1 / s2
        );
        println!(
            "poly  2^20 f32: 1 thread {p1:.1} µs, 2 threads {p2:.1} µs, ratio {:.2}x",
            p1 / p2
        );
        stop.store(1, Ordering::Release);
    });
}
