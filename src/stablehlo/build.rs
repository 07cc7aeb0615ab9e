//! The builder: turns the syntax tree into graphjit IR, one function at a time.
//!
//! It keeps the scopes of MLIR names, inlines `call`s (callees are isolated from above, so
//! each gets fresh scopes), emits every instruction through [`Builder::emit`], which checks
//! the op's type rule, and checks each op's declared result types against the types graphjit
//! infers. What each op means is in [`super::ops`].

use std::collections::HashMap;

use crate::error::ParseError;
use crate::ir::{Function, Region, Value, ValueDef};
use crate::ops::{infer, Op};
use crate::tensor::{parse_scalar, Data, Scalar, Tensor};
use crate::types::{DType, TensorType};

use super::ast::{BlockAst, Dense, FuncAst, ModuleAst, OpAst};
use super::lexer::error_at;
use super::ops::builder_for;
use super::parser::MAX_CONST_ELEMENTS;

pub(crate) type PResult<T> = Result<T, ParseError>;

/// The most instructions one imported function may grow to (calls are inlined, so a chain of
/// functions calling the next twice would otherwise grow exponentially).
const MAX_INSTS: usize = 1 << 20;

/// How deeply calls may nest while they are inlined.
const MAX_CALL_DEPTH: usize = 64;

pub(crate) struct Builder<'m> {
    pub src: &'m str,
    module: &'m ModuleAst,
    pub f: Function,
    scopes: Vec<HashMap<String, Vec<Value>>>,
    calls: Vec<String>,
    /// Where the terminator of the block built last is: type errors of what it returns
    /// point there.
    pub term_pos: usize,
}

/// Builds the graphjit function of `func`, inlining every call.
pub(crate) fn build_function(src: &str, module: &ModuleAst, func: &FuncAst) -> PResult<Function> {
    let mut b = Builder {
        src,
        module,
        f: Function::new(func.name.clone(), func.results.clone()),
        scopes: vec![HashMap::new()],
        calls: vec![func.name.clone()],
        term_pos: func.pos,
    };
    for (name, ty) in &func.params {
        let v = b.f.add_param(ty.clone(), None);
        b.bind_one(name, v);
    }
    let body = b.f.body;
    let out = b.block(body, &func.body, "function body")?;
    b.check_yield(
        &out,
        &func.results,
        b.term_pos,
        "the function's result types",
    )?;
    b.f.push_inst(body, Op::Return, out, Vec::new(), Vec::new());
    Ok(b.f)
}

