//! The parser of StableHLO text into the syntax tree of [`super::ast`].
//!
//! It reads the MLIR that JAX prints: a `module` (or bare functions) of `func.func`s whose
//! ops come in the generic form (`"stablehlo.sort"(%a) <{...}> ({...}) : (...) -> ...`) or the
//! pretty form. Pretty forms with their own grammar (`constant`, `while`, `reduce`, `call`,
//! `custom_call`) have their own function; every other pretty op is read as a list of items
//! (operands, `key = attribute`, bare words, a `[0:2:1]` slice spec) and a type signature.
//! Locations (`loc(...)`, `#loc` aliases) are skipped. Nesting of regions and attributes is
//! bounded, so no input can exhaust the stack.
//!
//! This file reads the structure (module, functions, regions, ops in generic form, type
//! signatures); the pretty forms are in `pretty`, attributes and tensor types in `attr`.

use crate::error::ParseError;
use crate::ir::MAX_REGION_DEPTH;
use crate::types::{DType, TensorType};

use super::ast::{BlockAst, FuncAst, ModuleAst, OpAst, ResultDef, ValRef};
use super::lexer::{Lexer, Tok, Token};

mod attr;
mod pretty;

/// How deeply attributes (lists, records, dictionaries) may nest.
const MAX_ATTR_DEPTH: usize = 32;

/// The most elements a `dense` constant may have: the limit of graphjit's own text.
pub use crate::ir::parse::MAX_CONST_ELEMENTS;

type PResult<T> = Result<T, ParseError>;

pub(crate) struct Parser<'a> {
    lex: Lexer<'a>,
    region_depth: usize,
    attr_depth: usize,
}

/// Parses a module of StableHLO text into its syntax tree.
pub fn parse_ast(src: &str) -> PResult<ModuleAst> {
    let mut p = Parser {
        lex: Lexer::new(src),
        region_depth: 0,
        attr_depth: 0,
    };
    p.module()
}

/// Maps an MLIR element type name onto a graphjit dtype name (`i1` is `bool`, `ui8` is `u8`).
pub(crate) fn dtype_of(name: &str) -> Option<DType> {
    let g = match name {
        "i1" => "bool".to_string(),
        n if n.starts_with("ui") => format!("u{}", &n[2..]),
        n => n.to_string(),
    };
    DType::from_name(&g)
}

