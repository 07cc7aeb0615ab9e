//! Compile and run times of the JAX fixtures: graphjit's import + compile against JAX's
//! lower + compile, and both run times, as a Markdown table for `benches/RESULTS.md`.
//!
//! `cargo bench --bench stablehlo`. JAX's times are the ones `tools/jax_fixtures.py` recorded
//! in each fixture's `.io` file (medians of fresh `jax.jit(f).lower(*args).compile()` calls
//! and of runs from Python; refresh them with `--times-only` right before this bench);
//! graphjit's are medians measured here on the same programs and inputs. `ops` counts the
//! graphjit instructions after import, nested regions included. The summary gives the issue's
//! two targets: import + compile under 2 ms (median) for programs under 100 ops, and run time
//! within 1.5x of XLA's.

use std::fs;
use std::path::Path;
use std::time::Instant;

use graphjit::{jit, stablehlo, DType, Data, Scalar, Tensor};

/// One fixture's figures: compile times in ms, run times in µs.
struct Row {
    name: String,
    ops: usize,
    compile: f64,
    jax_compile: f64,
    run: f64,
    jax_run: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn tensor(line: &str) -> Option<Tensor> {
    let mut it = line.split_whitespace();
    let dtype = stablehlo::element_type(it.next()?)?;
    let shape_s = it.next()?;
    let shape: Vec<usize> = if shape_s == "-" {
        Vec::new()
    } else {
        shape_s
            .split('x')
            .map(|d| d.parse().ok())
            .collect::<Option<_>>()?
    };
    let hex = |v: &str| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok();
    let vals: Vec<Scalar> = it
        .map(|v| {
            Some(match dtype {
                DType::Bool => Scalar::Bool(v == "1"),
                DType::I32 => Scalar::I32(v.parse().ok()?),
                DType::I64 => Scalar::I64(v.parse().ok()?),
                DType::F32 => Scalar::F32(f32::from_bits(hex(v)? as u32)),
                DType::F64 => Scalar::F64(f64::from_bits(hex(v)?)),
                // The other dtypes: integers in decimal, floats as the hex of their bits.
                d if d.is_int() => graphjit::tensor::parse_scalar(v, d).ok()?,
                d => Data::from_bytes(d, &hex(v)?.to_le_bytes()[..d.size_bytes()])?.get(0),
            })
        })
        .collect::<Option<_>>()?;
    Tensor::new(Data::from_scalars(dtype, &vals)?, shape)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stablehlo");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "mlir").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    println!(
        "| fixture | ops | graphjit import+compile (ms) | JAX lower+compile (ms) | JAX / graphjit compile \
         | graphjit run (us) | JAX run (us) | graphjit / JAX run |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = Vec::new();
    for name in names {
        let text = fs::read_to_string(dir.join(format!("{name}.mlir"))).unwrap();
        let io = fs::read_to_string(dir.join(format!("{name}.io"))).unwrap();
        let m = match stablehlo::parse(&text) {
            Ok(m) => m,
            Err(e) => {
                failed.push(format!("{name}: {e}"));
                continue;
            }
        };
        let ops = m.funcs[0].insts.len();
        let field = |k: &str| {
            io.lines()
                .find_map(|l| l.strip_prefix(k).and_then(|v| v.trim().parse::<f64>().ok()))
                .unwrap_or(f64::NAN)
        };
        let inputs: Vec<Tensor> = io
            .lines()
            .filter_map(|l| l.strip_prefix("in "))
            .filter_map(tensor)
            .collect();
        let compile = median(
            (0..21)
                .map(|_| {
                    let t = Instant::now();
                    let m = stablehlo::parse(&text).unwrap();
                    let exe = jit::compile(&m.funcs[0]).unwrap();
                    std::hint::black_box(&exe);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        );
        let exe = jit::compile(&m.funcs[0]).unwrap();
        let run = median(
            (0..201)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(exe.run(&inputs).unwrap());
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect(),
        );
        let (jc, jr) = (field("jax_compile_ms"), field("jax_run_us"));
        println!(
            "| {name} | {ops} | {compile:.3} | {jc:.1} | {:.0}x | {run:.2} | {jr:.1} | {:.2}x |",
            jc / compile,
            run / jr
        );
        rows.push(Row {
            name,
            ops,
            compile,
            jax_compile: jc,
            run,
            jax_run: jr,
        });
    }
    println!();
    let small: Vec<f64> = rows
        .iter()
        .filter(|r| r.ops < 100)
        .map(|r| r.compile)
        .collect();
    if !small.is_empty() {
        let n = small.len();
        let max = small.iter().cloned().fold(0.0, f64::max);
        let med = median(small);
        let verdict = if med < 2.0 { "met" } else { "not met" };
        println!(
            "- import + compile, the {n} fixtures under 100 ops: median {med:.3} ms, largest \
             {max:.3} ms (target under 2 ms: {verdict})"
        );
    }
    let c = median(rows.iter().map(|r| r.jax_compile / r.compile).collect());
    let r = median(rows.iter().map(|r| r.run / r.jax_run).collect());
    println!(
        "- median over {} fixtures: JAX compile / graphjit compile = {c:.0}x; \
         graphjit run / JAX run = {r:.2}x",
        rows.len()
    );
    let slow: Vec<String> = rows
        .iter()
        .filter(|r| r.run > 1.5 * r.jax_run)
        .map(|r| format!("{} ({:.2}x)", r.name, r.run / r.jax_run))
        .collect();
    println!(
        "- run time within 1.5x of JAX's: {} of {}; slower: {}",
        rows.len() - slow.len(),
        rows.len(),
        if slow.is_empty() {
            "none".to_string()
        } else {
            slow.join(", ")
        }
    );
    for f in failed {
        println!("- not imported: {f}");
    }
}
