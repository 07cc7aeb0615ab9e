//! Which `while` loops can be interchanged with their element loop, and in what groups:
//! the conditions of `super` (the module documentation) checked on the IR, and the group size
//! from the registers a body's live values leave.

use cranelift_codegen::ir as clir;

use super::super::fused::LeafSrc;
use super::super::Lowerer;
use crate::ir::{Function, Inst, Value};
use crate::jit::isel::vector_type;
use crate::jit::plan::EwOp;
use crate::ops::{Op, UnaryOp};
use crate::types::TensorType;

/// The vector registers of x86-64 (`xmm0`-`xmm15`), which a group's vectors, its pinned
/// constants and its temporaries share.
const VECTOR_REGISTERS: usize = 16;

/// The constants a group keeps in registers, as a fused loop does (`fused::PINNED_CONSTANTS`):
/// more would only be spilled.
pub(super) const PINNED_SPLATS: usize = 4;

/// How an interchangeable `while` is laid out in groups.
pub(super) struct Layout {
    /// The elements of every carried tensor (all have one shape).
    pub(super) n: u64,
    /// The vectors of each carried tensor in one group.
    pub(super) k: usize,
    /// The elements in one vector.
    pub(super) lanes: usize,
}

impl Lowerer<'_, '_> {
    /// The scalar of a splat leaf (a splat constant or a broadcast scalar read in place).
    pub(super) fn splat_leaf(&self, v: Value) -> Option<clir::Value> {
        match self.leaf_srcs.get(v.index()) {
            Some(Some(LeafSrc::Splat(s))) => Some(*s),
            _ => None,
        }
    }

    /// Whether `while` `i` can be interchanged, and in what groups: the unchecked entry, 128-bit
    /// vectors enabled, carried tensors of one shape and one lane count, too small to be worth
    /// a parallel loop; a condition computed from scalars only; a body whose tensor values are
    /// elementwise ops, splat constants and broadcast scalars over the carried tensors and splat
    /// leaves, and whose scalars are computed from scalars only; no nested regions.
    pub(super) fn interchange_layout(&self, i: Inst) -> Option<Layout> {
        // A function of more than `HUGE_FUNCTION` instructions is compiled for compile
        // time: its loops stay as the ordinary lowering makes them, without the interchange's
        // extra copies (the scalars' trip count, a last group) and its function of groups.
        let huge = self.f.insts.len() > crate::jit::HUGE_FUNCTION;
        if self.checks.is_some() || !self.simd || huge {
            return None;
        }
        let f = self.f;
        let data = f.inst(i);
        let [cond_r, body_r] = data.regions[..] else {
            return None;
        };
        let first = data
            .region_args
            .iter()
            .find(|&&a| !self.ty(a).is_scalar())?;
        let shape = &self.ty(*first).shape;
        let lanes = vector_type(self.ty(*first).dtype)?.lane_count() as usize;
        let fits = |ty: &TensorType| {
            ty.shape == *shape
                && vector_type(ty.dtype).map(|t| t.lane_count() as usize) == Some(lanes)
        };
        let mut local = vec![false; f.values.len()];
        let mut tensors = 0;
        for &a in &data.region_args {
            let ty = self.ty(a);
            if !ty.is_scalar() {
                if !fits(ty) {
                    return None;
                }
                local[a.index()] = true;
                tensors += 1;
            }
        }
        let n = self.ty(*first).num_elements() as u64;
        if n == 0 {
            return None;
        }
        let all_scalar = |vs: &[Value]| vs.iter().all(|&v| self.ty(v).is_scalar());
        let (cond, body) = (&f.region(cond_r).insts, &f.region(body_r).insts);
        let (cond_yield, cond_insts) = cond.split_last()?;
        if !all_scalar(&f.inst(*cond_yield).args) {
            return None;
        }
        for &c in cond_insts {
            let d = f.inst(c);
            if !d.regions.is_empty() || !all_scalar(&d.args) || !all_scalar(&d.results) {
                return None;
            }
        }
        // A tensor operand must be a tensor of the body (or carried) or a splat leaf.
        let tensor_ok = |v: Value, local: &[bool]| local[v.index()] || self.splat_leaf(v).is_some();
        let mut cheap = true;
        let (body_yield, body_insts) = body.split_last()?;
        for &b in body_insts {
            let d = f.inst(b);
            let [res] = d.results[..] else {
                return None;
            };
            if !d.regions.is_empty() {
                return None;
            }
            let ty = self.ty(res);
            if ty.is_scalar() {
                if !all_scalar(&d.args) {
                    return None;
                }
                continue;
            }
            if !fits(ty) {
                return None;
            }
            match &d.op {
                Op::Const(t) if t.is_splat() => {}
                Op::Broadcast { .. } if all_scalar(&d.args) => {}
                op => {
                    match EwOp::of(op)? {
                        EwOp::Compare(_) => return None,
                        EwOp::Select if !self.ty(d.args[0]).is_scalar() => return None,
                        EwOp::Unary(u) => {
                            cheap &= matches!(
                                u,
                                UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Not | UnaryOp::Sqrt
                            )
                        }
                        _ => {}
                    }
                    for &a in &d.args {
                        let ta = self.ty(a);
                        let operand_ok = ta.is_scalar() || (fits(ta) && tensor_ok(a, &local));
                        if !operand_ok {
                            return None;
                        }
                    }
                }
            }
            local[res.index()] = true;
        }
        for &y in &f.inst(*body_yield).args {
            if !self.ty(y).is_scalar() && !tensor_ok(y, &local) {
                return None;
            }
        }
        // `exp`, `tanh` and the other long ops use many registers of their own: one vector
        // per tensor at a time, as their fused loops do.
        // A group holds as many vectors per tensor as fit in the registers the pinned
        // constants leave, divided by the most tensor values of one element live at once.
        // The more independent chains, the more of the multiply and add latency hides
        // behind throughput (W5: 57.6 us with 8 vectors, 49.9 with 10, 44.9 with 14).
        let k = if cheap {
            let splats = self.loop_splats(body_insts, body_yield);
            let pinned = if splats <= PINNED_SPLATS { splats } else { 0 };
            let width = live_width(f, body_insts, body_yield, &data.region_args).max(tensors);
            ((VECTOR_REGISTERS - pinned) / width).max(1)
        } else {
            1
        };
        // No more vectors than the tensors fill, and of the group sizes within a quarter of
        // that, the one that pads the last group least: padding is work thrown away (W5's
        // 256 vectors: 20 groups of 13, not 19 of 14).
        let vectors = n.div_ceil(lanes as u64);
        let k = k.min(vectors as usize) as u64;
        let k = (k - k / 4..=k)
            .min_by_key(|&c| (vectors.div_ceil(c) * c, std::cmp::Reverse(c)))
            .unwrap_or(1) as usize;
        Some(Layout { n, k, lanes })
    }

