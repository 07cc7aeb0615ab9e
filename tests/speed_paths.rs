//! The fast paths of issue 15 give the general paths' results: eager ops on rank-0 tensors
//! and literals (computed on the scalars) against the same ops on one-element vectors (the
//! kernels), and interpreter runs that reuse pooled buffers against a fresh interpreter.

mod common;

use common::edge_scalars;
use graphjit::interp::Interpreter;
use graphjit::ir::parse::parse_function;
use graphjit::ops::{BinaryOp, CmpOp, UnaryOp};
use graphjit::{DType, RunOptions, Tensor};

/// `x` as a rank-0 tensor, and as a vector of one element (which the scalar path skips).
fn both(x: graphjit::Scalar) -> (Tensor, Tensor) {
    let s = Tensor::from_scalar(x);
    let v = s.clone().reshaped(vec![1]).expect("one element");
    (s, v)
}

/// Every unary, binary and comparison op on every pair of edge values of every dtype: the
/// rank-0 result (or error) equals the kernels' result on one-element vectors.
#[test]
fn eager_scalar_ops_match_the_kernels() {
    let mut checked = 0;
    for dt in DType::ALL {
        let edges = edge_scalars(dt);
        for &a in &edges {
            let (sa, va) = both(a);
            for op in UnaryOp::ALL {
                let s = sa.unary(op);
                let v = va.unary(op);
                assert_eq!(s.is_ok(), v.is_ok(), "{op:?} {a}");
                if let (Ok(s), Ok(v)) = (s, v) {
                    assert!(s.shape().is_empty());
                    assert_eq!(s.reshaped(vec![1]).expect("one"), v, "{op:?} {a}");
                    checked += 1;
                }
            }
            for &b in &edges {
                let (sb, vb) = both(b);
                for op in BinaryOp::ALL {
                    let s = sa.binary(op, &sb);
                    let v = va.binary(op, &vb);
                    assert_eq!(s.is_ok(), v.is_ok(), "{op:?} {a} {b}");
                    if let (Ok(s), Ok(v)) = (s, v) {
                        assert_eq!(s.reshaped(vec![1]).expect("one"), v, "{op:?} {a} {b}");
                        checked += 1;
                    }
                }
                for op in CmpOp::ALL {
                    let s = sa.compare(op, &sb).expect("compare");
                    let v = va.compare(op, &vb).expect("compare");
                    assert_eq!(s.reshaped(vec![1]).expect("one"), v, "{op:?} {a} {b}");
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// Literals next to rank-0 tensors follow the literal rule: they take the tensor's dtype when
/// the value fits, and are refused otherwise, as next to any other tensor.
#[test]
fn eager_scalar_literals_follow_the_literal_rule() {
    let x = Tensor::scalar(250u8);
    assert_eq!((&x + 5).expect("fits").to_scalar::<u8>().expect("u8"), 255);
    assert_eq!((&x + 10).expect("wraps").to_scalar::<u8>().expect("u8"), 4);
    assert!((&x + 300).is_err(), "300 is not a u8");
    assert!((&x + 0.5).is_err(), "0.5 is not a u8");
    assert!((2 - &x).is_ok());
    let f = Tensor::scalar(1.5f32);
    assert_eq!(
        (&f * 2).expect("exact").to_scalar::<f32>().expect("f32"),
        3.0
    );
    assert!(f.lt(&x).is_err(), "operands of two dtypes");
    let b = Tensor::scalar(true);
    assert!((&b + 1).is_err(), "no arithmetic on bool literals");
    // The README's counter.
    let (mut first, mut second) = (Tensor::scalar(0i32), Tensor::scalar(10i32));
    while first.lt(&second).expect("lt").item::<bool>().expect("bool") {
        first = (&first + 2).expect("add");
        second = (&second + 1).expect("add");
    }
    assert_eq!(first.to_scalar::<i32>().expect("i32"), 20);
    assert_eq!(second.to_scalar::<i32>().expect("i32"), 20);
}

/// An interpreter run that reuses the buffers of earlier runs (elementwise ops, broadcasts, a
/// loop-carried tensor) gives what a fresh interpreter gives, run after run, and under a
/// memory limit (which bypasses the pool).
#[test]
fn pooled_interpreter_runs_match_fresh_ones() {
    let f = parse_function(
        "func @f(%x: f32[65536], %n: i32) -> (f32[65536], bool[65536]) {
  %c = const 0.75 : f32
  %one = const 1 : i32
  %zero = const 0 : i32
  %b = broadcast %c dims=[] : f32[65536]
  %k, %y = while (%i = %zero, %v = %x) : i32, f32[65536] {
    %more = lt %i, %n : bool
    yield %more
  } do {
    %m = mul %v, %b : f32[65536]
    %e = tanh %m : f32[65536]
    %s = add %e, %x : f32[65536]
    %i2 = add %i, %one : i32
    yield %i2, %s
  }
  %p = lt %y, %x : bool[65536]
  return %y, %p
}",
    )
    .expect("parses");
    let x = Tensor::from_vec(
        (0..65536)
            .map(|i| (i as f32 - 30000.0) / 999.0)
            .collect::<Vec<f32>>(),
        vec![65536],
    )
    .expect("x");
    let reused = Interpreter::new(&f).expect("interpreter");
    for n in [3i32, 0, 5, 3] {
        let ins = [x.clone(), Tensor::scalar(n)];
        let want = Interpreter::new(&f).expect("fresh").run(&ins).expect("run");
        assert_eq!(reused.run(&ins).expect("pooled run"), want, "n = {n}");
        let limited = RunOptions::new().with_memory_limit(64 << 20);
        assert_eq!(reused.run_with(&ins, &limited).expect("limited"), want);
    }
}

/// Rank-0 tensors hold their element inline (no heap buffer), and read, compare, print,
/// reshape, convert and feed compiled code exactly as a one-element heap buffer does.
#[test]
fn inline_scalars_behave_as_heap_buffers() {
    use graphjit::tensor::Data;
    for dt in DType::ALL {
        for &x in &edge_scalars(dt) {
            let inline = Tensor::from_scalar(x);
            let heap = Tensor::new(
                Data::from_scalars(dt, &[x]).expect("one"),
                Vec::<usize>::new(),
            )
            .expect("rank 0");
            assert!(inline.data().is_inline() && !heap.data().is_inline());
            assert_eq!(inline, heap, "{x}");
            assert_eq!(inline.data().as_bytes(), heap.data().as_bytes(), "{x}");
            assert_eq!(inline.to_string(), heap.to_string());
            assert_eq!(format!("{:?}", inline.data()), format!("{:?}", heap.data()));
            assert_eq!(inline.get(0).map(|s| s.same(x)), Some(true));
            let v = inline.clone().reshaped(vec![1, 1]).expect("reshape");
            assert_eq!(v, heap.clone().reshaped(vec![1, 1]).expect("reshape"));
        }
    }
    // An eager op's rank-0 result is inline; written through `as_mut_slice` it changes.
    let mut r = (&Tensor::scalar(40i32) + 2).expect("add");
    assert!(r.data().is_inline());
    r.as_mut_slice::<i32>().expect("i32")[0] += 1;
    assert_eq!(r.to_scalar::<i32>().expect("i32"), 43);
    // Compiled code reads inline inputs in place and the interpreter boxes its scalar
    // results inline; both give the same bits.
    let f = parse_function(
        "func @f(%a: f32, %b: f32) -> (f32, bool) {
  %s = mul %a, %b : f32
  %c = lt %s, %a : bool
  return %s, %c
}",
    )
    .expect("parses");
    let ins = [Tensor::scalar(1.5f32), Tensor::scalar(-0.25f32)];
    let want = [Tensor::scalar(-0.375f32), Tensor::scalar(true)];
    let exe = graphjit::jit::compile(&f).expect("compiles");
    assert_eq!(exe.run(&ins).expect("compiled"), want);
    let interp = Interpreter::new(&f)
        .expect("interpreter")
        .run(&ins)
        .expect("run");
    assert_eq!(interp, want);
    assert!(interp.iter().all(|t| t.data().is_inline()));
}

/// The interpreter runs a scalar loop's condition at its back edge: the iteration limit still
/// counts every iteration (a run of exactly the limit passes, one more stops), and results
/// match the compiled code at every trip count.
#[test]
fn scalar_loops_count_iterations_exactly() {
    let f = parse_function(
        "func @counter(%first: i32, %second: i32) -> (i32, i32) {
  %two = const 2 : i32
  %one = const 1 : i32
  %f, %s = while (%a = %first, %b = %second) : i32, i32 {
    %c = lt %a, %b : bool
    yield %c
  } do {
    %a2 = add %a, %two : i32
    %b2 = add %b, %one : i32
    yield %a2, %b2
  }
  return %f, %s
}",
    )
    .expect("parses");
    let it = Interpreter::new(&f).expect("interpreter");
    let exe = graphjit::jit::compile(&f).expect("compiles");
    for n in [0i32, 1, 2, 7, 100, 4099] {
        let ins = [Tensor::scalar(0i32), Tensor::scalar(n)];
        // `first` gains one on `second` per iteration: `n` iterations, ending at 2n.
        let want = vec![Tensor::scalar(2 * n), Tensor::scalar(2 * n)];
        assert_eq!(it.run(&ins).expect("run"), want, "n = {n}");
        assert_eq!(exe.run(&ins).expect("compiled"), want, "n = {n}");
        let exact = RunOptions::new().with_max_iterations(n as u64);
        assert_eq!(it.run_with(&ins, &exact).expect("at the limit"), want);
        if n > 0 {
            let short = RunOptions::new().with_max_iterations(n as u64 - 1);
            assert!(it.run_with(&ins, &short).is_err(), "n = {n}");
        }
    }
}
