//! Walks `ir/` and `tests/ir/` and checks every file's `; run:` and `; error:` lines in both
//! executors: the interpreter and compiled code must each match the expectations, and each other
//! bit for bit.

use std::path::{Path, PathBuf};

use graphjit::filetest::{check, Executor};
use graphjit::ir::Function;
use graphjit::{interp, jit, Result, Tensor};

fn compiled(f: &Function, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    jit::compile(f)?.run(inputs)
}

fn gir_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "gir"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_ir_file_meets_its_expectations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<PathBuf> = ["ir", "tests/ir"]
        .iter()
        .flat_map(|d| gir_files(&root.join(d)))
        .collect();
    assert!(
        files.len() >= 10,
        "expected the example programs, found {files:?}"
    );
    let executors = [
        Executor {
            name: "interpreted",
            run: &interp::interpret,
        },
        Executor {
            name: "compiled",
            run: &compiled,
        },
    ];
    let mut failures = Vec::new();
    let (mut runs, mut errors) = (0, 0);
    for path in &files {
        let src = std::fs::read_to_string(path).expect("readable file");
        match check(&src, &executors) {
            Ok(s) => {
                runs += s.runs;
                errors += s.errors;
            }
            Err(fs) => failures.extend(fs.into_iter().map(|f| format!("{}: {f}", path.display()))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(runs >= 30, "only {runs} run lines were checked");
    eprintln!(
        "{} files: {runs} run lines, {errors} expected errors",
        files.len()
    );
}
