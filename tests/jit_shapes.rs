//! JIT tests of the shape ops, `reduce` (with the documented 16-accumulator order) and `dot`,
//! against references computed here from the documented semantics.

mod jit_util;

use graphjit::jit::compile;
use graphjit::ops::{Op, ReduceOp};
use graphjit::{DType, Tensor};
use jit_util::*;

fn iota_f32(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32 * 1.5 - 3.0).collect()
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &s)| acc * s + i)
}

#[test]
fn transpose_3d() {
    let shape = [2, 3, 4];
    let perm = [2, 0, 1];
    let x = iota_f32(24);
    let out_shape = [4, 2, 3];
    let f = single_op(
        Op::Transpose {
            perm: perm.to_vec(),
        },
        &[ty(DType::F32, &shape)],
        ty(DType::F32, &out_shape),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[Tensor::from_vec(x.clone(), shape).unwrap()])
        .unwrap()
        .remove(0);
    let mut want = vec![0.0; 24];
    for (o, w) in want.iter_mut().enumerate() {
        let oi = unravel(o, &out_shape);
        let mut ii = [0; 3];
        for d in 0..3 {
            ii[perm[d]] = oi[d];
        }
        *w = x[ravel(&ii, &shape)];
    }
    assert_eq!(got, Tensor::from_vec(want, out_shape).unwrap());
}

#[test]
fn broadcast_in_dim() {
    // [3] -> [2,3] along dimension 1, and [2,1] -> [2,3] stretching the size-1 dimension.
    let f = single_op(
        Op::Broadcast { dims: vec![1] },
        &[ty(DType::I32, &[3])],
        ty(DType::I32, &[2, 3]),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[Tensor::from(vec![1i32, 2, 3])])
        .unwrap();
    assert_eq!(got[0], Tensor::from([[1i32, 2, 3], [1, 2, 3]]));
    let f = single_op(
        Op::Broadcast { dims: vec![0, 1] },
        &[ty(DType::I64, &[2, 1])],
        ty(DType::I64, &[2, 3]),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[Tensor::from([[7i64], [9]])])
        .unwrap();
    assert_eq!(got[0], Tensor::from([[7i64, 7, 7], [9, 9, 9]]));
    // A scalar splat, and a bool.
    let f = single_op(
        Op::Broadcast { dims: vec![] },
        &[sc(DType::Bool)],
        ty(DType::Bool, &[2, 2]),
    );
    let got = compile(&f).unwrap().run(&[Tensor::scalar(true)]).unwrap();
    assert_eq!(got[0], Tensor::from([[true, true], [true, true]]));
}

#[test]
fn reshape_views_and_scalars() {
    let f = single_op(
        Op::Reshape,
        &[ty(DType::F64, &[2, 3])],
        ty(DType::F64, &[3, 2]),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])])
        .unwrap();
    assert_eq!(got[0], Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]));
    let f = single_op(Op::Reshape, &[ty(DType::I32, &[1, 1])], sc(DType::I32));
    let got = compile(&f)
        .unwrap()
        .run(&[Tensor::from([[42i32]])])
        .unwrap();
    assert_eq!(got[0], Tensor::scalar(42i32));
    let f = single_op(Op::Reshape, &[sc(DType::I32)], ty(DType::I32, &[1]));
    let got = compile(&f).unwrap().run(&[Tensor::scalar(-3i32)]).unwrap();
    assert_eq!(got[0], Tensor::from(vec![-3i32]));
}

#[test]
fn slice_with_strides() {
    let shape = [5, 6];
    let x: Vec<i32> = (0..30).collect();
    let (start, limit, stride) = (vec![1, 0], vec![5, 6], vec![2, 4]);
    let f = single_op(
        Op::Slice {
            start: start.clone(),
            limit,
            stride,
        },
        &[ty(DType::I32, &shape)],
        ty(DType::I32, &[2, 2]),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[Tensor::from_vec(x, shape).unwrap()])
        .unwrap();
    // Rows 1 and 3, columns 0 and 4.
    assert_eq!(got[0], Tensor::from([[6i32, 10], [18, 22]]));
}

