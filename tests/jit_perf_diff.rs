//! Differential tests of the JIT's loop optimizations: the interpreter, and fused,
//! fused-and-vectorized and plain per-op compiled code must give the same bits on every shape
//! (lengths 0..=37 hit every vector tail), every dtype and edge values (NaN, ±inf, -0, MIN,
//! MAX).

mod common;
mod jit_util;

use common::{check_both, edge_values};
use graphjit::ir::{Function, Value};
use graphjit::ops::{scalar, BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use graphjit::{DType, Scalar, Tensor, TensorType};
use jit_util::*;

const DTYPES: [DType; 8] = [
    DType::F32,
    DType::F64,
    DType::I32,
    DType::I64,
    DType::U8,
    DType::I16,
    DType::U32,
    DType::BF16,
];

fn shaped(t: Tensor, shape: &[usize]) -> Tensor {
    t.reshaped(shape.to_vec()).expect("reshape")
}

/// A splat constant of `dt` with value `v` and shape `shape`.
fn splat(f: &mut Function, dt: DType, v: f64, shape: &[usize]) -> Value {
    let s = match dt {
        DType::F32 => Scalar::F32(v as f32),
        DType::F64 => Scalar::F64(v),
        DType::I32 => Scalar::I32(v as i32),
        DType::I64 => Scalar::I64(v as i64),
        DType::Bool => Scalar::Bool(v != 0.0),
        d => scalar::convert(Scalar::F64(v), d),
    };
    let body = f.body;
    konst(f, body, Tensor::full(s, shape.to_vec()))
}

fn unaries(dt: DType) -> Vec<UnaryOp> {
    UnaryOp::ALL
        .iter()
        .copied()
        .filter(|u| u.accepts(dt))
        .collect()
}

fn binaries(dt: DType) -> Vec<BinaryOp> {
    BinaryOp::ALL
        .iter()
        .copied()
        .filter(|b| b.accepts(dt))
        .collect()
}

/// `out = b(u(x), y) op2 (x * 3)` chains: every unary and binary op of the dtype inside a
/// fused group with a splat constant and a reused operand.
#[test]
fn elementwise_chains_every_dtype_and_tail() {
    for dt in DTYPES {
        for n in (0..=37).chain([64, 100]) {
            for (k, &b) in binaries(dt).iter().enumerate() {
                let us = unaries(dt);
                let u = us[k % us.len()];
                let t = ty(dt, &[n]);
                let mut f = Function::new("chain", vec![t.clone()]);
                let x = f.add_param(t.clone(), None);
                let y = f.add_param(t.clone(), None);
                let body = f.body;
                let ux = op(&mut f, body, Op::Unary(u), vec![x], t.clone());
                let r = op(&mut f, body, Op::Binary(b), vec![ux, y], t.clone());
                let c = splat(&mut f, dt, 3.0, &[n]);
                let xc = op(
                    &mut f,
                    body,
                    Op::Binary(BinaryOp::Mul),
                    vec![x, c],
                    t.clone(),
                );
                let out = op(
                    &mut f,
                    body,
                    Op::Binary(BinaryOp::Add),
                    vec![r, xc],
                    t.clone(),
                );
                ret(&mut f, body, vec![out]);
                let ins = [edge_values(dt, n, 0), edge_values(dt, n, 5)];
                check_both(&f, &ins, &format!("{dt} n={n} {:?}({:?}(x), y)", b, u));
                // The plain binary op alone, with the operands swapped.
                let g = single_op(Op::Binary(b), &[t.clone(), t.clone()], t.clone());
                let ins = [edge_values(dt, n, 3), edge_values(dt, n, 1)];
                check_both(&g, &ins, &format!("{dt} n={n} {b:?}"));
            }
        }
    }
}

/// Conversions between every pair of dtypes inside fused groups.
#[test]
fn conversions_in_fused_groups() {
    let all = [DType::Bool, DType::F32, DType::F64, DType::I32, DType::I64];
    for from in all {
        for to in all {
            for n in [0, 1, 3, 4, 5, 8, 13, 37] {
                let tf = ty(from, &[n]);
                let tt = ty(to, &[n]);
                let mut f = Function::new("conv", vec![tt.clone()]);
                let x = f.add_param(tf.clone(), None);
                let body = f.body;
                let c = op(&mut f, body, Op::Convert, vec![x], tt.clone());
                let out = if to == DType::Bool {
                    op(&mut f, body, Op::Unary(UnaryOp::Not), vec![c], tt.clone())
                } else {
                    op(
                        &mut f,
                        body,
                        Op::Binary(BinaryOp::Add),
                        vec![c, c],
                        tt.clone(),
                    )
                };
                ret(&mut f, body, vec![out]);
                check_both(
                    &f,
                    &[edge_values(from, n, 2)],
                    &format!("{from}->{to} n={n}"),
                );
            }
        }
    }
}

/// `select(x < y, x - y, max(x, y))` and friends: bool values inside a fused group.
#[test]
fn compare_select_groups() {
    for dt in DTYPES {
        for n in [0, 1, 4, 7, 16, 33] {
            for c in [
                CmpOp::Eq,
                CmpOp::Ne,
                CmpOp::Lt,
                CmpOp::Le,
                CmpOp::Gt,
                CmpOp::Ge,
            ] {
                let t = ty(dt, &[n]);
                let tb = ty(DType::Bool, &[n]);
                let mut f = Function::new("sel", vec![t.clone(), tb.clone()]);
                let x = f.add_param(t.clone(), None);
                let y = f.add_param(t.clone(), None);
                let body = f.body;
                let p = op(&mut f, body, Op::Compare(c), vec![x, y], tb.clone());
                let d = op(
                    &mut f,
                    body,
                    Op::Binary(BinaryOp::Sub),
                    vec![x, y],
                    t.clone(),
                );
                let m = op(
                    &mut f,
                    body,
                    Op::Binary(BinaryOp::Max),
                    vec![x, y],
                    t.clone(),
                );
                let s = op(&mut f, body, Op::Select, vec![p, d, m], t.clone());
                let q = op(&mut f, body, Op::Compare(c), vec![s, x], tb.clone());
                let nq = op(&mut f, body, Op::Unary(UnaryOp::Not), vec![q], tb.clone());
                ret(&mut f, body, vec![s, nq]);
                let ins = [edge_values(dt, n, 1), edge_values(dt, n, 4)];
                check_both(&f, &ins, &format!("{dt} n={n} select {c:?}"));
            }
        }
    }
}

/// Broadcasts of scalars and along dimensions fused into elementwise ops, on 2-d and 3-d
/// shapes, and a value used twice (kept materialized) next to a fused one.
#[test]
fn broadcasts_feeding_fused_groups() {
    for dt in DTYPES {
        for n in [1, 3, 4, 5, 9, 17] {
            let t2 = ty(dt, &[3, n]);
            let mut f = Function::new("bc", vec![t2.clone(), t2.clone()]);
            let row = f.add_param(ty(dt, &[n]), None);
            let col = f.add_param(ty(dt, &[3, 1]), None);
            let s = f.add_param(sc(dt), None);
            let body = f.body;
            let br = op(
                &mut f,
                body,
                Op::Broadcast { dims: vec![1] },
                vec![row],
                t2.clone(),
            );
            let bc = op(
                &mut f,
                body,
                Op::Broadcast { dims: vec![0, 1] },
                vec![col],
                t2.clone(),
            );
            let bs = op(
                &mut f,
                body,
                Op::Broadcast { dims: vec![] },
                vec![s],
                t2.clone(),
            );
            let a = op(
                &mut f,
                body,
                Op::Binary(BinaryOp::Mul),
                vec![br, bc],
                t2.clone(),
            );
            let b = op(
                &mut f,
                body,
                Op::Binary(BinaryOp::Sub),
                vec![a, bs],
                t2.clone(),
            );
            let c = op(
                &mut f,
                body,
                Op::Binary(BinaryOp::Max),
                vec![b, a],
                t2.clone(),
            );
            // `b` is used twice more: it stays materialized.
            let d = op(
                &mut f,
                body,
                Op::Binary(BinaryOp::Add),
                vec![c, b],
                t2.clone(),
            );
            ret(&mut f, body, vec![d, b]);
            let ins = [
                edge_values(dt, n, 0),
                shaped(edge_values(dt, 3, 2), &[3, 1]),
                shaped(edge_values(dt, 1, 6), &[]),
            ];
            check_both(&f, &ins, &format!("{dt} n={n} broadcasts"));
            // A transposing broadcast: [n] along dimension 0 of [n, 3].
            let tt = ty(dt, &[n, 3]);
            let mut g = Function::new("bc0", vec![tt.clone()]);
            let v = g.add_param(ty(dt, &[n]), None);
            let w = g.add_param(tt.clone(), None);
            let body = g.body;
            let bv = op(
                &mut g,
                body,
                Op::Broadcast { dims: vec![0] },
                vec![v],
                tt.clone(),
            );
            let o = op(
                &mut g,
                body,
                Op::Binary(BinaryOp::Add),
                vec![bv, w],
                tt.clone(),
            );
            ret(&mut g, body, vec![o]);
            let ins = [
                edge_values(dt, n, 1),
                shaped(edge_values(dt, 3 * n, 2), &[n, 3]),
            ];
            check_both(&g, &ins, &format!("{dt} n={n} broadcast dim 0"));
        }
    }
}

/// Every reduce op on every dtype, reading a fused producer, over trailing axes of 1-d, 2-d
/// and 3-d shapes and over all axes, with lengths around multiples of 16.
#[test]
fn fused_reductions() {
    let ops = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Min,
        ReduceOp::Max,
        ReduceOp::And,
        ReduceOp::Or,
    ];
    for dt in DTYPES {
        for r in ops.into_iter().filter(|r| r.accepts(dt)) {
            for (shape, axes) in [
                (vec![0], vec![0]),
                (vec![1], vec![0]),
                (vec![15], vec![0]),
                (vec![16], vec![0]),
                (vec![17], vec![0]),
                (vec![37], vec![0]),
                (vec![100], vec![0]),
                (vec![1000], vec![0]),
                (vec![3, 33], vec![1]),
                (vec![2, 3, 20], vec![1, 2]),
                (vec![2, 3, 20], vec![0, 1, 2]),
                (vec![4, 5], vec![0]),
                (vec![0, 5], vec![1]),
            ] {
                let t = ty(dt, &shape);
                let out_shape: Vec<usize> = (0..shape.len())
                    .filter(|d| !axes.contains(d))
                    .map(|d| shape[d])
                    .collect();
                let tout = ty(dt, &out_shape);
                let mut f = Function::new("red", vec![tout.clone()]);
                let x = f.add_param(t.clone(), None);
                let y = f.add_param(t.clone(), None);
                let body = f.body;
                let p = if dt.is_float() {
                    op(
                        &mut f,
                        body,
                        Op::Binary(BinaryOp::Mul),
                        vec![x, y],
                        t.clone(),
                    )
                } else {
                    op(
                        &mut f,
                        body,
                        Op::Binary(BinaryOp::Xor),
                        vec![x, y],
                        t.clone(),
                    )
                };
                let s = op(
                    &mut f,
                    body,
                    Op::Reduce {
                        op: r,
                        axes: axes.clone(),
                    },
                    vec![p],
                    tout,
                );
                ret(&mut f, body, vec![s]);
                let n: usize = shape.iter().product();
                let ins = [
                    shaped(edge_values(dt, n, 0), &shape),
                    shaped(edge_values(dt, n, 9), &shape),
                ];
                check_both(
                    &f,
                    &ins,
                    &format!("{dt} reduce.{r:?} {shape:?} axes {axes:?}"),
                );
                // The same on finite, varied values, where the order of additions shows.
                let vals = Tensor::from(
                    (0..n)
                        .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
                        .collect::<Vec<f64>>(),
                );
                let vals = match dt {
                    DType::F64 => vals,
                    DType::F32 => Tensor::from(
                        vals.as_slice::<f64>()
                            .unwrap()
                            .iter()
                            .map(|&v| v as f32)
                            .collect::<Vec<f32>>(),
                    ),
                    _ => edge_values(dt, n, 3),
                };
                let vals = shaped(vals, &shape);
                check_both(
                    &f,
                    &[vals.clone(), vals],
                    &format!("{dt} reduce.{r:?} {shape:?} finite"),
                );
            }
        }
    }
}

