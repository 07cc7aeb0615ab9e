//! Preparation of a function for the interpreter: last-use analysis, and the flattening of
//! structured regions into the linear code that [`super::Interpreter`] runs.
//!
//! The function has passed [`crate::ir::verify::verify_function`] (which [`super::Interpreter::new`]
//! calls first), so handles are in range, regions are nested at most
//! [`crate::ir::MAX_REGION_DEPTH`] deep (the recursion here is bounded by it), and every type
//! is what its op gives. Nothing here checks those again; where a broken invariant would
//! otherwise panic, preparation stops with [`Error::Internal`], a graphjit bug.

use std::marker::PhantomData;

mod case;

use super::{
    scalar_to_reg, BinaryFn, Dst, Instr, Interpreter, KernelInstr, Out, RegionInstr, Slot, UnaryFn,
};
use crate::error::Error;
use crate::ir::body::region_body;
use crate::ir::{Function, Inst, Region, Value, ValueDef};
use crate::ops::region::{signature, RegionOp};
use crate::ops::scalar::{
    compare_with, with_convert, with_dtype, BinaryVisitor, CastTo, CompareVisitor, ConvertVisitor,
    DTypeVisitor, Elem, UnaryVisitor,
};
use crate::ops::{BinaryOp, CmpOp, Op, UnaryOp};
use crate::tensor::Tensor;
use crate::types::{DType, TensorType};

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
// Preparation: analysis and flattening.
// ---------------------------------------------------------------------------------------------

/// A pending copy of a parallel move.
#[derive(Clone, Copy)]
struct Transfer {
    src: Slot,
    dst: Slot,
    /// The source is dead after the move, so a tensor may be moved rather than cloned.
    movable: bool,
}

pub(super) struct Compiler<'f> {
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
    /// How many operands name each value.
    uses: Vec<u32>,
    /// For a value computed in a loop body only to be yielded as the next value of a region
    /// argument, that region argument: the value is computed straight into its register,
    /// which saves the copy at the end of each iteration.
    coalesce: Vec<Option<Value>>,
    code: Vec<Instr>,
    scalar_init: Vec<u64>,
    n_tensors: u32,
    consts: Vec<Tensor>,
}

