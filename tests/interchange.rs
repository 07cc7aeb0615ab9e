//! `while` loops that compiled code interchanges with their element loop (each group of
//! elements runs every iteration in registers; `jit/lower/interchange.rs`): every shape of
//! group and tail, every vector width, several carried tensors that swap, scalars read by
//! tensor ops, `select` on a scalar, zero trips, splat and in-body constants, `exp`/`tanh`,
//! and the checked variant under limits. Each program runs in the interpreter and in every
//! compile variant (only `fused-simd` interchanges) and must give the same bits; where a
//! plain Rust loop computes the same thing, it must agree too.

mod common;

use common::{check_both, XorShift};
use graphjit::ir::parse::parse_module;
use graphjit::jit::{compile, compile_with, JitOptions};
use graphjit::{Error, RunOptions, Tensor};

/// Sizes around every group and tail boundary: one vector, part of one, a group of eight
/// vectors (32 `f32`), just under and over it, and two larger tails.
const SIZES: [usize; 11] = [1, 3, 4, 5, 8, 31, 32, 33, 100, 1024, 1027];

/// Runs the first function of `src` in the interpreter and every compile variant.
fn both(src: &str, inputs: &[Tensor]) -> Vec<Tensor> {
    let m = parse_module(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    check_both(&m.funcs[0], inputs, src)
}

fn edgy(n: usize, seed: u64) -> Vec<f32> {
    let mut r = XorShift(seed);
    (0..n).map(|_| r.edgy_f32(16)).collect()
}

/// Asserts that the `f32` tensor `got` holds `want`'s bits (any NaN for a NaN: which NaN an
/// operation returns is unspecified).
fn assert_same_f32(got: &Tensor, want: &[f32], what: &str) {
    let got = got.as_slice::<f32>().expect("an f32 tensor");
    let same = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
    assert!(same, "{what}: {got:?} != {want:?}");
}

/// W5's loop with the trip count a parameter: `v = v*0.5 + 1` `steps` times.
fn decay_src(n: usize) -> String {
    format!(
        "func @d(%v0: f32[{n}], %steps: i32) -> (i32, f32[{n}]) {{
  %zero = const 0 : i32
  %one = const 1 : i32
  %half = const 0.5 : f32[{n}]
  %c = const 1 : f32[{n}]
  %k, %v = while (%i = %zero, %x = %v0) : i32, f32[{n}] {{
    %more = lt %i, %steps : bool
    yield %more
  }} do {{
    %h = mul %x, %half : f32[{n}]
    %x2 = add %h, %c : f32[{n}]
    %i2 = add %i, %one : i32
    yield %i2, %x2
  }}
  return %k, %v
}}"
    )
}

#[test]
fn decay_matches_a_plain_loop_at_every_size_and_trip_count() {
    for n in SIZES {
        let src = decay_src(n);
        for steps in [0, 1, 2, 7, 100, -3] {
            let x = edgy(n, n as u64 * 31 + 7);
            let inputs = [
                Tensor::from_vec(x.clone(), vec![n]).unwrap(),
                Tensor::scalar(steps),
            ];
            let got = both(&src, &inputs);
            let mut want = x;
            for _ in 0..steps.max(0) {
                for v in &mut want {
                    *v = *v * 0.5 + 1.0;
                }
            }
            assert_eq!(got[0], Tensor::scalar(steps.max(0)), "n={n} steps={steps}");
            assert_same_f32(&got[1], &want, &format!("n={n} steps={steps}"));
        }
    }
}

/// `x = x*c - x + d` on every vector width (2, 4, 8 and 16 lanes), with integer overflow
/// wrapping and `i64`/`i8` multiplies that have no vector instruction (split into lanes).
#[test]
fn integer_and_f64_loops_agree_with_the_interpreter() {
    for (dt, c, d) in [
        ("f64", "1.5", "0.25"),
        ("i32", "7", "-3"),
        ("i64", "-5", "11"),
        ("u8", "3", "1"),
        ("i16", "9", "-2"),
    ] {
        for n in [1, 2, 3, 17, 64, 129] {
            let src = format!(
                "func @p(%x0: {dt}[{n}]) -> {dt}[{n}] {{
  %zero = const 0 : i32
  %one = const 1 : i32
  %steps = const 9 : i32
  %c = const {c} : {dt}[{n}]
  %d = const {d} : {dt}[{n}]
  %k, %x = while (%i = %zero, %y = %x0) : i32, {dt}[{n}] {{
    %more = lt %i, %steps : bool
    yield %more
  }} do {{
    %a = mul %y, %c : {dt}[{n}]
    %b = sub %a, %y : {dt}[{n}]
    %y2 = add %b, %d : {dt}[{n}]
    %i2 = add %i, %one : i32
    yield %i2, %y2
  }}
  return %x
}}"
            );
            let x = common::edge_values(graphjit::DType::from_name(dt).unwrap(), n, n);
            both(&src, &[x]);
        }
    }
}

