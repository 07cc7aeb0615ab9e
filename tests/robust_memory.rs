//! Memory budgets: a run that needs more than `RunOptions::with_memory_limit` stops with
//! `RunError::MemoryLimit` before allocating, in both executors, and the executor runs normally
//! afterwards; the same program under a larger budget (or none) runs. Eager ops and traced
//! functions keep their limits too, and memory the system refuses is an error, not an abort.

use graphjit::error::{Error, RunError};
use graphjit::interp::Interpreter;
use graphjit::ir::parse::parse_function;
use graphjit::ir::Function;
use graphjit::jit;
use graphjit::{RunOptions, Tensor};

const MIB: usize = 1 << 20;

/// A program whose result has `n` f32 elements (`4n` bytes), built from a scalar.
fn doubled(n: usize) -> Function {
    parse_function(&format!(
        "func @doubled(%x: f32) -> f32[{n}] {{
  %b = broadcast %x dims=[] : f32[{n}]
  %y = add %b, %b : f32[{n}]
  return %y
}}
"
    ))
    .unwrap()
}

/// A loop carrying an f32[n] tensor through `%k` iterations: the loop-carried tensor lives in
/// scratch memory in compiled code, and is held by the interpreter.
fn halving(n: usize) -> Function {
    parse_function(&format!(
        "func @halving(%k: i32, %v: f32[{n}]) -> f32 {{
  %zero = const 0 : i32
  %one = const 1 : i32
  %half = const 0.5 : f32
  %i, %w = while (%j = %k, %a = %v) : i32, f32[{n}] {{
    %c = gt %j, %zero : bool
    yield %c
  }} do {{
    %h = broadcast %half dims=[] : f32[{n}]
    %b = mul %a, %h : f32[{n}]
    %j2 = sub %j, %one : i32
    yield %j2, %b
  }}
  %s = reduce.sum %w axes=[0] : f32
  return %s
}}
"
    ))
    .unwrap()
}

fn is_memory_limit(r: Result<Vec<Tensor>, Error>, limit: usize) -> bool {
    match r {
        Err(Error::Run(RunError::MemoryLimit {
            needed, limit: l, ..
        })) => l == limit && needed > limit,
        _ => false,
    }
}

#[test]
fn huge_results_are_refused_before_allocating_in_both_executors() {
    // 2^28 f32 elements: 1 GiB of result (and as much again for the broadcast in the
    // interpreter) under a 64 MiB budget. Nothing of that size is allocated: the test would
    // take seconds and a gigabyte if it were.
    let f = doubled(1 << 28);
    let opts = RunOptions::new().with_memory_limit(64 * MIB);
    let x = [Tensor::scalar(1.5f32)];
    let exe = jit::compile(&f).unwrap();
    assert!(is_memory_limit(exe.run_with(&x, &opts), 64 * MIB));
    let interp = Interpreter::new(&f).unwrap();
    assert!(is_memory_limit(interp.run_with(&x, &opts), 64 * MIB));
    let e = exe.run_with(&x, &opts).unwrap_err().to_string();
    assert!(e.contains("@doubled") && e.contains("67108864"), "{e}");
}

#[test]
fn the_same_program_runs_within_a_larger_budget_and_after_a_refusal() {
    let n = 1 << 20;
    let f = doubled(n);
    let x = [Tensor::scalar(1.5f32)];
    let small = RunOptions::new().with_memory_limit(MIB);
    let large = RunOptions::new().with_memory_limit(64 * MIB);
    let expected = Tensor::from(vec![3.0f32; n]).reshaped(vec![n]).unwrap();
    let exe = jit::compile(&f).unwrap();
    let interp = Interpreter::new(&f).unwrap();
    assert!(is_memory_limit(exe.run_with(&x, &small), MIB));
    assert!(is_memory_limit(interp.run_with(&x, &small), MIB));
    assert_eq!(exe.run_with(&x, &large).unwrap()[0], expected);
    assert_eq!(interp.run_with(&x, &large).unwrap()[0], expected);
    assert_eq!(exe.run(&x).unwrap()[0], expected);
    assert_eq!(interp.run(&x).unwrap()[0], expected);
}

