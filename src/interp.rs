//! The reference interpreter: runs a function on tensors with the kernels of [`crate::ops`].
//!
//! An [`Interpreter`] is prepared once from a [`Function`] and then runs it any number of
//! times. Preparation checks the function (types of every op, region structure, scoping, a
//! bound on nesting depth) and flattens its structured regions into a linear list of
//! instructions with jumps, so that running needs no recursion and no per-op analysis:
//!
//! - Every value has a fixed register. Rank-0 values live unboxed as bits in a `u64`
//!   register file, and the elementwise ops on them call a function prepared for their op
//!   and dtype, so scalar loops never allocate. Other values live in a file of tensors;
//!   parameters and constants are read in place, never copied.
//! - `while` becomes: copy the operands into the region arguments; cond; branch out when
//!   false; body; a parallel move of the body's yields into the region arguments; jump back.
//!   The loop's results are the region arguments' registers themselves.
//! - `if` becomes a branch over two arms that each move their yields into the results.
//! - A tensor is moved (not cloned) into a yield, a return or a loop's initial values when that
//!   use is its last one, found by a last-use analysis over the structured regions.

use std::marker::PhantomData;

use crate::error::{Error, RunError, VerifyError};
use crate::ir::{Function, Inst, Region, Value};
use crate::ops::scalar::{
    compare_with, with_convert, with_dtype, BinaryVisitor, CastTo, CompareVisitor, ConvertVisitor,
    DTypeVisitor, Elem, UnaryVisitor,
};
use crate::ops::{infer, kernels, BinaryOp, CmpOp, Op, UnaryOp};
use crate::tensor::{Scalar, Tensor};
use crate::types::{DType, TensorType};

/// The deepest nesting of regions the interpreter accepts (the parser has the same bound).
pub const MAX_NESTING: usize = 1000;

/// Runs `f` on `inputs` once. To run a function many times, prepare an [`Interpreter`].
pub fn interpret(f: &Function, inputs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
    Interpreter::new(f)?.run(inputs)
}

type UnaryFn = Box<dyn Fn(u64) -> u64 + Send + Sync>;
type BinaryFn = Box<dyn Fn(u64, u64) -> u64 + Send + Sync>;

/// Where a value lives while the function runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// A rank-0 value, as bits in scalar register `.0`.
    Scalar(u32, DType),
    /// A tensor in tensor register `.0`.
    Tensor(u32),
    /// A tensor parameter, read in place from the inputs.
    Input(u32),
    /// A constant tensor, read in place from the interpreter.
    Const(u32),
}

/// Where an instruction's result goes.
#[derive(Clone, Copy, Debug)]
enum Dst {
    Scalar(u32),
    Tensor(u32),
}

/// One output of a `return`.
#[derive(Clone, Copy, Debug)]
enum Out {
    Scalar(u32, DType),
    Take(u32),
    Clone(Slot),
}

/// A tensor op run by [`kernels::eval`].
struct KernelInstr {
    inst: Inst,
    op: Op,
    ty: TensorType,
    args: Vec<Slot>,
    dst: Dst,
}

/// The flat instruction set the interpreter runs.
enum Instr {
    Unary {
        f: UnaryFn,
        a: u32,
        dst: u32,
    },
    Binary {
        f: BinaryFn,
        a: u32,
        b: u32,
        dst: u32,
    },
    Select {
        p: u32,
        a: u32,
        b: u32,
        dst: u32,
    },
    /// Scalar register copy.
    Copy {
        src: u32,
        dst: u32,
    },
    Kernel(Box<KernelInstr>),
    /// Reshape of a tensor at its last use: the buffer is moved, not copied.
    ReshapeMove {
        src: u32,
        dst: u32,
        shape: Box<[usize]>,
    },
    /// Tensor register move (the source is dead afterwards).
    Move {
        src: u32,
        dst: u32,
    },
    /// Tensor copy from a register, an input or a constant.
    Clone {
        src: Slot,
        dst: u32,
    },
    Jump {
        target: u32,
    },
    BranchIfFalse {
        cond: u32,
        target: u32,
    },
    /// The jump back to a loop's condition; counts iterations against the limit.
    BackEdge {
        target: u32,
    },
    Return(Box<[Out]>),
}

/// A function prepared for interpretation; see the module documentation.
pub struct Interpreter {
    func: String,
    params: Vec<(String, TensorType, Slot)>,
    code: Vec<Instr>,
    /// The scalar register file at the start of a run: constants are written here once.
    scalar_init: Vec<u64>,
    n_tensors: usize,
    consts: Vec<Tensor>,
    iteration_limit: Option<u64>,
}

impl Interpreter {
    /// Checks `f` and prepares it for running.
    pub fn new(f: &Function) -> Result<Interpreter, Error> {
        Compiler::new(f)?.compile()
    }

    /// Limits the total number of loop iterations of one run (`None`: no limit); a run that
    /// passes the limit stops with [`RunError::IterationLimit`].
    pub fn set_iteration_limit(&mut self, limit: Option<u64>) {
        self.iteration_limit = limit;
    }

