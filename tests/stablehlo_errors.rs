//! Bad StableHLO input: every case is an error with the `line:col` of what is wrong and a
//! message that names it, never a panic; plus the importer's behaviour on a few valid forms
//! that the JAX fixtures do not exercise.

use graphjit::interp::interpret;
use graphjit::stablehlo::parse;
use graphjit::Tensor;

/// Imports `text`, which must fail at `at` ("line:col") with a message containing `needle`.
fn fails_at(text: &str, at: &str, needle: &str) {
    let e = parse(text).expect_err("the import should fail").to_string();
    assert!(
        e.starts_with(&format!("{at}: ")),
        "error at the wrong place: {e}"
    );
    assert!(e.contains(needle), "unexpected message: {e}");
}

/// A module whose `@main(%a: tensor<f32>)` body is `body`.
fn main_f32(body: &str) -> String {
    format!("func.func public @main(%a: tensor<f32>) -> tensor<f32> {{\n{body}\n}}\n")
}

#[test]
fn malformed_text() {
    fails_at(
        "func.func @main(%a: tensor<f32>) -> tensor<f32> {\n  return %a : tensor<f32>\n",
        "1:49",
        "never closed",
    );
    fails_at("func.func @main(%a tensor<f32>)", "1:20", "expected ':'");
    fails_at(
        &main_f32("  %0 = stablehlo.add %a, : tensor<f32>"),
        "2:26",
        "expected an operand or attribute",
    );
    fails_at(
        "module {\n  %0 = stablehlo.add %a, %a : tensor<f32>\n}",
        "2:3",
        "expected 'func.func'",
    );
    fails_at(
        &main_f32("  %0 = stablehlo.add %a, %b : tensor<f32>\n  return %0 : tensor<f32>"),
        "2:26",
        "undefined value '%b'",
    );
    fails_at(
        &main_f32("  return %a : tensor<f32>\n  %0 = stablehlo.add %a, %a : tensor<f32>"),
        "2:3",
        "must end its region",
    );
    fails_at(&main_f32("  %0 = stablehlo.constant dense<[1.0, 2.0]> : tensor<3xf32>\n  return %a : tensor<f32>"), "2:8", "shape [2]");
    fails_at(&main_f32("  %0 = stablehlo.constant dense<[[1.0], 2.0]> : tensor<2xf32>\n  return %a : tensor<f32>"), "2:41", "mixes lists and elements");
    fails_at(
        &main_f32(
            "  %0 = stablehlo.constant dense<0x1FF800000> : tensor<f32>\n  return %a : tensor<f32>",
        ),
        "2:33",
        "more bits than f32",
    );
}

#[test]
fn unknown_and_unsupported_ops_are_named() {
    fails_at(
        &main_f32("  %0 = stablehlo.fancy %a : tensor<f32>\n  return %0 : tensor<f32>"),
        "2:8",
        "op 'stablehlo.fancy' is not supported",
    );
    fails_at(&main_f32("  %0 = stablehlo.custom_call @Sharding(%a) : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>"), "2:8", "custom_call' (target @Sharding) is not supported");
    fails_at(&main_f32("  %0 = stablehlo.compare LT, %a, %a, SIGNED : (tensor<f32>, tensor<f32>) -> tensor<i1>\n  return %a : tensor<f32>"), "2:8", "SIGNED does not match");
}

#[test]
fn unsupported_types() {
    fails_at(
        "func.func @main(%a: tensor<?xf32>) -> tensor<f32> {",
        "1:28",
        "dynamic dimensions",
    );
    fails_at(
        "func.func @main(%a: tensor<2xcomplex<f32>>) -> tensor<f32> {",
        "1:28",
        "complex",
    );
    fails_at(
        "func.func @main(%a: !stablehlo.token) -> tensor<f32> {",
        "1:21",
        "tokens",
    );
    fails_at(
        "func.func @main(%a: tensor<2x!quant.uniform<i8:f32, 1.0>>) -> tensor<f32> {",
        "1:28",
        "quantized",
    );
    fails_at(
        "func.func @main(%a: tensor<2xf8E4M3FN>) -> tensor<f32> {",
        "1:28",
        "element type 'f8E4M3FN' is not supported",
    );
}

