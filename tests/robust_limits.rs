//! Bounded and cancellable runs: the iteration limit, the deadline and cancellation from
//! another thread stop an endless `while` in both executors with the right error, counting
//! and checking by the same rules, and the executor works normally afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use graphjit::error::{Error, RunError};
use graphjit::interp::{interpret_with, Interpreter};
use graphjit::ir::parse::parse_function;
use graphjit::ir::Function;
use graphjit::jit;
use graphjit::{RunOptions, Tensor};

/// A scalar loop that never ends for `%x >= 0`, and returns `%x` at once for `%x < 0`.
const FOREVER: &str = "
func @forever(%x: i32) -> i32 {
  %zero = const 0 : i32
  %one = const 1 : i32
  %r = while (%i = %x) : i32 {
    %c = ge %i, %zero : bool
    yield %c
  } do {
    %j = add %i, %one : i32
    %k = max %j, %zero : i32
    yield %k
  }
  return %r
}
";

/// A tensor loop that never ends while `%n >= 0`.
const FOREVER_TENSOR: &str = "
func @forever_tensor(%n: i32, %v: f32[64]) -> f32[64] {
  %zero = const 0 : i32
  %half = const 0.5 : f32[64]
  %r, %w = while (%i = %n, %a = %v) : i32, f32[64] {
    %c = ge %i, %zero : bool
    yield %c
  } do {
    %b = mul %a, %half : f32[64]
    yield %i, %b
  }
  return %w
}
";

/// Nested loops: `%n` outer iterations of `%m` inner ones each.
const NESTED: &str = "
func @nested(%n: i32, %m: i32) -> i32 {
  %zero = const 0 : i32
  %one = const 1 : i32
  %on, %total = while (%i = %zero, %t = %zero) : i32, i32 {
    %c = lt %i, %n : bool
    yield %c
  } do {
    %jn, %t2 = while (%j = %zero, %u = %t) : i32, i32 {
      %d = lt %j, %m : bool
      yield %d
    } do {
      %j2 = add %j, %one : i32
      %u2 = add %u, %one : i32
      yield %j2, %u2
    }
    %i2 = add %i, %one : i32
    yield %i2, %t2
  }
  return %total
}
";

type Runner = Box<dyn Fn(&[Tensor], &RunOptions) -> Result<Vec<Tensor>, Error>>;

/// Both executors of `f`, named.
fn executors(f: &Function) -> Vec<(&'static str, Runner)> {
    let it = Interpreter::new(f).unwrap();
    let exe = jit::compile(f).unwrap();
    vec![
        ("interpreted", Box::new(move |a, o| it.run_with(a, o))),
        ("compiled", Box::new(move |a, o| exe.run_with(a, o))),
    ]
}

fn func(src: &str) -> Function {
    parse_function(src).unwrap()
}

fn i32s(xs: &[i32]) -> Vec<Tensor> {
    xs.iter().map(|&x| Tensor::scalar(x)).collect()
}

/// Asserts that `r` is the run error `want` names.
fn assert_stop(r: Result<Vec<Tensor>, Error>, want: &str) {
    let e = r.expect_err("the run must stop");
    let name = match &e {
        Error::Run(RunError::IterationLimit { .. }) => "IterationLimit",
        Error::Run(RunError::Cancelled { .. }) => "Cancelled",
        Error::Run(RunError::DeadlineExceeded { .. }) => "DeadlineExceeded",
        _ => "other",
    };
    assert_eq!(name, want, "{e}");
}