/// Two carried tensors that trade places every iteration (`(a, b) -> (b, a + b)`), a third
/// carried unchanged, and the counter read by the body as a broadcast `f32`.
#[test]
fn carried_tensors_swap_and_read_the_counter() {
    for n in [1, 4, 6, 16, 50] {
        let src = format!(
            "func @f(%a0: f32[{n}], %b0: f32[{n}], %c0: f32[{n}]) -> (f32[{n}], f32[{n}], f32[{n}]) {{
  %zero = const 0 : i32
  %one = const 1 : i32
  %steps = const 12 : i32
  %ka, %a, %b, %c = while (%i = %zero, %x = %a0, %y = %b0, %z = %c0) : i32, f32[{n}], f32[{n}], f32[{n}] {{
    %more = lt %i, %steps : bool
    yield %more
  }} do {{
    %s = add %x, %y : f32[{n}]
    %fi = convert %i : f32
    %bi = broadcast %fi dims=[] : f32[{n}]
    %t = add %s, %bi : f32[{n}]
    %i2 = add %i, %one : i32
    yield %i2, %y, %t, %z
  }}
  return %a, %b, %c
}}"
        );
        let (a, b, c) = (edgy(n, 1), edgy(n, 2), edgy(n, 3));
        let inputs = [
            Tensor::from_vec(a.clone(), vec![n]).unwrap(),
            Tensor::from_vec(b.clone(), vec![n]).unwrap(),
            Tensor::from_vec(c.clone(), vec![n]).unwrap(),
        ];
        let got = both(&src, &inputs);
        let (mut x, mut y) = (a, b);
        for i in 0..12 {
            let t: Vec<f32> = x.iter().zip(&y).map(|(p, q)| (p + q) + i as f32).collect();
            x = y;
            y = t;
        }
        for (g, w) in got.iter().zip([x, y, c]) {
            assert_same_f32(g, &w, &format!("n={n}"));
        }
    }
}

/// A `select` on a scalar computed from the counter picks a whole vector; the loop's first
/// value is a splat constant, and a constant lives inside the body.
#[test]
fn scalar_select_splat_init_and_body_constants() {
    for n in [1, 5, 40] {
        let src = format!(
            "func @g(%steps: i32) -> f32[{n}] {{
  %zero = const 0 : i32
  %one = const 1 : i32
  %two = const 2 : i32
  %init = const 3 : f32[{n}]
  %k, %x = while (%i = %zero, %y = %init) : i32, f32[{n}] {{
    %more = lt %i, %steps : bool
    yield %more
  }} do {{
    %third = const 0.33 : f32[{n}]
    %r = rem %i, %two : i32
    %even = eq %r, %zero : bool
    %a = mul %y, %third : f32[{n}]
    %b = sub %y, %third : f32[{n}]
    %y2 = select %even, %a, %b : f32[{n}]
    %i2 = add %i, %one : i32
    yield %i2, %y2
  }}
  return %x
}}"
        );
        for steps in [0, 1, 5, 30] {
            let got = both(&src, &[Tensor::scalar(steps)]);
            let mut y = 3.0f32;
            for i in 0..steps {
                y = if i % 2 == 0 { y * 0.33 } else { y - 0.33 };
            }
            assert_eq!(got[0], Tensor::from_vec(vec![y; n], vec![n]).unwrap());
        }
    }
}

/// `exp` and `tanh` in the body (one vector per group, for their registers).
#[test]
fn transcendental_bodies_agree() {
    for n in [3, 4, 37, 256] {
        let src = format!(
            "func @t(%x0: f32[{n}]) -> f32[{n}] {{
  %zero = const 0 : i32
  %one = const 1 : i32
  %steps = const 6 : i32
  %s = const 0.75 : f32[{n}]
  %k, %x = while (%i = %zero, %y = %x0) : i32, f32[{n}] {{
    %more = lt %i, %steps : bool
    yield %more
  }} do {{
    %a = mul %y, %s : f32[{n}]
    %e = exp %a : f32[{n}]
    %t = tanh %e : f32[{n}]
    %y2 = sub %t, %a : f32[{n}]
    %i2 = add %i, %one : i32
    yield %i2, %y2
  }}
  return %x
}}"
        );
        both(&src, &[Tensor::from_vec(edgy(n, 9), vec![n]).unwrap()]);
    }
}

