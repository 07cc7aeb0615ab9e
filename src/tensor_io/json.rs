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
    let float = t.dtype().is_float();
    let width = t.dtype().size_bytes();
    let raw = t.data().as_bytes();
    let mut values = Vec::with_capacity(n);
    let mut bits = Vec::with_capacity(if float { n } else { 0 });
    for i in 0..n {
        let s = t.data().get(i);
        if float {
            values.push(Value::String(s.to_string()));
            bits.push(Value::String(format!(
                "{:#0w$x}",
                element_bits(&raw[i * width..(i + 1) * width]),
                w = 2 + 2 * width
            )));
        } else if let Scalar::Bool(v) = s {
            values.push(Value::Bool(v));
        } else {
            values.push(integer_json(s));
        }
    }
    let mut obj = json!({
        "name": name,
        "dtype": t.dtype().name(),
        "shape": t.shape(),
        "values": values,
    });
    if float {
        obj["bits"] = Value::Array(bits);
    }
    obj
}

/// The bit pattern of one element from its bytes in memory (the machine's byte order).
fn element_bits(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    if cfg!(target_endian = "little") {
        word[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(word)
    } else {
        word[8 - bytes.len()..].copy_from_slice(bytes);
        u64::from_be_bytes(word)
    }
}

/// An integer of any width as an exact JSON number (serde_json keeps all 64 bits of an `i64`
/// or a `u64`, though a JavaScript reader would round those beyond 2^53).
fn integer_json(s: Scalar) -> Value {
    let v = crate::match_scalar!(s, |x| crate::tensor::Element::to_exact_int(x)).unwrap_or(0);
    match (i64::try_from(v), u64::try_from(v)) {
        (Ok(i), _) => json!(i),
        (_, Ok(u)) => json!(u),
        _ => Value::Null,
    }
}

/// The results of a run of `@func` as one JSON object: `{"func": ..., "results": [...]}`.
pub fn tensors_json(func: &str, tensors: &[(&str, &Tensor)]) -> Value {
    json!({
        "func": func,
        "results": tensors.iter().map(|(n, t)| tensor_json(n, t)).collect::<Vec<_>>(),
    })
}
