//! Dynamic indexing: the type rules and the one definition of `dynamic_slice` and
//! `dynamic_update_slice`, whose runtime start indices are clamped as StableHLO says.
//!
//! Both ops take one scalar integer start index per dimension of the operand. A start is
//! read as a signed integer and clamped to `[0, dim - size]` ([`clamp_start`]), so the window
//! always lies inside the operand: there is no out-of-bounds access and no error at run time,
//! whatever the indices. The compiled code emits the same clamp inline and is tested against
//! this function.

use super::kernels::{gather_data, put_data};
use super::TypeError;
use crate::tensor::{Data, Scalar, Tensor};
use crate::types::{strides, DType, TensorType};

/// The start of a window of `size` elements in a dimension of `dim` elements for the runtime
/// start index `start`: `clamp(start, 0, dim - size)` (StableHLO `dynamic_slice`, C-rules of
/// its semantics). The type rules guarantee `size <= dim`; a larger size gives 0.
pub fn clamp_start(start: i64, dim: usize, size: usize) -> usize {
    let hi = i64::try_from(dim.saturating_sub(size)).unwrap_or(i64::MAX);
    start.clamp(0, hi) as usize
}

/// The value of a start index operand as an `i64` (extended by its signedness); a `u64` of
/// 2^63 or more, which no `i64` holds, reads as `i64::MAX`, so it clamps to the top of its
/// dimension as its value says (not to 0, as its bits read as an `i64` would). `None` for a
/// non-integer.
pub fn start_value(s: Scalar) -> Option<i64> {
    if !s.dtype().is_int() {
        return None;
    }
    if let Scalar::U64(v) = s {
        return Some(i64::try_from(v).unwrap_or(i64::MAX));
    }
    match crate::ops::scalar::convert(s, DType::I64) {
        Scalar::I64(v) => Some(v),
        _ => None,
    }
}

fn err<T>(message: String) -> Result<T, TypeError> {
    Err(TypeError(message))
}

/// Checks that `starts` are one scalar integer per dimension of `operand`, all of one type.
fn check_starts(
    op: &str,
    operand: &TensorType,
    starts: &[&TensorType],
    first: usize,
) -> Result<(), TypeError> {
    if starts.len() != operand.rank() {
        return err(format!(
            "'{op}' needs one start index per dimension of {operand}: {} operand(s) from position {first}, got {}",
            operand.rank(),
            starts.len()
        ));
    }
    for (k, s) in starts.iter().enumerate() {
        if !s.is_scalar() || !s.dtype.is_int() {
            return err(format!(
                "'{op}' start index {k} (operand {}) must be a scalar integer, got {s}",
                first + k
            ));
        }
        if s.dtype != starts[0].dtype {
            return err(format!(
                "'{op}' start indices must have one type, got {} and {s}",
                starts[0]
            ));
        }
    }
    Ok(())
}

/// The type rule of `dynamic_slice`: `(operand, start_0, ..., start_{r-1})` with `sizes`.
pub fn infer_dynamic_slice(args: &[&TensorType], sizes: &[usize]) -> Result<TensorType, TypeError> {
    let Some((operand, starts)) = args.split_first() else {
        return err("'dynamic_slice' needs an operand and its start indices".into());
    };
    check_starts("dynamic_slice", operand, starts, 1)?;
    if sizes.len() != operand.rank() {
        return err(format!(
            "'dynamic_slice' needs {} slice sizes for {operand}, got {sizes:?}",
            operand.rank()
        ));
    }
    for (d, (&s, &n)) in sizes.iter().zip(&operand.shape).enumerate() {
        if s > n {
            return err(format!(
                "'dynamic_slice' size {s} of dimension {d} exceeds the dimension's {n} in {operand}"
            ));
        }
    }
    Ok(TensorType::new(operand.dtype, sizes.to_vec()))
}

/// The type rule of `dynamic_update_slice`: `(operand, update, start_0, ..., start_{r-1})`.
pub fn infer_dynamic_update_slice(args: &[&TensorType]) -> Result<TensorType, TypeError> {
    let [operand, update, starts @ ..] = args else {
        return err("'dynamic_update_slice' needs an operand, an update and start indices".into());
    };
    if update.dtype != operand.dtype || update.rank() != operand.rank() {
        return err(format!(
            "'dynamic_update_slice' needs an update of the operand's dtype and rank: {update} does not fit {operand}"
        ));
    }
    for (d, (&u, &n)) in update.shape.iter().zip(&operand.shape).enumerate() {
        if u > n {
            return err(format!(
                "'dynamic_update_slice' update {update} is larger than {operand} in dimension {d}"
            ));
        }
    }
    check_starts("dynamic_update_slice", operand, starts, 2)?;
    Ok((*operand).clone())
}

/// The clamped starts of a window of shape `sizes` in `shape`, as the element offset of the
/// window's first element. `None` if a start operand is not a scalar integer.
fn window_offset(shape: &[usize], sizes: &[usize], starts: &[&Tensor]) -> Option<usize> {
    let st = strides(shape);
    let mut offset = 0;
    for d in 0..shape.len() {
        let s = start_value(starts.get(d)?.get(0)?)?;
        offset += clamp_start(s, shape[d], sizes[d]) * st[d];
    }
    Some(offset)
}

/// `dynamic_slice` on checked operands; `None` only if the type rule was not checked.
pub(crate) fn dynamic_slice_data(args: &[&Tensor], sizes: &[usize]) -> Option<Data> {
    let (x, starts) = args.split_first()?;
    let offset = window_offset(x.shape(), sizes, starts)?;
    Some(gather_data(x.data(), offset, sizes, &strides(x.shape())))
}

