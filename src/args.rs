//! Run arguments written as text: literals (`10`, `[1, 2]`) and generators (`rand:f32[1024]`).
//!
//! The CLI and the `; run:` lines of IR files use the same syntax, so that a benchmark input of
//! a million elements needs no data file:
//!
//! | form | meaning |
//! | --- | --- |
//! | `0`, `2.5`, `true`, `[1, 2, 3]`, `[[1, 2], [3, 4]]` | a literal; its dtype is the parameter's |
//! | `zeros:TYPE`, `ones:TYPE` | all elements 0 or 1 (`false`/`true` for bool) |
//! | `full(V):TYPE` | all elements `V` |
//! | `iota:TYPE` | element `i` (row-major index) is `i` converted to the dtype |
//! | `rand:TYPE`, `rand(SEED):TYPE` | floats uniform in [0, 1) (`f16`, `bf16`: multiples of 1/256), integers uniform in [0, 100), bools fair; seed 0 unless given |
//! | `0x7fc00001:f32`, `0x7ff8000000000001:f64` | a float given by its bit pattern |
//! | `@x.npy` | the array in a NumPy file |
//!
//! `TYPE` is written as in the IR (`f32[1024]`, `i32`); it must equal the parameter's type.
//! [`bind_named`] binds the arrays of a `.npz` or safetensors file to parameters by name.

use crate::error::{Error, Result};
use crate::ir::Function;
use crate::ops::scalar::{convert, CastTo};
use crate::ops::Op;
use crate::tensor::Element;
use crate::tensor::{parse_literal, Data, Scalar, Tensor};
use crate::types::{DType, Kind, TensorType};

