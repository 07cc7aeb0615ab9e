//! Runs every JAX fixture of `tests/stablehlo/` through the importer, the interpreter and the
//! compiler, without JAX, and compares with the outputs JAX gave (`tools/jax_fixtures.py`).
//!
//! Integers and bools must match exactly; floats bit for bit unless the fixture's `.io` file
//! has a `tol N` line (at most N units in the last place apart), with a `note` saying why XLA
//! departs from plain IEEE evaluation there. Fixtures listed in `tests/stablehlo/PENDING` need
//! an op or dtype graphjit does not have yet: each must fail to import with exactly the error
//! recorded there (`STABLEHLO_BLESS=1 cargo test --test stablehlo` rewrites that file).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use graphjit::interp::interpret;
use graphjit::ir::parse::parse_module;
use graphjit::{jit, stablehlo, DType, Data, Scalar, Tensor};

struct Fixture {
    name: String,
    mlir: String,
    io: String,
    inputs: Vec<Tensor>,
    outputs: Vec<Tensor>,
    tol: Option<u64>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stablehlo")
}

/// One `in`/`out` line's tensor: `f32 4x2 0x3f800000 ...`.
fn tensor(line: &str) -> Result<Tensor, String> {
    let mut it = line.split_whitespace();
    let dt = it.next().ok_or("no dtype")?;
    let shape_s = it.next().ok_or("no shape")?;
    let shape: Vec<usize> = if shape_s == "-" {
        Vec::new()
    } else {
        shape_s
            .split('x')
            .map(|d| d.parse().map_err(|_| format!("bad dim {d}")))
            .collect::<Result<_, _>>()?
    };
    let dtype =
        stablehlo::element_type(dt).ok_or_else(|| format!("dtype {dt} is not in graphjit"))?;
    let hex =
        |v: &str| u64::from_str_radix(v.trim_start_matches("0x"), 16).map_err(|e| e.to_string());
    let vals: Vec<Scalar> = it
        .map(|v| -> Result<Scalar, String> {
            Ok(match dtype {
                DType::Bool => Scalar::Bool(v == "1"),
                DType::I32 => Scalar::I32(v.parse().map_err(|_| v.to_string())?),
                DType::I64 => Scalar::I64(v.parse().map_err(|_| v.to_string())?),
                DType::F32 => Scalar::F32(f32::from_bits(hex(v)? as u32)),
                DType::F64 => Scalar::F64(f64::from_bits(hex(v)?)),
                // The other dtypes: integers in decimal, floats as the hex of their bits.
                d if d.is_int() => graphjit::tensor::parse_scalar(v, d)?,
                d => Data::from_bytes(d, &hex(v)?.to_le_bytes()[..d.size_bytes()])
                    .ok_or("bad bits")?
                    .get(0),
            })
        })
        .collect::<Result<_, _>>()?;
    let data = Data::from_scalars(dtype, &vals).ok_or("bad values")?;
    Tensor::new(data, shape).ok_or_else(|| "element count does not match the shape".into())
}

fn load(name: &str) -> Fixture {
    let mlir = fs::read_to_string(dir().join(format!("{name}.mlir"))).unwrap();
    let io = fs::read_to_string(dir().join(format!("{name}.io"))).unwrap();
    Fixture {
        name: name.to_string(),
        mlir,
        io,
        inputs: Vec::new(),
        outputs: Vec::new(),
        tol: None,
    }
}

/// Reads the inputs and outputs (once the program imported, so its dtypes exist).
fn read_io(f: &mut Fixture) {
    let name = f.name.clone();
    for line in f.io.clone().lines() {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "in" => f
                .inputs
                .push(tensor(rest).unwrap_or_else(|e| panic!("{name}.io: {e}"))),
            "out" => f
                .outputs
                .push(tensor(rest).unwrap_or_else(|e| panic!("{name}.io: {e}"))),
            "tol" => f.tol = Some(rest.trim().parse().unwrap()),
            _ => {}
        }
    }
}

fn names() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "mlir").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    v.sort();
    v
}

fn pending() -> BTreeMap<String, String> {
    let text = fs::read_to_string(dir().join("PENDING")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(": "))
        .map(|(n, e)| (n.to_string(), e.to_string()))
        .collect()
}

