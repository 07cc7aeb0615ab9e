//! JIT tests of the public API: input/output checks, run_into, the compile cache, runs from
//! many threads, and the CLIF and assembly dumps.

mod jit_util;

use std::sync::Arc;

use graphjit::error::{Error, RunError};
use graphjit::jit::{compile, Compiler};
use graphjit::ops::{BinaryOp, Op, ReduceOp, UnaryOp};
use graphjit::{DType, Tensor};
use jit_util::*;

#[test]
fn input_mismatches_are_errors() {
    let exe = compile(&counter()).unwrap();
    let e = exe.run(&[Tensor::scalar(0i32)]).unwrap_err();
    assert!(matches!(
        e,
        Error::Run(RunError::ArgCount {
            expected: 2,
            got: 1,
            ..
        })
    ));
    let e = exe
        .run(&[Tensor::scalar(0i32), Tensor::scalar(1.0f32)])
        .unwrap_err();
    match e {
        Error::Run(RunError::ArgType { index, name, .. }) => {
            assert_eq!(index, 1);
            assert_eq!(name, "second");
        }
        other => panic!("unexpected {other:?}"),
    }
    let e = exe
        .run(&[Tensor::scalar(0i32), Tensor::from(vec![1i32])])
        .unwrap_err();
    assert!(e.to_string().contains("%second"), "{e}");
}

#[test]
fn run_into_writes_outputs() {
    let exe = compile(&counter()).unwrap();
    let mut outs = vec![Tensor::scalar(0i32), Tensor::scalar(0i32)];
    for n in [10, 100] {
        exe.run_into(&[Tensor::scalar(0i32), Tensor::scalar(n)], &mut outs)
            .unwrap();
        assert_eq!(outs, vec![Tensor::scalar(2 * n), Tensor::scalar(2 * n)]);
    }
    let mut bad = vec![Tensor::scalar(0i32)];
    let e = exe
        .run_into(&[Tensor::scalar(0i32), Tensor::scalar(1i32)], &mut bad)
        .unwrap_err();
    assert!(matches!(e, Error::Run(RunError::OutCount { .. })));
    let mut bad = vec![Tensor::scalar(0i32), Tensor::scalar(0i64)];
    let e = exe
        .run_into(&[Tensor::scalar(0i32), Tensor::scalar(1i32)], &mut bad)
        .unwrap_err();
    assert!(matches!(e, Error::Run(RunError::OutType { index: 1, .. })));
}

#[test]
fn cache_compiles_once() {
    let c = Compiler::default();
    let a = c.compile(&counter()).unwrap();
    let b = c.compile(&counter()).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let s = c.stats();
    assert_eq!((s.compilations, s.hits), (1, 1));
    // Renaming inner values keeps the key; another input type does not.
    let mut renamed = counter();
    let last = renamed.values.len() - 1;
    renamed.values[last].name = "other".into();
    let r = c.compile(&renamed).unwrap();
    assert!(Arc::ptr_eq(&a, &r));
    let f64f = single_op(Op::Unary(UnaryOp::Neg), &[sc(DType::F64)], sc(DType::F64));
    let f32f = single_op(Op::Unary(UnaryOp::Neg), &[sc(DType::F32)], sc(DType::F32));
    let x = c.compile(&f64f).unwrap();
    let y = c.compile(&f32f).unwrap();
    assert!(!Arc::ptr_eq(&x, &y));
    assert_eq!(c.stats().compilations, 3);
    assert_eq!(c.stats().hits, 2);
    assert_eq!(
        y.run(&[Tensor::scalar(2.0f32)]).unwrap()[0],
        Tensor::scalar(-2.0f32)
    );
}

