//! Results do not depend on the thread count: random programs and large loops, reductions
//! around the block boundaries and `dot` give the same bits at 1, 2, 3 and 64 threads, in the
//! interpreter and compiled; reductions follow the documented blocked order (checked against
//! an implementation of it written here); and a cancelled or late run stops inside a
//! parallel region with the right error.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::variants;
use graphjit::error::{Error, RunError};
use graphjit::interp::Interpreter;
use graphjit::ir::parse::parse_function;
use graphjit::ir::Function;
use graphjit::jit::{compile_with, JitOptions};
use graphjit::parallel::BLOCK;
use graphjit::testgen::{random_function, random_function_with, random_inputs, GenConfig};
use graphjit::{Data, RunOptions, Scalar, Tensor};

const THREADS: [usize; 4] = [1, 2, 3, 64];

fn threads(n: usize) -> RunOptions {
    RunOptions::new().with_threads(n)
}

/// Runs `f` interpreted at one thread (the reference), then interpreted and compiled (every
/// variant) at every thread count of [`THREADS`], and asserts the same bits; returns the
/// reference.
fn same_bits_everywhere(f: &Function, inputs: &[Tensor], what: &str) -> Vec<Tensor> {
    let interp = Interpreter::new(f).unwrap();
    let want = interp
        .run_with(inputs, &threads(1))
        .unwrap_or_else(|e| panic!("{what} [interp]: {e}"));
    for t in THREADS {
        let got = interp.run_with(inputs, &threads(t)).unwrap();
        assert_eq!(got, want, "{what}: interpreted at {t} threads");
    }
    for (name, opts) in variants() {
        let exe = compile_with(f, &opts).unwrap_or_else(|e| panic!("{what} [{name}]: {e}"));
        for t in THREADS {
            let got = exe
                .run_with(inputs, &threads(t))
                .unwrap_or_else(|e| panic!("{what} [{name}, {t} threads]: {e}"));
            assert_eq!(got, want, "{what}: {name} at {t} threads");
            // Every element of every output is written by the run: `run` relies on it (its
            // fresh results are not zeroed), so outputs full of other bytes must end the same.
            let mut outs: Vec<Tensor> = want.iter().map(poisoned).collect();
            exe.run_into_with(inputs, &mut outs, &threads(t))
                .unwrap_or_else(|e| panic!("{what} [{name}, {t} threads, run_into]: {e}"));
            assert_eq!(
                outs, want,
                "{what}: {name} at {t} threads, into poisoned outputs"
            );
        }
    }
    want
}

/// A tensor of `t`'s type whose every byte is 0xA5 (`true` for `bool`, where 0xA5 is not a
/// value): no result of a test program has these bits by chance.
fn poisoned(t: &Tensor) -> Tensor {
    let bytes = vec![0xA5u8; t.data().as_bytes().len()];
    let data = Data::from_bytes(t.dtype(), &bytes)
        .unwrap_or_else(|| Data::splat(Scalar::Bool(true), t.data().len()));
    Tensor::new(data, t.shape().to_vec()).unwrap()
}

/// Floats with many significant bits and both signs, so that any change in the order of a
/// sum shows in its bits.
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// The documented order of `reduce.sum` over f32, written out independently: per block of
/// `BLOCK` elements sixteen lane accumulators and the fixed tree, the blocks folded from the
/// left.
fn documented_sum(xs: &[f32]) -> f32 {
    let lanes = |c: &[f32]| {
        let mut acc = [0f32; 16];
        for (i, &x) in c.iter().enumerate() {
            acc[i % 16] += x;
        }
        let s: Vec<f32> = (0..4)
            .map(|j| (acc[j] + acc[j + 4]) + (acc[j + 8] + acc[j + 12]))
            .collect();
        (s[0] + s[1]) + (s[2] + s[3])
    };
    if xs.len() <= BLOCK {
        return lanes(xs);
    }
    let mut blocks = xs.chunks(BLOCK);
    let first = lanes(blocks.next().unwrap());
    blocks.fold(first, |a, c| a + lanes(c))
}