/// A loop-carried tensor computed by a fused group straight into the loop's other buffer, a
/// returned fused value written straight into the output, and a value returned twice.
#[test]
fn loop_carried_and_returned_fused_values() {
    for n in [1, 4, 7, 1024] {
        let t = ty(DType::F32, &[n]);
        let mut f = Function::new("decay", vec![t.clone(), t.clone(), t.clone()]);
        let v0 = f.add_param(t.clone(), None);
        let body = f.body;
        let zero = konst(&mut f, body, Tensor::scalar(0i32));
        let one = konst(&mut f, body, Tensor::scalar(1i32));
        let steps = konst(&mut f, body, Tensor::scalar(10i32));
        let half = splat(&mut f, DType::F32, 0.5, &[n]);
        let onef = splat(&mut f, DType::F32, 1.0, &[n]);
        let res = while_loop(
            &mut f,
            body,
            vec![zero, v0, v0],
            |f, r, a| {
                op(
                    f,
                    r,
                    Op::Compare(CmpOp::Lt),
                    vec![a[0], steps],
                    sc(DType::Bool),
                )
            },
            |f, r, a| {
                let h = op(f, r, Op::Binary(BinaryOp::Mul), vec![a[1], half], t.clone());
                let x2 = op(f, r, Op::Binary(BinaryOp::Add), vec![h, onef], t.clone());
                // The carried values swap places every iteration.
                let i2 = op(
                    f,
                    r,
                    Op::Binary(BinaryOp::Add),
                    vec![a[0], one],
                    sc(DType::I32),
                );
                let y = op(f, r, Op::Binary(BinaryOp::Sub), vec![a[2], a[1]], t.clone());
                vec![i2, y, x2]
            },
        );
        let sq = op(
            &mut f,
            body,
            Op::Binary(BinaryOp::Mul),
            vec![res[1], res[2]],
            t.clone(),
        );
        ret(&mut f, body, vec![sq, sq, res[2]]);
        check_both(
            &f,
            &[edge_values(DType::F32, n, 4)],
            &format!("decay n={n}"),
        );
    }
}

