//! Runs on borrowed buffers (`TensorRef`, `TensorMut`): compiled code reads and writes a
//! caller's memory in place, with the same checks as runs on owned tensors; and, with the
//! cargo feature `ndarray`, conversions between arrays and tensors and runs on views.
//!
//! `cargo test --test borrowed_runs` and `cargo test --features ndarray --test borrowed_runs`.

use graphjit::jit::compile;
use graphjit::prelude::parse_module;
use graphjit::{DType, Data, Error, RunOptions, Tensor, TensorMut, TensorRef};

fn exe(src: &str, name: &str) -> graphjit::jit::Executable {
    let m = parse_module(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    compile(m.func(name).unwrap()).unwrap()
}

const POLY8: &str = "func @poly8(%x: f32[8]) -> f32[8] {
  %c2 = const 2 : f32[8]
  %c1 = const 1 : f32[8]
  %c3 = const 3 : f32[8]
  %c4 = const 4 : f32[8]
  %t0 = mul %x, %c2 : f32[8]
  %t1 = add %t0, %c1 : f32[8]
  %t2 = mul %t1, %x : f32[8]
  %t3 = sub %t2, %c3 : f32[8]
  %t4 = add %x, %c4 : f32[8]
  %y = div %t3, %t4 : f32[8]
  return %y
}";

/// `x` reversed along its last axis, for any dtype: a layout op whose result a plain loop
/// gives independently.
fn reverse_src(dtype: DType) -> String {
    format!(
        "func @rev(%x: {dtype}[2,3]) -> {dtype}[2,3] {{\n  %y = reverse %x dims=[1] : {dtype}[2,3]\n  return %y\n}}"
    )
}

/// The plain Rust evaluation of poly8's expression, in f32 as the IR computes it.
fn poly(x: f32) -> f32 {
    ((x * 2.0 + 1.0) * x - 3.0) / (x + 4.0)
}

#[test]
fn slices_are_read_and_written_in_place() {
    let e = exe(POLY8, "poly8");
    let x = [0.0f32, 1.0, 4.0, -3.0, -4.0, 12.0, -2.0, 0.5];
    let mut y = [7.0f32; 8];
    let before = y.as_ptr();
    e.run_refs_into(
        &[TensorRef::new(&x, &[8]).unwrap()],
        &mut [TensorMut::new(&mut y, &[8]).unwrap()],
    )
    .unwrap();
    assert_eq!(y.as_ptr(), before);
    for (xi, yi) in x.iter().zip(&y) {
        assert_eq!(yi.to_bits(), poly(*xi).to_bits(), "x = {xi}");
    }
    // run_refs allocates the results; owned tensors lend themselves as borrowed ones.
    let t = Tensor::from_vec(x.to_vec(), [8]).unwrap();
    let got = e.run_refs(&[TensorRef::from(&t)]).unwrap();
    assert_eq!(got, e.run(std::slice::from_ref(&t)).unwrap());
    let mut out = Tensor::zeros(&e.result_types()[0]);
    e.run_refs_into(&[(&t).into()], &mut [(&mut out).into()])
        .unwrap();
    assert_eq!(out, got[0]);
}

#[test]
fn raw_bytes_of_every_dtype_run_like_owned_tensors() {
    for dtype in DType::ALL {
        let e = exe(&reverse_src(dtype), "rev");
        // Elements 0..6 of the dtype, from the bytes of an owned tensor (aligned, valid bools).
        let x = Tensor::new(Data::zeros(dtype, 6), [2, 3]).unwrap();
        let x = if dtype == DType::Bool {
            Tensor::from_vec(vec![true, false, false, true, true, false], [2, 3]).unwrap()
        } else {
            let bytes: Vec<u8> = (0..6 * dtype.size_bytes())
                .map(|i| (i * 37 + 1) as u8)
                .collect();
            Tensor::new(Data::from_bytes(dtype, &bytes).unwrap(), x.shape()).unwrap()
        };
        let mut out = vec![0u8; 6 * dtype.size_bytes()];
        // A Vec<u8> is only byte-aligned: copy into a u64 buffer for the output's alignment.
        let mut words = vec![0u64; out.len().div_ceil(8)];
        // SAFETY: the u64 buffer holds at least `out.len()` bytes.
        let out_bytes: &mut [u8] =
            unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast(), out.len()) };
        e.run_refs_into(
            &[TensorRef::from_bytes(dtype, &[2, 3], x.data().as_bytes()).unwrap()],
            &mut [TensorMut::from_bytes(dtype, &[2, 3], out_bytes).unwrap()],
        )
        .unwrap();
        out.copy_from_slice(out_bytes);
        // The plain loop: row r, column c comes from column 2 - c.
        let size = dtype.size_bytes();
        let src = x.data().as_bytes();
        let mut want = vec![0u8; src.len()];
        for r in 0..2 {
            for c in 0..3 {
                let (to, from) = ((r * 3 + c) * size, (r * 3 + 2 - c) * size);
                want[to..to + size].copy_from_slice(&src[from..from + size]);
            }
        }
        assert_eq!(out, want, "{dtype}");
    }
}

