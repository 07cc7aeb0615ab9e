//! The static front end: a graph builder, in the spirit of TensorFlow 1, that lowers to an IR
//! [`Function`].
//!
//! A [`Graph`] hands out [`Var`] handles for its inputs, constants and op results; ops are
//! methods on `Var` and Rust operators (`a + b`, `-a`, `a * 2.0`), and structured control flow
//! is [`Graph::while_loop`] and [`Graph::cond`], whose closures build the nested regions. Every
//! op is type-checked with [`crate::ops::infer`] as it is built; NumPy broadcasting and Rust
//! literals become explicit `broadcast` ops and constants (see [`promote`]).
//!
//! Errors are *sticky*, as in a TensorFlow graph under construction: an op that does not
//! type-check records the first error (naming the op, its operand types and the user's source
//! line, through `#[track_caller]`) and returns a poisoned `Var`; ops on poisoned values are
//! skipped quietly, and [`Graph::function`], [`Graph::compile`] and friends return the error.
//! This keeps `a + b` and the loop closures free of `?` while still reporting the first
//! mistake where it was made. [`Graph::check`] reports it early.
//!
//! ```
//! use graphjit::graph::Graph;
//! use graphjit::{DType, Tensor};
//!
//! let g = Graph::new("counter");
//! let first = g.input("first", DType::I32, []);
//! let second = g.input("second", DType::I32, []);
//! let out = g.while_loop(
//!     |v| v[0].lt(v[1]),
//!     |v| [v[0] + 2, v[1] + 1],
//!     &[first, second],
//! );
//! g.outputs(&out);
//! let r = g.interpret(&[Tensor::scalar(0i32), Tensor::scalar(10i32)]).unwrap();
//! assert_eq!(r, vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]);
//! ```

mod control;
mod index;
mod more;
mod ops;
pub mod promote;
mod region;

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::ir::print::canonicalize;
use crate::ir::verify::verify_function;
use crate::ir::{Function, Region, Value};
use crate::jit::{Compiler, Executable};
use crate::ops::{infer, Op};
use crate::tensor::{Element, Tensor};
use crate::types::{DType, TensorType};

pub use promote::Literal;
pub use region::At;

/// A static graph under construction; it lowers to one IR [`Function`].
pub struct Graph {
    state: RefCell<State>,
}

/// A value of a [`Graph`]: an input, a constant, an op result or a loop variable.
///
/// It is a small `Copy` handle; ops on it append to its graph. A poisoned `Var` stands for
/// the result of an op that failed to build; the graph holds the error.
#[derive(Clone, Copy)]
pub struct Var<'g> {
    graph: &'g Graph,
    value: Option<Value>,
}

struct State {
    func: Function,
    /// For each value, the regions it is defined in: one, or the two regions of a `while`
    /// for its region arguments. A value is visible in these regions and in regions nested
    /// in them.
    scope: Vec<[Region; 2]>,
    /// For each region, the region that holds the instruction owning it.
    parent: Vec<Option<Region>>,
    /// The regions being built, innermost last; ops are appended to the last one.
    stack: Vec<Region>,
    names: HashSet<String>,
    next_auto: usize,
    outputs: Option<Vec<Value>>,
    error: Option<Error>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Graph")
            .field("name", &s.func.name)
            .field("values", &s.func.values.len())
            .field("insts", &s.func.insts.len())
            .field("error", &s.error)
            .finish()
    }
}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => {
                let s = self.graph.state.borrow();
                let d = s.func.value(v);
                write!(f, "Var(%{}: {})", d.name, d.ty)
            }
            None => f.write_str("Var(<poisoned>)"),
        }
    }
}

impl<'g> Var<'g> {
    /// The value's type, or `None` for a poisoned value.
    pub fn ty(&self) -> Option<TensorType> {
        let v = self.value?;
        Some(self.graph.state.borrow().func.ty(v).clone())
    }

    /// The value's dtype, or `None` for a poisoned value.
    pub fn dtype(&self) -> Option<DType> {
        self.ty().map(|t| t.dtype)
    }

    /// The value's shape, or `None` for a poisoned value.
    pub fn shape(&self) -> Option<Vec<usize>> {
        self.ty().map(|t| t.shape.into())
    }

    /// The IR value this handle stands for, or `None` when poisoned.
    pub fn value(&self) -> Option<Value> {
        self.value
    }

    /// Whether an error made this value unavailable.
    pub fn is_poisoned(&self) -> bool {
        self.value.is_none()
    }

    /// The graph this value belongs to.
    pub fn graph(&self) -> &'g Graph {
        self.graph
    }
}