#[test]
fn concat_axes() {
    let mut f = graphjit::ir::Function::new("cat", vec![ty(DType::F32, &[2, 5])]);
    let a = f.add_param(ty(DType::F32, &[2, 2]), Some("a".into()));
    let b = f.add_param(ty(DType::F32, &[2, 3]), Some("b".into()));
    let body = f.body;
    let c = op(
        &mut f,
        body,
        Op::Concat { axis: 1 },
        vec![a, b],
        ty(DType::F32, &[2, 5]),
    );
    ret(&mut f, body, vec![c]);
    let got = compile(&f)
        .unwrap()
        .run(&[
            Tensor::from([[1.0f32, 2.0], [3.0, 4.0]]),
            Tensor::from([[5.0f32, 6.0, 7.0], [8.0, 9.0, 10.0]]),
        ])
        .unwrap();
    assert_eq!(
        got[0],
        Tensor::from([[1.0f32, 2.0, 5.0, 6.0, 7.0], [3.0, 4.0, 8.0, 9.0, 10.0]])
    );
    let f = single_op(
        Op::Concat { axis: 0 },
        &[ty(DType::Bool, &[1, 2]), ty(DType::Bool, &[2, 2])],
        ty(DType::Bool, &[3, 2]),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[
            Tensor::from([[true, false]]),
            Tensor::from([[false, true], [true, true]]),
        ])
        .unwrap();
    assert_eq!(
        got[0],
        Tensor::from([[true, false], [false, true], [true, true]])
    );
}

#[test]
fn iota_every_dtype() {
    let f = single_op(Op::Iota { axis: 1 }, &[], ty(DType::I32, &[2, 3]));
    let got = compile(&f).unwrap().run(&[]).unwrap();
    assert_eq!(got[0], Tensor::from([[0i32, 1, 2], [0, 1, 2]]));
    let f = single_op(Op::Iota { axis: 0 }, &[], ty(DType::F64, &[3, 2]));
    let got = compile(&f).unwrap().run(&[]).unwrap();
    assert_eq!(got[0], Tensor::from([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]));
    let f = single_op(Op::Iota { axis: 0 }, &[], ty(DType::I64, &[4]));
    let got = compile(&f).unwrap().run(&[]).unwrap();
    assert_eq!(got[0], Tensor::from(vec![0i64, 1, 2, 3]));
}

/// A reduction's combining function.
type Combine<T> = fn(T, T) -> T;

/// The documented order: element i into accumulator i % 16, then a fixed tree.
fn lanes<T: Copy>(xs: &[T], id: T, c: fn(T, T) -> T) -> T {
    let mut acc = [id; 16];
    for (i, &x) in xs.iter().enumerate() {
        acc[i % 16] = c(acc[i % 16], x);
    }
    let s: Vec<T> = (0..4)
        .map(|j| c(c(acc[j], acc[j + 4]), c(acc[j + 8], acc[j + 12])))
        .collect();
    c(c(s[0], s[1]), c(s[2], s[3]))
}

fn ref_reduce<T: Copy>(
    x: &[T],
    shape: &[usize],
    axes: &[usize],
    id: T,
    c: fn(T, T) -> T,
) -> Vec<T> {
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let kshape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    let rshape: Vec<usize> = axes.iter().map(|&d| shape[d]).collect();
    let (k, r): (usize, usize) = (kshape.iter().product(), rshape.iter().product());
    (0..k)
        .map(|o| {
            let ko = unravel(o, &kshape);
            let xs: Vec<T> = (0..r)
                .map(|j| {
                    let rj = unravel(j, &rshape);
                    let mut full = vec![0; shape.len()];
                    for (n, &d) in kept.iter().enumerate() {
                        full[d] = ko[n];
                    }
                    for (n, &d) in axes.iter().enumerate() {
                        full[d] = rj[n];
                    }
                    x[ravel(&full, shape)]
                })
                .collect();
            lanes(&xs, id, c)
        })
        .collect()
}

