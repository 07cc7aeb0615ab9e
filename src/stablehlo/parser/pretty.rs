//! The pretty forms of StableHLO ops: those with their own grammar (`constant`, `while`,
//! `reduce`, `call`) and the generic item list (operands, `key = attribute`, bare words, a
//! slice spec) every other pretty op is read as.

use super::{symbol_name, unquote, PResult, Parser};
use crate::stablehlo::ast::{Attr, OpAst};
use crate::stablehlo::lexer::Tok;

impl Parser<'_> {
    /// `stablehlo.constant dense<...> : tensor<...>`.
    pub(super) fn pretty_constant(&mut self, op: &mut OpAst) -> PResult<()> {
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
    pub(super) fn pretty_while(&mut self, op: &mut OpAst) -> PResult<()> {
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
    pub(super) fn pretty_reduce(&mut self, op: &mut OpAst) -> PResult<()> {
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
    pub(super) fn pretty_call(&mut self, op: &mut OpAst) -> PResult<()> {
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
    pub(super) fn pretty_items(&mut self, op: &mut OpAst) -> PResult<()> {
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
}
