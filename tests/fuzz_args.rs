//! Fuzz target: the argument syntax of the CLI and `; run:` lines (`args::parse_type`,
//! `parse_value`, `parse_args`) on arbitrary and mutated strings. Nothing may panic, nothing
//! huge may be allocated, and an accepted value has exactly the requested type.
//!
//! Quick: `cargo test --test fuzz_args` (`GRAPHJIT_FUZZ_CASES`, default 20000).
//! Long: `GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_args -- --ignored --nocapture`.

mod fuzz_support;

use fuzz_support::{drive, long, mutate_n, quick, random_bytes, seed, Rng};
use graphjit::args::{parse_args, parse_type, parse_value};
use graphjit::ir::parse::parse_function;
use graphjit::{DType, TensorType};

/// Well-formed arguments to mutate.
const SEEDS: &[&str] = &[
    "0",
    "-7",
    "2.5",
    "-inf",
    "nan",
    "true",
    "[1, 2, 3]",
    "[[1, 2], [3, 4]]",
    "[]",
    "[[]]",
    "zeros:f32[4]",
    "ones:i32[2,2]",
    "full(0.5):f64[3]",
    "full(-1):i64",
    "iota:i32[8]",
    "rand:f32[16]",
    "rand(7):bool[3]",
    "f32[1024]",
    "i64",
    "bool[0]",
    "f64[2,3]",
    "-2147483648",
    "9223372036854775807",
    "1e-310",
    "0x10",
    "[1, [2]]",
    "rand(18446744073709551615):i32[2]",
];

/// Types small enough to generate.
fn random_type(rng: &mut Rng) -> TensorType {
    let dtype = rng.pick(&DType::ALL);
    let rank = rng.below(3);
    TensorType::new(dtype, (0..rank).map(|_| rng.below(5)).collect::<Vec<_>>())
}

fn case(s: u64) -> Result<(), String> {
    let mut rng = Rng::new(s);
    let text = if rng.chance(30) {
        String::from_utf8_lossy(&random_bytes(&mut rng, 40)).into_owned()
    } else {
        let base = rng.pick(SEEDS);
        let k = 1 + rng.below(3);
        mutate_n(&mut rng, base, k)
    };
    // A parsed type is within the size limits.
    if let Ok(t) = parse_type(&text) {
        t.check_size()
            .map_err(|e| format!("parse_type accepted {text:?} as {t}: {e}"))?;
    }
    let ty = random_type(&mut rng);
    if let Ok(v) = parse_value(&text, &ty) {
        if v.ty() != ty {
            return Err(format!("parse_value({text:?}, {ty}) gave a {}", v.ty()));
        }
    }
    let f = parse_function(&format!(
        "func @f(%a: {ty}, %b: i32) -> {ty} {{\n  return %a\n}}\n"
    ))
    .map_err(|e| format!("the harness's function does not parse: {e}"))?;
    let _ = parse_args(&f, &[text.clone(), "1".into()]);
    let _ = parse_args(&f, &[text]);
    Ok(())
}

#[test]
fn argument_parsing_survives_random_and_mutated_strings() {
    drive("fuzz_args", quick(20000), seed(3), case);
}

#[test]
#[ignore = "long fuzzing run: GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_args -- --ignored"]
fn args_fuzz_long() {
    drive("fuzz_args", long(), seed(fuzz_support::clock_seed()), case);
}
