//! Dead-code elimination: pure ops whose results are never used are removed.

use crate::ir::{Function, Inst};

/// Removes pure ops with no used result, until none is left. `while` and `if` stay even when
/// their results are unused: a loop's trip count is observable (it may not end, or hit a
/// run limit), so removing it would change behaviour.
pub fn eliminate_dead_code(f: &mut Function) {
    loop {
        let mut uses = vec![0u32; f.values.len()];
        let regions = super::regions_preorder(f);
        for &r in &regions {
            for &i in &f.region(r).insts {
                for a in &f.inst(i).args {
                    uses[a.index()] += 1;
                }
            }
        }
        let dead = |f: &Function, i: Inst| {
            let inst = f.inst(i);
            inst.op.is_pure() && inst.results.iter().all(|v| uses[v.index()] == 0)
        };
        let mut changed = false;
        for &r in &regions {
            let before = f.region(r).insts.len();
            let kept: Vec<Inst> = f
                .region(r)
                .insts
                .iter()
                .copied()
                .filter(|&i| !dead(f, i))
                .collect();
            changed |= kept.len() != before;
            f.regions[r.index()].insts = kept;
        }
        if !changed {
            return;
        }
    }
}