#[test]
fn borrowed_buffers_that_do_not_fit_are_errors() {
    let x = [1.0f32; 8];
    let msg = |e: Error| e.to_string();
    // The buffer and the shape disagree, or the shape breaks the limits.
    let e = msg(TensorRef::new(&x, &[9]).unwrap_err());
    assert!(e.contains("32 bytes, but 9 elements of f32 need 36"), "{e}");
    assert!(TensorRef::new(&x, &[1; 17]).is_err());
    let e = msg(TensorRef::new(&x[..0], &[0, usize::MAX, 2]).unwrap_err());
    assert!(e.contains("limits"), "{e}");
    // Bytes: misaligned, a length that is not whole elements, bools other than 0 and 1.
    let words = [0u64; 3];
    // SAFETY: the u64 buffer holds 24 bytes.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(words.as_ptr().cast(), 24) };
    let e = msg(TensorRef::from_bytes(DType::F32, &[4], &bytes[1..17]).unwrap_err());
    assert!(e.contains("not aligned for f32"), "{e}");
    assert!(TensorRef::from_bytes(DType::F64, &[2], &bytes[..15]).is_err());
    let e = msg(TensorRef::from_bytes(DType::Bool, &[3], &[1, 2, 0]).unwrap_err());
    assert!(e.contains("element 1 of the bool buffer is 2"), "{e}");
    // Type mismatches with the function, as for owned tensors.
    let e = exe(POLY8, "poly8");
    let ints = [1i32; 8];
    let mut y = [0.0f32; 8];
    let r = e.run_refs(&[TensorRef::new(&ints, &[8]).unwrap()]);
    assert!(msg(r.unwrap_err()).contains("must be f32[8], got i32[8]"));
    let r = e.run_refs(&[TensorRef::new(&x, &[2, 4]).unwrap()]);
    assert!(msg(r.unwrap_err()).contains("must be f32[8], got f32[2,4]"));
    let r = e.run_refs(&[]);
    assert!(msg(r.unwrap_err()).contains("takes 1 argument"));
    let r = e.run_refs_into(
        &[TensorRef::new(&x, &[8]).unwrap()],
        &mut [TensorMut::new(&mut y[..4], &[4]).unwrap()],
    );
    assert!(msg(r.unwrap_err()).contains("output 0 of @poly8 must be f32[8], got f32[4]"));
    let r = e.run_refs_into(&[TensorRef::new(&x, &[8]).unwrap()], &mut []);
    assert!(msg(r.unwrap_err()).contains("1 result(s), but 0 output"));
    // A tensor whose data was replaced lends a buffer of the wrong length: refused.
    let mut t = Tensor::from_vec(x.to_vec(), [8]).unwrap();
    *t.data_mut() = Data::F32(vec![1.0; 2].into());
    let r = e.run_refs(&[TensorRef::from(&t)]);
    assert!(msg(r.unwrap_err()).contains("holds 2 element(s)"));
    let good = Tensor::from_vec(x.to_vec(), [8]).unwrap();
    let r = e.run_refs_into(&[(&good).into()], &mut [(&mut t).into()]);
    assert!(r.is_err());
}

#[test]
fn borrowed_runs_respect_run_limits() {
    let src = "func @spin(%n: i64) -> i64 {
  %r = while (%i = %n) : i64 {
    %z = const 0 : i64
    %go = ge %i, %z : bool
    yield %go
  } do {
    %one = const 1 : i64
    %j = add %i, %one : i64
    yield %j
  }
  return %r
}";
    let e = exe(src, "spin");
    let n = [0i64];
    let mut out = [0i64];
    let r = e.run_refs_into_with(
        &[TensorRef::new(&n, &[]).unwrap()],
        &mut [TensorMut::new(&mut out, &[]).unwrap()],
        &RunOptions::default().with_max_iterations(1000),
    );
    assert!(r.unwrap_err().to_string().contains("limit of 1000"));
    // A memory budget counts what the run allocates: run_refs allocates its 8-byte result.
    let r = e.run_refs_with(
        &[TensorRef::new(&n, &[]).unwrap()],
        &RunOptions::default().with_memory_limit(7),
    );
    assert!(
        matches!(
            r,
            Err(Error::Run(graphjit::error::RunError::MemoryLimit { .. }))
        ),
        "{r:?}"
    );
}

#[cfg(feature = "ndarray")]
mod with_ndarray {
    use super::*;
    use graphjit::tensor::Element;
    use ndarray::{array, s, Array2, ArrayD, ArrayViewD, IxDyn};

