//! Runs compiled code directly on ndarray views (cargo feature `ndarray`): the inputs are read
//! and the output written in place, with no copy; a transposed view is refused with a clear
//! error, and `as_standard_layout()` makes it usable.
//!
//! `cargo run --example ndarray_views --features ndarray`

use graphjit::prelude::*;
use ndarray::{Array2, ArrayD};

const IR: &str = "
func @axpy(%a: f32, %x: f32[2,3], %y: f32[2,3]) -> f32[2,3] {
  %ab = broadcast %a dims=[] : f32[2,3]
  %ax = mul %ab, %x : f32[2,3]
  %r = add %ax, %y : f32[2,3]
  return %r
}
";

fn main() -> Result<(), Error> {
    let module = parse_module(IR)?;
    let exe = compile(module.func("axpy").expect("the module defines @axpy"))?;

    let a = ndarray::arr0(2.0f32);
    let x = Array2::from_shape_fn((2, 3), |(i, j)| (3 * i + j) as f32);
    let y = Array2::from_elem((2, 3), 0.5f32);
    let mut out = Array2::<f32>::zeros((2, 3));
    let before = out.as_ptr();

    // Borrowed inputs and output: compiled code reads `x` and `y` and writes `out` in place.
    exe.run_refs_into(
        &[
            a.view().try_into()?,
            x.view().try_into()?,
            y.view().try_into()?,
        ],
        &mut [out.view_mut().try_into()?],
    )?;
    assert_eq!(out.as_ptr(), before, "the output was written in place");
    let want = &x * 2.0 + &y;
    assert_eq!(out, want);
    println!("2 * x + y, written into the caller's array:\n{out}");

    // A transposed view is not row-major: it cannot be used in place.
    let xt = Array2::from_shape_fn((3, 2), |(i, j)| (i + 3 * j) as f32);
    let err = TensorRef::try_from(xt.t()).expect_err("a transposed view is refused");
    println!("\na transposed view: {err}");
    // `as_standard_layout()` copies it into row-major order (a view, when it already is one).
    let xt_std = xt.t().as_standard_layout().into_owned();
    exe.run_refs_into(
        &[
            a.view().try_into()?,
            xt_std.view().try_into()?,
            y.view().try_into()?,
        ],
        &mut [out.view_mut().try_into()?],
    )?;
    assert_eq!(out, want, "x and xt's transpose are the same matrix");

    // Tensors to arrays and back: `Tensor::from` copies any view; `ArrayD::try_from` moves the
    // tensor's buffer into an array.
    let results = exe.run(&[
        Tensor::from(a.view()),
        Tensor::from(xt.t()),
        Tensor::from(y.view()),
    ])?;
    let back = ArrayD::<f32>::try_from(results.into_iter().next().expect("one result"))?;
    assert_eq!(back, want.into_dyn());
    println!("\nthe same through owned tensors:\n{back}");
    Ok(())
}