/// Parses a type written as in the IR: `i32`, `f32[1024]`, `f64[2,3]`.
pub fn parse_type(text: &str) -> Result<TensorType, String> {
    let text = text.trim();
    let (name, dims) = match text.find('[') {
        Some(i) => {
            let Some(inner) = text[i + 1..].strip_suffix(']') else {
                return Err(format!("type '{text}' is missing its closing ']'"));
            };
            (&text[..i], Some(inner))
        }
        None => (text, None),
    };
    let dtype = DType::from_name(name.trim())
        .ok_or_else(|| format!("'{name}' is not a dtype (expected {})", DType::names()))?;
    let mut shape = Vec::new();
    if let Some(inner) = dims {
        for d in inner.split(',') {
            let d = d.trim();
            shape.push(
                d.parse::<usize>()
                    .map_err(|_| format!("'{d}' is not a dimension size in type '{text}'"))?,
            );
        }
    }
    let ty = TensorType::new(dtype, shape);
    ty.check_size()?;
    Ok(ty)
}

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same tensor everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    fn unit_f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, 1) with 24 random bits, so the f32 is never rounded up to 1.0.
    fn unit_f32(&mut self) -> f32 {
        (self.next() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

/// Makes a generated tensor: `kind` is `zeros`, `ones`, `iota`, `rand`, `rand(SEED)` or `full(V)`.
pub fn generate(kind: &str, ty: &TensorType) -> Result<Tensor, String> {
    let n = ty
        .checked_num_elements()
        .ok_or_else(|| format!("type {ty} is too large to generate"))?;
    let (name, param) = match kind.find('(') {
        Some(i) => {
            let Some(p) = kind[i + 1..].strip_suffix(')') else {
                return Err(format!("generator '{kind}' is missing its closing ')'"));
            };
            (&kind[..i], Some(p.trim()))
        }
        None => (kind, None),
    };
    let data = match (name, param) {
        ("zeros", None) => Data::zeros(ty.dtype, n),
        ("ones", None) => crate::dispatch_dtype!(ty.dtype, |T| T::into_data(vec![T::UNIT; n])),
        ("full", Some(v)) => {
            let t = Tensor::parse(v, &TensorType::scalar(ty.dtype))?;
            Data::splat(t.data().get(0), n)
        }
        ("iota", None) => {
            if !ty.dtype.is_numeric() {
                return Err(format!("'iota' needs a numeric type, not {}", ty.dtype));
            }
            // Element i is i converted to the dtype, by the `convert` op's rule.
            crate::dispatch_dtype!(ty.dtype, |T| T::into_data(
                (0..n).map(|i| CastTo::<T>::cast(i as i64)).collect()
            ))
        }
        ("rand", seed) => {
            let seed = match seed {
                None => 0,
                Some(s) => s
                    .parse::<u64>()
                    .map_err(|_| format!("'{s}' is not a seed (a non-negative integer)"))?,
            };
            let mut g = SplitMix64(seed);
            let rand = |g: &mut SplitMix64| match ty.dtype.kind() {
                Kind::Bool => Scalar::Bool(g.next() >> 63 == 1),
                Kind::Signed | Kind::Unsigned => convert(Scalar::I64((g.next() % 100) as i64), ty.dtype),
                Kind::Float if ty.dtype.bits() > 32 => convert(Scalar::F64(g.unit_f64()), ty.dtype),
                // 8 random bits fit both 16-bit floats exactly, so none rounds up to 1.0.
                Kind::Float if ty.dtype.bits() == 16 => {
                    convert(Scalar::F32((g.next() >> 56) as f32 / 256.0), ty.dtype)
                }
                Kind::Float => convert(Scalar::F32(g.unit_f32()), ty.dtype),
            };
            let items: Vec<Scalar> = (0..n).map(|_| rand(&mut g)).collect();
            Data::from_scalars(ty.dtype, &items)
                .ok_or_else(|| format!("cannot generate {ty}"))?
        }
        _ => {
            return Err(format!(
                "unknown generator '{kind}' (expected zeros, ones, iota, rand, rand(SEED) or full(VALUE))"
            ))
        }
    };
    Tensor::new(data, ty.shape.clone()).ok_or_else(|| format!("type {ty} is too large"))
}

/// Reads one argument for a value of type `ty`: a literal, `GENERATOR:TYPE`, `0xBITS:TYPE` or
/// `@FILE.npy`.
pub fn parse_value(text: &str, ty: &TensorType) -> Result<Tensor, String> {
    let text = text.trim();
    if let Some(path) = text.strip_prefix('@') {
        let t = Tensor::read_npy(path).map_err(|e| e.to_string())?;
        if t.ty() != *ty {
            return Err(format!("{path} holds {}, but {ty} is needed", t.ty()));
        }
        return Ok(t);
    }
    if let Some((bits, tytext)) = text.split_once(':').filter(|(b, _)| is_hex(b)) {
        let named = DType::from_name(tytext.trim())
            .ok_or_else(|| format!("'{tytext}' in '{text}' is not a dtype"))?;
        if named != ty.dtype {
            return Err(format!("'{text}' is a {named}, but {ty} is needed"));
        }
        return Tensor::parse(bits, ty);
    }
    if let Some((kind, tytext)) = split_generator(text) {
        let gty = parse_type(tytext)?;
        if &gty != ty {
            return Err(format!("'{text}' generates {gty}, but {ty} is needed"));
        }
        return generate(kind, ty);
    }
    let (lit, used) =
        parse_literal(text).map_err(|(at, m)| format!("in '{text}' at byte {at}: {m}"))?;
    if !text[used..].trim().is_empty() {
        return Err(format!(
            "unexpected '{}' after the literal",
            text[used..].trim()
        ));
    }
    let shape = Tensor::literal_shape(&lit)?;
    if shape != ty.shape {
        let got = TensorType::new(ty.dtype, shape);
        return Err(format!(
            "'{text}' has shape {}, but {ty} is needed",
            shape_text(&got)
        ));
    }
    Tensor::from_literal(&lit, ty)
}

fn shape_text(t: &TensorType) -> String {
    if t.shape.is_empty() {
        "[] (a scalar)".to_string()
    } else {
        format!("{:?}", t.shape)
    }
}

fn is_hex(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// Splits `rand(3):f32[8]` into (`rand(3)`, `f32[8]`) when the text is a generator.
fn split_generator(text: &str) -> Option<(&str, &str)> {
    // A generator starts with a word (then maybe a parenthesized parameter) and a ':'; a
    // literal never holds a ':'. Unknown words are left to `generate` to reject by name.
    let word_len = text
        .bytes()
        .take_while(|c| c.is_ascii_alphabetic() || *c == b'_')
        .count();
    if word_len == 0 || !matches!(text.as_bytes().get(word_len), Some(b'(' | b':')) {
        return None;
    }
    // The type follows the last ':' outside parentheses.
    let mut depth = 0i32;
    let mut split = None;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ':' if depth == 0 => split = Some(i),
            _ => {}
        }
    }
    split.map(|i| (&text[..i], &text[i + 1..]))
}

/// Reads the arguments of `f` from their texts; a wrong count, type or shape is an error
/// naming the parameter.
pub fn parse_args(f: &Function, texts: &[String]) -> Result<Vec<Tensor>> {
    if texts.len() != f.params.len() {
        let names: Vec<String> = f
            .params
            .iter()
            .map(|&p| format!("%{}: {}", f.value(p).name, f.ty(p)))
            .collect();
        return Err(Error::Argument(format!(
            "@{} takes {} argument(s) ({}), got {}",
            f.name,
            f.params.len(),
            names.join(", "),
            texts.len()
        )));
    }
    f.params
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(i, (&p, text))| {
            let v = f.value(p);
            parse_value(text, &v.ty).map_err(|m| {
                Error::Argument(format!(
                    "argument {} (%{}: {}) of @{}: {m}",
                    i + 1,
                    v.name,
                    v.ty,
                    f.name
                ))
            })
        })
        .collect()
}