#[test]
fn declared_types_are_checked_against_graphjit() {
    fails_at(
        &main_f32("  %0 = stablehlo.add %a, %a : tensor<2xf32>\n  return %a : tensor<f32>"),
        "2:8",
        "declared to give (tensor<2xf32>) but graphjit infers (tensor<f32>)",
    );
    fails_at(&main_f32("  %0 = \"stablehlo.add\"(%a, %a) : (tensor<f32>, tensor<i32>) -> tensor<f32>\n  return %a : tensor<f32>"), "2:28", "operand 1 of 'stablehlo.add' is declared tensor<i32> but is tensor<f32>");
    fails_at(&main_f32("  %0 = stablehlo.convert %a : (tensor<f32>) -> tensor<3xi32>\n  return %a : tensor<f32>"), "2:8", "'stablehlo.convert'");
    fails_at(
        &main_f32("  return %a : tensor<f32>").replace("-> tensor<f32>", "-> tensor<i64>"),
        "2:3",
        "the function's result types",
    );
}

#[test]
fn regions_with_the_wrong_arity() {
    let text = main_f32(
        "  %0 = \"stablehlo.while\"(%a) ({\n  ^bb0(%x: tensor<f32>, %y: tensor<f32>):\n    %c = stablehlo.compare LT, %x, %x, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>\n    stablehlo.return %c : tensor<i1>\n  }, {\n  ^bb0(%x: tensor<f32>):\n    stablehlo.return %x : tensor<f32>\n  }) : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>",
    );
    fails_at(
        &text,
        "2:31",
        "while's cond region has 2 argument(s), but graphjit expects 1",
    );
    let body_yields_two = main_f32(
        "  %0 = stablehlo.while(%x = %a) : tensor<f32>\n  cond {\n    %c = stablehlo.compare LT, %x, %x, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>\n    stablehlo.return %c : tensor<i1>\n  } do {\n    stablehlo.return %x, %x : tensor<f32>, tensor<f32>\n  }\n  return %0 : tensor<f32>",
    );
    fails_at(&body_yields_two, "7:5", "the loop-carried types");
    let reduce = main_f32(
        "  %0 = stablehlo.reduce(%a init: %a) across dimensions = [] : (tensor<f32>, tensor<f32>) -> tensor<f32>\n   reducer(%p: tensor<f32>, %q: tensor<i32>) {\n    stablehlo.return %p : tensor<f32>\n  }\n  return %0 : tensor<f32>",
    );
    fails_at(
        &reduce,
        "3:46",
        "argument '%q' of the region of 'stablehlo.reduce' is declared tensor<i32> but graphjit gives it tensor<f32>",
    );
}

#[test]
fn huge_constants_and_deep_nesting() {
    fails_at(&main_f32("  %0 = stablehlo.constant dense<0.0> : tensor<100000x100000xf32>\n  return %a : tensor<f32>"), "2:47", "more elements than the limit");
    fails_at(&main_f32("  %0 = stablehlo.constant dense<0.0> : tensor<4096x8192xf32>\n  return %a : tensor<f32>"), "2:8", "more than 16777216 elements");
    let mut deep =
        String::from("func.func @main(%p: tensor<i1>, %a: tensor<f32>) -> tensor<f32> {\n");
    for _ in 0..200 {
        deep.push_str("%r = \"stablehlo.if\"(%p) ({\n");
    }
    fails_at(&deep, "65:26", "nested more than 64 deep");
    let attrs = format!(
        "func.func @main() -> () attributes {{x = {}1{}}} {{",
        "[".repeat(100),
        "]".repeat(100)
    );
    fails_at(&attrs, "1:105", "nesting is too deep");
    let calls: String = (0..100)
        .map(|i| format!("func.func private @f{i}(%a: tensor<f32>) -> tensor<f32> {{\n  %0 = call @f{}(%a) : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}}\n", i + 1))
        .collect();
    let text = format!("{}func.func @main(%a: tensor<f32>) -> tensor<f32> {{\n  %0 = call @f0(%a) : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}}\n", calls);
    let e = parse(&text).unwrap_err().to_string();
    assert!(
        e.contains("nested too deeply") || e.contains("undefined function"),
        "{e}"
    );
    let rec = "func.func @main(%a: tensor<f32>) -> tensor<f32> {\n  %0 = call @main(%a) : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}";
    fails_at(rec, "2:8", "recursive call of @main");
}