impl<'m> Builder<'m> {
    pub fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        error_at(self.src, at, msg)
    }

    pub fn ty(&self, v: Value) -> TensorType {
        self.f.ty(v).clone()
    }

    fn bind_one(&mut self, name: &str, v: Value) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), vec![v]);
        }
    }

    fn lookup(&self, name: &str, index: Option<usize>, at: usize) -> PResult<Value> {
        let vals = self
            .scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name))
            .ok_or_else(|| self.err(at, format!("use of undefined value '%{name}'")))?;
        match (index, vals.as_slice()) {
            (None, [v]) => Ok(*v),
            (None, _) => Err(self.err(
                at,
                format!("'%{name}' has {} results: use '%{name}#N'", vals.len()),
            )),
            (Some(i), _) => vals.get(i).copied().ok_or_else(|| {
                self.err(
                    at,
                    format!("'%{name}' has {} results, not #{i}", vals.len()),
                )
            }),
        }
    }

    /// Builds the ops of a block into `region` in a new scope whose block arguments are
    /// `args`; returns the values of its terminator (which is not emitted).
    pub fn block_with_args(
        &mut self,
        region: Region,
        block: &BlockAst,
        args: &[Value],
        what: &str,
    ) -> PResult<Vec<Value>> {
        if block.args.len() != args.len() {
            return Err(self.err(
                block.pos,
                format!(
                    "the {what} has {} argument(s), but graphjit expects {}",
                    block.args.len(),
                    args.len()
                ),
            ));
        }
        let mut scope = HashMap::new();
        for ((name, ty), &v) in block.args.iter().zip(args) {
            if *ty != *self.f.ty(v) {
                return Err(self.err(
                    block.pos,
                    format!(
                        "argument '%{name}' of the {what} is declared {} but graphjit gives it {}",
                        show(ty),
                        show(self.f.ty(v))
                    ),
                ));
            }
            scope.insert(name.clone(), vec![v]);
        }
        self.scopes.push(scope);
        let r = self.block_ops(region, block, what);
        self.scopes.pop();
        r
    }

    /// Builds a block without arguments.
    pub fn block(&mut self, region: Region, block: &BlockAst, what: &str) -> PResult<Vec<Value>> {
        self.block_with_args(region, block, &[], what)
    }

    fn block_ops(&mut self, region: Region, block: &BlockAst, what: &str) -> PResult<Vec<Value>> {
        for (i, op) in block.ops.iter().enumerate() {
            if matches!(
                op.name.as_str(),
                "stablehlo.return" | "func.return" | "return"
            ) {
                if i + 1 != block.ops.len() {
                    return Err(self.err(op.pos, format!("'{}' must end its region", op.name)));
                }
                self.term_pos = op.pos;
                return self.operands(op);
            }
            self.op(region, op)?;
        }
        Err(self.err(
            block.pos,
            format!("the {what} has no terminator ('stablehlo.return' or 'return')"),
        ))
    }

    /// Checks that a terminator's values have the expected types.
    pub fn check_yield(
        &self,
        vals: &[Value],
        expected: &[TensorType],
        at: usize,
        what: &str,
    ) -> PResult<()> {
        let got: Vec<TensorType> = vals.iter().map(|&v| self.ty(v)).collect();
        if got != expected {
            return Err(self.err(
                at,
                format!(
                    "a region returns ({}) but {what} are ({})",
                    show_list(&got),
                    show_list(expected)
                ),
            ));
        }
        Ok(())
    }

    fn operands(&self, op: &OpAst) -> PResult<Vec<Value>> {
        let vals: Vec<Value> = op
            .operands
            .iter()
            .map(|r| self.lookup(&r.name, r.index, r.pos))
            .collect::<PResult<_>>()?;
        if let Some(tys) = &op.operand_types {
            if tys.len() != vals.len() {
                return Err(self.err(
                    op.pos,
                    format!(
                        "'{}' has {} operand(s) but its signature lists {} type(s)",
                        op.name,
                        vals.len(),
                        tys.len()
                    ),
                ));
            }
            for (i, (t, &v)) in tys.iter().zip(&vals).enumerate() {
                if t != self.f.ty(v) {
                    return Err(self.err(
                        op.operands[i].pos,
                        format!(
                            "operand {i} of '{}' is declared {} but is {}",
                            op.name,
                            show(t),
                            show(self.f.ty(v))
                        ),
                    ));
                }
            }
        }
        Ok(vals)
    }

    /// Builds one op: resolves its operands, runs its builder, checks the result types it
    /// declares against graphjit's, and binds its result names.
    fn op(&mut self, region: Region, op: &OpAst) -> PResult<()> {
        if self.f.insts.len() > MAX_INSTS {
            return Err(self.err(
                op.pos,
                format!("the program grows past {MAX_INSTS} instructions when calls are inlined"),
            ));
        }
        let args = self.operands(op)?;
        let build = builder_for(&op.name).ok_or_else(|| {
            self.err(
                op.pos,
                format!("op '{}' is not supported by graphjit", op.name),
            )
        })?;
        let out = build(self, region, op, &args)?;
        if out.len() != op.num_results() {
            return Err(self.err(
                op.pos,
                format!(
                    "'{}' gives {} result(s) but the text names {}",
                    op.name,
                    out.len(),
                    op.num_results()
                ),
            ));
        }
        if !op.result_types.is_empty() {
            let got: Vec<TensorType> = out.iter().map(|&v| self.ty(v)).collect();
            if got != op.result_types {
                return Err(self.err(
                    op.pos,
                    format!(
                        "'{}' is declared to give ({}) but graphjit infers ({})",
                        op.name,
                        show_list(&op.result_types),
                        show_list(&got)
                    ),
                ));
            }
        }
        let mut it = out.into_iter();
        for r in &op.results {
            let vals: Vec<Value> = it.by_ref().take(r.count).collect();
            if let Some(s) = self.scopes.last_mut() {
                s.insert(r.name.clone(), vals);
            }
        }
        Ok(())
    }

    /// Emits an op without regions after checking its type rule; `declared` is the result
    /// type the op needs (constants, conversions, reshapes), checked when given.
    pub fn emit(
        &mut self,
        region: Region,
        op: Op,
        args: &[Value],
        declared: Option<&TensorType>,
        at: &OpAst,
    ) -> PResult<Value> {
        let tys: Vec<&TensorType> = args.iter().map(|&v| self.f.ty(v)).collect();
        let ty = infer(&op, &tys, declared)
            .map_err(|e| self.err(at.pos, format!("'{}': {}", at.name, e.0)))?;
        if let Some(d) = declared {
            if *d != ty {
                return Err(self.err(
                    at.pos,
                    format!(
                        "'{}' is declared {} but graphjit infers {}",
                        at.name,
                        show(d),
                        show(&ty)
                    ),
                ));
            }
        }
        let inst = self
            .f
            .push_inst(region, op, args.to_vec(), vec![ty], Vec::new());
        Ok(self.f.results(inst)[0])
    }

    /// Emits a constant.
    pub fn constant(&mut self, region: Region, t: Tensor) -> Value {
        let ty = t.ty();
        let inst = self
            .f
            .push_inst(region, Op::Const(t), Vec::new(), vec![ty], Vec::new());
        self.f.results(inst)[0]
    }

    /// The value of a scalar constant, if `v` is one (or a splat constant).
    pub fn const_scalar(&self, v: Value) -> Option<Scalar> {
        match self.f.value(v).def {
            ValueDef::Result(i, 0) => match &self.f.inst(i).op {
                Op::Const(t) if t.is_splat() || t.len() == 1 => t.get(0),
                _ => None,
            },
            _ => None,
        }
    }

    /// Inlines a call of `@name` with `args`.
    pub fn inline_call(
        &mut self,
        region: Region,
        name: &str,
        args: &[Value],
        at: &OpAst,
    ) -> PResult<Vec<Value>> {
        let module = self.module;
        let callee = module
            .funcs
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| self.err(at.pos, format!("call of undefined function @{name}")))?;
        if self.calls.iter().any(|c| c == name) {
            return Err(self.err(
                at.pos,
                format!("recursive call of @{name} cannot be inlined"),
            ));
        }
        if self.calls.len() >= MAX_CALL_DEPTH {
            return Err(self.err(at.pos, "calls are nested too deeply"));
        }
        let expected: Vec<TensorType> = callee.params.iter().map(|(_, t)| t.clone()).collect();
        let got: Vec<TensorType> = args.iter().map(|&v| self.ty(v)).collect();
        if expected != got {
            return Err(self.err(
                at.pos,
                format!(
                    "@{name} takes ({}) but is called with ({})",
                    show_list(&expected),
                    show_list(&got)
                ),
            ));
        }
        let saved = std::mem::replace(
            &mut self.scopes,
            vec![callee
                .params
                .iter()
                .zip(args)
                .map(|((n, _), &v)| (n.clone(), vec![v]))
                .collect()],
        );
        self.calls.push(name.to_string());
        let r = self.block_ops(region, &callee.body, "function body");
        self.calls.pop();
        self.scopes = saved;
        let out = r?;
        self.check_yield(
            &out,
            &callee.results,
            self.term_pos,
            &format!("@{name}'s result types"),
        )?;
        Ok(out)
    }
}

