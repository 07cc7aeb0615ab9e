//! Instruction selection for the float math that is not one instruction: calls of the
//! runtime functions (`log`, `sin`, `pow`, `dot`, ...), and graphjit's own math ([`vmath`]:
//! `exp`, `tanh`) emitted inline through [`ClifMachine`].

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{
    self as clir, types, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Type,
};
use cranelift_frontend::FunctionBuilder;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};

use super::{cl_type, vector_type, Isel, Refused, Selected};
use crate::jit::runtime::RuntimeFn;
use crate::ops::scalar::vmath::{self, Machine};
use crate::ops::UnaryOp;
use crate::types::DType;

/// The runtime functions a function being compiled may call: declared in the module once,
/// imported into the function at first use.
pub(crate) struct Calls<'m> {
    pub module: &'m mut JITModule,
    ids: Vec<FuncId>,
    refs: Vec<Option<clir::FuncRef>>,
}

impl<'m> Calls<'m> {
    /// `ids` are the module's declarations of [`RuntimeFn::ALL`], in that order.
    pub(crate) fn new(module: &'m mut JITModule, ids: Vec<FuncId>) -> Calls<'m> {
        let refs = vec![None; ids.len()];
        Calls { module, ids, refs }
    }

    /// The same imports for another function of the module (an outlined loop body), with
    /// its own references, for as long as this borrow lasts.
    pub(crate) fn fork(&mut self) -> Calls<'_> {
        Calls::new(self.module, self.ids.clone())
    }

    /// Whether this function calls `f` (a call was emitted).
    pub(crate) fn calls(&self, f: RuntimeFn) -> bool {
        self.refs[f.index()].is_some()
    }

    /// Emits a call of `f` and returns its result.
    pub(crate) fn call(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        f: RuntimeFn,
        args: &[clir::Value],
    ) -> clir::Value {
        let k = f.index();
        let r = match self.refs[k] {
            Some(r) => r,
            None => {
                let r = self.module.declare_func_in_func(self.ids[k], b.func);
                self.refs[k] = Some(r);
                r
            }
        };
        let call = b.ins().call(r, args);
        b.inst_results(call)[0]
    }
}

/// The runtime function of a float op, by the float's width.
fn float_call(op: FloatCall, dt: DType) -> std::result::Result<RuntimeFn, Refused> {
    let wide = match dt.size_bytes() {
        4 => false,
        8 => true,
        _ => return Err(Refused::Undefined),
    };
    Ok(match (op, wide) {
        (FloatCall::Log, false) => RuntimeFn::LogF32,
        (FloatCall::Log, true) => RuntimeFn::LogF64,
        (FloatCall::Sin, false) => RuntimeFn::SinF32,
        (FloatCall::Sin, true) => RuntimeFn::SinF64,
        (FloatCall::Cos, false) => RuntimeFn::CosF32,
        (FloatCall::Cos, true) => RuntimeFn::CosF64,
        (FloatCall::Pow, false) => RuntimeFn::PowF32,
        (FloatCall::Pow, true) => RuntimeFn::PowF64,
        (FloatCall::Rem, false) => RuntimeFn::RemF32,
        (FloatCall::Rem, true) => RuntimeFn::RemF64,
        (FloatCall::Dot, false) => RuntimeFn::DotF32,
        (FloatCall::Dot, true) => RuntimeFn::DotF64,
        (FloatCall::Expm1, false) => RuntimeFn::Expm1F32,
        (FloatCall::Expm1, true) => RuntimeFn::Expm1F64,
        (FloatCall::Log1p, false) => RuntimeFn::Log1pF32,
        (FloatCall::Log1p, true) => RuntimeFn::Log1pF64,
        (FloatCall::Logistic, false) => RuntimeFn::LogisticF32,
        (FloatCall::Logistic, true) => RuntimeFn::LogisticF64,
        (FloatCall::Cbrt, false) => RuntimeFn::CbrtF32,
        (FloatCall::Cbrt, true) => RuntimeFn::CbrtF64,
        (FloatCall::Erf, false) => RuntimeFn::ErfF32,
        (FloatCall::Erf, true) => RuntimeFn::ErfF64,
        (FloatCall::Atan2, false) => RuntimeFn::Atan2F32,
        (FloatCall::Atan2, true) => RuntimeFn::Atan2F64,
    })
}

