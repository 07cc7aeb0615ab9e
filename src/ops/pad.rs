//! StableHLO's `pad`: the type rule and the one definition both executors follow.
//!
//! graphjit's `pad` takes non-negative edge padding (`low`, `high`) and interior padding; a
//! negative edge padding in StableHLO (a crop) is this op followed by a `slice`, which the
//! builders and the importer emit ([`split_negative`]). The result starts as the padding
//! value everywhere, and operand element `i` lands at `low[d] + i[d] * (interior[d] + 1)` in
//! each dimension `d`; the compiled code fills and scatters with the same numbers
//! ([`pad_placement`]).

use super::kernels::put_data;
use super::TypeError;
use crate::tensor::{Data, Tensor};
use crate::types::{strides, TensorType};

fn err<T>(m: String) -> Result<T, TypeError> {
    Err(TypeError(m))
}

/// The type rule of `pad(operand, padding_value)`.
pub fn infer_pad(
    args: &[&TensorType],
    low: &[usize],
    high: &[usize],
    interior: &[usize],
) -> Result<TensorType, TypeError> {
    let [x, v] = args else {
        return err(format!(
            "'pad' takes an operand and a padding value, got {} operand(s)",
            args.len()
        ));
    };
    if !v.is_scalar() || v.dtype != x.dtype {
        return err(format!(
            "'pad' needs a scalar padding value of the operand's dtype {}, got {v}",
            x.dtype
        ));
    }
    let r = x.rank();
    if low.len() != r || high.len() != r || interior.len() != r {
        return err(format!(
            "'pad' needs low, high and interior of {r} entries each for {x}"
        ));
    }
    let mut shape = Vec::with_capacity(r);
    for d in 0..r {
        let n = x.shape[d];
        let inner = n
            .saturating_sub(1)
            .checked_mul(interior[d])
            .and_then(|i| i.checked_add(n))
            .and_then(|i| i.checked_add(low[d]))
            .and_then(|i| i.checked_add(high[d]));
        match inner {
            Some(s) => shape.push(s),
            None => return err(format!("'pad' of {x}: dimension {d} overflows")),
        }
    }
    let t = TensorType::new(x.dtype, shape);
    t.check_size().map_err(TypeError)?;
    Ok(t)
}

/// Where the operand's elements go in the result of type `out`: the element offset of
/// operand element 0 and the result stride of each operand dimension.
pub fn pad_placement(out: &TensorType, low: &[usize], interior: &[usize]) -> (usize, Vec<usize>) {
    let st = strides(&out.shape);
    let offset = low.iter().zip(&st).map(|(l, s)| l * s).sum();
    let steps = st.iter().zip(interior).map(|(s, i)| s * (i + 1)).collect();
    (offset, steps)
}

/// `pad` of checked operands.
pub(crate) fn pad_data(
    x: &Tensor,
    v: &Tensor,
    low: &[usize],
    interior: &[usize],
    out: &TensorType,
) -> Option<Data> {
    let fill = Tensor::full(v.get(0)?, out.shape.clone());
    let mut data = fill.data().clone();
    if x.is_empty() {
        return Some(data);
    }
    let (offset, steps) = pad_placement(out, low, interior);
    put_data(&mut data, offset, x.shape(), &steps, x.data())?;
    Some(data)
}

