//! What a fresh result costs: W3a (`ir/poly.gir`, 2^20 `f32`) through `Executable::run`,
//! which allocates its 4 MB result, against `Executable::run_into`, which writes a caller's
//! buffer, on one and on two threads.
//!
//! Run with `cargo run --release --example fresh_results [seconds]`. Prints the median of
//! each, interleaved in rounds so that a change of the machine's load hits all of them.

use std::hint::black_box;
use std::time::{Duration, Instant};

use graphjit::ir::parse::parse_module;
use graphjit::jit::compile;
use graphjit::{RunOptions, Tensor};

/// Runs `f` repeatedly for `budget` and returns the median time of one call, in µs.
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..10 {
        f();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while start.elapsed() < budget || times.len() < 20 {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.5);
    let budget = Duration::from_secs_f64(secs);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ir/poly.gir");
    let src = std::fs::read_to_string(path).expect("ir/poly.gir");
    let m = parse_module(&src).expect("parse");
    let f = m.func("poly").expect("@poly");
    let x = graphjit::args::parse_value("rand:f32[1048576]", &f.param_types()[0]).expect("x");
    let inputs = [x];
    let exe = compile(f).expect("compile");
    let mut outs: Vec<Tensor> = f.results.iter().map(Tensor::zeros).collect();
    for round in 1..=3 {
        for threads in [1, 2] {
            let opts = RunOptions::new().with_threads(threads);
            let fresh = measure(budget, || {
                black_box(exe.run_with(black_box(&inputs), &opts).expect("run"));
            });
            let into = measure(budget, || {
                exe.run_into_with(black_box(&inputs), &mut outs, &opts)
                    .expect("run_into");
            });
            println!(
                "round {round}, {threads} thread(s): run {fresh:.1} µs, run_into {into:.1} µs, \
                 fresh result costs {:.1} µs",
                fresh - into
            );
        }
    }
}
