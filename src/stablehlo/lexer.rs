//! The lexer of StableHLO (MLIR) text: tokens with byte offsets; whitespace and `//` comments skipped.
//!
//! Tensor types (`tensor<2x3xf32>`) are not tokenized: `2x3xf32` is not a sequence of MLIR
//! tokens, so the parser reads the text between the angle brackets itself (see
//! [`Lexer::raw_until`]).

use crate::error::ParseError;

/// The kinds of token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare identifier: `stablehlo.add`, `func.func`, `dense`, `tensor`, `LT`, `x`.
    Ident,
    /// `%name` or `%name#3` (a use of result 3 of a multi-result op).
    Value,
    /// `@name` or `@"name"`.
    Symbol,
    /// `^bb0`.
    Block,
    /// `#name`, `#stablehlo.gather`: an attribute alias or dialect attribute.
    Hash,
    /// `!name`: a dialect type, which graphjit never accepts.
    Bang,
    /// An integer or float, possibly negative: `-3`, `1.5e+00`, `0x7FC00000`.
    Number,
    /// A string in double quotes.
    Str,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Less,
    Greater,
    Comma,
    Colon,
    Equals,
    Arrow,
    Question,
    Star,
    Plus,
    Eof,
}

/// A token and where it is, as byte offsets into the source.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// A cursor over the source; `Copy`, so peeking is lexing a copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

/// The 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let bytes = &src.as_bytes()[..offset.min(src.len())];
    let line_start = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = 1 + bytes.iter().filter(|&&b| b == b'\n').count();
    let col = 1 + bytes[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count();
    (line, col)
}

/// An error at a byte offset of `src`.
pub(crate) fn error_at(src: &str, offset: usize, message: impl Into<String>) -> ParseError {
    let (line, col) = line_col(src, offset);
    ParseError {
        line,
        col,
        message: message.into(),
    }
}

