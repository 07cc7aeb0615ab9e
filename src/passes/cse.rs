//! Common-subexpression elimination over structured regions.

use std::collections::HashMap;

use crate::ir::{Function, Region, Value};
use crate::ops::Op;
use crate::types::TensorType;

/// Replaces a pure op with an earlier identical one (same op, attributes, operands and result type) that
/// is visible: defined before it in the same region or in an enclosing one (not across the
/// boundary of a region op's isolated region). Constants are
/// compared by their bits. The replaced op is left for DCE to remove.
pub fn eliminate_common_subexpressions(f: &mut Function) {
    let mut subst: Vec<Value> = (0..f.values.len() as u32).map(Value).collect();
    let mut scopes: Vec<HashMap<(String, Vec<u8>), Value>> = Vec::new();
    walk(f, f.body, &mut subst, &mut scopes);
}

/// Ops such as `convert`, `reshape` and `iota` take their meaning from the result type too,
/// so the key holds it. A constant is keyed by its raw bytes rather than its `Debug` text,
/// which would cost a formatted number per element of a large constant.
/// Constants above [`CONST_KEY_LIMIT`] elements get no key: hashing megabytes at compile time
/// costs more than the rare duplicate it would save.
fn key(op: &Op, args: &[Value], ty: &TensorType) -> Option<(String, Vec<u8>)> {
    match op {
        Op::Const(t) if t.len() > CONST_KEY_LIMIT => None,
        Op::Const(t) => Some((format!("const|{ty}"), t.data().as_bytes().to_vec())),
        _ => Some((format!("{op:?}|{args:?}|{ty}"), Vec::new())),
    }
}

const CONST_KEY_LIMIT: usize = 1 << 12;

fn walk(
    f: &mut Function,
    r: Region,
    subst: &mut Vec<Value>,
    scopes: &mut Vec<HashMap<(String, Vec<u8>), Value>>,
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
        let k = if inst.op.is_pure() && inst.results.len() == 1 {
            key(&inst.op, &inst.args, f.ty(inst.results[0]))
        } else {
            None
        };
        if let Some(k) = k {
            let v = inst.results[0];
            match scopes.iter().rev().find_map(|s| s.get(&k).copied()) {
                Some(prev) => subst[v.index()] = prev,
                None => {
                    if let Some(top) = scopes.last_mut() {
                        top.insert(k, v);
                    }
                }
            }
        }
        // The region of a region op is isolated: it must not reuse a value from outside.
        let isolated = matches!(f.insts[i.index()].op, Op::Region(_));
        for sub in f.insts[i.index()].regions.clone() {
            if isolated {
                walk(f, sub, subst, &mut Vec::new());
            } else {
                walk(f, sub, subst, scopes);
            }
        }
    }
    scopes.pop();
}
