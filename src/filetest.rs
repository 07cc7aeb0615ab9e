//! Expectations carried by IR files (`; run:` and `; error:` lines), and their checker.
//!
//! In the style of Cranelift's filetests, a `.gir` file says what it should do next to its code:
//!
//! ```text
//! ; run: @counter(0, 10) == (20, 20)     inputs, and the results every executor must give
//! ; run: @poly(rand:f32[1048576])        inputs only: the executors must agree, bit for bit
//! ; error: 3:7: expected a type          the file must fail to parse or verify with this text
//! ```
//!
//! Arguments and expected values use the syntax of [`crate::args`]; expected values are read
//! with the function's result types. One test (`tests/filetests.rs`) walks `ir/` and
//! `tests/ir/` and checks every file with every executor.

use crate::args::{parse_args, parse_value, split_top_level};
use crate::error::Result;
use crate::ir::{parse::parse_module, verify::verify_module, Function, Module};
use crate::tensor::Tensor;

/// One `; run:` line.
#[derive(Clone, Debug, PartialEq)]
pub struct RunLine {
    /// 1-based line number in the file.
    pub line: usize,
    pub func: String,
    pub args: Vec<String>,
    /// The expected results, or `None` when only agreement between executors is checked.
    pub expected: Option<Vec<String>>,
}

/// Everything a file expects of itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expectations {
    pub runs: Vec<RunLine>,
    /// `; error:` lines: (line number, expected text).
    pub errors: Vec<(usize, String)>,
}

/// Reads the `; run:` and `; error:` lines of a file.
pub fn expectations(src: &str) -> Result<Expectations, String> {
    let mut out = Expectations::default();
    for (i, line) in src.lines().enumerate() {
        let lineno = i + 1;
        let Some(comment) = line.trim_start().strip_prefix(';') else {
            continue;
        };
        let comment = comment.trim();
        if let Some(rest) = comment.strip_prefix("error:") {
            out.errors.push((lineno, rest.trim().to_string()));
        } else if let Some(rest) = comment.strip_prefix("run:") {
            out.runs.push(
                parse_run_line(rest.trim())
                    .map_err(|m| format!("line {lineno}: {m}"))
                    .map(|(func, args, expected)| RunLine {
                        line: lineno,
                        func,
                        args,
                        expected,
                    })?,
            );
        }
    }
    Ok(out)
}

type RunParts = (String, Vec<String>, Option<Vec<String>>);

/// Splits `@f(a, b) == (x, y)` into its function name, arguments and expected results.
fn parse_run_line(text: &str) -> Result<RunParts, String> {
    let rest = text
        .strip_prefix('@')
        .ok_or_else(|| format!("a run line starts with '@function(', found '{text}'"))?;
    let open = rest
        .find('(')
        .ok_or_else(|| "a run line needs '(' after the function name".to_string())?;
    let func = rest[..open].trim().to_string();
    let mut depth = 0i32;
    let mut close = None;
    for (i, c) in rest[open..].char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.ok_or_else(|| "unbalanced parentheses in the arguments".to_string())?;
    let args = split_top_level(&rest[open + 1..close]);
    let tail = rest[close + 1..].trim();
    if tail.is_empty() {
        return Ok((func, args, None));
    }
    let expected = tail
        .strip_prefix("==")
        .ok_or_else(|| format!("expected '== results' after the arguments, found '{tail}'"))?
        .trim();
    let results = match expected.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        Some(inner) => split_top_level(inner),
        None => vec![expected.to_string()],
    };
    Ok((func, args, Some(results)))
}

/// A way to run a function on inputs: the interpreter, or compile-and-run.
pub type RunFn = dyn Fn(&Function, &[Tensor]) -> Result<Vec<Tensor>>;

/// An executor under test: a name for messages and a way to run a function.
pub struct Executor<'a> {
    pub name: &'a str,
    pub run: &'a RunFn,
}

/// What checking a file did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Run lines executed (each by every executor).
    pub runs: usize,
    /// Expected errors seen.
    pub errors: usize,
}

fn show(ts: &[Tensor]) -> String {
    let items: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("({})", items.join(", "))
    }
}

/// Loads a module: parse, then verify.
pub fn load(src: &str) -> Result<Module> {
    let m = parse_module(src)?;
    verify_module(&m)?;
    Ok(m)
}

