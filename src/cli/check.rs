//! `graphjit check`: parse and verify a file.

use anyhow::Result;

use super::load_file;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// An IR file (`.gir`) or StableHLO text (`.mlir`).
    pub file: std::path::PathBuf,
}

pub fn check(a: CheckArgs) -> Result<()> {
    let m = load_file(&a.file)?;
    println!(
        "{}: ok, {} function(s) verified",
        a.file.display(),
        m.funcs.len()
    );
    Ok(())
}
