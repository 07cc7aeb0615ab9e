//! The IR verifier: checks every invariant the executors and passes rely on, so that they
//! may assume them instead of checking again.
//!
//! # Invariants checked
//!
//! Structure:
//! - The function name and every value name match `[A-Za-z0-9_.]+`; value names are unique
//!   within the function; in a module, function names are unique.
//! - Every handle is in range: values (parameters, operands, results, region arguments),
//!   instructions listed in regions, regions attached to instructions, the body region.
//! - Every value is defined exactly once, and its [`ValueDef`] says where it is held:
//!   `Param(n)` is `params[n]`, `Result(i, n)` is `results[n]` of instruction `i`,
//!   `RegionArg(i, n)` is `region_args[n]` of `while` instruction `i`. No value of the arena is
//!   held nowhere.
//! - Every instruction is listed in exactly one region, once; every region other than the
//!   body is attached to exactly one instruction, once; the body is attached to none. So the
//!   arenas hold exactly what is reachable from the body (passes that delete instructions
//!   call [`super::print::canonicalize`] to drop them from the arenas).
//! - Regions are nested at most [`MAX_REGION_DEPTH`] deep (the walk is bounded recursion).
//! - Each region ends with exactly one terminator and has none elsewhere: the body ends with
//!   `return`, nested regions end with `yield`. Terminators have no results or regions.
//!
//! Visibility (SSA dominance for structured regions): an operand must be a parameter, a
//! value defined earlier in the same region or in an enclosing region, or a region argument
//! of an enclosing `while`. A value defined in a nested region is not visible outside it or
//! in a sibling region, and an instruction's results are not visible in its own regions.
//!
//! Types:
//! - `case` has one scalar `i32` index and at least one branch, each yielding its results.
//! - Every value's type and every declared function result type passes
//!   [`TensorType::check_size`] (rank and element-count limits).
//! - Every op without regions, other than the terminators, has exactly one result, no
//!   regions and no region arguments, and its result type is what [`crate::ops::infer`] gives
//!   for its operand types and declared result type.
//! - `return`'s operand types equal the function's declared result types.
//! - `while` has exactly 2 regions (cond, body); its operands, region arguments and results
//!   are equally many and have equal types, position by position; cond yields one scalar
//!   `bool`; body yields values of the loop-carried types.
//! - `if` has one operand, a scalar `bool`, no region arguments, exactly 2 regions, and each
//!   region yields values of its result types.
//! - A region op (`reduce`, `reduce_window`, `sort`, `scatter`) passes
//!   [`crate::ops::region::signature`] for its operand types; its results have the types that
//!   gives; it has exactly one region, whose arguments have the signature's (rank-0) parameter
//!   types and which yields the signature's types. The region is isolated: it sees only its
//!   own arguments and values, never the enclosing scopes, and holds only rank-0 constants
//!   and elementwise ops ([`crate::ops::region::allowed_in_body`]).

use std::collections::HashSet;

use crate::error::VerifyError;
use crate::ir::lexer::is_valid_name;
use crate::ir::{Function, Inst, Module, Region, Value, ValueDef, MAX_REGION_DEPTH};
use crate::ops::{infer, Op};
use crate::types::{DType, TensorType};

mod region;

/// Checks every function of a module, and that function names are unique.
pub fn verify_module(m: &Module) -> Result<(), VerifyError> {
    let mut seen = HashSet::new();
    for f in &m.funcs {
        if !seen.insert(f.name.as_str()) {
            return Err(VerifyError {
                func: f.name.clone(),
                location: "module".into(),
                message: format!("function @{} is defined more than once", f.name),
            });
        }
        verify_function(f)?;
    }
    Ok(())
}

/// Checks every invariant listed in the module doc.
pub fn verify_function(f: &Function) -> Result<(), VerifyError> {
    let mut v = Verifier {
        f,
        held: vec![false; f.values.len()],
        visible: vec![false; f.values.len()],
        inst_seen: vec![false; f.insts.len()],
        region_seen: vec![false; f.regions.len()],
        scope: Vec::new(),
    };
    v.function()
}