/// Checks one file's expectations with every executor. Failures are returned as messages that
/// name the line.
pub fn check(src: &str, executors: &[Executor<'_>]) -> Result<Summary, Vec<String>> {
    let exp = expectations(src).map_err(|e| vec![e])?;
    let mut failures = Vec::new();
    let mut summary = Summary::default();
    let loaded = load(src);
    if !exp.errors.is_empty() {
        match loaded {
            Ok(_) => failures.push(format!(
                "line {}: expected the error '{}', but the file parsed and verified",
                exp.errors[0].0, exp.errors[0].1
            )),
            Err(e) => {
                let msg = e.to_string();
                for (line, want) in &exp.errors {
                    if msg.contains(want.as_str()) {
                        summary.errors += 1;
                    } else {
                        failures.push(format!(
                            "line {line}: expected an error containing '{want}', got '{msg}'"
                        ));
                    }
                }
            }
        }
        return if failures.is_empty() {
            Ok(summary)
        } else {
            Err(failures)
        };
    }
    let module = match loaded {
        Ok(m) => m,
        Err(e) => return Err(vec![format!("the file does not load: {e}")]),
    };
    // Every file must also survive printing and parsing back unchanged.
    match parse_module(&module.to_string()) {
        Ok(again) if again == module => {}
        Ok(_) => failures.push("printing and parsing the module back changed it".to_string()),
        Err(e) => failures.push(format!("the printed module does not parse: {e}")),
    }
    for run in &exp.runs {
        let at = format!("line {}: @{}", run.line, run.func);
        let Some(f) = module.func(&run.func) else {
            failures.push(format!("{at}: no such function"));
            continue;
        };
        let inputs = match parse_args(f, &run.args) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{at}: {e}"));
                continue;
            }
        };
        let expected: Option<Vec<Tensor>> = match &run.expected {
            None => None,
            Some(texts) if texts.len() != f.results.len() => {
                failures.push(format!(
                    "{at}: {} expected values for {} results",
                    texts.len(),
                    f.results.len()
                ));
                continue;
            }
            Some(texts) => match texts
                .iter()
                .zip(&f.results)
                .map(|(t, ty)| parse_value(t, ty))
                .collect::<Result<Vec<_>, String>>()
            {
                Ok(v) => Some(v),
                Err(e) => {
                    failures.push(format!("{at}: bad expected value: {e}"));
                    continue;
                }
            },
        };
        let mut first: Option<(&str, Vec<Tensor>)> = None;
        for ex in executors {
            let got = match (ex.run)(f, &inputs) {
                Ok(g) => g,
                Err(e) => {
                    failures.push(format!("{at}: {} failed: {e}", ex.name));
                    continue;
                }
            };
            if let Some(want) = &expected {
                if &got != want {
                    failures.push(format!(
                        "{at}: {} gave {} but {} was expected",
                        ex.name,
                        show(&got),
                        show(want)
                    ));
                }
            }
            match &first {
                None => first = Some((ex.name, got)),
                Some((name, prev)) => {
                    if prev != &got {
                        failures.push(format!(
                            "{at}: {} and {name} disagree: {} vs {}",
                            ex.name,
                            show(&got),
                            show(prev)
                        ));
                    }
                }
            }
        }
        summary.runs += 1;
    }
    if failures.is_empty() {
        Ok(summary)
    } else {
        Err(failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_lines_split_into_parts() {
        let e = expectations(
            "; run: @f(0, [1, 2]) == (3, [4, 5])\n; run: @g(rand:f32[4])\n; error: 3:1: oops\n",
        )
        .unwrap();
        assert_eq!(e.runs.len(), 2);
        assert_eq!(e.runs[0].func, "f");
        assert_eq!(e.runs[0].args, vec!["0", "[1, 2]"]);
        assert_eq!(
            e.runs[0].expected,
            Some(vec!["3".to_string(), "[4, 5]".to_string()])
        );
        assert_eq!(e.runs[1].expected, None);
        assert_eq!(e.errors, vec![(3, "3:1: oops".to_string())]);
    }

    #[test]
    fn a_single_list_result_is_not_a_tuple() {
        let e = expectations("; run: @f() == [1, 2]").unwrap();
        assert_eq!(e.runs[0].expected, Some(vec!["[1, 2]".to_string()]));
    }

    #[test]
    fn malformed_run_lines_are_errors() {
        assert!(expectations("; run: f(1)")
            .unwrap_err()
            .contains("starts with '@function('"));
        assert!(expectations("; run: @f(1")
            .unwrap_err()
            .contains("unbalanced"));
        assert!(expectations("; run: @f(1) = 2")
            .unwrap_err()
            .contains("expected '== results'"));
    }
}
