//! `graphjit bench`: compiled against interpreted, on the same program and inputs.

use std::hint::black_box;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use graphjit::interp::Interpreter;
use graphjit::{jit, RunOptions, Tensor};
use serde_json::json;

use super::{choose, load_file, FileArg, InputArgs};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds of measurement per executor (fractions allowed).
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    /// Run large loops, reductions and `dot` on N threads (default: every core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// The inputs, as for `graphjit run`.
    #[command(flatten)]
    pub inputs: InputArgs,
}

/// Timings of one executor, per run.
struct Stats {
    median_ns: f64,
    p10_ns: f64,
    p90_ns: f64,
    samples: usize,
    runs: u64,
}

/// Times `f`: batches of runs long enough to read the clock reliably, for about `budget`;
/// returns per-run statistics over the batches.
fn measure(budget: Duration, mut f: impl FnMut() -> Result<()>) -> Result<Stats> {
    // One untimed run warms caches and finds how long a run takes.
    let t0 = Instant::now();
    f()?;
    let one = t0.elapsed().max(Duration::from_nanos(1));
    let batch = ((Duration::from_micros(500).as_nanos() / one.as_nanos()).max(1)) as u64;
    let mut per_run = Vec::new();
    let start = Instant::now();
    let mut runs = 0u64;
    while per_run.len() < 5 || (start.elapsed() < budget && per_run.len() < 100_000) {
        let t = Instant::now();
        for _ in 0..batch {
            f()?;
        }
        per_run.push(t.elapsed().as_nanos() as f64 / batch as f64);
        runs += batch;
    }
    per_run.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| per_run[((per_run.len() - 1) as f64 * p).round() as usize];
    Ok(Stats {
        median_ns: q(0.5),
        p10_ns: q(0.1),
        p90_ns: q(0.9),
        samples: per_run.len(),
        runs,
    })
}

fn human(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

pub fn bench(a: BenchArgs) -> Result<()> {
    if !(a.seconds > 0.0 && a.seconds.is_finite()) {
        bail!("--seconds must be a positive number, got {}", a.seconds);
    }
    let budget = Duration::from_secs_f64(a.seconds);
    let module = load_file(&a.file.file)?;
    let f = choose(&module, &a.file.file, a.file.func.as_deref())?;
    let inputs = a.inputs.load(f)?;
    // Progress goes to stderr, redrawn in place on a terminal and one line a step elsewhere,
    // so that stdout stays clean for --json.
    let tty = std::io::stderr().is_terminal();
    let progress = |msg: &str| {
        if tty {
            eprint!("\r\x1b[2K{msg}");
        } else if !msg.is_empty() {
            eprintln!("graphjit bench: {msg}");
        }
        let _ = std::io::stderr().flush();
    };

    let opts = match a.threads {
        Some(n) => RunOptions::new().with_threads(n as usize),
        None => RunOptions::new(),
    };
    let threads = opts
        .threads()
        .unwrap_or_else(graphjit::parallel::available_threads);
    progress("compiling");
    let compile = measure(budget.min(Duration::from_millis(300)), || {
        black_box(jit::compile(f)?);
        Ok(())
    })?;
    let exe = jit::compile(f)?;
    let mut outs: Vec<Tensor> = f.results.iter().map(Tensor::zeros).collect();

    progress("running compiled code");
    let jit_stats = measure(budget, || {
        exe.run_into_with(black_box(&inputs), &mut outs, &opts)?;
        Ok(())
    })?;
    let jit_out = exe.run_with(&inputs, &opts)?;

    progress("interpreting");
    // The interpreter is prepared once, as the executable is compiled once.
    let interpreter = Interpreter::new(f)?;
    let interp_stats = measure(budget, || {
        black_box(interpreter.run_with(black_box(&inputs), &opts)?);
        Ok(())
    })?;
    let interp_out = interpreter.run_with(&inputs, &opts)?;
    if tty {
        eprint!("\r\x1b[2K");
    }

    let identical = jit_out == interp_out;
    let speedup = interp_stats.median_ns / jit_stats.median_ns;
    if a.json {
        // serde_json writes any path as valid JSON, and a figure that is not finite as null.
        let report = json!({
            "file": a.file.file.display().to_string(),
            "func": f.name,
            "threads": threads,
            "compile_ns": compile.median_ns.round(),
            "jit_median_ns": jit_stats.median_ns,
            "jit_p10_ns": jit_stats.p10_ns,
            "jit_p90_ns": jit_stats.p90_ns,
            "jit_runs": jit_stats.runs,
            "interp_median_ns": interp_stats.median_ns,
            "interp_p10_ns": interp_stats.p10_ns,
            "interp_p90_ns": interp_stats.p90_ns,
            "interp_runs": interp_stats.runs,
            "speedup": speedup,
            "identical": identical,
        });
        println!("{report:#}");
    } else {
        println!(
            "@{} in {} ({threads} threads)",
            f.name,
            a.file.file.display()
        );
        println!(
            "{:<12} {:>12} {:>12} {:>12} {:>9}",
            "", "median", "p10", "p90", "samples"
        );
        for (name, s) in [
            ("compile", &compile),
            ("compiled", &jit_stats),
            ("interpreted", &interp_stats),
        ] {
            println!(
                "{:<12} {:>12} {:>12} {:>12} {:>9}",
                name,
                human(s.median_ns),
                human(s.p10_ns),
                human(s.p90_ns),
                s.samples
            );
        }
        println!("speedup (interpreted / compiled median): {speedup:.1}x");
        println!("results identical: {identical}");
    }
    if !identical {
        bail!("compiled and interpreted results differ");
    }
    Ok(())
}
