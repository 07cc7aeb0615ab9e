//! The StableHLO importer on the ops of issue 11 part B, written as JAX prints them (pretty
//! and generic forms): `pad` (with a negative edge), `gather` (jnp.take, x[:, idx], x[i]),
//! `select` with a scalar predicate, `dot_general` (batched, vector, widening), `case`,
//! `reverse`, and the elementwise math ops, including `chlo.erf` and `is_finite`. Each program
//! runs in the interpreter and every compiled variant (the same bits), against values worked
//! out by hand from the spec.

mod common;

use common::check_both;
use graphjit::stablehlo::parse;
use graphjit::Tensor;

/// Imports `text` and runs `@main` on `inputs` in both executors; returns the results.
fn run(text: &str, inputs: &[Tensor]) -> Vec<Tensor> {
    let m = parse(text).unwrap_or_else(|e| panic!("import: {e}\n{text}"));
    let f = m.func("main").expect("@main").clone();
    check_both(&f, inputs, "stablehlo")
}

fn f32s(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

fn i32s(v: &[i32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

#[test]
fn pad_with_a_negative_low_edge_and_interior() {
    let text = r#"
func.func public @main(%arg0: tensor<4xf32>) -> (tensor<7xf32>, tensor<5xf32>) {
  %cst = stablehlo.constant dense<-1.0> : tensor<f32>
  %0 = stablehlo.pad %arg0, %cst, low = [-1], high = [2], interior = [1] : (tensor<4xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = "stablehlo.pad"(%arg0, %cst) <{edge_padding_high = array<i64: 0>, edge_padding_low = array<i64: -2>, interior_padding = array<i64: 1>}> : (tensor<4xf32>, tensor<f32>) -> tensor<5xf32>
  %2 = stablehlo.slice %0 [0:7] : (tensor<8xf32>) -> tensor<7xf32>
  return %2, %1 : tensor<7xf32>, tensor<5xf32>
}
"#;
    // Interior: [1, p, 2, p, 3, p, 4]; low -1 drops the 1; high 2 adds two p; the slice
    // keeps 7 of those 8. Low -2 drops the 1 and the p after it.
    let got = run(text, &[f32s(&[1.0, 2.0, 3.0, 4.0], &[4])]);
    assert_eq!(got[0], f32s(&[-1.0, 2.0, -1.0, 3.0, -1.0, 4.0, -1.0], &[7]));
    assert_eq!(got[1], f32s(&[2.0, -1.0, 3.0, -1.0, 4.0], &[5]));
}

#[test]
fn gather_as_jnp_take_and_column_indexing() {
    let text = r#"
func.func public @main(%arg0: tensor<3x4xf32>, %arg1: tensor<2xi32>) -> (tensor<3x2xf32>, tensor<2x4xf32>) {
  %0 = stablehlo.broadcast_in_dim %arg1, dims = [0] : (tensor<2xi32>) -> tensor<2x1xi32>
  %1 = "stablehlo.gather"(%arg0, %0) <{dimension_numbers = #stablehlo.gather<offset_dims = [0], collapsed_slice_dims = [1], start_index_map = [1], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 3, 1>}> : (tensor<3x4xf32>, tensor<2x1xi32>) -> tensor<3x2xf32>
  %2 = "stablehlo.gather"(%arg0, %0) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, indices_are_sorted = true, slice_sizes = array<i64: 1, 4>}> : (tensor<3x4xf32>, tensor<2x1xi32>) -> tensor<2x4xf32>
  return %1, %2 : tensor<3x2xf32>, tensor<2x4xf32>
}
"#;
    let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let got = run(text, &[f32s(&x, &[3, 4]), i32s(&[3, -2], &[2])]);
    // Columns 3 and 0 (-2 clamps to 0) of each row; rows 2 (3 clamps to 2) and 0.
    assert_eq!(got[0], f32s(&[3.0, 0.0, 7.0, 4.0, 11.0, 8.0], &[3, 2]));
    assert_eq!(
        got[1],
        f32s(&[8.0, 9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 3.0], &[2, 4])
    );
}

#[test]
fn scalar_select_case_and_reverse() {
    let text = r#"
func.func public @main(%arg0: tensor<i1>, %arg1: tensor<3xi32>, %arg2: tensor<i32>) -> (tensor<3xi32>, tensor<3xi32>) {
  %0 = stablehlo.reverse %arg1, dims = [0] : tensor<3xi32>
  %1 = stablehlo.select %arg0, %arg1, %0 : tensor<i1>, tensor<3xi32>
  %2 = "stablehlo.case"(%arg2) ({
    stablehlo.return %arg1 : tensor<3xi32>
  }, {
    stablehlo.return %0 : tensor<3xi32>
  }, {
    %3 = stablehlo.add %arg1, %0 : tensor<3xi32>
    stablehlo.return %3 : tensor<3xi32>
  }) : (tensor<i32>) -> tensor<3xi32>
  return %1, %2 : tensor<3xi32>, tensor<3xi32>
}
"#;
    let x = i32s(&[1, 2, 3], &[3]);
    let r = i32s(&[3, 2, 1], &[3]);
    let s = i32s(&[4, 4, 4], &[3]);
    for (p, k, want_sel, want_case) in [
        (true, 0, &x, &x),
        (false, 1, &r, &r),
        (true, 2, &x, &s),
        // An out-of-range index runs the last branch, at both ends.
        (false, 7, &r, &s),
        (true, -1, &x, &s),
    ] {
        let got = run(text, &[Tensor::scalar(p), x.clone(), Tensor::scalar(k)]);
        assert_eq!(&got[0], want_sel, "select {p}");
        assert_eq!(&got[1], want_case, "case {k}");
    }
}

#[test]
fn dot_general_batched_vector_and_widening() {
    let text = r#"
func.func public @main(%arg0: tensor<2x2x3xf32>, %arg1: tensor<2x3x2xf32>, %arg2: tensor<3xi8>) -> (tensor<2x2x2xf32>, tensor<i32>, tensor<3x2xf32>) {
  %0 = stablehlo.dot_general %arg0, %arg1, batching_dims = [0] x [0], contracting_dims = [2] x [1], precision = [DEFAULT, DEFAULT] : (tensor<2x2x3xf32>, tensor<2x3x2xf32>) -> tensor<2x2x2xf32>
  %1 = stablehlo.dot_general %arg2, %arg2, contracting_dims = [0] x [0] : (tensor<3xi8>, tensor<3xi8>) -> tensor<i32>
  %2 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [0, 1] x [0, 2] : (tensor<2x2x3xf32>, tensor<2x3x2xf32>) -> tensor<3x3xf32>
  %3 = stablehlo.slice %2 [0:3, 0:2] : (tensor<3x3xf32>) -> tensor<3x2xf32>
  return %0, %1, %3 : tensor<2x2x2xf32>, tensor<i32>, tensor<3x2xf32>
}
"#;
    let a: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let b: Vec<f32> = (0..12).map(|v| (v % 5) as f32 - 2.0).collect();
    let got = run(
        text,
        &[
            f32s(&a, &[2, 2, 3]),
            f32s(&b, &[2, 3, 2]),
            Tensor::from_vec(vec![100i8, -100, 50], vec![3]).unwrap(),
        ],
    );
    // Plain loops: small integers, so every sum is exact whatever the order.
    let mut bmm = vec![0f32; 8];
    for q in 0..2 {
        for i in 0..2 {
            for j in 0..2 {
                for p in 0..3 {
                    bmm[(q * 2 + i) * 2 + j] += a[(q * 2 + i) * 3 + p] * b[(q * 3 + p) * 2 + j];
                }
            }
        }
    }
    assert_eq!(got[0], f32s(&bmm, &[2, 2, 2]));
    assert_eq!(got[1], Tensor::scalar(100 * 100 + 100 * 100 + 50 * 50));
    // Contract a's (batch, row) with b's (batch, column): c[p, r] = sum_{q,i} a[q,i,p] b[q,r,i].
    let mut c = [0f32; 9];
    for p in 0..3 {
        for r in 0..3 {
            for q in 0..2 {
                for i in 0..2 {
                    c[p * 3 + r] += a[(q * 2 + i) * 3 + p] * b[(q * 3 + r) * 2 + i];
                }
            }
        }
    }
    let sliced: Vec<f32> = (0..3).flat_map(|p| [c[p * 3], c[p * 3 + 1]]).collect();
    assert_eq!(got[2], f32s(&sliced, &[3, 2]));
}

#[test]
fn elementwise_math_as_jax_prints_it() {
    let text = r#"
func.func public @main(%arg0: tensor<4xf32>, %arg1: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi32>, tensor<4xi32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = chlo.erf %arg0 : tensor<4xf32> -> tensor<4xf32>
  %1 = stablehlo.logistic %arg0 : tensor<4xf32>
  %2 = stablehlo.sign %arg0 : tensor<4xf32>
  %3 = stablehlo.is_finite %arg0 : (tensor<4xf32>) -> tensor<4xi1>
  %4 = stablehlo.popcnt %arg1 : tensor<4xi32>
  %5 = stablehlo.count_leading_zeros %arg1 : tensor<4xi32>
  %6 = stablehlo.round_nearest_afz %arg0 : tensor<4xf32>
  %7 = stablehlo.exponential_minus_one %arg0 : tensor<4xf32>
  %8 = stablehlo.atan2 %arg0, %arg0 : tensor<4xf32>
  %9 = stablehlo.log_plus_one %7 : tensor<4xf32>
  %10 = stablehlo.rsqrt %arg0 : tensor<4xf32>
  %11 = stablehlo.cbrt %arg0 : tensor<4xf32>
  %12 = stablehlo.add %10, %11 : tensor<4xf32>
  return %0, %1, %2, %3, %4, %5, %6, %8, %9 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi32>, tensor<4xi32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
"#;
    let x = f32s(&[0.0, -2.5, f32::INFINITY, f32::NAN], &[4]);
    let got = run(text, &[x, i32s(&[0, 7, -1, 256], &[4])]);
    let nan = f32::NAN;
    assert_eq!(got[0], f32s(&[0.0, -0.999593, 1.0, nan], &[4]));
    assert_eq!(got[2], f32s(&[0.0, -1.0, 1.0, nan], &[4]));
    assert_eq!(
        got[3],
        Tensor::from_vec(vec![true, true, false, false], vec![4]).unwrap()
    );
    assert_eq!(got[4], i32s(&[0, 3, 32, 1], &[4]));
    assert_eq!(got[5], i32s(&[32, 29, 0, 23], &[4]));
    assert_eq!(got[6], f32s(&[0.0, -3.0, f32::INFINITY, nan], &[4]));
    // atan2(x, x): 0, -3pi/4, pi/4, NaN.
    let pi = std::f32::consts::PI;
    assert_eq!(got[7], f32s(&[0.0, -3.0 * pi / 4.0, pi / 4.0, nan], &[4]));
    // logistic(0) = 1/2, logistic(inf) = 1.
    let l = got[1].as_slice::<f32>().unwrap();
    assert_eq!((l[0], l[2]), (0.5, 1.0));
    assert!((l[1] - 1.0 / (1.0 + 2.5f32.exp())).abs() < 1e-7);
}
