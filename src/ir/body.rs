//! The scalar program of a region op's region ([`crate::ops::region::Body`]), read off the IR
//! once by each executor.

use crate::ir::{Function, Inst, ValueDef};
use crate::ops::region::{allowed_in_body, Body, BodyInst};
use crate::ops::Op;

/// The body of region op `inst` (verified: one isolated region of rank-0 elementwise ops).
/// An `Err` says what does not fit, for a function that was not verified.
pub fn region_body(f: &Function, inst: Inst) -> Result<Body, String> {
    let d = f.inst(inst);
    let [r] = d.regions[..] else {
        return Err(format!("'{}' needs exactly one region", d.op.name()));
    };
    let mut slot = vec![usize::MAX; f.values.len()];
    let mut params = Vec::with_capacity(d.region_args.len());
    for (k, &a) in d.region_args.iter().enumerate() {
        slot[a.index()] = k;
        params.push(f.ty(a).dtype);
    }
    let mut insts = Vec::new();
    let region = f.region(r);
    for (pos, &i) in region.insts.iter().enumerate() {
        let id = f.inst(i);
        if !allowed_in_body(&id.op) {
            return Err(format!(
                "'{}' cannot appear in the region of '{}'",
                id.op.name(),
                d.op.name()
            ));
        }
        let args = id
            .args
            .iter()
            .map(|&a| match slot.get(a.index()) {
                Some(&s) if s != usize::MAX => Ok(s),
                _ => Err(format!(
                    "the region of '{}' uses %{}, which is not defined in it",
                    d.op.name(),
                    f.value(a).name
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if matches!(id.op, Op::Yield) {
            if pos + 1 != region.insts.len() {
                return Err("'yield' must end the region".into());
            }
            return Ok(Body {
                params,
                insts,
                yields: args,
            });
        }
        let [res] = id.results[..] else {
            return Err(format!(
                "'{}' in a region must have one result",
                id.op.name()
            ));
        };
        if !f.ty(res).is_scalar() || f.value(res).def != ValueDef::Result(i, 0) {
            return Err(format!(
                "%{} in the region of '{}' must be rank 0",
                f.value(res).name,
                d.op.name()
            ));
        }
        slot[res.index()] = params.len() + insts.len();
        insts.push(BodyInst {
            op: id.op.clone(),
            args,
            dtype: f.ty(res).dtype,
        });
    }
    Err(format!(
        "the region of '{}' does not end with 'yield'",
        d.op.name()
    ))
}
