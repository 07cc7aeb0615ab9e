//! Random region ops for the generator: `reduce` (one input with a small region, or an
//! argmax-style pair with an index), `reduce_window` (random windows, and prefix scans),
//! `sort` (total-order keys, and arbitrary comparators, which need not be consistent) and
//! `scatter` (indices that repeat and leave the bounds).

use super::Gen;
use crate::ir::{Region, Value};
use crate::ops::region::{RegionOp, ScatterDims, Window};
use crate::ops::{BinaryOp, CmpOp, Op};
use crate::tensor::Tensor;
use crate::types::{DType, TensorType};

impl Gen {
    /// Emits one region op on `v` of type `ty` at the end of `r`, when `ty` allows one.
    pub(super) fn region_op(&mut self, r: Region, v: Value, ty: &TensorType) {
        match self.rng.below(4) {
            0 => self.gen_reduce(r, v, ty),
            1 if ty.rank() >= 1 => self.gen_sort(r, v, ty),
            2 if ty.rank() == 1 => self.gen_scatter(r, v, ty),
            3 if ty.rank() >= 1 => self.gen_window(r, v, ty),
            _ => {}
        }
    }

    /// Pushes the region op and its region `(args) { body }`; `body` builds the region from
    /// the region arguments and gives the yielded values. The region's values stay out of
    /// the generator's scopes (regions are isolated).
    fn push_region_op(
        &mut self,
        r: Region,
        op: RegionOp,
        args: Vec<Value>,
        results: Vec<TensorType>,
        params: Vec<TensorType>,
        body: impl FnOnce(&mut Gen, Region, &[Value]) -> Vec<Value>,
    ) -> Vec<Value> {
        let n = results.len();
        let inst = self
            .f
            .push_inst(r, Op::Region(op), args, results, vec![None; n]);
        let np = params.len();
        let pargs = self.f.add_region_args(inst, params, vec![None; np]);
        let region = self.f.add_region();
        let ys = body(self, region, &pargs);
        self.f.push_inst(region, Op::Yield, ys, vec![], vec![]);
        self.f.set_regions(inst, vec![region]);
        let res = self.f.results(inst).to_vec();
        for &x in &res {
            self.define(x);
        }
        res
    }

    /// A rank-0 op in a region (not added to any scope).
    fn scalar_op(&mut self, region: Region, op: Op, args: Vec<Value>, dt: DType) -> Value {
        let i = self
            .f
            .push_inst(region, op, args, vec![TensorType::scalar(dt)], vec![None]);
        self.f.results(i)[0]
    }

    /// A combiner of two values of `dt`: one binary op, sometimes followed by a second one
    /// with a constant (so that fast paths and the general path both run).
    fn combiner(&mut self, region: Region, a: Value, b: Value, dt: DType) -> Value {
        let ops: Vec<BinaryOp> = BinaryOp::ALL
            .iter()
            .copied()
            .filter(|o| {
                o.accepts(dt) && !matches!(o, BinaryOp::Pow | BinaryOp::Div | BinaryOp::Rem)
            })
            .collect();
        if ops.is_empty() {
            return b;
        }
        let o = self.rng.pick(&ops);
        let (x, y) = if self.rng.chance(70) { (a, b) } else { (b, a) };
        let c = self.scalar_op(region, Op::Binary(o), vec![x, y], dt);
        if !self.rng.chance(30) {
            return c;
        }
        let s = super::random_scalar(&mut self.rng, dt);
        let k = self.scalar_op(region, Op::Const(Tensor::from_scalar(s)), vec![], dt);
        let o2 = self.rng.pick(&ops);
        self.scalar_op(region, Op::Binary(o2), vec![c, k], dt)
    }