    #[test]
    fn views_of_any_layout_copy_into_tensors_in_row_major_order() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as i32);
        let views = [
            a.view(),
            a.t(),
            a.slice(s![.., ..;2]),
            a.slice(s![..;-1, 1..3]),
        ];
        for v in views {
            let t = Tensor::from(v);
            assert_eq!(t.shape(), v.shape());
            // The reference: indexing the view element by element, row-major.
            let mut want = Vec::new();
            for i in 0..v.shape()[0] {
                for j in 0..v.shape()[1] {
                    want.push(v[[i, j]]);
                }
            }
            assert_eq!(t.as_slice::<i32>().unwrap(), want.as_slice());
        }
        // Scalars and empty arrays.
        assert_eq!(
            Tensor::from(ndarray::arr0(2.5f64).view()),
            Tensor::scalar(2.5f64)
        );
        let empty = Array2::<u8>::zeros((0, 3));
        assert_eq!(Tensor::from(empty.view()).shape(), [0, 3]);
        // An array beyond graphjit's rank limit becomes a tensor every run refuses.
        let deep = ArrayD::<f32>::zeros(IxDyn(&[1; 17]));
        let t = Tensor::from(deep.view());
        let e = exe(POLY8, "poly8");
        assert!(e.run(&[t]).is_err());
    }

    #[test]
    fn tensors_become_arrays_without_copying() {
        let t = Tensor::from_vec(vec![1u16, 2, 3, 4, 5, 6], [2, 3]).unwrap();
        let view = ArrayViewD::<u16>::try_from(&t).unwrap();
        assert_eq!(view.as_ptr(), t.as_slice::<u16>().unwrap().as_ptr());
        assert_eq!(view[[1, 0]], 4);
        let ptr = view.as_ptr();
        let owned = ArrayD::<u16>::try_from(t.clone()).unwrap();
        assert_eq!(owned, array![[1u16, 2, 3], [4, 5, 6]].into_dyn());
        let moved_from = t.as_slice::<u16>().unwrap().as_ptr();
        let moved = ArrayD::<u16>::try_from(t).unwrap();
        assert_eq!(moved.as_ptr(), moved_from, "the buffer moved, not copied");
        assert_ne!(ptr, owned.as_ptr(), "the clone is its own buffer");
        let e = ArrayD::<i16>::try_from(Tensor::scalar(1u16)).unwrap_err();
        assert!(e.to_string().contains("holds u16, not i16"), "{e}");
        assert!(ArrayViewD::<f32>::try_from(&Tensor::scalar(1.0f64)).is_err());
    }

    /// Every dtype: an array's view is reversed in place into another array, and equals the
    /// plain loop's reversal and the tensor path's.
    fn views_run_in_place<T: Element + PartialEq>(dtype: DType) {
        let e = exe(&reverse_src(dtype), "rev");
        let bytes: Vec<u8> = (0..6 * dtype.size_bytes())
            .map(|i| (i * 29 + 3) as u8)
            .collect();
        let x = if dtype == DType::Bool {
            Tensor::from_vec(vec![true, true, false, false, true, false], [2, 3]).unwrap()
        } else {
            Tensor::new(Data::from_bytes(dtype, &bytes).unwrap(), [2, 3]).unwrap()
        };
        let xs = x.as_slice::<T>().unwrap();
        let xa = Array2::from_shape_vec((2, 3), xs.to_vec()).unwrap();
        let mut out = Array2::from_elem((2, 3), xs[0]);
        let before = out.as_ptr();
        e.run_refs_into(
            &[xa.view().try_into().unwrap()],
            &mut [out.view_mut().try_into().unwrap()],
        )
        .unwrap();
        assert_eq!(out.as_ptr(), before, "{dtype}: written in place");
        for r in 0..2 {
            for c in 0..3 {
                assert!(
                    out[[r, c]].same(xa[[r, 2 - c]]),
                    "{dtype} [{r}, {c}]: {:?}",
                    out[[r, c]]
                );
            }
        }
        let owned = e.run(&[Tensor::from(xa.view())]).unwrap();
        assert_eq!(owned[0], Tensor::from(out.view()), "{dtype}");
    }

    #[test]
    fn views_of_every_dtype_run_in_place() {
        for dtype in DType::ALL {
            graphjit::dispatch_dtype!(dtype, |T| views_run_in_place::<T>(dtype));
        }
    }

    #[test]
    fn views_not_in_standard_layout_are_refused_with_the_way_out() {
        let e = exe(&reverse_src(DType::F32), "rev");
        let a = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f32);
        let err = TensorRef::try_from(a.t()).unwrap_err().to_string();
        assert!(
            err.contains("not in standard layout") && err.contains("as_standard_layout"),
            "{err}"
        );
        let wide = Array2::<f32>::zeros((2, 6));
        assert!(TensorRef::try_from(wide.slice(s![.., ..;2])).is_err());
        let row = ndarray::Array1::<f32>::zeros(3);
        let broadcast = row.broadcast((2, 3)).unwrap();
        assert!(TensorRef::try_from(broadcast).is_err());
        let mut out = Array2::<f32>::zeros((3, 2));
        let err = TensorMut::try_from(out.view_mut().reversed_axes()).unwrap_err();
        assert!(err.to_string().contains("strides [1, 2]"), "{err}");
        // The way out works: a standard-layout copy runs, and gives the transpose's reversal.
        let std = a.t().as_standard_layout().into_owned();
        let mut y = Array2::<f32>::zeros((2, 3));
        e.run_refs_into(
            &[std.view().try_into().unwrap()],
            &mut [y.view_mut().try_into().unwrap()],
        )
        .unwrap();
        assert_eq!(y, array![[4.0f32, 2.0, 0.0], [5.0, 3.0, 1.0]]);
    }
}
