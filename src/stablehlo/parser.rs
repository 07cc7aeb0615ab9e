//! The parser of StableHLO text into the syntax tree of [`super::ast`].
//!
//! It reads the MLIR that JAX prints: a `module` (or bare functions) of `func.func`s whose
//! ops come in the generic form (`"stablehlo.sort"(%a) <{...}> ({...}) : (...) -> ...`) or the
//! pretty form. Pretty forms with their own grammar (`constant`, `while`, `reduce`, `call`,
//! `custom_call`) have their own function; every other pretty op is read as a list of items
//! (operands, `key = attribute`, bare words, a `[0:2:1]` slice spec) and a type signature.
//! Locations (`loc(...)`, `#loc` aliases) are skipped. Nesting of regions and attributes is
//! bounded, so no input can exhaust the stack.

use crate::error::ParseError;
use crate::ir::MAX_REGION_DEPTH;
use crate::types::{DType, TensorType};

use super::ast::{Attr, BlockAst, Dense, FuncAst, ModuleAst, OpAst, ResultDef, ValRef};
use super::lexer::{Lexer, Tok, Token};

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

    /// `stablehlo.constant dense<...> : tensor<...>`.
    fn pretty_constant(&mut self, op: &mut OpAst) -> PResult<()> {
        let a = self.attr()?;
        if self.peek_is(Tok::LBrace)? {
            self.attr_dict(&mut op.attrs)?;
        }
        self.expect(Tok::Colon, "':' and the constant's type")?;
        self.type_signature(op)?;
        op.attrs.push(("value".into(), a));
        Ok(())
    }

    /// `stablehlo.while(%it = %init, ...) : types cond { ... } do { ... }`.
    fn pretty_while(&mut self, op: &mut OpAst) -> PResult<()> {
        self.expect(Tok::LParen, "'(' and the loop-carried values")?;
        let mut names = Vec::new();
        if !self.eat(Tok::RParen)? {
            loop {
                let v = self.expect(Tok::Value, "a loop variable '%name'")?;
                names.push(self.lex.text(v)[1..].to_string());
                self.expect(Tok::Equals, "'=' and the initial value")?;
                op.operands.push(self.value_ref()?);
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after a loop variable")?;
            }
        }
        if self.peek_is(Tok::LBrace)? {
            self.attr_dict(&mut op.attrs)?;
        }
        let mut types = Vec::new();
        if self.eat(Tok::Colon)? {
            types.push(self.tensor_type()?);
            while self.eat(Tok::Comma)? {
                types.push(self.tensor_type()?);
            }
        }
        if types.len() != names.len() {
            return Err(self.err(
                op.pos,
                format!(
                    "'stablehlo.while' has {} loop variables but {} types",
                    names.len(),
                    types.len()
                ),
            ));
        }
        let args: Vec<_> = names.into_iter().zip(types.iter().cloned()).collect();
        op.result_types = types;
        self.expect_word("cond")?;
        op.regions.push(self.region(args.clone())?);
        self.expect_word("do")?;
        op.regions.push(self.region(args)?);
        Ok(())
    }

    /// `stablehlo.reduce(%x init: %c), ... applies OP across dimensions = [..] : sig`, or
    /// the same with `across ... : sig reducer(%a: T, %b: T) ... { ... }`.
    fn pretty_reduce(&mut self, op: &mut OpAst) -> PResult<()> {
        let mut inits = Vec::new();
        loop {
            self.expect(Tok::LParen, "'(' and a reduced value")?;
            op.operands.push(self.value_ref()?);
            self.expect_word("init")?;
            self.expect(Tok::Colon, "':' after 'init'")?;
            inits.push(self.value_ref()?);
            self.expect(Tok::RParen, "')' after the initial value")?;
            if !self.eat(Tok::Comma)? {
                break;
            }
        }
        op.operands.extend(inits);
        if self.peek_word("applies")? {
            self.next()?;
            let t = self.expect(Tok::Ident, "the reducing op after 'applies'")?;
            op.applies = Some(self.lex.text(t).to_string());
        }
        self.expect_word("across")?;
        self.expect_word("dimensions")?;
        self.expect(Tok::Equals, "'=' after 'dimensions'")?;
        let dims = self.attr()?;
        op.attrs.push(("dimensions".into(), dims));
        if self.peek_is(Tok::LBrace)? {
            self.attr_dict(&mut op.attrs)?;
        }
        self.expect(Tok::Colon, "':' and the reduce's type")?;
        self.type_signature(op)?;
        if op.applies.is_none() {
            self.skip_loc()?;
            self.expect_word("reducer")?;
            let mut lhs = Vec::new();
            let mut rhs = Vec::new();
            while self.eat(Tok::LParen)? {
                for side in [&mut lhs, &mut rhs] {
                    let v = self.expect(Tok::Value, "a reducer argument '%name'")?;
                    self.expect(Tok::Colon, "':' and the argument's type")?;
                    let ty = self.tensor_type()?;
                    self.skip_loc()?;
                    side.push((self.lex.text(v)[1..].to_string(), ty));
                    self.eat(Tok::Comma)?;
                }
                self.expect(Tok::RParen, "')' after a pair of reducer arguments")?;
            }
            lhs.extend(rhs);
            op.regions.push(self.region(lhs)?);
        }
        Ok(())
    }

    /// `call @f(%a) : (T) -> U`, `stablehlo.custom_call @target(%a) {...} : (T) -> U`.
    fn pretty_call(&mut self, op: &mut OpAst) -> PResult<()> {
        let t = self.expect(Tok::Symbol, "the callee '@name'")?;
        op.callee = Some(symbol_name(self.lex.text(t)));
        self.expect(Tok::LParen, "'(' and the arguments")?;
        if !self.eat(Tok::RParen)? {
            loop {
                op.operands.push(self.value_ref()?);
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after an argument")?;
            }
        }
        if self.peek_is(Tok::LBrace)? {
            self.attr_dict(&mut op.attrs)?;
        }
        self.expect(Tok::Colon, "':' and the call's type")?;
        self.type_signature(op)
    }

    /// The items of a pretty op: operands, `key = attribute`, bare words, `[0:2]` slice specs;
    /// then an optional attribute dictionary and type signature.
    fn pretty_items(&mut self, op: &mut OpAst) -> PResult<()> {
        let mut first = true;
        loop {
            let t = self.peek()?;
            let is_item = match t.kind {
                Tok::Value | Tok::Str | Tok::LBracket => true,
                Tok::Ident => self.lex.text(t) != "loc",
                _ => false,
            };
            if !is_item {
                if first {
                    break;
                }
                return Err(self.err(
                    t.start,
                    format!(
                        "expected an operand or attribute after ',', found {}",
                        self.lex.describe(t)
                    ),
                ));
            }
            first = false;
            match t.kind {
                Tok::Value => {
                    op.operands.push(self.value_ref()?);
                    if self.peek_is(Tok::LBracket)? {
                        self.slice_spec(op)?;
                    }
                }
                Tok::Ident if self.lex.text(t) != "loc" => {
                    self.next()?;
                    let key = self.lex.text(t).to_string();
                    if self.eat(Tok::Equals)? {
                        // A `:` after a pretty attribute starts the op's signature.
                        let a = self.attr()?;
                        op.attrs.push((key, a));
                    } else {
                        op.words.push(key);
                    }
                }
                Tok::Str => {
                    self.next()?;
                    op.words.push(unquote(self.lex.text(t)));
                }
                Tok::LBracket => self.slice_spec(op)?,
                _ => break,
            }
            if !self.eat(Tok::Comma)? {
                break;
            }
        }
        if self.peek_is(Tok::LBrace)? {
            self.attr_dict(&mut op.attrs)?;
        }
        if self.eat(Tok::Colon)? {
            self.type_signature(op)?;
        }
        Ok(())
    }

    /// `[0:2, 1:5:2]`: the start, limit and stride of each dimension of a pretty slice.
    fn slice_spec(&mut self, op: &mut OpAst) -> PResult<()> {
        self.expect(Tok::LBracket, "'['")?;
        let (mut start, mut limit, mut stride) = (Vec::new(), Vec::new(), Vec::new());
        if !self.eat(Tok::RBracket)? {
            loop {
                let s = self.int()?;
                self.expect(Tok::Colon, "':' in a slice range")?;
                let l = self.int()?;
                let k = if self.eat(Tok::Colon)? {
                    self.int()?
                } else {
                    1
                };
                start.push(s);
                limit.push(l);
                stride.push(k);
                if self.eat(Tok::RBracket)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ']' in a slice")?;
            }
        }
        op.attrs.push(("start_indices".into(), Attr::Array(start)));
        op.attrs.push(("limit_indices".into(), Attr::Array(limit)));
        op.attrs.push(("strides".into(), Attr::Array(stride)));
        Ok(())
    }

    fn int(&mut self) -> PResult<i64> {
        let t = self.expect(Tok::Number, "an integer")?;
        self.lex
            .text(t)
            .parse()
            .map_err(|_| self.err(t.start, format!("'{}' is not an integer", self.lex.text(t))))
    }

    /// `{key = value, flag, ...}` (appended to `out`).
    fn attr_dict(&mut self, out: &mut Vec<(String, Attr)>) -> PResult<()> {
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

    fn attr(&mut self) -> PResult<Attr> {
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
    fn tensor_type(&mut self) -> PResult<TensorType> {
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
