//! Code generation for elementwise ops on one element: arithmetic with the guards that make
//! Cranelift's trapping or modular instructions follow graphjit's semantics, comparisons,
//! conversions, and calls to the shared runtime functions of `crate::ops::scalar`.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData, Type};
use cranelift_frontend::FunctionBuilder;

use super::lower::{cl_type, Lowerer, Result};
use crate::ops::scalar::vmath::{self, Machine};
use crate::ops::{kernels, scalar, BinaryOp, CmpOp, UnaryOp};
use crate::types::{DType, Kind, TensorType};

/// The runtime functions compiled code calls, with their addresses: the very functions the
/// interpreter calls, so that both executors compute the same bits. Each entry gives the
/// dtype of every parameter and of the result, and the number of parameters; the float `dot`
/// routines take pointers and sizes, passed as `i64` (compiled code targets 64-bit hosts).
pub(crate) fn runtime_symbols() -> Vec<(&'static str, *const u8, DType, usize)> {
    vec![
        (
            "graphjit_dot_f32",
            kernels::dot_f32 as *const u8,
            DType::I64,
            6,
        ),
        (
            "graphjit_dot_f64",
            kernels::dot_f64 as *const u8,
            DType::I64,
            6,
        ),
        (
            "graphjit_dot_f16",
            kernels::dot_f16 as *const u8,
            DType::I64,
            6,
        ),
        (
            "graphjit_dot_bf16",
            kernels::dot_bf16 as *const u8,
            DType::I64,
            6,
        ),
        (
            "graphjit_exp_f32",
            scalar::exp_f32 as *const u8,
            DType::F32,
            1,
        ),
        (
            "graphjit_exp_f64",
            scalar::exp_f64 as *const u8,
            DType::F64,
            1,
        ),
        (
            "graphjit_log_f32",
            scalar::log_f32 as *const u8,
            DType::F32,
            1,
        ),
        (
            "graphjit_log_f64",
            scalar::log_f64 as *const u8,
            DType::F64,
            1,
        ),
        (
            "graphjit_tanh_f32",
            scalar::tanh_f32 as *const u8,
            DType::F32,
            1,
        ),
        (
            "graphjit_tanh_f64",
            scalar::tanh_f64 as *const u8,
            DType::F64,
            1,
        ),
        (
            "graphjit_sin_f32",
            scalar::sin_f32 as *const u8,
            DType::F32,
            1,
        ),
        (
            "graphjit_sin_f64",
            scalar::sin_f64 as *const u8,
            DType::F64,
            1,
        ),
        (
            "graphjit_cos_f32",
            scalar::cos_f32 as *const u8,
            DType::F32,
            1,
        ),
        (
            "graphjit_cos_f64",
            scalar::cos_f64 as *const u8,
            DType::F64,
            1,
        ),
        (
            "graphjit_pow_f32",
            scalar::pow_f32 as *const u8,
            DType::F32,
            2,
        ),
        (
            "graphjit_pow_f64",
            scalar::pow_f64 as *const u8,
            DType::F64,
            2,
        ),
        (
            "graphjit_rem_f32",
            scalar::rem_f32 as *const u8,
            DType::F32,
            2,
        ),
        (
            "graphjit_rem_f64",
            scalar::rem_f64 as *const u8,
            DType::F64,
            2,
        ),
    ]
}