/// Forms JAX prints that the fixtures do not all exercise: generic `while` with block
/// arguments named differently in cond and body, multi-result values, hex constants and
/// hex-string constants, an unordered `broadcast_in_dim`, `case` with an out-of-range index.
#[test]
fn valid_forms_run() {
    let text = r#"
#loc1 = loc("x")
module @m attributes {mhlo.num_partitions = 1 : i32} {
  func.func public @main(%arg0: tensor<i64> loc("n"), %arg1: tensor<2x3xf32>) -> (tensor<i64> {jax.result_info = "r"}, tensor<3x2xf32>, tensor<2xf32>, tensor<f32>) {
    %c = stablehlo.constant dense<0> : tensor<i64>
    %0:2 = "stablehlo.while"(%c, %arg0) ({
    ^bb0(%i: tensor<i64>, %n: tensor<i64>):
      %1 = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    }, {
    ^bb0(%j: tensor<i64>, %m: tensor<i64>):
      %c1 = stablehlo.constant dense<3> : tensor<i64>
      %2 = stablehlo.add %j, %c1 : tensor<i64>
      stablehlo.return %2, %m : tensor<i64>, tensor<i64>
    }) : (tensor<i64>, tensor<i64>) -> (tensor<i64>, tensor<i64>) loc(#loc1)
    %t = stablehlo.transpose %arg1, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %h = stablehlo.constant dense<"0x0000803F000000C0"> : tensor<2xf32>
    %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
    %k = stablehlo.constant dense<7> : tensor<i32>
    %s = "stablehlo.case"(%k) ({
      stablehlo.return %ninf : tensor<f32>
    }, {
      %z = stablehlo.constant dense<2.5> : tensor<f32>
      stablehlo.return %z : tensor<f32>
    }) : (tensor<i32>) -> tensor<f32>
    return %0#0, %t, %h, %s : tensor<i64>, tensor<3x2xf32>, tensor<2xf32>, tensor<f32>
  } loc(#loc1)
} loc(#loc1)
#loc2 = loc(callsite(#loc1 at #loc1))
"#;
    let m = parse(text).unwrap();
    let main = m.func("main").unwrap();
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]).unwrap();
    let out = interpret(main, &[Tensor::scalar(10i64), x]).unwrap();
    assert_eq!(out[0], Tensor::scalar(12i64));
    assert_eq!(
        out[1],
        Tensor::from_vec(vec![1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0], vec![3, 2]).unwrap()
    );
    assert_eq!(
        out[2],
        Tensor::from_vec(vec![1.0f32, -2.0], vec![2]).unwrap()
    );
    assert_eq!(out[3], Tensor::scalar(2.5f32));
}

#[test]
fn unordered_broadcast_dimensions_transpose_first() {
    let text = "func.func @main(%a: tensor<2x3xi32>) -> tensor<3x4x2xi32> {\n  %0 = stablehlo.broadcast_in_dim %a, dims = [2, 0] : (tensor<2x3xi32>) -> tensor<3x4x2xi32>\n  return %0 : tensor<3x4x2xi32>\n}";
    let m = parse(text).unwrap();
    let x = Tensor::from_vec(vec![1i32, 2, 3, 4, 5, 6], vec![2, 3]).unwrap();
    let out = interpret(&m.funcs[0], &[x]).unwrap();
    // result[i, j, k] = a[k, i].
    let got = out[0].as_slice::<i32>().unwrap();
    for i in 0..3 {
        for j in 0..4 {
            for k in 0..2 {
                assert_eq!(got[(i * 4 + j) * 2 + k], [1, 2, 3, 4, 5, 6][k * 3 + i]);
            }
        }
    }
}