/// What the terminator of a region must be.
enum Term<'t> {
    Return,
    Yield(&'t [TensorType]),
}

struct Verifier<'a> {
    f: &'a Function,
    held: Vec<bool>,
    visible: Vec<bool>,
    inst_seen: Vec<bool>,
    region_seen: Vec<bool>,
    /// Values made visible by the regions being walked, innermost last; each region truncates
    /// it back when it ends, hiding its values again.
    scope: Vec<Value>,
}

impl Verifier<'_> {
    fn error(&self, location: impl Into<String>, message: impl Into<String>) -> VerifyError {
        VerifyError {
            func: self.f.name.clone(),
            location: location.into(),
            message: message.into(),
        }
    }

    /// `%x`, or a description of a dangling handle.
    fn vname(&self, v: Value) -> String {
        match self.f.values.get(v.index()) {
            Some(d) => format!("%{}", d.name),
            None => format!("value v{} (out of range)", v.0),
        }
    }

    /// `'add' defining %x`, or `'yield' in the body region of ...` for an instruction
    /// without results.
    fn inst_loc(&self, i: Inst, what: &str) -> String {
        let d = &self.f.insts[i.index()];
        if d.results.is_empty() {
            format!("'{}' in {what}", d.op.name())
        } else {
            let names: Vec<String> = d.results.iter().map(|&r| self.vname(r)).collect();
            format!("'{}' defining {}", d.op.name(), names.join(", "))
        }
    }

    /// The text of a location.
    fn at(&self, loc: &Loc<'_>) -> String {
        match *loc {
            Loc::Inst(i, what) => self.inst_loc(i, what),
            Loc::Text(t) => t.to_string(),
        }
    }

    fn ty(&self, v: Value) -> &TensorType {
        &self.f.values[v.index()].ty
    }

    fn types(&self, vs: &[Value]) -> Vec<TensorType> {
        vs.iter().map(|&v| self.ty(v).clone()).collect()
    }

    /// Records that `v` is held at `def` (checked against its `ValueDef`), checks its type's
    /// size, and makes it visible in the current scope.
    fn define(&mut self, v: Value, def: ValueDef, loc: &Loc<'_>) -> Result<(), VerifyError> {
        let Some(d) = self.f.values.get(v.index()) else {
            return Err(self.error(
                self.at(loc),
                format!("defines value v{}, which is out of range", v.0),
            ));
        };
        if d.def != def {
            return Err(self.error(
                self.at(loc),
                format!(
                    "value %{} is held as {def:?} but records its definition as {:?}",
                    d.name, d.def
                ),
            ));
        }
        if std::mem::replace(&mut self.held[v.index()], true) {
            return Err(self.error(
                self.at(loc),
                format!("value %{} is defined more than once", d.name),
            ));
        }
        d.ty.check_size()
            .map_err(|m| self.error(self.at(loc), format!("value %{}: {m}", d.name)))?;
        Ok(())
    }

    fn show(&mut self, v: Value) {
        self.visible[v.index()] = true;
        self.scope.push(v);
    }

    fn function(&mut self) -> Result<(), VerifyError> {
        let f = self.f;
        if !is_valid_name(&f.name) {
            return Err(self.error(
                "function signature",
                format!("'{}' is not a valid function name ([A-Za-z0-9_.]+)", f.name),
            ));
        }
        for t in &f.results {
            t.check_size()
                .map_err(|m| self.error("function signature", format!("result type: {m}")))?;
        }
        for (n, &p) in f.params.iter().enumerate() {
            let loc = format!("parameter {}", self.vname(p));
            self.define(p, ValueDef::Param(n), &Loc::Text(&loc))?;
            self.show(p);
        }
        if f.body.index() >= f.regions.len() {
            return Err(self.error(
                "function body",
                format!("region r{} is out of range", f.body.0),
            ));
        }
        self.region(f.body, 0, Term::Return, "the function body")?;
        if let Some(i) = self.held.iter().position(|&h| !h) {
            return Err(self.error(
                format!("value %{}", f.values[i].name),
                format!(
                    "the value (v{i}, recorded as {:?}) is not held by any parameter, instruction or region",
                    f.values[i].def
                ),
            ));
        }
        if let Some(i) = self.inst_seen.iter().position(|&s| !s) {
            return Err(self.error(
                format!("'{}' (i{i})", f.insts[i].op.name()),
                "the instruction is not in any region reachable from the body",
            ));
        }
        if let Some(r) = self.region_seen.iter().position(|&s| !s) {
            return Err(self.error(
                format!("region r{r}"),
                "the region is not attached to any instruction reachable from the body",
            ));
        }
        let mut names = HashSet::with_capacity(f.values.len());
        for d in &f.values {
            if !is_valid_name(&d.name) {
                return Err(self.error(
                    format!("value '{}'", d.name),
                    "not a valid value name ([A-Za-z0-9_.]+)",
                ));
            }
            if !names.insert(d.name.as_str()) {
                return Err(self.error(
                    format!("value %{}", d.name),
                    "two values have this name; names are unique per function",
                ));
            }
        }
        Ok(())
    }

    // `region`, `inst`, `while_inst` and `if_inst` recurse once per region level. They are
    // kept small, with every check and message in helpers of their own, so that each level
    // costs little stack even in unoptimized builds.

    /// Walks a region: its instructions in order, then hides the values it defined.
    fn region(
        &mut self,
        r: Region,
        depth: usize,
        term: Term<'_>,
        what: &str,
    ) -> Result<(), VerifyError> {
        let n = self.enter_region(r, depth, what)?;
        let mark = self.scope.len();
        let insts = &self.f.regions[r.index()].insts;
        for (k, &i) in insts.iter().enumerate() {
            self.before_inst(i, k + 1 == n, &term, what)?;
            self.inst(i, depth, what)?;
        }
        self.terminator_types(insts[n - 1], &term, what)?;
        self.hide(mark);
        Ok(())
    }

    /// Hides the values defined since the scope had `mark` entries.
    fn hide(&mut self, mark: usize) {
        for v in self.scope.drain(mark..) {
            self.visible[v.index()] = false;
        }
    }

    /// Checks that a region may be entered: depth, range, not shared, not empty. Returns its
    /// instruction count.
    #[inline(never)]
    fn enter_region(&mut self, r: Region, depth: usize, what: &str) -> Result<usize, VerifyError> {
        if depth > MAX_REGION_DEPTH {
            return Err(self.error(
                what,
                format!("regions are nested deeper than the limit of {MAX_REGION_DEPTH}"),
            ));
        }
        let Some(data) = self.f.regions.get(r.index()) else {
            return Err(self.error(what, format!("region r{} is out of range", r.0)));
        };
        if std::mem::replace(&mut self.region_seen[r.index()], true) {
            return Err(self.error(
                what,
                format!(
                    "region r{} is used more than once (regions cannot be shared)",
                    r.0
                ),
            ));
        }
        if data.insts.is_empty() {
            return Err(self.error(
                what,
                format!("region r{} is empty; it must end with a terminator", r.0),
            ));
        }
        Ok(data.insts.len())
    }

    /// Checks an instruction's handle, that it is listed once, and that terminators come last
    /// and are of the kind the region needs.
    #[inline(never)]
    fn before_inst(
        &mut self,
        i: Inst,
        is_last: bool,
        term: &Term<'_>,
        what: &str,
    ) -> Result<(), VerifyError> {
        let Some(d) = self.f.insts.get(i.index()) else {
            return Err(self.error(what, format!("instruction i{} is out of range", i.0)));
        };
        // Results are named in the location, so check them before anything prints them.
        for &r in &d.results {
            if r.index() >= self.f.values.len() {
                return Err(self.error(
                    format!("'{}' in {what}", d.op.name()),
                    format!("result v{} is out of range", r.0),
                ));
            }
        }
        if std::mem::replace(&mut self.inst_seen[i.index()], true) {
            return Err(self.error(
                self.inst_loc(i, what),
                "the instruction is listed more than once in the function's regions",
            ));
        }
        if d.op.is_terminator() && !is_last {
            return Err(self.error(
                self.inst_loc(i, what),
                format!("terminator in the middle of {what}; it must be the last instruction"),
            ));
        }
        if is_last {
            self.terminator_kind(i, term, what)?;
        }
        Ok(())
    }

    /// What the terminator of a region must be, and the types it must give.
    fn expected<'t>(&'t self, term: &Term<'t>) -> (Op, &'t [TensorType]) {
        match term {
            Term::Return => (Op::Return, &self.f.results[..]),
            Term::Yield(t) => (Op::Yield, t),
        }
    }

    /// Checks that the last instruction of a region is the right terminator.
    fn terminator_kind(&self, i: Inst, term: &Term<'_>, what: &str) -> Result<(), VerifyError> {
        let d = &self.f.insts[i.index()];
        let (want_op, _) = self.expected(term);
        if d.op != want_op {
            return Err(self.error(
                self.inst_loc(i, what),
                format!("{what} must end with '{}'", want_op.name()),
            ));
        }
        Ok(())
    }

    /// Checks the operand types of a region's terminator.
    fn terminator_types(&self, i: Inst, term: &Term<'_>, what: &str) -> Result<(), VerifyError> {
        let d = &self.f.insts[i.index()];
        let (_, want_types) = self.expected(term);
        let got = self.types(&d.args);
        if got != want_types {
            return Err(self.error(
                format!("'{}' ending {what}", d.op.name()),
                format!(
                    "gives ({}) but ({}) is expected",
                    show_types(&got),
                    show_types(want_types)
                ),
            ));
        }
        Ok(())
    }

    fn inst(&mut self, i: Inst, depth: usize, what: &str) -> Result<(), VerifyError> {
        self.operands_and_results(i, what)?;
        // Ops with regions name their regions after the instruction, so their location is
        // printed now; a flat op's only when an error needs it.
        let loc = || self.inst_loc(i, what);
        match self.f.insts[i.index()].op {
            Op::While => self.while_inst(i, depth, &loc())?,
            Op::If => self.if_inst(i, depth, &loc())?,
            Op::Region(_) => self.region_op(i, depth, &loc())?,
            Op::Case => self.case_inst(i, depth, &loc())?,
            _ => self.flat_inst(i, &Loc::Inst(i, what))?,
        }
        for &r in &self.f.insts[i.index()].results {
            self.show(r);
        }
        Ok(())
    }

    /// Checks that the operands are in range and visible, and defines the results.
    #[inline(never)]
    fn operands_and_results(&mut self, i: Inst, what: &str) -> Result<(), VerifyError> {
        let f = self.f;
        let d = &f.insts[i.index()];
        let loc = Loc::Inst(i, what);
        for &a in &d.args {
            if a.index() >= f.values.len() {
                return Err(self.error(self.at(&loc), format!("operand v{} is out of range", a.0)));
            }
            if !self.visible[a.index()] {
                let why = if self.held[a.index()] {
                    "it is defined in a region that does not enclose this use, or by this instruction"
                } else {
                    "it is not defined before this use"
                };
                return Err(self.error(
                    self.at(&loc),
                    format!("operand {} is not visible here: {why}", self.vname(a)),
                ));
            }
        }
        for (n, &r) in d.results.iter().enumerate() {
            self.define(r, ValueDef::Result(i, n), &loc)?;
        }
        Ok(())
    }

    /// Checks an instruction without regions.
    #[inline(never)]
    fn flat_inst(&self, i: Inst, loc: &Loc<'_>) -> Result<(), VerifyError> {
        let d = &self.f.insts[i.index()];
        if !d.regions.is_empty() || !d.region_args.is_empty() {
            return Err(self.error(
                self.at(loc),
                format!("'{}' cannot have regions or region arguments", d.op.name()),
            ));
        }
        if !d.op.is_terminator() {
            return self.typed_inst(i, loc);
        }
        if !d.results.is_empty() {
            return Err(self.error(self.at(loc), "a terminator has no results"));
        }
        Ok(())
    }

    /// Checks an op without regions against its type rule.
    fn typed_inst(&self, i: Inst, loc: &Loc<'_>) -> Result<(), VerifyError> {
        let d = &self.f.insts[i.index()];
        let [r] = d.results[..] else {
            return Err(self.error(
                self.at(loc),
                format!(
                    "'{}' must have exactly one result, has {}",
                    d.op.name(),
                    d.results.len()
                ),
            ));
        };
        let args: Vec<&TensorType> = d.args.iter().map(|&a| self.ty(a)).collect();
        let declared = self.ty(r);
        let got = infer(&d.op, &args, Some(declared)).map_err(|e| self.error(self.at(loc), e.0))?;
        if &got != declared {
            return Err(self.error(
                self.at(loc),
                format!(
                    "result type is declared {declared} but '{}' of ({}) gives {got}",
                    d.op.name(),
                    args.iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn while_inst(&mut self, i: Inst, depth: usize, loc: &str) -> Result<(), VerifyError> {
        let mark = self.scope.len();
        let carried = self.while_header(i, loc)?;
        let regions = &self.f.insts[i.index()].regions;
        let bool_ty = [TensorType::scalar(DType::Bool)];
        let what = region_what("cond", loc);
        self.region(regions[0], depth + 1, Term::Yield(&bool_ty), &what)?;
        let what = region_what("body", loc);
        self.region(regions[1], depth + 1, Term::Yield(&carried), &what)?;
        self.hide(mark);
        Ok(())
    }

    /// Checks a `while`'s regions count and loop-carried types and defines its region
    /// arguments. Returns the loop-carried types.
    #[inline(never)]
    fn while_header(&mut self, i: Inst, loc: &str) -> Result<Vec<TensorType>, VerifyError> {
        let d = &self.f.insts[i.index()];
        if d.regions.len() != 2 {
            return Err(self.error(
                loc,
                format!(
                    "'while' needs 2 regions (cond, body), has {}",
                    d.regions.len()
                ),
            ));
        }
        let (n_args, n_rargs, n_res) = (d.args.len(), d.region_args.len(), d.results.len());
        if n_args != n_rargs || n_args != n_res {
            return Err(self.error(
                loc,
                format!(
                    "'while' needs as many operands, region arguments and results; has {n_args}, {n_rargs} and {n_res}"
                ),
            ));
        }
        for (n, &a) in d.region_args.iter().enumerate() {
            self.define(a, ValueDef::RegionArg(i, n), &Loc::Text(loc))?;
        }
        let carried = self.types(&d.args);
        for (n, t) in carried.iter().enumerate() {
            let (ra, res) = (self.ty(d.region_args[n]), self.ty(d.results[n]));
            if t != ra || t != res {
                return Err(self.error(
                    loc,
                    format!(
                        "loop-carried value {n}: operand {} is {t}, region argument {} is {ra}, result {} is {res}; they must be equal",
                        self.vname(d.args[n]),
                        self.vname(d.region_args[n]),
                        self.vname(d.results[n])
                    ),
                ));
            }
        }
        for &a in &d.region_args {
            self.show(a);
        }
        Ok(carried)
    }

    fn if_inst(&mut self, i: Inst, depth: usize, loc: &str) -> Result<(), VerifyError> {
        let results = self.if_header(i, loc)?;
        let regions = &self.f.insts[i.index()].regions;
        let what = region_what("then", loc);
        self.region(regions[0], depth + 1, Term::Yield(&results), &what)?;
        let what = region_what("else", loc);
        self.region(regions[1], depth + 1, Term::Yield(&results), &what)?;
        Ok(())
    }

    /// `case`: a scalar `i32` index, no region arguments, at least one branch, each
    /// yielding the results.
    fn case_inst(&mut self, i: Inst, depth: usize, loc: &str) -> Result<(), VerifyError> {
        let d = &self.f.insts[i.index()];
        let ok = matches!(d.args[..], [p] if *self.ty(p) == TensorType::scalar(DType::I32));
        if !ok || !d.region_args.is_empty() || d.regions.is_empty() {
            return Err(self.error(
                loc,
                "'case' takes one scalar i32 index and one or more branch regions without arguments",
            ));
        }
        let results = self.types(&d.results);
        for r in d.regions.clone() {
            let what = region_what("branch", loc);
            self.region(r, depth + 1, Term::Yield(&results), &what)?;
        }
        Ok(())
    }

    /// Checks an `if`'s condition and region count. Returns its result types.
    #[inline(never)]
    fn if_header(&self, i: Inst, loc: &str) -> Result<Vec<TensorType>, VerifyError> {
        let d = &self.f.insts[i.index()];
        let [p] = d.args[..] else {
            return Err(self.error(
                loc,
                format!("'if' takes 1 operand (a scalar bool), got {}", d.args.len()),
            ));
        };
        if *self.ty(p) != TensorType::scalar(DType::Bool) {
            return Err(self.error(
                loc,
                format!(
                    "the condition {} must be a scalar bool, not {}",
                    self.vname(p),
                    self.ty(p)
                ),
            ));
        }
        if !d.region_args.is_empty() {
            return Err(self.error(loc, "'if' cannot have region arguments"));
        }
        if d.regions.len() != 2 {
            return Err(self.error(
                loc,
                format!("'if' needs 2 regions (then, else), has {}", d.regions.len()),
            ));
        }
        Ok(self.types(&d.results))
    }
}

/// Where an error is: an instruction (`what` says where it is listed), printed only when an
/// error needs it, since naming every instruction cost as much as the rest of the verifier on
/// long functions; or a text.
enum Loc<'a> {
    Inst(Inst, &'a str),
    Text(&'a str),
}

/// `the body region of 'while' defining %r`.
#[inline(never)]
fn region_what(kind: &str, loc: &str) -> String {
    format!("the {kind} region of {loc}")
}

fn show_types(ts: &[TensorType]) -> String {
    ts.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{BinaryOp, UnaryOp};

    fn i32t() -> TensorType {
        TensorType::scalar(DType::I32)
    }

    /// `func @f(%a: i32) -> (i32) { %b = neg %a; return %b }`, valid.
    fn base() -> (Function, Value, Inst, Value) {
        let mut f = Function::new("f", vec![i32t()]);
        let a = f.add_param(i32t(), Some("a".into()));
        let body = f.body;
        let neg = f.push_inst(
            body,
            Op::Unary(UnaryOp::Neg),
            vec![a],
            vec![i32t()],
            vec![Some("b".into())],
        );
        let b = f.results(neg)[0];
        f.push_inst(body, Op::Return, vec![b], vec![], vec![]);
        verify_function(&f).unwrap();
        (f, a, neg, b)
    }

    fn message(f: &Function) -> String {
        verify_function(f).unwrap_err().to_string()
    }

    #[test]
    fn dangling_handles_are_errors() {
        let (mut f, _, neg, _) = base();
        f.insts[neg.index()].args[0] = Value(99);
        assert!(message(&f).contains("'neg' defining %b: operand v99 is out of range"));

        let (mut f, _, _, _) = base();
        f.regions[0].insts.insert(0, Inst(42));
        assert!(message(&f).contains("instruction i42 is out of range"));

        let (mut f, _, _, _) = base();
        f.body = Region(7);
        assert!(message(&f).contains("region r7 is out of range"));
    }

    #[test]
    fn definitions_must_match_where_values_are_held() {
        let (mut f, a, _, _) = base();
        f.values[a.index()].def = ValueDef::Param(3);
        assert!(message(&f).contains("is held as Param(0) but records its definition as Param(3)"));

        // A value held twice: the param is also the neg's result.
        let (mut f, a, neg, _) = base();
        f.insts[neg.index()].results[0] = a;
        assert!(message(&f).contains("is held as Result(Inst(0), 0) but records"));

        // A value in the arena that nothing holds.
        let (mut f, _, _, _) = base();
        f.add_value(i32t(), Some("orphan".into()), ValueDef::Param(5));
        assert!(
            message(&f).contains("value %orphan: the value (v2, recorded as Param(5)) is not held")
        );
    }

    #[test]
    fn instructions_and_regions_are_used_once() {
        let (mut f, _, neg, _) = base();
        f.regions[0].insts.insert(1, neg);
        assert!(message(&f).contains("listed more than once"));

        // An unattached region and an instruction outside every region.
        let (mut f, a, _, _) = base();
        let r = f.add_region();
        f.push_inst(
            r,
            Op::Unary(UnaryOp::Abs),
            vec![a],
            vec![i32t()],
            vec![Some("lost".into())],
        );
        assert!(message(&f).contains("is not held"));
        f.regions[r.index()].insts.clear();
        f.values.pop();
        assert!(message(&f).contains("'abs' (i2): the instruction is not in any region"));
        f.insts.pop();
        assert!(message(&f).contains("region r1: the region is not attached"));

        // One region attached to both arms of an if.
        let mut f = Function::new("g", vec![]);
        let p = f.add_param(TensorType::scalar(DType::Bool), Some("p".into()));
        let body = f.body;
        let i = f.push_inst(body, Op::If, vec![p], vec![], vec![]);
        let r = f.add_region();
        f.push_inst(r, Op::Yield, vec![], vec![], vec![]);
        f.set_regions(i, vec![r, r]);
        f.push_inst(body, Op::Return, vec![], vec![], vec![]);
        assert!(message(&f).contains("region r1 is used more than once"));
    }

    #[test]
    fn names_must_be_valid_and_unique() {
        let (mut f, _, _, b) = base();
        f.values[b.index()].name = "a".into();
        assert!(message(&f).contains("two values have this name"));
        f.values[b.index()].name = "has space".into();
        assert!(message(&f).contains("value 'has space': not a valid value name"));
        let (mut f, _, _, _) = base();
        f.name = "".into();
        assert!(message(&f).contains("not a valid function name"));
    }

    #[test]
    fn region_ops_are_checked() {
        let (mut f, _, neg, _) = base();
        let r = f.add_region();
        f.set_regions(neg, vec![r]);
        assert!(message(&f).contains("'neg' cannot have regions or region arguments"));

        let mut f = Function::new("w", vec![i32t()]);
        let a = f.add_param(i32t(), Some("a".into()));
        let body = f.body;
        let w = f.push_inst(
            body,
            Op::While,
            vec![a],
            vec![i32t()],
            vec![Some("r".into())],
        );
        let args = f.add_region_args(w, vec![i32t()], vec![Some("x".into())]);
        let cond = f.add_region();
        f.push_inst(cond, Op::Yield, vec![args[0]], vec![], vec![]);
        f.set_regions(w, vec![cond]);
        let r = f.results(w)[0];
        f.push_inst(body, Op::Return, vec![r], vec![], vec![]);
        assert!(message(&f)
            .contains("'while' defining %r: 'while' needs 2 regions (cond, body), has 1"));
        let loop_body = f.add_region();
        f.push_inst(loop_body, Op::Yield, vec![args[0]], vec![], vec![]);
        f.set_regions(w, vec![cond, loop_body]);
        assert!(message(&f).contains(
            "'yield' ending the cond region of 'while' defining %r: gives (i32) but (bool) is expected"
        ));
        f.insts[w.index()].args.push(a);
        assert!(message(&f)
            .contains("needs as many operands, region arguments and results; has 2, 1 and 1"));
    }

    #[test]
    fn terminators_have_no_results_and_ops_one() {
        let (mut f, a, _, _) = base();
        let body = f.body;
        f.regions[0].insts.pop();
        let bad = f.push_inst(
            body,
            Op::Return,
            vec![a],
            vec![i32t()],
            vec![Some("z".into())],
        );
        assert!(message(&f).contains("'return' defining %z: a terminator has no results"));
        f.insts[bad.index()].op = Op::Binary(BinaryOp::Add);
        assert!(message(&f).contains("the function body must end with 'return'"));
    }

    #[test]
    fn module_names_are_unique() {
        let (f, _, _, _) = base();
        let m = Module {
            funcs: vec![f.clone(), f],
        };
        let e = verify_module(&m).unwrap_err();
        assert_eq!(
            e.to_string(),
            "in @f: module: function @f is defined more than once"
        );
    }
}
