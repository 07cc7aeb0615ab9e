//! Fuzz target: the StableHLO importer on mutated JAX fixtures and arbitrary bytes. Nothing
//! may panic; whatever imports must verify, and its graphjit text must parse back.
//!
//! Quick: `cargo test --test fuzz_stablehlo` (`GRAPHJIT_FUZZ_CASES`, default 3000).
//! Long: `GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_stablehlo -- --ignored --nocapture`.

mod fuzz_support;

use std::fs;
use std::path::Path;

use fuzz_support::{drive, long, mutate_n, quick, random_bytes, seed, Rng};
use graphjit::ir::parse::parse_module;
use graphjit::ir::verify::verify_module;
use graphjit::stablehlo;

fn fixtures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stablehlo");
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "mlir").then(|| fs::read_to_string(p).ok())?
        })
        .collect();
    v.sort();
    v
}

fn check_text(text: &str) -> Result<(), String> {
    let Ok(m) = stablehlo::parse(text) else {
        return Ok(());
    };
    verify_module(&m).map_err(|e| format!("an imported module does not verify: {e}"))?;
    let printed = m.to_string();
    if printed.contains("nested too deeply to print") {
        return Ok(());
    }
    parse_module(&printed).map_err(|e| format!("the imported IR does not parse back: {e}"))?;
    Ok(())
}

fn case(seeds: &[String], s: u64) -> Result<(), String> {
    let mut rng = Rng::new(s);
    let text = if rng.below(8) == 0 {
        String::from_utf8_lossy(&random_bytes(&mut rng, 300)).into_owned()
    } else {
        let base = &seeds[rng.below(seeds.len())];
        let k = 1 + rng.below(4);
        mutate_n(&mut rng, base, k)
    };
    check_text(&text).map_err(|e| format!("{e}\n--- input ---\n{text}"))
}

#[test]
fn importer_survives_mutated_fixtures() {
    let seeds = fixtures();
    assert!(seeds.len() >= 40, "the fixtures are missing");
    drive("fuzz_stablehlo", quick(3000), seed(7), |s| case(&seeds, s));
}

#[test]
#[ignore = "long fuzzing run: GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_stablehlo -- --ignored"]
fn importer_fuzz_long() {
    let seeds = fixtures();
    drive(
        "fuzz_stablehlo",
        long(),
        seed(fuzz_support::clock_seed()),
        |s| case(&seeds, s),
    );
}
