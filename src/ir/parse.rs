//! The parser of the IR text form: reads what [`Display`](std::fmt::Display) of
//! [`Function`] and [`Module`] (in [`super::print`]) writes.
//!
//! # Grammar
//!
//! ```text
//! module     = { function } ;
//! function   = "func" FUNC "(" [ param { "," param } ] ")" "->" results "{" statements "}" ;
//! param      = VALUE ":" type ;
//! results    = "(" [ types ] ")" | type ;          (* printed as "(" ... ")" *)
//! statements = { statement } ;
//! statement  = [ VALUE { "," VALUE } "=" ] op ;
//! op         = "const" literal [ ":" types ]
//!            | "while" "(" [ carried { "," carried } ] ")" [ ":" types ]
//!                  "{" statements "}" "do" "{" statements "}"
//!            | "if" [ operands ] [ ":" types ] "{" statements "}" "else" "{" statements "}"
//!            | REGIONOP [ operands ] { attribute } [ ":" types ]
//!                  "(" [ rarg { "," rarg } ] ")" "{" statements "}"
//!            | OPNAME [ operands ] { attribute } [ ":" types ] ;
//! carried    = VALUE "=" VALUE ;                    (* region argument = initial value *)
//! rarg       = VALUE ":" type ;                     (* a region argument of a region op *)
//! REGIONOP   = "reduce" | "reduce_window" | "sort" | "scatter" ;
//! operands   = VALUE { "," VALUE } ;
//! attribute  = IDENT "=" ( INT | "[" [ INT { "," INT } ] "]" ) ;
//! types      = type { "," type } ;
//! type       = DTYPE [ "[" [ INT { "," INT } ] "]" ] ;   (* f32, i64[2,3] *)
//! literal    = ATOM | "[" [ literal { "," literal } ] "]" ;
//! VALUE = "%" NAME ;  FUNC = "@" NAME ;  NAME = [A-Za-z0-9_.]+ ;
//! IDENT = [A-Za-z_][A-Za-z0-9_.]* ;  INT = [0-9]+ ;  DTYPE = bool | i32 | i64 | f32 | f64 ;
//! ATOM  = [A-Za-z0-9+\-._]+ ;   (* 2, -7, 2.5, 1e-45, nan, inf, -inf, true *)
//! ```
//!
//! `;` starts a comment that runs to the end of the line. OPNAME is one of the names of
//! [`Op::name`]; the attributes are `dims` (broadcast, reverse), `perm` (transpose), `start`,
//! `limit`, `stride` (slice), `axis` (concat, iota), `axes` (reduce) and `sizes`
//! (dynamic_slice); region ops take theirs as listed in `RegionOp`'s parser (`dims`;
//! `window`, `strides`, `base_dilations`, `window_dilations`, `pad_low`, `pad_high`; `dim`,
//! `stable`; the scatter dimension numbers), where a left-out list is neutral. A constant's literal is read with [`crate::tensor::parse_literal`]: an
//! atom fills the whole declared type (a splat), a list must spell out its shape.
//!
//! The parser checks syntax and resolves names; a name must be defined earlier in the text
//! and only once per function. Whether a use is *visible* (not from a sibling or nested
//! region) and whether the program is well typed is the verifier's business
//! ([`super::verify`]). The parser never panics and bounds all nesting: regions at
//! [`MAX_REGION_DEPTH`], literals inside `parse_literal`.
//!
//! This file reads functions, regions and statements; op names and their attributes are read
//! in `attrs`, the headers of region ops in `region`.
//!
//! # Canonical order
//!
//! The parser creates values, instructions and regions in the order their definitions appear
//! in the text: the parameters first; each instruction, with its result values, when the
//! instruction is reached; a `while`'s or region op's region arguments right after its results; each region
//! (with [`Function::add_region`]) when its `{` is reached, then its contents. A function whose
//! arena order is this order is *canonical*, and for every canonical function that verifies
//! `parse(print(f)) == f` (the derived `PartialEq`; constants of more than
//! [`MAX_CONST_ELEMENTS`] elements excepted). Any function built through the
//! [`Function`] API in textual order (`push_inst`, then `add_region_args`, then `add_region`
//! and the region's contents, region by region) is canonical;
//! [`super::print::canonicalize`] renumbers any verified function into canonical order.

