//! The `graphjit` command line, run as a user would: results on stdout, clear errors on stderr
//! with a failing exit status, never a panic.

use std::path::Path;
use std::process::{Command, Output};

fn graphjit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graphjit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the graphjit binary runs")
}

/// Runs a command that must succeed; returns its stdout.
fn ok(args: &[&str]) -> String {
    let out = graphjit(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "graphjit {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Renders DOT text with Graphviz's `dot`, where it is installed (it is optional: the
/// structural checks do not need it), and asserts that it accepts the text.
fn graphviz_accepts(text: &str) {
    use std::io::Write;
    use std::process::Stdio;
    let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("Graphviz is not installed: the DOT output is checked structurally only");
        return;
    };
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(text.as_bytes())
        .expect("dot reads its input");
    let out = child.wait_with_output().expect("dot runs");
    assert!(
        out.status.success() && out.stdout.starts_with(b"<?xml"),
        "dot rejects the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command that must fail cleanly; returns its stderr.
fn fails(args: &[&str]) -> String {
    let out = graphjit(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "graphjit {args:?} should fail");
    // graphjit's own errors exit with 1; clap's usage errors with 2; a crash with neither.
    assert!(
        matches!(out.status.code(), Some(1 | 2)),
        "graphjit {args:?}: {:?}",
        out.status
    );
    assert!(
        !stderr.contains("panicked"),
        "graphjit {args:?} panicked: {stderr}"
    );
    stderr
}

#[test]
fn run_prints_each_result_on_its_own_line_compiled_and_interpreted() {
    assert_eq!(ok(&["run", "ir/counter.gir", "0", "10"]), "20\n20\n");
    assert_eq!(
        ok(&["run", "--interp", "ir/counter.gir", "0", "10"]),
        "20\n20\n"
    );
    assert_eq!(ok(&["run", "ir/counter.gir", "--", "-7", "3"]), "13\n13\n");
    assert_eq!(ok(&["run", "ir/counter.gir", "-7", "3"]), "13\n13\n");
    assert_eq!(
        ok(&["run", "ir/sumsq.gir", "ones:f32[1048576]"]),
        "1048576.0\n"
    );
    assert_eq!(
        ok(&[
            "run",
            "ir/matmul.gir",
            "--func",
            "matmul2x3",
            "[[1, 2, 3], [4, 5, 6]]",
            "iota:f32[3,2]"
        ]),
        "[[16.0, 22.0], [34.0, 49.0]]\n"
    );
    assert_eq!(
        ok(&["run", "--interp", "ir/branch.gir", "-f", "@piecewise", "-4"]),
        "8\n"
    );
    assert_eq!(ok(&["run", "ir/edges.gir", "--func", "f2i", "nan"]), "0\n");
}

#[test]
fn check_and_dump_show_every_stage() {
    assert!(ok(&["check", "ir/gcd.gir"]).contains("ok, 1 function(s) verified"));
    let ir = ok(&["dump", "ir/counter.gir", "--stage", "ir"]);
    assert!(
        ir.starts_with("func @counter(%first: i32, %second: i32) -> (i32, i32) {"),
        "{ir}"
    );
    // The passes fold `2 + 3`, and drop the dead `mul` and the constants only it used.
    let src = "func @f(%x: i32) -> i32 {\n  %a = const 2 : i32\n  %b = const 3 : i32\n  %c = add %a, %b : i32\n  %d = mul %x, %x : i32\n  %y = add %x, %c : i32\n  return %y\n}\n";
    let path = std::env::temp_dir().join(format!("graphjit_cli_opt_{}.gir", std::process::id()));
    std::fs::write(&path, src).expect("a temporary file");
    let opt = ok(&["dump", path.to_str().expect("utf-8 path"), "--stage", "opt"]);
    let _ = std::fs::remove_file(&path);
    assert!(opt.contains("const 5 : i32"), "{opt}");
    assert!(!opt.contains("mul") && !opt.contains("const 2"), "{opt}");
    assert!(opt.contains("return"), "{opt}");
    // The plan and DOT stages print the fusion decisions of the optimized IR.
    let plan = ok(&["dump", "ir/poly.gir", "--func", "poly8", "--stage", "plan"]);
    assert!(plan.contains("%t0 = mul: inline in %y"), "{plan}");
    assert!(plan.contains("%y = div: into output 0"), "{plan}");
    let dot = ok(&["dump", "ir/decay.gir", "--stage", "dot"]);
    assert!(dot.starts_with("digraph \"decay\" {"), "{dot}");
    assert!(dot.contains("subgraph cluster_"), "{dot}");
    graphviz_accepts(&dot);
    let clif = ok(&["dump", "ir/counter.gir", "--stage", "clif"]);
    assert!(clif.contains("icmp slt") && clif.contains("iadd"), "{clif}");
    let asm = ok(&["dump", "ir/counter.gir", "--stage", "asm"]);
    if cfg!(target_arch = "x86_64") {
        assert!(
            asm.contains("cmp ") && asm.contains("add ") && asm.contains("ret"),
            "{asm}"
        );
    }
    assert!(asm.contains("; %f, %s = while"), "{asm}");
}

#[test]
fn bench_reports_json_with_the_documented_keys() {
    let out = ok(&[
        "bench",
        "ir/counter.gir",
        "0",
        "10",
        "--json",
        "--seconds",
        "0.05",
    ]);
    for key in [
        "\"compile_ns\"",
        "\"jit_median_ns\"",
        "\"interp_median_ns\"",
        "\"identical\": true",
    ] {
        assert!(out.contains(key), "{key} missing in {out}");
    }
    let table = ok(&["bench", "ir/counter.gir", "0", "10", "--seconds", "0.05"]);
    assert!(
        table.contains("speedup") && table.contains("results identical: true"),
        "{table}"
    );
}

#[test]
fn bad_input_gives_a_clear_error_that_names_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "ir/counter.gir", "1"], "@counter takes 2 argument(s) (%first: i32, %second: i32), got 1"),
        (&["run", "ir/counter.gir", "1", "2", "3"], "takes 2 argument(s)"),
        (&["run", "ir/counter.gir", "1", "x"], "argument 2 (%second: i32) of @counter: 'x' is not a valid i32 literal"),
        (&["run", "ir/counter.gir", "1", "2.5"], "'2.5' is not a valid i32 literal"),
        (&["run", "ir/counter.gir", "1", "[1, 2]"], "has shape [2], but i32 is needed"),
        (&["run", "ir/sumsq.gir", "ones:f32[3]"], "'ones:f32[3]' generates f32[3], but f32[1048576] is needed"),
        (&["run", "ir/sumsq.gir", "[1, 2"], "expected ',' or ']'"),
        (&["run", "ir/sumsq.gir", "bogus:f32[1048576]"], "unknown generator 'bogus' (expected zeros, ones, iota, rand, rand(SEED) or full(VALUE))"),
        (&["run", "ir/sumsq.gir", "rand(x):f32[1048576]"], "'x' is not a seed"),
        (&["run", "ir/sumsq.gir", "ones:f32[99999999999,99999999999]"], "more elements than the limit"),
        (&["run", "ir/branch.gir", "1"], "has 2 functions (@piecewise, @clamp_neg) and none is named @branch"),
        (&["run", "ir/branch.gir", "--func", "nope", "1"], "has no function @nope (it has @piecewise, @clamp_neg)"),
        (&["run", "no/such/file.gir"], "cannot read no/such/file.gir"),
        (&["check", "tests/ir/unknown_op.gir"], "4:8: unknown op 'frobnicate'"),
        (&["check", "tests/ir/out_of_scope.gir"], "operand %inner is not visible here"),
        (&["run", "tests/ir/type_mismatch.gir", "1", "2"], "got f32 and i32 (convert explicitly)"),
        (&["dump", "tests/ir/unterminated.gir"], "5:1: expected '}' to close the region opened at 3:25"),
        (&["dump", "ir/counter.gir", "--stage", "nope"], "invalid value 'nope'"),
        (&["bench", "ir/counter.gir", "0", "10", "--seconds", "-1"], "--seconds must be a positive number"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, want) in cases {
        let err = fails(args);
        assert!(
            err.contains(want),
            "graphjit {args:?}: expected '{want}' in:\n{err}"
        );
        // Our own errors (exit status 1) are one line each: what and where.
        if graphjit(args).status.code() == Some(1) {
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        }
    }
    assert!(cases.len() >= 20);
}