fn is_id_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'$'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0 }
    }

    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        error_at(self.src, offset, message)
    }

    pub fn text(&self, t: Token) -> &'a str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    /// How a token is named in an error message.
    pub fn describe(&self, t: Token) -> String {
        match t.kind {
            Tok::Eof => "end of input".to_string(),
            _ => format!("'{}'", self.text(t)),
        }
    }

    fn skip_trivia(&mut self) {
        let b = self.src.as_bytes();
        while self.pos < b.len() {
            match b[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'/' if b.get(self.pos + 1) == Some(&b'/') => {
                    while self.pos < b.len() && b[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// The position of the next token (after whitespace and comments).
    pub fn next_pos(&self) -> usize {
        let mut c = *self;
        c.skip_trivia();
        c.pos
    }

    pub fn peek(&self) -> Result<Token, ParseError> {
        let mut copy = *self;
        copy.next()
    }

    /// The raw text from the cursor up to (not including) the first `>` that closes the
    /// `<` already consumed; the cursor moves past that `>`. Nested `<...>` pairs are kept.
    pub fn raw_until_greater(&mut self) -> Result<(usize, &'a str), ParseError> {
        let b = self.src.as_bytes();
        let start = self.pos;
        let mut depth = 0usize;
        while self.pos < b.len() {
            match b[self.pos] {
                b'<' => depth += 1,
                b'>' if depth == 0 => {
                    let text = &self.src[start..self.pos];
                    self.pos += 1;
                    return Ok((start, text));
                }
                b'>' => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Err(self.error_at(start, "missing '>'"))
    }

    pub fn next(&mut self) -> Result<Token, ParseError> {
        self.skip_trivia();
        let b = self.src.as_bytes();
        let start = self.pos;
        let tok = |kind, end| Token { kind, start, end };
        let Some(&c) = b.get(start) else {
            return Ok(tok(Tok::Eof, start));
        };
        let ident_end = |from: usize| {
            let mut e = from;
            while e < b.len() && is_id_byte(b[e]) {
                e += 1;
            }
            e
        };
        let single = |kind| Ok(tok(kind, start + 1));
        let t = match c {
            b'(' => return self.done(single(Tok::LParen)),
            b')' => return self.done(single(Tok::RParen)),
            b'{' => return self.done(single(Tok::LBrace)),
            b'}' => return self.done(single(Tok::RBrace)),
            b'[' => return self.done(single(Tok::LBracket)),
            b']' => return self.done(single(Tok::RBracket)),
            b'<' => return self.done(single(Tok::Less)),
            b'>' => return self.done(single(Tok::Greater)),
            b',' => return self.done(single(Tok::Comma)),
            b':' => return self.done(single(Tok::Colon)),
            b'=' => return self.done(single(Tok::Equals)),
            b'?' => return self.done(single(Tok::Question)),
            b'*' => return self.done(single(Tok::Star)),
            b'+' => return self.done(single(Tok::Plus)),
            b'-' if b.get(start + 1) == Some(&b'>') => tok(Tok::Arrow, start + 2),
            b'%' | b'^' | b'#' | b'!' => {
                let mut e = ident_end(start + 1);
                if e == start + 1 {
                    return Err(self.error_at(start, format!("'{}' without a name", c as char)));
                }
                let kind = match c {
                    b'%' => {
                        // `%0#1`: result 1 of the multi-result value `%0`.
                        if b.get(e) == Some(&b'#') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
                            e += 1;
                            while e < b.len() && b[e].is_ascii_digit() {
                                e += 1;
                            }
                        }
                        Tok::Value
                    }
                    b'^' => Tok::Block,
                    b'#' => Tok::Hash,
                    _ => Tok::Bang,
                };
                tok(kind, e)
            }
            b'@' => {
                if b.get(start + 1) == Some(&b'"') {
                    let e = self.string_end(start + 1)?;
                    tok(Tok::Symbol, e)
                } else {
                    let e = ident_end(start + 1);
                    if e == start + 1 {
                        return Err(self.error_at(start, "'@' without a name"));
                    }
                    tok(Tok::Symbol, e)
                }
            }
            b'"' => tok(Tok::Str, self.string_end(start)?),
            b'-' | b'0'..=b'9' => {
                let mut e = start + usize::from(c == b'-');
                if !b.get(e).is_some_and(u8::is_ascii_digit) {
                    return Err(self.error_at(start, "'-' must start a number or '->'"));
                }
                if b[e] == b'0' && matches!(b.get(e + 1), Some(b'x' | b'X')) {
                    e += 2;
                    while e < b.len() && b[e].is_ascii_hexdigit() {
                        e += 1;
                    }
                } else {
                    while e < b.len() && b[e].is_ascii_digit() {
                        e += 1;
                    }
                    if b.get(e) == Some(&b'.') {
                        e += 1;
                        while e < b.len() && b[e].is_ascii_digit() {
                            e += 1;
                        }
                    }
                    if matches!(b.get(e), Some(b'e' | b'E'))
                        && (b.get(e + 1).is_some_and(u8::is_ascii_digit)
                            || (matches!(b.get(e + 1), Some(b'+' | b'-'))
                                && b.get(e + 2).is_some_and(u8::is_ascii_digit)))
                    {
                        e += 2;
                        while e < b.len() && b[e].is_ascii_digit() {
                            e += 1;
                        }
                    }
                }
                tok(Tok::Number, e)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => tok(Tok::Ident, ident_end(start)),
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                return Err(self.error_at(start, format!("unexpected character '{ch}'")));
            }
        };
        self.pos = t.end;
        Ok(t)
    }

    fn done(&mut self, t: Result<Token, ParseError>) -> Result<Token, ParseError> {
        if let Ok(t) = &t {
            self.pos = t.end;
        }
        t
    }

    /// The end of a string literal starting at the `"` at `start`.
    fn string_end(&self, start: usize) -> Result<usize, ParseError> {
        let b = self.src.as_bytes();
        let mut e = start + 1;
        while e < b.len() {
            match b[e] {
                b'\\' => e += 2,
                b'"' => return Ok(e + 1),
                b'\n' => break,
                _ => e += 1,
            }
        }
        Err(self.error_at(start, "unterminated string"))
    }
}