    fn gen_reduce(&mut self, r: Region, v: Value, ty: &TensorType) {
        let dt = ty.dtype;
        let dims: Vec<usize> = (0..ty.rank()).filter(|_| self.rng.chance(60)).collect();
        let shape: Vec<usize> = (0..ty.rank())
            .filter(|d| !dims.contains(d))
            .map(|d| ty.shape[d])
            .collect();
        let st = TensorType::scalar(dt);
        let init = self.value_of(r, &st);
        if ty.rank() >= 1 && dt != DType::Bool && self.rng.chance(40) {
            // argmax/argmin: (value, index) pairs with a NaN-aware comparator.
            let axis = self.rng.below(ty.rank());
            let ity = TensorType::new(DType::I32, ty.shape.clone());
            let idx = self.push1(r, Op::Iota { axis }, vec![], ity);
            let i0 = self.value_of(r, &TensorType::scalar(DType::I32));
            let out = vec![
                TensorType::new(dt, shape.clone()),
                TensorType::new(DType::I32, shape),
            ];
            let cmp = self.rng.pick(&[CmpOp::Gt, CmpOp::Lt, CmpOp::TotalGt]);
            self.push_region_op(
                r,
                RegionOp::Reduce { dims },
                vec![v, idx, init, i0],
                out,
                vec![
                    st.clone(),
                    TensorType::scalar(DType::I32),
                    st,
                    TensorType::scalar(DType::I32),
                ],
                |g, region, a| {
                    let b = DType::Bool;
                    let better = g.scalar_op(region, Op::Compare(cmp), vec![a[0], a[2]], b);
                    let nan = g.scalar_op(region, Op::Compare(CmpOp::Ne), vec![a[0], a[0]], b);
                    let pick = g.scalar_op(region, Op::Binary(BinaryOp::Or), vec![better, nan], b);
                    let eq = g.scalar_op(region, Op::Compare(CmpOp::Eq), vec![a[0], a[2]], b);
                    let lt = g.scalar_op(region, Op::Compare(CmpOp::Lt), vec![a[1], a[3]], b);
                    let tie = g.scalar_op(region, Op::Binary(BinaryOp::And), vec![eq, lt], b);
                    let first = g.scalar_op(region, Op::Binary(BinaryOp::Or), vec![pick, tie], b);
                    let val = g.scalar_op(region, Op::Select, vec![pick, a[0], a[2]], dt);
                    let ix = g.scalar_op(region, Op::Select, vec![first, a[1], a[3]], DType::I32);
                    vec![val, ix]
                },
            );
            return;
        }
        self.push_region_op(
            r,
            RegionOp::Reduce { dims },
            vec![v, init],
            vec![TensorType::new(dt, shape)],
            vec![st.clone(), st],
            |g, region, a| vec![g.combiner(region, a[0], a[1], dt)],
        );
    }

    fn gen_sort(&mut self, r: Region, v: Value, ty: &TensorType) {
        let dt = ty.dtype;
        let dim = self.rng.below(ty.rank());
        let ity = TensorType::new(DType::I32, ty.shape.clone());
        let idx = self.push1(r, Op::Iota { axis: dim }, vec![], ity.clone());
        let st = TensorType::scalar(dt);
        let it = TensorType::scalar(DType::I32);
        let cmp = self.rng.pick(&CmpOp::ALL);
        let on_index = self.rng.chance(20);
        let stable = self.rng.chance(50);
        self.push_region_op(
            r,
            RegionOp::Sort { dim, stable },
            vec![v, idx],
            vec![ty.clone(), ity],
            vec![st.clone(), st, it.clone(), it],
            |g, region, a| {
                let (l, rr) = if on_index { (a[2], a[3]) } else { (a[0], a[1]) };
                vec![g.scalar_op(region, Op::Compare(cmp), vec![l, rr], DType::Bool)]
            },
        );
    }