/// A type as StableHLO spells it, for error messages.
pub(crate) fn show(t: &TensorType) -> String {
    let elem = match t.dtype.name() {
        "bool" => "i1".to_string(),
        n if n.starts_with('u') => format!("ui{}", &n[1..]),
        n => n.to_string(),
    };
    let mut s = String::from("tensor<");
    for d in &t.shape {
        s.push_str(&format!("{d}x"));
    }
    s.push_str(&elem);
    s.push('>');
    s
}

fn show_list(ts: &[TensorType]) -> String {
    ts.iter().map(show).collect::<Vec<_>>().join(", ")
}

/// A scalar of `dtype` from the low bits of `bits` (a hex literal).
fn scalar_from_bits(dtype: DType, bits: u64) -> Option<Scalar> {
    Some(if dtype == DType::Bool {
        Scalar::Bool(bits != 0)
    } else if dtype == DType::I32 {
        Scalar::I32(bits as u32 as i32)
    } else if dtype == DType::I64 {
        Scalar::I64(bits as i64)
    } else if dtype == DType::F32 {
        Scalar::F32(f32::from_bits(bits as u32))
    } else if dtype == DType::F64 {
        Scalar::F64(f64::from_bits(bits))
    } else {
        return None;
    })
}

fn atom_scalar(src: &str, atom: &str, at: usize, dtype: DType) -> PResult<Scalar> {
    if let Some(h) = atom.strip_prefix("0x").or_else(|| atom.strip_prefix("0X")) {
        let bits = u64::from_str_radix(h, 16)
            .map_err(|_| error_at(src, at, format!("'{atom}' is too large")))?;
        if dtype.size_bytes() < 8 && bits >> (8 * dtype.size_bytes()) != 0 {
            return Err(error_at(
                src,
                at,
                format!("'{atom}' has more bits than {dtype}"),
            ));
        }
        return scalar_from_bits(dtype, bits).ok_or_else(|| {
            error_at(
                src,
                at,
                format!("hex literals of {dtype} are not supported"),
            )
        });
    }
    parse_scalar(atom, dtype).map_err(|m| error_at(src, at, m))
}

