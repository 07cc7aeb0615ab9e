//! The `graphjit` command on StableHLO files: `run`, `check`, `dump`, and `import`, whose
//! graphjit IR must run with the same results as the `.mlir` it came from.

use std::process::{Command, Output};

fn graphjit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graphjit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the graphjit binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = graphjit(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "graphjit {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn run_mlir_compiled_and_interpreted() {
    // JAX's counter counts to its argument; gcd(1071, 462) = 21.
    assert_eq!(ok(&["run", "tests/stablehlo/counter.mlir", "10"]), "10\n");
    assert_eq!(
        ok(&["run", "--interp", "tests/stablehlo/counter.mlir", "10"]),
        "10\n"
    );
    assert_eq!(
        ok(&["run", "tests/stablehlo/gcd.mlir", "1071", "462"]),
        "21\n"
    );
    assert_eq!(
        ok(&["run", "--interp", "tests/stablehlo/gcd.mlir", "1071", "462"]),
        "21\n"
    );
    assert!(ok(&["check", "tests/stablehlo/mlp.mlir"]).contains("ok, 1 function(s)"));
    assert!(ok(&["dump", "--stage", "clif", "tests/stablehlo/counter.mlir"]).contains("function"));
}

#[test]
fn imported_ir_reads_back_and_gives_the_same_results() {
    let gir = ok(&["import", "tests/stablehlo/collatz.mlir"]);
    let dir = std::env::temp_dir().join(format!("graphjit-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("main.gir");
    std::fs::write(&path, &gir).unwrap();
    let p = path.to_str().unwrap();
    assert!(ok(&["check", p]).contains("ok"));
    // Collatz from 27 takes 111 steps.
    assert_eq!(
        ok(&["run", "tests/stablehlo/collatz.mlir", "27"]),
        "1\n111\n"
    );
    assert_eq!(ok(&["run", p, "27"]), "1\n111\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn import_errors_name_the_file_and_place() {
    let dir = std::env::temp_dir().join(format!("graphjit-bad-mlir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fancy.mlir");
    std::fs::write(
        &path,
        "func.func @main(%a: tensor<f32>) -> tensor<f32> {\n  %0 = stablehlo.fancy %a : tensor<f32>\n  return %0 : tensor<f32>\n}\n",
    )
    .unwrap();
    let out = graphjit(&["run", path.to_str().unwrap(), "1.0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fancy.mlir") && err.contains("2:8: op 'stablehlo.fancy' is not supported"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
    let out = graphjit(&["import", "ir/counter.gir"]);
    assert_eq!(out.status.code(), Some(1));
}