#[test]
fn random_programs_give_the_same_bits_at_every_thread_count() {
    let cases: u64 = std::env::var("GRAPHJIT_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    for seed in 0..cases {
        let f = random_function(seed);
        let inputs = random_inputs(&f, seed);
        let interp = Interpreter::new(&f).unwrap();
        let Ok(want) = interp.run_with(&inputs, &threads(1)) else {
            continue;
        };
        let exe = compile_with(&f, &JitOptions::default()).unwrap();
        for t in [1, 2, 3] {
            let got = interp.run_with(&inputs, &threads(t)).unwrap();
            assert_eq!(got, want, "seed {seed}: interpreted at {t} threads\n{f}");
            let got = exe.run_with(&inputs, &threads(t)).unwrap();
            assert_eq!(got, want, "seed {seed}: compiled at {t} threads\n{f}");
        }
    }
    // Programs with dimensions up to 2048, whose loops reach the parallel sizes.
    let cfg = || GenConfig {
        max_dim: 2048,
        max_ops: 6,
        max_depth: 1,
    };
    let mut parallel = 0;
    for seed in 0..cases / 2 {
        let f = random_function_with(seed, cfg());
        let too_big = f.values.iter().any(|v| v.ty.num_elements() > 1 << 22);
        if too_big {
            continue;
        }
        let inputs = random_inputs(&f, seed);
        let interp = Interpreter::new(&f).unwrap();
        let Ok(want) = interp.run_with(&inputs, &threads(1)) else {
            continue;
        };
        let exe = compile_with(&f, &JitOptions::default()).unwrap();
        parallel += usize::from(
            exe.clif().contains("graphjit_parallel_for") || exe.clif().contains("func_addr"),
        );
        for t in [1, 2, 3] {
            let got = exe.run_with(&inputs, &threads(t)).unwrap();
            assert_eq!(got, want, "large seed {seed}: compiled at {t} threads\n{f}");
        }
    }
    eprintln!("{parallel} of the large programs have a parallel region");
    assert!(parallel > 0, "no large program reached a parallel region");
}

#[test]
fn sums_around_the_block_boundaries_follow_the_documented_order() {
    for n in [
        BLOCK - 1,
        BLOCK,
        BLOCK + 1,
        3 * BLOCK + 5,
        4 * BLOCK,
        4 * BLOCK + 7,
        9 * BLOCK + 1,
    ] {
        let src = format!(
            "func @s(%x: f32[{n}]) -> f32 {{
  %sq = mul %x, %x : f32[{n}]
  %s = reduce.sum %sq axes=[0] : f32
  %t = reduce.sum %x axes=[0] : f32
  %u = add %s, %t : f32
  return %u
}}"
        );
        let f = parse_function(&src).unwrap();
        let xs = noise(n, n as u64);
        let x = Tensor::from_vec(xs.clone(), vec![n]).unwrap();
        let got = same_bits_everywhere(&f, &[x], &format!("sum of {n}"));
        let sq: Vec<f32> = xs.iter().map(|v| v * v).collect();
        let want = documented_sum(&sq) + documented_sum(&xs);
        assert_eq!(
            got[0],
            Tensor::from_vec(vec![want], vec![]).unwrap(),
            "sum of {n}: not the documented order"
        );
    }
}

#[test]
fn reductions_of_every_kind_and_dtype_agree_at_every_thread_count() {
    let n = 4 * BLOCK + 7;
    for (dt, ops) in [
        ("f32", &["sum", "max", "min", "prod"][..]),
        ("f64", &["sum", "max"][..]),
        ("i32", &["sum", "max"][..]),
        ("f16", &["sum", "min"][..]),
    ] {
        for op in ops {
            // One output per row (a parallel reduction inside the loop over outputs), and a
            // fused operand.
            let src = format!(
                "func @r(%x: {dt}[2,{n}], %y: {dt}[2,{n}]) -> {dt}[2] {{
  %p = mul %x, %y : {dt}[2,{n}]
  %s = reduce.{op} %p axes=[1] : {dt}[2]
  return %s
}}"
            );
            let f = parse_function(&src).unwrap();
            let inputs = random_inputs(&f, 7);
            same_bits_everywhere(&f, &inputs, &format!("reduce.{op} {dt}"));
        }
    }
}

