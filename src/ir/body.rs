//! The scalar program of a region op's region ([`crate::ops::region::Body`]), read off the IR
//! once by each executor.

use crate::ir::{Function, Inst, Region, Value, ValueDef};
use crate::ops::region::{allowed_in_body, Body, BodyInst, RegionOp};
use crate::ops::Op;
use crate::types::TensorType;

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

/// Appends region op `op` on `args` to `region`, with results of `results` and a region
/// written from `body` (the inverse of [`region_body`]). Every new value is named by `name`
/// (`None`: the default name). Gives the instruction and its new region.
pub fn push_region_op(
    f: &mut Function,
    region: Region,
    op: RegionOp,
    args: Vec<Value>,
    results: Vec<TensorType>,
    body: &Body,
    name: &mut dyn FnMut() -> Option<String>,
) -> (Inst, Region) {
    let names = results.iter().map(|_| name()).collect();
    let inst = f.push_inst(region, Op::Region(op), args, results, names);
    let ptypes: Vec<TensorType> = body.params.iter().map(|&d| TensorType::scalar(d)).collect();
    let pnames = ptypes.iter().map(|_| name()).collect();
    let mut slots = f.add_region_args(inst, ptypes, pnames);
    let r = f.add_region();
    for bi in &body.insts {
        let a = bi
            .args
            .iter()
            .filter_map(|&k| slots.get(k).copied())
            .collect();
        let i = f.push_inst(
            r,
            bi.op.clone(),
            a,
            vec![TensorType::scalar(bi.dtype)],
            vec![name()],
        );
        slots.push(f.results(i)[0]);
    }
    let ys = body
        .yields
        .iter()
        .filter_map(|&k| slots.get(k).copied())
        .collect();
    f.push_inst(r, Op::Yield, ys, vec![], vec![]);
    f.set_regions(inst, vec![r]);
    (inst, r)
}