#[test]
fn the_iteration_limit_counts_back_edges_of_all_loops() {
    for (name, run) in executors(&func(NESTED)) {
        // 3 outer iterations of 5 inner ones: 15 inner and 3 outer back-edges.
        let args = i32s(&[3, 5]);
        let ok = RunOptions::new().with_max_iterations(18);
        assert_eq!(run(&args, &ok).unwrap(), i32s(&[15]), "{name}");
        let short = RunOptions::new().with_max_iterations(17);
        let e = run(&args, &short).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a loop in @nested ran more than the limit of 17 iterations",
            "{name}"
        );
        // Across a chunk boundary of the clock interval too.
        let args = i32s(&[3, 1000]);
        assert!(run(&args, &RunOptions::new().with_max_iterations(3003)).is_ok());
        assert_stop(
            run(&args, &RunOptions::new().with_max_iterations(3002)),
            "IterationLimit",
        );
        // No limit at all, and a limit far away, give the same result.
        assert_eq!(run(&args, &RunOptions::new()).unwrap(), i32s(&[3000]));
        assert_eq!(
            run(&args, &RunOptions::new().with_max_iterations(u64::MAX)).unwrap(),
            i32s(&[3000])
        );
    }
}

#[test]
fn each_limit_stops_an_endless_loop_in_both_executors() {
    for (src, (name, it)) in [FOREVER, FOREVER_TENSOR]
        .into_iter()
        .flat_map(|src| executors(&func(src)).into_iter().map(move |e| (src, e)))
    {
        let f = func(src);
        let args = if f.params.len() == 1 {
            i32s(&[0])
        } else {
            vec![
                Tensor::scalar(0i32),
                Tensor::full(graphjit::Scalar::F32(1.0), [64]),
            ]
        };
        assert_stop(
            it(&args, &RunOptions::new().with_max_iterations(100_000)),
            "IterationLimit",
        );
        let start = Instant::now();
        assert_stop(
            it(
                &args,
                &RunOptions::new().with_timeout(Duration::from_millis(50)),
            ),
            "DeadlineExceeded",
        );
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            start.elapsed()
        );

        let flag = Arc::new(AtomicBool::new(false));
        // The clock starts before the setter exists, so the stop cannot come 30 ms after it.
        let start = Instant::now();
        let setter = {
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                flag.store(true, Ordering::Relaxed);
            })
        };
        assert_stop(
            it(
                &args,
                &RunOptions::new().with_cancel_flag(Arc::clone(&flag)),
            ),
            "Cancelled",
        );
        assert!(start.elapsed() >= Duration::from_millis(30), "{name}");
        assert!(start.elapsed() < Duration::from_secs(5), "{name}");
        setter.join().unwrap();
        // A set flag stops the next run at its first back-edge.
        assert_stop(
            it(&args, &RunOptions::new().with_cancel_flag(flag)),
            "Cancelled",
        );
    }
}

#[test]
fn both_executors_run_normally_after_a_stop() {
    let f = func(FOREVER);
    for (name, it) in executors(&f) {
        stops_then_runs(name, &it);
    }
}

fn stops_then_runs(name: &str, it: &Runner) {
    assert_stop(
        it(&i32s(&[0]), &RunOptions::new().with_max_iterations(10)),
        "IterationLimit",
    );
    assert_eq!(
        it(&i32s(&[-5]), &RunOptions::new()).unwrap(),
        i32s(&[-5]),
        "{name}"
    );
    let limits = RunOptions::new()
        .with_max_iterations(0)
        .with_timeout(Duration::ZERO)
        .with_cancel_flag(Arc::new(AtomicBool::new(true)));
    // A loop-free path checks nothing, so even spent limits let it finish.
    assert_eq!(it(&i32s(&[-5]), &limits).unwrap(), i32s(&[-5]), "{name}");
    // The iteration limit is checked first.
    assert_stop(it(&i32s(&[0]), &limits), "IterationLimit");
    let counter = func(NESTED);
    assert_eq!(
        interpret_with(
            &counter,
            &i32s(&[4, 4]),
            &RunOptions::new().with_max_iterations(20)
        )
        .unwrap(),
        i32s(&[16])
    );
}

#[test]
fn set_iteration_limit_applies_to_run() {
    let mut it = Interpreter::new(&func(NESTED)).unwrap();
    it.set_iteration_limit(Some(5));
    assert_stop(it.run(&i32s(&[2, 2])), "IterationLimit");
    assert_eq!(it.run(&i32s(&[1, 2])).unwrap(), i32s(&[2]));
    // run_with uses only its own options.
    assert_eq!(
        it.run_with(&i32s(&[2, 2]), &RunOptions::new()).unwrap(),
        i32s(&[4])
    );
}