/// The float ops computed by a runtime function.
#[derive(Clone, Copy)]
pub(crate) enum FloatCall {
    Log,
    Sin,
    Cos,
    Pow,
    Rem,
    Dot,
    Expm1,
    Log1p,
    Logistic,
    Cbrt,
    Erf,
    Atan2,
}

impl Isel<'_, '_, '_> {
    /// A call of the runtime function of a float op.
    pub(super) fn call(&mut self, op: FloatCall, dt: DType, args: &[clir::Value]) -> Selected {
        let f = float_call(op, dt)?;
        Ok(self.calls.call(self.b, f, args))
    }

    /// Calls the runtime's float `dot` (`kernels::dot_f32`/`dot_f64`, and `dot_f16`/
    /// `dot_bf16` for the 16-bit floats) on pointers and sizes.
    pub(crate) fn call_dot(&mut self, dt: DType, args: &[clir::Value]) -> Selected {
        let f = match dt {
            DType::F16 => RuntimeFn::DotF16,
            DType::BF16 => RuntimeFn::DotBF16,
            _ => return self.call(FloatCall::Dot, dt, args),
        };
        Ok(self.calls.call(self.b, f, args))
    }

    /// `exp` or `tanh` of a float or a vector of floats, inline: the instruction sequence of
    /// [`vmath`], the interpreter's definition.
    pub(super) fn vmath(
        &mut self,
        op: UnaryOp,
        dt: DType,
        vector: bool,
        x: clir::Value,
    ) -> Selected {
        let ft = if vector {
            vector_type(dt).ok_or(Refused::Undefined)?
        } else {
            cl_type(dt)
        };
        let it = ft.as_int();
        let mut m = ClifMachine { b: self.b, ft, it };
        match (op, dt.size_bytes()) {
            (UnaryOp::Exp, 4) => Ok(vmath::exp32(&mut m, x)),
            (UnaryOp::Tanh, 4) => Ok(vmath::tanh32(&mut m, x)),
            (UnaryOp::Exp, 8) => Ok(vmath::exp64(&mut m, x)),
            (UnaryOp::Tanh, 8) => Ok(vmath::tanh64(&mut m, x)),
            _ => Err(Refused::Undefined),
        }
    }
}

/// A 128-bit vector of `ty` with every lane holding the low `lane_bits(ty)` bits of `bits`,
/// as one `vconst`. Cranelift hoists a `vconst` out of the loop it is used in, but not a
/// `splat` of a scalar constant (its scalar operand is rematerialized in every block), which
/// made fused loops load every constant of `exp`/`tanh` from the constant pool, spill it and
/// reload it on every iteration.
pub(crate) fn vconst(b: &mut FunctionBuilder, ty: Type, bits: u64) -> clir::Value {
    let lane_bytes = ty.lane_bits() as usize / 8;
    let lane = &bits.to_le_bytes()[..lane_bytes];
    let bytes: Vec<u8> = (0..ty.lane_count())
        .flat_map(|_| lane.iter().copied())
        .collect();
    let handle = b.func.dfg.constants.insert(bytes.into());
    b.ins().vconst(ty, handle)
}

/// `splat(ty, s)` for use inside a loop emitted after it. A constant `s` becomes a
/// [`vconst`] that is also stored to a stack slot here, before the loop, and read back:
/// Cranelift places a `vconst` at its first use, and a store is a use it does not move, so
/// the constant is materialized here and (the load forwarded from the store) the loop reads
/// it from a register. Without the store it was a load from the constant pool on every
/// iteration (W5: 0.5 and 1.0); with it, two instructions per row. With `pin` false a
/// constant is a plain `vconst`.
pub(crate) fn splat_value(
    b: &mut FunctionBuilder,
    ty: Type,
    s: clir::Value,
    pin: bool,
) -> clir::Value {
    if let clir::ValueDef::Result(inst, 0) = b.func.dfg.value_def(s) {
        let bits = match b.func.dfg.insts[inst] {
            clir::InstructionData::UnaryIeee32 { imm, .. } => Some(imm.bits() as u64),
            clir::InstructionData::UnaryIeee64 { imm, .. } => Some(imm.bits()),
            clir::InstructionData::UnaryImm { imm, .. } => Some(imm.bits() as u64),
            _ => None,
        };
        if let Some(bits) = bits {
            let v = vconst(b, ty, bits);
            if !pin {
                return v;
            }
            let slot =
                b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4));
            b.ins().stack_store(types::I64, v, slot, 0);
            return b.ins().stack_load(types::I64, ty, slot, 0);
        }
    }
    b.ins().splat(ty, s)
}