/// `dynamic_update_slice` on checked operands; `None` only if the type rule was not checked.
pub(crate) fn dynamic_update_slice_data(args: &[&Tensor]) -> Option<Data> {
    let [x, u, starts @ ..] = args else {
        return None;
    };
    let offset = window_offset(x.shape(), u.shape(), starts)?;
    let mut out = x.data().clone();
    put_data(&mut out, offset, u.shape(), &strides(x.shape()), u.data())?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::kernels::eval;
    use crate::ops::Op;

    fn ds(x: &Tensor, starts: &[i32], sizes: &[usize]) -> Tensor {
        let st: Vec<Tensor> = starts.iter().map(|&s| Tensor::scalar(s)).collect();
        let mut args = vec![x];
        args.extend(st.iter());
        let ty = TensorType::new(x.dtype(), sizes.to_vec());
        eval(
            &Op::DynamicSlice {
                sizes: sizes.to_vec(),
            },
            &args,
            &ty,
        )
        .unwrap()
    }

    #[test]
    fn clamp_start_keeps_the_window_inside() {
        assert_eq!(clamp_start(-5, 10, 3), 0);
        assert_eq!(clamp_start(4, 10, 3), 4);
        assert_eq!(clamp_start(8, 10, 3), 7);
        assert_eq!(clamp_start(i64::MAX, 10, 3), 7);
        assert_eq!(clamp_start(i64::MIN, 10, 10), 0);
        assert_eq!(clamp_start(3, 0, 0), 0);
    }

    #[test]
    fn dynamic_slice_clamps_at_both_ends() {
        let x = Tensor::from_vec((0..12).collect::<Vec<i32>>(), vec![3, 4]).unwrap();
        let mid = ds(&x, &[1, 1], &[2, 2]);
        assert_eq!(
            mid,
            Tensor::from_vec(vec![5, 6, 9, 10], vec![2, 2]).unwrap()
        );
        let low = ds(&x, &[-7, -1], &[2, 2]);
        assert_eq!(low, Tensor::from_vec(vec![0, 1, 4, 5], vec![2, 2]).unwrap());
        let high = ds(&x, &[9, 3], &[2, 2]);
        assert_eq!(
            high,
            Tensor::from_vec(vec![6, 7, 10, 11], vec![2, 2]).unwrap()
        );
        let empty = ds(&x, &[2, 9], &[3, 0]);
        assert_eq!(empty.shape(), &[3, 0]);
    }

    #[test]
    fn u64_starts_beyond_i64_clamp_to_the_top() {
        let x = Tensor::from_vec((0..5).collect::<Vec<i32>>(), vec![5]).unwrap();
        let s = Tensor::scalar(u64::MAX);
        let ty = TensorType::new(DType::I32, vec![2]);
        let got = eval(&Op::DynamicSlice { sizes: vec![2] }, &[&x, &s], &ty).unwrap();
        assert_eq!(got, Tensor::from_vec(vec![3, 4], vec![2]).unwrap());
        let big = Tensor::scalar(1u64 << 63);
        let u = Tensor::from_vec(vec![9i32], vec![1]).unwrap();
        let got = eval(&Op::DynamicUpdateSlice, &[&x, &u, &big], &x.ty()).unwrap();
        assert_eq!(got, Tensor::from_vec(vec![0, 1, 2, 3, 9], vec![5]).unwrap());
    }

    #[test]
    fn dynamic_update_slice_writes_the_clamped_window() {
        let x = Tensor::from_vec(vec![0.0f32; 5], vec![5]).unwrap();
        let u = Tensor::from_vec(vec![1.0f32, 2.0], vec![2]).unwrap();
        let run = |s: i64| {
            let s = Tensor::scalar(s);
            eval(&Op::DynamicUpdateSlice, &[&x, &u, &s], &x.ty()).unwrap()
        };
        let f = |v: Vec<f32>| Tensor::from_vec(v, vec![5]).unwrap();
        assert_eq!(run(1), f(vec![0.0, 1.0, 2.0, 0.0, 0.0]));
        assert_eq!(run(-3), f(vec![1.0, 2.0, 0.0, 0.0, 0.0]));
        assert_eq!(run(4), f(vec![0.0, 0.0, 0.0, 1.0, 2.0]));
    }

    #[test]
    fn bad_operands_are_type_errors() {
        let x = TensorType::new(DType::F32, vec![4, 4]);
        let i = TensorType::scalar(DType::I32);
        let l = TensorType::scalar(DType::I64);
        let f = TensorType::scalar(DType::F32);
        assert!(infer_dynamic_slice(&[&x, &i], &[1, 1]).is_err());
        assert!(infer_dynamic_slice(&[&x, &i, &l], &[1, 1]).is_err());
        assert!(infer_dynamic_slice(&[&x, &i, &f], &[1, 1]).is_err());
        assert!(infer_dynamic_slice(&[&x, &i, &i], &[5, 1]).is_err());
        assert!(infer_dynamic_slice(&[&x, &i, &i], &[1]).is_err());
        assert_eq!(
            infer_dynamic_slice(&[&x, &i, &i], &[1, 4]).unwrap(),
            TensorType::new(DType::F32, vec![1, 4])
        );
        let big = TensorType::new(DType::F32, vec![5, 1]);
        assert!(infer_dynamic_update_slice(&[&x, &big, &i, &i]).is_err());
        let int = TensorType::new(DType::I32, vec![1, 1]);
        assert!(infer_dynamic_update_slice(&[&x, &int, &i, &i]).is_err());
        assert!(infer_dynamic_update_slice(&[&x]).is_err());
    }
}
