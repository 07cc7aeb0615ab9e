//! The text form of tensor values: literals (`2.5`, `[[1, 2], [3, 4]]`, `0x7fc00001`, `-inf`),
//! read into atoms and lists and then into a [`Tensor`] of a given type.

use super::{Data, Element, Scalar, Tensor};
use crate::types::{DType, TensorType};

/// A literal as written in text: a number or boolean word, or a bracketed list.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Atom(String),
    List(Vec<Literal>),
}

/// The deepest bracket nesting a literal may have; deeper text is an error, not a stack overflow.
const MAX_LITERAL_DEPTH: usize = 64;

/// Parses a literal at the start of `s`. Returns it and the number of bytes consumed, or the
/// byte offset of the problem and a message.
pub fn parse_literal(s: &str) -> Result<(Literal, usize), (usize, String)> {
    fn skip_ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t' || b[i] == b'\n' || b[i] == b'\r') {
            i += 1;
        }
        i
    }
    fn rec(b: &[u8], i: usize, depth: usize) -> Result<(Literal, usize), (usize, String)> {
        let i = skip_ws(b, i);
        if i >= b.len() {
            return Err((i, "expected a literal".into()));
        }
        if b[i] == b'[' {
            if depth >= MAX_LITERAL_DEPTH {
                return Err((i, format!("literal nested deeper than {MAX_LITERAL_DEPTH}")));
            }
            let mut items = Vec::new();
            let mut j = skip_ws(b, i + 1);
            if j < b.len() && b[j] == b']' {
                return Ok((Literal::List(items), j + 1));
            }
            loop {
                let (item, k) = rec(b, j, depth + 1)?;
                items.push(item);
                let k = skip_ws(b, k);
                match b.get(k) {
                    Some(b',') => j = k + 1,
                    Some(b']') => return Ok((Literal::List(items), k + 1)),
                    _ => return Err((k, "expected ',' or ']' in a literal".into())),
                }
            }
        }
        let start = i;
        let mut j = i;
        while j < b.len()
            && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'-' | b'+' | b'.' | b'_'))
        {
            j += 1;
        }
        if j == start {
            return Err((
                start,
                format!("expected a literal, found '{}'", b[start] as char),
            ));
        }
        let atom = std::str::from_utf8(&b[start..j])
            .unwrap_or_default()
            .to_string();
        Ok((Literal::Atom(atom), j))
    }
    rec(s.as_bytes(), 0, 0)
}

/// Reads one atom as a scalar of `dtype`.
pub fn parse_scalar(atom: &str, dtype: DType) -> Result<Scalar, String> {
    fn parse<T: Element>(atom: &str) -> Option<Scalar> {
        T::parse_atom(atom).map(T::into_scalar)
    }
    if dtype.is_float() {
        // A hex bit pattern that does not fit the dtype gets its own message, not "not valid".
        float_bits(atom, dtype.bits())?;
    }
    crate::dispatch_dtype!(dtype, |T| parse::<T>(atom))
        .ok_or_else(|| format!("'{atom}' is not a valid {dtype} literal"))
}

/// Reads a float's bit pattern written in hex (`0x7fc00001`), so that every value, NaN payloads
/// included, can be written exactly; `None` when the atom is not hex.
fn float_bits(atom: &str, width: u32) -> Result<Option<u64>, String> {
    let Some(hex) = atom.strip_prefix("0x").or_else(|| atom.strip_prefix("0X")) else {
        return Ok(None);
    };
    match u64::from_str_radix(hex, 16) {
        Ok(b) if width == 64 || b >> width == 0 => Ok(Some(b)),
        _ => Err(format!(
            "'{atom}' is not a {width}-bit pattern (at most {} hex digits)",
            width / 4
        )),
    }
}

