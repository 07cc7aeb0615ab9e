//! Attributes (numbers, strings, symbols, arrays, dictionaries, `dense` constants) and tensor
//! types of StableHLO text, with the nesting and size limits that keep any input safe.

use super::{dtype_of, symbol_name, unquote, PResult, Parser, MAX_ATTR_DEPTH, MAX_CONST_ELEMENTS};
use crate::stablehlo::ast::{Attr, Dense};
use crate::stablehlo::lexer::Tok;
use crate::types::TensorType;

impl Parser<'_> {
    /// `{key = value, flag, ...}` (appended to `out`).
    pub(super) fn attr_dict(&mut self, out: &mut Vec<(String, Attr)>) -> PResult<()> {
        self.expect(Tok::LBrace, "'{'")?;
        if self.eat(Tok::RBrace)? {
            return Ok(());
        }
        loop {
            let t = self.next()?;
            let key = match t.kind {
                Tok::Ident => self.lex.text(t).to_string(),
                Tok::Str => unquote(self.lex.text(t)),
                _ => {
                    return Err(self.err(
                        t.start,
                        format!("expected an attribute name, found {}", self.lex.describe(t)),
                    ))
                }
            };
            let value = if self.eat(Tok::Equals)? {
                self.attr_typed()?
            } else {
                Attr::Bool(true)
            };
            out.push((key, value));
            if self.eat(Tok::RBrace)? {
                return Ok(());
            }
            self.expect(Tok::Comma, "',' or '}' in an attribute dictionary")?;
        }
    }

    /// An attribute, followed by an optional `: type` that belongs to it.
    fn attr_typed(&mut self) -> PResult<Attr> {
        let a = self.attr()?;
        if self.peek_is(Tok::Colon)? {
            self.next()?;
            let at = self.lex.next_pos();
            let ty = self.any_type()?;
            if let Attr::Dense(d, None) = a {
                let ty =
                    ty.ok_or_else(|| self.err(at, "a 'dense' attribute needs a tensor type"))?;
                return Ok(Attr::Dense(d, Some(ty)));
            }
        }
        Ok(a)
    }

    pub(super) fn attr(&mut self) -> PResult<Attr> {
        if self.attr_depth >= MAX_ATTR_DEPTH {
            let at = self.lex.next_pos();
            return Err(self.err(at, "attributes are nested too deeply"));
        }
        self.attr_depth += 1;
        let r = self.attr_inner();
        self.attr_depth -= 1;
        r
    }

    fn attr_inner(&mut self) -> PResult<Attr> {
        let t = self.peek()?;
        let text = self.lex.text(t);
        Ok(match t.kind {
            Tok::Number => {
                self.next()?;
                number_attr(text)
                    .ok_or_else(|| self.err(t.start, format!("bad number '{text}'")))?
            }
            Tok::Str => {
                self.next()?;
                Attr::Str(unquote(text))
            }
            Tok::Symbol => {
                self.next()?;
                Attr::Symbol(symbol_name(text))
            }
            Tok::LBracket => {
                self.next()?;
                let mut items = Vec::new();
                if !self.eat(Tok::RBracket)? {
                    loop {
                        items.push(self.attr_typed()?);
                        if self.eat(Tok::RBracket)? {
                            break;
                        }
                        self.expect(Tok::Comma, "',' or ']' in a list")?;
                    }
                }
                // `[1] x [0]`: the pretty dot_general's pair of dimension lists.
                if self.peek_word("x")? {
                    self.next()?;
                    let rhs = self.attr()?;
                    let l = Attr::List(items).ints();
                    let r = rhs.ints();
                    return match (l, r) {
                        (Some(l), Some(r)) => Ok(Attr::Pair(l, r)),
                        _ => Err(self.err(t.start, "expected '[ints] x [ints]'")),
                    };
                }
                Attr::List(items)
            }
            Tok::LBrace => {
                let mut inner = Vec::new();
                self.attr_dict(&mut inner)?;
                Attr::Other
            }
            Tok::Less => {
                self.skip_group()?;
                Attr::Other
            }
            Tok::Hash => {
                self.next()?;
                if !self.peek_is(Tok::Less)? {
                    // An alias such as `#loc3`.
                    return Ok(Attr::Other);
                }
                self.next()?;
                if text == "#stablehlo" || text == "#chlo" {
                    // `#stablehlo<comparison_direction LT>`: an enum's value is its last word.
                    let mut last = None;
                    loop {
                        let w = self.next()?;
                        match w.kind {
                            Tok::Greater => break,
                            Tok::Ident => last = Some(self.lex.text(w).to_string()),
                            Tok::Eof => return Err(self.err(t.start, "missing '>'")),
                            _ => {}
                        }
                    }
                    Attr::Word(last.unwrap_or_default())
                } else {
                    // `#stablehlo.gather<offset_dims = [1], ...>`: a record of fields.
                    let mut fields = Vec::new();
                    if !self.eat(Tok::Greater)? {
                        loop {
                            let k = self.expect(Tok::Ident, "a field name")?;
                            self.expect(Tok::Equals, "'=' after a field name")?;
                            let v = self.attr_typed()?;
                            fields.push((self.lex.text(k).to_string(), v));
                            if self.eat(Tok::Greater)? {
                                break;
                            }
                            self.expect(Tok::Comma, "',' or '>' in a record")?;
                        }
                    }
                    Attr::Record(text[1..].to_string(), fields)
                }
            }
            Tok::Ident => {
                self.next()?;
                match text {
                    "true" => Attr::Bool(true),
                    "false" => Attr::Bool(false),
                    "dense" => self.dense(t.start)?,
                    "array" => self.array(t.start)?,
                    "dense_resource" => return Err(self.err(
                        t.start,
                        "'dense_resource' constants (stored outside the text) cannot be imported",
                    )),
                    _ => {
                        if self.peek_is(Tok::LParen)? || self.peek_is(Tok::Less)? {
                            self.skip_group()?;
                            Attr::Other
                        } else {
                            Attr::Word(text.to_string())
                        }
                    }
                }
            }
            _ => {
                return Err(self.err(
                    t.start,
                    format!("expected an attribute, found {}", self.lex.describe(t)),
                ))
            }
        })
    }

    /// `array<i64: 1, 2>` (after the word `array`).
    fn array(&mut self, at: usize) -> PResult<Attr> {
        self.expect(Tok::Less, "'<' after 'array'")?;
        let ty = self.expect(Tok::Ident, "an element type")?;
        let ty = self.lex.text(ty);
        let mut v = Vec::new();
        if self.eat(Tok::Colon)? {
            loop {
                let t = self.next()?;
                let s = self.lex.text(t);
                match (t.kind, s) {
                    (Tok::Number, _) => v.push(s.parse::<i64>().map_err(|_| {
                        self.err(t.start, format!("'{s}' is not an i64 in an array"))
                    })?),
                    (Tok::Ident, "true") => v.push(1),
                    (Tok::Ident, "false") => v.push(0),
                    _ => {
                        return Err(self.err(
                            t.start,
                            format!(
                                "expected an element of array<{ty}>, found {}",
                                self.lex.describe(t)
                            ),
                        ))
                    }
                }
                if v.len() > MAX_CONST_ELEMENTS {
                    return Err(self.err(at, "this array is too long"));
                }
                if self.eat(Tok::Greater)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or '>' in an array")?;
            }
        } else {
            self.expect(Tok::Greater, "'>' to close the array")?;
        }
        Ok(Attr::Array(v))
    }

    /// `dense<...>` (after the word `dense`): a splat, nested lists, or a hex string.
    fn dense(&mut self, at: usize) -> PResult<Attr> {
        self.expect(Tok::Less, "'<' after 'dense'")?;
        let t = self.peek()?;
        if t.kind == Tok::Str {
            self.next()?;
            let s = unquote(self.lex.text(t));
            let hex = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .ok_or_else(|| self.err(t.start, "a 'dense' string must be hex: \"0x...\""))?;
            if hex.len() % 2 != 0 || hex.len() / 2 > MAX_CONST_ELEMENTS * 8 {
                return Err(self.err(
                    t.start,
                    "a 'dense' hex string has an odd or too large length",
                ));
            }
            let mut bytes = Vec::with_capacity(hex.len() / 2);
            for i in (0..hex.len()).step_by(2) {
                let b = hex
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| self.err(t.start, "a 'dense' hex string has a bad digit"))?;
                bytes.push(b);
            }
            self.expect(Tok::Greater, "'>' to close 'dense'")?;
            return Ok(Attr::Dense(Dense::Hex(t.start, bytes), None));
        }
        let mut atoms = Vec::new();
        let mut levels = Vec::new();
        if !self.eat(Tok::Greater)? {
            self.dense_elems(&mut atoms, &mut levels, 0, at)?;
            self.expect(Tok::Greater, "'>' to close 'dense'")?;
        }
        if atoms.is_empty() {
            // `dense<>` or `dense<[]>`: an empty tensor, whatever its declared shape.
            return Ok(Attr::Dense(
                Dense::Elems {
                    atoms,
                    shape: vec![0],
                },
                None,
            ));
        }
        // The last level is where the elements are; every level above is a list.
        levels.pop();
        let shape = levels
            .into_iter()
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| self.err(at, "a 'dense' literal mixes lists and elements"))?;
        let expected: usize = shape.iter().product();
        if expected != atoms.len() {
            return Err(self.err(at, "a 'dense' literal mixes lists and elements"));
        }
        Ok(Attr::Dense(Dense::Elems { atoms, shape }, None))
    }

    /// One element or a bracketed list of them at nesting `depth`; `shape[d]` records the
    /// length of the lists at depth `d`, which must all be equal.
    fn dense_elems(
        &mut self,
        atoms: &mut Vec<(usize, String)>,
        shape: &mut Vec<Option<usize>>,
        depth: usize,
        at: usize,
    ) -> PResult<()> {
        let t = self.next()?;
        if shape.len() <= depth {
            shape.resize(depth + 1, None);
        }
        match t.kind {
            Tok::LBracket => {
                if depth >= crate::types::MAX_RANK {
                    return Err(self.err(t.start, "a 'dense' literal is nested too deeply"));
                }
                let mut n = 0usize;
                if !self.eat(Tok::RBracket)? {
                    loop {
                        self.dense_elems(atoms, shape, depth + 1, at)?;
                        n += 1;
                        if atoms.len() > MAX_CONST_ELEMENTS {
                            return Err(self.err(
                                at,
                                format!("a 'dense' constant has more than {MAX_CONST_ELEMENTS} elements"),
                            ));
                        }
                        if self.eat(Tok::RBracket)? {
                            break;
                        }
                        self.expect(Tok::Comma, "',' or ']' in a 'dense' list")?;
                    }
                }
                match shape[depth] {
                    None => shape[depth] = Some(n),
                    Some(m) if m == n => {}
                    Some(_) => {
                        return Err(self.err(
                            t.start,
                            "the lists of a 'dense' literal have unequal lengths",
                        ))
                    }
                }
            }
            Tok::Number | Tok::Ident => {
                // An element sits below every list; a list where elements are is an error
                // found when the shapes are joined.
                if shape.len() > depth + 1 {
                    return Err(self.err(t.start, "a 'dense' literal mixes lists and elements"));
                }
                atoms.push((t.start, self.lex.text(t).to_string()));
            }
            Tok::LParen => {
                return Err(self.err(t.start, "complex numbers are not supported by graphjit"))
            }
            _ => {
                return Err(self.err(
                    t.start,
                    format!("expected a 'dense' element, found {}", self.lex.describe(t)),
                ))
            }
        }
        Ok(())
    }

    /// A type where graphjit needs a tensor: `tensor<2x3xf32>`.
    pub(super) fn tensor_type(&mut self) -> PResult<TensorType> {
        let at = self.lex.next_pos();
        match self.any_type()? {
            Some(t) => Ok(t),
            None => Err(self.err(at, "expected a tensor type 'tensor<...>'")),
        }
    }

    /// Any type: a tensor type (returned), or a scalar type as attributes carry (`i64`,
    /// returned as `None`). Unsupported types are errors.
    fn any_type(&mut self) -> PResult<Option<TensorType>> {
        let t = self.next()?;
        let text = self.lex.text(t);
        match t.kind {
            Tok::Ident if text == "tensor" => {
                self.expect(Tok::Less, "'<' after 'tensor'")?;
                let (start, raw) = self.lex.raw_until_greater()?;
                self.tensor_body(start, raw).map(Some)
            }
            Tok::Ident if dtype_of(text).is_some() || text == "index" => Ok(None),
            Tok::Ident if text.starts_with("complex") => {
                Err(self.err(t.start, "complex types are not supported by graphjit"))
            }
            Tok::Ident if text == "tuple" => {
                Err(self.err(t.start, "tuple types are not supported by graphjit"))
            }
            Tok::Bang => Err(self.err(
                t.start,
                format!("type '{text}' is not supported by graphjit (tokens and quantized types are not)"),
            )),
            Tok::Ident => Err(self.err(
                t.start,
                format!("element type '{text}' is not supported by graphjit"),
            )),
            _ => Err(self.err(
                t.start,
                format!("expected a type, found {}", self.lex.describe(t)),
            )),
        }
    }

    /// The inside of `tensor<...>`: dimensions and an element type separated by `x`.
    fn tensor_body(&self, start: usize, raw: &str) -> PResult<TensorType> {
        if raw.contains('!') {
            return Err(self.err(
                start,
                "element types of other dialects are not supported by graphjit (quantized types are not)",
            ));
        }
        if raw.contains(',') {
            return Err(self.err(start, "tensor types with an encoding are not supported"));
        }
        let raw_t = raw.trim();
        if raw_t.starts_with('*') {
            return Err(self.err(start, "unranked tensors are not supported by graphjit"));
        }
        let mut parts: Vec<&str> = raw_t.split('x').collect();
        // The element type may itself contain an `x` (`complex`): it is what is left after
        // the leading run of dimensions.
        let n_dims = parts
            .iter()
            .take_while(|p| {
                p.trim() == "?" || (!p.is_empty() && p.trim().bytes().all(|b| b.is_ascii_digit()))
            })
            .count()
            .min(parts.len().saturating_sub(1));
        let elem = parts.split_off(n_dims).join("x");
        let elem = elem.trim();
        let mut shape = Vec::with_capacity(n_dims);
        for p in &parts {
            let p = p.trim();
            if p == "?" {
                return Err(self.err(
                    start,
                    "dynamic dimensions ('?') are not supported by graphjit: shapes must be static",
                ));
            }
            shape.push(
                p.parse::<usize>()
                    .map_err(|_| self.err(start, format!("dimension '{p}' is too large")))?,
            );
        }
        let dtype = match dtype_of(elem) {
            Some(d) => d,
            None if elem.starts_with("complex") => {
                return Err(self.err(start, "complex types are not supported by graphjit"))
            }
            None if elem.starts_with('!') => {
                return Err(self.err(
                    start,
                    format!(
                    "element type '{elem}' is not supported by graphjit (quantized types are not)"
                ),
                ))
            }
            None => {
                return Err(self.err(
                    start,
                    format!("element type '{elem}' is not supported by graphjit"),
                ))
            }
        };
        let ty = TensorType::new(dtype, shape);
        ty.check_size().map_err(|m| self.err(start, m))?;
        Ok(ty)
    }
}

fn number_attr(text: &str) -> Option<Attr> {
    if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u128::from_str_radix(h, 16)
            .ok()
            .map(|v| Attr::Int(v as i128));
    }
    if text.contains(['.', 'e', 'E']) {
        return text.parse::<f64>().ok().map(Attr::Float);
    }
    text.parse::<i128>().ok().map(Attr::Int)
}