#[test]
fn loop_carried_tensors_count_in_both_executors() {
    // 4 MiB carried through the loop, under a 1 MiB budget: the compiled code's scratch and the
    // interpreter's registers both hold it. Only a scalar is returned.
    let n = 1 << 20;
    let f = halving(n);
    let args = [Tensor::scalar(3i32), Tensor::from(vec![8.0f32; n])];
    let small = RunOptions::new().with_memory_limit(MIB);
    let exe = jit::compile(&f).unwrap();
    let interp = Interpreter::new(&f).unwrap();
    assert!(is_memory_limit(interp.run_with(&args, &small), MIB));
    assert!(exe.scratch_bytes() > MIB, "{}", exe.scratch_bytes());
    assert!(is_memory_limit(exe.run_with(&args, &small), MIB));
    let mut out = vec![Tensor::scalar(0f32)];
    let e = exe.run_into_with(&args, &mut out, &small).unwrap_err();
    assert!(matches!(e, Error::Run(RunError::MemoryLimit { .. })), "{e}");
    // 8 * 0.5^3 = 1 per element, summed exactly.
    let expected = Tensor::scalar(n as f32);
    assert_eq!(exe.run(&args).unwrap()[0], expected);
    assert_eq!(interp.run(&args).unwrap()[0], expected);
}

#[test]
fn eager_ops_refuse_results_over_the_eager_limit() {
    use graphjit::limits::with_eager_memory_limit;
    let x = Tensor::from_vec(vec![1.5f32; 1024], vec![1024]).unwrap();
    // Each result is 4 KiB.
    let over = with_eager_memory_limit(4095, || &x * 2.0);
    match over {
        Err(Error::Run(RunError::MemoryLimit { needed, limit, .. })) => {
            assert_eq!((needed, limit), (4096, 4095))
        }
        other => panic!("expected a memory-limit error, got {other:?}"),
    }
    let within = with_eager_memory_limit(4096, || &x * 2.0).unwrap();
    assert_eq!(within.as_slice::<f32>().unwrap(), &[3.0f32; 1024][..]);
    // Scopes nest and are restored: outside every scope nothing is refused.
    let nested = with_eager_memory_limit(1 << 20, || {
        let inner = with_eager_memory_limit(16, || x.reduce(graphjit::ops::ReduceOp::Sum, &[0]));
        (inner.is_ok(), (&x + 1.0).is_ok())
    });
    assert_eq!(nested, (true, true), "a 4-byte sum fits 16 bytes");
    let refused_inside =
        with_eager_memory_limit(1 << 20, || with_eager_memory_limit(16, || &x + 1.0));
    assert!(refused_inside.is_err());
    assert!((&x + 1.0).is_ok());
}

#[test]
fn traced_functions_apply_their_memory_limit_to_eager_and_compiled_calls() {
    let double = |xs: &[graphjit::Traced]| Ok(vec![(&xs[0] * 2.0)?]);
    let x = Tensor::from_vec(vec![1.0f32; 1024], vec![1024]).unwrap();
    // The first call traces, running the ops eagerly: the 4 KiB result is over 1 KiB.
    let tight = graphjit::function(double).with_options(RunOptions::new().with_memory_limit(1024));
    assert!(is_memory_limit(tight.call(std::slice::from_ref(&x)), 1024));
    // Within the limit, the trace runs and the second call is compiled, with the same limit.
    let loose = graphjit::function(double).with_options(RunOptions::new().with_memory_limit(MIB));
    let first = loose.call(std::slice::from_ref(&x)).unwrap();
    let second = loose.call(std::slice::from_ref(&x)).unwrap();
    assert_eq!(first, second);
    assert_eq!(loose.stats().cache_hits, 1);
    assert_eq!(first[0].as_slice::<f32>().unwrap(), &[2.0f32; 1024][..]);
}

/// Runs `graphjit run` on `prog` under an address-space limit of `kib` KiB.
fn run_cli_with_address_limit(prog: &str, kib: u64, extra: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("graphjit-oom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.gir");
    std::fs::write(&file, prog).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_graphjit"))
        .arg("run")
        .arg(&file)
        .arg("1.5")
        .args(extra)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn memory_the_system_refuses_is_an_error_not_an_abort() {
    // A 1 GiB result (2^28 f32) under a 768 MiB address-space limit: the allocation must fail
    // as an error in both executors, before any kernel touches it.
    let n = 1usize << 28;
    let prog = format!(
        "func @big(%x: f32) -> f32[{n}] {{\n  %b = broadcast %x dims=[] : f32[{n}]\n  return %b\n}}\n"
    );
    for extra in [&[][..], &["--interp"][..]] {
        let out = run_cli_with_address_limit(&prog, 768 << 10, extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("cannot allocate 1073741824 bytes") && stderr.contains("@big"),
            "{extra:?}: {stderr}"
        );
    }
}