#[test]
fn a_reduce_region_of_one_add_is_the_blocked_sum() {
    // A region of one `add` is `init + reduce.sum(x)`, so it follows the blocked order too.
    let n = 4 * BLOCK + 7;
    let src = format!(
        "func @r(%x: f32[{n}]) -> f32 {{
  %init = const 0 : f32
  %s = reduce %x, %init dims=[0] : f32 (%a: f32, %b: f32) {{
    %c = add %a, %b : f32
    yield %c
  }}
  return %s
}}"
    );
    let f = parse_function(&src).unwrap();
    let xs = noise(n, 11);
    let x = Tensor::from_vec(xs.clone(), vec![n]).unwrap();
    let got = same_bits_everywhere(&f, &[x], "reduce region");
    let want = 0.0 + documented_sum(&xs);
    assert_eq!(got[0], Tensor::from_vec(vec![want], vec![]).unwrap());
}

#[test]
fn large_fused_loops_agree_at_every_thread_count() {
    for (dt, n) in [
        ("f32", 4 * BLOCK + 3),
        ("f32", 1 << 20),
        ("f64", 5 * BLOCK),
        ("f16", 4 * BLOCK + 9),
        ("i32", 6 * BLOCK + 1),
    ] {
        let src = format!(
            "func @p(%x: {dt}[{n}], %c: {dt}) -> {dt}[{n}] {{
  %b = broadcast %c dims=[] : {dt}[{n}]
  %a = mul %x, %x : {dt}[{n}]
  %d = add %a, %b : {dt}[{n}]
  %e = mul %d, %x : {dt}[{n}]
  %g = sub %e, %b : {dt}[{n}]
  return %g
}}"
        );
        let f = parse_function(&src).unwrap();
        let inputs = random_inputs(&f, 3);
        same_bits_everywhere(&f, &inputs, &format!("poly {dt}[{n}]"));
    }
}

#[test]
fn loop_nests_split_by_rows_agree_at_every_thread_count() {
    // Broadcast rows and columns and a transposed operand keep the loop two-dimensional; its
    // blocks are whole rows (16 rows of 1000, 234 of 70, one of 100000, 32 of 512).
    for (rows, cols) in [(300, 1000), (1000, 70), (5, 100_000), (512, 512)] {
        let src = format!(
            "func @b(%x: f32[{rows},{cols}], %r: f32[{cols}], %c: f32[{rows}], %y: f32[{cols},{rows}]) -> f32[{rows},{cols}] {{
  %br = broadcast %r dims=[1] : f32[{rows},{cols}]
  %bc = broadcast %c dims=[0] : f32[{rows},{cols}]
  %yt = transpose %y perm=[1,0] : f32[{rows},{cols}]
  %a = mul %x, %br : f32[{rows},{cols}]
  %b = add %a, %bc : f32[{rows},{cols}]
  %d = sub %b, %yt : f32[{rows},{cols}]
  return %d
}}"
        );
        let f = parse_function(&src).unwrap();
        let exe = compile_with(&f, &JitOptions::default()).unwrap();
        assert!(
            exe.clif().contains("func_addr"),
            "[{rows},{cols}] is not parallel"
        );
        let inputs = random_inputs(&f, 9);
        same_bits_everywhere(&f, &inputs, &format!("rows of [{rows},{cols}]"));
    }
}

#[test]
fn dot_rows_agree_at_every_thread_count() {
    let src = "func @mm(%a: f32[300,200], %b: f32[200,100]) -> f32[300,100] {
  %c = dot %a, %b : f32[300,100]
  return %c
}";
    let f = parse_function(src).unwrap();
    let a = Tensor::from_vec(noise(300 * 200, 1), vec![300, 200]).unwrap();
    let b = Tensor::from_vec(noise(200 * 100, 2), vec![200, 100]).unwrap();
    same_bits_everywhere(&f, &[a, b], "dot 300x200x100");
}

