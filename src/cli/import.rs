//! `graphjit import`: read StableHLO text and print the graphjit IR it becomes.

use anyhow::Result;

use super::load_file;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// A StableHLO file (`.mlir`), as `jax.jit(f).lower(*args).as_text()` prints it.
    pub file: std::path::PathBuf,
}

/// Prints the imported module in graphjit's text form, which `graphjit run` and the `.gir`
/// parser read back.
pub fn import(a: ImportArgs) -> Result<()> {
    if !super::is_stablehlo(&a.file) {
        anyhow::bail!(
            "{}: 'import' reads StableHLO files ending in .mlir",
            a.file.display()
        );
    }
    let m = load_file(&a.file)?;
    print!("{m}");
    Ok(())
}
