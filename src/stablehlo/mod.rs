//! The StableHLO importer: reads the MLIR text JAX prints and builds graphjit IR.
//!
//! The stages are the files: `lexer` (tokens), `parser` (text to the syntax tree of
//! [`ast`], for the pretty and the generic op forms alike), `build` (scopes, call inlining,
//! type checks) and `ops` (the table of one small function per StableHLO op). Every error
//! is a [`ParseError`] with the `line:col` of what is wrong; an op graphjit cannot express is
//! an error naming it. `docs/stablehlo.md` lists what maps to what.

pub mod ast;
mod build;
mod lexer;
mod ops;
mod ops_more;
pub mod parser;
mod regions;

use crate::error::ParseError;
use crate::ir::verify::verify_function;
use crate::ir::Module;

/// Imports a StableHLO module: every function that is not `private` becomes a graphjit
/// function of the same name (JAX's entry point is `@main`); private helpers are inlined
/// where they are called. The result is verified.
pub fn parse(text: &str) -> Result<Module, ParseError> {
    let ast = parser::parse_ast(text)?;
    let mut funcs = Vec::new();
    for f in ast.funcs.iter().filter(|f| !f.private) {
        let func = build::build_function(text, &ast, f)?;
        // The builder checks every op's types as it goes, so a failure here is a bug of the
        // importer; it is still reported, at the function, rather than trusted.
        verify_function(&func).map_err(|e| lexer::error_at(text, f.pos, e.to_string()))?;
        funcs.push(func);
    }
    if funcs.is_empty() {
        return Err(lexer::error_at(
            text,
            0,
            "the module has no public function to import",
        ));
    }
    Ok(Module { funcs })
}

/// The graphjit dtype of an MLIR element type name (`i1`, `f32`, `ui8`), if graphjit has it.
pub fn element_type(name: &str) -> Option<crate::types::DType> {
    parser::dtype_of(name)
}
