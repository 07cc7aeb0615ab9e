//! StableHLO's `gather`: its dimension numbers, its type rule, and [`GatherPlan`], the one
//! reading of the dimension numbers that both executors follow.
//!
//! A plan says, for every result dimension, whether it walks the batch of start indices or
//! the offset inside the slice, and, for every operand dimension, where its start comes from
//! (a component of the index vector, clamped to `[0, dim - slice_size]` as the spec says, a
//! batching dimension of the result, or nothing). The interpreter evaluates the plan here
//! (`gather_data`); the JIT emits the same arithmetic per element, one load of the operand
//! and one load per start index, never a mask or a comparison against every position.

use super::index::{clamp_start, start_value};
use super::TypeError;
use crate::tensor::{Data, Element, Tensor};
use crate::types::{strides, TensorType};

/// The attributes of `gather` (StableHLO's `GatherDimensionNumbers` and `slice_sizes`;
/// `indices_are_sorted` is only a hint and is not kept).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct GatherDims {
    pub offset_dims: Vec<usize>,
    pub collapsed_slice_dims: Vec<usize>,
    pub operand_batching_dims: Vec<usize>,
    pub start_indices_batching_dims: Vec<usize>,
    pub start_index_map: Vec<usize>,
    pub index_vector_dim: usize,
    pub slice_sizes: Vec<usize>,
}

/// What a result dimension walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultDim {
    /// A batch dimension: its index steps the start-indices tensor by `index_stride`
    /// elements, and it is batch dimension `batch` (in order) of the start indices.
    Batch { index_stride: usize, batch: usize },
    /// An offset inside the slice along operand dimension `operand_dim`.
    Offset { operand_dim: usize },
}

/// Where the start of an operand dimension comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartSrc {
    /// Index-vector component read `component_offset` elements after the batch's first
    /// component, clamped to `[0, hi]`.
    Index { component_offset: usize, hi: usize },
    /// The index of result dimension `result_dim` (an operand batching dimension).
    Batch { result_dim: usize },
    /// No start: 0.
    Zero,
}

/// The dimension numbers of one `gather` read for given operand and indices shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatherPlan {
    pub result_dims: Vec<ResultDim>,
    /// One entry per operand dimension.
    pub starts: Vec<StartSrc>,
    /// The row-major strides of the operand.
    pub operand_strides: Vec<usize>,
    pub result_shape: Vec<usize>,
}

fn err<T>(m: String) -> Result<T, TypeError> {
    Err(TypeError(m))
}

/// Checks that `v` is sorted, free of repeats and below `bound`.
fn sorted_in(what: &str, v: &[usize], bound: usize) -> Result<(), TypeError> {
    for (k, &d) in v.iter().enumerate() {
        if d >= bound {
            return err(format!(
                "'gather' {what} entry {d} is out of range (< {bound})"
            ));
        }
        if k > 0 && v[k - 1] >= d {
            return err(format!(
                "'gather' {what} must be strictly increasing, got {v:?}"
            ));
        }
    }
    Ok(())
}

fn distinct_in(what: &str, v: &[usize], bound: usize) -> Result<(), TypeError> {
    for (k, &d) in v.iter().enumerate() {
        if d >= bound || v[..k].contains(&d) {
            return err(format!(
                "'gather' {what} must be distinct entries below {bound}, got {v:?}"
            ));
        }
    }
    Ok(())
}

