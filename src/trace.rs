//! Traced functions: Rust code over tensors that runs eagerly once while recording its ops,
//! and, when its control flow did not depend on tensor values, runs compiled afterwards.
//!
//! [`function`] wraps a closure over [`Traced`] values. The first call with an input
//! signature (the inputs' types) runs the closure eagerly, every op going through the
//! interpreter's kernels as in [`crate::eager`], and records the ops as straight-line IR.
//!
//! - If no tensor value was read into Rust ([`Traced::to_scalar`], [`Traced::to_bool`],
//!   [`Traced::to_tensor`]), the trace is *static*: the recorded function is compiled once
//!   through the shared, cached [`Compiler`] ([`shared_compiler`]), and every later call with that signature runs
//!   the compiled code.
//! - If a value was read, Rust control flow may have depended on it, so the recording stands
//!   for this call only. The trace is *dynamic* (a "graph break"): calls with that signature
//!   keep running the closure eagerly, and [`TracedFn::explain`] says which read, at which
//!   source line (through `#[track_caller]`), caused it.
//!
//! A new signature traces again. [`TracedFn::stats`] counts traces, compilations, calls
//! served by compiled code (cache hits) and eager fallbacks.
//!
//! ```
//! use graphjit::trace::{self, Traced};
//! use graphjit::Tensor;
//!
//! let axpy = trace::function(|xs: &[Traced]| Ok(vec![((&xs[0] * 2.0)? + &xs[1])?]));
//! let x = Tensor::from(vec![1.0f32, 2.0]);
//! let y = Tensor::from(vec![0.5f32, 0.5]);
//! assert_eq!(axpy.call(&[x.clone(), y.clone()])?, vec![Tensor::from(vec![2.5f32, 4.5])]);
//! assert_eq!(axpy.call(&[x, y])?, vec![Tensor::from(vec![2.5f32, 4.5])]);
//! let s = axpy.stats();
//! assert_eq!((s.traces, s.compilations, s.cache_hits, s.fallbacks), (1, 1, 1, 0));
//! # Ok::<(), graphjit::Error>(())
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;

use crate::eager::{run_op, scalar_of, value_methods, value_operators, Arg, Emit, IntoArg};
use crate::error::{Error, Result};
use crate::graph::promote::{op_error, where_};
use crate::graph::shared_compiler;
use crate::ir::{Function, Region, Value};
use crate::jit::{Compiler, Executable};
use crate::limits::RunOptions;
use crate::ops::{BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use crate::tensor::{Element, Tensor};
use crate::types::{DType, TensorType};

mod switch;

type Loc = &'static Location<'static>;

/// A read of a tensor value into Rust: the reason a trace is dynamic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphBreak {
    /// The method that read the value, e.g. `to_scalar::<bool>()`.
    pub what: String,
    /// Where the user's code called it.
    pub location: &'static Location<'static>,
}

