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
    let mut scopes: Vec<HashMap<Hashed, Value, BuildFx>> = Vec::new();
    walk(f, f.body, &mut subst, &mut scopes);
}

/// What makes two pure ops identical. Ops such as `convert`, `reshape` and `iota` take their
/// meaning from the result type too, so the key holds it. A constant is keyed by its raw bytes
/// (so `-0.0` and `0.0`, or two NaN payloads, stay apart). The key is the op itself, not its
/// `Debug` text: formatting a string per instruction was most of the cost of this pass.
enum Key {
    Const {
        ty: TensorType,
        bytes: Vec<u8>,
    },
    Op {
        op: Op,
        args: Vec<Value>,
        ty: TensorType,
    },
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        match (self, other) {
            (Key::Const { ty, bytes }, Key::Const { ty: t, bytes: b }) => ty == t && bytes == b,
            (
                Key::Op { op, args, ty },
                Key::Op {
                    op: o,
                    args: a,
                    ty: t,
                },
            ) => ty == t && args == a && op == o,
            _ => false,
        }
    }
}

// Reflexive: a constant compares by bytes, and every other op's attributes compare by value
// (a scalar attribute by `Scalar::same`, which holds NaN equal to NaN).
impl Eq for Key {}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match self {
            Key::Const { ty, bytes } => {
                ty.hash(h);
                bytes.hash(h);
            }
            // The kind of op, its operands and type: equal keys hash equally, and ops that
            // differ only in an attribute are told apart by `eq`.
            Key::Op { op, args, ty } => {
                std::mem::discriminant(op).hash(h);
                args.hash(h);
                ty.hash(h);
            }
        }
    }
}

/// A key with its hash, computed once: a key is looked up in every enclosing scope and then
/// inserted, and hashing the op, operands and type again for each map was a fifth of this
/// pass in the body of a `while` (two scopes).
struct Hashed {
    hash: u64,
    key: Key,
}

impl Hashed {
    fn new(key: Key) -> Hashed {
        let mut h = Fx::default();
        std::hash::Hash::hash(&key, &mut h);
        Hashed {
            hash: std::hash::Hasher::finish(&h),
            key,
        }
    }
}

impl PartialEq for Hashed {
    fn eq(&self, other: &Hashed) -> bool {
        self.hash == other.hash && self.key == other.key
    }
}

impl Eq for Hashed {}

impl std::hash::Hash for Hashed {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.hash);
    }
}

/// Constants above [`CONST_KEY_LIMIT`] elements get no key: hashing megabytes at compile time
/// costs more than the rare duplicate it would save.
fn key(op: &Op, args: &[Value], ty: &TensorType) -> Option<Key> {
    match op {
        Op::Const(t) if t.len() > CONST_KEY_LIMIT => None,
        Op::Const(t) => Some(Key::Const {
            ty: ty.clone(),
            bytes: t.data().as_bytes().to_vec(),
        }),
        _ => Some(Key::Op {
            op: op.clone(),
            args: args.to_vec(),
            ty: ty.clone(),
        }),
    }
}

const CONST_KEY_LIMIT: usize = 1 << 12;

/// A multiply-rotate hasher (the scheme of rustc's `FxHasher`) for the keys above: the keys are
/// not chosen by an adversary who could make them collide, and the default SipHash was a
/// third of this pass's time.
#[derive(Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(u64::from(x));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type BuildFx = std::hash::BuildHasherDefault<Fx>;

fn walk(
    f: &mut Function,
    r: Region,
    subst: &mut Vec<Value>,
    scopes: &mut Vec<HashMap<Hashed, Value, BuildFx>>,
) {
    scopes.push(HashMap::default());
    let insts = f.region(r).insts.clone();
    for i in insts {
        // Operands first take their replacements, so chains of duplicates collapse.
        let inst = &mut f.insts[i.index()];
        for a in inst.args.iter_mut() {
            *a = subst[a.index()];
        }
        let inst = &f.insts[i.index()];
        let k = if inst.op.is_pure() && inst.results.len() == 1 {
            key(&inst.op, &inst.args, f.ty(inst.results[0])).map(Hashed::new)
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
