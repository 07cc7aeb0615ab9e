//! The `graphjit._graphjit` extension module: graphjit's Rust library for Python. It converts
//! NumPy arrays and errors, releases the GIL while code runs, and turns Ctrl-C into the
//! library's cancellation flag; the Python package `graphjit` builds the user API on it.

mod convert;
mod errors;
mod function;
mod run;

use pyo3::prelude::*;

use crate::function::{compiler, parse_verified, Function, Module};

/// Parses and verifies IR text (the contents of a `.gir` file) into a `Module`.
#[pyfunction]
fn load_text(py: Python<'_>, text: &str) -> PyResult<Module> {
    Module::from_ir(py, parse_verified(text)?)
}

/// Counters of the process-wide compile cache: `{"compilations": n, "hits": n}`.
#[pyfunction]
fn compiler_stats(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let s = compiler().stats();
    let d = pyo3::types::PyDict::new(py);
    d.set_item("compilations", s.compilations)?;
    d.set_item("hits", s.hits)?;
    d.set_item("evictions", s.evictions)?;
    d.set_item("entries", s.entries)?;
    d.set_item("code_bytes", s.code_bytes)?;
    Ok(d)
}

/// Imports StableHLO text (a `.mlir` file, as `jax.jit(f).lower(...).as_text()` prints it)
/// into a verified `Module`.
#[pyfunction]
fn load_mlir(py: Python<'_>, text: &str) -> PyResult<Module> {
    let m = graphjit::stablehlo::parse(text).map_err(|e| errors::to_py(e.into()))?;
    graphjit::ir::verify::verify_module(&m).map_err(|e| errors::to_py(e.into()))?;
    Module::from_ir(py, m)
}

/// The dtype names this build knows.
#[pyfunction]
fn dtypes() -> Vec<String> {
    convert::supported_dtypes()
        .split(", ")
        .map(str::to_string)
        .collect()
}

#[pymodule]
fn _graphjit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<Module>()?;
    m.add_class::<Function>()?;
    m.add_class::<run::CancelToken>()?;
    m.add_function(wrap_pyfunction!(load_text, m)?)?;
    m.add_function(wrap_pyfunction!(compiler_stats, m)?)?;
    m.add_function(wrap_pyfunction!(load_mlir, m)?)?;
    m.add_function(wrap_pyfunction!(dtypes, m)?)?;
    m.add_function(wrap_pyfunction!(function::_function_from_ir, m)?)?;
    Ok(())
}
