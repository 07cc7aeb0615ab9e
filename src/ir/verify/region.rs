//! The verifier's checks of region ops (`reduce`, `reduce_window`, `sort`, `scatter`): the
//! type rule with the region's signature, and the isolation of the region.

use super::{region_what, show_types, Term, Verifier};
use crate::error::VerifyError;
use crate::ir::{Inst, ValueDef};
use crate::ops::region::signature;
use crate::ops::Op;
use crate::types::TensorType;

impl Verifier<'_> {
    /// Checks a region op and its isolated region (see the module doc).
    pub(super) fn region_op(
        &mut self,
        i: Inst,
        depth: usize,
        loc: &str,
    ) -> Result<(), VerifyError> {
        let yields = self.region_op_header(i, loc)?;
        let d = &self.f.insts[i.index()];
        // Isolation: hide every enclosing value while the region is walked.
        let outer = std::mem::take(&mut self.scope);
        for v in &outer {
            self.visible[v.index()] = false;
        }
        for &a in &d.region_args {
            self.show(a);
        }
        let what = region_what("scalar", loc);
        let walked = self.region(d.regions[0], depth + 1, Term::Yield(&yields), &what);
        self.hide(0);
        for v in &outer {
            self.visible[v.index()] = true;
        }
        self.scope = outer;
        walked?;
        crate::ir::body::region_body(self.f, i).map_err(|m| self.error(loc, m))?;
        Ok(())
    }

    /// Checks a region op's type rule, results and region arguments, and defines the
    /// region arguments. Returns the types its region must yield.
    #[inline(never)]
    fn region_op_header(&mut self, i: Inst, loc: &str) -> Result<Vec<TensorType>, VerifyError> {
        let d = &self.f.insts[i.index()];
        let Op::Region(op) = &d.op else {
            return Err(self.error(loc, "not a region op"));
        };
        if d.regions.len() != 1 {
            return Err(self.error(
                loc,
                format!("'{}' needs 1 region, has {}", op.name(), d.regions.len()),
            ));
        }
        let args: Vec<&TensorType> = d.args.iter().map(|&a| self.ty(a)).collect();
        let sig = signature(op, &args).map_err(|e| self.error(loc, e.0))?;
        let results = self.types(&d.results);
        if results != sig.results {
            return Err(self.error(
                loc,
                format!(
                    "results are declared ({}) but '{}' gives ({})",
                    show_types(&results),
                    op.name(),
                    show_types(&sig.results)
                ),
            ));
        }
        for (n, &a) in d.region_args.iter().enumerate() {
            self.define(a, ValueDef::RegionArg(i, n), &super::Loc::Text(loc))?;
        }
        let params = self.types(&d.region_args);
        if params != sig.params {
            return Err(self.error(
                loc,
                format!(
                    "the region takes ({}) but '{}' needs ({})",
                    show_types(&params),
                    op.name(),
                    show_types(&sig.params)
                ),
            ));
        }
        Ok(sig.yields)
    }
}
