//! Preparing `case`: a chain of compare-and-branch instructions, one per branch but the last.

use super::super::{scalar_to_reg, Instr, Slot};
use super::{Compiler, MakeCompare, Transfer};
use crate::error::Error;
use crate::ir::Inst;
use crate::ops::scalar::with_dtype;
use crate::ops::CmpOp;
use crate::types::{DType, TensorType};

impl Compiler<'_> {
    /// `case`: for each branch but the last, a compare-and-branch of the index with the
    /// branch's number skips it unless they are equal; the last branch runs when none matched
    /// (an out-of-range index, as StableHLO says). Every branch moves its yields into the
    /// same result slots and jumps to the end.
    pub(super) fn compile_case(&mut self, inst: Inst, arg_slots: &[Slot]) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let Some(&Slot::Scalar(idx, _)) = arg_slots.first() else {
            return Err(self.err(self.describe(inst), "needs a scalar i32 index"));
        };
        let result_tys: Vec<TensorType> = d.results.iter().map(|&v| f.ty(v).clone()).collect();
        let result_slots: Vec<Slot> = result_tys.iter().map(|t| self.new_slot(t)).collect();
        let mut jumps = Vec::new();
        let n = d.regions.len();
        for (k, &r) in d.regions.iter().enumerate() {
            let skip = if k + 1 < n {
                let Slot::Scalar(kreg, _) = self.new_slot(&TensorType::scalar(DType::I32)) else {
                    return Err(
                        self.err(self.describe(inst), "has no register for a branch number")
                    );
                };
                self.scalar_init[kreg as usize] =
                    scalar_to_reg(crate::tensor::Scalar::I32(k as i32));
                self.code.push(Instr::BinaryBranchIfFalse {
                    f: with_dtype(DType::I32, MakeCompare(CmpOp::Eq)),
                    a: idx,
                    b: kreg,
                    target: u32::MAX,
                });
                Some(self.code.len() - 1)
            } else {
                None
            };
            // The verifier checked the index type and that every branch yields the result
            // types.
            let (term, vals) = self.compile_region(r)?;
            let mut transfers = Vec::with_capacity(vals.len());
            for (i, &v) in vals.iter().enumerate() {
                transfers.push(Transfer {
                    src: self.slot(v, term)?,
                    dst: result_slots[i],
                    movable: self.movable(v, term, &vals),
                });
            }
            self.parallel_move(transfers);
            self.end_scope(r);
            if let Some(s) = skip {
                jumps.push(self.code.len());
                self.code.push(Instr::Jump { target: u32::MAX });
                let here = self.code.len() as u32;
                if let Some(Instr::BinaryBranchIfFalse { target, .. }) = self.code.get_mut(s) {
                    *target = here;
                }
            }
        }
        let end = self.code.len() as u32;
        for j in jumps {
            if let Some(Instr::Jump { target }) = self.code.get_mut(j) {
                *target = end;
            }
        }
        for (&res, &slot) in d.results.iter().zip(&result_slots) {
            self.define(res, slot);
        }
        Ok(())
    }
}
