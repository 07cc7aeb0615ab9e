//! Tests of the JIT's memory plan and code shape on the workload programs of `ir/`: fused
//! groups need no scratch, loops use vectors, loop-carried tensors are computed in place.

mod common;

use common::load_ir;
use graphjit::jit::{compile_with, JitOptions};

#[test]
fn fused_elementwise_needs_no_scratch_and_uses_vectors() {
    let f = load_ir("poly.gir", "poly");
    let plain = compile_with(&f, &JitOptions::plain()).unwrap();
    let fast = compile_with(&f, &JitOptions::default()).unwrap();
    // Plain: four splat fills and six intermediate buffers of 4 MiB each.
    assert_eq!(plain.scratch_bytes(), 10 * 4 * 1048576);
    assert_eq!(fast.scratch_bytes(), 0);
    assert!(fast.clif().contains("f32x4"), "{}", fast.clif());
    // The loop's one call runs its blocks on the thread pool (the outlined body, `u0:31`,
    // is dumped after the entry function); nothing copies the result.
    let calls: Vec<&str> = fast
        .clif()
        .lines()
        .filter(|l| l.contains("call "))
        .collect();
    assert_eq!(calls.len(), 1, "{}", fast.clif());
    assert!(fast.clif().contains("func_addr"), "{}", fast.clif());
}

#[test]
fn fused_reduction_needs_no_scratch() {
    let f = load_ir("sumsq.gir", "sumsq");
    let fast = compile_with(&f, &JitOptions::default()).unwrap();
    // Only the partial results of its 64 blocks of 16384 elements, 8 bytes each.
    assert_eq!(fast.scratch_bytes(), 64 * 8);
    assert!(fast.clif().contains("fmul.f32x4") || fast.clif().contains("f32x4"));
}

#[test]
fn loop_carried_tensor_is_computed_into_the_other_buffer() {
    let f = load_ir("decay.gir", "decay");
    // Without vectors the loop is not interchanged (`jit/lower/interchange.rs`): only the two
    // buffers of the carried value; the body's result is written in place, so the only
    // copies left are the initial one and the final one into the output.
    let scalar = JitOptions {
        simd: false,
        ..JitOptions::default()
    };
    let fused = compile_with(&f, &scalar).unwrap();
    assert_eq!(fused.scratch_bytes(), 2 * 4096);
    let copies = fused.clif().matches("call ").count();
    assert_eq!(copies, 2, "{}", fused.clif());
    // Interchanged, the groups read the input and write one buffer, beside at most one
    // padded group of at most 16 vectors: no second buffer of the carried value.
    let fast = compile_with(&f, &JitOptions::default()).unwrap();
    let scratch = fast.scratch_bytes();
    assert!((4096..=4096 + 16 * 16).contains(&scratch), "{scratch}");
}

#[test]
fn matmul_calls_the_gemm_routine_and_writes_the_output_in_place() {
    // Float `dot` is one call of the `matrixmultiply` routine the interpreter calls too,
    // with the output buffer itself as C: no scratch and no copy.
    let f = load_ir("matmul.gir", "matmul64");
    let fast = compile_with(&f, &JitOptions::default()).unwrap();
    assert_eq!(fast.scratch_bytes(), 0);
    assert_eq!(fast.clif().matches("call ").count(), 1, "{}", fast.clif());
    assert!(!fast.clif().contains("f32x4"), "{}", fast.clif());
    // The plain variant calls the same routine (into scratch, then copies).
    let plain = compile_with(&f, &JitOptions::plain()).unwrap();
    assert!(
        plain.clif().matches("call ").count() >= 1,
        "{}",
        plain.clif()
    );
    assert!(!plain.clif().contains("f32x4"));
}
