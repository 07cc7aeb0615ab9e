//! Ops that move elements to new positions by a static rule beyond the strided views of
//! `kernels`: `reverse` (StableHLO's, with its type rule and the one definition both
//! executors follow).

use super::TypeError;
use crate::tensor::{Data, Element, Tensor};
use crate::types::{strides, TensorType};

/// The type rule of `reverse`: `dims` are distinct dimensions of the operand, in any order
/// (StableHLO allows that); the type is unchanged.
pub fn infer_reverse(x: &TensorType, dims: &[usize]) -> Result<TensorType, TypeError> {
    for (k, &d) in dims.iter().enumerate() {
        if d >= x.rank() {
            return Err(TypeError(format!(
                "'reverse' dimension {d} is out of range for {x}"
            )));
        }
        if dims[..k].contains(&d) {
            return Err(TypeError(format!(
                "'reverse' dimensions must be distinct, got {dims:?}"
            )));
        }
    }
    Ok(x.clone())
}

/// The element offset of output element 0 and the signed step per index of each dimension
/// for `reverse`: a reversed dimension `d` starts at its last element and steps by
/// `-stride[d]`. The compiled code uses the same numbers.
pub fn reverse_steps(shape: &[usize], dims: &[usize]) -> (usize, Vec<i64>) {
    let st = strides(shape);
    let mut base = 0;
    let mut steps: Vec<i64> = st.iter().map(|&s| s as i64).collect();
    for &d in dims {
        if let (Some(&n), Some(step)) = (shape.get(d), steps.get_mut(d)) {
            base += n.saturating_sub(1) * st[d];
            *step = -*step;
        }
    }
    (base, steps)
}

/// `reverse` of a checked operand.
pub(crate) fn reverse_data(x: &Tensor, dims: &[usize]) -> Data {
    fn go<T: Element>(v: &[T], shape: &[usize], dims: &[usize]) -> Data {
        let n: usize = shape.iter().product();
        let mut out = Vec::with_capacity(n);
        if n > 0 {
            let (base, steps) = reverse_steps(shape, dims);
            let mut idx = vec![0usize; shape.len()];
            let mut at = base as i64;
            for _ in 0..n {
                out.push(v[at as usize]);
                // Advance the output index like an odometer, keeping `at` in step with it.
                for d in (0..shape.len()).rev() {
                    idx[d] += 1;
                    at += steps[d];
                    if idx[d] < shape[d] {
                        break;
                    }
                    at -= steps[d] * shape[d] as i64;
                    idx[d] = 0;
                }
            }
        }
        T::into_data(out)
    }
    crate::match_data!(x.data(), |v| go(v, x.shape(), dims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::kernels::eval;
    use crate::ops::Op;
    use crate::types::DType;

    fn rev(x: &Tensor, dims: &[usize]) -> Tensor {
        let op = Op::Reverse {
            dims: dims.to_vec(),
        };
        eval(&op, &[x], &x.ty()).unwrap()
    }

    #[test]
    fn reverse_any_dimensions() {
        let x = Tensor::from_vec((0..6).collect::<Vec<i32>>(), vec![2, 3]).unwrap();
        let m = |v: Vec<i32>| Tensor::from_vec(v, vec![2, 3]).unwrap();
        assert_eq!(rev(&x, &[]), x);
        assert_eq!(rev(&x, &[1]), m(vec![2, 1, 0, 5, 4, 3]));
        assert_eq!(rev(&x, &[0]), m(vec![3, 4, 5, 0, 1, 2]));
        assert_eq!(rev(&x, &[1, 0]), m(vec![5, 4, 3, 2, 1, 0]));
        let e = Tensor::from_vec(Vec::<f32>::new(), vec![0, 3]).unwrap();
        assert_eq!(rev(&e, &[0, 1]), e);
        let s = Tensor::scalar(2.5f64);
        assert_eq!(rev(&s, &[]), s);
    }

    #[test]
    fn reverse_type_errors() {
        let t = TensorType::new(DType::F32, vec![2, 3]);
        assert!(infer_reverse(&t, &[2]).is_err());
        assert!(infer_reverse(&t, &[1, 1]).is_err());
        assert_eq!(infer_reverse(&t, &[1, 0]).unwrap(), t);
    }
}
