//! Pins what the optimization passes and the fusion plan do to the programs of `ir/` and
//! `tests/ir/`: a file's `; check opt:` lines are the exact text of `graphjit dump FILE
//! --stage opt` (every function, optimized), its `; check plan:` lines that of `--stage plan`.
//! A pass or a fusion rule that changes its output makes this test fail with the difference.
//!
//! `GRAPHJIT_BLESS=1 cargo test --test check_lines` rewrites the check lines of every file
//! that has some, from the current output (as Cranelift's `CRANELIFT_TEST_BLESS`); review the
//! diff before committing it.

use std::path::{Path, PathBuf};

use graphjit::filetest::load;
use graphjit::ir::Module;
use graphjit::jit::{plan, JitOptions};
use graphjit::passes;

/// The stages a file can pin, with their line prefix.
const STAGES: [(&str, &str); 2] = [("opt", "; check opt:"), ("plan", "; check plan:")];

fn stage_text(m: &Module, stage: &str) -> String {
    let mut out = String::new();
    for (i, f) in m.funcs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let g = passes::optimize(f);
        let text = match stage {
            "opt" => g.to_string(),
            _ => plan::plan(&g, JitOptions::default().fusion)
                .display(&g)
                .to_string(),
        };
        out.push_str(&text);
    }
    out
}

/// The check lines of one stage, without their prefix.
fn expected(src: &str, prefix: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| l.trim_start().strip_prefix(prefix))
        .map(|rest| {
            rest.strip_prefix(' ')
                .unwrap_or(rest)
                .trim_end()
                .to_string()
        })
        .collect()
}

/// `src` with the check lines of `prefix` replaced by `lines`, where the first of them stood.
fn rewrite(src: &str, prefix: &str, lines: &[String]) -> String {
    let mut out = String::new();
    let mut done = false;
    for l in src.lines() {
        if l.trim_start().starts_with(prefix) {
            if !done {
                for x in lines {
                    let sep = if x.is_empty() { "" } else { " " };
                    out.push_str(&format!("{prefix}{sep}{x}\n"));
                }
                done = true;
            }
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

fn gir_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in ["ir", "tests/ir"] {
        for e in std::fs::read_dir(root.join(d)).expect("ir directory") {
            let p = e.expect("directory entry").path();
            if p.extension().is_some_and(|x| x == "gir") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn check_lines_match_the_opt_and_plan_dumps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("GRAPHJIT_BLESS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut pinned = 0;
    for path in gir_files(root) {
        let src = std::fs::read_to_string(&path).expect("readable file");
        let mut new_src = src.clone();
        for (stage, prefix) in STAGES {
            let want = expected(&src, prefix);
            if want.is_empty() {
                continue;
            }
            pinned += 1;
            let m = match load(&src) {
                Ok(m) => m,
                Err(e) => {
                    failures.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let got: Vec<String> = stage_text(&m, stage)
                .lines()
                .map(|l| l.trim_end().to_string())
                .collect();
            if got != want {
                if bless {
                    new_src = rewrite(&new_src, prefix, &got);
                } else {
                    failures.push(format!(
                        "{}: --stage {stage} differs from its check lines\n--- expected\n{}\n--- got\n{}",
                        path.display(),
                        want.join("\n"),
                        got.join("\n")
                    ));
                }
            }
        }
        if bless && new_src != src {
            std::fs::write(&path, new_src).expect("writable file");
        }
    }
    assert!(
        failures.is_empty(),
        "{} file(s) differ (GRAPHJIT_BLESS=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(pinned >= 10, "only {pinned} stage dumps are pinned");
}

#[test]
fn rewriting_replaces_the_check_block_in_place() {
    let src = "; run: @f(1) == 1\n; check opt: old\n; check opt: older\nfunc @f() {\n}\n";
    let out = rewrite(src, "; check opt:", &["a".to_string(), String::new()]);
    assert_eq!(
        out,
        "; run: @f(1) == 1\n; check opt: a\n; check opt:\nfunc @f() {\n}\n"
    );
    assert_eq!(
        expected(&out, "; check opt:"),
        vec!["a".to_string(), String::new()]
    );
}
