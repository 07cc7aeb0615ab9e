//! Fuzz target: parse → verify → interpret → compile → run on structured random programs
//! (`testgen`), some mutated in ways that keep them parseable and valid (other constants,
//! ops, shapes, loop bounds). Nothing may panic; a verified program must interpret (or stop at
//! the iteration limit) and compile; when both executors finish they agree bit for bit, and
//! so does the optimized program.
//!
//! Quick: `cargo test --test fuzz_pipeline` (`GRAPHJIT_FUZZ_CASES`, default 150).
//! Long: `GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_pipeline -- --ignored --nocapture`.

mod fuzz_support;

use fuzz_support::{drive, long, mutate_n, quick, seed, Rng};
use graphjit::error::{Error, RunError};
use graphjit::ir::parse::parse_function;
use graphjit::ir::verify::verify_function;
use graphjit::ir::Function;
use graphjit::testgen::{random_function_with, random_inputs, GenConfig};
use graphjit::{interp, jit, passes, RunOptions, Tensor};

/// Back-edges a fuzzed run may take: mutated loop bounds can make loops (nearly) endless.
const MAX_ITERATIONS: u64 = 20_000;

/// Values larger than this are legal but make a case slow; the harness skips such programs.
const MAX_FUZZ_ELEMENTS: usize = 1 << 16;

fn small_enough(f: &Function) -> bool {
    f.values.iter().all(|v| {
        v.ty.checked_num_elements()
            .is_some_and(|n| n <= MAX_FUZZ_ELEMENTS)
    })
}

fn show(ts: &[Tensor]) -> String {
    ts.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A random program, mutated (while it still parses and verifies) in about half the cases.
fn program(rng: &mut Rng) -> Function {
    let cfg = GenConfig {
        max_ops: 1 + rng.below(12),
        max_depth: rng.below(4),
        max_dim: 1 + rng.below(6),
    };
    let f = random_function_with(rng.next_u64(), cfg);
    if rng.chance(50) {
        let text = f.to_string();
        for _ in 0..30 {
            let k = 1 + rng.below(3);
            let m = mutate_n(rng, &text, k);
            if let Ok(g) = parse_function(&m) {
                if verify_function(&g).is_ok() && small_enough(&g) {
                    return g;
                }
            }
        }
    }
    f
}

fn case(s: u64) -> Result<(), String> {
    let mut rng = Rng::new(s);
    let f = program(&mut rng);
    verify_function(&f).map_err(|e| format!("the program does not verify: {e}\n{f}"))?;
    let inputs = random_inputs(&f, rng.next_u64());
    let opts = RunOptions::new().with_max_iterations(MAX_ITERATIONS);
    let want = match interp::interpret_with(&f, &inputs, &opts) {
        Ok(r) => Some(r),
        Err(Error::Run(RunError::IterationLimit { .. })) => None,
        Err(e) => {
            return Err(format!(
                "the interpreter failed on a valid program: {e}\n{f}"
            ))
        }
    };
    let exe = jit::compile(&f).map_err(|e| format!("a valid program did not compile: {e}\n{f}"))?;
    // The compiled run stops exactly where the interpreter did: the same back-edge count.
    let got = match exe.run_with(&inputs, &opts) {
        Ok(r) => r,
        Err(Error::Run(RunError::IterationLimit { .. })) if want.is_none() => return Ok(()),
        Err(e) => return Err(format!("the compiled run failed: {e}\n{f}")),
    };
    let Some(want) = want else {
        return Err(format!(
            "the compiled run finished but the interpreted one hit the limit\n{f}"
        ));
    };
    if got != want {
        return Err(format!(
            "interpreted and compiled results differ\ninputs: {}\ninterpreted: {}\ncompiled:    {}\n{f}",
            show(&inputs),
            show(&want),
            show(&got)
        ));
    }
    // The executable stays usable: a second run gives the same.
    let again = exe.run(&inputs).map_err(|e| format!("second run: {e}"))?;
    let mut outs: Vec<Tensor> = exe.result_types().iter().map(Tensor::zeros).collect();
    exe.run_into_with(&inputs, &mut outs, &opts)
        .map_err(|e| format!("run_into_with: {e}"))?;
    if outs != want {
        return Err(format!("run_into_with differs\n{f}"));
    }
    if again != want {
        return Err(format!("a second compiled run differs\n{f}"));
    }
    let opt = passes::optimize(&f);
    verify_function(&opt).map_err(|e| format!("optimized program does not verify: {e}\n{opt}"))?;
    let opt_out = interp::interpret_with(&opt, &inputs, &opts)
        .map_err(|e| format!("interpreting the optimized program failed: {e}\n{opt}"))?;
    if opt_out != want {
        return Err(format!(
            "optimization changed the results\n{f}\noptimized:\n{opt}"
        ));
    }
    Ok(())
}

#[test]
fn pipeline_survives_random_and_mutated_programs() {
    drive("fuzz_pipeline", quick(150), seed(2), case);
}

#[test]
#[ignore = "long fuzzing run: GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_pipeline -- --ignored"]
fn pipeline_fuzz_long() {
    drive(
        "fuzz_pipeline",
        long(),
        seed(fuzz_support::clock_seed()),
        case,
    );
}

/// Finding of `fuzz_pipeline` (seed 1795783760104147961, case 24799): compiled code reduced an
/// empty broadcast of a scalar to 0.0 instead of the reduction's identity (-inf for `max`).
/// Fixed on main by 03cb272 (found there by the differential test as well).
#[test]
fn compiled_reduce_of_an_empty_broadcast_gives_the_identity() {
    let f = parse_function(
        "func @f(%x: f64) -> f64[2] {
  %b = broadcast %x dims=[] : f64[2,0]
  %r = reduce.max %b axes=[1] : f64[2]
  return %r
}
",
    )
    .unwrap();
    let x = [Tensor::scalar(13.5f64)];
    let want = interp::interpret(&f, &x).unwrap();
    assert_eq!(
        want,
        [Tensor::full(graphjit::Scalar::F64(f64::NEG_INFINITY), [2])]
    );
    assert_eq!(jit::compile(&f).unwrap().run(&x).unwrap(), want);
}