/// Whether a value name reads back from the IR text: letters, digits and `_`, not starting
/// with a digit.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Graph {
    /// An empty graph that lowers to a function named `name` (printed as `@name`).
    #[track_caller]
    pub fn new(name: &str) -> Graph {
        let func = Function::new(name, Vec::new());
        let body = func.body;
        let mut state = State {
            func,
            scope: Vec::new(),
            parent: vec![None],
            stack: vec![body],
            names: HashSet::new(),
            next_auto: 0,
            outputs: None,
            error: None,
        };
        if !valid_name(name) {
            state.error = Some(promote::op_error(
                name,
                "graph",
                Location::caller(),
                format!("'{name}' is not a valid function name (use letters, digits and '_')"),
            ));
        }
        Graph {
            state: RefCell::new(state),
        }
    }

    /// The function's name.
    pub fn name(&self) -> String {
        self.state.borrow().func.name.clone()
    }

    /// A new input (a parameter of the function) of the given dtype and shape.
    #[track_caller]
    pub fn input(&self, name: &str, dtype: DType, shape: impl Into<Vec<usize>>) -> Var<'_> {
        self.input_of(name, TensorType::new(dtype, shape.into()))
    }

    /// A new input of type `ty`.
    #[track_caller]
    pub fn input_of(&self, name: &str, ty: TensorType) -> Var<'_> {
        let loc = Location::caller();
        let mut s = self.state.borrow_mut();
        if s.stack.len() != 1 {
            return s.fail(
                self,
                "input",
                loc,
                format!("input '{name}' must be declared outside while_loop and cond closures"),
            );
        }
        if let Err(m) = ty.check_size() {
            return s.fail(self, "input", loc, m);
        }
        if !valid_name(name) {
            return s.fail(
                self,
                "input",
                loc,
                format!("'{name}' is not a valid input name (use letters, digits and '_', not starting with a digit)"),
            );
        }
        if !s.names.insert(name.to_string()) {
            return s.fail(
                self,
                "input",
                loc,
                format!("the name '{name}' is already used in this graph"),
            );
        }
        let body = s.func.body;
        let v = s.func.add_param(ty, Some(name.to_string()));
        s.scope.push([body, body]);
        Var {
            graph: self,
            value: Some(v),
        }
    }

    /// A constant tensor (`g.constant(2.5f32)`, `g.constant([1, 2, 3])`, `g.constant(t)`).
    #[track_caller]
    pub fn constant(&self, t: impl Into<Tensor>) -> Var<'_> {
        let t = t.into();
        let ty = t.ty();
        self.emit(Op::Const(t), &[], Some(ty), Location::caller())
    }

    /// A rank-0 constant.
    #[track_caller]
    pub fn scalar<T: Element>(&self, v: T) -> Var<'_> {
        self.constant(Tensor::scalar(v))
    }

    /// A tensor of shape `shape` whose every element is `v`.
    #[track_caller]
    pub fn full<T: Element>(&self, v: T, shape: impl Into<Vec<usize>>) -> Var<'_> {
        let shape = shape.into();
        let loc = Location::caller();
        let ty = TensorType::new(T::DTYPE, shape.clone());
        if let Err(m) = ty.check_size() {
            return self.state.borrow_mut().fail(self, "const", loc, m);
        }
        self.emit(
            Op::Const(Tensor::full(v.into_scalar(), shape)),
            &[],
            Some(ty),
            loc,
        )
    }

    /// `iota`: each element is its index along `axis`, as a `dtype`.
    #[track_caller]
    pub fn iota(&self, dtype: DType, shape: impl Into<Vec<usize>>, axis: usize) -> Var<'_> {
        let ty = TensorType::new(dtype, shape.into());
        self.emit(Op::Iota { axis }, &[], Some(ty), Location::caller())
    }

    /// Joins tensors along `axis`; the other dimensions must agree.
    #[track_caller]
    pub fn concat<'g>(&'g self, parts: &[Var<'g>], axis: usize) -> Var<'g> {
        self.emit(Op::Concat { axis }, parts, None, Location::caller())
    }

    /// Elementwise `pred ? a : b`, with NumPy broadcasting of all three and literals allowed
    /// for `a` and `b`.
    #[track_caller]
    pub fn select<'g>(
        &'g self,
        pred: Var<'g>,
        a: impl ops::Operand<'g>,
        b: impl ops::Operand<'g>,
    ) -> Var<'g> {
        ops::select(self, pred, a, b, Location::caller())
    }

    /// Declares the function's results. Call it once, outside any closure.
    #[track_caller]
    pub fn outputs<'g>(&'g self, outs: &[Var<'g>]) {
        let loc = Location::caller();
        let mut s = self.state.borrow_mut();
        if s.stack.len() != 1 {
            s.fail(
                self,
                "return",
                loc,
                "outputs must be declared outside while_loop and cond closures".into(),
            );
            return;
        }
        if s.outputs.is_some() {
            s.fail(
                self,
                "return",
                loc,
                "the outputs were already declared".into(),
            );
            return;
        }
        let Some(values) = s.operands(self, "return", outs, loc) else {
            return;
        };
        s.outputs = Some(values);
    }

    /// The first error made while building, if any.
    pub fn check(&self) -> Result<()> {
        match &self.state.borrow().error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The lowered function: the ops built so far followed by `return` of the outputs, in the
    /// canonical order the parser produces, so that `parse(print(f)) == f`.
    #[track_caller]
    pub fn function(&self) -> Result<Function> {
        self.check()?;
        let s = self.state.borrow();
        let Some(outs) = &s.outputs else {
            return Err(promote::op_error(
                &s.func.name,
                "return",
                Location::caller(),
                "the graph has no outputs: call Graph::outputs first".into(),
            ));
        };
        let mut f = s.func.clone();
        let body = f.body;
        f.results = outs.iter().map(|&v| f.ty(v).clone()).collect();
        f.push_inst(body, Op::Return, outs.clone(), Vec::new(), Vec::new());
        finish_function(f)
    }

    /// The lowered function as IR text; [`crate::ir::parse::parse_function`] reads it back
    /// to the same function.
    pub fn ir(&self) -> Result<String> {
        Ok(self.function()?.to_string())
    }

    /// Runs the function in the reference interpreter.
    pub fn interpret(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        crate::interp::interpret(&self.function()?, inputs)
    }

    /// Compiles the function with the [`shared_compiler`]: the first request compiles, later
    /// ones (from this graph or any graph lowering to the same function) reuse the code.
    pub fn compile(&self) -> Result<Arc<Executable>> {
        self.compile_with(&shared_compiler())
    }

    /// Compiles the function with `compiler`, which caches executables by function and
    /// input signature.
    pub fn compile_with(&self, compiler: &Compiler) -> Result<Arc<Executable>> {
        compiler.compile(&self.function()?)
    }

    /// Emits an op with regions-free type rule `infer` into the innermost open region.
    pub(crate) fn emit<'g>(
        &'g self,
        op: Op,
        args: &[Var<'g>],
        declared: Option<TensorType>,
        loc: &'static Location<'static>,
    ) -> Var<'g> {
        let mut s = self.state.borrow_mut();
        let name = op.name();
        let Some(values) = s.operands(self, &name, args, loc) else {
            return Var {
                graph: self,
                value: None,
            };
        };
        let tys: Vec<&TensorType> = values.iter().map(|&v| s.func.ty(v)).collect();
        let ty = match infer(&op, &tys, declared.as_ref()) {
            Ok(t) => t,
            Err(e) => {
                let m = format!("{e}; operand types {}", promote::types_list(&tys));
                return s.fail(self, &name, loc, m);
            }
        };
        if let Err(m) = ty.check_size() {
            return s.fail(self, &name, loc, m);
        }
        let region = s.current();
        let names = vec![Some(s.auto_name())];
        let inst = s.func.push_inst(region, op, values, vec![ty], names);
        let v = s.func.results(inst)[0];
        s.scope.push([region, region]);
        Var {
            graph: self,
            value: Some(v),
        }
    }
}