    fn gen_scatter(&mut self, r: Region, v: Value, ty: &TensorType) {
        let dt = ty.dtype;
        let n = ty.shape[0] as i64;
        if self.rng.chance(30) {
            // `x.at[i].set(s)` as JAX writes it for one index: indices `[1]`, index vector
            // dimension 0, a rank-0 update.
            let i = (self.rng.below(n as usize + 4) as i64 - 2) as i32;
            let ity = TensorType::new(DType::I32, vec![1]);
            let idx = self.push1(
                r,
                Op::Const(
                    Tensor::from_vec(vec![i], vec![1]).unwrap_or_else(|| Tensor::zeros(&ity)),
                ),
                vec![],
                ity,
            );
            let st = TensorType::scalar(dt);
            let u = self.value_of(r, &st);
            self.push_region_op(
                r,
                RegionOp::Scatter(ScatterDims {
                    update_window_dims: vec![],
                    inserted_window_dims: vec![0],
                    input_batching_dims: vec![],
                    scatter_indices_batching_dims: vec![],
                    scatter_dims_to_operand_dims: vec![0],
                    index_vector_dim: 0,
                }),
                vec![v, idx, u],
                vec![ty.clone()],
                vec![st.clone(), st],
                |g, region, a| vec![g.combiner(region, a[0], a[1], dt)],
            );
            return;
        }
        let m = 1 + self.rng.below(self.cfg.max_dim + 2);
        let ix: Vec<i32> = (0..m)
            .map(|_| (self.rng.below(n as usize + 4) as i64 - 2) as i32)
            .collect();
        let ity = TensorType::new(DType::I32, vec![m, 1]);
        let it = Tensor::from_vec(ix, vec![m, 1]).unwrap_or_else(|| Tensor::zeros(&ity));
        let idx = self.push1(r, Op::Const(it), vec![], ity);
        let uty = TensorType::new(dt, vec![m]);
        let u = self.value_of(r, &uty);
        let st = TensorType::scalar(dt);
        let replace = self.rng.chance(30);
        self.push_region_op(
            r,
            RegionOp::Scatter(ScatterDims {
                update_window_dims: vec![],
                inserted_window_dims: vec![0],
                input_batching_dims: vec![],
                scatter_indices_batching_dims: vec![],
                scatter_dims_to_operand_dims: vec![0],
                index_vector_dim: 1,
            }),
            vec![v, idx, u],
            vec![ty.clone()],
            vec![st.clone(), st],
            |g, region, a| {
                if replace {
                    vec![a[1]]
                } else {
                    vec![g.combiner(region, a[0], a[1], dt)]
                }
            },
        );
    }

    fn gen_window(&mut self, r: Region, v: Value, ty: &TensorType) {
        let dt = ty.dtype;
        let rank = ty.rank();
        let scan = self.rng.chance(40);
        let mut w = Window {
            dims: vec![1; rank],
            strides: vec![1; rank],
            base_dilations: vec![1; rank],
            window_dilations: vec![1; rank],
            pad_low: vec![0; rank],
            pad_high: vec![0; rank],
        };
        if scan {
            let d = self.rng.below(rank);
            let n = ty.shape[d].max(1);
            w.dims[d] = n;
            w.pad_low[d] = n - 1;
        } else {
            for d in 0..rank {
                w.dims[d] = 1 + self.rng.below(3);
                w.strides[d] = 1 + self.rng.below(2);
                w.base_dilations[d] = 1 + self.rng.below(2);
                w.window_dilations[d] = 1 + self.rng.below(2);
                w.pad_low[d] = self.rng.below(3);
                w.pad_high[d] = self.rng.below(3);
            }
        }
        let mut shape = Vec::with_capacity(rank);
        for d in 0..rank {
            match crate::ops::region::window_out(ty.shape[d], &w, d) {
                Some(k) => shape.push(k),
                None => return,
            }
        }
        let st = TensorType::scalar(dt);
        let init = self.value_of(r, &st);
        self.push_region_op(
            r,
            RegionOp::ReduceWindow(w),
            vec![v, init],
            vec![TensorType::new(dt, shape)],
            vec![st.clone(), st],
            |g, region, a| vec![g.combiner(region, a[0], a[1], dt)],
        );
    }
}
