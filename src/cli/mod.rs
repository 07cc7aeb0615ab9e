//! The subcommands and what they share: loading a file and choosing its function.

mod bench;
mod check;
mod dump;
mod import;
mod run;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use graphjit::filetest::load;
use graphjit::ir::{Function, Module};

/// graphjit: compile static computation graphs to native code with Cranelift, or interpret them.
#[derive(Parser, Debug)]
#[command(name = "graphjit", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a function of an IR file and print each result on its own line.
    Run(run::RunArgs),
    /// Parse and verify an IR file; say what is wrong and where.
    Check(check::CheckArgs),
    /// Print a stage of the pipeline: the IR as parsed, after optimization, Cranelift IR, or assembly.
    Dump(dump::DumpArgs),
    /// Time compiled against interpreted runs of a function on the same inputs.
    Bench(bench::BenchArgs),
    /// Import a StableHLO file (`.mlir`, as JAX prints it) and print it as graphjit IR.
    Import(import::ImportArgs),
}

pub fn main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(a),
        Command::Dump(a) => dump::dump(a),
        Command::Bench(a) => bench::bench(a),
        Command::Import(a) => import::import(a),
    }
}

/// Whether a path names a StableHLO file (`.mlir`) rather than graphjit IR.
pub fn is_stablehlo(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "mlir")
}

/// Reads, parses and verifies an IR file; a `.mlir` file is imported from StableHLO.
pub fn load_file(path: &Path) -> Result<Module> {
    let src =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if is_stablehlo(path) {
        return graphjit::stablehlo::parse(&src)
            .map_err(graphjit::Error::from)
            .with_context(|| format!("{}", path.display()));
    }
    load(&src).with_context(|| format!("{}", path.display()))
}

/// Chooses the function to run: the one named by `--func`, else the only one, else the one
/// named like the file (`ir/counter.gir` runs `@counter`).
pub fn choose<'m>(m: &'m Module, path: &Path, name: Option<&str>) -> Result<&'m Function> {
    let names = || {
        m.funcs
            .iter()
            .map(|f| format!("@{}", f.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(n) = name {
        let n = n.trim_start_matches('@');
        return m.func(n).with_context(|| {
            format!(
                "{} has no function @{n} (it has {})",
                path.display(),
                names()
            )
        });
    }
    if let [only] = m.funcs.as_slice() {
        return Ok(only);
    }
    // JAX's entry point is `@main`, whatever the file is called.
    if is_stablehlo(path) {
        if let Some(f) = m.func("main") {
            return Ok(f);
        }
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if let Some(f) = m.func(stem) {
        return Ok(f);
    }
    if m.funcs.is_empty() {
        bail!("{} has no functions", path.display());
    }
    bail!(
        "{} has {} functions ({}) and none is named @{stem}: choose one with --func",
        path.display(),
        m.funcs.len(),
        names()
    )
}

/// The file argument every subcommand takes.
#[derive(clap::Args, Debug)]
pub struct FileArg {
    /// An IR file (`.gir`), or StableHLO text (`.mlir`) whose `@main` is the default.
    pub file: PathBuf,
    /// The function to use, when the file has several.
    #[arg(long = "func", short = 'f')]
    pub func: Option<String>,
}