impl fmt::Display for GraphBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` read a tensor value into Rust control flow at {}",
            self.what,
            where_(self.location)
        )
    }
}

/// How calls with one input signature run.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceStatus {
    /// The trace was static; calls run the compiled code.
    Compiled,
    /// A tensor value was read into Rust; calls run the closure eagerly.
    Dynamic(GraphBreak),
    /// The trace was static but did not compile; calls run the closure eagerly.
    CompileFailed(Error),
}

impl fmt::Display for TraceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceStatus::Compiled => f.write_str("static: compiled once, calls run compiled code"),
            TraceStatus::Dynamic(b) => write!(f, "dynamic, runs eagerly: {b}"),
            TraceStatus::CompileFailed(e) => {
                write!(f, "static, but compiling failed, so it runs eagerly: {e}")
            }
        }
    }
}

/// Counters of a [`TracedFn`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceStats {
    /// Calls that traced (the first call of each input signature).
    pub traces: u64,
    /// Static traces handed to the compiler (at most one per signature; the shared compiler
    /// may still answer from its own cache).
    pub compilations: u64,
    /// Calls that ran compiled code from an earlier trace.
    pub cache_hits: u64,
    /// Calls that ran eagerly because their signature's trace is dynamic (or failed to
    /// compile), including the call that found out.
    pub fallbacks: u64,
}

impl fmt::Display for TraceStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "traces: {}, compilations: {}, cache hits: {}, fallbacks: {}",
            self.traces, self.compilations, self.cache_hits, self.fallbacks
        )
    }
}

/// The recording of one call.
struct Tape {
    name: String,
    state: RefCell<TapeState>,
}

struct TapeState {
    /// False for eager reruns of a dynamic trace: nothing is recorded.
    recording: bool,
    func: Function,
    /// The region ops are recorded into: the body, or a branch of a `switch` being traced.
    current: Region,
    graph_break: Option<GraphBreak>,
}

/// A tensor inside a traced function: its eager value and, while recording, its IR value.
#[derive(Clone)]
pub struct Traced {
    value: Tensor,
    node: Option<Value>,
    tape: Rc<Tape>,
}

impl fmt::Debug for Traced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Traced({}: {})", self.value, self.value.ty())
    }
}

/// Ops on traced values run eagerly and are recorded on the values' tape.
struct TapeEmit<'t>(&'t Rc<Tape>);

impl Emit for TapeEmit<'_> {
    type V = Traced;

    fn ty(v: &Traced) -> TensorType {
        v.value.ty()
    }

    fn scope(&self) -> String {
        self.0.name.clone()
    }

    fn check_operand(&self, v: &Traced, op: &str, loc: Loc) -> Result<()> {
        if Rc::ptr_eq(&v.tape, self.0) {
            return Ok(());
        }
        let m = "an operand is a traced value of another call; traced values live only during the call that made them";
        Err(op_error(&self.0.name, op, loc, m.to_string()))
    }

    fn emit_region(
        &self,
        op: crate::ops::region::RegionOp,
        body: &crate::ops::region::Body,
        args: &[&Traced],
        loc: Loc,
    ) -> Result<Vec<Traced>> {
        let tape = self.0;
        for a in args {
            self.check_operand(a, op.name(), loc)?;
        }
        let tensors: Vec<&Tensor> = args.iter().map(|a| &a.value).collect();
        let (tys, values) = crate::eager::region::run_region(&tape.name, &op, body, &tensors, loc)?;
        let mut st = tape.state.borrow_mut();
        let nodes: Option<Vec<Value>> = args.iter().map(|a| a.node).collect();
        let results = match nodes {
            Some(nodes) if st.recording => {
                let r = st.current;
                let (inst, _) = crate::ir::body::push_region_op(
                    &mut st.func,
                    r,
                    op,
                    nodes,
                    tys,
                    body,
                    &mut || None,
                );
                st.func.results(inst).iter().map(|&v| Some(v)).collect()
            }
            _ => vec![None; values.len()],
        };
        Ok(values
            .into_iter()
            .zip(results)
            .map(|(value, node)| Traced {
                value,
                node,
                tape: Rc::clone(tape),
            })
            .collect())
    }

    fn emit(
        &self,
        op: Op,
        args: &[&Traced],
        declared: Option<TensorType>,
        loc: Loc,
    ) -> Result<Traced> {
        let tape = self.0;
        for a in args {
            self.check_operand(a, &op.name(), loc)?;
        }
        let tensors: Vec<&Tensor> = args.iter().map(|a| &a.value).collect();
        let value = run_op(&tape.name, &op, &tensors, declared, loc)?;
        let mut st = tape.state.borrow_mut();
        let nodes: Option<Vec<Value>> = args.iter().map(|a| a.node).collect();
        let node = match nodes {
            Some(nodes) if st.recording => {
                let r = st.current;
                let inst = st
                    .func
                    .push_inst(r, op, nodes, vec![value.ty()], vec![None]);
                Some(st.func.results(inst)[0])
            }
            _ => None,
        };
        Ok(Traced {
            value,
            node,
            tape: Rc::clone(tape),
        })
    }
}

impl<'a> IntoArg<'a, Traced> for &'a Traced {
    fn into_arg(self) -> Arg<'a, Traced> {
        Arg::Ref(self)
    }
}

impl<'a> IntoArg<'a, Traced> for Traced {
    fn into_arg(self) -> Arg<'a, Traced> {
        Arg::Owned(self)
    }
}

/// A plain tensor next to a traced value is a constant of the trace.
impl<'a> IntoArg<'a, Traced> for &'a Tensor {
    fn into_arg(self) -> Arg<'a, Traced> {
        Arg::Tensor(self)
    }
}

impl Traced {
    value_methods!(Traced, self => TapeEmit(&self.tape));

    /// The value's type; reading it does not make the trace dynamic, since types are part of
    /// the input signature.
    pub fn ty(&self) -> TensorType {
        self.value.ty()
    }

    pub fn dtype(&self) -> DType {
        self.value.dtype()
    }

    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }

    /// A constant on the same trace as `self`.
    #[track_caller]
    pub fn constant(&self, t: impl Into<Tensor>) -> Result<Traced> {
        let t = t.into();
        let ty = t.ty();
        TapeEmit(&self.tape).emit(Op::Const(t), &[], Some(ty), Location::caller())
    }

    /// The single element as a `T`. This reads a tensor value into Rust, so the trace
    /// becomes dynamic, and the explanation names this call's location.
    #[track_caller]
    pub fn to_scalar<T: Element>(&self) -> Result<T> {
        let loc = Location::caller();
        self.graph_break(&scalar_name::<T>(), loc);
        scalar_of(&self.value, &self.tape.name, loc)
    }

    /// PyTorch's name for [`Traced::to_scalar`]; makes the trace dynamic the same way.
    #[track_caller]
    pub fn item<T: Element>(&self) -> Result<T> {
        let loc = Location::caller();
        self.graph_break(&format!("item::<{}>()", T::DTYPE), loc);
        scalar_of(&self.value, &self.tape.name, loc)
    }

    /// The truth of a one-element `bool` value; makes the trace dynamic, like
    /// [`Traced::to_scalar`].
    #[track_caller]
    pub fn to_bool(&self) -> Result<bool> {
        let loc = Location::caller();
        self.graph_break("to_bool()", loc);
        scalar_of(&self.value, &self.tape.name, loc)
    }

    /// The eager value as a plain tensor; makes the trace dynamic, like
    /// [`Traced::to_scalar`].
    #[track_caller]
    pub fn to_tensor(&self) -> Tensor {
        self.graph_break("to_tensor()", Location::caller());
        self.value.clone()
    }

    /// Records the first read of a value on this tape and stops recording: the rest of the
    /// call runs eagerly only.
    fn graph_break(&self, what: &str, location: Loc) {
        let mut st = self.tape.state.borrow_mut();
        if st.recording && st.graph_break.is_none() {
            st.graph_break = Some(GraphBreak {
                what: what.to_string(),
                location,
            });
        }
        st.recording = false;
    }
}

/// The call that read a value, as the user wrote it: `to_scalar::<f32>()`.
fn scalar_name<T: Element>() -> String {
    format!("to_scalar::<{}>()", T::DTYPE)
}

value_operators!(Traced, x => TapeEmit(&x.tape));

/// How one signature's calls run.
#[derive(Clone)]
enum Plan {
    Compiled(Arc<Executable>, Function),
    Eager(TraceStatus),
}

/// A function over traced tensors; see the [module documentation](self).
pub struct TracedFn<F> {
    name: String,
    f: F,
    compiler: Arc<Compiler>,
    options: RunOptions,
    plans: RefCell<HashMap<Vec<TensorType>, Plan>>,
    stats: Cell<TraceStats>,
}

/// Wraps `f` as a traced function named `traced`, compiled with the [`shared_compiler`].
pub fn function<F>(f: F) -> TracedFn<F>
where
    F: Fn(&[Traced]) -> Result<Vec<Traced>>,
{
    TracedFn {
        name: "traced".to_string(),
        f,
        compiler: shared_compiler(),
        options: RunOptions::default(),
        plans: RefCell::new(HashMap::new()),
        stats: Cell::new(TraceStats::default()),
    }
}

impl<F> TracedFn<F>
where
    F: Fn(&[Traced]) -> Result<Vec<Traced>>,
{
    /// Names the function (its IR is `@name`). Names are letters, digits and `_`.
    pub fn named(mut self, name: &str) -> TracedFn<F> {
        self.name = name.to_string();
        self
    }

    /// Compiles with `compiler` instead of the shared one.
    pub fn with_compiler(mut self, compiler: Arc<Compiler>) -> TracedFn<F> {
        self.compiler = compiler;
        self
    }

    /// Runs every call under `options`: compiled calls with all of its limits, eager calls
    /// (the first call of each signature, and signatures that fell back) with its memory
    /// limit applied to each op's result (see [`crate::limits::with_eager_memory_limit`]);
    /// Rust loops around eager ops are the caller's, so iteration limits and deadlines apply
    /// only to compiled calls.
    pub fn with_options(mut self, options: RunOptions) -> TracedFn<F> {
        self.options = options;
        self
    }

    /// Runs the function: compiled when this signature's trace was static, eagerly
    /// otherwise; the first call of a signature traces.
    #[track_caller]
    pub fn call(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let loc = Location::caller();
        match self.options.memory_limit() {
            Some(bytes) => {
                crate::limits::with_eager_memory_limit(bytes, || self.call_at(inputs, loc))
            }
            None => self.call_at(inputs, loc),
        }
    }

    fn call_at(&self, inputs: &[Tensor], loc: Loc) -> Result<Vec<Tensor>> {
        let sig: Vec<TensorType> = inputs.iter().map(Tensor::ty).collect();
        let plan = self.plans.borrow().get(&sig).cloned();
        match plan {
            Some(Plan::Compiled(exe, _)) => {
                self.count(|s| s.cache_hits += 1);
                exe.run_with(inputs, &self.options)
            }
            Some(Plan::Eager(_)) => {
                self.count(|s| s.fallbacks += 1);
                let (outs, _) = self.run(inputs, false, loc)?;
                Ok(outs.into_iter().map(|o| o.value).collect())
            }
            None => self.trace(sig, inputs, loc),
        }
    }

    /// The first call of a signature: run while recording, then decide.
    fn trace(&self, sig: Vec<TensorType>, inputs: &[Tensor], loc: Loc) -> Result<Vec<Tensor>> {
        self.count(|s| s.traces += 1);
        let (outs, tape) = self.run(inputs, true, loc)?;
        let st = tape.state.borrow();
        let plan = match st.graph_break.clone() {
            Some(b) => Plan::Eager(TraceStatus::Dynamic(b)),
            None => {
                let mut f = st.func.clone();
                let results: Option<Vec<Value>> = outs.iter().map(|o| o.node).collect();
                // Every output of a static trace was recorded, so `results` is complete.
                let results = results.unwrap_or_default();
                f.results = outs.iter().map(|o| o.value.ty()).collect();
                let body = f.body;
                f.push_inst(body, Op::Return, results, Vec::new(), Vec::new());
                self.count(|s| s.compilations += 1);
                match self.compiler.compile(&f) {
                    Ok(exe) => Plan::Compiled(exe, f),
                    Err(e) => Plan::Eager(TraceStatus::CompileFailed(e)),
                }
            }
        };
        if matches!(plan, Plan::Eager(_)) {
            self.count(|s| s.fallbacks += 1);
        }
        self.plans.borrow_mut().insert(sig, plan);
        Ok(outs.into_iter().map(|o| o.value).collect())
    }

    /// Runs the closure on fresh traced inputs; returns its outputs and the tape.
    fn run(&self, inputs: &[Tensor], recording: bool, loc: Loc) -> Result<(Vec<Traced>, Rc<Tape>)> {
        let tape = Rc::new(Tape {
            name: self.name.clone(),
            state: RefCell::new({
                let func = Function::new(self.name.clone(), Vec::new());
                TapeState {
                    recording,
                    current: func.body,
                    func,
                    graph_break: None,
                }
            }),
        });
        let xs: Vec<Traced> = {
            let mut st = tape.state.borrow_mut();
            inputs
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let node = recording.then(|| st.func.add_param(t.ty(), Some(format!("x{i}"))));
                    Traced {
                        value: t.clone(),
                        node,
                        tape: Rc::clone(&tape),
                    }
                })
                .collect()
        };
        let outs = (self.f)(&xs)?;
        if let Some(i) = outs.iter().position(|o| !Rc::ptr_eq(&o.tape, &tape)) {
            let m = format!(
                "output {i} is a traced value of another call; traced values live only during the call that made them"
            );
            return Err(op_error(&self.name, "return", loc, m));
        }
        Ok((outs, tape))
    }

    fn count(&self, f: impl FnOnce(&mut TraceStats)) {
        let mut s = self.stats.get();
        f(&mut s);
        self.stats.set(s);
    }

    /// The counters so far.
    pub fn stats(&self) -> TraceStats {
        self.stats.get()
    }

    /// How calls with input types `sig` run, once traced.
    pub fn status(&self, sig: &[TensorType]) -> Option<TraceStatus> {
        self.plans.borrow().get(sig).map(|p| match p {
            Plan::Compiled(..) => TraceStatus::Compiled,
            Plan::Eager(s) => s.clone(),
        })
    }

    /// The IR recorded for signature `sig`, when its trace was static.
    pub fn traced_function(&self, sig: &[TensorType]) -> Option<Function> {
        match self.plans.borrow().get(sig) {
            Some(Plan::Compiled(_, f)) => Some(f.clone()),
            _ => None,
        }
    }

    /// One line per traced signature saying how its calls run and, for a dynamic trace,
    /// which read of a tensor value made it so, and where.
    pub fn explain(&self) -> String {
        let plans = self.plans.borrow();
        if plans.is_empty() {
            return format!("@{}: not traced yet", self.name);
        }
        let mut lines: Vec<String> = plans
            .iter()
            .map(|(sig, p)| {
                let tys: Vec<String> = sig.iter().map(|t| t.to_string()).collect();
                let status = match p {
                    Plan::Compiled(..) => TraceStatus::Compiled,
                    Plan::Eager(s) => s.clone(),
                };
                format!("@{}({}): {status}", self.name, tys.join(", "))
            })
            .collect();
        lines.sort();
        lines.join("\n")
    }
}
