//! A `while` in a function above `jit::HUGE_FUNCTION` instructions: the compiled entry keeps
//! the caller's outputs pointer in a stack slot across the loop (for compile time), and its
//! results, written after the loop, keep the interpreter's bits in both entry variants.

mod common;

use common::{both_bits, XorShift};
use graphjit::ir::parse::parse_module;
use graphjit::jit::{compile, HUGE_FUNCTION};
use graphjit::{Data, RunOptions, Tensor};

/// `ops` alternating `x*0.75` and `x+0.3` over `f32[n]` inside a `while` of `%k` iterations.
/// Three results: the loop's tensor, the trip count, and a tensor computed after the loop
/// from a value defined before it.
fn while_chain(ops: usize, n: usize) -> String {
    let t = format!("f32[{n}]");
    let mut s = format!("func @chain(%x: {t}, %k: i32) -> ({t}, i32, {t}) {{\n");
    s += &format!("  %a = const 0.75 : {t}\n  %c = const 0.3 : {t}\n");
    s += "  %zero = const 0 : i32\n  %one = const 1 : i32\n";
    s += &format!("  %before = mul %x, %a : {t}\n");
    s += &format!("  %i, %y = while (%j = %zero, %v = %x) : i32, {t} {{\n");
    s += "    %more = lt %j, %k : bool\n    yield %more\n  } do {\n";
    let mut prev = "%v".to_string();
    for i in 0..ops {
        let op = if i % 2 == 0 { "mul" } else { "add" };
        let arg = if i % 2 == 0 { "%a" } else { "%c" };
        s += &format!("    %v{i} = {op} {prev}, {arg} : {t}\n");
        prev = format!("%v{i}");
    }
    s += &format!("    %j2 = add %j, %one : i32\n    yield %j2, {prev}\n  }}\n");
    s += &format!("  %after = add %before, %y : {t}\n");
    s += "  return %y, %i, %after\n}\n";
    s
}

fn inputs(n: usize, k: i32, seed: u64) -> Vec<Tensor> {
    let mut g = XorShift(seed);
    let xs: Vec<f32> = (0..n).map(|_| g.edgy_f32(40)).collect();
    vec![
        Tensor::new(Data::F32(xs.into()), vec![n]).expect("a vector"),
        Tensor::scalar(k),
    ]
}

#[test]
fn a_huge_loop_keeps_the_interpreters_bits() {
    // Above the threshold (outputs pointer in a stack slot) and below it (in a register);
    // no iteration, one, and three.
    for (ops, seed) in [(HUGE_FUNCTION + 300, 11), (300, 12)] {
        let src = while_chain(ops, 37);
        for k in [0, 1, 3] {
            let got = both_bits(&src, &inputs(37, k, seed));
            assert_eq!(
                got[1].data().as_bytes(),
                Tensor::scalar(k).data().as_bytes()
            );
            let Data::F32(v) = got[0].data() else {
                panic!("an f32 result")
            };
            assert!(
                v.iter().any(|x| x.is_finite() && *x != 0.0),
                "the loop computes something: {v:?}"
            );
        }
    }
}

#[test]
fn the_checked_variant_of_a_huge_loop_agrees_and_stops() {
    // A run with an iteration limit takes the limit-checked entry, compiled on that run from
    // the function the executable kept; it must agree with the unchecked one and still stop.
    let src = while_chain(HUGE_FUNCTION + 300, 16);
    let m = parse_module(&src).expect("parses");
    let exe = compile(&m.funcs[0]).expect("compiles");
    let args = inputs(16, 3, 13);
    let plain = exe.run(&args).expect("runs");
    let limited = exe
        .run_with(&args, &RunOptions::new().with_max_iterations(100))
        .expect("runs under a limit");
    for (p, l) in plain.iter().zip(&limited) {
        assert_eq!(p.data().as_bytes(), l.data().as_bytes());
    }
    let stopped = exe.run_with(&args, &RunOptions::new().with_max_iterations(2));
    assert!(stopped.is_err(), "three iterations exceed a limit of two");
}

#[test]
fn only_a_huge_loop_keeps_the_outputs_pointer_in_a_stack_slot() {
    // The outputs pointer is the entry's second parameter, `v1`; the small function's CLIF
    // stores nothing to a stack slot at all (it has no vector constants to spill).
    let clif = |ops: usize| {
        let m = parse_module(&while_chain(ops, 16)).expect("parses");
        compile(&m.funcs[0]).expect("compiles").clif().to_string()
    };
    let stores_v1 = |c: &str| c.lines().any(|l| l.contains("store") && l.contains(" v1,"));
    assert!(stores_v1(&clif(HUGE_FUNCTION + 300)));
    assert!(!stores_v1(&clif(300)));
}
