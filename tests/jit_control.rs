//! JIT tests of control flow: the counter loop, nested while/if, loop-carried tensors.

mod jit_util;

use graphjit::jit::compile;
use graphjit::Tensor;
use jit_util::*;

#[test]
fn counter_loop() {
    let exe = compile(&counter()).unwrap();
    let out = exe
        .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
        .unwrap();
    assert_eq!(out, vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]);
    let out = exe
        .run(&[Tensor::scalar(0i32), Tensor::scalar(10_000_000i32)])
        .unwrap();
    assert_eq!(
        out,
        vec![Tensor::scalar(20_000_000i32), Tensor::scalar(20_000_000i32)]
    );
    // A loop that does not run returns its initial values.
    let out = exe
        .run(&[Tensor::scalar(5i32), Tensor::scalar(1i32)])
        .unwrap();
    assert_eq!(out, vec![Tensor::scalar(5i32), Tensor::scalar(1i32)]);
}

use graphjit::ops::{BinaryOp, CmpOp, Op};
use graphjit::DType;

/// `while i < n { (a, b) = (b, a + b); i += 1 }` over f64[3] tensors: the yield permutes the
/// loop-carried tensors, which must not clobber each other.
#[test]
fn while_swapping_tensors() {
    let t3 = ty(DType::F64, &[3]);
    let i32t = sc(DType::I32);
    let mut f = graphjit::ir::Function::new("fib", vec![t3.clone(), t3.clone(), i32t.clone()]);
    let a = f.add_param(t3.clone(), Some("a".into()));
    let b = f.add_param(t3.clone(), Some("b".into()));
    let n = f.add_param(i32t.clone(), Some("n".into()));
    let body = f.body;
    let zero = konst(&mut f, body, Tensor::scalar(0i32));
    let one = konst(&mut f, body, Tensor::scalar(1i32));
    let t3c = t3.clone();
    let res = while_loop(
        &mut f,
        body,
        vec![a, b, zero],
        |f, r, x| op(f, r, Op::Compare(CmpOp::Lt), vec![x[2], n], sc(DType::Bool)),
        |f, r, x| {
            let s = op(f, r, Op::Binary(BinaryOp::Add), vec![x[0], x[1]], t3c);
            let i = op(
                f,
                r,
                Op::Binary(BinaryOp::Add),
                vec![x[2], one],
                sc(DType::I32),
            );
            vec![x[1], s, i]
        },
    );
    ret(&mut f, body, res);
    let exe = compile(&f).unwrap();
    let out = exe
        .run(&[
            Tensor::from(vec![0.0, 1.0, -1.0]),
            Tensor::from(vec![1.0, 1.0, 0.5]),
            Tensor::scalar(10i32),
        ])
        .unwrap();
    let fib = |mut a: f64, mut b: f64| {
        for _ in 0..10 {
            (a, b) = (b, a + b);
        }
        (a, b)
    };
    let cols: Vec<(f64, f64)> = [(0.0, 1.0), (1.0, 1.0), (-1.0, 0.5)]
        .iter()
        .map(|&(a, b)| fib(a, b))
        .collect();
    assert_eq!(
        out[0],
        Tensor::from(cols.iter().map(|c| c.0).collect::<Vec<_>>())
    );
    assert_eq!(
        out[1],
        Tensor::from(cols.iter().map(|c| c.1).collect::<Vec<_>>())
    );
    assert_eq!(out[2], Tensor::scalar(10i32));
    // A pure swap an odd number of times exchanges the inputs.
    let mut g = graphjit::ir::Function::new("swap", vec![t3.clone(), t3.clone()]);
    let a = g.add_param(t3.clone(), Some("a".into()));
    let b = g.add_param(t3.clone(), Some("b".into()));
    let n = g.add_param(i32t.clone(), Some("n".into()));
    let body = g.body;
    let zero = konst(&mut g, body, Tensor::scalar(0i32));
    let one = konst(&mut g, body, Tensor::scalar(1i32));
    let res = while_loop(
        &mut g,
        body,
        vec![a, b, zero],
        |f, r, x| op(f, r, Op::Compare(CmpOp::Lt), vec![x[2], n], sc(DType::Bool)),
        |f, r, x| {
            let i = op(
                f,
                r,
                Op::Binary(BinaryOp::Add),
                vec![x[2], one],
                sc(DType::I32),
            );
            vec![x[1], x[0], i]
        },
    );
    ret(&mut g, body, res[..2].to_vec());
    let exe = compile(&g).unwrap();
    let (x, y) = (
        Tensor::from(vec![1.0, 2.0, 3.0]),
        Tensor::from(vec![4.0, 5.0, 6.0]),
    );
    let out = exe
        .run(&[x.clone(), y.clone(), Tensor::scalar(3i32)])
        .unwrap();
    assert_eq!(out, vec![y.clone(), x.clone()]);
    let out = exe
        .run(&[x.clone(), y.clone(), Tensor::scalar(4i32)])
        .unwrap();
    assert_eq!(out, vec![x, y]);
}

