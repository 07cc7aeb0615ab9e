//! The command line with real data: `@x.npy` arguments, `--inputs` bound by parameter name,
//! `--save-outputs`, `--format json` parsed back, `bench --json`, and negative literals in every
//! position without `--`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use graphjit::tensor_io::{read_tensors, write_tensors};
use graphjit::Tensor;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn graphjit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graphjit"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("the graphjit binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = graphjit(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "graphjit {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn fails(args: &[&str]) -> String {
    let out = graphjit(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "graphjit {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graphjit-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The done-when check, scaled down: `x` is what `rand:f32[1024]` generates, written by NumPy;
/// `y` is NumPy's float32 evaluation of the same expression. Both executors, fed the file,
/// give the generator path's bits and NumPy's, and save them where `read_npz` finds them.
#[test]
fn poly_on_a_numpy_file_matches_the_generator_and_numpy() {
    let dir = scratch("poly");
    let gir = "tests/data/poly1k.gir";
    let x = "@tests/data/npy/poly_x1024.npy";
    let numpy_y = Tensor::read_npy(format!("{ROOT}/tests/data/npy/poly_y1024.npy")).unwrap();
    let generated = ok(&["run", gir, "rand:f32[1024]", "--format", "json"]);
    for interp in [false, true] {
        let out = dir.join(format!("y{interp}.npz"));
        let mut args = vec!["run", gir, x, "--save-outputs", s(&out), "--format", "json"];
        if interp {
            args.push("--interp");
        }
        let json = ok(&args);
        assert_eq!(json, generated, "the file gives the generator's results");
        let saved = read_tensors(&out).unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!(
            saved[0].0, "y",
            "outputs are named after the returned value"
        );
        assert_eq!(saved[0].1, numpy_y, "graphjit computes what NumPy computes");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The done-when check at full size: a library-written `.npy` of the generator's
/// `rand:f32[1048576]`, run through `ir/poly.gir` in both executors, gives the generator path's
/// results, and those are a plain Rust loop's f32 evaluation of the expression, bit for bit.
#[test]
fn poly_on_a_2_20_element_file_matches_the_generator_in_both_executors() {
    let dir = scratch("poly20");
    let ty = graphjit::args::parse_type("f32[1048576]").unwrap();
    let x = graphjit::args::generate("rand", &ty).unwrap();
    let x_file = dir.join("x.npy");
    x.write_npy(&x_file).unwrap();
    let want: Vec<f32> = x
        .as_slice::<f32>()
        .unwrap()
        .iter()
        .map(|&x| ((x * 2.0 + 1.0) * x - 3.0) / (x + 4.0))
        .collect();
    let want = Tensor::from_vec(want, [1 << 20]).unwrap();
    let generated = dir.join("generated.npz");
    ok(&[
        "run",
        "ir/poly.gir",
        "rand:f32[1048576]",
        "--save-outputs",
        s(&generated),
    ]);
    let generated = read_tensors(&generated).unwrap();
    assert_eq!(
        generated[0].1, want,
        "the generator path computes the expression"
    );
    let arg = format!("@{}", s(&x_file));
    for interp in [false, true] {
        let out = dir.join(format!("y{interp}.npz"));
        let mut args = vec!["run", "ir/poly.gir", &arg, "--save-outputs", s(&out)];
        if interp {
            args.push("--interp");
        }
        ok(&args);
        let saved = read_tensors(&out).unwrap();
        assert_eq!(saved[0].0, "y");
        assert_eq!(
            saved[0].1.data().as_bytes(),
            want.data().as_bytes(),
            "interp: {interp}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_output_parses_back_to_the_results() {
    let out = ok(&[
        "run",
        "ir/poly.gir",
        "--func",
        "poly8",
        "[0, 1, 4, -3, -4, 12, -2, -nan]",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["func"], "poly8");
    let r = &v["results"][0];
    assert_eq!(r["dtype"], "f32");
    assert_eq!(r["shape"], serde_json::json!([8]));
    let values: Vec<&str> = r["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        ["-0.75", "0.0", "4.125", "12.0", "inf", "18.5625", "1.5", "nan"]
    );
    // Each value's bits are those of its text, and the NaN keeps its sign.
    let bits: Vec<u32> = r["bits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| u32::from_str_radix(b.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
        .collect();
    for (text, b) in values.iter().zip(&bits).take(7) {
        assert_eq!(text.parse::<f32>().unwrap().to_bits(), *b, "{text}");
    }
    assert!(f32::from_bits(bits[7]).is_nan());
    // Integer results are JSON numbers; the counter's results are named after %f and %s.
    let v: Value = serde_json::from_str(&ok(&[
        "run",
        "ir/counter.gir",
        "0",
        "-5",
        "--format",
        "json",
    ]))
    .unwrap();
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["f", "s"]);
    assert_eq!(v["results"][0]["values"], serde_json::json!([0]));
    assert_eq!(v["results"][1]["values"], serde_json::json!([-5]));
}

/// The narrow dtypes in JSON and files: integers are exact JSON numbers (u8 products wrap,
/// u32 division by zero gives all ones), 16-bit floats carry 16-bit patterns, and bf16 results
/// save to safetensors but not to `.npz` (NumPy has no bf16).
#[test]
fn narrow_dtypes_in_json_and_files() {
    let json = |args: &[&str]| -> Value {
        let mut a = vec!["run", "ir/dtypes.gir"];
        a.extend(args);
        a.extend(["--format", "json"]);
        serde_json::from_str(&ok(&a)).unwrap()
    };
    // 100*3 = 300 = 256 + 44, 600 = 2*256 + 88, 765 = 2*256 + 253.
    let v = json(&["-f", "u8_times_3", "[100, 200, 255, 0]"]);
    assert_eq!(v["results"][0]["dtype"], "u8");
    assert_eq!(
        v["results"][0]["values"],
        serde_json::json!([44, 88, 253, 0])
    );
    let v = json(&["-f", "u32_div", "7", "0"]);
    assert_eq!(
        v["results"][0]["values"],
        serde_json::json!([4294967295u64])
    );
    // 1 + 0.01171875 rounds to 1.015625 = 1 + 2^-6 in bf16 (7 fraction bits): 0x3f80 | 1 << 1.
    // The first argument is 1.0 by its bit pattern.
    let v = json(&["-f", "bf16_add", "0x3f80:bf16", "0.01171875"]);
    let r = &v["results"][0];
    assert_eq!(r["dtype"], "bf16");
    assert_eq!(r["values"], serde_json::json!(["1.015625"]));
    assert_eq!(r["bits"], serde_json::json!(["0x3f82"]));
    // An i8 from a NumPy file: the fixture's scalar is -11, and 255 steps down wrap once:
    // -11 - 255 = -266, which is -10 modulo 256.
    let v = json(&["-f", "i8_countdown", "@tests/data/npy/i8_r0.npy"]);
    assert_eq!(v["results"][0]["values"], serde_json::json!([-10]));
    assert_eq!(v["results"][1]["values"], serde_json::json!([255]));
    let dir = scratch("narrow");
    let npz = dir.join("y.npz");
    let e = fails(&[
        "run",
        "ir/dtypes.gir",
        "-f",
        "bf16_add",
        "1",
        "2",
        "--save-outputs",
        s(&npz),
    ]);
    assert!(e.contains("NumPy has no bf16"), "{e}");
    let st = dir.join("y.safetensors");
    ok(&[
        "run",
        "ir/dtypes.gir",
        "-f",
        "bf16_add",
        "1",
        "2",
        "--save-outputs",
        s(&st),
    ]);
    let saved = read_tensors(&st).unwrap();
    assert_eq!(saved[0].1, Tensor::scalar(half::bf16::from_f32(3.0)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn negative_literals_work_in_every_position_and_flags_still_work() {
    assert_eq!(ok(&["run", "ir/counter.gir", "0", "-5"]), "0\n-5\n");
    assert_eq!(ok(&["run", "ir/counter.gir", "-7", "3"]), "13\n13\n");
    assert_eq!(
        ok(&["run", "ir/counter.gir", "-7", "-3", "--interp"]),
        "1\n1\n"
    );
    assert_eq!(
        ok(&["run", "--interp", "ir/counter.gir", "-9", "-9"]),
        "-9\n-9\n"
    );
    assert_eq!(ok(&["run", "ir/counter.gir", "--", "-1", "-2"]), "-1\n-2\n");
    // Float words and negative numbers as users type them, as both arguments of
    // min/max (which give back the value itself, printed canonically).
    for (arg, printed) in [
        ("-inf", "-inf"),
        ("-Inf", "-inf"),
        ("-infinity", "-inf"),
        ("INF", "inf"),
        ("Infinity", "inf"),
        ("-2.5e-3", "-0.0025"),
        ("-.5", "-0.5"),
        ("-0", "-0.0"),
        ("-nan", "nan"),
        ("NaN", "nan"),
    ] {
        let out = ok(&["run", "ir/edges.gir", "-f", "minmax", arg, arg]);
        assert_eq!(out, format!("{printed}\n{printed}\n"), "{arg}");
    }
    let poly8 = ["run", "ir/poly.gir", "-f", "poly8"];
    let run8 = |arg: &str| {
        let mut a = poly8.to_vec();
        a.push(arg);
        ok(&a)
    };
    assert_eq!(
        run8("[-inf, -2.5e-3, -0, 1, 2, 3, 4, 5]"),
        run8("[-Infinity, -0.0025, -0.0, 1, 2, 3, 4, 5]")
    );
    // A hex bit pattern gives exactly that float: 0x3f800000 is 1.0, so poly8 gives 0.0.
    let minmax = |a: &str, b: &str| ok(&["run", "ir/edges.gir", "-f", "minmax", a, b]);
    assert_eq!(minmax("0x3f800000:f32", "0x00000001:f32"), "1e-45\n1.0\n");
    let e = fails(&["run", "ir/edges.gir", "-f", "minmax", "0x3f800000:f64", "1"]);
    assert!(e.contains("is a f64, but f32 is needed"), "{e}");
    let e = fails(&["run", "ir/edges.gir", "-f", "minmax", "0x13f800000", "1"]);
    assert!(e.contains("not a 32-bit pattern"), "{e}");
    // Real flags after negative values are still flags.
    // A negative value after an option is that option's value, refused here by the option's
    // own parser: a usage error (clap's exit status 2) that shows the value as typed.
    let out = graphjit(&["run", "ir/counter.gir", "-1", "-2", "--max-iters", "-3"]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("invalid value '-3' for '--max-iters <N>'"),
        "{e}"
    );
}

#[test]
fn inputs_bind_arrays_to_parameters_by_name() {
    let dir = scratch("inputs");
    let good = dir.join("good.npz");
    let a = Tensor::scalar(-7i32);
    let b = Tensor::scalar(3i32);
    write_tensors(&good, &[("second", &b), ("first", &a)]).unwrap();
    assert_eq!(
        ok(&["run", "ir/counter.gir", "--inputs", s(&good)]),
        "13\n13\n"
    );
    let st = dir.join("good.safetensors");
    write_tensors(&st, &[("second", &b), ("first", &a)]).unwrap();
    assert_eq!(
        ok(&["run", "ir/counter.gir", "--inputs", s(&st), "--interp"]),
        "13\n13\n"
    );
    // Missing, extra and mistyped arrays are named.
    let missing = dir.join("missing.npz");
    write_tensors(&missing, &[("first", &a), ("third", &b)]).unwrap();
    let e = fails(&["run", "ir/counter.gir", "--inputs", s(&missing)]);
    assert!(e.contains("no array for %second"), "{e}");
    assert!(e.contains("third match no parameter"), "{e}");
    let mistyped = dir.join("mistyped.npz");
    write_tensors(
        &mistyped,
        &[("first", &a), ("second", &Tensor::scalar(3i64))],
    )
    .unwrap();
    let e = fails(&["run", "ir/counter.gir", "--inputs", s(&mistyped)]);
    assert!(
        e.contains("(%second: i32)") && e.contains("holds i64"),
        "{e}"
    );
    let e = fails(&["run", "ir/counter.gir", "--inputs", s(&good), "1", "2"]);
    assert!(e.contains("not both"), "{e}");
    // Results saved as safetensors read back with their names.
    let out = dir.join("out.safetensors");
    ok(&[
        "run",
        "ir/counter.gir",
        "0",
        "10",
        "--save-outputs",
        s(&out),
    ]);
    let saved = read_tensors(&out).unwrap();
    assert_eq!(
        saved,
        [
            ("f".to_string(), Tensor::scalar(20i32)),
            ("s".to_string(), Tensor::scalar(20i32))
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_arguments_with_wrong_types_or_bad_contents_are_clear_errors() {
    let e = fails(&["run", "ir/counter.gir", "@tests/data/npy/i64_r0.npy", "1"]);
    assert!(e.contains("holds i64, but i32 is needed"), "{e}");
    let e = fails(&["run", "ir/counter.gir", "@tests/data/npy/nothing.npy", "1"]);
    assert!(e.contains("nothing.npy"), "{e}");
    let e = fails(&["run", "ir/counter.gir", "@tests/data/npy/complex.npy", "1"]);
    assert!(e.contains("'<c8' is not supported"), "{e}");
    let e = fails(&["run", "ir/counter.gir", "--inputs", "ir/counter.gir"]);
    assert!(e.contains("not a tensor file"), "{e}");
    let e = fails(&[
        "run",
        "ir/counter.gir",
        "1",
        "2",
        "--save-outputs",
        "out.txt",
    ]);
    assert!(e.contains("expected a .npz or .safetensors"), "{e}");
}

#[test]
fn bench_takes_file_inputs_and_writes_valid_json() {
    let out = ok(&[
        "bench",
        "tests/data/poly1k.gir",
        "@tests/data/npy/poly_x1024.npy",
        "--json",
        "--seconds",
        "0.05",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["func"], "poly1k");
    assert_eq!(v["identical"], true);
    assert!(v["jit_median_ns"].as_f64().unwrap() > 0.0);
    assert!(v["jit_runs"].as_u64().unwrap() >= 5);
}

#[test]
fn float_words_and_bit_patterns_give_the_exact_bits() {
    use graphjit::tensor::parse_scalar;
    use graphjit::{DType, Scalar};
    let f32_bits = |text: &str| match parse_scalar(text, DType::F32).unwrap() {
        Scalar::F32(v) => v.to_bits(),
        s => panic!("{text} gave {s:?}"),
    };
    assert_eq!(f32_bits("-nan") >> 31, 1, "-nan has its sign bit set");
    assert_eq!(f32_bits("nan") >> 31, 0);
    assert_eq!(f32_bits("0x7fc00001"), 0x7fc0_0001, "a NaN payload is kept");
    assert_eq!(f32_bits("-Infinity"), 0xff80_0000);
    assert_eq!(f32_bits("+inf"), 0x7f80_0000);
    assert!(parse_scalar("infinit", DType::F32).is_err());
    assert!(parse_scalar("0x1g", DType::F32).is_err());
    match parse_scalar("0xfff8000000000001", DType::F64).unwrap() {
        Scalar::F64(v) => assert_eq!(v.to_bits(), 0xfff8_0000_0000_0001),
        s => panic!("{s:?}"),
    }
}
