//! The fusion plan: a pure analysis of a verified function, decided before code generation,
//! that says which values are computed inside their consumer's loop instead of being stored,
//! and which results are written straight into their final buffer. Codegen reads it; nothing
//! here knows Cranelift. `graphjit dump FILE --stage plan` prints it.
//!
//! A value is fused ("inline") when it is a tensor computed by an elementwise op whose only use
//! is an elementwise op or a trailing-axes `reduce` in the same region: such a value is never
//! seen by anything else, so it needs no buffer. Splat constants and broadcasts are fused into
//! every consumer when all their uses are such consumers ("leaf"): their elements are a scalar
//! register or a strided read of their operand. Every other value is materialized, so values
//! used more than once or outside the group keep their buffer.
//!
//! Fusion moves the reads of a group's leaves to the consumer's position, which is safe because
//! every buffer is written once before it is read and stays unchanged until the end of the
//! region iteration that wrote it (see `lower/mod.rs`).
//!
//! Without fusion the plan is trivial (every value `Normal`, no destinations), and codegen
//! runs it through the same emitters: each elementwise op is then a group of one.

use std::fmt;

use crate::ir::{Function, Value, ValueDef};
use crate::ops::{BinaryOp, CmpOp, Op, UnaryOp};

/// The largest number of nodes one fused value may carry into its consumer; it bounds the
/// depth of the recursive tree walks and the size of the loop bodies.
pub(crate) const MAX_GROUP: usize = 32;

/// An elementwise operation: what a node of a fused group computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EwOp {
    Unary(UnaryOp),
    Binary(BinaryOp),
    Compare(CmpOp),
    Select,
    Convert,
}

impl EwOp {
    /// The elementwise operation of `op`, if it is one: the one mapping from IR ops.
    pub fn of(op: &Op) -> Option<EwOp> {
        Some(match op {
            Op::Unary(u) => EwOp::Unary(*u),
            Op::Binary(b) => EwOp::Binary(*b),
            Op::Compare(c) => EwOp::Compare(*c),
            Op::Select => EwOp::Select,
            Op::Convert => EwOp::Convert,
            Op::Const(_)
            | Op::BitcastConvert
            | Op::Broadcast { .. }
            | Op::Reshape
            | Op::Transpose { .. }
            | Op::Slice { .. }
            | Op::Concat { .. }
            | Op::Iota { .. }
            | Op::Reduce { .. }
            | Op::Dot
            | Op::DynamicSlice { .. }
            | Op::DynamicUpdateSlice
            | Op::Reverse { .. }
            | Op::Clamp
            | Op::Region(_)
            | Op::Pad { .. }
            | Op::Gather { .. }
            | Op::DotGeneral { .. }
            | Op::Case
            | Op::While
            | Op::If
            | Op::Yield
            | Op::Return => return None,
        })
    }
}

/// How a value is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// A register (scalar) or a buffer (tensor), as usual.
    Normal,
    /// Computed inside its only consumer's loop.
    Inline,
    /// A splat or broadcast read inside each consumer's loop.
    Leaf,
}

/// Where a tensor is written when it is not its own scratch slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// Into the function's output `k`, so `return` need not copy it.
    Out(usize),
    /// Into the other buffer of the loop-carried value it is yielded as.
    Carried,
}

/// The decisions taken before lowering a function, indexed by value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FusionPlan {
    pub plan: Vec<Plan>,
    pub dest: Vec<Option<Dest>>,
    /// For an inline value, the value whose loop computes it (the group's root).
    pub root: Vec<Option<Value>>,
}

impl FusionPlan {
    /// The plan without fusion: every value materialized, no destinations.
    pub fn trivial(f: &Function) -> FusionPlan {
        let nv = f.values.len();
        FusionPlan {
            plan: vec![Plan::Normal; nv],
            dest: vec![None; nv],
            root: vec![None; nv],
        }
    }

    pub fn plan_of(&self, v: Value) -> Plan {
        self.plan.get(v.index()).copied().unwrap_or(Plan::Normal)
    }

    pub fn dest_of(&self, v: Value) -> Option<Dest> {
        self.dest.get(v.index()).copied().flatten()
    }

    /// The plan as text, one line per value that is not computed the usual way.
    pub fn display<'a>(&'a self, f: &'a Function) -> impl fmt::Display + 'a {
        PlanText { plan: self, f }
    }
}

fn is_elementwise(op: &Op) -> bool {
    EwOp::of(op).is_some()
}

/// Whether `axes` are the last `axes.len()` axes of a rank-`rank` operand.
pub(crate) fn trailing(axes: &[usize], rank: usize) -> bool {
    axes.len() <= rank
        && axes
            .iter()
            .enumerate()
            .all(|(i, &a)| a == rank - axes.len() + i)
}