#[test]
fn dot_with_odd_sizes_agrees_at_1_2_3_7_threads() {
    // 389 rows cut into blocks of 128, 128, 128 and 5; neither k nor n is a multiple of a
    // vector or a kernel tile. Interpreted at one thread is the reference.
    for dt in ["f32", "f64"] {
        let src = format!(
            "func @mm(%a: {dt}[389,77], %b: {dt}[77,131]) -> {dt}[389,131] {{
  %c = dot %a, %b : {dt}[389,131]
  return %c
}}"
        );
        let f = parse_function(&src).unwrap();
        let inputs = random_inputs(&f, 11);
        let want = Interpreter::new(&f)
            .unwrap()
            .run_with(&inputs, &threads(1))
            .unwrap();
        for (name, opts) in variants() {
            let exe = compile_with(&f, &opts).unwrap();
            for t in [1, 2, 3, 7] {
                let got = exe.run_with(&inputs, &threads(t)).unwrap();
                assert_eq!(got, want, "{dt} {name} at {t} threads");
                let mut outs: Vec<Tensor> = want.iter().map(poisoned).collect();
                exe.run_into_with(&inputs, &mut outs, &threads(t)).unwrap();
                assert_eq!(
                    outs, want,
                    "{dt} {name} at {t} threads, into poisoned outputs"
                );
            }
        }
    }
}

/// A straight-line program with much work in one fused loop of 2^23 elements.
fn heavy() -> (Function, Vec<Tensor>) {
    let n = 1 << 23;
    let mut body = String::new();
    let mut prev = "%x".to_string();
    for i in 0..12 {
        body.push_str(&format!("  %t{i} = tanh {prev} : f32[{n}]\n"));
        prev = format!("%t{i}");
    }
    let src = format!("func @heavy(%x: f32[{n}]) -> f32[{n}] {{\n{body}  return {prev}\n}}");
    let f = parse_function(&src).unwrap();
    let x = Tensor::from_vec(noise(n, 5), vec![n]).unwrap();
    (f, vec![x])
}

#[test]
fn a_cancelled_or_late_run_stops_inside_a_parallel_region() {
    let (f, inputs) = heavy();
    let exe = compile_with(&f, &JitOptions::default()).unwrap();
    let is_cancelled =
        |r: Result<Vec<Tensor>, Error>| matches!(r, Err(Error::Run(RunError::Cancelled { .. })));
    // A flag set before the run: no block runs.
    for t in [1, 2, 3] {
        let flag = Arc::new(AtomicBool::new(true));
        let opts = threads(t).with_cancel_flag(flag);
        assert!(is_cancelled(exe.run_with(&inputs, &opts)), "{t} threads");
    }
    // A deadline already past.
    let opts = threads(2).with_deadline(Instant::now());
    let r = exe.run_with(&inputs, &opts);
    assert!(
        matches!(r, Err(Error::Run(RunError::DeadlineExceeded { .. }))),
        "{r:?}"
    );
    // A flag set by another thread while the loop runs: the run stops long before the time
    // the whole loop takes.
    let start = Instant::now();
    exe.run_with(&inputs, &threads(2)).unwrap();
    let full = start.elapsed();
    let flag = Arc::new(AtomicBool::new(false));
    let setter = {
        let flag = Arc::clone(&flag);
        let wait = full / 10;
        std::thread::spawn(move || {
            std::thread::sleep(wait);
            flag.store(true, Ordering::Relaxed);
        })
    };
    let start = Instant::now();
    let r = exe.run_with(&inputs, &threads(2).with_cancel_flag(flag));
    let stopped_after = start.elapsed();
    setter.join().unwrap();
    assert!(is_cancelled(r), "the run was not cancelled");
    assert!(
        stopped_after < full / 2 + Duration::from_millis(5),
        "stopped after {stopped_after:?}, the whole run takes {full:?}"
    );
    // The executable works normally afterwards.
    let again = exe.run_with(&inputs, &threads(3)).unwrap();
    assert_eq!(again, exe.run_with(&inputs, &threads(1)).unwrap());
}

#[test]
fn a_cancelled_interpreted_dot_stops_with_the_error() {
    let src = "func @mm(%a: f32[512,256], %b: f32[256,256]) -> f32[512,256] {
  %c = dot %a, %b : f32[512,256]
  return %c
}";
    let f = parse_function(src).unwrap();
    let a = Tensor::from_vec(noise(512 * 256, 1), vec![512, 256]).unwrap();
    let b = Tensor::from_vec(noise(256 * 256, 2), vec![256, 256]).unwrap();
    let interp = Interpreter::new(&f).unwrap();
    let flag = Arc::new(AtomicBool::new(true));
    let r = interp.run_with(&[a, b], &threads(2).with_cancel_flag(flag));
    assert!(
        matches!(r, Err(Error::Run(RunError::Cancelled { .. }))),
        "{r:?}"
    );
}