/// One executable run from 8 threads at once, each on its own inputs.
#[test]
fn runs_from_many_threads() {
    // f(x) = sum(x * x) over f64[1000] plus the counter loop's scalar work.
    let t = ty(DType::F64, &[1000]);
    let mut f = graphjit::ir::Function::new("sq", vec![sc(DType::F64)]);
    let x = f.add_param(t.clone(), Some("x".into()));
    let body = f.body;
    let sq = op(&mut f, body, Op::Binary(BinaryOp::Mul), vec![x, x], t);
    let s = op(
        &mut f,
        body,
        Op::Reduce {
            op: ReduceOp::Sum,
            axes: vec![0],
        },
        vec![sq],
        sc(DType::F64),
    );
    ret(&mut f, body, vec![s]);
    let exe = Arc::new(compile(&f).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|k| {
            let exe = Arc::clone(&exe);
            std::thread::spawn(move || {
                for rep in 0..50 {
                    let v: Vec<f64> = (0..1000).map(|i| (i + k * 1000 + rep) as f64).collect();
                    let got = exe.run(&[Tensor::from(v.clone())]).unwrap()[0]
                        .get_item::<f64>()
                        .unwrap();
                    let mut acc = [0.0f64; 16];
                    for (i, x) in v.iter().enumerate() {
                        acc[i % 16] += x * x;
                    }
                    let s: Vec<f64> = (0..4)
                        .map(|j| (acc[j] + acc[j + 4]) + (acc[j + 8] + acc[j + 12]))
                        .collect();
                    assert_eq!(got, (s[0] + s[1]) + (s[2] + s[3]));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn dumps() {
    let exe = compile(&counter()).unwrap();
    let clif = exe.clif();
    assert!(clif.contains("function") && clif.contains("brif"), "{clif}");
    let asm = exe.asm().unwrap();
    if cfg!(target_arch = "x86_64") {
        assert!(asm.contains("ret"), "{asm}");
        assert!(asm.contains("cmp"), "{asm}");
        // The loop and its additions are marked with their IR ops (the comparison is fused
        // into the loop's branch).
        assert!(asm.contains("= while"), "{asm}");
        assert!(asm.contains("= add"), "{asm}");
    }
    // Float constants live in the constant pool and are shown as data.
    let mut g = graphjit::ir::Function::new("k", vec![sc(DType::F64)]);
    let x = g.add_param(sc(DType::F64), Some("x".into()));
    let body = g.body;
    let c = konst(&mut g, body, Tensor::scalar(1.25f64));
    let s = op(
        &mut g,
        body,
        Op::Binary(BinaryOp::Mul),
        vec![x, c],
        sc(DType::F64),
    );
    ret(&mut g, body, vec![s]);
    let exe = compile(&g).unwrap();
    assert_eq!(
        exe.run(&[Tensor::scalar(2.0f64)]).unwrap()[0],
        Tensor::scalar(2.5f64)
    );
    let asm = exe.asm().unwrap();
    if cfg!(target_arch = "x86_64") {
        assert!(asm.contains(".quad 0x3ff4000000000000"), "{asm}");
        assert!(!asm.contains("vfmadd"), "{asm}");
    }
}

/// `a * b + c` is never contracted into a fused multiply-add.
#[test]
fn no_fma() {
    let t = ty(DType::F64, &[8]);
    let mut f = graphjit::ir::Function::new("muladd", vec![t.clone()]);
    let a = f.add_param(t.clone(), Some("a".into()));
    let b = f.add_param(t.clone(), Some("b".into()));
    let c = f.add_param(t.clone(), Some("c".into()));
    let body = f.body;
    let m = op(
        &mut f,
        body,
        Op::Binary(BinaryOp::Mul),
        vec![a, b],
        t.clone(),
    );
    let s = op(
        &mut f,
        body,
        Op::Binary(BinaryOp::Add),
        vec![m, c],
        t.clone(),
    );
    ret(&mut f, body, vec![s]);
    let exe = compile(&f).unwrap();
    let x = 1.0 + f64::EPSILON;
    let out = exe
        .run(&[
            Tensor::from(vec![x; 8]),
            Tensor::from(vec![x; 8]),
            Tensor::from(vec![-1.0 - 2.0 * f64::EPSILON; 8]),
        ])
        .unwrap();
    // Rounded product then sum gives 0; a fused multiply-add would give EPSILON^2.
    assert_eq!(out[0], Tensor::from(vec![0.0; 8]));
    let asm = exe.asm().unwrap().to_lowercase();
    assert!(!asm.contains("fma") && !asm.contains("fmadd"), "{asm}");
}

/// Malformed functions are caught by the verifier that `compile` runs first: errors, not
/// panics or bad code.
#[test]
fn malformed_functions_are_errors() {
    // Operand types that break the op's type rule.
    let f = single_op(
        Op::Binary(BinaryOp::Add),
        &[ty(DType::F32, &[3]), ty(DType::F32, &[4])],
        ty(DType::F32, &[4]),
    );
    assert!(matches!(compile(&f), Err(Error::Verify(_))));
    // A use of an undefined value.
    let mut g = graphjit::ir::Function::new("undef", vec![sc(DType::I32)]);
    let body = g.body;
    let v = g.add_value(
        sc(DType::I32),
        None,
        graphjit::ir::ValueDef::Result(graphjit::ir::Inst(99), 0),
    );
    ret(&mut g, body, vec![v]);
    assert!(matches!(compile(&g), Err(Error::Verify(_))));
    // A region that contains the `while` that owns it.
    let mut h = graphjit::ir::Function::new("cycle", vec![]);
    let body = h.body;
    let w = h.push_inst(body, Op::While, vec![], vec![], vec![]);
    h.set_regions(w, vec![body, body]);
    ret(&mut h, body, vec![]);
    let e = compile(&h).unwrap_err();
    assert!(e.to_string().contains("@cycle"), "{e}");
}
