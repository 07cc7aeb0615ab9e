//! `graphjit dump`: print one stage of the pipeline.

use anyhow::Result;
use clap::ValueEnum;
use graphjit::{jit, passes};

use super::{choose, load_file, FileArg};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Stage {
    /// The IR as parsed.
    Ir,
    /// The IR after the optimization passes.
    Opt,
    /// The fusion plan of the optimized IR: which values are computed inside another
    /// op's loop, and which results are written in place.
    Plan,
    /// The dataflow graph as Graphviz DOT, fused groups coloured (`dot -Tsvg` renders it).
    Dot,
    /// The Cranelift IR the compiler generates.
    Clif,
    /// The machine code, disassembled.
    Asm,
}

#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Which stage to print.
    #[arg(long, value_enum, default_value = "ir")]
    pub stage: Stage,
}

pub fn dump(a: DumpArgs) -> Result<()> {
    let module = load_file(&a.file.file)?;
    let funcs: Vec<_> = match (&a.file.func, a.stage) {
        (None, Stage::Ir | Stage::Opt | Stage::Plan) => module.funcs.iter().collect(),
        (name, _) => vec![choose(&module, &a.file.file, name.as_deref())?],
    };
    for (i, f) in funcs.into_iter().enumerate() {
        if i > 0 {
            println!();
        }
        match a.stage {
            Stage::Ir => println!("{f}"),
            Stage::Opt => println!("{}", passes::optimize(f)),
            Stage::Plan => {
                // The plan compilation with default options follows.
                let g = passes::optimize(f);
                let p = jit::plan::plan(&g, jit::JitOptions::default().fusion);
                print!("{}", p.display(&g));
            }
            Stage::Dot => {
                let g = passes::optimize(f);
                let p = jit::plan::plan(&g, jit::JitOptions::default().fusion);
                print!("{}", jit::graphviz::to_dot(&g, &p));
            }
            Stage::Clif => println!("{}", jit::compile(f)?.clif().trim_end()),
            Stage::Asm => println!("{}", jit::compile(f)?.asm()?.trim_end()),
        }
    }
    Ok(())
}