use std::collections::HashMap;

use crate::error::ParseError;
use crate::ir::lexer::{Lexer, Tok, Token};
use crate::ir::{Function, Inst, Module, Region, Value, MAX_REGION_DEPTH};
use crate::ops::Op;
use crate::tensor::{parse_literal, Tensor};
use crate::types::{DType, TensorType};

mod attrs;
mod region;
use attrs::OpKind;
use region::region_kind;

/// The most elements a constant written in text may have. Constants are dense, so a larger
/// splat (`const 0 : f32[65536,65536]`) would allocate gigabytes from a few bytes of text.
pub const MAX_CONST_ELEMENTS: usize = 1 << 24;

/// Parses a file of functions.
pub fn parse_module(src: &str) -> Result<Module, ParseError> {
    let mut p = Parser::new(src);
    let mut funcs = Vec::new();
    while p.lex.peek()?.kind != Tok::Eof {
        funcs.push(p.function()?);
    }
    Ok(Module { funcs })
}

/// Parses text holding exactly one function.
pub fn parse_function(src: &str) -> Result<Function, ParseError> {
    let mut p = Parser::new(src);
    let f = p.function()?;
    let t = p.lex.peek()?;
    if t.kind != Tok::Eof {
        return Err(p.err(
            t,
            format!(
                "expected end of input after function @{} (parse_function reads one function), found {}",
                f.name,
                p.lex.describe(t)
            ),
        ));
    }
    Ok(f)
}

/// A name in the text with the offset where it was written.
#[derive(Clone)]
struct Name {
    text: String,
    at: Token,
}

