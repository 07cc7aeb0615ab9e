//! graphjit's Python exceptions and the mapping of library errors onto them.

use graphjit::error::RunError as LibRunError;
use graphjit::Error;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    graphjit,
    GraphjitError,
    PyException,
    "The base of every error graphjit raises for its own reasons."
);
create_exception!(
    graphjit,
    ParseError,
    GraphjitError,
    "IR text that does not parse; the message starts with line:col."
);
create_exception!(
    graphjit,
    VerifyError,
    GraphjitError,
    "IR that parses but breaks an invariant; the message names the function and value."
);
create_exception!(
    graphjit,
    CompileError,
    GraphjitError,
    "A verified function that Cranelift could not compile."
);
create_exception!(
    graphjit,
    RunError,
    GraphjitError,
    "A run that failed or was stopped."
);
create_exception!(
    graphjit,
    IterationLimit,
    RunError,
    "A run that took more loop iterations than its max_iters."
);
create_exception!(
    graphjit,
    DeadlineExceeded,
    RunError,
    "A run that passed its timeout."
);
create_exception!(
    graphjit,
    MemoryLimit,
    RunError,
    "A run that would have allocated more than its max_memory."
);
create_exception!(
    graphjit,
    Cancelled,
    RunError,
    "A run stopped through its CancelToken."
);

/// The Python exception for a library error, carrying graphjit's message.
pub fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Parse(p) => {
            let err = ParseError::new_err(msg);
            Python::attach(|py| {
                let v = err.value(py);
                // Attributes let tools point at the place without parsing the message.
                let _ = v.setattr("line", p.line);
                let _ = v.setattr("col", p.col);
            });
            err
        }
        Error::Verify(_) => VerifyError::new_err(msg),
        Error::Compile(_) => CompileError::new_err(msg),
        Error::NoSuchFunction { .. } => PyKeyError::new_err(msg),
        Error::Argument(_) => PyValueError::new_err(msg),
        Error::Run(r) => match r {
            LibRunError::IterationLimit { .. } => IterationLimit::new_err(msg),
            LibRunError::DeadlineExceeded { .. } => DeadlineExceeded::new_err(msg),
            LibRunError::Cancelled { .. } => Cancelled::new_err(msg),
            LibRunError::MemoryLimit { .. } => MemoryLimit::new_err(msg),
            LibRunError::ArgCount { .. } | LibRunError::ArgType { .. } => PyTypeError::new_err(msg),
            _ => RunError::new_err(msg),
        },
        #[allow(unreachable_patterns)]
        _ => GraphjitError::new_err(msg),
    }
}

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GraphjitError", py.get_type::<GraphjitError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("VerifyError", py.get_type::<VerifyError>())?;
    m.add("CompileError", py.get_type::<CompileError>())?;
    m.add("RunError", py.get_type::<RunError>())?;
    m.add("IterationLimit", py.get_type::<IterationLimit>())?;
    m.add("DeadlineExceeded", py.get_type::<DeadlineExceeded>())?;
    m.add("Cancelled", py.get_type::<Cancelled>())?;
    m.add("MemoryLimit", py.get_type::<MemoryLimit>())?;
    Ok(())
}
