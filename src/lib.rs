//! graphjit: a JIT graph compiler. Static graphs are compiled once to native code with
//! Cranelift; dynamic computations run in an interpreter; both share one op semantics and
//! give bit-identical results.
//!
//! The pipeline, one module per stage: [`ir`] (text [`ir::parse`] / [`ir::print`], and
//! [`ir::verify`]) → [`passes`] → [`interp`] | [`jit`]. The meaning of every op is in [`ops`].

pub mod args;
pub mod eager;
pub mod error;
pub mod filetest;
pub mod graph;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod limits;
pub mod ops;
pub mod passes;
pub mod tensor;
pub mod tensor_io;
pub mod testgen;
pub mod trace;
pub mod types;

pub use error::{Error, Result};
pub use graph::{Graph, Var};
pub use limits::RunOptions;
pub use tensor::{Data, Scalar, Tensor};
pub use trace::{function, Traced};
pub use types::{DType, TensorType};

/// The README's Rust snippets, run as doc tests so that they cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