impl<'a> Parser<'a> {
    fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        self.lex.error_at(at, msg)
    }

    fn peek(&self) -> PResult<Token> {
        self.lex.peek()
    }

    fn peek_is(&self, k: Tok) -> PResult<bool> {
        Ok(self.peek()?.kind == k)
    }

    fn peek_word(&self, w: &str) -> PResult<bool> {
        let t = self.peek()?;
        Ok(t.kind == Tok::Ident && self.lex.text(t) == w)
    }

    fn next(&mut self) -> PResult<Token> {
        self.lex.next()
    }

    fn eat(&mut self, k: Tok) -> PResult<bool> {
        if self.peek_is(k)? {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect(&mut self, k: Tok, what: &str) -> PResult<Token> {
        let t = self.next()?;
        if t.kind != k {
            return Err(self.err(
                t.start,
                format!("expected {what}, found {}", self.lex.describe(t)),
            ));
        }
        Ok(t)
    }

    fn expect_word(&mut self, w: &str) -> PResult<()> {
        let t = self.next()?;
        if t.kind != Tok::Ident || self.lex.text(t) != w {
            return Err(self.err(
                t.start,
                format!("expected '{w}', found {}", self.lex.describe(t)),
            ));
        }
        Ok(())
    }

    /// Skips a balanced `(...)`, `[...]`, `{...}` or `<...>` group whose opening token is next.
    fn skip_group(&mut self) -> PResult<()> {
        let open = self.next()?;
        let mut stack = vec![open];
        while let Some(top) = stack.last().copied() {
            let t = self.next()?;
            let closes = matches!(
                (top.kind, t.kind),
                (Tok::LParen, Tok::RParen)
                    | (Tok::LBracket, Tok::RBracket)
                    | (Tok::LBrace, Tok::RBrace)
                    | (Tok::Less, Tok::Greater)
            );
            match t.kind {
                _ if closes => {
                    stack.pop();
                }
                Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::Less => {
                    if stack.len() > MAX_REGION_DEPTH {
                        return Err(self.err(t.start, "nesting is too deep"));
                    }
                    stack.push(t);
                }
                Tok::Eof => return Err(self.err(top.start, "this bracket is never closed")),
                _ => {}
            }
        }
        Ok(())
    }

    /// Skips `loc(...)` if it comes next.
    fn skip_loc(&mut self) -> PResult<()> {
        if self.peek_word("loc")? {
            self.next()?;
            if self.peek_is(Tok::LParen)? {
                self.skip_group()?;
            }
        }
        Ok(())
    }

    fn module(&mut self) -> PResult<ModuleAst> {
        let mut funcs = Vec::new();
        loop {
            let t = self.peek()?;
            match t.kind {
                Tok::Eof => break,
                // `#loc1 = loc(...)`: an alias, which graphjit has no use for.
                Tok::Hash => {
                    self.next()?;
                    self.expect(Tok::Equals, "'=' after an attribute alias")?;
                    self.attr()?;
                }
                Tok::Ident if self.lex.text(t) == "module" => {
                    self.next()?;
                    self.eat(Tok::Symbol)?;
                    if self.peek_word("attributes")? {
                        self.next()?;
                        self.skip_group()?;
                    }
                    self.expect(Tok::LBrace, "'{' to open the module")?;
                    while !self.eat(Tok::RBrace)? {
                        if self.peek_is(Tok::Eof)? {
                            return Err(self.err(t.start, "this module is never closed"));
                        }
                        funcs.push(self.func()?);
                    }
                    self.skip_loc()?;
                }
                _ => funcs.push(self.func()?),
            }
        }
        Ok(ModuleAst { funcs })
    }

    fn func(&mut self) -> PResult<FuncAst> {
        let t = self.next()?;
        let word = self.lex.text(t);
        if t.kind != Tok::Ident || !(word == "func.func" || word == "func") {
            return Err(self.err(
                t.start,
                format!(
                    "expected 'func.func', found {} (graphjit imports functions only)",
                    self.lex.describe(t)
                ),
            ));
        }
        let mut private = false;
        while self.peek_word("public")? || self.peek_word("private")? || self.peek_word("nested")? {
            private |= self.peek_word("private")?;
            self.next()?;
        }
        let name_tok = self.expect(Tok::Symbol, "a function name '@name'")?;
        let name = symbol_name(self.lex.text(name_tok));
        self.expect(Tok::LParen, "'(' to open the parameters")?;
        let mut params = Vec::new();
        if !self.eat(Tok::RParen)? {
            loop {
                let v = self.expect(Tok::Value, "a parameter '%name'")?;
                self.expect(Tok::Colon, "':' and the parameter's type")?;
                let ty = self.tensor_type()?;
                if self.peek_is(Tok::LBrace)? {
                    self.skip_group()?;
                }
                self.skip_loc()?;
                params.push((self.lex.text(v)[1..].to_string(), ty));
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after a parameter")?;
            }
        }
        let mut results = Vec::new();
        if self.eat(Tok::Arrow)? {
            if self.eat(Tok::LParen)? {
                if !self.eat(Tok::RParen)? {
                    loop {
                        results.push(self.tensor_type()?);
                        if self.peek_is(Tok::LBrace)? {
                            self.skip_group()?;
                        }
                        if self.eat(Tok::RParen)? {
                            break;
                        }
                        self.expect(Tok::Comma, "',' or ')' after a result type")?;
                    }
                }
            } else {
                results.push(self.tensor_type()?);
            }
        }
        if self.peek_word("attributes")? {
            self.next()?;
            self.skip_group()?;
        }
        let body = self.region(Vec::new())?;
        self.skip_loc()?;
        Ok(FuncAst {
            name,
            pos: name_tok.start,
            private,
            params,
            results,
            body,
        })
    }

    /// `{ [^bb0(args):] ops }`. `args` are block arguments already given by a pretty form.
    fn region(&mut self, args: Vec<(String, TensorType)>) -> PResult<BlockAst> {
        let open = self.expect(Tok::LBrace, "'{' to open a region")?;
        if self.region_depth >= MAX_REGION_DEPTH {
            return Err(self.err(
                open.start,
                format!("regions are nested more than {MAX_REGION_DEPTH} deep"),
            ));
        }
        self.region_depth += 1;
        let mut block = BlockAst {
            pos: open.start,
            args,
            ops: Vec::new(),
        };
        if self.peek_is(Tok::Block)? {
            self.next()?;
            if self.eat(Tok::LParen)? && !self.eat(Tok::RParen)? {
                loop {
                    let v = self.expect(Tok::Value, "a block argument '%name'")?;
                    self.expect(Tok::Colon, "':' and the argument's type")?;
                    let ty = self.tensor_type()?;
                    self.skip_loc()?;
                    block.args.push((self.lex.text(v)[1..].to_string(), ty));
                    if self.eat(Tok::RParen)? {
                        break;
                    }
                    self.expect(Tok::Comma, "',' or ')' after a block argument")?;
                }
            }
            self.expect(Tok::Colon, "':' after the block header")?;
        }
        loop {
            let t = self.peek()?;
            match t.kind {
                Tok::RBrace => {
                    self.next()?;
                    break;
                }
                Tok::Block => {
                    return Err(self.err(
                        t.start,
                        "a region with more than one block cannot be imported (graphjit's control flow is structured)",
                    ))
                }
                Tok::Eof => return Err(self.err(open.start, "this region is never closed")),
                _ => block.ops.push(self.op()?),
            }
        }
        self.region_depth -= 1;
        Ok(block)
    }

    fn op(&mut self) -> PResult<OpAst> {
        let mut results = Vec::new();
        if self.peek_is(Tok::Value)? {
            loop {
                let v = self.expect(Tok::Value, "a result name")?;
                let name = self.lex.text(v)[1..].to_string();
                if name.contains('#') {
                    return Err(self.err(v.start, "a result name cannot have a '#' index"));
                }
                let mut count = 1;
                if self.eat(Tok::Colon)? {
                    let n = self.expect(Tok::Number, "a result count after ':'")?;
                    count = self
                        .lex
                        .text(n)
                        .parse::<usize>()
                        .ok()
                        .filter(|&c| (1..=1024).contains(&c))
                        .ok_or_else(|| self.err(n.start, "a result count must be 1 to 1024"))?;
                }
                results.push(ResultDef { name, count });
                if !self.eat(Tok::Comma)? {
                    break;
                }
            }
            self.expect(Tok::Equals, "'=' after the result names")?;
        }
        let t = self.next()?;
        let mut op = OpAst {
            pos: t.start,
            name: String::new(),
            results,
            operands: Vec::new(),
            attrs: Vec::new(),
            words: Vec::new(),
            regions: Vec::new(),
            callee: None,
            applies: None,
            operand_types: None,
            result_types: Vec::new(),
        };
        match t.kind {
            Tok::Str => {
                op.name = unquote(self.lex.text(t));
                self.generic(&mut op)?;
            }
            Tok::Ident => {
                op.name = self.lex.text(t).to_string();
                match op.name.as_str() {
                    "stablehlo.constant" => self.pretty_constant(&mut op)?,
                    "stablehlo.while" => self.pretty_while(&mut op)?,
                    "stablehlo.reduce" if self.peek_is(Tok::LParen)? => {
                        self.pretty_reduce(&mut op)?
                    }
                    "call" | "func.call" | "stablehlo.custom_call" => self.pretty_call(&mut op)?,
                    _ => self.pretty_items(&mut op)?,
                }
            }
            _ => {
                return Err(self.err(
                    t.start,
                    format!("expected an op, found {}", self.lex.describe(t)),
                ))
            }
        }
        self.skip_loc()?;
        Ok(op)
    }

    /// `(operands) [<{properties}>] [({region}, ...)] [{attributes}] : (types) -> types`.
    fn generic(&mut self, op: &mut OpAst) -> PResult<()> {
        self.expect(Tok::LParen, "'(' and the operands of a generic op")?;
        if !self.eat(Tok::RParen)? {
            loop {
                op.operands.push(self.value_ref()?);
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after an operand")?;
            }
        }
        if self.peek_is(Tok::LBracket)? {
            let t = self.peek()?;
            return Err(self.err(
                t.start,
                format!(
                    "'{}' has successor blocks, which graphjit cannot import",
                    op.name
                ),
            ));
        }
        if self.peek_is(Tok::Less)? {
            self.next()?;
            self.attr_dict(&mut op.attrs)?;
            self.expect(Tok::Greater, "'>' to close the properties")?;
        }
        if self.peek_is(Tok::LParen)? {
            self.next()?;
            loop {
                op.regions.push(self.region(Vec::new())?);
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after a region")?;
            }
        }
        if self.peek_is(Tok::LBrace)? {
            self.attr_dict(&mut op.attrs)?;
        }
        self.expect(Tok::Colon, "':' and the op's function type")?;
        let at = self.lex.next_pos();
        if !self.peek_is(Tok::LParen)? {
            return Err(self.err(at, "a generic op needs a function type '(...) -> ...'"));
        }
        self.type_signature(op)
    }

    /// `: T`, `: T, U`, `: (T, U) -> V` or `: (T) -> (U, V)`.
    fn type_signature(&mut self, op: &mut OpAst) -> PResult<()> {
        if self.eat(Tok::LParen)? {
            let mut ins = Vec::new();
            if !self.eat(Tok::RParen)? {
                loop {
                    ins.push(self.tensor_type()?);
                    if self.eat(Tok::RParen)? {
                        break;
                    }
                    self.expect(Tok::Comma, "',' or ')' in the operand types")?;
                }
            }
            self.expect(Tok::Arrow, "'->' and the result types")?;
            op.operand_types = Some(ins);
            if self.eat(Tok::LParen)? {
                if !self.eat(Tok::RParen)? {
                    loop {
                        op.result_types.push(self.tensor_type()?);
                        if self.eat(Tok::RParen)? {
                            break;
                        }
                        self.expect(Tok::Comma, "',' or ')' in the result types")?;
                    }
                }
            } else {
                op.result_types.push(self.tensor_type()?);
            }
            return Ok(());
        }
        let mut list = vec![self.tensor_type()?];
        while self.eat(Tok::Comma)? {
            list.push(self.tensor_type()?);
        }
        // `chlo.square %x : T -> T`: operand types, then result types, without parentheses.
        if self.eat(Tok::Arrow)? {
            op.operand_types = Some(list);
            if self.eat(Tok::LParen)? {
                loop {
                    op.result_types.push(self.tensor_type()?);
                    if self.eat(Tok::RParen)? {
                        break;
                    }
                    self.expect(Tok::Comma, "',' or ')' in the result types")?;
                }
            } else {
                op.result_types.push(self.tensor_type()?);
            }
            return Ok(());
        }
        let n = op.num_results();
        if n == 0 {
            op.operand_types = Some(list);
        } else if n == list.len() {
            op.result_types = list;
        } else {
            op.result_types = list.split_off(list.len() - 1);
        }
        Ok(())
    }

    /// `%x` or `%x#1`.
    fn value_ref(&mut self) -> PResult<ValRef> {
        let t = self.expect(Tok::Value, "a value '%name'")?;
        let text = &self.lex.text(t)[1..];
        Ok(match text.split_once('#') {
            Some((name, idx)) => ValRef {
                name: name.to_string(),
                index: Some(
                    idx.parse()
                        .map_err(|_| self.err(t.start, "a result index is too large"))?,
                ),
                pos: t.start,
            },
            None => ValRef {
                name: text.to_string(),
                index: None,
                pos: t.start,
            },
        })
    }
}

/// `@name` or `@"name"` without the sigil and quotes.
fn symbol_name(text: &str) -> String {
    let s = text.trim_start_matches('@');
    if s.starts_with('"') {
        unquote(s)
    } else {
        s.to_string()
    }
}

/// A string literal's contents; escapes are kept as written (graphjit only compares them).
fn unquote(text: &str) -> String {
    text.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(text)
        .to_string()
}
