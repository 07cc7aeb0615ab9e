//! The front ends on the ops of issue 11 part B: the graph builder (`pad`, `take`, `index`,
//! `switch`, `dot_general`, the math methods, `is_finite`), eager tensors and traced
//! functions (the same methods), each compiled and interpreted with the same results, checked
//! against values worked out by hand.

mod common;

use common::check_both;
use graphjit::ops::dot_general::DotDims;
use graphjit::trace::{self, Traced};
use graphjit::{DType, Graph, Tensor};

fn f32s(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

#[test]
fn builder_pad_take_switch_and_dot_general() {
    let g = Graph::new("ops2");
    let x = g.input("x", DType::F32, [4]);
    let idx = g.input("idx", DType::I32, [3]);
    let k = g.input("k", DType::I32, []);
    let m = g.input("m", DType::I32, [2, 3]);
    let zero = g.scalar(0.0f32);
    let padded = x.pad(zero, &[-1], &[2], &[0]);
    let taken = x.take(idx, 0);
    let picked = g.switch(
        k,
        vec![
            Box::new(|| vec![x.expm1()]),
            Box::new(|| vec![x.sign()]),
            Box::new(|| vec![x.rsqrt()]),
        ],
    );
    let dims = DotDims {
        lhs_contract: vec![1],
        rhs_contract: vec![1],
        ..DotDims::default()
    };
    // m m^T accumulated in i64.
    let gram = m.dot_general(m, &dims, DType::I64);
    let fin = x.is_finite();
    g.outputs(&[padded, taken, picked[0], gram, fin]);
    let f = g.function().unwrap();
    let xs = f32s(&[4.0, -1.0, f32::INFINITY, 0.25], &[4]);
    let ms = Tensor::from_vec(vec![1i32, 2, 3, -4, 5, 6], vec![2, 3]).unwrap();
    for (kv, want) in [
        (1, f32s(&[1.0, -1.0, 1.0, 1.0], &[4])),
        (9, f32s(&[0.5, f32::NAN, 0.0, 2.0], &[4])),
    ] {
        let got = check_both(
            &f,
            &[
                xs.clone(),
                Tensor::from_vec(vec![2i32, -3, 8], vec![3]).unwrap(),
                Tensor::scalar(kv),
                ms.clone(),
            ],
            "builder",
        );
        assert_eq!(got[0], f32s(&[-1.0, f32::INFINITY, 0.25, 0.0, 0.0], &[5]));
        assert_eq!(got[1], f32s(&[f32::INFINITY, 4.0, 0.25], &[3]));
        assert_eq!(got[2], want, "switch {kv}");
        let gram = Tensor::from_vec(vec![14i64, 24, 24, 77], vec![2, 2]).unwrap();
        assert_eq!(got[3], gram);
        let fin = Tensor::from_vec(vec![true, true, false, true], vec![4]).unwrap();
        assert_eq!(got[4], fin);
    }
}

#[test]
fn builder_errors_name_the_op() {
    let g = Graph::new("bad");
    let x = g.input("x", DType::F32, [4]);
    let i = g.input("i", DType::I64, []);
    let _ = g.switch(i, vec![Box::new(|| vec![x])]);
    let e = g.function().unwrap_err().to_string();
    assert!(e.contains("case") && e.contains("i32"), "{e}");
    let g = Graph::new("bad_pad");
    let x = g.input("x", DType::F32, [2]);
    let z = g.scalar(0.0f32);
    let _ = x.pad(z, &[-2], &[-1], &[0]);
    let e = g.function().unwrap_err().to_string();
    assert!(e.contains("pad") && e.contains("negative size"), "{e}");
}

#[test]
fn eager_and_traced_methods_agree() {
    let x = f32s(&[0.0, 1.0, -8.0, 27.0], &[4]);
    let i = Tensor::scalar(5i32);
    // Eager: x[5] clamps to x[3].
    assert_eq!(x.index(&i).unwrap(), Tensor::scalar(27.0f32));
    assert_eq!(x.cbrt().unwrap(), f32s(&[0.0, 1.0, -2.0, 3.0], &[4]));
    let v = Tensor::scalar(9.0f32);
    assert_eq!(
        x.pad(&v, &[1], &[-2], &[0]).unwrap(),
        f32s(&[9.0, 0.0, 1.0], &[3])
    );
    let rows = Tensor::from_vec(vec![0i32, 1, 2, 3, 4, 5], vec![3, 2]).unwrap();
    let idx = Tensor::from_vec(vec![2i64, 0], vec![2]).unwrap();
    assert_eq!(
        rows.take(&idx, 0).unwrap(),
        Tensor::from_vec(vec![4, 5, 0, 1], vec![2, 2]).unwrap()
    );
    assert!(rows.take(&idx, 2).is_err());
    assert!(rows.is_finite().is_err());
    // Traced: the same ops, compiled on the first call of a signature.
    let f = trace::function(|xs: &[Traced]| {
        let e = xs[0].index(&xs[1])?;
        let p = xs[0].pad(&e, &[0], &[1], &[1])?;
        Ok(vec![p.logistic()?, xs[0].atan2(&xs[0])?])
    });
    let got = f.call(&[x.clone(), Tensor::scalar(2i32)]).unwrap();
    let eager = {
        let e = x.index(&Tensor::scalar(2i32)).unwrap();
        let p = x.pad(&e, &[0], &[1], &[1]).unwrap();
        vec![p.logistic().unwrap(), x.atan2(&x).unwrap()]
    };
    assert_eq!(got, eager);
    assert_eq!(got[0].shape(), &[8]);
}
