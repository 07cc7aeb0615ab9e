//! Compile and run times of the JAX fixtures: graphjit's import + compile against JAX's
//! lower + compile, and both run times, as a Markdown table for `benches/RESULTS.md`.
//!
//! `cargo bench --bench stablehlo`. JAX's times are the ones `tools/jax_fixtures.py` recorded
//! in each fixture's `.io` file (median of 5 fresh `jax.jit(f).lower(*args).compile()` and of
//! 50 runs); graphjit's are medians measured here on the same programs and inputs.

use std::fs;
use std::path::Path;
use std::time::Instant;

use graphjit::{jit, stablehlo, DType, Data, Scalar, Tensor};

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
    println!("| fixture | ops | graphjit import+compile (ms) | JAX lower+compile (ms) | graphjit run (us) | JAX run (us) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut ratios = Vec::new();
    for name in names {
        let text = fs::read_to_string(dir.join(format!("{name}.mlir"))).unwrap();
        let io = fs::read_to_string(dir.join(format!("{name}.io"))).unwrap();
        let Ok(m) = stablehlo::parse(&text) else {
            continue;
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
        ratios.push((jc / compile, run / jr));
        println!("| {name} | {ops} | {compile:.3} | {jc:.1} | {run:.2} | {jr:.1} |");
    }
    let c = median(ratios.iter().map(|r| r.0).collect());
    let r = median(ratios.iter().map(|r| r.1).collect());
    println!("\nmedian over {} fixtures: JAX compile / graphjit compile = {c:.0}x; graphjit run / JAX run = {r:.2}x", ratios.len());
}
