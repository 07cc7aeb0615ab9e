//! Fuzz target: the IR parser (and the verifier and printer behind it) on arbitrary bytes and
//! on mutated valid programs. Nothing may panic, and whatever parses must print and parse back
//! to the same module.
//!
//! Quick: `cargo test --test fuzz_parser` (`GRAPHJIT_FUZZ_CASES`, default 3000).
//! Long: `GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_parser -- --ignored --nocapture`.

mod fuzz_support;

use fuzz_support::{corpus, drive, long, mutate_n, quick, random_bytes, seed, Rng};
use graphjit::ir::parse::parse_module;
use graphjit::ir::verify::verify_module;
use graphjit::testgen::{random_function_with, GenConfig};

/// Parses `text`; when it parses, verifies it and checks that printing round-trips.
fn check_text(text: &str) -> Result<(), String> {
    let Ok(m) = parse_module(text) else {
        return Ok(());
    };
    let _ = verify_module(&m);
    let printed: String = m.funcs.iter().map(|f| format!("{f}\n")).collect();
    // A function nested too deeply to print says so instead of printing; nothing to compare.
    if printed.contains("nested too deeply to print") {
        return Ok(());
    }
    let back = parse_module(&printed)
        .map_err(|e| format!("the printed module does not parse: {e}\n{printed}"))?;
    if back != m {
        return Err(format!(
            "print/parse changed the module\ninput:\n{text}\nprinted:\n{printed}"
        ));
    }
    Ok(())
}

/// One case: arbitrary bytes, a mutated corpus file, or a mutated printed random program.
fn case(seeds: &[String], s: u64) -> Result<(), String> {
    let mut rng = Rng::new(s);
    let text = match rng.below(3) {
        0 => String::from_utf8_lossy(&random_bytes(&mut rng, 200)).into_owned(),
        1 => {
            let base = &seeds[rng.below(seeds.len())];
            let k = 1 + rng.below(4);
            mutate_n(&mut rng, base, k)
        }
        _ => {
            let cfg = GenConfig {
                max_ops: 1 + rng.below(10),
                max_depth: rng.below(4),
                max_dim: 1 + rng.below(5),
            };
            let f = random_function_with(rng.next_u64(), cfg);
            let k = 1 + rng.below(3);
            mutate_n(&mut rng, &f.to_string(), k)
        }
    };
    check_text(&text).map_err(|e| format!("{e}\n--- input ---\n{text:?}"))
}

#[test]
fn parser_survives_mutated_and_random_input() {
    let seeds = corpus();
    assert!(seeds.len() >= 10, "the seed corpus is missing");
    drive("fuzz_parser", quick(3000), seed(1), |s| case(&seeds, s));
}

#[test]
#[ignore = "long fuzzing run: GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_parser -- --ignored"]
fn parser_fuzz_long() {
    let seeds = corpus();
    drive(
        "fuzz_parser",
        long(),
        seed(fuzz_support::clock_seed()),
        |s| case(&seeds, s),
    );
}

#[test]
fn every_corpus_file_round_trips_or_fails_cleanly() {
    for text in corpus() {
        check_text(&text).unwrap();
    }
}