impl GatherPlan {
    /// The plan of `gather` on an operand of type `x` and start indices of type `idx`, or
    /// what is wrong with them: the constraints of the StableHLO spec, checked in full.
    pub fn new(x: &TensorType, idx: &TensorType, g: &GatherDims) -> Result<GatherPlan, TypeError> {
        let r = x.rank();
        if !idx.dtype.is_int() {
            return err(format!(
                "'gather' start indices must be integers, got {idx}"
            ));
        }
        let ivd = g.index_vector_dim;
        if ivd > idx.rank() {
            return err(format!(
                "'gather' index_vector_dim {ivd} is out of range for {idx}"
            ));
        }
        // An index_vector_dim equal to the rank means a trailing index vector of one element.
        let ivec = if ivd == idx.rank() { 1 } else { idx.shape[ivd] };
        if g.slice_sizes.len() != r {
            return err(format!(
                "'gather' needs {r} slice sizes for {x}, got {:?}",
                g.slice_sizes
            ));
        }
        for (d, (&s, &n)) in g.slice_sizes.iter().zip(&x.shape).enumerate() {
            if s > n {
                return err(format!(
                    "'gather' slice size {s} of dimension {d} exceeds the dimension's {n} in {x}"
                ));
            }
        }
        sorted_in("collapsed_slice_dims", &g.collapsed_slice_dims, r)?;
        sorted_in("operand_batching_dims", &g.operand_batching_dims, r)?;
        distinct_in("start_index_map", &g.start_index_map, r)?;
        distinct_in(
            "start_indices_batching_dims",
            &g.start_indices_batching_dims,
            idx.rank(),
        )?;
        for &d in &g.collapsed_slice_dims {
            if g.operand_batching_dims.contains(&d) {
                return err(format!(
                    "'gather' dimension {d} is both collapsed and a batching dimension"
                ));
            }
        }
        for &d in g
            .collapsed_slice_dims
            .iter()
            .chain(&g.operand_batching_dims)
        {
            if g.slice_sizes[d] > 1 {
                return err(format!(
                    "'gather' collapsed or batching dimension {d} needs a slice size of at most 1, got {}",
                    g.slice_sizes[d]
                ));
            }
        }
        if g.start_index_map.len() != ivec {
            return err(format!(
                "'gather' start_index_map {:?} needs one entry per index vector component ({ivec})",
                g.start_index_map
            ));
        }
        if let Some(&d) = g
            .start_index_map
            .iter()
            .find(|d| g.operand_batching_dims.contains(d))
        {
            return err(format!(
                "'gather' start_index_map must not name the batching dimension {d}"
            ));
        }
        if g.start_indices_batching_dims.contains(&ivd) {
            return err(format!(
                "'gather' start_indices_batching_dims must not contain index_vector_dim {ivd}"
            ));
        }
        if g.operand_batching_dims.len() != g.start_indices_batching_dims.len() {
            return err(
                "'gather' needs as many operand as start-indices batching dimensions".into(),
            );
        }
        for (&o, &i) in g
            .operand_batching_dims
            .iter()
            .zip(&g.start_indices_batching_dims)
        {
            if x.shape[o] != idx.shape[i] {
                return err(format!(
                    "'gather' batching dimensions {o} of {x} and {i} of {idx} differ in size"
                ));
            }
        }
        // The batch dimensions of the indices: every dimension but the index vector's.
        let idx_strides = strides(&idx.shape);
        let batch: Vec<usize> = (0..idx.rank()).filter(|&d| d != ivd).collect();
        // The operand dimensions that keep an offset in the result, in order.
        let kept: Vec<usize> = (0..r)
            .filter(|d| !g.collapsed_slice_dims.contains(d) && !g.operand_batching_dims.contains(d))
            .collect();
        let rank = batch.len() + kept.len();
        sorted_in("offset_dims", &g.offset_dims, rank.max(1))?;
        if g.offset_dims.len() != kept.len() {
            return err(format!(
                "'gather' offset_dims {:?} must name {} result dimensions (one per slice dimension that is not collapsed or batching)",
                g.offset_dims,
                kept.len()
            ));
        }
        let mut result_dims = Vec::with_capacity(rank);
        let mut result_shape = Vec::with_capacity(rank);
        let (mut nb, mut no) = (0, 0);
        for d in 0..rank {
            if g.offset_dims.contains(&d) {
                let od = kept[no];
                no += 1;
                result_dims.push(ResultDim::Offset { operand_dim: od });
                result_shape.push(g.slice_sizes[od]);
            } else {
                let id = batch[nb];
                result_dims.push(ResultDim::Batch {
                    index_stride: idx_strides[id],
                    batch: id,
                });
                result_shape.push(idx.shape[id]);
                nb += 1;
            }
        }
        let comp_stride = if ivd == idx.rank() {
            0
        } else {
            idx_strides[ivd]
        };
        let mut starts = vec![StartSrc::Zero; r];
        for (k, &d) in g.start_index_map.iter().enumerate() {
            starts[d] = StartSrc::Index {
                component_offset: k * comp_stride,
                hi: x.shape[d] - g.slice_sizes[d],
            };
        }
        for (&o, &i) in g
            .operand_batching_dims
            .iter()
            .zip(&g.start_indices_batching_dims)
        {
            let Some(rd) = result_dims
                .iter()
                .position(|rd| matches!(rd, ResultDim::Batch { batch, .. } if *batch == i))
            else {
                return err(format!(
                    "'gather' batching dimension {i} is not a batch dimension"
                ));
            };
            starts[o] = StartSrc::Batch { result_dim: rd };
        }
        Ok(GatherPlan {
            result_dims,
            starts,
            operand_strides: strides(&x.shape),
            result_shape,
        })
    }
}

