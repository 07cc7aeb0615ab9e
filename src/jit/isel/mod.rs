//! Instruction selection: the one place that says which Cranelift instructions compute an
//! elementwise op, a reduction's combining step or a constant, on one element (`f32`, `i64`,
//! ...) or on a 128-bit vector of elements (`f32x4`, `i64x2`, ...) alike.
//!
//! [`Isel::emit`] answers [`Refused::NotVector`] for an op that has no exact vector form
//! (calls, guarded integer division, comparisons); the fused loops then split the vector into
//! lanes and emit the scalar form per lane, so both forms compute the same bits.
//!
//! Instructions are chosen by the properties of the dtype ([`Class`]: bool, signed or
//! unsigned integer, float; and its width), never by naming each dtype, so a new dtype of an
//! existing class needs no new code here. The matches name every class, without wildcards,
//! so a new class cannot be skipped silently.
//!
//! The guards that make Cranelift's trapping or modular instructions follow graphjit's
//! semantics (`x / 0`, `MIN / -1`, shift amounts of the width or more, float-to-int
//! saturation) are written here once; every executor path uses them.
//!
//! Conversions are in `convert.rs`; ops computed by runtime calls or by the inline
//! [`crate::ops::scalar::vmath`] sequences in `calls.rs`; the 16-bit floats in
//! `../half_float.rs`.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData, Type};
use cranelift_frontend::FunctionBuilder;

use super::plan::EwOp;
use crate::ops::{BinaryOp, CmpOp, ReduceOp, UnaryOp};
use crate::tensor::Scalar;
use crate::types::{DType, Kind};

mod calls;
mod convert;

use crate::ops::scalar::{CANONICAL_NAN_F32, CANONICAL_NAN_F64};
use calls::FloatCall;
pub(crate) use calls::{splat_value, Calls};

/// The properties of a dtype that decide its instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// One byte, 0 or 1.
    Bool,
    /// A two's complement integer.
    Int { signed: bool },
    /// An IEEE float.
    Float,
}

impl Class {
    pub(crate) fn of(dt: DType) -> Class {
        match dt.kind() {
            Kind::Bool => Class::Bool,
            Kind::Signed => Class::Int { signed: true },
            Kind::Unsigned => Class::Int { signed: false },
            Kind::Float => Class::Float,
        }
    }
}

/// The Cranelift type of one element of `dt` in a register: `f32`/`f64` as themselves,
/// every other dtype as the integer of its storage width (`bool` a byte holding 0 or 1; `f16`
/// and `bf16` their 16 bits, see `half_float.rs`).
pub(crate) fn cl_type(dt: DType) -> Type {
    match (Class::of(dt), dt.bits()) {
        (Class::Float, 32) => types::F32,
        (Class::Float, 64) => types::F64,
        _ => Type::int_with_byte_size(dt.size_bytes() as u16).unwrap_or(types::I64),
    }
}

/// The 128-bit vector type of `dt`, if it has one that vector code uses: not for bool, whose
/// byte lanes no vector form handles.
pub(crate) fn vector_type(dt: DType) -> Option<Type> {
    match Class::of(dt) {
        Class::Bool => None,
        // The 16-bit floats are bits here; fused loops hold them widened, four `f32` lanes
        // to a vector (`lower/fused.rs`, `half_float.rs`).
        Class::Float if dt.is_half() => None,
        Class::Int { .. } | Class::Float => cl_type(dt).by(16 / dt.size_bytes() as u32),
    }
}

/// Why [`Isel::emit`] gave no instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The op has no exact vector form: split the vector into lanes.
    NotVector,
    /// The op is not defined on the dtype; verified IR never asks for it.
    Undefined,
}

pub(crate) type Selected = std::result::Result<clir::Value, Refused>;

/// The instruction selector over one function being built.
pub(crate) struct Isel<'x, 'b, 'm> {
    pub b: &'x mut FunctionBuilder<'b>,
    pub calls: &'x mut Calls<'m>,
}