fn reduce_fn(r: ReduceOp, dt: DType, shape: &[usize], axes: &[usize]) -> graphjit::ir::Function {
    let out: Vec<usize> = (0..shape.len())
        .filter(|d| !axes.contains(d))
        .map(|d| shape[d])
        .collect();
    single_op(
        Op::Reduce {
            op: r,
            axes: axes.to_vec(),
        },
        &[ty(dt, shape)],
        ty(dt, &out),
    )
}

#[test]
fn reduce_sum_f32_follows_the_16_lane_order() {
    // Values where summation order matters in f32.
    let shape = [3, 37, 5];
    let n: usize = shape.iter().product();
    let x: Vec<f32> = (0..n)
        .map(|i| {
            if i % 7 == 0 {
                1e8
            } else {
                1.0 + (i % 13) as f32 * 0.1
            }
        })
        .collect();
    for axes in [vec![1], vec![0, 2], vec![0, 1, 2], vec![2], vec![], vec![0]] {
        let f = reduce_fn(ReduceOp::Sum, DType::F32, &shape, &axes);
        let got = compile(&f)
            .unwrap()
            .run(&[Tensor::from_vec(x.clone(), shape).unwrap()])
            .unwrap()
            .remove(0);
        let want = ref_reduce(&x, &shape, &axes, 0.0f32, |a, b| a + b);
        assert_eq!(
            got.as_slice::<f32>().unwrap(),
            want.as_slice(),
            "axes {axes:?}"
        );
    }
    // The order is observable: a plain sequential sum gives a different answer here.
    let seq: f32 = x.iter().sum();
    let all = ref_reduce(&x, &shape, &[0, 1, 2], 0.0f32, |a, b| a + b)[0];
    assert_ne!(seq.to_bits(), all.to_bits());
}

#[test]
fn reduce_other_ops_and_dtypes() {
    let shape = [4, 21];
    let xi: Vec<i64> = (0..84).map(|i| (i * 7919 % 201) - 100).collect();
    let t = Tensor::from_vec(xi.clone(), shape).unwrap();
    let cases: [(ReduceOp, i64, Combine<i64>); 6] = [
        (ReduceOp::Sum, 0, |a, b| a.wrapping_add(b)),
        (ReduceOp::Prod, 1, |a, b| a.wrapping_mul(b)),
        (ReduceOp::Min, i64::MAX, |a, b| a.min(b)),
        (ReduceOp::Max, i64::MIN, |a, b| a.max(b)),
        (ReduceOp::And, -1, |a, b| a & b),
        (ReduceOp::Or, 0, |a, b| a | b),
    ];
    for (r, id, c) in cases {
        for axes in [vec![1], vec![0], vec![0, 1]] {
            let f = reduce_fn(r, DType::I64, &shape, &axes);
            let got = compile(&f)
                .unwrap()
                .run(std::slice::from_ref(&t))
                .unwrap()
                .remove(0);
            let want = ref_reduce(&xi, &shape, &axes, id, c);
            assert_eq!(
                got.as_slice::<i64>().unwrap(),
                want.as_slice(),
                "{} {axes:?}",
                r.name()
            );
        }
    }
    // Float min/max propagate NaN and order -0.0 below +0.0.
    let xf = vec![0.0f64, -0.0, 3.0, f64::NAN, 1.0, -0.0, 0.0, 2.0];
    let f = reduce_fn(ReduceOp::Min, DType::F64, &[2, 4], &[1]);
    let got = compile(&f)
        .unwrap()
        .run(&[Tensor::from_vec(xf, [2, 4]).unwrap()])
        .unwrap()
        .remove(0);
    let g = got.as_slice::<f64>().unwrap();
    assert!(g[0].is_nan());
    assert_eq!(g[1].to_bits(), (-0.0f64).to_bits());
    // Bool and/or.
    let xb = vec![true, true, false, true, true, true];
    for (r, want) in [(ReduceOp::And, [false, true]), (ReduceOp::Or, [true, true])] {
        let f = reduce_fn(r, DType::Bool, &[2, 3], &[1]);
        let got = compile(&f)
            .unwrap()
            .run(&[Tensor::from_vec(xb.clone(), [2, 3]).unwrap()])
            .unwrap();
        assert_eq!(got[0].as_slice::<bool>().unwrap(), &want);
    }
}