#[test]
fn every_example_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ir");
    for entry in std::fs::read_dir(dir).expect("ir/ exists") {
        let path = entry.expect("entry").path();
        let p = path.to_str().expect("utf-8 path");
        assert!(ok(&["check", p]).contains("ok"), "{p}");
    }
}

#[test]
fn run_handles_the_new_dtypes_from_the_command_line() {
    for mode in [&[][..], &["--interp"][..]] {
        let run = |f: &str, args: &[&str]| {
            let mut a = vec!["run"];
            a.extend_from_slice(mode);
            a.extend_from_slice(&["ir/dtypes.gir", "--func", f]);
            a.extend_from_slice(args);
            ok(&a)
        };
        assert_eq!(
            run("u8_times_3", &["[100, 200, 255, 0]"]),
            "[44, 88, 253, 0]\n"
        );
        assert_eq!(run("u32_div", &["7", "0"]), "4294967295\n");
        assert_eq!(run("bf16_add", &["1", "0.00390625"]), "1.0\n");
        // `--threads` changes no bit.
        let mut a = vec!["run"];
        a.extend_from_slice(mode);
        a.extend_from_slice(&["ir/sumsq.gir", "--func", "sumsq", "rand:f32[1048576]"]);
        let one = ok(&[&a[..], &["--threads", "1"]].concat());
        assert_eq!(ok(&[&a[..], &["--threads", "2"]].concat()), one);
        assert_eq!(ok(&[&a[..], &["--threads", "3"]].concat()), one);
        // Four blocks of 16384 ones add up to 65536, past f16's largest finite value.
        assert_eq!(run("f16_sum", &["ones:f16[65536]"]), "inf\n");
    }
    let e = fails(&["run", "ir/dtypes.gir", "--func", "u32_div", "-1", "0"]);
    assert!(e.contains("not a valid u32 literal"), "{e}");
}

#[test]
fn max_memory_stops_a_run_that_needs_more_in_both_executors() {
    let run = ["run", "ir/poly.gir", "ones:f32[1048576]"];
    for extra in [&[][..], &["--interp"][..]] {
        let mut args = run.to_vec();
        args.extend_from_slice(extra);
        // The 4 MiB result does not fit in 1 MiB, and fits in 64 MiB.
        let mut limited = args.clone();
        limited.extend_from_slice(&["--max-memory", "1M"]);
        let e = fails(&limited);
        assert!(
            e.contains("@poly") && e.contains("over its limit of 1048576 bytes"),
            "{e}"
        );
        let mut roomy = args.clone();
        roomy.extend_from_slice(&["--max-memory", "64MiB"]);
        let out = ok(&roomy);
        assert!(
            out.starts_with("[0.0, 0.0"),
            "{}",
            &out[..out.len().min(80)]
        );
    }
    let e = fails(&["run", "ir/counter.gir", "--max-memory", "12Q", "0", "1"]);
    assert!(e.contains("'12Q' is not a size"), "{e}");
}
