//! graphjit: a JIT graph compiler. Static graphs are compiled once to native code with
//! Cranelift; dynamic computations run in an interpreter; both share one op semantics and
//! give bit-identical results.
//!
//! The pipeline, one module per stage: [`ir`] (text [`ir::parse`] / [`ir::print`], and
//! [`ir::verify`]) → [`passes`] → [`interp`] | [`jit`]. The meaning of every op is in [`ops`].
//!
//! Most programs need only the names of [`prelude`]: build a [`Graph`] (or parse IR text with
//! [`prelude::parse_module`]), then run it with the interpreter or compile it. There is one
//! way to compile with a cache, [`jit::Compiler::compile`] (which [`Graph::compile`] uses
//! through a process-wide compiler), and one without, [`jit::compile`].
//!
//! ```
//! use graphjit::prelude::{compile, parse_module, Tensor};
//!
//! let m = parse_module("func @twice(%x: f32[2]) -> f32[2] {\n  %y = add %x, %x : f32[2]\n  return %y\n}")?;
//! let exe = compile(m.func("twice").expect("a function"))?;
//! let x = Tensor::from_vec(vec![1.0f32, 2.5], [2]).expect("two elements");
//! let y = exe.run(&[x])?;
//! assert_eq!(y[0], Tensor::from_vec(vec![2.0f32, 5.0], [2]).expect("two elements"));
//! # Ok::<(), graphjit::Error>(())
//! ```

// The machinery of the CLI and the tests: public for the binary, the tests and the benches,
// hidden from the documentation because it is no part of the library's interface.
#[doc(hidden)]
pub mod args;
pub mod eager;
mod eager_more;
pub mod error;
#[doc(hidden)]
pub mod filetest;
pub mod graph;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod limits;
#[cfg(feature = "ndarray")]
pub mod ndarray_interop;
pub mod ops;
pub mod parallel;
pub mod passes;
pub mod stablehlo;
pub mod tensor;
pub mod tensor_io;
pub mod tensor_ref;
#[doc(hidden)]
pub mod testgen;
pub mod trace;
pub mod types;

/// The names most programs use, to import by name (`use graphjit::prelude::{Graph, Tensor};`).
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::graph::{Graph, Var};
    pub use crate::interp::{interpret, Interpreter};
    pub use crate::ir::parse::parse_module;
    pub use crate::ir::{Function, Module};
    pub use crate::jit::{compile, Compiler, Executable, JitOptions};
    pub use crate::limits::RunOptions;
    pub use crate::tensor::{Scalar, Tensor};
    pub use crate::tensor_ref::{TensorMut, TensorRef};
    pub use crate::trace::{function, Traced};
    pub use crate::types::{DType, TensorType};
}

pub use error::{Error, Result};
pub use graph::{Graph, Var};
pub use limits::RunOptions;
pub use tensor::{Data, Scalar, Tensor};
pub use tensor_ref::{TensorMut, TensorRef};
pub use trace::{function, Traced};
pub use types::{DType, TensorType};

/// The README's Rust snippets, run as doc tests so that they cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
