//! `graphjit run`: compile (or interpret) a function and print its results.

use std::time::Duration;

use anyhow::{bail, Result};
use graphjit::args::parse_args;
use graphjit::interp::interpret_with;
use graphjit::jit;
use graphjit::RunOptions;

use super::{choose, load_file, FileArg};

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
    /// The arguments: literals (`10`, `2.5`, `[1, 2]`) or generators (`rand:f32[1024]`, `iota:i32[8]`).
    #[arg(allow_negative_numbers = true)]
    pub args: Vec<String>,
}

/// Reads a timeout in seconds: a finite, non-negative number.
fn parse_seconds(text: &str) -> Result<Duration> {
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
    let inputs = parse_args(f, &a.args)?;
    let mut opts = RunOptions::new();
    if let Some(n) = a.max_iters {
        opts = opts.with_max_iterations(n);
    }
    if let Some(bytes) = a.max_memory {
        opts = opts.with_memory_limit(bytes);
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
    for t in outputs {
        println!("{t}");
    }
    Ok(())
}
