//! The dataflow graph of a function as Graphviz DOT (`graphjit dump FILE --stage dot`):
//! instructions are nodes, values are edges labelled with their name and type, the regions of
//! `while` and `if` are clusters, and the instructions of each fused group (from the fusion
//! plan) share one fill colour. `dot -Tsvg` renders it.

use std::fmt::Write;

use super::plan::{FusionPlan, Plan};
use crate::ir::{Function, Region, Value, ValueDef};
use crate::ops::Op;

/// Fill colours of fused groups, reused in turn.
const PALETTE: [&str; 8] = [
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
];

/// Quotes a DOT string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The DOT node that defines `v`.
fn source(f: &Function, v: Value) -> String {
    match f.value(v).def {
        ValueDef::Param(n) => format!("p{n}"),
        ValueDef::Result(i, _) => format!("i{}", i.0),
        ValueDef::RegionArg(..) => format!("a{}", v.0),
    }
}

/// The DOT text of `f` under `plan` (the plan of the optimized function it was made for).
pub fn to_dot(f: &Function, plan: &FusionPlan) -> String {
    let mut out = String::new();
    // The group of each instruction result: the root of an inline value, or the value itself
    // when some inline value has it as root.
    let mut colour: Vec<Option<&str>> = vec![None; f.values.len()];
    let mut groups = 0;
    for v in 0..f.values.len() {
        if let Some(root) = plan.root[v] {
            if colour[root.index()].is_none() {
                colour[root.index()] = Some(PALETTE[groups % PALETTE.len()]);
                groups += 1;
            }
            colour[v] = colour[root.index()];
        }
    }
    let _ = writeln!(out, "digraph {} {{", quote(&f.name));
    out.push_str("  node [shape=box, fontname=\"monospace\"];\n");
    out.push_str("  edge [fontname=\"monospace\", fontsize=10];\n");
    for (n, &p) in f.params.iter().enumerate() {
        let v = f.value(p);
        let _ = writeln!(
            out,
            "  p{n} [shape=ellipse, label={}];",
            quote(&format!("%{}: {}", v.name, v.ty))
        );
    }
    region(&mut out, f, plan, &colour, f.body, 1);
    // One edge per use of a value.
    for rd in &f.regions {
        for &i in &rd.insts {
            for &a in &f.inst(i).args {
                let v = f.value(a);
                let _ = writeln!(
                    out,
                    "  {} -> i{} [label={}];",
                    source(f, a),
                    i.0,
                    quote(&format!("%{}: {}", v.name, v.ty))
                );
            }
        }
    }
    out.push_str("}\n");
    out
}

/// The nodes of region `r` and the clusters of its nested regions.
fn region(
    out: &mut String,
    f: &Function,
    plan: &FusionPlan,
    colour: &[Option<&str>],
    r: Region,
    depth: usize,
) {
    let pad = "  ".repeat(depth);
    for &i in &f.region(r).insts {
        let d = f.inst(i);
        let first = d.results.first().copied();
        let mut attrs = format!("label={}", quote(&d.op.name()));
        if let Some(c) = first.and_then(|v| colour[v.index()]) {
            let _ = write!(attrs, ", style=filled, fillcolor={}", quote(c));
        } else if first.is_some_and(|v| plan.plan_of(v) == Plan::Leaf) {
            attrs.push_str(", style=dashed");
        }
        if d.regions.is_empty() {
            let _ = writeln!(out, "{pad}i{} [{attrs}];", i.0);
            continue;
        }
        // A `while` or `if`: its node, then a cluster holding its regions and region arguments.
        let _ = writeln!(out, "{pad}i{} [{attrs}, shape=diamond];", i.0);
        let _ = writeln!(out, "{pad}subgraph cluster_i{} {{", i.0);
        let _ = writeln!(out, "{pad}  label={};", quote(&d.op.name()));
        for &a in &d.region_args {
            let v = f.value(a);
            let _ = writeln!(
                out,
                "{pad}  a{} [shape=ellipse, label={}];",
                a.0,
                quote(&format!("%{}: {}", v.name, v.ty))
            );
        }
        let names: &[&str] = if matches!(d.op, Op::While) {
            &["cond", "body"]
        } else {
            &["then", "else"]
        };
        for (k, &sub) in d.regions.iter().enumerate() {
            let _ = writeln!(out, "{pad}  subgraph cluster_r{} {{", sub.0);
            let _ = writeln!(
                out,
                "{pad}    label={};",
                quote(names.get(k).copied().unwrap_or("region"))
            );
            region(out, f, plan, colour, sub, depth + 2);
            let _ = writeln!(out, "{pad}  }}");
        }
        let _ = writeln!(out, "{pad}}}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::parse::parse_module;
    use crate::jit::plan::plan;

    #[test]
    fn a_loop_is_a_cluster_and_a_fused_group_one_colour() {
        let m = parse_module(
            "func @f(%n: i32, %x: f32[4]) -> f32[4] {
  %z = const 0 : i32
  %r, %y = while (%i = %z, %v = %x) : i32, f32[4] {
    %c = lt %i, %n : bool
    yield %c
  } do {
    %one = const 1 : i32
    %j = add %i, %one : i32
    %a = mul %v, %v : f32[4]
    %b = neg %a : f32[4]
    yield %j, %b
  }
  return %y
}",
        )
        .expect("parse");
        let f = &m.funcs[0];
        let p = plan(f, true);
        let dot = to_dot(f, &p);
        assert!(dot.starts_with("digraph \"f\" {\n"), "{dot}");
        assert!(dot.ends_with("}\n"), "{dot}");
        assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{dot}");
        assert_eq!(dot.matches("subgraph cluster_").count(), 3, "{dot}");
        // `%a` is fused into `%b`: both nodes have the group's colour, and nothing else has it.
        let filled: Vec<&str> = dot.lines().filter(|l| l.contains("fillcolor")).collect();
        assert_eq!(filled.len(), 2, "{dot}");
        assert!(filled.iter().all(|l| l.contains(PALETTE[0])), "{dot}");
        // Every edge joins declared nodes and is labelled with a value's type.
        for l in dot.lines().filter(|l| l.contains("->")) {
            let (from, rest) = l.trim().split_once(" -> ").expect("an edge");
            let to = rest.split(' ').next().expect("a target");
            for node in [from, to] {
                assert!(
                    dot.contains(&format!("{node} [")),
                    "undeclared node {node} in {dot}"
                );
            }
            assert!(l.contains(": "), "{l}");
        }
        assert!(dot.contains("label=\"%v: f32[4]\""), "{dot}");
    }
}