/// The tensor of a `dense` attribute for the type `ty`.
pub(crate) fn dense_tensor(src: &str, d: &Dense, ty: &TensorType, at: usize) -> PResult<Tensor> {
    let n = ty.num_elements();
    if n > MAX_CONST_ELEMENTS {
        return Err(error_at(
            src,
            at,
            format!(
                "constant of type {} has more than {MAX_CONST_ELEMENTS} elements",
                show(ty)
            ),
        ));
    }
    let scalars: Vec<Scalar> = match d {
        Dense::Elems { atoms, .. } if atoms.is_empty() => {
            if n != 0 {
                return Err(error_at(
                    src,
                    at,
                    format!("an empty 'dense' literal for type {}", show(ty)),
                ));
            }
            return Ok(Tensor::zeros(ty));
        }
        Dense::Elems { atoms, shape } => {
            let s: Vec<Scalar> = atoms
                .iter()
                .map(|(p, a)| atom_scalar(src, a, *p, ty.dtype))
                .collect::<PResult<_>>()?;
            if s.len() == 1 && shape.is_empty() {
                return Ok(Tensor::full(s[0], ty.shape.clone()));
            }
            if *shape != ty.shape {
                return Err(error_at(
                    src,
                    at,
                    format!("a 'dense' literal of shape {shape:?} for type {}", show(ty)),
                ));
            }
            s
        }
        Dense::Hex(p, bytes) => {
            let sz = ty.dtype.size_bytes();
            let read = |chunk: &[u8]| {
                let mut bits = 0u64;
                for (i, &b) in chunk.iter().enumerate() {
                    bits |= u64::from(b) << (8 * i);
                }
                scalar_from_bits(ty.dtype, bits).ok_or_else(|| {
                    error_at(
                        src,
                        *p,
                        format!("hex literals of {} are not supported", ty.dtype),
                    )
                })
            };
            if bytes.len() == sz {
                return Ok(Tensor::full(read(bytes)?, ty.shape.clone()));
            }
            if bytes.len() != n * sz {
                return Err(error_at(
                    src,
                    *p,
                    format!(
                        "a 'dense' hex string of {} bytes for type {} ({} bytes)",
                        bytes.len(),
                        show(ty),
                        n * sz
                    ),
                ));
            }
            bytes.chunks(sz).map(read).collect::<PResult<_>>()?
        }
    };
    Data::from_scalars(ty.dtype, &scalars)
        .and_then(|data| Tensor::new(data, ty.shape.clone()))
        .ok_or_else(|| error_at(src, at, format!("bad constant for {}", show(ty))))
}