impl Graph {
    /// Records an error of `op` at `loc` (the first one wins) and gives a poisoned value.
    pub(crate) fn fail_op<'g>(
        &'g self,
        op: &str,
        loc: &'static Location<'static>,
        m: String,
    ) -> Var<'g> {
        self.state.borrow_mut().fail(self, op, loc, m)
    }

    /// Emits region op `op` on `args` with the region `body`; gives its results (poisoned
    /// values when the operands do not fit, with the error recorded as for [`Graph::emit`]).
    pub(crate) fn emit_region<'g>(
        &'g self,
        op: crate::ops::region::RegionOp,
        args: &[Var<'g>],
        body: &crate::ops::region::Body,
        loc: &'static Location<'static>,
    ) -> Vec<Var<'g>> {
        let mut s = self.state.borrow_mut();
        let name = op.name();
        let poisoned = |n: usize| {
            vec![
                Var {
                    graph: self,
                    value: None
                };
                n
            ]
        };
        let Some(values) = s.operands(self, name, args, loc) else {
            return poisoned(1);
        };
        let tys: Vec<&TensorType> = values.iter().map(|&v| s.func.ty(v)).collect();
        let sig = match crate::ops::region::signature(&op, &tys) {
            Ok(sig) => sig,
            Err(e) => {
                let m = format!("{e}; operand types {}", promote::types_list(&tys));
                s.fail(self, name, loc, m);
                return poisoned(1);
            }
        };
        if let Some(m) = sig.results.iter().find_map(|t| t.check_size().err()) {
            s.fail(self, name, loc, m);
            return poisoned(sig.results.len());
        }
        let region = s.current();
        let first = s.func.values.len();
        let st = &mut *s;
        let (inst, inner) = {
            let State {
                func,
                names,
                next_auto,
                ..
            } = st;
            let mut name = || loop {
                let n = format!("v{next_auto}");
                *next_auto += 1;
                if names.insert(n.clone()) {
                    return Some(n);
                }
            };
            crate::ir::body::push_region_op(func, region, op, values, sig.results, body, &mut name)
        };
        // Scopes: the results live in the current region, the region's values in its own.
        s.parent.push(Some(region));
        for v in first..s.func.values.len() {
            let home = if s.func.results(inst).contains(&Value(v as u32)) {
                region
            } else {
                inner
            };
            s.scope.push([home, home]);
        }
        s.func
            .results(inst)
            .iter()
            .map(|&v| Var {
                graph: self,
                value: Some(v),
            })
            .collect()
    }
}