/// The cost of the checks on the long counter loop (`ir/counter.gir 0 10000000`: 10^7
/// back-edges): medians of compiled runs without limits (the unchecked code), with a limit
/// that is never reached, and with a deadline (which also reads the clock), side by side.
/// `cargo test --release --test robust_limits -- --ignored --nocapture limit_check_overhead`
#[test]
#[ignore = "a measurement: run in release with --nocapture"]
fn limit_check_overhead() {
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ir/counter.gir")).unwrap();
    let m = graphjit::filetest::load(&src).unwrap();
    let counter = jit::compile(m.func("counter").unwrap()).unwrap();
    let gcd_src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ir/gcd.gir")).unwrap();
    let m = graphjit::filetest::load(&gcd_src).unwrap();
    let gcd = jit::compile(m.func("gcd_sum").unwrap()).unwrap();
    let gcd_args = i32s(&[300_000, 1_234_567]);
    let gcd_want = gcd.run(&gcd_args).unwrap();
    let workloads = [
        (
            "counter(0, 10^7)",
            &counter,
            i32s(&[0, 10_000_000]),
            i32s(&[20_000_000, 20_000_000]),
        ),
        ("gcd_sum(3*10^5, 1234567)", &gcd, gcd_args, gcd_want),
    ];
    for (wname, exe, args, want) in workloads {
        eprintln!("{wname}:");
        let variants = [
            ("no limits (unchecked code)", RunOptions::new()),
            (
                "max_iterations = u64::MAX",
                RunOptions::new().with_max_iterations(u64::MAX),
            ),
            (
                "deadline in 1 hour",
                RunOptions::new().with_timeout(Duration::from_secs(3600)),
            ),
            (
                "cancel flag",
                RunOptions::new().with_cancel_flag(Arc::new(AtomicBool::new(false))),
            ),
        ];
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        // Interleaved rounds, so that a slow phase of a shared machine hits every variant alike.
        for _ in 0..31 {
            for (k, (_, opts)) in variants.iter().enumerate() {
                let start = Instant::now();
                let r = exe.run_with(&args, opts).unwrap();
                samples[k].push(start.elapsed().as_secs_f64() * 1e3);
                assert_eq!(r, want);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let base = median(&mut samples[0].clone());
        for (k, (name, _)) in variants.iter().enumerate() {
            let m = median(&mut samples[k]);
            eprintln!(
                "  {name:<28} median {m:7.2} ms  ({:+.1}%)",
                (m / base - 1.0) * 100.0
            );
        }
    }
}

/// The limit-checked code of a function with a loop is compiled by the first run with a limit
/// (it adds code then, and only then), and it computes what the unchecked code computes.
#[test]
fn the_checked_variant_is_compiled_on_the_first_limited_run() {
    let f = func(FOREVER);
    let exe = jit::compile(&f).expect("compile");
    let unchecked_bytes = exe.code_bytes();
    let ins = i32s(&[-5]);
    let plain = exe.run(&ins).expect("an unlimited run");
    assert_eq!(
        exe.code_bytes(),
        unchecked_bytes,
        "no checked code before a limit"
    );
    let limited = RunOptions::new().with_max_iterations(10);
    let checked = exe
        .run_with(&ins, &limited)
        .expect("a limited run that ends");
    assert_eq!(checked, plain);
    assert_eq!(plain, i32s(&[-5]));
    let grown = exe.code_bytes();
    assert!(grown > unchecked_bytes, "{grown} <= {unchecked_bytes}");
    // Compiled once: a second limited run adds nothing, and stops an endless loop.
    assert_stop(exe.run_with(&i32s(&[0]), &limited), "IterationLimit");
    assert_eq!(exe.code_bytes(), grown);
}
