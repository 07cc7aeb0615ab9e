//! Functions above `jit::HUGE_FUNCTION` instructions compile for compile time (no unrolled
//! fused loops, no e-graph optimizer): their results keep the interpreter's bits, and the
//! cheaper code is really what gets emitted.

mod common;

use common::{both_bits, XorShift};
use graphjit::jit::{compile, HUGE_FUNCTION};
use graphjit::{Data, Tensor};

/// A chain of `ops` elementwise ops over `f32[n]` that keeps values finite and rounding at
/// every step: `x*0.75 + 0.3`, and with `tanh`, a `tanh` as every seventh op so the sequence
/// does not settle at the fixed point.
fn chain(ops: usize, n: usize, tanh: bool) -> String {
    let t = format!("f32[{n}]");
    let mut s = format!("func @chain(%x: {t}) -> {t} {{\n");
    s += &format!("  %a = const 0.75 : {t}\n  %c = const 0.3 : {t}\n");
    let mut prev = "%x".to_string();
    for i in 0..ops {
        let line = match i % 7 {
            6 if tanh => format!("  %v{i} = tanh {prev} : {t}\n"),
            k if k % 2 == 0 && k != 6 => format!("  %v{i} = mul {prev}, %a : {t}\n"),
            _ => format!("  %v{i} = add {prev}, %c : {t}\n"),
        };
        s += &line;
        prev = format!("%v{i}");
    }
    s += &format!("  return {prev}\n}}\n");
    s
}

fn input(n: usize, seed: u64) -> Tensor {
    let mut g = XorShift(seed);
    let xs: Vec<f32> = (0..n).map(|_| g.edgy_f32(40)).collect();
    Tensor::new(Data::F32(xs.into()), vec![n]).expect("a vector")
}

/// How many `fmul`s the Cranelift IR of `src` has.
fn vector_fmuls(src: &str) -> usize {
    let m = graphjit::ir::parse::parse_module(src).expect("parses");
    let exe = compile(&m.funcs[0]).expect("compiles");
    exe.clif().lines().filter(|l| l.contains("= fmul")).count()
}

#[test]
fn a_huge_chain_keeps_the_interpreters_bits() {
    // 37 elements: a vector loop, a whole vector after it and three single elements, in the
    // huge form; the small chain is the same program below the threshold.
    for (ops, seed) in [(HUGE_FUNCTION + 300, 7), (300, 8)] {
        let src = chain(ops, 37, true);
        let got = both_bits(&src, &[input(37, seed)]);
        let Data::F32(v) = got[0].data() else {
            panic!("an f32 result")
        };
        assert!(
            v.iter().any(|x| x.is_finite() && *x != 0.0),
            "the chain computes something: {v:?}"
        );
    }
}

#[test]
fn a_huge_chain_is_not_unrolled_and_a_small_one_is() {
    // Without `tanh`, positions 0, 2 and 4 of every 7 ops are multiplications (6 is an
    // addition); per fused loop the vector body holds one copy of each op (huge) or two
    // (small), and 64 elements leave no remainder to emit.
    let n = 64;
    let huge_ops = HUGE_FUNCTION + 700;
    let muls = |ops: usize| (0..ops).filter(|i| matches!(i % 7, 0 | 2 | 4)).count();
    assert_eq!(vector_fmuls(&chain(huge_ops, n, false)), muls(huge_ops));
    assert_eq!(vector_fmuls(&chain(700, n, false)), 2 * muls(700));
}