/// Nested loops with an `if` inside: sum over i < n of (i odd ? i * j-count : -1), where the
/// inner loop counts j up to i.
#[test]
fn nested_while_and_if() {
    let i64t = sc(DType::I64);
    let mut f = graphjit::ir::Function::new("nest", vec![i64t.clone()]);
    let n = f.add_param(i64t.clone(), Some("n".into()));
    let body = f.body;
    let zero = konst(&mut f, body, Tensor::scalar(0i64));
    let one = konst(&mut f, body, Tensor::scalar(1i64));
    let two = konst(&mut f, body, Tensor::scalar(2i64));
    let m1 = konst(&mut f, body, Tensor::scalar(-1i64));
    let add = |f: &mut graphjit::ir::Function, r, a, b| {
        op(f, r, Op::Binary(BinaryOp::Add), vec![a, b], sc(DType::I64))
    };
    let res = while_loop(
        &mut f,
        body,
        vec![zero, zero],
        |f, r, x| op(f, r, Op::Compare(CmpOp::Lt), vec![x[0], n], sc(DType::Bool)),
        |f, r, x| {
            let (i, acc) = (x[0], x[1]);
            let inner = while_loop(
                f,
                r,
                vec![zero, zero],
                |f, r, y| op(f, r, Op::Compare(CmpOp::Lt), vec![y[0], i], sc(DType::Bool)),
                |f, r, y| {
                    let j = add(f, r, y[0], one);
                    let c = add(f, r, y[1], one);
                    vec![j, c]
                },
            );
            let rem = op(
                f,
                r,
                Op::Binary(BinaryOp::Rem),
                vec![i, two],
                sc(DType::I64),
            );
            let odd = op(
                f,
                r,
                Op::Compare(CmpOp::Eq),
                vec![rem, one],
                sc(DType::Bool),
            );
            let v = if_(
                f,
                r,
                odd,
                vec![sc(DType::I64)],
                |f, r| {
                    vec![op(
                        f,
                        r,
                        Op::Binary(BinaryOp::Mul),
                        vec![i, inner[1]],
                        sc(DType::I64),
                    )]
                },
                |_, _| vec![m1],
            );
            let acc2 = add(f, r, acc, v[0]);
            let i2 = add(f, r, i, one);
            vec![i2, acc2]
        },
    );
    ret(&mut f, body, vec![res[1]]);
    let exe = compile(&f).unwrap();
    for n in [0i64, 1, 5, 30] {
        let want: i64 = (0..n).map(|i| if i % 2 == 1 { i * i } else { -1 }).sum();
        let out = exe.run(&[Tensor::scalar(n)]).unwrap();
        assert_eq!(out[0], Tensor::scalar(want), "n = {n}");
    }
}

/// An `if` choosing between tensors computed in its branches and outside.
#[test]
fn if_with_tensor_results() {
    let t2 = ty(DType::I32, &[2]);
    let mut f = graphjit::ir::Function::new("pick", vec![t2.clone()]);
    let p = f.add_param(sc(DType::Bool), Some("p".into()));
    let x = f.add_param(t2.clone(), Some("x".into()));
    let body = f.body;
    let t2c = t2.clone();
    let r = if_(
        &mut f,
        body,
        p,
        vec![t2.clone()],
        |f, r| vec![op(f, r, Op::Binary(BinaryOp::Mul), vec![x, x], t2c)],
        |_, _| vec![x],
    );
    ret(&mut f, body, r);
    let exe = compile(&f).unwrap();
    let x = Tensor::from(vec![3i32, -4]);
    let out = exe.run(&[Tensor::scalar(true), x.clone()]).unwrap();
    assert_eq!(out[0], Tensor::from(vec![9i32, 16]));
    let out = exe.run(&[Tensor::scalar(false), x.clone()]).unwrap();
    assert_eq!(out[0], x);
}
