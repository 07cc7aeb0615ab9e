//! What the fuzz targets share: the run budget (cases or seconds, from the environment), a
//! seeded generator, the seed corpus, and the mutations applied to valid programs.
//!
//! Each target has a quick `#[test]` (a fixed number of cases from a fixed seed, for
//! `cargo test`) and a long `#[ignore]`d one that runs for `GRAPHJIT_FUZZ_SECONDS` (default 60)
//! from a seed taken from the clock, or from `GRAPHJIT_FUZZ_SEED`. A failure names the seed and
//! the input, so that it can be replayed and turned into a regression test.

#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

pub use graphjit::testgen::Rng;

/// How long a target runs.
pub enum Budget {
    Cases(u64),
    Time(Duration),
}

/// `GRAPHJIT_FUZZ_CASES` cases (default `default_cases`).
pub fn quick(default_cases: u64) -> Budget {
    Budget::Cases(env_u64("GRAPHJIT_FUZZ_CASES").unwrap_or(default_cases))
}

/// `GRAPHJIT_FUZZ_SECONDS` seconds (default 60).
pub fn long() -> Budget {
    Budget::Time(Duration::from_secs(
        env_u64("GRAPHJIT_FUZZ_SECONDS").unwrap_or(60),
    ))
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok())
}

/// The seed of a run: `GRAPHJIT_FUZZ_SEED`, else `default` (the quick tests pass a constant;
/// the long ones the clock).
pub fn seed(default: u64) -> u64 {
    env_u64("GRAPHJIT_FUZZ_SEED").unwrap_or(default)
}

pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

/// Runs `case` with inputs from consecutive seeds derived from `seed` until the budget is
/// spent. A panic or an `Err` from `case` fails the target with the case's seed and message.
/// Prints the number of executions (visible with `--nocapture`).
pub fn drive(
    name: &str,
    budget: Budget,
    seed: u64,
    mut case: impl FnMut(u64) -> Result<(), String>,
) {
    let start = Instant::now();
    let mut n: u64 = 0;
    loop {
        match budget {
            Budget::Cases(c) if n >= c => break,
            Budget::Time(d) if start.elapsed() >= d => break,
            _ => {}
        }
        let case_seed = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let r = catch_unwind(AssertUnwindSafe(|| case(case_seed)));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(m)) => panic!(
                "{name}: case {n} (GRAPHJIT_FUZZ_SEED={seed}, case seed {case_seed}) failed: {m}"
            ),
            Err(_) => panic!(
                "{name}: case {n} (GRAPHJIT_FUZZ_SEED={seed}, case seed {case_seed}) panicked (see above)"
            ),
        }
        n += 1;
    }
    eprintln!(
        "{name}: {n} executions in {:.1} s, seed {seed}, no findings",
        start.elapsed().as_secs_f64()
    );
}

/// The text of every `.gir` file in the examples, the negative tests and the fuzz corpus.
pub fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["ir", "tests/ir", "tests/corpus"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == "gir") {
                if let Ok(s) = std::fs::read_to_string(&p) {
                    out.push(s);
                }
            }
        }
    }
    out
}

/// Random bytes, biased towards the characters of the IR.
pub fn random_bytes(rng: &mut Rng, max_len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] =
        b"%@:=,()[]{}-;.0123456789 \n\tfuncreturnwhileifelsedoyieldconstaddi32f64bool";
    let n = rng.below(max_len + 1);
    (0..n)
        .map(|_| {
            if rng.chance(70) {
                rng.pick(ALPHABET)
            } else {
                rng.next_u64() as u8
            }
        })
        .collect()
}

/// Interesting replacements for a token: extreme numbers, other dtypes, other ops.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "2147483647",
    "-2147483648",
    "99999999999999999999999",
    "1e309",
    "nan",
    "-inf",
    "inf",
    "-0.0",
    "true",
    "i32",
    "i64",
    "f32",
    "f64",
    "bool",
    "f32[4294967296]",
    "i32[0]",
    "f64[65536,65536]",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    "=",
    ":",
    "%",
    "@",
    "add",
    "div",
    "rem",
    "shl",
    "shr_arith",
    "convert",
    "dot",
    "reduce.sum",
    "broadcast",
    "reshape",
    "slice",
    "concat",
    "iota",
    "transpose",
    "select",
    "while",
    "if",
    "yield",
    "return",
    "dims=[0]",
    "axes=[0,0]",
    "perm=[1,0]",
    "axis=7",
    "start=[0]",
    "limit=[9]",
    "stride=[0]",
    "%p0",
    "%v1",
    "do",
    "else",
];

/// One random mutation of `text`: a byte flip, insertion, deletion or duplication of a span,
/// a truncation, or a token deletion, duplication, swap or replacement.
pub fn mutate(rng: &mut Rng, text: &str) -> String {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let at = |rng: &mut Rng| rng.below(len + 1);
    match rng.below(9) {
        0 if len > 0 => {
            let mut b = bytes.to_vec();
            let i = rng.below(len);
            b[i] ^= 1 << rng.below(8);
            String::from_utf8_lossy(&b).into_owned()
        }
        1 => {
            let mut b = bytes.to_vec();
            let i = at(rng);
            b.insert(i, rng.pick(b"%[]{}(),=:;-0123456789\n x"));
            String::from_utf8_lossy(&b).into_owned()
        }
        2 => {
            let i = at(rng);
            let j = (i + rng.below(16)).min(len);
            let mut b = bytes[..i].to_vec();
            b.extend_from_slice(&bytes[j..]);
            String::from_utf8_lossy(&b).into_owned()
        }
        3 => {
            let i = at(rng);
            let j = (i + rng.below(64)).min(len);
            let mut b = bytes[..j].to_vec();
            b.extend_from_slice(&bytes[i..]);
            String::from_utf8_lossy(&b).into_owned()
        }
        4 => String::from_utf8_lossy(&bytes[..at(rng)]).into_owned(),
        _ => {
            let mut toks = tokens(text);
            if toks.is_empty() {
                return String::new();
            }
            let i = rng.below(toks.len());
            match rng.below(4) {
                0 => {
                    toks.remove(i);
                }
                1 => {
                    let t = toks[i].clone();
                    toks.insert(i, t);
                }
                2 => {
                    let j = rng.below(toks.len());
                    toks.swap(i, j);
                }
                _ => toks[i] = rng.pick(TOKENS).to_string(),
            }
            toks.concat()
        }
    }
}

/// Splits text into tokens and the separators between them, so that `concat` gives the text
/// back: runs of word characters, runs of whitespace, and single punctuation characters.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_alphanumeric() || matches!(c, '_' | '.' | '%' | '@') {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    let mut last = 3;
    for c in text.chars() {
        let k = class(c);
        match out.last_mut() {
            Some(s) if k == last && k != 2 => s.push(c),
            _ => out.push(c.to_string()),
        }
        last = k;
    }
    out
}

/// `k` mutations in a row.
pub fn mutate_n(rng: &mut Rng, text: &str, k: usize) -> String {
    let mut s = text.to_string();
    for _ in 0..k {
        s = mutate(rng, &s);
    }
    s
}