/// The type rule of `gather(operand, start_indices)`.
pub fn infer_gather(args: &[&TensorType], g: &GatherDims) -> Result<TensorType, TypeError> {
    let [x, idx] = args else {
        return err(format!(
            "'gather' takes an operand and start indices, got {} operand(s)",
            args.len()
        ));
    };
    let plan = GatherPlan::new(x, idx, g)?;
    Ok(TensorType::new(x.dtype, plan.result_shape))
}

/// `gather` of checked operands: for every result index, in row-major order, the operand
/// element at `start + offset` (see [`GatherPlan`]). `None` only if the type rule was not
/// checked.
pub(crate) fn gather_data(x: &Tensor, idx: &Tensor, g: &GatherDims) -> Option<Data> {
    let plan = GatherPlan::new(&x.ty(), &idx.ty(), g).ok()?;
    let n: usize = plan.result_shape.iter().product();
    let mut offsets = Vec::with_capacity(n);
    if n > 0 {
        let rank = plan.result_shape.len();
        let mut at = vec![0usize; rank];
        for _ in 0..n {
            let base: usize = plan
                .result_dims
                .iter()
                .zip(&at)
                .map(|(rd, &i)| match rd {
                    ResultDim::Batch { index_stride, .. } => i * index_stride,
                    ResultDim::Offset { .. } => 0,
                })
                .sum();
            let mut off = 0usize;
            for (d, s) in plan.starts.iter().enumerate() {
                let start = match *s {
                    StartSrc::Index {
                        component_offset,
                        hi,
                    } => clamp_start(start_value(idx.get(base + component_offset)?)?, hi, 0),
                    StartSrc::Batch { result_dim } => at[result_dim],
                    StartSrc::Zero => 0,
                };
                off += start * plan.operand_strides[d];
            }
            for (rd, &i) in plan.result_dims.iter().zip(&at) {
                if let ResultDim::Offset { operand_dim } = rd {
                    off += i * plan.operand_strides[*operand_dim];
                }
            }
            offsets.push(off);
            // Advance the result index like an odometer, last dimension fastest.
            for d in (0..rank).rev() {
                at[d] += 1;
                if at[d] < plan.result_shape[d] {
                    break;
                }
                at[d] = 0;
            }
        }
    }
    fn pick<T: Element>(v: &[T], offsets: &[usize]) -> Option<Data> {
        let out: Option<Vec<T>> = offsets.iter().map(|&o| v.get(o).copied()).collect();
        Some(T::into_data(out?))
    }
    crate::match_data!(x.data(), |v| pick(v, &offsets))
}

