//! Results as JSON (`graphjit run --format json`): each tensor's dtype, shape and row-major
//! values; floats as their shortest round-trip text plus their bit pattern, so NaN signs and
//! payloads survive a trip through JSON, which has no NaN or infinity.

use serde_json::{json, Value};

use crate::tensor::{Scalar, Tensor};

/// One tensor as a JSON object: `name`, `dtype`, `shape`, `values` (flat, row-major) and, for
/// floats, `bits` (hex, e.g. `"0x7fc00000"`); float `values` are strings (`"2.5"`, `"nan"`,
/// `"-inf"`), integers and bools are JSON numbers and booleans.
pub fn tensor_json(name: &str, t: &Tensor) -> Value {
    let n = t.len();
    let mut values = Vec::with_capacity(n);
    let mut bits = Vec::new();
    for i in 0..n {
        let s = t.data().get(i);
        match s {
            Scalar::Bool(v) => values.push(Value::Bool(v)),
            Scalar::I32(v) => values.push(json!(v)),
            Scalar::I64(v) => values.push(json!(v)),
            Scalar::F32(v) => {
                values.push(Value::String(s.to_string()));
                bits.push(Value::String(format!("{:#010x}", v.to_bits())));
            }
            Scalar::F64(v) => {
                values.push(Value::String(s.to_string()));
                bits.push(Value::String(format!("{:#018x}", v.to_bits())));
            }
        }
    }
    let mut obj = json!({
        "name": name,
        "dtype": t.dtype().name(),
        "shape": t.shape(),
        "values": values,
    });
    if t.dtype().is_float() {
        obj["bits"] = Value::Array(bits);
    }
    obj
}

/// The results of a run of `@func` as one JSON object: `{"func": ..., "results": [...]}`.
pub fn tensors_json(func: &str, tensors: &[(&str, &Tensor)]) -> Value {
    json!({
        "func": func,
        "results": tensors.iter().map(|(n, t)| tensor_json(n, t)).collect::<Vec<_>>(),
    })
}