/// Parses a float word directly in its own type: reading an f32 through f64 would round
/// twice, which can give a different f32 than the text denotes. NaN and infinity are read in
/// any case, with an optional sign (`-nan` has its sign bit set), and as `infinity` too.
pub(super) fn parse_float<F: std::str::FromStr + std::ops::Neg<Output = F>>(
    atom: &str,
    nan: F,
    inf: F,
) -> Option<F> {
    let (negative, word) = match atom.as_bytes().first() {
        Some(b'-') => (true, &atom[1..]),
        Some(b'+') => (false, &atom[1..]),
        _ => (false, atom),
    };
    let special = if word.eq_ignore_ascii_case("nan") {
        Some(nan)
    } else if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity") {
        Some(inf)
    } else {
        None
    };
    if let Some(v) = special {
        return Some(if negative { -v } else { v });
    }
    // Rust's parser accepts other spellings too; words with letters other than an exponent
    // are rejected here.
    if atom
        .bytes()
        .any(|c| c.is_ascii_alphabetic() && c != b'e' && c != b'E')
    {
        return None;
    }
    atom.parse::<F>().ok()
}

impl Tensor {
    /// Builds a tensor of type `ty` from a literal. A single atom fills the whole tensor
    /// (a splat); a list must match the shape exactly.
    pub fn from_literal(lit: &Literal, ty: &TensorType) -> Result<Tensor, String> {
        let n = ty
            .checked_num_elements()
            .ok_or_else(|| format!("type {ty} is too large"))?;
        if let Literal::Atom(a) = lit {
            let s = parse_scalar(a, ty.dtype)?;
            return Ok(Tensor {
                shape: ty.shape.clone(),
                data: Data::splat(s, n),
            });
        }
        let mut out: Vec<Scalar> = Vec::with_capacity(n);
        fn rec(
            lit: &Literal,
            ty: &TensorType,
            dim: usize,
            out: &mut Vec<Scalar>,
        ) -> Result<(), String> {
            match lit {
                Literal::Atom(a) => {
                    if dim != ty.shape.len() {
                        return Err(format!(
                            "literal has a number where a list of {} was expected for type {ty}",
                            ty.shape[dim]
                        ));
                    }
                    out.push(parse_scalar(a, ty.dtype)?);
                    Ok(())
                }
                Literal::List(items) => {
                    if dim == ty.shape.len() {
                        return Err(format!("literal is nested deeper than type {ty}"));
                    }
                    if items.len() != ty.shape[dim] {
                        return Err(format!(
                            "literal has {} elements in dimension {dim} where type {ty} has {}",
                            items.len(),
                            ty.shape[dim]
                        ));
                    }
                    items.iter().try_for_each(|it| rec(it, ty, dim + 1, out))
                }
            }
        }
        rec(lit, ty, 0, &mut out)?;
        let data = Data::from_scalars(ty.dtype, &out)
            .ok_or_else(|| format!("literal elements are not all {}", ty.dtype))?;
        Ok(Tensor {
            shape: ty.shape.clone(),
            data,
        })
    }

    /// The shape a literal spells out (`[[1, 2], [3, 4]]` is `[2, 2]`), or an error when
    /// its lists are ragged.
    pub fn literal_shape(lit: &Literal) -> Result<Vec<usize>, String> {
        match lit {
            Literal::Atom(_) => Ok(Vec::new()),
            Literal::List(items) => {
                let Some(first) = items.first() else {
                    return Ok(vec![0]);
                };
                let inner = Tensor::literal_shape(first)?;
                for it in &items[1..] {
                    if Tensor::literal_shape(it)? != inner {
                        return Err(
                            "literal lists are ragged: every row must have the same shape".into(),
                        );
                    }
                }
                let mut s = vec![items.len()];
                s.extend(inner);
                Ok(s)
            }
        }
    }

    /// Parses a whole string as a literal of type `ty`.
    pub fn parse(text: &str, ty: &TensorType) -> Result<Tensor, String> {
        let (lit, used) = parse_literal(text).map_err(|(at, m)| format!("at byte {at}: {m}"))?;
        if !text[used..].trim().is_empty() {
            return Err(format!(
                "unexpected text after the literal: '{}'",
                text[used..].trim()
            ));
        }
        Tensor::from_literal(&lit, ty)
    }
}
