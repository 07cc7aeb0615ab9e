//! Code generation for the 16-bit floats and the conversions that must round only once.
//!
//! `f16` and `bf16` live in registers and memory as their 16 bits (`I16`). Every op widens its
//! operands to `f32` (exact), computes in `f32`, and narrows the result back, rounding to
//! nearest even: the semantics of [`crate::ops::scalar`], whose `narrow` is the `half` crate's
//! `from_f32`. The sequences below give that crate's bits for every non-NaN input (NaN stays
//! NaN; payloads are unspecified), which `tests/dtypes.rs` checks on millions of patterns.
//!
//! Conversions from `f64` and from 32- and 64-bit integers to a 16-bit float first make a
//! "round to odd" `f32` (the interpreter's `ToOddF32`), so that the one rounding to 16 bits
//! gives the correctly rounded result.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData, Type};

use super::isel::{Isel, Refused, Selected};
use super::plan::EwOp;
use crate::types::{DType, Kind};

impl Isel<'_, '_, '_> {
    fn f32_of_bits(&mut self, bits: clir::Value) -> clir::Value {
        self.b.ins().bitcast(types::F32, MemFlagsData::new(), bits)
    }

    fn bits_of_f32(&mut self, x: clir::Value) -> clir::Value {
        self.b.ins().bitcast(types::I32, MemFlagsData::new(), x)
    }

    /// The `f32` value of a 16-bit float held as its bits (`I16`); exact.
    pub(crate) fn widen_half(&mut self, dt: DType, h: clir::Value) -> clir::Value {
        let u = self.b.ins().uextend(types::I32, h);
        if dt == DType::BF16 {
            // bf16 is the top half of an f32.
            let bits = self.b.ins().ishl_imm_s(u, 16);
            return self.f32_of_bits(bits);
        }
        // f16: move exponent and mantissa into f32 position and rescale the exponent by a
        // multiplication (exact; it also normalizes subnormals); infinities and NaN keep
        // their bits under an all-ones exponent.
        let sign = self.b.ins().band_imm_s(u, 0x8000);
        let sign = self.b.ins().ishl_imm_s(sign, 16);
        let em = self.b.ins().band_imm_s(u, 0x7fff);
        let shifted = self.b.ins().ishl_imm_s(em, 13);
        let f = self.f32_of_bits(shifted);
        let scale = self.b.ins().f32const(f32::from_bits((127 + 112) << 23));
        let f = self.b.ins().fmul(f, scale);
        let finite = self.bits_of_f32(f);
        let special = self.b.ins().bor_imm_s(shifted, 0x7f80_0000);
        let is_special = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, em, 0x7c00);
        let bits = self.b.ins().select(is_special, special, finite);
        let bits = self.b.ins().bor(bits, sign);
        self.f32_of_bits(bits)
    }

    /// The 16-bit float nearest to an `f32` (ties to even; overflow to ±inf; NaN to a quiet
    /// NaN), as its bits (`I16`).
    pub(crate) fn narrow_half(&mut self, dt: DType, x: clir::Value) -> clir::Value {
        let b = self.bits_of_f32(x);
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        if dt == DType::BF16 {
            // Add just under half an ulp of bf16, plus the kept part's last bit (ties to
            // even), and keep the top 16 bits; a carry into the exponent gives inf. NaN
            // keeps its top bits with the quiet bit set, as the `half` crate does.
            let hi = self.b.ins().ushr_imm_s(b, 16);
            let lsb = self.b.ins().band_imm_s(hi, 1);
            let r = self.b.ins().iadd_imm_s(b, 0x7fff);
            let r = self.b.ins().iadd(r, lsb);
            let r = self.b.ins().ushr_imm_s(r, 16);
            let nan = self.b.ins().bor_imm_s(hi, 0x40);
            let r = self.b.ins().select(is_nan, nan, r);
            return self.b.ins().ireduce(types::I16, r);
        }
        // f16, in three cases computed side by side (F. Giesen's float_to_half_fast3_rtne):
        // overflow and NaN; results below the smallest normal f16, rounded by one float
        // addition of a magic number; and normal results, rounded in the integer bits.
        let sign = self.b.ins().band_imm_u(b, 0x8000_0000);
        let a = self.b.ins().bxor(b, sign);
        let sign16 = self.b.ins().ushr_imm_s(sign, 16);
        // Case 1: |x| >= 65536 (after rounding every such value is inf) or NaN.
        let big = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, a, (127 + 16) << 23);
        let inf = self.b.ins().iconst(types::I32, 0x7c00);
        let qnan = self.b.ins().iconst(types::I32, 0x7e00);
        let o_big = self.b.ins().select(is_nan, qnan, inf);
        // Case 2: |x| < 2^-14: adding 0.5 leaves the f16 subnormal's bits in the mantissa.
        let small = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, a, 113 << 23);
        let magic_bits = (127 - 15 + 23 - 10 + 1) << 23;
        let af = self.f32_of_bits(a);
        let magic = self.b.ins().f32const(f32::from_bits(magic_bits));
        let s = self.b.ins().fadd(af, magic);
        let s = self.bits_of_f32(s);
        let o_small = self.b.ins().iadd_imm_s(s, -(magic_bits as i64));
        // Case 3: rebias the exponent and round to nearest even at bit 13.
        let odd = self.b.ins().ushr_imm_s(a, 13);
        let odd = self.b.ins().band_imm_s(odd, 1);
        let t = self
            .b
            .ins()
            .iadd_imm_s(a, (((15 - 127) << 23) + 0xfff) as i64);
        let t = self.b.ins().iadd(t, odd);
        let o_normal = self.b.ins().ushr_imm_s(t, 13);
        let o = self.b.ins().select(small, o_small, o_normal);
        let o = self.b.ins().select(big, o_big, o);
        let o = self.b.ins().bor(o, sign16);
        self.b.ins().ireduce(types::I16, o)
    }

    /// An `f32` from which one rounding to 16 bits is correct: `x` itself when `f32` holds
    /// it, else its truncation with the last bit set (the interpreter's `ToOddF32` for f64).
    pub(crate) fn f64_to_odd_f32(&mut self, x: clir::Value) -> clir::Value {
        let y = self.b.ins().fdemote(types::F32, x);
        let back = self.b.ins().fpromote(types::F64, y);
        let keep = self.b.ins().fcmp(FloatCC::UnorderedOrEqual, back, x);
        let abs_back = self.b.ins().fabs(back);
        let abs_x = self.b.ins().fabs(x);
        let away = self.b.ins().fcmp(FloatCC::GreaterThan, abs_back, abs_x);
        let away = self.b.ins().uextend(types::I32, away);
        let bits = self.bits_of_f32(y);
        let bits = self.b.ins().isub(bits, away);
        let bits = self.b.ins().bor_imm_s(bits, 1);
        let odd = self.f32_of_bits(bits);
        self.b.ins().select(keep, y, odd)
    }

    /// The same for an integer (`I32` or `I64`, signed or not): the bits below the 24 that
    /// `f32` holds are folded into the last kept one (the interpreter's `int_to_odd_f32`).
    pub(crate) fn int_to_odd_f32(&mut self, x: clir::Value, signed: bool) -> clir::Value {
        let ty = self.b.func.dfg.value_type(x);
        let x = if ty == types::I64 {
            x
        } else if signed {
            self.b.ins().sextend(types::I64, x)
        } else {
            self.b.ins().uextend(types::I64, x)
        };
        // The magnitude as unsigned (`ineg` of MIN is MIN, whose unsigned value is 2^63).
        let (neg, m) = if signed {
            let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
            let nx = self.b.ins().ineg(x);
            (Some(neg), self.b.ins().select(neg, nx, x))
        } else {
            (None, x)
        };
        // s = max(0, width - 24), with width = 64 - clz(m).
        let lz = self.b.ins().clz(m);
        let wide = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, lz, 40);
        let forty = self.b.ins().iconst(types::I64, 40);
        let s = self.b.ins().isub(forty, lz);
        let zero = self.b.ins().iconst(types::I64, 0);
        let s = self.b.ins().select(wide, s, zero);
        let t = self.b.ins().ushr(m, s);
        let one = self.b.ins().iconst(types::I64, 1);
        let mask = self.b.ins().ishl(one, s);
        let mask = self.b.ins().iadd_imm_s(mask, -1);
        let low = self.b.ins().band(m, mask);
        let sticky = self.b.ins().icmp_imm_s(IntCC::NotEqual, low, 0);
        let sticky = self.b.ins().uextend(types::I64, sticky);
        let t = self.b.ins().bor(t, sticky);
        // Exact: t < 2^24, and 2^s is a power of two far inside f32's range.
        let f = self.b.ins().fcvt_from_sint(types::F32, t);
        let s32 = self.b.ins().ireduce(types::I32, s);
        let e = self.b.ins().iadd_imm_s(s32, 127);
        let e = self.b.ins().ishl_imm_s(e, 23);
        let scale = self.f32_of_bits(e);
        let f = self.b.ins().fmul(f, scale);
        match neg {
            Some(neg) => {
                let nf = self.b.ins().fneg(f);
                self.b.ins().select(neg, nf, f)
            }
            None => f,
        }
    }

    /// An elementwise op on or to a 16-bit float (see the module doc): one element at a
    /// time, widened to `f32`, computed by the `f32` selection, narrowed back.
    pub(crate) fn emit_half(
        &mut self,
        op: EwOp,
        in_dt: DType,
        out_dt: DType,
        ty: Type,
        x: &[clir::Value],
    ) -> Selected {
        if ty.is_vector() {
            return Err(Refused::NotVector);
        }
        match op {
            EwOp::Convert => self.convert_half(in_dt, out_dt, x[0]),
            // The values are bits either way.
            EwOp::Select => Ok(self.b.ins().select(x[0], x[1], x[2])),
            EwOp::Compare(c) if c.split_total().1 => Ok(self.compare(c, in_dt, x[0], x[1])),
            EwOp::Compare(c) => {
                let (a, b) = (self.widen_half(in_dt, x[0]), self.widen_half(in_dt, x[1]));
                Ok(self.compare(c, DType::F32, a, b))
            }
            EwOp::Unary(_) | EwOp::Binary(_) => {
                let w: Vec<clir::Value> = x.iter().map(|&v| self.widen_half(in_dt, v)).collect();
                let r = self.emit(op, DType::F32, DType::F32, types::F32, &w)?;
                Ok(self.narrow_half(out_dt, r))
            }
        }
    }

    /// A conversion to or from a 16-bit float: from one, widen to `f32` and convert that; to
    /// one, make an `f32` that rounds correctly and narrow it.
    pub(crate) fn convert_half(&mut self, from: DType, to: DType, x: clir::Value) -> Selected {
        if from == to {
            return Ok(x);
        }
        if from.is_half() {
            let w = self.widen_half(from, x);
            return if to.is_half() {
                Ok(self.narrow_half(to, w))
            } else {
                self.convert(DType::F32, to, super::isel::cl_type(to), w)
            };
        }
        let f = match (from.kind(), from.bits()) {
            (Kind::Float, 32) => x,
            (Kind::Float, _) => self.f64_to_odd_f32(x),
            // Bools and integers of up to 16 bits are exact in f32.
            (_, bits) if bits <= 16 => self.convert(from, DType::F32, types::F32, x)?,
            (kind, _) => self.int_to_odd_f32(x, kind == Kind::Signed),
        };
        Ok(self.narrow_half(to, f))
    }
}