/// How many representable floats lie between `a` and `b` (0 when equal, both NaN included).
fn ulps(a: Scalar, b: Scalar) -> Option<u64> {
    fn ordered64(bits: u64) -> i128 {
        if bits >> 63 == 1 {
            -((bits & !(1 << 63)) as i128)
        } else {
            bits as i128
        }
    }
    match (a, b) {
        (Scalar::F32(x), Scalar::F32(y)) if x.is_nan() || y.is_nan() => {
            (x.is_nan() && y.is_nan()).then_some(0)
        }
        (Scalar::F64(x), Scalar::F64(y)) if x.is_nan() || y.is_nan() => {
            (x.is_nan() && y.is_nan()).then_some(0)
        }
        (Scalar::F32(x), Scalar::F32(y)) => {
            let d =
                ordered64(u64::from(x.to_bits()) << 32) - ordered64(u64::from(y.to_bits()) << 32);
            Some((d.unsigned_abs() >> 32) as u64)
        }
        (Scalar::F64(x), Scalar::F64(y)) => {
            Some((ordered64(x.to_bits()) - ordered64(y.to_bits())).unsigned_abs() as u64)
        }
        _ => a.same(b).then_some(0).or(Some(u64::MAX)),
    }
}

fn compare(f: &Fixture, got: &[Tensor], who: &str) -> Result<(), String> {
    if got.len() != f.outputs.len() {
        return Err(format!(
            "{}: {who} gave {} outputs, JAX {}",
            f.name,
            got.len(),
            f.outputs.len()
        ));
    }
    for (k, (g, want)) in got.iter().zip(&f.outputs).enumerate() {
        if g.ty() != want.ty() {
            return Err(format!(
                "{}: {who} output {k} is {}, JAX's {}",
                f.name,
                g.ty(),
                want.ty()
            ));
        }
        let tol = if g.dtype().is_float() {
            f.tol.unwrap_or(0)
        } else {
            0
        };
        for i in 0..g.len() {
            let (a, b) = (g.get(i).unwrap(), want.get(i).unwrap());
            let d = ulps(a, b).unwrap_or(u64::MAX);
            if d > tol {
                return Err(format!(
                    "{}: {who} output {k}[{i}] = {a}, JAX {b} ({d} ulps apart, tolerance {tol})",
                    f.name
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn fixtures_match_jax_in_both_executors() {
    let bless = std::env::var_os("STABLEHLO_BLESS").is_some();
    let pend = pending();
    let mut failures = Vec::new();
    let mut new_pending = BTreeMap::new();
    let mut ran = 0;
    for name in names() {
        let mut f = load(&name);
        let module = match stablehlo::parse(&f.mlir) {
            Ok(m) => m,
            Err(e) => {
                let msg = e.to_string();
                new_pending.insert(name.clone(), msg.clone());
                match pend.get(&name) {
                    Some(want) if *want == msg => {}
                    Some(want) => failures.push(format!(
                        "{name}: pending error changed: {msg} (was: {want})"
                    )),
                    None => failures.push(format!("{name}: import failed: {msg}")),
                }
                continue;
            }
        };
        if pend.contains_key(&name) {
            failures.push(format!(
                "{name} imports now: move it from PENDING to running"
            ));
        }
        read_io(&mut f);
        let main = module.func("main").expect("every fixture has @main");
        // The importer's output round-trips through graphjit's own text form.
        let text = module.to_string();
        match parse_module(&text) {
            Ok(back) if back.to_string() == text => {}
            Ok(_) => failures.push(format!("{name}: printed IR does not parse back to itself")),
            Err(e) => failures.push(format!("{name}: printed IR does not parse: {e}")),
        }
        match interpret(main, &f.inputs) {
            Ok(out) => failures.extend(compare(&f, &out, "interpreter").err()),
            Err(e) => failures.push(format!("{name}: interpreter: {e}")),
        }
        match jit::compile(main).and_then(|exe| exe.run(&f.inputs)) {
            Ok(out) => failures.extend(compare(&f, &out, "compiled").err()),
            Err(e) => failures.push(format!("{name}: compiled: {e}")),
        }
        ran += 1;
    }
    if bless {
        let mut text = String::from(
            "# Fixtures that need an op or dtype graphjit does not have yet, with the exact import error.\n",
        );
        for (n, e) in &new_pending {
            text.push_str(&format!("{n}: {e}\n"));
        }
        fs::write(dir().join("PENDING"), text).unwrap();
        failures.retain(|f| {
            !f.contains("pending error changed")
                && !f.contains("import failed")
                && !f.contains("move it from PENDING")
        });
    }
    assert!(ran >= 20, "only {ran} fixtures ran");
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every pending error names an op or a dtype and where it is.
    for (n, e) in &new_pending {
        let at = e
            .split(':')
            .take(2)
            .all(|p| p.trim().parse::<usize>().is_ok());
        assert!(
            at && (e.contains("not supported")),
            "{n}: unclear error: {e}"
        );
    }
}
