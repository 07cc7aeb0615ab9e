//! Concurrency under load: executables shared by 8 threads, thousands of runs each, while
//! other threads compile into the same `jit::Compiler` cache; every result is checked against
//! the interpreter, a watchdog turns a deadlock into a failure, and the code of an executable
//! is released when its last `Arc` goes (observed through a `Weak`).
//!
//! `GRAPHJIT_LOAD_RUNS` sets the runs per thread (default 2000).

use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::Duration;

use graphjit::args::parse_value;
use graphjit::filetest::load;
use graphjit::ir::Function;
use graphjit::jit::{Compiler, Executable};
use graphjit::testgen::{random_function, random_inputs};
use graphjit::{interp, Tensor};

const RUNNERS: usize = 8;
const COMPILERS: usize = 2;
/// Generous for a loaded 2-core CI machine; a deadlock never finishes.
const WATCHDOG: Duration = Duration::from_secs(240);

fn runs_per_thread() -> usize {
    std::env::var("GRAPHJIT_LOAD_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000)
}

/// A program with several input sets and the interpreter's results for each.
struct Case {
    f: Function,
    inputs: Vec<Vec<Tensor>>,
    want: Vec<Vec<Tensor>>,
}

fn file_case(path: &str, func: &str, args: &[&[&str]]) -> Case {
    let src = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let m = load(&src).unwrap();
    let f = m.func(func).unwrap().clone();
    let inputs: Vec<Vec<Tensor>> = args
        .iter()
        .map(|a| {
            f.params
                .iter()
                .zip(a.iter())
                .map(|(&p, t)| parse_value(t, f.ty(p)).unwrap())
                .collect()
        })
        .collect();
    let want = inputs
        .iter()
        .map(|i| interp::interpret(&f, i).unwrap())
        .collect();
    Case { f, inputs, want }
}

fn cases() -> Vec<Case> {
    let mut cs = vec![
        file_case(
            "ir/counter.gir",
            "counter",
            &[&["0", "10"], &["-7", "3"], &["5", "1"]],
        ),
        file_case(
            "ir/gcd.gir",
            "gcd_sum",
            &[&["12", "12"], &["10", "7"], &["30", "18"]],
        ),
        file_case(
            "ir/decay.gir",
            "decay",
            &[&["rand(3):f32[1024]"], &["ones:f32[1024]"]],
        ),
        file_case(
            "ir/collatz.gir",
            "collatz",
            &[&["[1, 2, 3, 4, 5, 6, 7, 27]"]],
        ),
    ];
    // Random programs with tensors, reductions and nested control flow.
    for seed in [11, 12, 13, 14] {
        let f = random_function(seed);
        let inputs: Vec<Vec<Tensor>> = (0..2).map(|k| random_inputs(&f, seed * 10 + k)).collect();
        let want = inputs
            .iter()
            .map(|i| interp::interpret(&f, i).unwrap())
            .collect();
        cs.push(Case { f, inputs, want });
    }
    cs
}

#[test]
fn eight_threads_run_while_others_compile_into_the_same_cache() {
    let compiler = Arc::new(Compiler::default());
    let cases = Arc::new(cases());
    let exes: Arc<Vec<Arc<Executable>>> = Arc::new(
        cases
            .iter()
            .map(|c| compiler.compile(&c.f).unwrap())
            .collect(),
    );
    let runs = runs_per_thread();
    let (done, finished) = mpsc::channel::<Result<String, String>>();
    let mut handles = Vec::new();
    for t in 0..RUNNERS {
        let (cases, exes, done) = (Arc::clone(&cases), Arc::clone(&exes), done.clone());
        handles.push(std::thread::spawn(move || {
            let r = (|| {
                for k in 0..runs {
                    let ci = (t + k) % cases.len();
                    let case = &cases[ci];
                    let ii = (t * 7 + k) % case.inputs.len();
                    let got = if k % 2 == 0 {
                        exes[ci].run(&case.inputs[ii]).map_err(|e| e.to_string())?
                    } else {
                        let mut outs: Vec<Tensor> =
                            exes[ci].result_types().iter().map(Tensor::zeros).collect();
                        exes[ci]
                            .run_into(&case.inputs[ii], &mut outs)
                            .map_err(|e| e.to_string())?;
                        outs
                    };
                    if got != case.want[ii] {
                        return Err(format!(
                            "runner {t}, run {k}: @{} gave a wrong result",
                            case.f.name
                        ));
                    }
                }
                Ok(format!("runner {t}: {runs} runs"))
            })();
            done.send(r).ok();
        }));
    }
    for t in 0..COMPILERS {
        let (compiler, cases, done) = (Arc::clone(&compiler), Arc::clone(&cases), done.clone());
        handles.push(std::thread::spawn(move || {
            let r = (|| {
                let mut n = 0;
                for k in 0..40u64 {
                    // New functions (misses) and the runners' functions (hits), interleaved.
                    let seed = 1000 + t as u64 * 1000 + k;
                    let f = random_function(seed);
                    let exe = compiler.compile(&f).map_err(|e| e.to_string())?;
                    let inputs = random_inputs(&f, seed);
                    let want = interp::interpret(&f, &inputs).map_err(|e| e.to_string())?;
                    if exe.run(&inputs).map_err(|e| e.to_string())? != want {
                        return Err(format!("compiler {t}: seed {seed} gave a wrong result"));
                    }
                    let c = &cases[k as usize % cases.len()];
                    compiler.compile(&c.f).map_err(|e| e.to_string())?;
                    n += 2;
                }
                Ok(format!("compiler {t}: {n} compilations"))
            })();
            done.send(r).ok();
        }));
    }
    drop(done);
    for _ in 0..RUNNERS + COMPILERS {
        match finished.recv_timeout(WATCHDOG) {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("{e}"),
            Err(e) => panic!("a thread did not finish within {WATCHDOG:?} (deadlock?): {e}"),
        }
    }
    for h in handles {
        h.join().expect("no thread panicked");
    }
    let stats = compiler.stats();
    // Every runner function was compiled once, however often it was requested.
    let distinct = cases.len() as u64 + 80;
    assert!(stats.compilations <= distinct, "{stats:?}");
    assert!(stats.hits >= 80, "{stats:?}");
}

#[test]
fn an_executable_is_freed_when_its_last_user_drops_it() {
    let case = file_case("ir/gcd.gir", "gcd_sum", &[&["12", "12"]]);
    let compiler = Compiler::default();
    let exe = compiler.compile(&case.f).unwrap();
    let weak: Weak<Executable> = Arc::downgrade(&exe);
    // Users on other threads hold the executable for a while.
    let users: Vec<_> = (0..4)
        .map(|_| {
            let exe = Arc::clone(&exe);
            let (inputs, want) = (case.inputs[0].clone(), case.want[0].clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    assert_eq!(exe.run(&inputs).unwrap(), want);
                }
            })
        })
        .collect();
    drop(exe);
    for u in users {
        u.join().unwrap();
    }
    // The cache still holds it; dropping the compiler releases the last reference, and the
    // executable's `Drop` frees its code memory.
    assert!(weak.upgrade().is_some());
    drop(compiler);
    assert!(weak.upgrade().is_none());
}