/// The binary op a reduction combines with.
fn combiner(op: ReduceOp) -> BinaryOp {
    match op {
        ReduceOp::Sum => BinaryOp::Add,
        ReduceOp::Prod => BinaryOp::Mul,
        ReduceOp::Min => BinaryOp::Min,
        ReduceOp::Max => BinaryOp::Max,
        ReduceOp::And => BinaryOp::And,
        ReduceOp::Or => BinaryOp::Or,
    }
}

impl Isel<'_, '_, '_> {
    /// Emits `op` on `args` whose operation dtype is `in_dt` (the last operand's) and whose
    /// result dtype is `out_dt`; `ty` is the result's Cranelift type, a scalar or a 128-bit
    /// vector (then every operand is a vector of the same lane count).
    pub(crate) fn emit(
        &mut self,
        op: EwOp,
        in_dt: DType,
        out_dt: DType,
        ty: Type,
        x: &[clir::Value],
    ) -> Selected {
        if in_dt.is_half() || out_dt.is_half() {
            return self.emit_half(op, in_dt, out_dt, ty, x);
        }
        let vector = ty.is_vector();
        if vector && (vector_type(in_dt).is_none() || vector_type(out_dt).is_none()) {
            return Err(Refused::NotVector);
        }
        match op {
            EwOp::Unary(u) => self.unary(u, in_dt, vector, x[0]),
            EwOp::Binary(b) => self.binary(b, in_dt, vector, x[0], x[1]),
            EwOp::Compare(c) if !vector => Ok(self.compare(c, in_dt, x[0], x[1])),
            EwOp::Select if !vector => Ok(self.b.ins().select(x[0], x[1], x[2])),
            EwOp::Compare(_) | EwOp::Select => Err(Refused::NotVector),
            EwOp::Convert => self.convert(in_dt, out_dt, ty, x[0]),
        }
    }

    /// [`Isel::emit`] on vectors, splitting into lanes where the op has no vector form.
    pub(crate) fn emit_lanes(
        &mut self,
        op: EwOp,
        in_dt: DType,
        out_dt: DType,
        ty: Type,
        xs: &[clir::Value],
    ) -> Selected {
        match self.emit(op, in_dt, out_dt, ty, xs) {
            Err(Refused::NotVector) => {}
            other => return other,
        }
        let lane_ty = cl_type(out_dt);
        let mut acc: Option<clir::Value> = None;
        for lane in 0..ty.lane_count() {
            let ls: Vec<clir::Value> = xs
                .iter()
                .map(|&x| self.b.ins().extractlane(x, lane as u8))
                .collect();
            let r = self.emit(op, in_dt, out_dt, lane_ty, &ls)?;
            acc = Some(match acc {
                None => self.b.ins().splat(ty, r),
                Some(v) => self.b.ins().insertlane(v, r, lane as u8),
            });
        }
        acc.ok_or(Refused::Undefined)
    }

    /// The wrapping product of two `i8x16` vectors: each half widened to 16-bit lanes,
    /// multiplied, cut to its low byte and packed back (the packing saturates, which a value
    /// of 0..=255 never meets). The low byte of a product does not depend on signedness, so
    /// the zero-extending widening serves signed lanes as well.
    fn mul_bytes(&mut self, a: clir::Value, b: clir::Value) -> clir::Value {
        let (al, ah) = (self.b.ins().uwiden_low(a), self.b.ins().uwiden_high(a));
        let (bl, bh) = (self.b.ins().uwiden_low(b), self.b.ins().uwiden_high(b));
        let lo = self.b.ins().imul(al, bl);
        let hi = self.b.ins().imul(ah, bh);
        let byte = self.b.ins().iconst(types::I16, 0xff);
        let byte = self.b.ins().splat(types::I16X8, byte);
        let lo = self.b.ins().band(lo, byte);
        let hi = self.b.ins().band(hi, byte);
        self.b.ins().unarrow(lo, hi)
    }

    fn unary(&mut self, op: UnaryOp, dt: DType, vector: bool, x: clir::Value) -> Selected {
        let class = Class::of(dt);
        let ty = self.b.func.dfg.value_type(x);
        if matches!(op, UnaryOp::Neg | UnaryOp::Abs) && ty.is_vector() && ty.lane_type().is_float()
        {
            // Flipping or clearing the sign bits with a mask held in a register: one
            // instruction, where Cranelift's `fneg`/`fabs` build the mask every time (three).
            let sign = 1u64 << (ty.lane_bits() - 1);
            let mask = if op == UnaryOp::Neg { sign } else { sign - 1 };
            let mask = calls::vconst(self.b, ty, mask);
            return Ok(if op == UnaryOp::Neg {
                self.b.ins().bxor(x, mask)
            } else {
                self.b.ins().band(x, mask)
            });
        }
        let ins = self.b.ins();
        Ok(match (op, class) {
            (UnaryOp::Exp | UnaryOp::Tanh, Class::Float) => return self.vmath(op, dt, vector, x),
            (UnaryOp::Neg, Class::Int { .. }) => ins.ineg(x),
            (UnaryOp::Neg, Class::Float) => ins.fneg(x),
            // `iabs` of MIN is MIN, the wrapping result graphjit specifies.
            (UnaryOp::Abs, Class::Int { signed: true }) => ins.iabs(x),
            (UnaryOp::Abs, Class::Int { signed: false }) => x,
            (UnaryOp::Abs, Class::Float) => ins.fabs(x),
            (UnaryOp::Not, Class::Bool) => ins.bxor_imm_s(x, 1),
            (UnaryOp::Not, Class::Int { .. }) => ins.bnot(x),
            (UnaryOp::Sqrt, Class::Float) => ins.sqrt(x),
            (UnaryOp::Floor, Class::Float) => ins.floor(x),
            (UnaryOp::Ceil, Class::Float) => ins.ceil(x),
            // `nearest` rounds half to even, like `round_ties_even`.
            (UnaryOp::Round, Class::Float) => ins.nearest(x),
            (UnaryOp::Log | UnaryOp::Sin | UnaryOp::Cos, Class::Float) if vector => {
                return Err(Refused::NotVector)
            }
            (UnaryOp::Log, Class::Float) => self.call(FloatCall::Log, dt, &[x])?,
            (UnaryOp::Sin, Class::Float) => self.call(FloatCall::Sin, dt, &[x])?,
            (UnaryOp::Cos, Class::Float) => self.call(FloatCall::Cos, dt, &[x])?,
            (
                UnaryOp::Expm1
                | UnaryOp::Log1p
                | UnaryOp::Logistic
                | UnaryOp::Cbrt
                | UnaryOp::Erf
                | UnaryOp::Sign
                | UnaryOp::RoundAfz
                | UnaryOp::Rsqrt
                | UnaryOp::Popcnt
                | UnaryOp::Clz,
                _,
            ) if vector => return Err(Refused::NotVector),
            (UnaryOp::Expm1, Class::Float) => self.call(FloatCall::Expm1, dt, &[x])?,
            (UnaryOp::Log1p, Class::Float) => self.call(FloatCall::Log1p, dt, &[x])?,
            (UnaryOp::Logistic, Class::Float) => self.call(FloatCall::Logistic, dt, &[x])?,
            (UnaryOp::Cbrt, Class::Float) => self.call(FloatCall::Cbrt, dt, &[x])?,
            (UnaryOp::Erf, Class::Float) => self.call(FloatCall::Erf, dt, &[x])?,
            (UnaryOp::Sign | UnaryOp::RoundAfz | UnaryOp::Rsqrt, Class::Float) => {
                return self.float_math_inline(op, dt, x)
            }
            (UnaryOp::Sign, Class::Int { signed: true }) => {
                let ty = cl_type(dt);
                let one = ins.iconst(ty, 1);
                let minus = self.b.ins().iconst(ty, -1);
                let low = self.b.ins().smax(x, minus);
                self.b.ins().smin(low, one)
            }
            (UnaryOp::Sign, Class::Int { signed: false }) => {
                let one = ins.iconst(cl_type(dt), 1);
                self.b.ins().umin(x, one)
            }
            (UnaryOp::Popcnt, Class::Int { .. }) => ins.popcnt(x),
            (UnaryOp::Clz, Class::Int { .. }) => ins.clz(x),
            _ => return Err(Refused::Undefined),
        })
    }

    /// `sign`, `round_nearest_afz` and `rsqrt` of `f32`/`f64` as the exact IEEE sequences
    /// `ops::math` defines (scalar only).
    fn float_math_inline(&mut self, op: UnaryOp, dt: DType, x: clir::Value) -> Selected {
        let ty = cl_type(dt);
        let wide = dt.size_bytes() == 8;
        let fconst = |b: &mut FunctionBuilder<'_>, v: f64| {
            if wide {
                b.ins().f64const(v)
            } else {
                b.ins().f32const(v as f32)
            }
        };
        let b = &mut *self.b;
        Ok(match op {
            UnaryOp::Sign => {
                // NaN and ±0 are themselves; anything else is 1 with the sign of x.
                let one = fconst(b, 1.0);
                let s = b.ins().fcopysign(one, x);
                let zero = fconst(b, 0.0);
                let is_zero = b.ins().fcmp(FloatCC::Equal, x, zero);
                let r = b.ins().select(is_zero, x, s);
                let nan = b.ins().fcmp(FloatCC::Unordered, x, x);
                b.ins().select(nan, x, r)
            }
            UnaryOp::RoundAfz => {
                // trunc(x), plus one step away from zero when the dropped fraction (exact:
                // x - trunc(x)) is at least one half.
                let t = b.ins().trunc(x);
                let frac = b.ins().fsub(x, t);
                let af = b.ins().fabs(frac);
                let half = fconst(b, 0.5);
                let up = b.ins().fcmp(FloatCC::GreaterThanOrEqual, af, half);
                let one = fconst(b, 1.0);
                let step = b.ins().fcopysign(one, x);
                let bumped = b.ins().fadd(t, step);
                b.ins().select(up, bumped, t)
            }
            UnaryOp::Rsqrt if wide => {
                let s = b.ins().sqrt(x);
                let one = b.ins().f64const(1.0);
                b.ins().fdiv(one, s)
            }
            UnaryOp::Rsqrt => {
                // In f64, rounded once to f32, as `ops::math` computes it.
                let w = b.ins().fpromote(types::F64, x);
                let s = b.ins().sqrt(w);
                let one = b.ins().f64const(1.0);
                let r = b.ins().fdiv(one, s);
                let _ = ty;
                b.ins().fdemote(types::F32, r)
            }
            _ => return Err(Refused::Undefined),
        })
    }

    /// `r`, or the canonical quiet NaN (positive, no payload) where `r` is a NaN. IEEE 754's
    /// `minimum` and `maximum` leave open which NaN they return, and Cranelift's scalar and
    /// vector sequences differ in its sign, which `TOTALORDER` compares and bitcasts observe;
    /// graphjit defines the result, and the interpreter gives the same one.
    fn canonical_nan(&mut self, r: clir::Value) -> clir::Value {
        let b = &mut *self.b;
        let ty = b.func.dfg.value_type(r);
        let canon = if ty.lane_type() == types::F32 {
            b.ins().f32const(f32::from_bits(CANONICAL_NAN_F32))
        } else {
            b.ins().f64const(f64::from_bits(CANONICAL_NAN_F64))
        };
        let nan = b.ins().fcmp(FloatCC::Unordered, r, r);
        if ty.is_vector() {
            let c = b.ins().splat(ty, canon);
            let m = b.ins().bitcast(ty, MemFlagsData::new(), nan);
            b.ins().bitselect(m, c, r)
        } else {
            b.ins().select(nan, canon, r)
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        dt: DType,
        vector: bool,
        a: clir::Value,
        b: clir::Value,
    ) -> Selected {
        let class = Class::of(dt);
        let ins = self.b.ins();
        Ok(match (op, class) {
            (BinaryOp::Add, Class::Float) => ins.fadd(a, b),
            (BinaryOp::Sub, Class::Float) => ins.fsub(a, b),
            (BinaryOp::Mul, Class::Float) => ins.fmul(a, b),
            (BinaryOp::Div, Class::Float) => ins.fdiv(a, b),
            // Cranelift's fmin/fmax are IEEE 754-2019 minimum/maximum; which NaN they give
            // is canonicalized, as in `ops::scalar`.
            (BinaryOp::Min, Class::Float) => {
                let r = ins.fmin(a, b);
                self.canonical_nan(r)
            }
            (BinaryOp::Max, Class::Float) => {
                let r = ins.fmax(a, b);
                self.canonical_nan(r)
            }
            (BinaryOp::Rem | BinaryOp::Pow | BinaryOp::Atan2, Class::Float) if vector => {
                return Err(Refused::NotVector)
            }
            (BinaryOp::Atan2, Class::Float) => self.call(FloatCall::Atan2, dt, &[a, b])?,
            (BinaryOp::Rem, Class::Float) => self.call(FloatCall::Rem, dt, &[a, b])?,
            (BinaryOp::Pow, Class::Float) => self.call(FloatCall::Pow, dt, &[a, b])?,
            (BinaryOp::And, Class::Bool | Class::Int { .. }) => ins.band(a, b),
            (BinaryOp::Or, Class::Bool | Class::Int { .. }) => ins.bor(a, b),
            (BinaryOp::Xor, Class::Bool | Class::Int { .. }) => ins.bxor(a, b),
            (BinaryOp::Add, Class::Int { .. }) => ins.iadd(a, b),
            (BinaryOp::Sub, Class::Int { .. }) => ins.isub(a, b),
            // x86-64 has no multiply of 8-bit lanes.
            (BinaryOp::Mul, Class::Int { .. }) if vector && dt.size_bytes() == 1 => {
                self.mul_bytes(a, b)
            }
            (BinaryOp::Mul, Class::Int { .. }) => ins.imul(a, b),
            (BinaryOp::Min, Class::Int { signed: true }) => ins.smin(a, b),
            (BinaryOp::Max, Class::Int { signed: true }) => ins.smax(a, b),
            (BinaryOp::Min, Class::Int { signed: false }) => ins.umin(a, b),
            (BinaryOp::Max, Class::Int { signed: false }) => ins.umax(a, b),
            (
                BinaryOp::Div
                | BinaryOp::Rem
                | BinaryOp::Shl
                | BinaryOp::ShrLogical
                | BinaryOp::ShrArith,
                Class::Int { .. },
            ) if vector => return Err(Refused::NotVector),
            (BinaryOp::Div | BinaryOp::Rem, Class::Int { signed }) => {
                self.guarded_div(op == BinaryOp::Div, signed, dt, a, b)
            }
            (BinaryOp::Shl | BinaryOp::ShrLogical | BinaryOp::ShrArith, Class::Int { .. }) => {
                self.guarded_shift(op, dt, a, b)
            }
            (
                BinaryOp::Add
                | BinaryOp::Sub
                | BinaryOp::Mul
                | BinaryOp::Div
                | BinaryOp::Rem
                | BinaryOp::Min
                | BinaryOp::Max
                | BinaryOp::Pow
                | BinaryOp::Shl
                | BinaryOp::ShrLogical
                | BinaryOp::ShrArith,
                Class::Bool,
            )
            | (BinaryOp::Pow | BinaryOp::Atan2, Class::Int { .. } | Class::Bool)
            | (
                BinaryOp::And
                | BinaryOp::Or
                | BinaryOp::Xor
                | BinaryOp::Shl
                | BinaryOp::ShrLogical
                | BinaryOp::ShrArith,
                Class::Float,
            ) => return Err(Refused::Undefined),
        })
    }

    /// Integer division or remainder with graphjit's results where Cranelift would trap:
    /// `x / 0 = -1` (all ones), `x % 0 = x`, and for signed types `MIN / -1 = MIN`,
    /// `MIN % -1 = 0`. The divisor is replaced by 1 in those cases, then the specified
    /// results are selected.
    fn guarded_div(
        &mut self,
        div: bool,
        signed: bool,
        dt: DType,
        a: clir::Value,
        b: clir::Value,
    ) -> clir::Value {
        let ty = cl_type(dt);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let bad = if signed {
            // MIN of the width, as the sign-extended immediate `icmp_imm_s` compares with.
            let min = i64::MIN >> (64 - ty.bits());
            let a_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
            let b_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
            let ovf = self.b.ins().band(a_min, b_m1);
            self.b.ins().bor(zero, ovf)
        } else {
            zero
        };
        let one = self.b.ins().iconst(ty, 1);
        let safe = self.b.ins().select(bad, one, b);
        if div {
            // MIN / 1 = MIN is already the specified MIN / -1.
            let q = if signed {
                self.b.ins().sdiv(a, safe)
            } else {
                self.b.ins().udiv(a, safe)
            };
            let m1 = self.b.ins().iconst(ty, -1);
            self.b.ins().select(zero, m1, q)
        } else {
            // MIN % 1 = 0 is already the specified MIN % -1.
            let r = if signed {
                self.b.ins().srem(a, safe)
            } else {
                self.b.ins().urem(a, safe)
            };
            self.b.ins().select(zero, a, r)
        }
    }

    /// Shifts: Cranelift takes the amount modulo the width; graphjit reads the amount as
    /// unsigned and saturates amounts of the width or more (`shl`, logical `shr` give 0,
    /// arithmetic `shr` fills with the sign).
    fn guarded_shift(
        &mut self,
        op: BinaryOp,
        dt: DType,
        a: clir::Value,
        b: clir::Value,
    ) -> clir::Value {
        let ty = cl_type(dt);
        let w = ty.bits() as i64;
        let big = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, b, w);
        if op == BinaryOp::ShrArith {
            let max = self.b.ins().iconst(ty, w - 1);
            let amt = self.b.ins().select(big, max, b);
            return self.b.ins().sshr(a, amt);
        }
        let s = if op == BinaryOp::Shl {
            self.b.ins().ishl(a, b)
        } else {
            self.b.ins().ushr(a, b)
        };
        let z = self.b.ins().iconst(ty, 0);
        self.b.ins().select(big, z, s)
    }

    /// A comparison of scalars; the result is an `i8` holding 0 or 1.
    pub(crate) fn compare(
        &mut self,
        op: CmpOp,
        dt: DType,
        a: clir::Value,
        b: clir::Value,
    ) -> clir::Value {
        let (op, total) = op.split_total();
        if total && Class::of(dt) == Class::Float {
            // StableHLO's TOTALORDER (`ops::compare::total_key`): the bits with the magnitude
            // of negative values flipped, compared as signed integers.
            let (ka, kb) = (self.total_key(dt, a), self.total_key(dt, b));
            return self.compare(op, DType::I64, ka, kb);
        }
        let signed = match Class::of(dt) {
            Class::Float => {
                // IEEE quiet comparisons: ordered, except `ne`, which is true on NaN.
                let cc = match op {
                    CmpOp::Eq | CmpOp::TotalEq => FloatCC::Equal,
                    CmpOp::Ne | CmpOp::TotalNe => FloatCC::NotEqual,
                    CmpOp::Lt | CmpOp::TotalLt => FloatCC::LessThan,
                    CmpOp::Le | CmpOp::TotalLe => FloatCC::LessThanOrEqual,
                    CmpOp::Gt | CmpOp::TotalGt => FloatCC::GreaterThan,
                    CmpOp::Ge | CmpOp::TotalGe => FloatCC::GreaterThanOrEqual,
                };
                return self.b.ins().fcmp(cc, a, b);
            }
            // Bools are 0/1, so an unsigned comparison orders false < true.
            Class::Bool => false,
            Class::Int { signed } => signed,
        };
        let cc = match (op, signed) {
            (CmpOp::Eq | CmpOp::TotalEq, _) => IntCC::Equal,
            (CmpOp::Ne | CmpOp::TotalNe, _) => IntCC::NotEqual,
            (CmpOp::Lt | CmpOp::TotalLt, true) => IntCC::SignedLessThan,
            (CmpOp::Le | CmpOp::TotalLe, true) => IntCC::SignedLessThanOrEqual,
            (CmpOp::Gt | CmpOp::TotalGt, true) => IntCC::SignedGreaterThan,
            (CmpOp::Ge | CmpOp::TotalGe, true) => IntCC::SignedGreaterThanOrEqual,
            (CmpOp::Lt | CmpOp::TotalLt, false) => IntCC::UnsignedLessThan,
            (CmpOp::Le | CmpOp::TotalLe, false) => IntCC::UnsignedLessThanOrEqual,
            (CmpOp::Gt | CmpOp::TotalGt, false) => IntCC::UnsignedGreaterThan,
            (CmpOp::Ge | CmpOp::TotalGe, false) => IntCC::UnsignedGreaterThanOrEqual,
        };
        self.b.ins().icmp(cc, a, b)
    }

    /// The total-order key of a float element as a sign-extended `i64` (`f16`/`bf16` are
    /// already their bits in registers).
    fn total_key(&mut self, dt: DType, x: clir::Value) -> clir::Value {
        let w = dt.bits() as i64;
        let bits = if dt.is_half() {
            x
        } else {
            let it = Type::int_with_byte_size(dt.size_bytes() as u16).unwrap_or(types::I64);
            self.b.ins().bitcast(it, MemFlagsData::new(), x)
        };
        let wide = if w < 64 {
            self.b.ins().sextend(types::I64, bits)
        } else {
            bits
        };
        let sign = self.b.ins().sshr_imm_s(wide, 63);
        let mask = self.b.ins().ushr_imm_s(sign, 1);
        self.b.ins().bxor(wide, mask)
    }

    /// One step of a reduction: the reduction's binary op, on scalars or lanewise on vectors.
    pub(crate) fn combine(
        &mut self,
        op: ReduceOp,
        dt: DType,
        a: clir::Value,
        x: clir::Value,
    ) -> Selected {
        let ty = self.b.func.dfg.value_type(a);
        self.emit(EwOp::Binary(combiner(op)), dt, dt, ty, &[a, x])
    }

    /// Combines sixteen partial accumulators as the documented fixed tree (see
    /// `ops::kernels::reduce_lanes`): `s[j] = (v[j] . v[j+4]) . (v[j+8] . v[j+12])`, then
    /// `(s[0] . s[1]) . (s[2] . s[3])`.
    pub(crate) fn combine_tree(
        &mut self,
        op: ReduceOp,
        dt: DType,
        v: &[clir::Value; 16],
    ) -> Selected {
        let mut s = [v[0]; 4];
        for (j, sj) in s.iter_mut().enumerate() {
            let lo = self.combine(op, dt, v[j], v[j + 4])?;
            let hi = self.combine(op, dt, v[j + 8], v[j + 12])?;
            *sj = self.combine(op, dt, lo, hi)?;
        }
        let lo = self.combine(op, dt, s[0], s[1])?;
        let hi = self.combine(op, dt, s[2], s[3])?;
        self.combine(op, dt, lo, hi)
    }

    /// The identity of a reduction on `dt`, from `ops::scalar` (the interpreter's).
    pub(crate) fn identity(&mut self, op: ReduceOp, dt: DType) -> Selected {
        let s = crate::ops::scalar::reduce_identity(op, dt).ok_or(Refused::Undefined)?;
        Ok(self.constant(s))
    }

    /// The zero `dot` accumulates from: the identity of `sum`.
    pub(crate) fn dot_zero(&mut self, dt: DType) -> Selected {
        self.identity(ReduceOp::Sum, dt)
    }

    /// A scalar immediate.
    pub(crate) fn constant(&mut self, s: Scalar) -> clir::Value {
        match s {
            Scalar::F32(v) => self.b.ins().f32const(v),
            Scalar::F64(v) => self.b.ins().f64const(v),
            // Integers, bools and 16-bit floats as their bits, zero-extended as Cranelift's
            // `iconst` wants them.
            _ => {
                let bits = crate::ops::scalar::scalar_to_reg(s);
                self.b.ins().iconst(cl_type(s.dtype()), bits as i64)
            }
        }
    }
}