#[test]
fn dot_float_is_the_kernels_and_int_is_sequential() {
    let (m, k, n) = (3, 19, 4);
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 37 % 11) as f32 - 5.0) * 1.1e3)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i * 17 % 7) as f32 - 3.0) * 0.37)
        .collect();
    let f = single_op(
        Op::Dot,
        &[ty(DType::F32, &[m, k]), ty(DType::F32, &[k, n])],
        ty(DType::F32, &[m, n]),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[
            Tensor::from_vec(a.clone(), [m, k]).unwrap(),
            Tensor::from_vec(b.clone(), [k, n]).unwrap(),
        ])
        .unwrap()
        .remove(0);
    // Float `dot` is the `matrixmultiply` routine in both executors: the same bits as the
    // interpreter's kernel (its order is that crate's, so no sequential reference here).
    let want = graphjit::ops::kernels::dot(
        &Tensor::from_vec(a.clone(), [m, k]).unwrap(),
        &Tensor::from_vec(b.clone(), [k, n]).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
    // And close to the sequential sum (the values are a few thousand).
    for i in 0..m {
        for j in 0..n {
            let s: f64 = (0..k)
                .map(|kk| a[i * k + kk] as f64 * b[kk * n + j] as f64)
                .sum();
            let g = got.as_slice::<f32>().unwrap()[i * n + j] as f64;
            assert!((g - s).abs() <= 1e-3 * s.abs().max(1.0), "{g} vs {s}");
        }
    }
    // Matrix-vector, integers wrap.
    let f = single_op(
        Op::Dot,
        &[ty(DType::I32, &[2, 2]), ty(DType::I32, &[2])],
        ty(DType::I32, &[2]),
    );
    let got = compile(&f)
        .unwrap()
        .run(&[
            Tensor::from([[i32::MAX, 1], [2, 3]]),
            Tensor::from(vec![2i32, 5]),
        ])
        .unwrap();
    assert_eq!(
        got[0],
        Tensor::from(vec![i32::MAX.wrapping_mul(2).wrapping_add(5), 19])
    );
}

#[test]
fn tensor_constants() {
    let mut f =
        graphjit::ir::Function::new("k", vec![ty(DType::F32, &[3]), ty(DType::I32, &[1000])]);
    let body = f.body;
    let a = konst(&mut f, body, Tensor::from(vec![1.5f32, -2.0, 0.25]));
    let b = konst(&mut f, body, Tensor::full(graphjit::Scalar::I32(7), [1000]));
    ret(&mut f, body, vec![a, b]);
    let got = compile(&f).unwrap().run(&[]).unwrap();
    assert_eq!(got[0], Tensor::from(vec![1.5f32, -2.0, 0.25]));
    assert_eq!(got[1], Tensor::full(graphjit::Scalar::I32(7), [1000]));
}

#[test]
fn empty_tensors() {
    let f = single_op(
        Op::Binary(graphjit::ops::BinaryOp::Add),
        &[ty(DType::F32, &[0, 3]), ty(DType::F32, &[0, 3])],
        ty(DType::F32, &[0, 3]),
    );
    let e = Tensor::from_vec(Vec::<f32>::new(), [0, 3]).unwrap();
    let got = compile(&f).unwrap().run(&[e.clone(), e.clone()]).unwrap();
    assert_eq!(got[0], e);
    // A sum over an empty axis is the identity.
    let f = reduce_fn(ReduceOp::Sum, DType::F32, &[0, 3], &[0]);
    let got = compile(&f).unwrap().run(&[e]).unwrap();
    assert_eq!(got[0], Tensor::from(vec![0.0f32; 3]));
}