/// Emits graphjit's own math functions ([`vmath`]) as Cranelift instructions on one float
/// (`F32`, `F64`) or a 128-bit vector of them (`F32X4`, `F64X2`): each trait operation is the
/// one IEEE instruction that the interpreter's plain Rust version performs, so every lane gets
/// the interpreter's bits.
pub(crate) struct ClifMachine<'a, 'b> {
    pub b: &'a mut FunctionBuilder<'b>,
    /// The float type of the values (`F32`, `F32X4`, `F64` or `F64X2`).
    pub ft: Type,
    /// The integer type of the same lanes (`I32`, `I32X4`, `I64` or `I64X2`).
    pub it: Type,
}

impl Machine for ClifMachine<'_, '_> {
    type F = clir::Value;
    type I = clir::Value;
    type M = clir::Value;
    fn splat(&mut self, c: f64) -> clir::Value {
        if self.ft.is_vector() {
            let bits = if self.ft.lane_type() == types::F32 {
                (c as f32).to_bits() as u64
            } else {
                c.to_bits()
            };
            return vconst(self.b, self.ft, bits);
        }
        if self.ft == types::F32 {
            self.b.ins().f32const(c as f32)
        } else {
            self.b.ins().f64const(c)
        }
    }
    fn isplat(&mut self, c: i64) -> clir::Value {
        let lane = self.it.lane_type();
        // The immediate of a 32-bit constant is given zero-extended.
        let c = if lane == types::I32 {
            c as u32 as i64
        } else {
            c
        };
        if self.it.is_vector() {
            return vconst(self.b, self.it, c as u64);
        }
        self.b.ins().iconst(lane, c)
    }
    fn add(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().fadd(a, b)
    }
    fn sub(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().fsub(a, b)
    }
    fn mul(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().fmul(a, b)
    }
    fn div(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().fdiv(a, b)
    }
    fn abs(&mut self, a: clir::Value) -> clir::Value {
        if self.ft.is_vector() {
            // The sign bits cleared with a mask held in a register (see `Isel::unary`).
            let mask = (1u64 << (self.ft.lane_bits() - 1)) - 1;
            let mask = vconst(self.b, self.ft, mask);
            return self.b.ins().band(a, mask);
        }
        self.b.ins().fabs(a)
    }
    fn bits_of(&mut self, a: clir::Value) -> clir::Value {
        self.b.ins().bitcast(self.it, MemFlagsData::new(), a)
    }
    fn float_of_bits(&mut self, a: clir::Value) -> clir::Value {
        self.b.ins().bitcast(self.ft, MemFlagsData::new(), a)
    }
    fn iadd(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().iadd(a, b)
    }
    fn isub(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().isub(a, b)
    }
    fn band(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().band(a, b)
    }
    fn bor(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().bor(a, b)
    }
    fn shl(&mut self, a: clir::Value, s: u8) -> clir::Value {
        self.b.ins().ishl_imm_s(a, s as i64)
    }
    fn sshr(&mut self, a: clir::Value, s: u8) -> clir::Value {
        self.b.ins().sshr_imm_s(a, s as i64)
    }
    fn lt(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        self.b.ins().fcmp(FloatCC::LessThan, a, b)
    }
    fn select(&mut self, m: clir::Value, x: clir::Value, y: clir::Value) -> clir::Value {
        if self.ft.is_vector() {
            // The comparison gave an all-ones / all-zeros integer mask per lane.
            let mf = self.b.ins().bitcast(self.ft, MemFlagsData::new(), m);
            self.b.ins().bitselect(mf, x, y)
        } else {
            self.b.ins().select(m, x, y)
        }
    }
}
