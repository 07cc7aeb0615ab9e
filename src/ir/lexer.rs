//! The lexer of the IR text form: tokens with byte offsets; whitespace and `;` comments skipped.
//!
//! The lexer is on demand (the parser asks for one token at a time) because constants are not
//! tokenized: the parser hands the raw text at the current position to
//! [`crate::tensor::parse_literal`] and moves the lexer past what it consumed.

use crate::error::ParseError;

/// The kinds of token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A word: `func`, `add`, `reduce.sum`, `f32`, `dims`, `do`.
    Ident,
    /// `%name`.
    Value,
    /// `@name`.
    Func,
    /// A decimal integer without a sign.
    Int,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Equals,
    Arrow,
    Eof,
}

/// A token and where it is, as byte offsets into the source.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// A cursor over the source. It is `Copy`, so peeking is lexing a copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

/// Whether `c` may appear in a `%value` or `@function` name.
pub(crate) fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

/// Whether `s` is a valid value or function name (without its sigil).
pub(crate) fn is_valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_name_byte)
}

/// The 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let bytes = &src.as_bytes()[..offset.min(src.len())];
    let line_start = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = 1 + bytes.iter().filter(|&&b| b == b'\n').count();
    // Counting the bytes that start a UTF-8 character gives the column in characters.
    let col = 1 + bytes[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count();
    (line, col)
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0 }
    }

    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The byte offset of the cursor.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves the cursor; `pos` must be a character boundary the parser got from this source.
    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.src.len());
    }

    /// An error at a byte offset.
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, col) = line_col(self.src, offset);
        ParseError {
            line,
            col,
            message: message.into(),
        }
    }

    /// The text of a token.
    pub fn text(&self, t: Token) -> &'a str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    /// How a token is named in an error message: `'}'`, `'%x'`, `end of input`.
    pub fn describe(&self, t: Token) -> String {
        match t.kind {
            Tok::Eof => "end of input".to_string(),
            _ => format!("'{}'", self.text(t)),
        }
    }

    /// Skips whitespace and comments. Every position it stops at is a character boundary,
    /// because it only steps over ASCII bytes and over comments up to a `\n`.
    pub fn skip_trivia(&mut self) {
        let b = self.src.as_bytes();
        while self.pos < b.len() {
            match b[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b';' => {
                    while self.pos < b.len() && b[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// The next token, without consuming it.
    pub fn peek(&self) -> Result<Token, ParseError> {
        let mut copy = *self;
        copy.next()
    }

    /// Consumes and returns the next token.
    pub fn next(&mut self) -> Result<Token, ParseError> {
        self.skip_trivia();
        let b = self.src.as_bytes();
        let start = self.pos;
        let Some(&c) = b.get(start) else {
            return Ok(Token {
                kind: Tok::Eof,
                start,
                end: start,
            });
        };
        let single = |kind| Some((kind, start + 1));
        let found = match c {
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'{' => single(Tok::LBrace),
            b'}' => single(Tok::RBrace),
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b',' => single(Tok::Comma),
            b':' => single(Tok::Colon),
            b'=' => single(Tok::Equals),
            b'-' if b.get(start + 1) == Some(&b'>') => Some((Tok::Arrow, start + 2)),
            b'%' | b'@' => {
                let end = self.scan(start + 1, is_name_byte);
                if end == start + 1 {
                    let what = if c == b'%' { "value" } else { "function" };
                    return Err(self.error_at(
                        start,
                        format!("expected a {what} name after '{}'", c as char),
                    ));
                }
                Some((if c == b'%' { Tok::Value } else { Tok::Func }, end))
            }
            b'0'..=b'9' => Some((Tok::Int, self.scan(start, |c| c.is_ascii_digit()))),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                Some((Tok::Ident, self.scan(start, is_name_byte)))
            }
            _ => None,
        };
        match found {
            Some((kind, end)) => {
                self.pos = end;
                Ok(Token { kind, start, end })
            }
            None => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                Err(self.error_at(start, format!("unexpected character '{ch}'")))
            }
        }
    }

    fn scan(&self, from: usize, ok: impl Fn(u8) -> bool) -> usize {
        let b = self.src.as_bytes();
        let mut i = from;
        while i < b.len() && ok(b[i]) {
            i += 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        let mut l = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = l.next().unwrap();
            out.push(t.kind);
            if t.kind == Tok::Eof {
                return out;
            }
        }
    }

    #[test]
    fn tokens_and_comments() {
        use Tok::*;
        assert_eq!(
            kinds("func @f(%a.1: f32[2,3]) -> ; c\n{ reduce.sum }"),
            vec![
                Ident, Func, LParen, Value, Colon, Ident, LBracket, Int, Comma, Int, RBracket,
                RParen, Arrow, LBrace, Ident, RBrace, Eof
            ]
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = Lexer::new("  \n  é#").next().unwrap_err();
        assert_eq!((e.line, e.col), (2, 3));
        assert!(e.message.contains("'é'"), "{}", e.message);
        let e = Lexer::new("x % y").next().and(Lexer::new("% y").next());
        assert_eq!(e.unwrap_err().message, "expected a value name after '%'");
    }

    #[test]
    fn line_col_counts_characters() {
        let s = "ab\nçd;\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 3), (2, 1));
        assert_eq!(line_col(s, 5), (2, 2));
        assert_eq!(line_col(s, 100), (3, 1));
    }
}