    /// How many splat constants the body of an interchanged loop reads (splat leaves from
    /// outside and constants of its own), each once: what `interchanged_group` materializes
    /// before the loop.
    fn loop_splats(&self, insts: &[Inst], yield_i: &Inst) -> usize {
        let f = self.f;
        let mut seen: Vec<Value> = Vec::new();
        for &b in insts.iter().chain(std::iter::once(yield_i)) {
            let d = f.inst(b);
            if let (Op::Const(_), Some(&r)) = (&d.op, d.results.first()) {
                if !self.ty(r).is_scalar() {
                    seen.push(r);
                }
                continue;
            }
            for &a in &d.args {
                if self.splat_leaf(a).is_some() && !seen.contains(&a) {
                    seen.push(a);
                }
            }
        }
        seen.len()
    }
}

/// The most tensor values of one element that are live at once in a loop body: carried
/// tensors and body results, from their definition up to their last use (the yield counts
/// as a use at the end; an operand's register is free for the result of its last use).
/// Splat constants are not counted; they are shared by all elements.
fn live_width(f: &Function, insts: &[Inst], yield_i: &Inst, carried: &[Value]) -> usize {
    let end = insts.len();
    let mut last_use = vec![None; f.values.len()];
    for (p, &b) in insts.iter().chain(std::iter::once(yield_i)).enumerate() {
        for &a in &f.inst(b).args {
            last_use[a.index()] = Some(p);
        }
    }
    // Each tensor value as (defined before position, last used at).
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for &a in carried {
        if !f.ty(a).is_scalar() {
            spans.push((0, last_use[a.index()].unwrap_or(0)));
        }
    }
    for (p, &b) in insts.iter().enumerate() {
        let d = f.inst(b);
        if matches!(d.op, Op::Const(_)) {
            continue;
        }
        for &r in &d.results {
            if !f.ty(r).is_scalar() {
                spans.push((p, last_use[r.index()].unwrap_or(p).max(p)));
            }
        }
    }
    (0..=end)
        .map(|p| spans.iter().filter(|&&(d, u)| d <= p && p < u).count())
        .max()
        .unwrap_or(1)
        .max(1)
}
