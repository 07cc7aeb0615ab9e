//! Common-subexpression elimination over structured regions.

use std::collections::HashMap;

use crate::ir::{Function, Region, Value};
use crate::ops::Op;
use crate::types::TensorType;

/// Replaces a pure op with an earlier identical one (same op, attributes, operands and result type) that
/// is visible: defined before it in the same region or in an enclosing one. Constants are
/// compared by their bits. The replaced op is left for DCE to remove.
pub fn eliminate_common_subexpressions(f: &mut Function) {
    let mut subst: Vec<Value> = (0..f.values.len() as u32).map(Value).collect();
    let mut scopes: Vec<HashMap<String, Value>> = Vec::new();
    walk(f, f.body, &mut subst, &mut scopes);
}

/// Ops such as `convert`, `reshape` and `iota` take their meaning from the result type too,
/// so the key holds it.
fn key(op: &Op, args: &[Value], ty: &TensorType) -> String {
    format!("{op:?}|{args:?}|{ty}")
}

fn walk(
    f: &mut Function,
    r: Region,
    subst: &mut Vec<Value>,
    scopes: &mut Vec<HashMap<String, Value>>,
) {
    scopes.push(HashMap::new());
    let insts = f.region(r).insts.clone();
    for i in insts {
        // Operands first take their replacements, so chains of duplicates collapse.
        let inst = &mut f.insts[i.index()];
        for a in inst.args.iter_mut() {
            *a = subst[a.index()];
        }
        let inst = &f.insts[i.index()];
        if inst.op.is_pure() && inst.results.len() == 1 {
            let k = key(&inst.op, &inst.args, f.ty(inst.results[0]));
            let found = scopes.iter().rev().find_map(|s| s.get(&k).copied());
            match found {
                Some(prev) => subst[inst.results[0].index()] = prev,
                None => {
                    let v = inst.results[0];
                    if let Some(top) = scopes.last_mut() {
                        top.insert(k, v);
                    }
                }
            }
        }
        for sub in f.insts[i.index()].regions.clone() {
            walk(f, sub, subst, scopes);
        }
    }
    scopes.pop();
}