/// Under limits the checked variant runs (not interchanged): the same results when the
/// budget suffices, the iteration limit's error when it does not.
#[test]
fn limits_still_apply() {
    let n = 100;
    let m = parse_module(&decay_src(n)).unwrap();
    let exe = compile(&m.funcs[0]).unwrap();
    let inputs = [
        Tensor::from_vec(edgy(n, 5), vec![n]).unwrap(),
        Tensor::scalar(50i32),
    ];
    let free = exe.run(&inputs).unwrap();
    let limited = exe
        .run_with(&inputs, &RunOptions::default().with_max_iterations(1000))
        .unwrap();
    assert_eq!(free, limited);
    let err = exe
        .run_with(&inputs, &RunOptions::default().with_max_iterations(10))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Run(graphjit::error::RunError::IterationLimit { .. })
        ),
        "{err}"
    );
}

/// The interchange happened: each of the two copies of W5's loop in the function of groups
/// (whole groups, and the padded last group) multiplies the same number of vectors per
/// iteration, at least eight (one multiply in flight per cycle of latency), where the
/// ordinary loop multiplies two.
#[test]
fn decay_is_interchanged_into_groups_of_many_vectors() {
    let m = parse_module(&decay_src(1024)).unwrap();
    let simd = compile_with(&m.funcs[0], &JitOptions::default()).unwrap();
    let fmuls = simd.clif().matches("fmul").count();
    assert!(
        fmuls >= 16 && fmuls.is_multiple_of(2),
        "{fmuls}: {}",
        simd.clif()
    );
    let scalar = compile_with(
        &m.funcs[0],
        &JitOptions {
            simd: false,
            ..JitOptions::default()
        },
    )
    .unwrap();
    assert_eq!(scalar.clif().matches("fmul").count(), 1);
}

/// A loop over enough elements for the thread pool: the groups run in blocks on 1, 2 and 3
/// threads with the same bits as the interpreter and a plain loop, a tail group included.
#[test]
fn large_loops_run_their_groups_on_the_pool_with_the_same_bits() {
    let n = 8 * 16384 + 37;
    let m = parse_module(&decay_src(n)).unwrap();
    let f = &m.funcs[0];
    let x = edgy(n, 77);
    let inputs = [
        Tensor::from_vec(x.clone(), vec![n]).unwrap(),
        Tensor::scalar(25i32),
    ];
    let want = check_both(f, &inputs, "large decay");
    let mut plain = x;
    for _ in 0..25 {
        for v in &mut plain {
            *v = *v * 0.5 + 1.0;
        }
    }
    assert_same_f32(&want[1], &plain, "the interpreter against a plain loop");
    let exe = compile(f).unwrap();
    // The groups' loop is outlined into a function of its own, which the pool calls.
    assert!(exe.clif().contains("function u1:"), "{}", exe.clif());
    for threads in [1, 2, 3] {
        let opts = RunOptions::default().with_threads(threads);
        assert_eq!(
            exe.run_with(&inputs, &opts).unwrap(),
            want,
            "{threads} threads"
        );
    }
}

/// Few elements but many trips: the trip count, found at run time, sends the groups to the
/// pool (one group per block) or keeps them on the calling thread; either way, at any
/// thread count, the bits are the interpreter's.
#[test]
fn many_trips_over_few_elements_use_the_pool_with_the_same_bits() {
    let n = 1000;
    let m = parse_module(&decay_src(n)).unwrap();
    let f = &m.funcs[0];
    let exe = compile(f).unwrap();
    // Compiled with both paths: the pool's outlined groups and the inline loop.
    assert!(exe.clif().contains("function u1:"), "{}", exe.clif());
    for steps in [3, 300, 2000] {
        let inputs = [
            Tensor::from_vec(edgy(n, steps as u64), vec![n]).unwrap(),
            Tensor::scalar(steps),
        ];
        let want = check_both(f, &inputs, "decay with many trips");
        for threads in [1, 2, 3] {
            let opts = RunOptions::default().with_threads(threads);
            let got = exe.run_with(&inputs, &opts).unwrap();
            assert_eq!(got, want, "{steps} steps, {threads} threads");
        }
    }
}
