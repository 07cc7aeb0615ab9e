//! The reference kernels of the region ops ([`super::region`]): what the interpreter runs and
//! compiled code either calls or reproduces exactly. The order in which a region combines
//! elements is part of each op's semantics:
//!
//! - `reduce`: when the region is one binary op of its two arguments that is a reduction
//!   kind (`add`, `mul`, `min`, `max`, `and`, `or`; see [`Body::single_binary`]), the result is
//!   `region(init, reduce.<kind>(x))`, where `reduce.<kind>` has its documented order (see
//!   [`super::kernels`]). Any other region folds the reduced elements in increasing row-major
//!   order of the reduced dimensions: `acc = init; acc = region(acc, x[k])` for each `k`.
//! - `reduce_window`: each output folds its window's elements in increasing row-major order
//!   of the window position, starting from `init`; padding and the holes of base dilation are
//!   skipped (not combined as `init`), as XLA does. A prefix window (JAX's `cumsum`: window
//!   `w >= n`, padding `w - 1` low, stride and dilations 1) gives the same bits as a running
//!   scan, which is how it is computed.
//! - `sort`: a stable merge sort of each slice along `dim` with the region as "less than"
//!   ([`region_fn::merge_sort`]: its comparisons, and so its result for any comparator, are
//!   defined); `is_stable = false` sorts stably too, so results are deterministic.
//!   Comparators that are a strict total order on a key of one operand (see
//!   [`Body::sort_key`]) sort by that key directly, which gives the same permutation.
//!
//! - `scatter`: updates apply in row-major order of the update tensor, each window element
//!   in row-major order of its window; a window that does not fit entirely inside the input
//!   at its start index is skipped. So with repeated indices the last update wins for a
//!   region that returns the update.
//!
//! `sort` and `scatter` run their region through [`region_fn`]'s kernels, which compiled code
//! calls with the region compiled (`jit::region`), so both executors run the same algorithm.

use super::region::{Body, RegionOp, ScatterDims, Window};
use super::region_fn::{self, BodyFn};
use super::{region_fast, scalar, BinaryOp, Op, ReduceOp};
use crate::error::Error;
use crate::tensor::{Data, Scalar, Tensor};
use crate::types::{strides, DType, TensorType};

fn internal(op: &RegionOp, m: &str) -> Error {
    Error::Internal(format!("'{}': {m}", op.name()))
}

/// Runs a region op on operands that passed its type rule, giving tensors of `results`.
pub fn eval(
    op: &RegionOp,
    body: &Body,
    args: &[&Tensor],
    results: &[TensorType],
) -> Result<Vec<Tensor>, Error> {
    let out = match op {
        RegionOp::Reduce { dims } => reduce(body, args, dims, results),
        RegionOp::ReduceWindow(w) => reduce_window(body, args, w, results),
        RegionOp::Sort { dim, .. } => sort(body, args, *dim),
        RegionOp::Scatter(d) => scatter(body, args, d),
    }
    .ok_or_else(|| internal(op, "the operands or the region do not fit the op"))?;
    out.into_iter()
        .zip(results)
        .map(|(data, ty)| {
            Tensor::new(data, ty.shape.clone())
                .ok_or_else(|| internal(op, "a result does not fill its type"))
        })
        .collect()
}

/// Evaluates the body; `None` if it fails, which verification rules out.
struct Runner<'b> {
    body: &'b Body,
    regs: Vec<Scalar>,
    out: Vec<Scalar>,
}