/// Binds the arrays of a tensor file to the parameters of `f` by name (the IR's `%name`s).
/// An array for no parameter, a parameter with no array, and an array of the wrong type are
/// errors that name them; `source` names the file in the messages.
pub fn bind_named(
    f: &Function,
    arrays: Vec<(String, Tensor)>,
    source: &str,
) -> Result<Vec<Tensor>> {
    let names: Vec<&str> = f.params.iter().map(|&p| f.value(p).name.as_str()).collect();
    let extra: Vec<&str> = arrays
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !names.contains(n))
        .collect();
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !arrays.iter().any(|(a, _)| a == *n))
        .map(|n| format!("%{n}"))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("it has no array for {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            parts.push(format!(
                "its array(s) {} match no parameter",
                extra.join(", ")
            ));
        }
        return Err(Error::Argument(format!(
            "{source} does not fit @{} (parameters {}): {}",
            f.name,
            names
                .iter()
                .map(|n| format!("%{n}"))
                .collect::<Vec<_>>()
                .join(", "),
            parts.join("; ")
        )));
    }
    let mut arrays = arrays;
    f.params
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let v = f.value(p);
            let at = arrays
                .iter()
                .position(|(n, _)| *n == v.name)
                .expect("every parameter has an array: checked above");
            let (_, t) = arrays.swap_remove(at);
            if t.ty() != v.ty {
                return Err(Error::Argument(format!(
                    "argument {} (%{}: {}) of @{}: {source} holds {} for it",
                    i + 1,
                    v.name,
                    v.ty,
                    f.name,
                    t.ty()
                )));
            }
            Ok(t)
        })
        .collect()
}

/// Names for the results of `f`: the names of the values its `return` gives when those are
/// distinct, else `out0`, `out1`, ...
pub fn result_names(f: &Function) -> Vec<String> {
    let generic = || (0..f.results.len()).map(|i| format!("out{i}")).collect();
    let Some(&ret) = f.region(f.body).insts.last() else {
        return generic();
    };
    let inst = f.inst(ret);
    if inst.op != Op::Return || inst.args.len() != f.results.len() {
        return generic();
    }
    let names: Vec<String> = inst.args.iter().map(|&v| f.value(v).name.clone()).collect();
    let distinct = names
        .iter()
        .enumerate()
        .all(|(i, n)| !names[..i].contains(n));
    if distinct {
        names
    } else {
        generic()
    }
}

/// Splits a comma-separated list at top level (commas inside brackets or parentheses stay).
pub fn split_top_level(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> TensorType {
        parse_type(s).unwrap()
    }

    #[test]
    fn literals_take_the_parameter_dtype() {
        assert_eq!(
            parse_value("10", &ty("i32")).unwrap(),
            Tensor::scalar(10i32)
        );
        assert_eq!(
            parse_value("2.5", &ty("f64")).unwrap(),
            Tensor::scalar(2.5f64)
        );
        assert_eq!(
            parse_value("[1, 2, 3]", &ty("i64[3]")).unwrap(),
            Tensor::from(vec![1i64, 2, 3])
        );
        assert_eq!(
            parse_value("[[1, 2], [3, 4]]", &ty("f32[2,2]")).unwrap(),
            Tensor::from([[1.0f32, 2.0], [3.0, 4.0]])
        );
    }

    #[test]
    fn wrong_shapes_and_dtypes_are_errors() {
        let e = parse_value("[1, 2]", &ty("i32[3]")).unwrap_err();
        assert!(e.contains("has shape [2], but i32[3] is needed"), "{e}");
        let e = parse_value("2.5", &ty("i32")).unwrap_err();
        assert!(e.contains("not a valid i32 literal"), "{e}");
        let e = parse_value("ones:f32[4]", &ty("f32[5]")).unwrap_err();
        assert!(e.contains("generates f32[4], but f32[5] is needed"), "{e}");
        assert!(parse_type("f32[99999999999,99999999999]").is_err());
        assert!(parse_type("u7").unwrap_err().contains("not a dtype"));
        assert_eq!(parse_type("u8[2]"), Ok(TensorType::new(DType::U8, [2])));
    }

    #[test]
    fn generators_make_the_documented_values() {
        assert_eq!(
            parse_value("iota:i32[4]", &ty("i32[4]")).unwrap(),
            Tensor::from(vec![0i32, 1, 2, 3])
        );
        assert_eq!(
            parse_value("ones:bool[2]", &ty("bool[2]")).unwrap(),
            Tensor::from(vec![true, true])
        );
        assert_eq!(
            parse_value("full(0.5):f32[2]", &ty("f32[2]")).unwrap(),
            Tensor::from(vec![0.5f32, 0.5])
        );
        let a = parse_value("rand:f32[1000]", &ty("f32[1000]")).unwrap();
        let b = parse_value("rand(0):f32[1000]", &ty("f32[1000]")).unwrap();
        let c = parse_value("rand(1):f32[1000]", &ty("f32[1000]")).unwrap();
        assert_eq!(a, b, "seed 0 is the default");
        assert_ne!(a, c, "another seed gives other numbers");
        let xs = a.as_slice::<f32>().unwrap();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f32>() / 1000.0;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
    }

    #[test]
    fn top_level_split_keeps_brackets() {
        assert_eq!(
            split_top_level("0, [1, 2], full(1):f32[2]"),
            vec!["0", "[1, 2]", "full(1):f32[2]"]
        );
        assert!(split_top_level("").is_empty());
    }
}
