//! The subcommands and what they share: loading a file and choosing its function.

mod bench;
mod check;
mod dump;
mod import;
mod run;

use std::path::{Path, PathBuf};

use std::ffi::OsString;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use graphjit::args::{bind_named, parse_args};
use graphjit::filetest::load;
use graphjit::ir::{Function, Module};
use graphjit::{tensor_io, Tensor};

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

/// Where a run's inputs come from: positional arguments, or a file of arrays named like the
/// parameters. Shared by `run` and `bench`, so both take the same inputs.
#[derive(clap::Args, Debug)]
pub struct InputArgs {
    /// A `.npz` or `.safetensors` file whose arrays are bound to the parameters by name (the
    /// IR's `%name`s).
    #[arg(long, value_name = "FILE")]
    pub inputs: Option<PathBuf>,
    /// The arguments: literals (`10`, `-2.5`, `[1, 2]`, `0x7fc00001:f32`), generators
    /// (`rand:f32[1024]`, `iota:i32[8]`) or NumPy files (`@x.npy`).
    pub args: Vec<String>,
}

impl InputArgs {
    /// The input tensors for `f`.
    pub fn load(&self, f: &Function) -> Result<Vec<Tensor>> {
        let args: Vec<String> = self.args.iter().map(|a| unprotect(a)).collect();
        match &self.inputs {
            None => Ok(parse_args(f, &args)?),
            Some(path) => {
                if !args.is_empty() {
                    bail!(
                        "give the arguments either in --inputs {} or on the command line, not both",
                        path.display()
                    );
                }
                let arrays = tensor_io::read_tensors(path)?;
                Ok(bind_named(f, arrays, &path.display().to_string())?)
            }
        }
    }
}

/// The character a leading '-' of a negative value becomes while clap reads the command line
/// (U+2212 MINUS SIGN), so that `-inf`, `-2.5e-3` or `-nan` are values wherever they stand
/// while real flags keep working; [`unprotect`] turns it back.
const MINUS: char = '\u{2212}';

/// Rewrites each argument that reads as a negative value (a '-' then a digit, a '.', or the
/// words inf, infinity or nan in any case, or a hex bit pattern) so that clap does not take it
/// for a flag. No flag of graphjit's starts like that.
///
/// A negative value right after an option that takes one (`--seconds -1`) is that option's
/// value: it is joined to it as `--seconds=-1`, which clap reads as written.
pub fn protect_negative_values(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let options = options_taking_values();
    let mut out: Vec<OsString> = Vec::new();
    for a in args {
        let Some(s) = a.to_str().filter(|s| looks_negative(s)) else {
            out.push(a);
            continue;
        };
        match out.last_mut() {
            Some(prev)
                if prev
                    .to_str()
                    .is_some_and(|p| options.iter().any(|o| o == p)) =>
            {
                prev.push(format!("={s}"));
            }
            _ => out.push(OsString::from(format!("{MINUS}{}", &s[1..]))),
        }
    }
    out
}

/// The long options (`--seconds`) of every subcommand that take a value, read from clap's own
/// description of the command line so that a new option needs no entry here.
fn options_taking_values() -> Vec<String> {
    use clap::CommandFactory;
    let cli = Cli::command();
    let mut names = Vec::new();
    for cmd in std::iter::once(&cli).chain(cli.get_subcommands()) {
        for arg in cmd.get_arguments() {
            if !arg.is_positional() && arg.get_action().takes_values() {
                if let Some(long) = arg.get_long() {
                    names.push(format!("--{long}"));
                }
            }
        }
    }
    names
}

fn looks_negative(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    rest.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        || ["inf", "infinity", "nan"].contains(&word.as_str())
}

/// Undoes [`protect_negative_values`] on one argument.
pub fn unprotect(s: &str) -> String {
    match s.strip_prefix(MINUS) {
        Some(rest) => format!("-{rest}"),
        None => s.to_string(),
    }
}
