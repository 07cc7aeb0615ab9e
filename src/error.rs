//! Errors of every stage, gathered in one crate-level [`Error`](enum@Error).

use thiserror::Error;

use crate::tensor::Tensor;
use crate::types::TensorType;

/// A syntax error in IR text, at a 1-based line and column.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{line}:{col}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// A violation of an IR invariant, naming the function, the instruction or value, and what is
/// wrong.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("in @{func}: {location}: {message}")]
pub struct VerifyError {
    pub func: String,
    /// The op and value concerned, e.g. `'add' defining %x` or `parameter %a`.
    pub location: String,
    pub message: String,
}

/// A problem with the inputs or outputs given to a run.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RunError {
    #[error("@{func} takes {expected} argument(s), got {got}")]
    ArgCount {
        func: String,
        expected: usize,
        got: usize,
    },
    /// The types are boxed (here and in `OutType`) to keep every `Result` of the crate
    /// small: an error is rare, a `Result` is moved on every op.
    #[error("argument {index} (%{name}) of @{func} must be {expected}, got {got}")]
    ArgType {
        func: String,
        index: usize,
        name: String,
        expected: Box<TensorType>,
        got: Box<TensorType>,
    },
    /// A tensor whose buffer does not hold the element count of its shape (its data was
    /// replaced through `Tensor::data_mut`).
    #[error("argument {index} (%{name}) of @{func} holds {len} element(s), but its shape {ty} needs {expected}")]
    ArgData {
        func: String,
        index: usize,
        name: String,
        ty: TensorType,
        len: usize,
        expected: usize,
    },
    #[error("@{func} returns {expected} result(s), but {got} output tensor(s) were given")]
    OutCount {
        func: String,
        expected: usize,
        got: usize,
    },
    #[error("output {index} of @{func} must be {expected}, got {got}")]
    OutType {
        func: String,
        index: usize,
        expected: Box<TensorType>,
        got: Box<TensorType>,
    },
    #[error("a loop in @{func} ran more than the limit of {limit} iterations")]
    IterationLimit { func: String, limit: u64 },
    #[error("the run of @{func} was cancelled")]
    Cancelled { func: String },
    #[error("the run of @{func} passed its deadline")]
    DeadlineExceeded { func: String },
    /// The run would have gone over the memory limit of its `RunOptions`.
    #[error("a run of @{func} needs {needed} bytes of memory, over its limit of {limit} bytes")]
    MemoryLimit {
        func: String,
        needed: usize,
        limit: usize,
    },
    /// The system refused memory a run needed (scratch, a result, an intermediate tensor).
    #[error("cannot allocate {bytes} bytes for a run of @{func}: the system refused the memory")]
    OutOfMemory { func: String, bytes: usize },
}

impl RunError {
    /// The check both executors make of each argument before a run: its dtype and shape are
    /// the parameter's, and its buffer holds as many elements as the shape says (a tensor's
    /// data can be replaced through `data_mut`, and compiled code reads what the shape says).
    pub fn check_arg(
        func: &str,
        index: usize,
        name: &str,
        ty: &TensorType,
        t: &Tensor,
    ) -> Result<(), RunError> {
        RunError::check_arg_parts(func, index, name, ty, t.dtype(), t.shape(), t.data().len())
    }

    /// [`RunError::check_arg`] of an argument given as its dtype, shape and element count (a
    /// borrowed buffer, see [`crate::tensor_ref`]).
    pub fn check_arg_parts(
        func: &str,
        index: usize,
        name: &str,
        ty: &TensorType,
        dtype: crate::types::DType,
        shape: &[usize],
        len: usize,
    ) -> Result<(), RunError> {
        if !ty.matches(dtype, shape) {
            return Err(RunError::ArgType {
                func: func.to_string(),
                index,
                name: name.to_string(),
                expected: Box::new(ty.clone()),
                got: Box::new(TensorType::new(dtype, shape)),
            });
        }
        // The shape matches a verified type, so its product cannot overflow.
        let expected = ty.num_elements();
        if len != expected {
            return Err(RunError::ArgData {
                func: func.to_string(),
                index,
                name: name.to_string(),
                ty: ty.clone(),
                len,
                expected,
            });
        }
        Ok(())
    }
}

/// A failure to compile a verified function to machine code.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("compiling @{func}: {message}")]
pub struct CompileError {
    pub func: String,
    pub message: String,
}

/// A tensor file that cannot be read or written: the file and what is wrong with it (the
/// message names the array, for files that hold several).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{file}: {message}")]
pub struct FileError {
    pub file: String,
    pub message: String,
}

/// Any graphjit error.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Error {
    #[error("parse error at {0}")]
    Parse(#[from] ParseError),
    #[error("invalid IR {0}")]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("no function @{name} in the module (it has: {available})")]
    NoSuchFunction { name: String, available: String },
    /// A malformed argument literal or generator (CLI arguments, `; run:` lines).
    #[error("{0}")]
    Argument(String),
    /// A borrowed buffer (`TensorRef`, `TensorMut`, an ndarray view) that does not fit its
    /// dtype, shape or layout, or a conversion between tensor types that cannot be made.
    #[error("{0}")]
    Buffer(String),
    /// A bug in graphjit found while running: a broken invariant that verified IR and
    /// checked inputs should make impossible. Never caused by user input alone.
    #[error("internal error (a graphjit bug): {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