/// StableHLO's signed edge padding split into graphjit's: the non-negative padding and, per
/// dimension, the `(start, limit)` of the slice that removes the negative part from the padded
/// result (`None` when nothing is cropped). `shape` is the operand's; the padded size of a
/// dimension is checked to stay non-negative, as the spec requires.
pub fn split_negative(
    shape: &[usize],
    low: &[i64],
    high: &[i64],
    interior: &[usize],
) -> Result<SplitPad, String> {
    let r = shape.len();
    if low.len() != r || high.len() != r || interior.len() != r {
        return Err(format!(
            "pad needs low, high and interior of {r} entries each"
        ));
    }
    let mut out = SplitPad {
        low: Vec::with_capacity(r),
        high: Vec::with_capacity(r),
        crop: None,
    };
    let mut start = Vec::with_capacity(r);
    let mut limit = Vec::with_capacity(r);
    for d in 0..r {
        let n = shape[d] as i128;
        let inner = n + (n - 1).max(0) * interior[d] as i128;
        let total = inner + low[d] as i128 + high[d] as i128;
        if total < 0 {
            return Err(format!(
                "pad of dimension {d} (size {}) with low {} and high {} leaves a negative size",
                shape[d], low[d], high[d]
            ));
        }
        let (lo, hi) = (low[d].max(0) as usize, high[d].max(0) as usize);
        out.low.push(lo);
        out.high.push(hi);
        let padded = inner as usize + lo + hi;
        let s = (-low[d]).max(0) as usize;
        let e = padded - (-high[d]).max(0) as usize;
        start.push(s);
        limit.push(e.max(s));
    }
    if low.iter().chain(high).any(|&p| p < 0) {
        out.crop = Some((start, limit));
    }
    Ok(out)
}

/// Signed StableHLO padding as graphjit's `pad` and an optional `slice` (see
/// [`split_negative`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitPad {
    pub low: Vec<usize>,
    pub high: Vec<usize>,
    /// The slice `(start, limit)` that crops the padded result, if any padding is negative.
    pub crop: Option<(Vec<usize>, Vec<usize>)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::kernels::eval;
    use crate::ops::Op;
    use crate::types::DType;

    #[test]
    fn pad_with_edges_and_interior() {
        let x = Tensor::from_vec(vec![1i32, 2, 3, 4], vec![2, 2]).unwrap();
        let v = Tensor::scalar(0i32);
        let op = Op::Pad {
            low: vec![1, 0],
            high: vec![0, 2],
            interior: vec![1, 1],
        };
        let ty = TensorType::new(DType::I32, vec![4, 5]);
        let got = eval(&op, &[&x, &v], &ty).unwrap();
        #[rustfmt::skip]
        let want = vec![
            0, 0, 0, 0, 0,
            1, 0, 2, 0, 0,
            0, 0, 0, 0, 0,
            3, 0, 4, 0, 0,
        ];
        assert_eq!(got, Tensor::from_vec(want, vec![4, 5]).unwrap());
    }

    #[test]
    fn empty_operand_and_type_errors() {
        let e = TensorType::new(DType::F32, vec![0]);
        let s = TensorType::scalar(DType::F32);
        assert_eq!(
            infer_pad(&[&e, &s], &[2], &[1], &[3]).unwrap(),
            TensorType::new(DType::F32, vec![3])
        );
        let i = TensorType::scalar(DType::I32);
        assert!(infer_pad(&[&e, &i], &[0], &[0], &[0]).is_err());
        assert!(infer_pad(&[&e, &s], &[0, 1], &[0], &[0]).is_err());
        let big = TensorType::new(DType::F32, vec![3]);
        assert!(infer_pad(&[&big, &s], &[0], &[0], &[usize::MAX]).is_err());
    }

    #[test]
    fn negative_padding_is_a_crop() {
        let p = split_negative(&[5], &[-2], &[1], &[0]).unwrap();
        assert_eq!((p.low, p.high), (vec![0], vec![1]));
        assert_eq!(p.crop, Some((vec![2], vec![6])));
        let p = split_negative(&[3], &[1], &[-3], &[1]).unwrap();
        // Padded: 1 + 5 = 6 elements, then the last 3 removed.
        assert_eq!(p.crop, Some((vec![0], vec![3])));
        assert!(split_negative(&[2], &[-2], &[-1], &[0]).is_err());
        assert_eq!(split_negative(&[2], &[1], &[1], &[0]).unwrap().crop, None);
    }
}
