//! NumPy broadcasting and the promotion of Rust literals, shared by the three front ends.
//!
//! The builder ([`crate::graph`]), eager tensors ([`crate::eager`]) and traces
//! ([`crate::trace`]) all accept `a + b` on operands of different shapes and `a * 2.0` with a
//! Rust number. The IR has neither: its binary ops need operands of one type. These rules say,
//! once for all three, which explicit `broadcast` ops and which constants stand for them.

use std::panic::Location;

use crate::error::{Error, VerifyError};
use crate::ops::scalar::convert;
use crate::tensor::{Element, Scalar, Tensor};
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

impl<T: Element> Literal for T {
    fn scalar(self) -> Scalar {
        self.into_scalar()
    }
}

/// The literal `s` as a scalar of `dtype`, or why it cannot be one.
pub(crate) fn literal_as(s: Scalar, dtype: DType) -> Result<Scalar, String> {
    let fail = || {
        Err(format!(
            "the literal {s} ({}) cannot be a {dtype} without changing its value; write a {dtype} literal or convert the tensor",
            s.dtype()
        ))
    };
    if s.dtype() == dtype {
        return Ok(s);
    }
    if s.dtype() == DType::Bool || dtype == DType::Bool {
        return fail();
    }
    let exact = crate::match_scalar!(s, |x| x.to_exact_int());
    if dtype.is_int() {
        // Integers take whole numbers in their range only.
        let in_range = |v: i128| {
            let lo = crate::match_scalar!(dtype.min_value(), |x| x.to_exact_int());
            let hi = crate::match_scalar!(dtype.max_value(), |x| x.to_exact_int());
            lo.is_some_and(|lo| lo <= v) && hi.is_some_and(|hi| v <= hi)
        };
        return match exact {
            Some(v) if in_range(v) => Ok(convert(s, dtype)),
            _ => fail(),
        };
    }
    let c = convert(s, dtype);
    if s.dtype().is_int() {
        // An integer becomes a float only when the float holds exactly that integer.
        let back = crate::match_scalar!(c, |x| x.to_exact_int());
        return if back.is_some() && back == exact {
            Ok(c)
        } else {
            fail()
        };
    }
    // A float literal rounds to a narrower float, as the Rust literal `0.1f32` would.
    Ok(c)
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