/// The dimension numbers jnp emits for `x[idx]` on a rank-`rank` operand with integer
/// indices of any shape: `idx[..., None]` selects along dimension `axis` whole slices.
pub fn take_dims(operand: &TensorType, idx_rank: usize, axis: usize) -> GatherDims {
    let r = operand.rank();
    let mut slice_sizes = operand.shape.clone();
    if let Some(s) = slice_sizes.get_mut(axis) {
        *s = 1;
    }
    // Result: operand dimensions before `axis`, then the index's, then those after `axis`.
    let offset_dims: Vec<usize> = (0..r)
        .filter(|&d| d != axis)
        .map(|d| if d < axis { d } else { d - 1 + idx_rank })
        .collect();
    GatherDims {
        offset_dims,
        collapsed_slice_dims: vec![axis],
        operand_batching_dims: Vec::new(),
        start_indices_batching_dims: Vec::new(),
        start_index_map: vec![axis],
        index_vector_dim: idx_rank,
        slice_sizes: slice_sizes.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::kernels::eval;
    use crate::ops::Op;
    use crate::types::DType;

    fn run(x: &Tensor, idx: &Tensor, g: GatherDims) -> Tensor {
        let ty = infer_gather(&[&x.ty(), &idx.ty()], &g).unwrap();
        eval(&Op::Gather { dims: g }, &[x, idx], &ty).unwrap()
    }

    #[test]
    fn take_rows_with_clamped_starts_at_both_ends() {
        let x = Tensor::from_vec((0..12).collect::<Vec<i32>>(), vec![4, 3]).unwrap();
        let idx = Tensor::from_vec(vec![2i64, -5, 9, 0], vec![4]).unwrap();
        let g = take_dims(&x.ty(), 1, 0);
        let got = run(&x, &idx, g);
        // Row 2, row 0 (clamped from -5), row 3 (clamped from 9), row 0; each row 3 wide.
        let rows = [2usize, 0, 3, 0];
        let want: Vec<i32> = rows
            .iter()
            .flat_map(|&r| (0..3).map(move |c| (r * 3 + c) as i32))
            .collect();
        assert_eq!(got, Tensor::from_vec(want, vec![4, 3]).unwrap());
    }

    #[test]
    fn take_columns_and_u64_starts_beyond_i64() {
        let x = Tensor::from_vec((0..12).collect::<Vec<i32>>(), vec![3, 4]).unwrap();
        let idx = Tensor::from_vec(vec![u64::MAX, 1], vec![2]).unwrap();
        let g = take_dims(&x.ty(), 1, 1);
        let got = run(&x, &idx, g);
        // Column 3 (u64::MAX clamps to the top, not to 0), then column 1, for each row.
        let want = vec![3, 1, 7, 5, 11, 9];
        assert_eq!(got, Tensor::from_vec(want, vec![3, 2]).unwrap());
    }

    #[test]
    fn batching_dims_pair_each_batch_with_its_operand_slice() {
        // x[b, idx[b]] for b in 0..2: an operand batching dimension 0.
        let x = Tensor::from_vec((0..6).collect::<Vec<i32>>(), vec![2, 3]).unwrap();
        let idx = Tensor::from_vec(vec![2i32, 1], vec![2, 1]).unwrap();
        let g = GatherDims {
            offset_dims: vec![],
            collapsed_slice_dims: vec![1],
            operand_batching_dims: vec![0],
            start_indices_batching_dims: vec![0],
            start_index_map: vec![1],
            index_vector_dim: 1,
            slice_sizes: vec![1, 1],
        };
        assert_eq!(
            run(&x, &idx, g),
            Tensor::from_vec(vec![2, 4], vec![2]).unwrap()
        );
    }

    #[test]
    fn bad_dimension_numbers_are_type_errors() {
        let x = TensorType::new(DType::F32, vec![4, 3]);
        let i = TensorType::new(DType::I32, vec![2, 1]);
        let good = GatherDims {
            offset_dims: vec![1],
            collapsed_slice_dims: vec![0],
            operand_batching_dims: vec![],
            start_indices_batching_dims: vec![],
            start_index_map: vec![0],
            index_vector_dim: 1,
            slice_sizes: vec![1, 3],
        };
        assert_eq!(
            infer_gather(&[&x, &i], &good).unwrap(),
            TensorType::new(DType::F32, vec![2, 3])
        );
        let f = TensorType::new(DType::F32, vec![2, 1]);
        assert!(infer_gather(&[&x, &f], &good).is_err());
        let mut g = good.clone();
        g.slice_sizes = vec![2, 3];
        assert!(infer_gather(&[&x, &i], &g).is_err());
        let mut g = good.clone();
        g.index_vector_dim = 3;
        assert!(infer_gather(&[&x, &i], &g).is_err());
        let mut g = good.clone();
        g.start_index_map = vec![0, 1];
        assert!(infer_gather(&[&x, &i], &g).is_err());
        let mut g = good.clone();
        g.offset_dims = vec![];
        assert!(infer_gather(&[&x, &i], &g).is_err());
        let mut g = good;
        g.slice_sizes = vec![1, 4];
        assert!(infer_gather(&[&x, &i], &g).is_err());
    }
}