impl<'f> Compiler<'f> {
    /// Analyzes `f`, which must have passed the verifier.
    pub(super) fn new(f: &'f Function) -> Result<Compiler<'f>, Error> {
        let mut c = Compiler {
            f,
            slots: vec![None; f.values.len()],
            inst_pos: vec![None; f.insts.len()],
            def_region: vec![None; f.values.len()],
            last_use: vec![None; f.values.len()],
            uses: vec![0; f.values.len()],
            coalesce: vec![None; f.values.len()],
            code: Vec::new(),
            scalar_init: Vec::new(),
            n_tensors: 0,
            consts: Vec::new(),
        };
        c.analyze()?;
        Ok(c)
    }

    /// A broken invariant of verified IR: a graphjit bug, never the user's input.
    fn err(&self, location: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Internal(format!(
            "preparing @{} for the interpreter: {}: {}",
            self.f.name,
            location.into(),
            message.into()
        ))
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

    /// Walks the regions without recursion: records where every instruction is, and computes
    /// each value's defining region and last use.
    fn analyze(&mut self) -> Result<(), Error> {
        let f = self.f;
        let mut parent: Vec<Option<(Region, usize)>> = vec![None; f.regions.len()];
        let mut stack = vec![f.body];
        let mut order = Vec::new();
        while let Some(r) = stack.pop() {
            for (pos, &inst) in f.region(r).insts.iter().enumerate() {
                self.inst_pos[inst.index()] = Some((r, pos));
                order.push(inst);
                for &sub in &f.inst(inst).regions {
                    parent[sub.index()] = Some((r, pos));
                    stack.push(sub);
                }
            }
        }
        for &p in &f.params {
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
                self.uses[v.index()] += 1;
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
        for &inst in &order {
            self.find_coalescing(inst);
        }
        Ok(())
    }

    /// Marks the body values of the `while` `inst` that can be computed in place of the
    /// region argument they are yielded to: `v` is yielded once, to region argument `ra`; it
    /// is the only result of an ordinary op `x` of the body (not a constant, whose register
    /// is fixed); and nothing in the body reads `ra` after `x` (the yield itself would, if it
    /// yielded `ra` somewhere). `x` reads its operands before it writes its result, so it may
    /// read `ra` itself.
    fn find_coalescing(&mut self, inst: Inst) {
        let f = self.f;
        let d = f.inst(inst);
        let (Op::While, Some(&body)) = (&d.op, d.regions.get(1)) else {
            return;
        };
        let Some(&term) = f.region(body).insts.last() else {
            return;
        };
        let yields = &f.inst(term).args;
        for (&v, &ra) in yields.iter().zip(&d.region_args) {
            let ValueDef::Result(x, 0) = f.value(v).def else {
                continue;
            };
            let Some(xd) = f.insts.get(x.index()) else {
                continue;
            };
            let ordinary = xd.results == [v]
                && !xd.op.has_regions()
                && !xd.op.is_terminator()
                && !matches!(xd.op, Op::Const(_));
            let Some((xr, xpos)) = self.inst_pos[x.index()] else {
                continue;
            };
            let ra_done = match self.last_use[ra.index()] {
                None => true,
                Some((l, _)) => l <= xpos,
            };
            if ordinary
                && xr == body
                && ra_done
                && f.value(ra).ty == f.value(v).ty
                && yields.iter().filter(|&&y| y == v).count() == 1
            {
                self.coalesce[v.index()] = Some(ra);
            }
        }
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

    pub(super) fn compile(mut self) -> Result<Interpreter, Error> {
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
        let (ret, outs) = self.compile_region(f.body)?;
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
            pool: Default::default(),
        })
    }

    /// Compiles the instructions of `r` before its terminator, and gives the terminator and
    /// its operands. The caller transfers those and then ends the region's scope. Verified
    /// regions are at most [`crate::ir::MAX_REGION_DEPTH`] deep, which bounds the recursion.
    fn compile_region(&mut self, r: Region) -> Result<(Inst, Vec<Value>), Error> {
        let f = self.f;
        let insts = &f.region(r).insts;
        let Some((&term, body)) = insts.split_last() else {
            return Err(self.err(format!("region {}", r.0), "is empty"));
        };
        for &inst in body {
            self.compile_inst(inst)?;
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

    fn compile_inst(&mut self, inst: Inst) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let arg_slots = d
            .args
            .iter()
            .map(|&v| self.slot(v, inst))
            .collect::<Result<Vec<_>, _>>()?;
        match &d.op {
            Op::While => return self.compile_while(inst, &arg_slots),
            Op::If => return self.compile_if(inst, &arg_slots),
            Op::Region(op) => return self.compile_region_op(inst, op, arg_slots),
            Op::Case => return self.compile_case(inst, &arg_slots),
            _ => {}
        }
        let [result] = d.results[..] else {
            return Err(self.err(self.describe(inst), "must have exactly one result"));
        };
        let ty = f.ty(result);
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
        let dst = match self.coalesce[result.index()].and_then(|ra| self.slots[ra.index()]) {
            Some(slot) => slot,
            None => self.new_slot(ty),
        };
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
                // Scalar to scalar means one width: a register holds the bits either way.
                (Op::BitcastConvert, &[(src, _)]) => Some(Instr::Copy { src, dst }),
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
                    shape: ty.shape.as_slice().into(),
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

    /// A region op: one instruction running its kernel with the region's scalar program.
    fn compile_region_op(
        &mut self,
        inst: Inst,
        op: &RegionOp,
        args: Vec<Slot>,
    ) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let body = region_body(f, inst).map_err(|m| self.err(self.describe(inst), m))?;
        let arg_tys: Vec<&TensorType> = d.args.iter().map(|&v| f.ty(v)).collect();
        let sig = signature(op, &arg_tys).map_err(|e| self.err(self.describe(inst), e.0))?;
        let tys: Vec<TensorType> = d.results.iter().map(|&r| f.ty(r).clone()).collect();
        let params: Vec<DType> = sig.params.iter().map(|t| t.dtype).collect();
        if tys != sig.results || body.params != params {
            return Err(self.err(
                self.describe(inst),
                format!("does not fit its type rule {}", sig),
            ));
        }
        let mut dsts = Vec::with_capacity(tys.len());
        for (&r, ty) in d.results.iter().zip(&tys) {
            ty.check_size()
                .map_err(|e| self.err(self.describe(inst), e))?;
            let slot = self.new_slot(ty);
            self.define(r, slot);
            dsts.push(match slot {
                Slot::Scalar(r, _) => Dst::Scalar(r),
                Slot::Tensor(r) => Dst::Tensor(r),
                _ => return Err(self.err(self.describe(inst), "has no register for a result")),
            });
        }
        self.code.push(Instr::Region(Box::new(RegionInstr {
            inst,
            op: op.clone(),
            body,
            args,
            dsts,
            tys,
        })));
        Ok(())
    }

    fn compile_while(&mut self, inst: Inst, arg_slots: &[Slot]) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let &[cond, body] = d.regions.as_slice() else {
            return Err(self.err(self.describe(inst), "needs a cond and a body region"));
        };
        let carried: Vec<TensorType> = d.region_args.iter().map(|&v| f.ty(v).clone()).collect();
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
        let (cterm, cvals) = self.compile_region(cond)?;
        let Some(Slot::Scalar(c, _)) = cvals.first().map(|&v| self.slot(v, cterm)).transpose()?
        else {
            return Err(self.err(self.describe(cterm), "yields a non-scalar condition"));
        };
        self.end_scope(cond);
        let branch = self.code.len();
        // When the condition is computed by the cond region's last instruction only for the
        // yield, compute it in the branch.
        let fuse = self.uses[cvals[0].index()] == 1
            && matches!(self.code.last(), Some(Instr::Binary { dst, .. }) if *dst == c)
            && self.code.len() > top as usize;
        match self.code.pop() {
            Some(Instr::Binary { f, a, b, .. }) if fuse => {
                self.code.push(Instr::BinaryBranchIfFalse {
                    f,
                    a,
                    b,
                    target: u32::MAX,
                });
            }
            last => {
                self.code.extend(last);
                self.code.push(Instr::BranchIfFalse {
                    cond: c,
                    target: u32::MAX,
                });
            }
        }
        let branch = if fuse { branch - 1 } else { branch };
        let (bterm, bvals) = self.compile_region(body)?;
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
        self.code.push(Instr::BackEdge {
            target: top,
            tensor_loop: crate::limits::loop_does_tensor_work(f, inst),
        });
        let exit = self.code.len() as u32;
        match self.code.get_mut(branch) {
            Some(
                Instr::BranchIfFalse { target, .. } | Instr::BinaryBranchIfFalse { target, .. },
            ) => *target = exit,
            _ => return Err(self.err(self.describe(inst), "lost its loop branch")),
        }
        // The results are the region arguments' registers: the loop leaves its values there.
        for (&res, &ra) in d.results.iter().zip(&d.region_args) {
            let slot = self.slot(ra, inst)?;
            self.define(res, slot);
            self.slots[ra.index()] = None;
        }
        Ok(())
    }

    fn compile_if(&mut self, inst: Inst, arg_slots: &[Slot]) -> Result<(), Error> {
        let f = self.f;
        let d = f.inst(inst);
        let &[then_r, else_r] = d.regions.as_slice() else {
            return Err(self.err(self.describe(inst), "needs a then and an else region"));
        };
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
            let (term, vals) = self.compile_region(r)?;
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