impl<'b> Runner<'b> {
    fn new(body: &'b Body) -> Runner<'b> {
        Runner {
            body,
            regs: Vec::new(),
            out: Vec::new(),
        }
    }

    fn run(&mut self, args: &[Scalar]) -> Option<&[Scalar]> {
        self.body.eval(args, &mut self.regs, &mut self.out)?;
        Some(&self.out)
    }
}

/// The reduction kind of a binary op, for the `reduce` fast path.
pub fn reduce_kind(b: BinaryOp) -> Option<ReduceOp> {
    Some(match b {
        BinaryOp::Add => ReduceOp::Sum,
        BinaryOp::Mul => ReduceOp::Prod,
        BinaryOp::Min => ReduceOp::Min,
        BinaryOp::Max => ReduceOp::Max,
        BinaryOp::And => ReduceOp::And,
        BinaryOp::Or => ReduceOp::Or,
        _ => return None,
    })
}

/// Row-major iteration over every index of `shape`: calls `f` with each index.
fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize]) -> Option<()>) -> Option<()> {
    if shape.contains(&0) {
        return Some(());
    }
    let mut idx = vec![0usize; shape.len()];
    loop {
        f(&idx)?;
        let mut d = shape.len();
        loop {
            if d == 0 {
                return Some(());
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

fn reduce(
    body: &Body,
    args: &[&Tensor],
    dims: &[usize],
    results: &[TensorType],
) -> Option<Vec<Data>> {
    let n = args.len() / 2;
    let (xs, inits) = args.split_at(n);
    let init: Vec<Scalar> = inits.iter().map(|t| t.get(0)).collect::<Option<_>>()?;
    let mut run = Runner::new(body);
    if n == 1 {
        let kind = body.single_binary().and_then(reduce_kind);
        if let Some(k) = kind.filter(|k| k.accepts(xs[0].dtype())) {
            let r = super::kernels::eval_verified(
                &Op::Reduce {
                    op: k,
                    axes: dims.to_vec(),
                },
                &[xs[0]],
                &results[0],
            )
            .ok()?;
            let mut out = Vec::with_capacity(r.len());
            for i in 0..r.len() {
                out.push(run.run(&[init[0], r.get(i)?])?[0]);
            }
            return Data::from_scalars(results[0].dtype, &out).map(|d| vec![d]);
        }
    }
    let shape = xs[0].shape();
    let st = strides(shape);
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !dims.contains(d)).collect();
    let kept_shape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    let red_shape: Vec<usize> = dims.iter().map(|&d| shape[d]).collect();
    let mut outs: Vec<Vec<Scalar>> = vec![Vec::new(); n];
    let mut call = vec![init[0]; 2 * n];
    for_each_index(&kept_shape, |o| {
        let base: usize = o.iter().zip(&kept).map(|(i, &d)| i * st[d]).sum();
        call[..n].copy_from_slice(&init);
        for_each_index(&red_shape, |r| {
            let off = base + r.iter().zip(dims).map(|(i, &d)| i * st[d]).sum::<usize>();
            for k in 0..n {
                call[n + k] = xs[k].get(off)?;
            }
            let acc = run.run(&call)?;
            call[..n].copy_from_slice(acc);
            Some(())
        })?;
        for k in 0..n {
            outs[k].push(call[k]);
        }
        Some(())
    })?;
    outs.iter()
        .zip(results)
        .map(|(v, t)| Data::from_scalars(t.dtype, v))
        .collect()
}

/// The dimension a prefix window scans (see the module doc), if `w` is one.
pub fn prefix_scan_dim(shape: &[usize], w: &Window) -> Option<usize> {
    let mut scan = None;
    for (d, &n) in shape.iter().enumerate() {
        let plain = w.strides[d] == 1 && w.base_dilations[d] == 1 && w.window_dilations[d] == 1;
        if !plain || w.pad_high[d] != 0 {
            return None;
        }
        if w.dims[d] == 1 && w.pad_low[d] == 0 {
            continue;
        }
        if scan.is_some() || w.dims[d] < n || w.pad_low[d] != w.dims[d] - 1 {
            return None;
        }
        scan = Some(d);
    }
    scan
}

fn reduce_window(
    body: &Body,
    args: &[&Tensor],
    w: &Window,
    results: &[TensorType],
) -> Option<Vec<Data>> {
    let n = args.len() / 2;
    let (xs, inits) = args.split_at(n);
    let init: Vec<Scalar> = inits.iter().map(|t| t.get(0)).collect::<Option<_>>()?;
    let shape = xs[0].shape();
    let st = strides(shape);
    let mut run = Runner::new(body);
    let mut call = vec![init[0]; 2 * n];
    let out_shape = &results[0].shape;
    let total = results[0].num_elements();
    let mut outs: Vec<Vec<Scalar>> = vec![Vec::with_capacity(total); n];
    if let Some(s) = prefix_scan_dim(shape, w) {
        // A running scan along `s`: output i is the fold of elements 0..=i, so each output
        // extends the previous fold by one element.
        if let (1, Some(Some(op))) = (n, body.combine()) {
            let mut outer = shape.to_vec();
            outer[s] = 1;
            let mut bases = Vec::new();
            for_each_index(&outer, |o| {
                bases.push(o.iter().zip(&st).map(|(i, t)| i * t).sum());
                Some(())
            })?;
            let out = region_fast::scan(xs[0].data(), init[0], &bases, shape[s], st[s], op)?;
            return Some(vec![out]);
        }
        for k in 0..n {
            outs[k].resize(total, init[k]);
        }
        let mut outer = shape.to_vec();
        outer[s] = 1;
        for_each_index(&outer, |o| {
            let base: usize = o.iter().zip(&st).map(|(i, t)| i * t).sum();
            call[..n].copy_from_slice(&init);
            for i in 0..shape[s] {
                let off = base + i * st[s];
                for k in 0..n {
                    call[n + k] = xs[k].get(off)?;
                }
                let acc = run.run(&call)?;
                call[..n].copy_from_slice(acc);
                for k in 0..n {
                    *outs[k].get_mut(off)? = call[k];
                }
            }
            Some(())
        })?;
    } else {
        for_each_index(out_shape, |o| {
            call[..n].copy_from_slice(&init);
            for_each_index(&w.dims, |k| {
                let mut off = 0usize;
                for d in 0..shape.len() {
                    let p = o[d] * w.strides[d] + k[d] * w.window_dilations[d];
                    let Some(q) = p.checked_sub(w.pad_low[d]) else {
                        return Some(());
                    };
                    if q % w.base_dilations[d] != 0 || q / w.base_dilations[d] >= shape[d] {
                        return Some(());
                    }
                    off += q / w.base_dilations[d] * st[d];
                }
                for j in 0..n {
                    call[n + j] = xs[j].get(off)?;
                }
                let acc = run.run(&call)?;
                call[..n].copy_from_slice(acc);
                Some(())
            })?;
            for j in 0..n {
                outs[j].push(call[j]);
            }
            Some(())
        })?;
    }
    outs.iter()
        .zip(results)
        .map(|(v, t)| Data::from_scalars(t.dtype, v))
        .collect()
}

/// The elements of `t` as `Scalar`s, in row-major order.
fn scalars(t: &Tensor) -> Option<Vec<Scalar>> {
    (0..t.len()).map(|i| t.get(i)).collect()
}

/// The typed sorts of one operand that never run the region (see the module doc): a total
/// order on the operand itself, or a key map of it ([`Body::key_map`]). `None` when neither
/// applies (another comparator, several operands, a dtype the key map does not take).
pub fn sort_typed(body: &Body, args: &[&Tensor], dim: usize) -> Option<Data> {
    let [x] = args else { return None };
    let Some((0, descending, slot)) = body.sort_key() else {
        return None;
    };
    let shape = x.shape();
    let (len, stride) = (*shape.get(dim)?, strides(shape)[dim]);
    let bases = region_fn::row_bases(shape, dim);
    if slot == 0 {
        return region_fast::sort_rows(x.data(), &bases, len, stride, descending);
    }
    // A key computed by a chain of replacements (`jnp.sort`'s comparator), typed.
    let map = body.key_map(slot, 0)?;
    region_fast::sort_rows_by_map(x.data(), &bases, len, stride, descending, &map)
}

fn sort(body: &Body, args: &[&Tensor], dim: usize) -> Option<Vec<Data>> {
    if let Some(out) = sort_typed(body, args, dim) {
        return Some(vec![out]);
    }
    let shape = args.first()?.shape();
    let mut cols: Vec<Vec<Scalar>> = args.iter().map(|t| scalars(t)).collect::<Option<_>>()?;
    let mut f = BodyFn::new(body);
    region_fn::sort(&mut f, body.sort_key(), &mut cols, shape, dim)?;
    cols.iter()
        .zip(args)
        .map(|(v, t)| Data::from_scalars(t.dtype(), v))
        .collect()
}

/// An index element as `i64` (out-of-range values of unsigned 64-bit saturate, so they are
/// out of bounds).
fn index_value(s: Scalar) -> Option<i64> {
    match scalar::convert(s, DType::I64) {
        Scalar::I64(v) => {
            if matches!(s, Scalar::U64(u) if u > i64::MAX as u64) {
                Some(i64::MAX)
            } else {
                Some(v)
            }
        }
        _ => None,
    }
}

fn scatter(body: &Body, args: &[&Tensor], d: &ScatterDims) -> Option<Vec<Data>> {
    let n = args.len() / 2;
    let (inputs, rest) = args.split_at(n);
    let (idx, updates) = (rest[0], &rest[1..]);
    let pairs = scatter_pairs(inputs[0].shape(), idx, updates[0].shape(), d)?;
    if let (1, Some(c)) = (n, body.combine()) {
        let mut out = inputs[0].data().clone();
        region_fast::apply_pairs(&mut out, updates[0].data(), &pairs, c)?;
        return Some(vec![out]);
    }
    let mut outs: Vec<Vec<Scalar>> = inputs.iter().map(|t| scalars(t)).collect::<Option<_>>()?;
    let ups: Vec<Vec<Scalar>> = updates.iter().map(|t| scalars(t)).collect::<Option<_>>()?;
    region_fn::scatter(&mut BodyFn::new(body), &mut outs, &ups, &pairs)?;
    outs.iter()
        .zip(inputs)
        .map(|(v, t)| Data::from_scalars(t.dtype(), v))
        .collect()
}

/// The (input element, update element) offsets a scatter combines, in the documented order:
/// updates in row-major order of their scatter dimensions, each window in row-major order;
/// windows that do not fit in the input are left out.
pub fn scatter_pairs(
    in_shape: &[usize],
    idx: &Tensor,
    up_shape: &[usize],
    d: &ScatterDims,
) -> Option<Vec<(usize, usize)>> {
    let in_st = strides(in_shape);
    let idx_shape = idx.shape();
    let idx_st = strides(idx_shape);
    let in_rank = in_shape.len();
    let window_in: Vec<usize> = (0..in_rank)
        .filter(|x| !d.inserted_window_dims.contains(x) && !d.input_batching_dims.contains(x))
        .collect();
    let up_scatter: Vec<usize> = (0..up_shape.len())
        .filter(|x| !d.update_window_dims.contains(x))
        .collect();
    let has_vec = d.index_vector_dim < idx_shape.len();
    let vec_len = d.scatter_dims_to_operand_dims.len();
    // The window extent in each input dimension.
    let mut extent = vec![1usize; in_rank];
    for (k, &ud) in d.update_window_dims.iter().enumerate() {
        extent[*window_in.get(k)?] = up_shape[ud];
    }
    let up_st = strides(up_shape);
    let scatter_shape: Vec<usize> = up_scatter.iter().map(|&x| up_shape[x]).collect();
    let window_shape: Vec<usize> = d.update_window_dims.iter().map(|&x| up_shape[x]).collect();
    // Window offsets relative to the window's start, in the input and in the update.
    let mut window = Vec::new();
    for_each_index(&window_shape, |wi| {
        let up: usize = wi
            .iter()
            .zip(&d.update_window_dims)
            .map(|(i, &x)| i * up_st[x])
            .sum();
        let inp: usize = wi.iter().zip(&window_in).map(|(i, &x)| i * in_st[x]).sum();
        window.push((inp, up));
        Some(())
    })?;
    let mut pairs = Vec::new();
    let mut start = vec![0i64; in_rank];
    let mut idx_pos = vec![0usize; idx_shape.len()];
    for_each_index(&scatter_shape, |si| {
        // The start in the input: the index vector, then the batching dimensions.
        start.iter_mut().for_each(|s| *s = 0);
        let mut it = si.iter();
        for (p, slot) in idx_pos.iter_mut().enumerate() {
            if !(has_vec && p == d.index_vector_dim) {
                *slot = *it.next()?;
            }
        }
        for k in 0..vec_len {
            if has_vec {
                idx_pos[d.index_vector_dim] = k;
            }
            let off: usize = idx_pos.iter().zip(&idx_st).map(|(i, s)| i * s).sum();
            let v = index_value(idx.get(off)?)?;
            let od = d.scatter_dims_to_operand_dims[k];
            start[od] = start[od].saturating_add(v);
        }
        for (b, &ib) in d.input_batching_dims.iter().enumerate() {
            let sb = d.scatter_indices_batching_dims[b];
            start[ib] = start[ib].saturating_add(*idx_pos.get(sb)? as i64);
        }
        let fits = (0..in_rank).all(|x| {
            start[x] >= 0
                && (start[x] as u64).saturating_add(extent[x] as u64) <= in_shape[x] as u64
        });
        if !fits {
            return Some(());
        }
        let base_up: usize = si.iter().zip(&up_scatter).map(|(i, &x)| i * up_st[x]).sum();
        let base_in: usize = start.iter().zip(&in_st).map(|(&s, t)| s as usize * t).sum();
        pairs.extend(window.iter().map(|&(i, u)| (base_in + i, base_up + u)));
        Some(())
    })?;
    Some(pairs)
}