/// Whether the instruction writes its result slot where it is told (elementwise roots,
/// `reduce`, `dot`, a prefix `reduce_window`), so its result can be given a destination.
/// A lowering that does not use the destination is still correct: the result is copied.
fn writes_result_slot(op: &Op) -> bool {
    use crate::ops::region::RegionOp;
    is_elementwise(op)
        || matches!(
            op,
            Op::Reduce { .. } | Op::Dot | Op::Region(RegionOp::ReduceWindow(_))
        )
}

/// Decides the plan of every value of the verified function `f`; with `fusion` off, the
/// trivial plan.
pub fn plan(f: &Function, fusion: bool) -> FusionPlan {
    let mut out = FusionPlan::trivial(f);
    if !fusion {
        return out;
    }
    let nv = f.values.len();
    let ni = f.insts.len();
    // The region of every instruction and the users of every value.
    let mut region_of = vec![usize::MAX; ni];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for (r, rd) in f.regions.iter().enumerate() {
        for &i in &rd.insts {
            region_of[i.index()] = r;
            for a in &f.insts[i.index()].args {
                users[a.index()].push(i.index());
            }
        }
    }
    // Whether instruction `u` can take its operand `v` as a fused tree.
    let consumer = |u: usize, v: Value| -> bool {
        let d = &f.insts[u];
        let [res] = d.results[..] else {
            return false;
        };
        match &d.op {
            // A reduction over trailing axes, to a tensor or to a scalar.
            Op::Reduce { axes, .. } => d.args.len() == 1 && trailing(axes, f.ty(v).rank()),
            op => is_elementwise(op) && !f.ty(res).is_scalar(),
        }
    };
    let mut size = vec![0usize; nv];
    for (r, rd) in f.regions.iter().enumerate() {
        for &i in &rd.insts {
            let d = &f.insts[i.index()];
            let [v] = d.results[..] else { continue };
            if f.ty(v).is_scalar() {
                continue;
            }
            let us = &users[v.index()];
            let all_consumers = !us.is_empty() && us.iter().all(|&u| consumer(u, v));
            match &d.op {
                op if is_elementwise(op) => {
                    let s = 1 + d
                        .args
                        .iter()
                        .filter(|a| out.plan[a.index()] == Plan::Inline)
                        .map(|a| size[a.index()])
                        .sum::<usize>();
                    size[v.index()] = s;
                    if us.len() == 1
                        && region_of[us[0]] == r
                        && consumer(us[0], v)
                        && s <= MAX_GROUP
                    {
                        out.plan[v.index()] = Plan::Inline;
                    }
                }
                Op::Const(t) if !t.is_empty() && t.is_splat() && all_consumers => {
                    out.plan[v.index()] = Plan::Leaf;
                }
                Op::Broadcast { .. } if d.args.len() == 1 && all_consumers => {
                    out.plan[v.index()] = Plan::Leaf;
                }
                _ => {}
            }
        }
    }
    // The root of every inline value: follow its only user until a value that is not inline.
    for v in 0..nv {
        if out.plan[v] != Plan::Inline {
            continue;
        }
        let mut cur = v;
        // Each step moves to a later instruction's result, so this ends within `nv` steps.
        for _ in 0..nv {
            let u = users[cur][0];
            let [next] = f.insts[u].results[..] else {
                break;
            };
            cur = next.index();
            if out.plan[cur] != Plan::Inline {
                break;
            }
        }
        out.root[v] = Some(Value(cur as u32));
    }
    // Destinations: a result computed at the top level of the body and returned is written
    // into the output; a tensor yielded by a `while` body and used nowhere else is written
    // into the loop's other buffer.
    let defining = |v: Value| match f.value(v).def {
        ValueDef::Result(i, 0) => Some(i.index()),
        _ => None,
    };
    for (r, rd) in f.regions.iter().enumerate() {
        let Some(&last) = rd.insts.last() else {
            continue;
        };
        let d = &f.insts[last.index()];
        match d.op {
            Op::Return if r == f.body.index() => {
                for (k, &v) in d.args.iter().enumerate() {
                    let Some(i) = defining(v) else { continue };
                    if !f.ty(v).is_scalar()
                        && f.results.get(k) == Some(f.ty(v))
                        && out.dest[v.index()].is_none()
                        && out.plan[v.index()] == Plan::Normal
                        && region_of[i] == r
                        && writes_result_slot(&f.insts[i].op)
                    {
                        out.dest[v.index()] = Some(Dest::Out(k));
                    }
                }
            }
            Op::Yield => {
                for &v in &d.args {
                    let Some(i) = defining(v) else { continue };
                    if !f.ty(v).is_scalar()
                        && users[v.index()].len() == 1
                        && out.plan[v.index()] == Plan::Normal
                        && region_of[i] == r
                        && writes_result_slot(&f.insts[i].op)
                    {
                        out.dest[v.index()] = Some(Dest::Carried);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

struct PlanText<'a> {
    plan: &'a FusionPlan,
    f: &'a Function,
}

impl fmt::Display for PlanText<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let f = self.f;
        let name = |v: Value| format!("%{}", f.value(v).name);
        writeln!(out, "plan @{}", f.name)?;
        // Values in the order of their instructions, region by region, as printed.
        let mut lines = 0;
        for rd in &f.regions {
            for &i in &rd.insts {
                let d = &f.insts[i.index()];
                for &v in &d.results {
                    let what = match (self.plan.plan_of(v), self.plan.dest_of(v)) {
                        (Plan::Inline, _) => match self.plan.root[v.index()] {
                            Some(r) => format!("inline in {}", name(r)),
                            None => "inline".to_string(),
                        },
                        (Plan::Leaf, _) => "leaf".to_string(),
                        (Plan::Normal, Some(Dest::Out(k))) => format!("into output {k}"),
                        (Plan::Normal, Some(Dest::Carried)) => "into loop buffer".to_string(),
                        (Plan::Normal, None) => continue,
                    };
                    writeln!(out, "  {} = {}: {what}", name(v), d.op.name())?;
                    lines += 1;
                }
            }
        }
        if lines == 0 {
            writeln!(out, "  (nothing fused)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::parse::parse_module;

    fn func(src: &str) -> Function {
        let m = parse_module(src).expect("parse");
        let f = m.funcs[0].clone();
        crate::ir::verify::verify_function(&f).expect("verify");
        f
    }

    fn value(f: &Function, name: &str) -> Value {
        let i = f.values.iter().position(|v| v.name == name).expect(name);
        Value(i as u32)
    }

    const CHAIN: &str = "func @f(%x: f32[8], %y: f32[8]) -> f32[8] {
  %c = const 2 : f32[8]
  %a = mul %x, %c : f32[8]
  %b = add %a, %y : f32[8]
  %n = neg %b : f32[8]
  return %n
}";

    #[test]
    fn a_chain_fuses_into_its_last_op_which_writes_the_output() {
        let f = func(CHAIN);
        let p = plan(&f, true);
        let (a, b, c, n) = (
            value(&f, "a"),
            value(&f, "b"),
            value(&f, "c"),
            value(&f, "n"),
        );
        assert_eq!(p.plan_of(a), Plan::Inline);
        assert_eq!(p.plan_of(b), Plan::Inline);
        assert_eq!(p.plan_of(c), Plan::Leaf);
        assert_eq!(p.plan_of(n), Plan::Normal);
        assert_eq!(p.root[a.index()], Some(n));
        assert_eq!(p.root[b.index()], Some(n));
        assert_eq!(p.dest_of(n), Some(Dest::Out(0)));
        assert_eq!(p.dest_of(a), None);
    }

    #[test]
    fn without_fusion_the_plan_is_trivial() {
        let f = func(CHAIN);
        assert_eq!(plan(&f, false), FusionPlan::trivial(&f));
    }

    #[test]
    fn a_value_with_two_uses_keeps_its_buffer() {
        let f = func(
            "func @f(%x: f32[4]) -> (f32[4], f32[4]) {
  %a = neg %x : f32[4]
  %b = abs %a : f32[4]
  %c = sqrt %a : f32[4]
  return %b, %c
}",
        );
        let p = plan(&f, true);
        assert_eq!(p.plan_of(value(&f, "a")), Plan::Normal);
        assert_eq!(p.dest_of(value(&f, "b")), Some(Dest::Out(0)));
        assert_eq!(p.dest_of(value(&f, "c")), Some(Dest::Out(1)));
    }

    #[test]
    fn only_trailing_reductions_consume_a_fused_tree() {
        let f = func(
            "func @f(%x: f32[4, 8]) -> (f32[4], f32[8]) {
  %a = mul %x, %x : f32[4, 8]
  %s = reduce.sum %a axes=[1] : f32[4]
  %b = mul %x, %x : f32[4, 8]
  %t = reduce.sum %b axes=[0] : f32[8]
  return %s, %t
}",
        );
        let p = plan(&f, true);
        assert_eq!(p.plan_of(value(&f, "a")), Plan::Inline);
        assert_eq!(p.plan_of(value(&f, "b")), Plan::Normal);
        assert_eq!(p.root[value(&f, "a").index()], Some(value(&f, "s")));
    }

    #[test]
    fn the_plan_prints_one_line_per_decision() {
        let f = func(CHAIN);
        let text = plan(&f, true).display(&f).to_string();
        assert_eq!(
            text,
            "plan @f\n  %c = const: leaf\n  %a = mul: inline in %n\n  %b = add: inline in %n\n  %n = neg: into output 0\n"
        );
    }
}
