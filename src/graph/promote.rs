//! NumPy broadcasting and the promotion of Rust literals, shared by the three front ends.
//!
//! The builder ([`crate::graph`]), eager tensors ([`crate::eager`]) and traces
//! ([`crate::trace`]) all accept `a + b` on operands of different shapes and `a * 2.0` with a
//! Rust number. The IR has neither: its binary ops need operands of one type. These rules say,
//! once for all three, which explicit `broadcast` ops and which constants stand for them.

use std::panic::Location;

use crate::error::{Error, VerifyError};
use crate::tensor::{Scalar, Tensor};
use crate::types::{DType, TensorType};

/// The shape two operands broadcast to under NumPy's rule (dimensions aligned at the right;
/// each pair equal or one of them 1), or `None` when they do not broadcast.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        // Dimension `i` counted from the right; a missing dimension acts as size 1.
        let da = if i < a.len() { a[a.len() - 1 - i] } else { 1 };
        let db = if i < b.len() { b[b.len() - 1 - i] } else { 1 };
        out[rank - 1 - i] = match (da, db) {
            _ if da == db => da,
            (1, d) | (d, 1) => d,
            _ => return None,
        };
    }
    Some(out)
}

/// The `dims` of the `broadcast` that stretches an operand of rank `from` to rank `to` under
/// NumPy's rule: operand dimensions map to the trailing result dimensions.
pub(crate) fn trailing_dims(from: usize, to: usize) -> Vec<usize> {
    (to - from..to).collect()
}

/// A Rust number or boolean written next to a tensor, as in `a * 2.0` or `1 + b`.
///
/// It becomes a constant of the tensor's dtype when that loses nothing: integers must be
/// exactly representable, a float literal becomes an `f32` by rounding (as the Rust literal
/// `0.1f32` would), floats become integers only when they are whole numbers in range, and
/// booleans go only with `bool` tensors. Anything else is an error, never a silent cast.
pub trait Literal: Copy {
    /// The literal as a scalar of its own Rust type.
    fn scalar(self) -> Scalar;
}

macro_rules! literal {
    ($($t:ty => $v:ident),*) => {
        $(impl Literal for $t {
            fn scalar(self) -> Scalar {
                Scalar::$v(self)
            }
        })*
    };
}

literal!(bool => Bool, i32 => I32, i64 => I64, f32 => F32, f64 => F64);

/// The literal `s` as a scalar of `dtype`, or why it cannot be one.
pub(crate) fn literal_as(s: Scalar, dtype: DType) -> Result<Scalar, String> {
    let fail = || {
        Err(format!(
            "the literal {s} ({}) cannot be a {dtype} without changing its value; write a {dtype} literal or convert the tensor",
            s.dtype()
        ))
    };
    let whole = |v: f64| -> Option<i64> {
        // 2^63 is exactly representable; anything at or beyond it does not fit in i64.
        (v.fract() == 0.0 && v >= -(2f64.powi(63)) && v < 2f64.powi(63)).then_some(v as i64)
    };
    let int = match s {
        Scalar::Bool(b) => {
            return if dtype == DType::Bool {
                Ok(Scalar::Bool(b))
            } else {
                fail()
            }
        }
        Scalar::I32(v) => Some(i64::from(v)),
        Scalar::I64(v) => Some(v),
        Scalar::F32(_) | Scalar::F64(_) => None,
    };
    let float = match s {
        Scalar::F32(v) => f64::from(v),
        Scalar::F64(v) => v,
        _ => 0.0,
    };
    Ok(match (dtype, int) {
        (DType::Bool, _) => return fail(),
        (DType::I32, Some(v)) => match i32::try_from(v) {
            Ok(v) => Scalar::I32(v),
            Err(_) => return fail(),
        },
        (DType::I64, Some(v)) => Scalar::I64(v),
        (DType::F32, Some(v)) if (v as f32) as i64 == v && v != i64::MAX => Scalar::F32(v as f32),
        (DType::F64, Some(v)) if (v as f64) as i64 == v && v != i64::MAX => Scalar::F64(v as f64),
        (DType::F32 | DType::F64, Some(_)) => return fail(),
        (DType::I32, None) => match whole(float).and_then(|v| i32::try_from(v).ok()) {
            Some(v) => Scalar::I32(v),
            None => return fail(),
        },
        (DType::I64, None) => match whole(float) {
            Some(v) => Scalar::I64(v),
            None => return fail(),
        },
        (DType::F32, None) => Scalar::F32(float as f32),
        (DType::F64, None) => match s {
            // Widening an f32 is exact; an f64 literal is taken as it is.
            Scalar::F32(v) => Scalar::F64(f64::from(v)),
            _ => Scalar::F64(float),
        },
    })
}

/// A rank-0 tensor holding the literal as a `dtype`.
pub(crate) fn literal_tensor(s: Scalar, dtype: DType) -> Result<Tensor, String> {
    literal_as(s, dtype).map(Tensor::from_scalar)
}

/// `file:line:col` of a caller location.
pub(crate) fn where_(loc: &Location<'_>) -> String {
    format!("{}:{}:{}", loc.file(), loc.line(), loc.column())
}

/// A front-end type error: the op, where the user built it, and what is wrong, in the
/// crate's error type. `func` is the graph or trace being built (`eager` for eager ops).
pub(crate) fn op_error(func: &str, op: &str, loc: &Location<'_>, message: String) -> Error {
    Error::Verify(VerifyError {
        func: func.to_string(),
        location: format!("'{op}' built at {}", where_(loc)),
        message,
    })
}

/// The operand types as `(i32, f32[3])`, for error messages.
pub(crate) fn types_list(tys: &[&TensorType]) -> String {
    let parts: Vec<String> = tys.iter().map(|t| t.to_string()).collect();
    format!("({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_broadcast_like_numpy() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shapes(&[], &[2, 2]), Some(vec![2, 2]));
        assert_eq!(broadcast_shapes(&[3], &[4]), None);
        assert_eq!(broadcast_shapes(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(trailing_dims(1, 3), vec![2]);
    }

    #[test]
    fn literals_convert_only_exactly() {
        assert_eq!(literal_as(Scalar::F64(2.0), DType::I32), Ok(Scalar::I32(2)));
        assert!(literal_as(Scalar::F64(2.5), DType::I32).is_err());
        assert_eq!(literal_as(Scalar::I32(2), DType::F32), Ok(Scalar::F32(2.0)));
        assert_eq!(
            literal_as(Scalar::F64(0.1), DType::F32),
            Ok(Scalar::F32(0.1f32))
        );
        assert!(literal_as(Scalar::I64(i64::MAX), DType::F64).is_err());
        assert!(literal_as(Scalar::I64(1 << 40), DType::I32).is_err());
        assert!(literal_as(Scalar::Bool(true), DType::I32).is_err());
        assert!(literal_as(Scalar::I32(1), DType::Bool).is_err());
        assert!(literal_as(Scalar::F64(1e30), DType::I64).is_err());
    }
}
