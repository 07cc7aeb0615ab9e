//! Dynamic indexing (`dynamic_slice`, `dynamic_update_slice`) through every front end: the
//! builder's `index`/`set_index`, eager tensors, and the code the JIT emits for `x[i]` in a
//! loop.

use graphjit::ir::parse::parse_module;
use graphjit::jit::{compile_with, JitOptions};
use graphjit::{DType, Graph, Tensor};

fn i32s(v: &[i32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

#[test]
fn builder_index_and_set_index_clamp_like_jax() {
    let g = Graph::new("idx");
    let x = g.input("x", DType::I32, [3, 2]);
    let i = g.input("i", DType::I32, []);
    let row = x.index(i);
    let v = g.constant(i32s(&[-1, -2], &[2]));
    let y = x.set_index(i, v);
    g.outputs(&[row, y]);
    let exe = g.compile().unwrap();
    let x0 = i32s(&[1, 2, 3, 4, 5, 6], &[3, 2]);
    for (i, r, y) in [
        (1, [3, 4], [1, 2, -1, -2, 5, 6]),
        (-4, [1, 2], [-1, -2, 3, 4, 5, 6]),
        (7, [5, 6], [1, 2, 3, 4, -1, -2]),
    ] {
        let inputs = [x0.clone(), Tensor::scalar(i)];
        let want = vec![i32s(&r, &[2]), i32s(&y, &[3, 2])];
        assert_eq!(g.interpret(&inputs).unwrap(), want, "interpreted, i = {i}");
        assert_eq!(exe.run(&inputs).unwrap(), want, "compiled, i = {i}");
    }
}

#[test]
fn builder_reports_bad_indices_where_they_were_written() {
    let g = Graph::new("bad");
    let x = g.input("x", DType::F32, [4]);
    let f = g.input("f", DType::F32, []);
    let y = x.index(f);
    g.outputs(&[y]);
    let e = g.compile().unwrap_err().to_string();
    assert!(e.contains("must be a scalar integer"), "{e}");
    assert!(e.contains("ops_index.rs"), "{e}");

    let g = Graph::new("scalar");
    let s = g.input("s", DType::F32, []);
    let i = g.input("i", DType::I32, []);
    g.outputs(&[s.index(i)]);
    let e = g.compile().unwrap_err().to_string();
    assert!(e.contains("cannot index a scalar"), "{e}");
}

#[test]
fn eager_dynamic_slice_and_update() {
    let x = i32s(&[0, 1, 2, 3, 4, 5, 6, 7, 8], &[3, 3]);
    let (a, b) = (Tensor::scalar(2i64), Tensor::scalar(-1i64));
    let w = x.dynamic_slice(&[&a, &b], &[2, 2]).unwrap();
    assert_eq!(w, i32s(&[3, 4, 6, 7], &[2, 2]));
    let u = i32s(&[9, 9], &[1, 2]);
    let y = x.dynamic_update_slice(&u, &[&a, &a]).unwrap();
    assert_eq!(y, i32s(&[0, 1, 2, 3, 4, 5, 6, 9, 9], &[3, 3]));
    let mixed = Tensor::scalar(0i32);
    assert!(x.dynamic_slice(&[&a, &mixed], &[1, 1]).is_err());
    assert!(x.dynamic_slice(&[&a, &b], &[4, 1]).is_err());
}

/// `x[i]` in a loop reads one element: no copy (no `memcpy` call) and no scratch buffer.
#[test]
fn size_one_dynamic_slice_in_a_loop_is_a_load() {
    let path = format!("{}/ir/dynamic_index.gir", env!("CARGO_MANIFEST_DIR"));
    let m = parse_module(&std::fs::read_to_string(path).unwrap()).unwrap();
    let f = m.func("dot_loop").unwrap();
    let exe = compile_with(f, &JitOptions::default()).unwrap();
    assert!(!exe.clif().contains("call"), "{}", exe.clif());
    assert_eq!(exe.scratch_bytes(), 0);
    // A window that is not contiguous is copied into scratch instead.
    let w = compile_with(m.func("window").unwrap(), &JitOptions::default()).unwrap();
    assert!(w.scratch_bytes() > 0);
}

#[test]
fn reverse_in_the_builder_and_eagerly() {
    let g = Graph::new("rev");
    let x = g.input("x", DType::I32, [2, 3]);
    g.outputs(&[x.reverse(&[1, 0])]);
    let x0 = i32s(&[1, 2, 3, 4, 5, 6], &[2, 3]);
    let want = vec![i32s(&[6, 5, 4, 3, 2, 1], &[2, 3])];
    assert_eq!(g.interpret(std::slice::from_ref(&x0)).unwrap(), want);
    assert_eq!(
        g.compile().unwrap().run(std::slice::from_ref(&x0)).unwrap(),
        want
    );
    assert_eq!(
        x0.reverse(&[0]).unwrap(),
        i32s(&[4, 5, 6, 1, 2, 3], &[2, 3])
    );
    let e = x0.reverse(&[0, 0]).unwrap_err().to_string();
    assert!(e.contains("must be distinct"), "{e}");
    let e = x0.reverse(&[2]).unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn clamp_in_the_builder_and_eagerly() {
    let g = Graph::new("clamp");
    let x = g.input("x", DType::F64, [3]);
    let lo = g.scalar(-1.0f64);
    let hi = g.constant(Tensor::from_vec(vec![0.5f64, 2.0, f64::NAN], vec![3]).unwrap());
    g.outputs(&[x.clamp(lo, hi)]);
    let x0 = Tensor::from_vec(vec![-7.0f64, 1.5, 0.0], vec![3]).unwrap();
    let got = g.interpret(std::slice::from_ref(&x0)).unwrap();
    let run = g.compile().unwrap().run(std::slice::from_ref(&x0)).unwrap();
    assert_eq!(got, run);
    let v = got[0].as_slice::<f64>().unwrap();
    assert_eq!((v[0], v[1]), (-1.0, 1.5));
    assert!(v[2].is_nan());
    let e = x0
        .clamp(&Tensor::scalar(0i32), &Tensor::scalar(1i32))
        .unwrap_err()
        .to_string();
    assert!(e.contains("'clamp' min must have the type"), "{e}");
}
