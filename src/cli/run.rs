//! `graphjit run`: compile (or interpret) a function and print its results.

use anyhow::Result;
use graphjit::args::parse_args;
use graphjit::interp::interpret;
use graphjit::jit;

use super::{choose, load_file, FileArg};

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Run in the interpreter instead of compiling.
    #[arg(long)]
    pub interp: bool,
    /// The arguments: literals (`10`, `2.5`, `[1, 2]`) or generators (`rand:f32[1024]`, `iota:i32[8]`).
    #[arg(allow_negative_numbers = true)]
    pub args: Vec<String>,
}

pub fn run(a: RunArgs) -> Result<()> {
    let module = load_file(&a.file.file)?;
    let f = choose(&module, &a.file.file, a.file.func.as_deref())?;
    let inputs = parse_args(f, &a.args)?;
    let outputs = if a.interp {
        interpret(f, &inputs)?
    } else {
        jit::compile(f)?.run(&inputs)?
    };
    for t in outputs {
        println!("{t}");
    }
    Ok(())
}