    /// The name of the function this interpreter runs.
    pub fn name(&self) -> &str {
        &self.func
    }

    /// Checks the inputs against the parameters, runs the function, and gives its results.
    pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
        if inputs.len() != self.params.len() {
            return Err(RunError::ArgCount {
                func: self.func.clone(),
                expected: self.params.len(),
                got: inputs.len(),
            }
            .into());
        }
        let mut s = self.scalar_init.clone();
        for (index, ((name, ty, slot), input)) in self.params.iter().zip(inputs).enumerate() {
            if input.dtype() != ty.dtype || input.shape() != ty.shape.as_slice() {
                return Err(RunError::ArgType {
                    func: self.func.clone(),
                    index,
                    name: name.clone(),
                    expected: ty.clone(),
                    got: input.ty(),
                }
                .into());
            }
            if let (Slot::Scalar(r, _), Some(x)) = (slot, input.get(0)) {
                s[*r as usize] = scalar_to_reg(x);
            }
        }
        let mut t: Vec<Option<Tensor>> = std::iter::repeat_with(|| None)
            .take(self.n_tensors)
            .collect();
        let limit = self.iteration_limit.unwrap_or(u64::MAX);
        let mut iterations: u64 = 0;
        let mut pc = 0usize;
        loop {
            let Some(instr) = self.code.get(pc) else {
                return Err(self.internal("ran past the end of the code"));
            };
            pc += 1;
            match instr {
                Instr::Binary { f, a, b, dst } => {
                    s[*dst as usize] = f(s[*a as usize], s[*b as usize]);
                }
                Instr::Unary { f, a, dst } => s[*dst as usize] = f(s[*a as usize]),
                Instr::Copy { src, dst } => s[*dst as usize] = s[*src as usize],
                Instr::Select { p, a, b, dst } => {
                    s[*dst as usize] = if s[*p as usize] != 0 {
                        s[*a as usize]
                    } else {
                        s[*b as usize]
                    };
                }
                Instr::BranchIfFalse { cond, target } => {
                    if s[*cond as usize] == 0 {
                        pc = *target as usize;
                    }
                }
                Instr::BackEdge { target } => {
                    iterations += 1;
                    if iterations > limit {
                        return Err(RunError::IterationLimit {
                            func: self.func.clone(),
                            limit,
                        }
                        .into());
                    }
                    pc = *target as usize;
                }
                Instr::Jump { target } => pc = *target as usize,
                Instr::Kernel(k) => self.run_kernel(k, inputs, &mut s, &mut t)?,
                Instr::Move { src, dst } => {
                    let x = self.take(&mut t, *src)?;
                    t[*dst as usize] = Some(x);
                }
                Instr::Clone { src, dst } => {
                    let x = self.read(*src, inputs, &t)?.clone();
                    t[*dst as usize] = Some(x);
                }
                Instr::ReshapeMove { src, dst, shape } => {
                    let x = self.take(&mut t, *src)?;
                    let y = x
                        .reshaped(shape.to_vec())
                        .ok_or_else(|| self.internal("a reshape changed the element count"))?;
                    t[*dst as usize] = Some(y);
                }
                Instr::Return(outs) => {
                    let mut results = Vec::with_capacity(outs.len());
                    for out in outs.iter() {
                        results.push(match *out {
                            Out::Scalar(r, dt) => {
                                Tensor::from_scalar(reg_to_scalar(s[r as usize], dt))
                            }
                            Out::Take(r) => self.take(&mut t, r)?,
                            Out::Clone(slot) => self.read(slot, inputs, &t)?.clone(),
                        });
                    }
                    return Ok(results);
                }
            }
        }
    }

    fn run_kernel(
        &self,
        k: &KernelInstr,
        inputs: &[Tensor],
        s: &mut [u64],
        t: &mut [Option<Tensor>],
    ) -> Result<(), Error> {
        // Rank-0 operands live as bits; the kernels take tensors, so they are boxed here.
        let temps: Vec<Tensor> = k
            .args
            .iter()
            .filter_map(|a| match *a {
                Slot::Scalar(r, dt) => Some(Tensor::from_scalar(reg_to_scalar(s[r as usize], dt))),
                _ => None,
            })
            .collect();
        let mut temp = temps.iter();
        let mut args: Vec<&Tensor> = Vec::with_capacity(k.args.len());
        for &a in &k.args {
            args.push(match a {
                Slot::Scalar(..) => temp
                    .next()
                    .ok_or_else(|| self.internal("a scalar operand went missing"))?,
                _ => self.read(a, inputs, t)?,
            });
        }
        let out = kernels::eval(&k.op, &args, &k.ty).map_err(|e| match e {
            Error::Argument(m) => self.at(k.inst, m),
            e => e,
        })?;
        match k.dst {
            Dst::Tensor(r) => t[r as usize] = Some(out),
            Dst::Scalar(r) => {
                let x = out
                    .get(0)
                    .ok_or_else(|| self.internal("a rank-0 result has no element"))?;
                s[r as usize] = scalar_to_reg(x);
            }
        }
        Ok(())
    }

    fn read<'a>(
        &'a self,
        slot: Slot,
        inputs: &'a [Tensor],
        t: &'a [Option<Tensor>],
    ) -> Result<&'a Tensor, Error> {
        match slot {
            Slot::Tensor(r) => t
                .get(r as usize)
                .and_then(Option::as_ref)
                .ok_or_else(|| self.internal("a tensor was read before it was written")),
            Slot::Input(i) => inputs
                .get(i as usize)
                .ok_or_else(|| self.internal("an input is missing")),
            Slot::Const(c) => self
                .consts
                .get(c as usize)
                .ok_or_else(|| self.internal("a constant is missing")),
            Slot::Scalar(..) => Err(self.internal("a scalar was read as a tensor")),
        }
    }

    fn take(&self, t: &mut [Option<Tensor>], r: u32) -> Result<Tensor, Error> {
        t.get_mut(r as usize)
            .and_then(Option::take)
            .ok_or_else(|| self.internal("a tensor was moved before it was written"))
    }

    /// An inconsistency that preparation should have ruled out; reported, never a panic.
    fn internal(&self, what: &str) -> Error {
        VerifyError {
            func: self.func.clone(),
            location: "interpreter".into(),
            message: format!("internal inconsistency: {what}"),
        }
        .into()
    }

    fn at(&self, inst: Inst, message: String) -> Error {
        VerifyError {
            func: self.func.clone(),
            location: format!("instruction {}", inst.0),
            message,
        }
        .into()
    }
}