/// The runtime symbol of a float function.
fn runtime_name(base: &str, dtype: DType) -> Option<&'static str> {
    let want = format!("graphjit_{base}_{}", dtype.name());
    runtime_symbols()
        .into_iter()
        .map(|s| s.0)
        .find(|n| *n == want)
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
        let x = if self.ft.lane_type() == types::F32 {
            self.b.ins().f32const(c as f32)
        } else {
            self.b.ins().f64const(c)
        };
        if self.ft.is_vector() {
            self.b.ins().splat(self.ft, x)
        } else {
            x
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
        let x = self.b.ins().iconst(lane, c);
        if self.it.is_vector() {
            self.b.ins().splat(self.it, x)
        } else {
            x
        }
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

impl Lowerer<'_, '_> {
    /// `exp` or `tanh` of a float (`vector`: of a 128-bit vector of floats) of `dt`, inline:
    /// the instruction sequence of [`vmath`], the interpreter's definition. `None` for other
    /// ops and dtypes.
    pub(crate) fn vmath(
        &mut self,
        op: UnaryOp,
        dt: DType,
        x: clir::Value,
        vector: bool,
    ) -> Option<clir::Value> {
        let (ft, it) = match (dt, vector) {
            (DType::F32, false) => (types::F32, types::I32),
            (DType::F32, true) => (types::F32X4, types::I32X4),
            (DType::F64, false) => (types::F64, types::I64),
            (DType::F64, true) => (types::F64X2, types::I64X2),
            _ => return None,
        };
        let mut m = ClifMachine {
            b: &mut self.b,
            ft,
            it,
        };
        match (op, dt) {
            (UnaryOp::Exp, DType::F32) => Some(vmath::exp32(&mut m, x)),
            (UnaryOp::Tanh, DType::F32) => Some(vmath::tanh32(&mut m, x)),
            (UnaryOp::Exp, _) => Some(vmath::exp64(&mut m, x)),
            (UnaryOp::Tanh, _) => Some(vmath::tanh64(&mut m, x)),
            _ => None,
        }
    }
}

impl Lowerer<'_, '_> {
    /// An integer constant of type `ty` from the low bits of `v` (Cranelift wants the
    /// immediate zero-extended from the type's width).
    pub(crate) fn iconst_bits(&mut self, ty: Type, v: i64) -> clir::Value {
        let w = ty.bits();
        let v = if w >= 64 { v } else { v & ((1i64 << w) - 1) };
        self.b.ins().iconst(ty, v)
    }
}

/// The width in bits of an integer dtype.
fn bits(dtype: DType) -> i64 {
    (dtype.size_bytes() * 8) as i64
}

impl Lowerer<'_, '_> {
    /// Calls a runtime function of `dtype` by its base name (`exp`, `pow`, `dot`, ...).
    pub(crate) fn call_runtime(
        &mut self,
        base: &str,
        dtype: DType,
        args: &[clir::Value],
    ) -> Result<clir::Value> {
        let name = runtime_name(base, dtype)
            .ok_or_else(|| self.err(format!("no runtime function {base} for {dtype}")))?;
        let r = self.func_ref(name)?;
        let call = self.b.ins().call(r, args);
        Ok(self.b.inst_results(call)[0])
    }

    pub(crate) fn unary(&mut self, op: UnaryOp, dt: DType, x: clir::Value) -> Result<clir::Value> {
        if dt.is_half() {
            // Computed in f32, rounded once (see `half_float.rs`).
            let w = self.widen_half(dt, x);
            let r = self.unary(op, DType::F32, w)?;
            return Ok(self.narrow_half(dt, r));
        }
        if let Some(v) = self.vmath(op, dt, x, false) {
            return Ok(v);
        }
        let ins = self.b.ins();
        Ok(match (op, dt.is_float()) {
            (UnaryOp::Neg, false) => ins.ineg(x),
            (UnaryOp::Neg, true) => ins.fneg(x),
            // `abs` is the identity on unsigned integers; `iabs` of MIN is MIN, the
            // wrapping result graphjit specifies.
            (UnaryOp::Abs, false) if dt.is_unsigned() => x,
            (UnaryOp::Abs, false) => ins.iabs(x),
            (UnaryOp::Abs, true) => ins.fabs(x),
            (UnaryOp::Not, false) if dt == DType::Bool => ins.bxor_imm_s(x, 1),
            (UnaryOp::Not, false) => ins.bnot(x),
            (UnaryOp::Sqrt, true) => ins.sqrt(x),
            (UnaryOp::Floor, true) => ins.floor(x),
            (UnaryOp::Ceil, true) => ins.ceil(x),
            // `nearest` rounds half to even, like `round_ties_even`.
            (UnaryOp::Round, true) => ins.nearest(x),
            (UnaryOp::Exp, true) => return self.call_runtime("exp", dt, &[x]),
            (UnaryOp::Log, true) => return self.call_runtime("log", dt, &[x]),
            (UnaryOp::Tanh, true) => return self.call_runtime("tanh", dt, &[x]),
            (UnaryOp::Sin, true) => return self.call_runtime("sin", dt, &[x]),
            (UnaryOp::Cos, true) => return self.call_runtime("cos", dt, &[x]),
            _ => return Err(self.err(format!("'{}' is not defined on {dt}", op.name()))),
        })
    }

    pub(crate) fn binary(
        &mut self,
        op: BinaryOp,
        dt: DType,
        a: clir::Value,
        b: clir::Value,
    ) -> Result<clir::Value> {
        if dt.is_half() {
            // Computed in f32, rounded once (see `half_float.rs`).
            let (wa, wb) = (self.widen_half(dt, a), self.widen_half(dt, b));
            let r = self.binary(op, DType::F32, wa, wb)?;
            return Ok(self.narrow_half(dt, r));
        }
        if dt.is_float() {
            let ins = self.b.ins();
            return Ok(match op {
                BinaryOp::Add => ins.fadd(a, b),
                BinaryOp::Sub => ins.fsub(a, b),
                BinaryOp::Mul => ins.fmul(a, b),
                BinaryOp::Div => ins.fdiv(a, b),
                // Cranelift's fmin/fmax are IEEE 754-2019 minimum/maximum.
                BinaryOp::Min => ins.fmin(a, b),
                BinaryOp::Max => ins.fmax(a, b),
                BinaryOp::Rem => return self.call_runtime("rem", dt, &[a, b]),
                BinaryOp::Pow => return self.call_runtime("pow", dt, &[a, b]),
                _ => return Err(self.err(format!("'{}' is not defined on {dt}", op.name()))),
            });
        }
        let ty = cl_type(dt);
        Ok(match op {
            BinaryOp::And => self.b.ins().band(a, b),
            BinaryOp::Or => self.b.ins().bor(a, b),
            BinaryOp::Xor => self.b.ins().bxor(a, b),
            _ if dt == DType::Bool => {
                return Err(self.err(format!("'{}' is not defined on bool", op.name())))
            }
            BinaryOp::Add => self.b.ins().iadd(a, b),
            BinaryOp::Sub => self.b.ins().isub(a, b),
            BinaryOp::Mul => self.b.ins().imul(a, b),
            BinaryOp::Min if dt.is_unsigned() => self.b.ins().umin(a, b),
            BinaryOp::Max if dt.is_unsigned() => self.b.ins().umax(a, b),
            BinaryOp::Min => self.b.ins().smin(a, b),
            BinaryOp::Max => self.b.ins().smax(a, b),
            BinaryOp::Div | BinaryOp::Rem if dt.is_unsigned() => {
                // `udiv`/`urem` trap on a zero divisor: divide by 1 instead, then select
                // `x / 0` = all ones and `x % 0 = x`.
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
                let one = self.b.ins().iconst(ty, 1);
                let safe = self.b.ins().select(zero, one, b);
                if op == BinaryOp::Div {
                    let q = self.b.ins().udiv(a, safe);
                    let max = self.iconst_bits(ty, -1);
                    self.b.ins().select(zero, max, q)
                } else {
                    let r = self.b.ins().urem(a, safe);
                    self.b.ins().select(zero, a, r)
                }
            }
            BinaryOp::Div | BinaryOp::Rem => {
                // `sdiv`/`srem` trap on a zero divisor and on MIN / -1: divide by 1 in
                // those cases instead, then select the specified results.
                let ins = self.b.ins();
                let zero = ins.icmp_imm_s(IntCC::Equal, b, 0);
                let min = 1i64 << (bits(dt) - 1);
                let min = self.iconst_bits(ty, min.wrapping_neg());
                let a_min = self.b.ins().icmp(IntCC::Equal, a, min);
                let ins = self.b.ins();
                let b_m1 = ins.icmp_imm_s(IntCC::Equal, b, -1);
                let ins = self.b.ins();
                let ovf = ins.band(a_min, b_m1);
                let ins = self.b.ins();
                let bad = ins.bor(zero, ovf);
                let one = self.b.ins().iconst(ty, 1);
                let safe = self.b.ins().select(bad, one, b);
                if op == BinaryOp::Div {
                    // MIN / 1 = MIN is already the specified MIN / -1; x / 0 = -1.
                    let q = self.b.ins().sdiv(a, safe);
                    let m1 = self.iconst_bits(ty, -1);
                    self.b.ins().select(zero, m1, q)
                } else {
                    // MIN % 1 = 0 is already the specified MIN % -1; x % 0 = x.
                    let r = self.b.ins().srem(a, safe);
                    self.b.ins().select(zero, a, r)
                }
            }
            BinaryOp::Shl | BinaryOp::ShrLogical | BinaryOp::ShrArith => {
                // Cranelift shifts take the amount modulo the width; graphjit reads the
                // amount as unsigned and saturates amounts >= width.
                let w = bits(dt);
                let big = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, b, w);
                match op {
                    BinaryOp::Shl | BinaryOp::ShrLogical => {
                        let s = if op == BinaryOp::Shl {
                            self.b.ins().ishl(a, b)
                        } else {
                            self.b.ins().ushr(a, b)
                        };
                        let z = self.b.ins().iconst(ty, 0);
                        self.b.ins().select(big, z, s)
                    }
                    _ => {
                        let max = self.b.ins().iconst(ty, w - 1);
                        let amt = self.b.ins().select(big, max, b);
                        self.b.ins().sshr(a, amt)
                    }
                }
            }
            BinaryOp::Pow => return Err(self.err(format!("'pow' is not defined on {dt}"))),
        })
    }

    /// A comparison; the result is an `i8` holding 0 or 1.
    pub(crate) fn compare(
        &mut self,
        op: CmpOp,
        dt: DType,
        a: clir::Value,
        b: clir::Value,
    ) -> clir::Value {
        if dt.is_half() {
            let (wa, wb) = (self.widen_half(dt, a), self.widen_half(dt, b));
            return self.compare(op, DType::F32, wa, wb);
        }
        if dt.is_float() {
            // IEEE quiet comparisons: ordered, except `ne`, which is true on NaN.
            let cc = match op {
                CmpOp::Eq => FloatCC::Equal,
                CmpOp::Ne => FloatCC::NotEqual,
                CmpOp::Lt => FloatCC::LessThan,
                CmpOp::Le => FloatCC::LessThanOrEqual,
                CmpOp::Gt => FloatCC::GreaterThan,
                CmpOp::Ge => FloatCC::GreaterThanOrEqual,
            };
            return self.b.ins().fcmp(cc, a, b);
        }
        // Bools are 0/1, so an unsigned comparison orders false < true.
        let signed = dt.is_signed();
        let cc = match (op, signed) {
            (CmpOp::Eq, _) => IntCC::Equal,
            (CmpOp::Ne, _) => IntCC::NotEqual,
            (CmpOp::Lt, true) => IntCC::SignedLessThan,
            (CmpOp::Le, true) => IntCC::SignedLessThanOrEqual,
            (CmpOp::Gt, true) => IntCC::SignedGreaterThan,
            (CmpOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
            (CmpOp::Lt, false) => IntCC::UnsignedLessThan,
            (CmpOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
            (CmpOp::Gt, false) => IntCC::UnsignedGreaterThan,
            (CmpOp::Ge, false) => IntCC::UnsignedGreaterThanOrEqual,
        };
        self.b.ins().icmp(cc, a, b)
    }

    /// A conversion with Rust `as` semantics (and `x != 0` to bool), by the kinds and widths
    /// of the two dtypes; to and from the 16-bit floats, see `half_float.rs`.
    pub(crate) fn convert(&mut self, from: DType, to: DType, x: clir::Value) -> clir::Value {
        if from != to && (from.is_half() || to.is_half()) {
            return self.convert_half(from, to, x);
        }
        let to_ty = cl_type(to);
        let (fb, tb) = (cl_type(from).bits(), to_ty.bits());
        let ins = self.b.ins();
        match (from.kind(), to.kind()) {
            _ if from == to => x,
            (_, Kind::Bool) if from.is_float() => {
                let zero = if fb == 32 {
                    ins.f32const(0.0)
                } else {
                    ins.f64const(0.0)
                };
                // `NotEqual` is unordered-or-not-equal: NaN converts to true.
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
            (_, Kind::Bool) => ins.icmp_imm_u(IntCC::NotEqual, x, 0),
            (Kind::Float, Kind::Float) if fb < tb => ins.fpromote(to_ty, x),
            (Kind::Float, Kind::Float) => ins.fdemote(to_ty, x),
            (Kind::Float, _) => {
                // Truncates, saturates, and maps NaN to 0, exactly like Rust `as`; 8- and
                // 16-bit results saturate in 32 bits and are clamped to their range.
                let signed = to.is_signed();
                let wide = if tb < 32 { types::I32 } else { to_ty };
                let v = if signed {
                    ins.fcvt_to_sint_sat(wide, x)
                } else {
                    ins.fcvt_to_uint_sat(wide, x)
                };
                if tb >= 32 {
                    return v;
                }
                // The bounds as 32-bit immediates (zero-extended bits, as `iconst` wants).
                let bound = |s| {
                    crate::interp::scalar_to_reg(crate::ops::scalar::convert(s, DType::I32)) as i64
                };
                let (lo, hi) = (bound(to.min_value()), bound(to.max_value()));
                let hi = self.b.ins().iconst(types::I32, hi);
                let v = if signed {
                    let lo = self.b.ins().iconst(types::I32, lo);
                    let v = self.b.ins().smax(v, lo);
                    self.b.ins().smin(v, hi)
                } else {
                    self.b.ins().umin(v, hi)
                };
                self.b.ins().ireduce(to_ty, v)
            }
            (_, Kind::Float) => {
                // Bools and narrow integers widen to 32 bits first.
                let signed = from.is_signed();
                let x = if fb < 32 {
                    if signed {
                        ins.sextend(types::I32, x)
                    } else {
                        ins.uextend(types::I32, x)
                    }
                } else {
                    x
                };
                if signed {
                    self.b.ins().fcvt_from_sint(to_ty, x)
                } else {
                    self.b.ins().fcvt_from_uint(to_ty, x)
                }
            }
            // Integer to integer (bool is 0 or 1, unsigned): keep the low bits, extending by
            // the source's signedness.
            _ if fb == tb => x,
            _ if fb > tb => ins.ireduce(to_ty, x),
            _ if from.is_signed() => ins.sextend(to_ty, x),
            _ => ins.uextend(to_ty, x),
        }
    }

    /// Applies `op` elementwise. With scalar operands (rank 0) it is applied once to the
    /// registers; otherwise a loop over the flat element index writes a new scratch slot.
    pub(crate) fn elementwise(
        &mut self,
        args: &[clir::Value],
        dtypes: &[DType],
        out_ty: &TensorType,
        op: &mut dyn FnMut(&mut Self, &[clir::Value]) -> Result<clir::Value>,
    ) -> Result<clir::Value> {
        if out_ty.is_scalar() {
            return op(self, args);
        }
        let dst = self.alloc_result(out_ty)?;
        let n = out_ty.num_elements() as u64;
        let out_dt = out_ty.dtype;
        self.counted_loop(n, &mut |l, i| {
            let xs = args
                .iter()
                .zip(dtypes)
                .map(|(&p, &d)| l.load_elem(p, i, d))
                .collect::<Vec<_>>();
            let r = op(l, &xs)?;
            l.store_elem(r, dst, i, out_dt);
            Ok(())
        })?;
        Ok(dst)
    }
}
