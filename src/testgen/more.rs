//! Random `dot_general` (batch and contracting dimensions in any position, and a result dtype
//! that may differ from the operands') and `case` (one to three branches, on an index that is
//! often out of range) for the generator.

use super::{Gen, GEN_DTYPES};
use crate::ir::{Region, Value};
use crate::ops::dot_general::{infer_dot_general, DotDims};
use crate::ops::Op;
use crate::tensor::Tensor;
use crate::types::{DType, TensorType};

impl Gen {
    /// A random permutation of `0..n`.
    fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, self.rng.below(i + 1));
        }
        p
    }

    /// `dot_general` of `v` with a new operand whose batch and contracting dimensions sit at
    /// random positions, to the operands' dtype or now and then another numeric one.
    pub(super) fn gen_dot_general(&mut self, r: Region, v: Value, ty: &TensorType) {
        if !ty.dtype.is_numeric() || ty.rank() == 0 || ty.rank() > 3 {
            return;
        }
        let order = self.permutation(ty.rank());
        let nb = self.rng.below(ty.rank().min(2) + 1);
        let nc = self.rng.below(ty.rank() - nb + 1).min(2);
        let (lhs_batch, rest) = order.split_at(nb);
        let lhs_contract = rest[..nc].to_vec();
        // The rhs dimensions: the batch ones, the contracting ones, and zero to two free ones,
        // in a random order.
        let nfree = self.rng.below(3);
        let roles = self.permutation(nb + nc + nfree);
        let mut shape = vec![0; roles.len()];
        let (mut rhs_batch, mut rhs_contract) = (vec![0; nb], vec![0; nc]);
        for (pos, &role) in roles.iter().enumerate() {
            if role < nb {
                rhs_batch[role] = pos;
                shape[pos] = ty.shape[lhs_batch[role]];
            } else if role < nb + nc {
                rhs_contract[role - nb] = pos;
                shape[pos] = ty.shape[lhs_contract[role - nb]];
            } else {
                shape[pos] = 1 + self.rng.below(self.cfg.max_dim);
            }
        }
        let dims = DotDims {
            lhs_batch: lhs_batch.to_vec(),
            rhs_batch,
            lhs_contract,
            rhs_contract,
        };
        let rty = TensorType::new(ty.dtype, shape);
        let out = if self.rng.chance(25) {
            let numeric: Vec<DType> = GEN_DTYPES.into_iter().filter(|d| d.is_numeric()).collect();
            self.rng.pick(&numeric)
        } else {
            ty.dtype
        };
        let declared = TensorType::scalar(out);
        let Ok(res) = infer_dot_general(&[ty, &rty], &dims, Some(&declared)) else {
            return;
        };
        let w = self.value_of(r, &rty);
        self.push1(r, Op::DotGeneral { dims }, vec![v, w], res);
    }

    /// A `case` with one to three branches on a scalar `i32`: an existing one (any value, so
    /// often out of range, which runs the last branch) or a constant from -1 to the count.
    pub(super) fn gen_case(&mut self, r: Region, depth: usize) {
        let i32t = TensorType::scalar(DType::I32);
        let nbranches = 1 + self.rng.below(3);
        let index = match self.any_value(|t| *t == TensorType::scalar(DType::I32)) {
            Some(v) if self.rng.chance(60) => v,
            _ => {
                let k = self.rng.below(nbranches + 2) as i32 - 1;
                self.push1(r, Op::Const(Tensor::scalar(k)), vec![], i32t)
            }
        };
        self.gen_branching(r, depth, Op::Case, index, nbranches);
    }
}