struct Parser<'a> {
    lex: Lexer<'a>,
    /// The value names of the function being parsed: the value and where it was defined.
    names: HashMap<String, (Value, usize)>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Parser<'a> {
        Parser {
            lex: Lexer::new(src),
            names: HashMap::new(),
        }
    }

    fn err(&self, t: Token, message: impl Into<String>) -> ParseError {
        self.lex.error_at(t.start, message)
    }

    /// Consumes a token of `kind`, or fails with `expected {what}, found ...`.
    fn expect(&mut self, kind: Tok, what: &str) -> Result<Token, ParseError> {
        let t = self.lex.peek()?;
        if t.kind != kind {
            return Err(self.err(
                t,
                format!("expected {what}, found {}", self.lex.describe(t)),
            ));
        }
        self.lex.next()
    }

    /// Consumes the word `word`, or fails with `expected {what}, found ...`.
    fn expect_word(&mut self, word: &str, what: &str) -> Result<Token, ParseError> {
        let t = self.lex.peek()?;
        if t.kind != Tok::Ident || self.lex.text(t) != word {
            return Err(self.err(
                t,
                format!("expected {what}, found {}", self.lex.describe(t)),
            ));
        }
        self.lex.next()
    }

    /// Consumes a token of `kind` if it comes next.
    fn eat(&mut self, kind: Tok) -> Result<bool, ParseError> {
        if self.lex.peek()?.kind == kind {
            self.lex.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn value_name(&self, t: Token) -> Name {
        Name {
            text: self.lex.text(t)[1..].to_string(),
            at: t,
        }
    }

    fn function(&mut self) -> Result<Function, ParseError> {
        self.names.clear();
        self.expect_word("func", "'func' to start a function")?;
        let name_tok = self.expect(Tok::Func, "a function name like @main after 'func'")?;
        let name = self.lex.text(name_tok)[1..].to_string();
        self.expect(Tok::LParen, &format!("'(' after @{name}"))?;
        let mut params = Vec::new();
        if !self.eat(Tok::RParen)? {
            loop {
                let p = self.expect(Tok::Value, "a parameter name like %x")?;
                let pname = self.value_name(p);
                self.expect(Tok::Colon, &format!("':' after parameter %{}", pname.text))?;
                let ty = self.ty(&format!("parameter %{}", pname.text))?;
                params.push((pname, ty));
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after a parameter")?;
            }
        }
        self.expect(Tok::Arrow, &format!("'->' and the result types of @{name}"))?;
        let results = if self.eat(Tok::LParen)? {
            let mut results = Vec::new();
            if !self.eat(Tok::RParen)? {
                results = self.types(&format!("the results of @{name}"))?;
                self.expect(Tok::RParen, "',' or ')' after the result types")?;
            }
            results
        } else {
            vec![self.ty(&format!("the result of @{name}"))?]
        };
        let open = self.expect(Tok::LBrace, &format!("'{{' to open the body of @{name}"))?;
        let mut f = Function::new(name, results);
        for (pname, ty) in params {
            let v = f.add_param(ty, Some(pname.text.clone()));
            self.define(&pname, v)?;
        }
        let body = f.body;
        self.statements(&mut f, body, open, 0)?;
        Ok(f)
    }

    /// Registers a defined name, refusing a second definition.
    fn define(&mut self, name: &Name, v: Value) -> Result<(), ParseError> {
        if let Some(&(_, at)) = self.names.get(&name.text) {
            let (line, col) = crate::ir::lexer::line_col(self.lex.src(), at);
            return Err(self.err(
                name.at,
                format!(
                    "value %{} is already defined at {line}:{col}; names are unique per function",
                    name.text
                ),
            ));
        }
        self.names.insert(name.text.clone(), (v, name.at.start));
        Ok(())
    }

    /// Resolves a use of a value name.
    fn resolve(&self, t: Token) -> Result<Value, ParseError> {
        let name = &self.lex.text(t)[1..];
        match self.names.get(name) {
            Some(&(v, _)) => Ok(v),
            None => Err(self.err(t, format!("undefined value %{name}"))),
        }
    }

    /// Parses a type: `f32`, `i64[2,3]`.
    fn ty(&mut self, what: &str) -> Result<TensorType, ParseError> {
        let t = self.lex.peek()?;
        if t.kind != Tok::Ident {
            return Err(self.err(
                t,
                format!(
                    "expected a type like f32[2,3] for {what}, found {}",
                    self.lex.describe(t)
                ),
            ));
        }
        let Some(dtype) = DType::from_name(self.lex.text(t)) else {
            return Err(self.err(
                t,
                format!(
                    "unknown element type {} for {what} (expected {})",
                    self.lex.describe(t),
                    DType::names()
                ),
            ));
        };
        self.lex.next()?;
        let mut shape = Vec::new();
        if self.eat(Tok::LBracket)? && !self.eat(Tok::RBracket)? {
            loop {
                shape.push(self.int("a dimension size")?);
                if self.eat(Tok::RBracket)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ']' in a shape")?;
            }
        }
        Ok(TensorType::new(dtype, shape))
    }

    /// Parses one or more comma-separated types.
    fn types(&mut self, what: &str) -> Result<Vec<TensorType>, ParseError> {
        let mut out = vec![self.ty(what)?];
        while self.eat(Tok::Comma)? {
            out.push(self.ty(what)?);
        }
        Ok(out)
    }

    fn int(&mut self, what: &str) -> Result<usize, ParseError> {
        let t = self.expect(Tok::Int, what)?;
        self.lex.text(t).parse::<usize>().map_err(|_| {
            self.err(
                t,
                format!("integer {} is too large for {what}", self.lex.describe(t)),
            )
        })
    }

    // The functions from here to `if_op` recurse once per region level. They are kept small,
    // with every error message and header built in helpers of their own, so that each level
    // costs little stack even in unoptimized builds.

    /// Parses the statements of a region up to and including its closing `}`.
    fn statements(
        &mut self,
        f: &mut Function,
        region: Region,
        open: Token,
        depth: usize,
    ) -> Result<(), ParseError> {
        loop {
            match self.lex.peek()?.kind {
                Tok::RBrace => {
                    self.lex.next()?;
                    return Ok(());
                }
                Tok::Eof => return Err(self.unclosed(open)),
                _ => self.statement(f, region, depth)?,
            }
        }
    }

    #[inline(never)]
    fn unclosed(&self, open: Token) -> ParseError {
        let (line, col) = crate::ir::lexer::line_col(self.lex.src(), open.start);
        self.lex.error_at(
            self.lex.src().len(),
            format!("expected '}}' to close the region opened at {line}:{col}, found end of input"),
        )
    }

    /// Opens a nested region at the `{` that comes next, and parses it.
    fn region(&mut self, f: &mut Function, depth: usize, what: &str) -> Result<Region, ParseError> {
        let open = self.open_region(depth, what)?;
        let r = f.add_region();
        self.statements(f, r, open, depth + 1)?;
        Ok(r)
    }

    /// Consumes the `{` of a nested region at `depth + 1`, refusing to go deeper than the limit.
    #[inline(never)]
    fn open_region(&mut self, depth: usize, what: &str) -> Result<Token, ParseError> {
        let open = self.expect(Tok::LBrace, &format!("'{{' to open {what}"))?;
        if depth + 1 > MAX_REGION_DEPTH {
            return Err(self.err(
                open,
                format!("regions are nested deeper than the limit of {MAX_REGION_DEPTH}"),
            ));
        }
        Ok(open)
    }

    /// Parses `%a, %b =` (if present) and the op after it.
    fn statement(
        &mut self,
        f: &mut Function,
        region: Region,
        depth: usize,
    ) -> Result<(), ParseError> {
        let names = self.result_names()?;
        let op_tok = self.op_token(names.is_empty())?;
        match self.lex.text(op_tok) {
            "while" => self.while_op(f, region, names, depth),
            "if" => self.if_op(f, region, names, depth),
            name if region_kind(name).is_some() => {
                let inst = self.region_header(f, region, names, op_tok)?;
                let what = format!("the region of '{}'", f.inst(inst).op.name());
                let r = self.region(f, depth, &what)?;
                f.set_regions(inst, vec![r]);
                Ok(())
            }
            "case" => self.case_op(f, region, names, depth),
            _ => self.flat_op(f, region, names, op_tok),
        }
    }

    /// Parses `%a, %b =` if a value comes next.
    #[inline(never)]
    fn result_names(&mut self) -> Result<Vec<Name>, ParseError> {
        let mut names = Vec::new();
        if self.lex.peek()?.kind == Tok::Value {
            loop {
                let t = self.expect(Tok::Value, "a result name after ','")?;
                names.push(self.value_name(t));
                if self.eat(Tok::Comma)? {
                    continue;
                }
                let last = self.lex.text(t).to_string();
                self.expect(Tok::Equals, &format!("',' or '=' after result {last}"))?;
                return Ok(names);
            }
        }
        Ok(names)
    }

    /// Consumes the op name of a statement.
    #[inline(never)]
    fn op_token(&mut self, no_results: bool) -> Result<Token, ParseError> {
        let op_tok = self.lex.peek()?;
        if op_tok.kind != Tok::Ident {
            let what = if no_results {
                "an instruction or '}'"
            } else {
                "an op name after '='"
            };
            return Err(self.err(
                op_tok,
                format!("expected {what}, found {}", self.lex.describe(op_tok)),
            ));
        }
        self.lex.next()
    }

    fn while_op(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
        depth: usize,
    ) -> Result<(), ParseError> {
        let inst = self.while_header(f, region, names)?;
        let cond = self.region(f, depth, "the condition region of 'while'")?;
        self.expect_word("do", "'do' and the body region of 'while'")?;
        let body = self.region(f, depth, "the body region of 'while'")?;
        f.set_regions(inst, vec![cond, body]);
        Ok(())
    }

    fn if_op(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
        depth: usize,
    ) -> Result<(), ParseError> {
        let inst = self.if_header(f, region, names)?;
        let then = self.region(f, depth, "the then region of 'if'")?;
        self.expect_word("else", "'else' and the else region of 'if'")?;
        let els = self.region(f, depth, "the else region of 'if'")?;
        f.set_regions(inst, vec![then, els]);
        Ok(())
    }

    /// `case %i : TYPES { ... } or { ... } or ...`: one region per branch.
    fn case_op(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
        depth: usize,
    ) -> Result<(), ParseError> {
        let args = self.operands()?;
        let types = self.result_types(&names, "case")?;
        let inst = self.push(f, region, Op::Case, args, types, &names)?;
        let mut regions = vec![self.region(f, depth, "the first branch of 'case'")?];
        while self.lex.peek()?.kind == Tok::Ident && self.lex.text(self.lex.peek()?) == "or" {
            self.lex.next()?;
            regions.push(self.region(f, depth, "a branch of 'case'")?);
        }
        f.set_regions(inst, regions);
        Ok(())
    }

    /// Parses an op without regions.
    #[inline(never)]
    fn flat_op(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
        op_tok: Token,
    ) -> Result<(), ParseError> {
        let op_name = self.lex.text(op_tok);
        if op_name == "const" {
            return self.const_op(f, region, names, op_tok);
        }
        let Some(kind) = OpKind::from_name(op_name) else {
            return Err(self.err(op_tok, format!("unknown op '{op_name}'")));
        };
        self.plain_op(f, region, names, op_tok, kind)
    }

    /// Parses `%a, %b` if a value comes next.
    fn operands(&mut self) -> Result<Vec<Value>, ParseError> {
        let mut args = Vec::new();
        if self.lex.peek()?.kind != Tok::Value {
            return Ok(args);
        }
        loop {
            let t = self.lex.next()?;
            args.push(self.resolve(t)?);
            if !self.eat(Tok::Comma)? {
                return Ok(args);
            }
            let t = self.lex.peek()?;
            if t.kind != Tok::Value {
                return Err(self.err(
                    t,
                    format!(
                        "expected an operand after ',', found {}",
                        self.lex.describe(t)
                    ),
                ));
            }
        }
    }

    /// Parses `: TYPES` when the op has results (or a `:` comes next), and checks that there
    /// is one type per result name.
    fn result_types(
        &mut self,
        names: &[Name],
        op_name: &str,
    ) -> Result<Vec<TensorType>, ParseError> {
        let t = self.lex.peek()?;
        if t.kind != Tok::Colon {
            if names.is_empty() {
                return Ok(Vec::new());
            }
            return Err(self.err(
                t,
                format!(
                    "expected ':' after the operands of '{op_name}' and then its result types, found {}",
                    self.lex.describe(t)
                ),
            ));
        }
        self.lex.next()?;
        let first = self.lex.peek()?;
        let types = self.types(&format!("the results of '{op_name}'"))?;
        if types.len() != names.len() {
            return Err(self.err(
                first,
                format!(
                    "'{op_name}' has {} result name(s) but {} result type(s)",
                    names.len(),
                    types.len()
                ),
            ));
        }
        Ok(types)
    }

    /// Creates an instruction and its results and registers the result names.
    fn push(
        &mut self,
        f: &mut Function,
        region: Region,
        op: Op,
        args: Vec<Value>,
        types: Vec<TensorType>,
        names: &[Name],
    ) -> Result<Inst, ParseError> {
        let inst = f.push_inst(
            region,
            op,
            args,
            types,
            names.iter().map(|n| Some(n.text.clone())).collect(),
        );
        for (n, &v) in names.iter().zip(f.results(inst).to_vec().iter()) {
            self.define(n, v)?;
        }
        Ok(inst)
    }

    fn const_op(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
        op_tok: Token,
    ) -> Result<(), ParseError> {
        self.lex.skip_trivia();
        let at = self.lex.pos();
        let rest = self.lex.src().get(at..).unwrap_or("");
        let (lit, used) = parse_literal(rest).map_err(|(off, m)| {
            self.lex
                .error_at(at + off, format!("invalid constant: {m}"))
        })?;
        self.lex.set_pos(at + used);
        let types = self.result_types(&names, "const")?;
        let Some(ty) = types.first() else {
            return Err(self.err(op_tok, "'const' needs a result name and type"));
        };
        if let Err(m) = ty.check_size() {
            return Err(self.lex.error_at(at, format!("invalid constant: {m}")));
        }
        if ty.num_elements() > MAX_CONST_ELEMENTS {
            return Err(self.lex.error_at(
                at,
                format!(
                    "constant of type {ty} has more elements than the limit of {MAX_CONST_ELEMENTS} for constants"
                ),
            ));
        }
        let t = Tensor::from_literal(&lit, ty).map_err(|m| {
            self.lex
                .error_at(at, format!("constant does not fit its type {ty}: {m}"))
        })?;
        self.push(f, region, Op::Const(t), Vec::new(), types, &names)?;
        Ok(())
    }

    fn plain_op(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
        op_tok: Token,
        kind: OpKind,
    ) -> Result<(), ParseError> {
        let op_name = self.lex.text(op_tok).to_string();
        let args = self.operands()?;
        let attrs = self.attributes(&op_name, kind.attr_names())?;
        let types = self.result_types(&names, &op_name)?;
        let op = self.build_op(kind, attrs, op_tok, &op_name)?;
        self.push(f, region, op, args, types, &names)?;
        Ok(())
    }

    /// Parses `while (%x = %init, ...) : TYPES` and creates the instruction, its results
    /// and its region arguments.
    #[inline(never)]
    fn while_header(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
    ) -> Result<Inst, ParseError> {
        self.expect(Tok::LParen, "'(' and the loop-carried values after 'while'")?;
        let mut carried = Vec::new();
        let mut args = Vec::new();
        if !self.eat(Tok::RParen)? {
            loop {
                let t = self.expect(Tok::Value, "a loop variable like %i")?;
                let name = self.value_name(t);
                self.expect(
                    Tok::Equals,
                    &format!(
                        "'=' and an initial value after loop variable %{}",
                        name.text
                    ),
                )?;
                let init =
                    self.expect(Tok::Value, &format!("the initial value of %{}", name.text))?;
                args.push(self.resolve(init)?);
                carried.push(name);
                if self.eat(Tok::RParen)? {
                    break;
                }
                self.expect(Tok::Comma, "',' or ')' after a loop variable")?;
            }
        }
        let types_at = self.lex.peek()?;
        let types = self.result_types(&names, "while")?;
        if types.len() != carried.len() {
            return Err(self.err(
                types_at,
                format!(
                    "'while' has {} loop-carried value(s) but {} result type(s)",
                    carried.len(),
                    types.len()
                ),
            ));
        }
        let inst = self.push(f, region, Op::While, args, types.clone(), &names)?;
        let region_args = f.add_region_args(
            inst,
            types,
            carried.iter().map(|n| Some(n.text.clone())).collect(),
        );
        for (n, &v) in carried.iter().zip(&region_args) {
            self.define(n, v)?;
        }
        Ok(inst)
    }

    /// Parses `if %p : TYPES` and creates the instruction and its results.
    #[inline(never)]
    fn if_header(
        &mut self,
        f: &mut Function,
        region: Region,
        names: Vec<Name>,
    ) -> Result<Inst, ParseError> {
        let args = self.operands()?;
        let types = self.result_types(&names, "if")?;
        self.push(f, region, Op::If, args, types, &names)
    }
}
