//! Fuzz target: structured random programs (the differential tests' generator, driven by
//! `arbitrary`) through verify, optimize, compile and run, compared with the interpreter bit for
//! bit, under an iteration limit and a memory limit. Nothing may panic; a run stopped by a limit
//! must stop the same way in both executors.
#![no_main]

use arbitrary::Arbitrary;
use graphjit::ir::verify::verify_function;
use graphjit::testgen::{random_function_with, random_inputs, GenConfig};
use graphjit::{interp, jit, passes, RunOptions};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    program_seed: u64,
    input_seed: u64,
    max_ops: u8,
    max_depth: u8,
    max_dim: u8,
    max_iterations: u16,
}

fuzz_target!(|c: Case| {
    let cfg = GenConfig {
        max_ops: 1 + c.max_ops as usize % 16,
        max_depth: c.max_depth as usize % 4,
        max_dim: 1 + c.max_dim as usize % 8,
    };
    let f = random_function_with(c.program_seed, cfg);
    verify_function(&f).unwrap_or_else(|e| panic!("a generated program does not verify: {e}\n{f}"));
    let inputs = random_inputs(&f, c.input_seed);
    let opts = RunOptions::new()
        .with_max_iterations(u64::from(c.max_iterations))
        .with_memory_limit(64 << 20);
    let reference = interp::interpret_with(&f, &inputs, &opts);
    let optimized = passes::optimize(&f);
    verify_function(&optimized).unwrap_or_else(|e| panic!("optimize broke the program: {e}\n{f}"));
    let exe = jit::compile(&f)
        .unwrap_or_else(|e| panic!("a verified program does not compile: {e}\n{f}"));
    let compiled = exe.run_with(&inputs, &opts);
    match (&reference, &compiled) {
        // Tensor equality is bit equality except for NaN payloads, which are unspecified
        // (GUARANTEES.md).
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the executors disagree on\n{f}"),
        // Both stopped: by the same limit (the memory limit may trip in one executor only,
        // as the two count memory differently).
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "{a} vs {b} on\n{f}"
        ),
        (Err(graphjit::Error::Run(graphjit::error::RunError::MemoryLimit { .. })), Ok(_))
        | (Ok(_), Err(graphjit::Error::Run(graphjit::error::RunError::MemoryLimit { .. }))) => {}
        (a, b) => panic!("one executor failed: {a:?} vs {b:?} on\n{f}"),
    }
});
