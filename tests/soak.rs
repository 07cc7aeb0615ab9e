//! Soak test (ignored in CI; run once and recorded in GUARANTEES.md): threads compiling and
//! running random programs with random limits under a small bounded cache, every result checked
//! against the interpreter, and resident memory checked to stay flat.
//!
//! `GRAPHJIT_SOAK_SECS=600 cargo test --release --test soak -- --ignored --nocapture`
//! (`GRAPHJIT_SOAK_THREADS` sets the thread count, 2 by default).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use graphjit::error::RunError;
use graphjit::jit::{CacheLimits, Compiler, JitOptions};
use graphjit::testgen::{random_function, random_inputs, Rng};
use graphjit::{interp, Error, RunOptions, Tensor};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Resident set size in bytes, from `/proc/self/statm` (its second field, in pages).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// How a run ended, comparable across executors.
#[derive(Debug, PartialEq)]
enum Outcome {
    Values(Vec<Tensor>),
    IterationLimit,
    MemoryLimit,
}

fn outcome(r: Result<Vec<Tensor>, Error>, text: &str) -> Outcome {
    match r {
        Ok(v) => Outcome::Values(v),
        Err(Error::Run(RunError::IterationLimit { .. })) => Outcome::IterationLimit,
        Err(Error::Run(RunError::MemoryLimit { .. })) => Outcome::MemoryLimit,
        Err(e) => panic!("unexpected error {e}\n{text}"),
    }
}

/// Random limits: none, a small iteration budget, a memory budget, or both.
fn random_options(rng: &mut Rng) -> RunOptions {
    let mut opts = RunOptions::default();
    if rng.chance(30) {
        opts = opts.with_max_iterations(1 + rng.below(200) as u64);
    }
    if rng.chance(30) {
        opts = opts.with_memory_limit(64 << rng.below(12));
    }
    opts
}

/// How a seed was checked.
enum Checked {
    Agreed,
    /// A memory limit refused either run.
    Refused,
}

/// Checks one seed.
fn check(compiler: &Compiler, seed: u64) -> Checked {
    let f = random_function(seed);
    let text = f.to_string();
    let inputs = random_inputs(&f, seed);
    let opts = random_options(&mut Rng::new(seed ^ 0x5eed));
    let want = outcome(interp::interpret_with(&f, &inputs, &opts), &text);
    let exe = compiler
        .compile(&f)
        .unwrap_or_else(|e| panic!("compile failed: {e}\n{text}"));
    let got = outcome(exe.run_with(&inputs, &opts), &text);
    // The executors count memory differently (held tensors vs scratch plan and outputs), so a
    // memory refusal by either one is allowed; everything else must agree exactly.
    if want == Outcome::MemoryLimit || got == Outcome::MemoryLimit {
        return Checked::Refused;
    }
    assert_eq!(got, want, "seed {seed} disagrees\n{text}");
    Checked::Agreed
}

#[test]
#[ignore = "runs for minutes; see the module docs"]
fn compile_and_run_for_minutes_with_flat_memory() {
    let secs = env_u64("GRAPHJIT_SOAK_SECS", 600);
    let threads = env_u64("GRAPHJIT_SOAK_THREADS", 2);
    let compiler = Arc::new(Compiler::with_limits(
        JitOptions::default(),
        CacheLimits {
            max_entries: 64,
            max_code_bytes: 4 << 20,
        },
    ));
    let runs = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (compiler, runs, refused) = (
                Arc::clone(&compiler),
                Arc::clone(&runs),
                Arc::clone(&refused),
            );
            thread::spawn(move || {
                let mut seed = t << 40;
                while Instant::now() < end {
                    match check(&compiler, seed) {
                        Checked::Agreed => {}
                        Checked::Refused => _ = refused.fetch_add(1, Ordering::Relaxed),
                    }
                    runs.fetch_add(1, Ordering::Relaxed);
                    seed += 1;
                }
            })
        })
        .collect();
    // Sample resident memory; the first tenth of the run (caches filling, allocator arenas
    // growing) is the warm-up, and the highest sample after it must stay near its end.
    let warmup = Duration::from_secs(secs / 10);
    let mut baseline = None;
    let mut peak = 0;
    while Instant::now() < end && !workers.iter().all(|w| w.is_finished()) {
        thread::sleep(Duration::from_secs(1).min(end.saturating_duration_since(Instant::now())));
        let rss = resident_bytes();
        if start.elapsed() < warmup {
            continue;
        }
        match baseline {
            None => baseline = Some(rss),
            Some(_) => peak = peak.max(rss),
        }
    }
    for w in workers {
        w.join()
            .expect("a soak thread failed (see its panic above)");
    }
    let stats = compiler.stats();
    let baseline = baseline.unwrap_or(0);
    println!(
        "soak: {threads} threads, {secs} s, {} programs ({} refused by a memory limit), \
         cache {stats:?}, resident after warm-up {} KiB, peak after {} KiB",
        runs.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
        baseline / 1024,
        peak / 1024
    );
    assert!(
        stats.entries <= 64 && stats.code_bytes <= 4 << 20,
        "{stats:?}"
    );
    // Flat: at most 25% (and at least 32 MiB of slack for allocator noise) above the warm-up.
    let allowed = baseline + (baseline / 4).max(32 << 20);
    assert!(
        peak <= allowed,
        "resident memory grew from {baseline} to {peak} bytes after the warm-up"
    );
}