impl State {
    /// The innermost region being built.
    fn current(&self) -> Region {
        *self.stack.last().unwrap_or(&self.func.body)
    }

    /// A fresh `vN` name no input uses.
    fn auto_name(&mut self) -> String {
        loop {
            let n = format!("v{}", self.next_auto);
            self.next_auto += 1;
            if self.names.insert(n.clone()) {
                return n;
            }
        }
    }

    /// Records `message` as the graph's error if it is the first one, and returns a
    /// poisoned value.
    fn fail<'g>(
        &mut self,
        graph: &'g Graph,
        op: &str,
        loc: &Location<'_>,
        message: String,
    ) -> Var<'g> {
        if self.error.is_none() {
            self.error = Some(promote::op_error(&self.func.name, op, loc, message));
        }
        Var { graph, value: None }
    }

    /// Whether `v` may be used in `region`: it is defined in `region` or in a region that
    /// encloses it.
    fn visible(&self, v: Value, region: Region) -> bool {
        let defs = self.scope[v.index()];
        let mut r = Some(region);
        while let Some(cur) = r {
            if defs.contains(&cur) {
                return true;
            }
            r = self.parent[cur.index()];
        }
        false
    }

    /// Checks that `args` are values of this graph visible where the next op goes, and
    /// returns their IR values; `None` when one is poisoned or invalid (the error is recorded).
    fn operands(
        &mut self,
        graph: &Graph,
        op: &str,
        args: &[Var<'_>],
        loc: &Location<'_>,
    ) -> Option<Vec<Value>> {
        let region = self.current();
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if !std::ptr::eq(a.graph, graph) {
                self.fail(
                    graph,
                    op,
                    loc,
                    format!("operand {i} belongs to another graph"),
                );
                return None;
            }
            let v = a.value?;
            if !self.visible(v, region) {
                let d = self.func.value(v);
                let m = format!(
                    "operand {i} (%{}: {}) is not visible here: it was defined inside a while_loop or cond closure that has ended, or in a sibling region",
                    d.name, d.ty
                );
                self.fail(graph, op, loc, m);
                return None;
            }
            out.push(v);
        }
        Some(out)
    }
}

/// The process-wide compile cache that [`Graph::compile`] and traced functions use unless
/// given another [`Compiler`].
pub fn shared_compiler() -> Arc<Compiler> {
    static SHARED: OnceLock<Arc<Compiler>> = OnceLock::new();
    Arc::clone(SHARED.get_or_init(|| Arc::new(Compiler::default())))
}

/// The last steps of lowering: renumber into the parser's canonical order and check the
/// invariants the verifier enforces.
fn finish_function(f: Function) -> Result<Function> {
    // The builder creates an `if` after its regions' contents (it learns the result types
    // from the branches), so its arenas are not in text order until renumbered.
    let mut f = canonicalize(&f);
    // Number the builder's own names in text order too (`%v0`, `%v1`, ...), skipping the
    // inputs' names, so that the printed IR reads top to bottom.
    let taken: HashSet<String> = f.params.iter().map(|&p| f.value(p).name.clone()).collect();
    let mut next = 0usize;
    for (i, v) in f.values.iter_mut().enumerate() {
        if f.params.iter().any(|p| p.index() == i) {
            continue;
        }
        v.name = loop {
            let n = format!("v{next}");
            next += 1;
            if !taken.contains(&n) {
                break n;
            }
        };
    }
    // Every op was type-checked as it was built; this catches a builder bug, not user error.
    verify_function(&f)?;
    Ok(f)
}