/// Long fused chains are split into groups of bounded size and still compute the same.
#[test]
fn long_chain() {
    let t = TensorType::new(DType::F32, vec![19]);
    let mut f = Function::new("long", vec![t.clone()]);
    let x = f.add_param(t.clone(), None);
    let body = f.body;
    let mut v = x;
    for i in 0..200 {
        let o = [BinaryOp::Add, BinaryOp::Mul, BinaryOp::Sub][i % 3];
        v = op(&mut f, body, Op::Binary(o), vec![v, x], t.clone());
    }
    ret(&mut f, body, vec![v]);
    check_both(&f, &[edge_values(DType::F32, 19, 0)], "200-op chain");
}

/// `dot` of every numeric dtype on shapes around the register blocks (4 rows, 2 vectors of
/// columns) and the vector width, including matrix-vector products and empty dimensions.
#[test]
fn dot_blocks_and_tails() {
    for dt in DTYPES {
        for (m, k, n) in [
            (1, 1, 1),
            (2, 3, 4),
            (4, 5, 8),
            (5, 7, 9),
            (3, 4, 2),
            (7, 3, 13),
            (9, 17, 18),
            (8, 0, 8),
            (0, 3, 5),
            (6, 33, 37),
        ] {
            let ta = ty(dt, &[m, k]);
            let tb = ty(dt, &[k, n]);
            let tc = ty(dt, &[m, n]);
            let f = single_op(Op::Dot, &[ta, tb], tc);
            let ins = [
                shaped(edge_values(dt, m * k, 0), &[m, k]),
                shaped(edge_values(dt, k * n, 5), &[k, n]),
            ];
            check_both(&f, &ins, &format!("{dt} dot {m}x{k}x{n}"));
            // Finite values whose sums depend on the order.
            let fin = |len: usize, s: usize| match dt {
                DType::F32 => Tensor::from(
                    (0..len)
                        .map(|i| ((i * 31 + s) % 97) as f32 / 9.0 - 5.0)
                        .collect::<Vec<f32>>(),
                ),
                DType::F64 => Tensor::from(
                    (0..len)
                        .map(|i| ((i * 31 + s) % 97) as f64 / 9.0 - 5.0)
                        .collect::<Vec<f64>>(),
                ),
                _ => edge_values(dt, len, s),
            };
            let ins = [
                shaped(fin(m * k, 1), &[m, k]),
                shaped(fin(k * n, 2), &[k, n]),
            ];
            check_both(&f, &ins, &format!("{dt} dot {m}x{k}x{n} finite"));
            let tv = ty(dt, &[k]);
            let g = single_op(Op::Dot, &[ty(dt, &[m, k]), tv], ty(dt, &[m]));
            let ins = [shaped(fin(m * k, 3), &[m, k]), fin(k, 4)];
            check_both(&g, &ins, &format!("{dt} matvec {m}x{k}"));
        }
    }
}

/// Reductions whose operand is itself a broadcast (a fused leaf): of a scalar, along the
/// reduced dimension, and across it (which is materialized first).
#[test]
fn reductions_of_broadcasts() {
    for dt in DTYPES {
        for n in [1, 5, 16, 21] {
            for (in_shape, dims) in [(vec![], vec![]), (vec![n], vec![1]), (vec![3], vec![0])] {
                let t = ty(dt, &[3, n]);
                let tout = ty(dt, &[3]);
                let mut f = Function::new("redbc", vec![tout.clone()]);
                let x = f.add_param(ty(dt, &in_shape), None);
                let body = f.body;
                let b = op(&mut f, body, Op::Broadcast { dims }, vec![x], t.clone());
                let s = op(
                    &mut f,
                    body,
                    Op::Reduce {
                        op: ReduceOp::Sum,
                        axes: vec![1],
                    },
                    vec![b],
                    tout,
                );
                ret(&mut f, body, vec![s]);
                let len: usize = in_shape.iter().product();
                let ins = [shaped(edge_values(dt, len, 2), &in_shape)];
                check_both(
                    &f,
                    &ins,
                    &format!("{dt} n={n} reduce of broadcast {in_shape:?}"),
                );
            }
        }
    }
}