/// A scalar as the bits of a `u64` register (see [`Elem::to_reg`]).
pub fn scalar_to_reg(x: Scalar) -> u64 {
    match x {
        Scalar::Bool(v) => v.to_reg(),
        Scalar::I32(v) => v.to_reg(),
        Scalar::I64(v) => v.to_reg(),
        Scalar::F32(v) => v.to_reg(),
        Scalar::F64(v) => v.to_reg(),
    }
}

/// Reads a register written by [`scalar_to_reg`] as a scalar of `dtype`.
pub fn reg_to_scalar(r: u64, dtype: DType) -> Scalar {
    match dtype {
        DType::Bool => Scalar::Bool(Elem::from_reg(r)),
        DType::I32 => Scalar::I32(Elem::from_reg(r)),
        DType::I64 => Scalar::I64(Elem::from_reg(r)),
        DType::F32 => Scalar::F32(Elem::from_reg(r)),
        DType::F64 => Scalar::F64(Elem::from_reg(r)),
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar functions on registers, built from the op tables of `ops::scalar`.
// ---------------------------------------------------------------------------------------------

struct RegFn<T>(PhantomData<T>);

impl<T: Elem> UnaryVisitor<T> for RegFn<T> {
    type Out = UnaryFn;
    fn visit<F: Fn(T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> UnaryFn {
        Box::new(move |a| f(T::from_reg(a)).to_reg())
    }
}

impl<T: Elem> BinaryVisitor<T> for RegFn<T> {
    type Out = BinaryFn;
    fn visit<F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> BinaryFn {
        Box::new(move |a, b| f(T::from_reg(a), T::from_reg(b)).to_reg())
    }
}

impl<T: Elem> CompareVisitor<T> for RegFn<T> {
    type Out = BinaryFn;
    fn visit<F: Fn(T, T) -> bool + Copy + Send + Sync + 'static>(self, f: F) -> BinaryFn {
        Box::new(move |a, b| f(T::from_reg(a), T::from_reg(b)) as u64)
    }
}

struct MakeUnary(UnaryOp);
impl DTypeVisitor for MakeUnary {
    type Out = Option<UnaryFn>;
    fn visit<T: Elem>(self) -> Option<UnaryFn> {
        T::unary(self.0, RegFn::<T>(PhantomData))
    }
}

struct MakeBinary(BinaryOp);
impl DTypeVisitor for MakeBinary {
    type Out = Option<BinaryFn>;
    fn visit<T: Elem>(self) -> Option<BinaryFn> {
        T::binary(self.0, RegFn::<T>(PhantomData))
    }
}

struct MakeCompare(CmpOp);
impl DTypeVisitor for MakeCompare {
    type Out = BinaryFn;
    fn visit<T: Elem>(self) -> BinaryFn {
        compare_with(self.0, RegFn::<T>(PhantomData))
    }
}

struct MakeConvert;
impl ConvertVisitor for MakeConvert {
    type Out = UnaryFn;
    fn visit<S: Elem + CastTo<D>, D: Elem>(self) -> UnaryFn {
        Box::new(|a| CastTo::<D>::cast(S::from_reg(a)).to_reg())
    }
}

// ---------------------------------------------------------------------------------------------
// Preparation: checks and flattening.
// ---------------------------------------------------------------------------------------------

/// A pending copy of a parallel move.
#[derive(Clone, Copy)]
struct Transfer {
    src: Slot,
    dst: Slot,
    /// The source is dead after the move, so a tensor may be moved rather than cloned.
    movable: bool,
}

struct Compiler<'f> {
    f: &'f Function,
    /// The register of each value in scope; `None` when not (yet, or no longer) visible.
    slots: Vec<Option<Slot>>,
    /// The region and position of each instruction reachable from the body.
    inst_pos: Vec<Option<(Region, usize)>>,
    /// The region each value is defined in (a `while`'s region arguments: its body).
    def_region: Vec<Option<Region>>,
    /// The last position, in the value's defining region, of an instruction using it, and
    /// whether that instruction uses it from one of its nested regions.
    last_use: Vec<Option<(usize, bool)>>,
    code: Vec<Instr>,
    scalar_init: Vec<u64>,
    n_tensors: u32,
    consts: Vec<Tensor>,
}

impl<'f> Compiler<'f> {
    fn new(f: &'f Function) -> Result<Compiler<'f>, Error> {
        let mut c = Compiler {
            f,
            slots: vec![None; f.values.len()],
            inst_pos: vec![None; f.insts.len()],
            def_region: vec![None; f.values.len()],
            last_use: vec![None; f.values.len()],
            code: Vec::new(),
            scalar_init: Vec::new(),
            n_tensors: 0,
            consts: Vec::new(),
        };
        c.analyze()?;
        Ok(c)
    }

    fn err(&self, location: impl Into<String>, message: impl Into<String>) -> Error {
        VerifyError {
            func: self.f.name.clone(),
            location: location.into(),
            message: message.into(),
        }
        .into()
    }

    /// `'add' defining %x`, or `'yield'` for ops without results.
    fn describe(&self, inst: Inst) -> String {
        let d = self.f.inst(inst);
        match d.results.first() {
            Some(v) if v.index() < self.f.values.len() => {
                format!("'{}' defining %{}", d.op.name(), self.f.value(*v).name)
            }
            _ => format!("'{}'", d.op.name()),
        }
    }

    /// Walks the regions without recursion: checks handles and nesting depth, records where
    /// every instruction is, and computes each value's defining region and last use.
    fn analyze(&mut self) -> Result<(), Error> {
        let f = self.f;
        let (nv, ni, nr) = (f.values.len(), f.insts.len(), f.regions.len());
        if f.body.index() >= nr {
            return Err(self.err("body", "the body region does not exist"));
        }
        let mut parent: Vec<Option<(Region, usize)>> = vec![None; nr];
        let mut seen_region = vec![false; nr];
        seen_region[f.body.index()] = true;
        let mut stack = vec![(f.body, 0usize)];
        let mut order = Vec::new();
        while let Some((r, depth)) = stack.pop() {
            if depth > MAX_NESTING {
                return Err(self.err(
                    "body",
                    format!("regions are nested more than {MAX_NESTING} deep"),
                ));
            }
            for (pos, &inst) in f.region(r).insts.iter().enumerate() {
                if inst.index() >= ni || self.inst_pos[inst.index()].is_some() {
                    return Err(self.err(
                        format!("instruction {}", inst.0),
                        "is missing or appears twice in the regions",
                    ));
                }
                self.inst_pos[inst.index()] = Some((r, pos));
                order.push(inst);
                let d = f.inst(inst);
                let values = d.args.iter().chain(&d.results).chain(&d.region_args);
                if values.clone().any(|v| v.index() >= nv) {
                    return Err(self.err(self.describe(inst), "refers to a missing value"));
                }
                for &sub in &d.regions {
                    if sub.index() >= nr || seen_region[sub.index()] {
                        return Err(self.err(
                            self.describe(inst),
                            "has a region that is missing or used twice",
                        ));
                    }
                    seen_region[sub.index()] = true;
                    parent[sub.index()] = Some((r, pos));
                    stack.push((sub, depth + 1));
                }
            }
        }
        for &p in &f.params {
            if p.index() >= nv {
                return Err(self.err("parameters", "a parameter is a missing value"));
            }
            self.def_region[p.index()] = Some(f.body);
        }
        for &inst in &order {
            let d = f.inst(inst);
            let r = self.inst_pos[inst.index()].map(|(r, _)| r);
            for &v in &d.results {
                self.def_region[v.index()] = r;
            }
            if let Some(&body) = d.regions.get(1) {
                for &v in &d.region_args {
                    self.def_region[v.index()] = Some(body);
                }
            }
        }
        for &inst in &order {
            let Some((r, pos)) = self.inst_pos[inst.index()] else {
                continue;
            };
            for &v in &f.inst(inst).args {
                let Some(def) = self.def_region[v.index()] else {
                    continue;
                };
                // Climb to the defining region; a use from a `while`'s cond region never
                // reaches its body and so never delays a move there, which is right: the
                // cond runs before the body in each iteration.
                let (mut cr, mut cp, mut nested) = (r, pos, false);
                loop {
                    if cr == def {
                        let lu = &mut self.last_use[v.index()];
                        *lu = Some(match *lu {
                            Some((l, n)) if l > cp => (l, n),
                            Some((l, n)) if l == cp => (l, n || nested),
                            _ => (cp, nested),
                        });
                        break;
                    }
                    match parent[cr.index()] {
                        Some((pr, pp)) => (cr, cp, nested) = (pr, pp, true),
                        None => break,
                    }
                }
            }
        }
        Ok(())
    }

    fn new_slot(&mut self, ty: &TensorType) -> Slot {
        if ty.is_scalar() {
            let r = self.scalar_init.len() as u32;
            self.scalar_init.push(0);
            Slot::Scalar(r, ty.dtype)
        } else {
            let r = self.n_tensors;
            self.n_tensors += 1;
            Slot::Tensor(r)
        }
    }

    fn define(&mut self, v: Value, slot: Slot) {
        self.slots[v.index()] = Some(slot);
    }

    fn slot(&self, v: Value, user: Inst) -> Result<Slot, Error> {
        self.slots[v.index()].ok_or_else(|| {
            self.err(
                self.describe(user),
                format!(
                    "uses %{}, which is not defined before it in a visible region",
                    self.f.value(v).name
                ),
            )
        })
    }

    /// Whether the use of `v` as one of `args` (the operands of `user`) is its last, so that
    /// a tensor can be moved out of its register: `user` is in `v`'s defining region, no
    /// later instruction there uses `v`, `user`'s own regions do not, and `args` names it once.
    fn movable(&self, v: Value, user: Inst, args: &[Value]) -> bool {
        let Some((r, pos)) = self.inst_pos[user.index()] else {
            return false;
        };
        self.def_region[v.index()] == Some(r)
            && self.last_use[v.index()] == Some((pos, false))
            && args.iter().filter(|&&a| a == v).count() == 1
            && matches!(self.slots[v.index()], Some(Slot::Tensor(_)))
    }

    fn compile(mut self) -> Result<Interpreter, Error> {
        let f = self.f;
        let mut params = Vec::with_capacity(f.params.len());
        for (i, &p) in f.params.iter().enumerate() {
            let vd = f.value(p);
            let slot = if vd.ty.is_scalar() {
                self.new_slot(&vd.ty)
            } else {
                Slot::Input(i as u32)
            };
            self.define(p, slot);
            params.push((vd.name.clone(), vd.ty.clone(), slot));
        }
        let (ret, outs) = self.compile_region(f.body, 0)?;
        let ret_data = f.inst(ret);
        if !matches!(ret_data.op, Op::Return) {
            return Err(self.err(
                self.describe(ret),
                "the function body must end with 'return'",
            ));
        }
        self.check_types(ret, &outs, &f.results, "returns")?;
        let mut out_list = Vec::with_capacity(outs.len());
        for &v in &outs {
            let slot = self.slot(v, ret)?;
            out_list.push(match slot {
                Slot::Scalar(r, dt) => Out::Scalar(r, dt),
                Slot::Tensor(r) if self.movable(v, ret, &outs) => Out::Take(r),
                _ => Out::Clone(slot),
            });
        }
        self.code.push(Instr::Return(out_list.into()));
        Ok(Interpreter {
            func: f.name.clone(),
            params,
            code: self.code,
            scalar_init: self.scalar_init,
            n_tensors: self.n_tensors as usize,
            consts: self.consts,
            iteration_limit: None,
        })
    }

    /// Compiles the instructions of `r` before its terminator, and gives the terminator and
    /// its operands. The caller transfers those and then ends the region's scope.
    fn compile_region(&mut self, r: Region, depth: usize) -> Result<(Inst, Vec<Value>), Error> {
        let f = self.f;
        let insts = &f.region(r).insts;
        let Some((&term, body)) = insts.split_last() else {
            return Err(self.err(
                format!("region {}", r.0),
                "is empty; it must end with 'yield' or 'return'",
            ));
        };
        for &inst in body {
            if f.inst(inst).op.is_terminator() {
                return Err(self.err(self.describe(inst), "must be the last op of its region"));
            }
            self.compile_inst(inst, depth)?;
        }
        if !f.inst(term).op.is_terminator() {
            return Err(self.err(
                self.describe(term),
                "a region must end with 'yield' or 'return'",
            ));
        }
        Ok((term, f.inst(term).args.clone()))
    }

    /// Ends the scope of the values defined in `r`.
    fn end_scope(&mut self, r: Region) {
        let f = self.f;
        for &inst in &f.region(r).insts {
            for &v in &f.inst(inst).results {
                self.slots[v.index()] = None;
            }
        }
    }

    fn check_types(
        &self,
        inst: Inst,
        values: &[Value],
        expected: &[TensorType],
        what: &str,
    ) -> Result<(), Error> {
        let got: Vec<&TensorType> = values.iter().map(|&v| self.f.ty(v)).collect();
        if got.len() != expected.len() || got.iter().zip(expected).any(|(g, e)| *g != e) {
            let list = |ts: &mut dyn Iterator<Item = &TensorType>| {
                ts.map(ToString::to_string).collect::<Vec<_>>().join(", ")
            };
            return Err(self.err(
                self.describe(inst),
                format!(
                    "{what} ({}) where ({}) is expected",
                    list(&mut got.iter().copied()),
                    list(&mut expected.iter())
                ),
            ));
        }
        Ok(())
    }

    fn compile_inst(&mut self, inst: Inst, depth: usize) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let arg_slots = d
            .args
            .iter()
            .map(|&v| self.slot(v, inst))
            .collect::<Result<Vec<_>, _>>()?;
        match &d.op {
            Op::While => return self.compile_while(inst, &arg_slots, depth),
            Op::If => return self.compile_if(inst, &arg_slots, depth),
            _ => {}
        }
        let [result] = d.results[..] else {
            return Err(self.err(self.describe(inst), "must have exactly one result"));
        };
        let ty = f.ty(result);
        let arg_tys: Vec<&TensorType> = d.args.iter().map(|&v| f.ty(v)).collect();
        match infer(&d.op, &arg_tys, Some(ty)) {
            Ok(t) if t == *ty => {}
            Ok(t) => {
                return Err(self.err(
                    self.describe(inst),
                    format!("the result is {t}, but it is declared {ty}"),
                ))
            }
            Err(e) => return Err(self.err(self.describe(inst), e.0)),
        }
        if let Err(e) = ty.check_size() {
            return Err(self.err(self.describe(inst), e));
        }
        if let Op::Const(t) = &d.op {
            let slot = if ty.is_scalar() {
                let slot = self.new_slot(ty);
                if let (Slot::Scalar(r, _), Some(x)) = (slot, t.get(0)) {
                    self.scalar_init[r as usize] = scalar_to_reg(x);
                }
                slot
            } else {
                self.consts.push(t.clone());
                Slot::Const(self.consts.len() as u32 - 1)
            };
            self.define(result, slot);
            return Ok(());
        }
        let dst = self.new_slot(ty);
        self.define(result, dst);
        let scalar_args: Option<Vec<(u32, DType)>> = arg_slots
            .iter()
            .map(|s| match *s {
                Slot::Scalar(r, dt) => Some((r, dt)),
                _ => None,
            })
            .collect();
        if let (Slot::Scalar(dst, _), Some(sa)) = (dst, &scalar_args) {
            // The scalar fast path: bits in registers, no tensors.
            let instr = match (&d.op, sa.as_slice()) {
                (Op::Unary(u), &[(a, dt)]) => {
                    with_dtype(dt, MakeUnary(*u)).map(|f| Instr::Unary { f, a, dst })
                }
                (Op::Binary(b), &[(a, dt), (bb, _)]) => {
                    with_dtype(dt, MakeBinary(*b)).map(|f| Instr::Binary { f, a, b: bb, dst })
                }
                (Op::Compare(c), &[(a, dt), (bb, _)]) => Some(Instr::Binary {
                    f: with_dtype(dt, MakeCompare(*c)),
                    a,
                    b: bb,
                    dst,
                }),
                (Op::Select, &[(p, _), (a, _), (b, _)]) => Some(Instr::Select { p, a, b, dst }),
                (Op::Convert, &[(a, dt)]) => Some(Instr::Unary {
                    f: with_convert(dt, ty.dtype, MakeConvert),
                    a,
                    dst,
                }),
                (
                    Op::Reshape | Op::Broadcast { .. } | Op::Transpose { .. } | Op::Slice { .. },
                    &[(src, _)],
                ) => Some(Instr::Copy { src, dst }),
                _ => None,
            };
            if let Some(instr) = instr {
                self.code.push(instr);
                return Ok(());
            }
        }
        if let (Op::Reshape, Some(&Slot::Tensor(src)), Slot::Tensor(dst)) =
            (&d.op, arg_slots.first(), dst)
        {
            if self.movable(d.args[0], inst, &d.args) {
                self.code.push(Instr::ReshapeMove {
                    src,
                    dst,
                    shape: ty.shape.clone().into(),
                });
                return Ok(());
            }
        }
        let dst = match dst {
            Slot::Scalar(r, _) => Dst::Scalar(r),
            Slot::Tensor(r) => Dst::Tensor(r),
            _ => return Err(self.err(self.describe(inst), "has no register for its result")),
        };
        self.code.push(Instr::Kernel(Box::new(KernelInstr {
            inst,
            op: d.op.clone(),
            ty: ty.clone(),
            args: arg_slots,
            dst,
        })));
        Ok(())
    }

    fn compile_while(&mut self, inst: Inst, arg_slots: &[Slot], depth: usize) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let &[cond, body] = d.regions.as_slice() else {
            return Err(self.err(self.describe(inst), "needs a cond and a body region"));
        };
        let carried: Vec<TensorType> = d.region_args.iter().map(|&v| f.ty(v).clone()).collect();
        self.check_types(inst, &d.args, &carried, "starts with")?;
        self.check_types(inst, &d.results, &carried, "has results")?;
        // The initial values go into the region arguments' registers.
        let mut transfers = Vec::with_capacity(carried.len());
        for (i, &ra) in d.region_args.iter().enumerate() {
            let slot = self.new_slot(&carried[i]);
            self.define(ra, slot);
            transfers.push(Transfer {
                src: arg_slots[i],
                dst: slot,
                movable: self.movable(d.args[i], inst, &d.args),
            });
        }
        self.parallel_move(transfers);
        let top = self.code.len() as u32;
        let (cterm, cvals) = self.compile_region(cond, depth + 1)?;
        if !matches!(f.inst(cterm).op, Op::Yield) {
            return Err(self.err(
                self.describe(cterm),
                "the cond region must end with 'yield'",
            ));
        }
        self.check_types(cterm, &cvals, &[TensorType::scalar(DType::Bool)], "yields")?;
        let Slot::Scalar(c, _) = self.slot(cvals[0], cterm)? else {
            return Err(self.err(self.describe(cterm), "yields a non-scalar condition"));
        };
        self.end_scope(cond);
        let branch = self.code.len();
        self.code.push(Instr::BranchIfFalse {
            cond: c,
            target: u32::MAX,
        });
        let (bterm, bvals) = self.compile_region(body, depth + 1)?;
        if !matches!(f.inst(bterm).op, Op::Yield) {
            return Err(self.err(
                self.describe(bterm),
                "the body region must end with 'yield'",
            ));
        }
        self.check_types(bterm, &bvals, &carried, "yields")?;
        let mut transfers = Vec::with_capacity(bvals.len());
        for (i, &v) in bvals.iter().enumerate() {
            transfers.push(Transfer {
                src: self.slot(v, bterm)?,
                dst: self.slot(d.region_args[i], bterm)?,
                movable: self.movable(v, bterm, &bvals),
            });
        }
        self.parallel_move(transfers);
        self.end_scope(body);
        self.code.push(Instr::BackEdge { target: top });
        let exit = self.code.len() as u32;
        if let Some(Instr::BranchIfFalse { target, .. }) = self.code.get_mut(branch) {
            *target = exit;
        }
        // The results are the region arguments' registers: the loop leaves its values there.
        for (&res, &ra) in d.results.iter().zip(&d.region_args) {
            let slot = self.slot(ra, inst)?;
            self.define(res, slot);
            self.slots[ra.index()] = None;
        }
        Ok(())
    }

    fn compile_if(&mut self, inst: Inst, arg_slots: &[Slot], depth: usize) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let &[then_r, else_r] = d.regions.as_slice() else {
            return Err(self.err(self.describe(inst), "needs a then and an else region"));
        };
        self.check_types(inst, &d.args, &[TensorType::scalar(DType::Bool)], "takes")?;
        let Some(&Slot::Scalar(p, _)) = arg_slots.first() else {
            return Err(self.err(self.describe(inst), "needs a scalar bool condition"));
        };
        let result_tys: Vec<TensorType> = d.results.iter().map(|&v| f.ty(v).clone()).collect();
        let result_slots: Vec<Slot> = result_tys.iter().map(|t| self.new_slot(t)).collect();
        let branch = self.code.len();
        self.code.push(Instr::BranchIfFalse {
            cond: p,
            target: u32::MAX,
        });
        let mut jump = None;
        for (arm, r) in [then_r, else_r].into_iter().enumerate() {
            if arm == 1 {
                jump = Some(self.code.len());
                self.code.push(Instr::Jump { target: u32::MAX });
                let here = self.code.len() as u32;
                if let Some(Instr::BranchIfFalse { target, .. }) = self.code.get_mut(branch) {
                    *target = here;
                }
            }
            let (term, vals) = self.compile_region(r, depth + 1)?;
            if !matches!(f.inst(term).op, Op::Yield) {
                return Err(self.err(self.describe(term), "an 'if' arm must end with 'yield'"));
            }
            self.check_types(term, &vals, &result_tys, "yields")?;
            let mut transfers = Vec::with_capacity(vals.len());
            for (i, &v) in vals.iter().enumerate() {
                transfers.push(Transfer {
                    src: self.slot(v, term)?,
                    dst: result_slots[i],
                    movable: self.movable(v, term, &vals),
                });
            }
            self.parallel_move(transfers);
            self.end_scope(r);
        }
        let end = self.code.len() as u32;
        if let Some(Instr::Jump { target }) = jump.and_then(|j| self.code.get_mut(j)) {
            *target = end;
        }
        for (&res, &slot) in d.results.iter().zip(&result_slots) {
            self.define(res, slot);
        }
        Ok(())
    }

    /// Emits copies that give every destination its source's value as if all were read
    /// first: copies whose destination no pending copy still reads go first, and a cycle
    /// (a permutation of loop-carried values) is broken by saving one destination in a
    /// fresh register.
    fn parallel_move(&mut self, mut pending: Vec<Transfer>) {
        fn reg(s: Slot) -> Option<(bool, u32)> {
            match s {
                Slot::Scalar(r, _) => Some((true, r)),
                Slot::Tensor(r) => Some((false, r)),
                Slot::Input(_) | Slot::Const(_) => None,
            }
        }
        loop {
            pending.retain(|t| reg(t.src) != reg(t.dst));
            if pending.is_empty() {
                return;
            }
            let free = (0..pending.len()).find(|&i| {
                let d = reg(pending[i].dst);
                !pending.iter().any(|q| reg(q.src) == d)
            });
            match free {
                Some(i) => {
                    let t = pending.remove(i);
                    self.emit_transfer(t);
                }
                None => {
                    let d = pending[0].dst;
                    let tmp = match d {
                        Slot::Scalar(_, dt) => self.new_slot(&TensorType::scalar(dt)),
                        _ => {
                            self.n_tensors += 1;
                            Slot::Tensor(self.n_tensors - 1)
                        }
                    };
                    self.emit_transfer(Transfer {
                        src: d,
                        dst: tmp,
                        movable: true,
                    });
                    for q in pending.iter_mut().filter(|q| reg(q.src) == reg(d)) {
                        q.src = tmp;
                    }
                }
            }
        }
    }

    fn emit_transfer(&mut self, t: Transfer) {
        let instr = match (t.src, t.dst) {
            (Slot::Scalar(src, _), Slot::Scalar(dst, _)) => Instr::Copy { src, dst },
            (Slot::Tensor(src), Slot::Tensor(dst)) if t.movable => Instr::Move { src, dst },
            (src, Slot::Tensor(dst)) => Instr::Clone { src, dst },
            // Types were checked equal, so a scalar never meets a tensor here.
            _ => return,
        };
        self.code.push(instr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(a, b) -> while a < b { a += 2; b += 1 }`.
    fn counter() -> Function {
        let i32t = TensorType::scalar(DType::I32);
        let mut f = Function::new("counter", vec![i32t.clone(), i32t.clone()]);
        let a0 = f.add_param(i32t.clone(), Some("first".into()));
        let b0 = f.add_param(i32t.clone(), Some("second".into()));
        let body = f.body;
        let two = f.push_inst(
            body,
            Op::Const(Tensor::scalar(2i32)),
            vec![],
            vec![i32t.clone()],
            vec![],
        );
        let one = f.push_inst(
            body,
            Op::Const(Tensor::scalar(1i32)),
            vec![],
            vec![i32t.clone()],
            vec![],
        );
        let (two, one) = (f.results(two)[0], f.results(one)[0]);
        let w = f.push_inst(
            body,
            Op::While,
            vec![a0, b0],
            vec![i32t.clone(), i32t.clone()],
            vec![],
        );
        let ra = f.add_region_args(w, vec![i32t.clone(), i32t.clone()], vec![]);
        let (cond, bod) = (f.add_region(), f.add_region());
        let c = f.push_inst(
            cond,
            Op::Compare(CmpOp::Lt),
            vec![ra[0], ra[1]],
            vec![TensorType::scalar(DType::Bool)],
            vec![],
        );
        let c = f.results(c)[0];
        f.push_inst(cond, Op::Yield, vec![c], vec![], vec![]);
        let a2 = f.push_inst(
            bod,
            Op::Binary(BinaryOp::Add),
            vec![ra[0], two],
            vec![i32t.clone()],
            vec![],
        );
        let b2 = f.push_inst(
            bod,
            Op::Binary(BinaryOp::Add),
            vec![ra[1], one],
            vec![i32t.clone()],
            vec![],
        );
        let (a2, b2) = (f.results(a2)[0], f.results(b2)[0]);
        f.push_inst(bod, Op::Yield, vec![a2, b2], vec![], vec![]);
        f.set_regions(w, vec![cond, bod]);
        let rs = f.results(w).to_vec();
        f.push_inst(body, Op::Return, rs, vec![], vec![]);
        f
    }

    #[test]
    fn counter_loop_compiles_to_scalar_code() {
        let it = Interpreter::new(&counter()).unwrap();
        assert!(it
            .code
            .iter()
            .all(|i| !matches!(i, Instr::Kernel(_) | Instr::Clone { .. })));
        let out = it
            .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
            .unwrap();
        assert_eq!(out, vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]);
    }

    #[test]
    fn iteration_limit_stops_a_run() {
        let mut it = Interpreter::new(&counter()).unwrap();
        it.set_iteration_limit(Some(5));
        let e = it
            .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
            .unwrap_err();
        assert!(
            matches!(e, Error::Run(RunError::IterationLimit { limit: 5, .. })),
            "{e}"
        );
        it.set_iteration_limit(Some(10));
        assert!(it
            .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
            .is_ok());
    }

    #[test]
    fn registers_round_trip_scalars() {
        for x in [
            Scalar::Bool(true),
            Scalar::I32(-1),
            Scalar::I64(i64::MIN),
            Scalar::F32(-0.0),
            Scalar::F64(f64::NAN),
        ] {
            assert_eq!(reg_to_scalar(scalar_to_reg(x), x.dtype()), x);
        }
        assert_eq!(scalar_to_reg(Scalar::I32(-1)), 0xffff_ffff);
    }
}
