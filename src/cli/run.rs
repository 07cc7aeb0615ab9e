//! `graphjit run`: compile (or interpret) a function and print or save its results.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::ValueEnum;
use graphjit::args::result_names;
use graphjit::interp::interpret_with;
use graphjit::{jit, tensor_io, RunOptions, Tensor};

use super::{choose, load_file, FileArg, InputArgs};

/// How `run` prints its results.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// Each result on its own line, as NumPy prints a list.
    #[default]
    Text,
    /// One JSON object: each result's name, dtype, shape and values (floats with their bits).
    Json,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Run in the interpreter instead of compiling.
    #[arg(long)]
    pub interp: bool,
    /// Stop with an error after N loop iterations (back-edges of all loops of the run).
    #[arg(long = "max-iters", value_name = "N")]
    pub max_iters: Option<u64>,
    /// Stop with an error when the run is still looping after SECONDS (fractions allowed: 0.05).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Stop with an error rather than let the run allocate more than SIZE bytes besides its
    /// inputs (suffixes K, M, G, T are powers of 1024: `512M`, `2G`).
    #[arg(long = "max-memory", value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<usize>,
    /// Run large loops, reductions and `dot` on N threads (default: every core). Results are
    /// the same bits for every N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// How to print the results.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the results to a `.npz` or `.safetensors` file, named like the values the
    /// function returns (`out0`, `out1`, ... where those names repeat).
    #[arg(long = "save-outputs", value_name = "FILE")]
    pub save_outputs: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: InputArgs,
}

/// Reads a timeout in seconds: a finite, non-negative number.
fn parse_seconds(text: &str) -> Result<Duration> {
    let text = super::unprotect(text);
    let s: f64 = match text.trim().parse() {
        Ok(s) => s,
        Err(_) => bail!("'{text}' is not a number of seconds"),
    };
    match Duration::try_from_secs_f64(s) {
        Ok(d) => Ok(d),
        Err(_) => bail!("the timeout must be a finite, non-negative number of seconds, not {text}"),
    }
}

/// Reads a size in bytes: a whole number with an optional binary suffix (`K`, `M`, `G`, `T`,
/// also written `KiB`, `KB`; case ignored).
pub fn parse_size(text: &str) -> Result<usize> {
    let text = super::unprotect(text);
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let digits = upper.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &upper[digits.len()..];
    let shift = match unit {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => bail!("'{text}' is not a size: use a number of bytes with an optional K, M, G or T"),
    };
    let n: usize = match digits.trim().parse() {
        Ok(n) => n,
        Err(_) => {
            bail!("'{text}' is not a size: use a number of bytes with an optional K, M, G or T")
        }
    };
    match n.checked_mul(1usize << shift) {
        Some(bytes) => Ok(bytes),
        None => bail!("the size {text} is too large"),
    }
}

pub fn run(a: RunArgs) -> Result<()> {
    let module = load_file(&a.file.file)?;
    let f = choose(&module, &a.file.file, a.file.func.as_deref())?;
    let inputs = a.inputs.load(f)?;
    let mut opts = RunOptions::new();
    if let Some(n) = a.max_iters {
        opts = opts.with_max_iterations(n);
    }
    if let Some(bytes) = a.max_memory {
        opts = opts.with_memory_limit(bytes);
    }
    if let Some(n) = a.threads {
        opts = opts.with_threads(n as usize);
    }
    // The clock starts after parsing and compiling: the timeout bounds the run itself.
    let outputs = if a.interp {
        if let Some(d) = a.timeout {
            opts = opts.with_timeout(d);
        }
        interpret_with(f, &inputs, &opts)?
    } else {
        let exe = jit::compile(f)?;
        if let Some(d) = a.timeout {
            opts = opts.with_timeout(d);
        }
        exe.run_with(&inputs, &opts)?
    };
    let names = result_names(f);
    let named: Vec<(&str, &Tensor)> = names.iter().map(String::as_str).zip(&outputs).collect();
    if let Some(path) = &a.save_outputs {
        tensor_io::write_tensors(path, &named)?;
    }
    match a.format {
        Format::Text => {
            for t in &outputs {
                println!("{t}");
            }
        }
        Format::Json => println!("{}", tensor_io::tensors_json(&f.name, &named)),
    }
    Ok(())
}
