//! Code generation for the 16-bit floats and the conversions that must round only once.
//!
//! `f16` and `bf16` are stored as their 16 bits. Their semantics ([`crate::ops::scalar`]):
//! every op computes in `f32` and rounds its result to the storage type, to nearest even
//! (overflow to ±inf, NaN stays NaN with the `half` crate's bits). Code holds them in one of
//! two forms:
//!
//! - **bits** (`I16`), where [`Isel::emit`] meets them one op at a time (scalar code outside
//!   fused loops, reductions): each op widens its operands, computes, and narrows back.
//! - **widened** (`F32`, or four lanes of `F32X4`): the `f32` whose value is the 16-bit float's
//!   value, which fused loops keep between ops ([`Isel::emit_widened`]). The rounding after
//!   each op is then an `f32 -> f32` rounding to the precision and range of the 16-bit type
//!   ([`Isel::round_to_half`]), integer operations on the `f32` bits that work on one lane or
//!   four alike; widening happens at the loop's loads, and narrowing at its stores is exact
//!   (take bits).
//!
//! The two forms give the same bits: narrowing is defined as rounding followed by the exact
//! narrowing, so every `f32 -> f16/bf16` conversion in the compiled code runs the sequences
//! below, which `tests/dtypes.rs` checks against the `half` crate on millions of patterns.
//!
//! Conversions from `f64` and from 32- and 64-bit integers to a 16-bit float first make a
//! "round to odd" `f32` (the interpreter's `ToOddF32`), so that the one rounding to 16 bits
//! gives the correctly rounded result.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData, Type};

use super::isel::{Isel, Refused, Selected};
use super::plan::EwOp;
use crate::types::{DType, Kind};

/// The quiet bit of an `f32` NaN; the `half` crate sets it when it narrows a NaN.
const F32_QUIET: u32 = 0x0040_0000;

impl Isel<'_, '_, '_> {
    fn ty_of(&self, x: clir::Value) -> Type {
        self.b.func.dfg.value_type(x)
    }

    /// The `f32` (or `f32x4`) with the bits `x`.
    fn float_of(&mut self, x: clir::Value) -> clir::Value {
        let ft = if self.ty_of(x).is_vector() {
            types::F32X4
        } else {
            types::F32
        };
        self.b.ins().bitcast(ft, MemFlagsData::new(), x)
    }

    /// The bits of an `f32` (or `f32x4`).
    fn bits_of(&mut self, x: clir::Value) -> clir::Value {
        let it = self.ty_of(x).as_int();
        self.b.ins().bitcast(it, MemFlagsData::new(), x)
    }

    /// `c` in every lane of the 32-bit integer type `it` (`I32` or `I32X4`); Cranelift's
    /// `_imm` forms of `iadd`, `band` and `icmp` take scalars only.
    fn k32(&mut self, it: Type, c: u32) -> clir::Value {
        // The immediate of a 32-bit constant is given zero-extended.
        let x = self.b.ins().iconst(types::I32, c as i64);
        if it.is_vector() {
            self.b.ins().splat(it, x)
        } else {
            x
        }
    }

    /// The float `c` in every lane of `ft` (`F32` or `F32X4`).
    fn kf32(&mut self, ft: Type, c: f32) -> clir::Value {
        let x = self.b.ins().f32const(c);
        if ft.is_vector() {
            self.b.ins().splat(ft, x)
        } else {
            x
        }
    }

    /// `m ? a : b` per lane, `m` the result of a comparison of the same lanes.
    fn pick(&mut self, m: clir::Value, a: clir::Value, b: clir::Value) -> clir::Value {
        if self.ty_of(a).is_vector() {
            self.b.ins().bitselect(m, a, b)
        } else {
            self.b.ins().select(m, a, b)
        }
    }

    /// The widened form of 16-bit floats given as their bits zero-extended to `I32` (or
    /// `I32X4`); exact.
    pub(crate) fn widen_bits(&mut self, dt: DType, u: clir::Value) -> clir::Value {
        let it = self.ty_of(u);
        if dt == DType::BF16 {
            // bf16 is the top half of an f32.
            let bits = self.b.ins().ishl_imm_s(u, 16);
            return self.float_of(bits);
        }
        // f16: move exponent and mantissa into f32 position and rescale the exponent by a
        // multiplication (exact; it also normalizes subnormals); infinities and NaN keep
        // their bits under an all-ones exponent.
        let k = self.k32(it, 0x8000);
        let sign = self.b.ins().band(u, k);
        let sign = self.b.ins().ishl_imm_s(sign, 16);
        let k = self.k32(it, 0x7fff);
        let em = self.b.ins().band(u, k);
        let shifted = self.b.ins().ishl_imm_s(em, 13);
        let f = self.float_of(shifted);
        let scale = self.kf32(self.ty_of(f), f32::from_bits((127 + 112) << 23));
        let f = self.b.ins().fmul(f, scale);
        let finite = self.bits_of(f);
        let k = self.k32(it, 0x7f80_0000);
        let special = self.b.ins().bor(shifted, k);
        let k = self.k32(it, 0x7c00);
        let is_special = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, em, k);
        let bits = self.pick(is_special, special, finite);
        let bits = self.b.ins().bor(bits, sign);
        self.float_of(bits)
    }

    /// The `f32` value of a 16-bit float held as its bits (`I16`); exact.
    pub(crate) fn widen_half(&mut self, dt: DType, h: clir::Value) -> clir::Value {
        let u = self.b.ins().uextend(types::I32, h);
        self.widen_bits(dt, u)
    }

    /// `x` (`F32` or `F32X4`) rounded to the nearest value of `dt` (ties to even; beyond the
    /// largest finite value to ±inf; NaN to the NaN the `half` crate gives, widened): the
    /// widened form of `dt`'s `from_f32(x)`, computed in `f32` bits.
    pub(crate) fn round_to_half(&mut self, dt: DType, x: clir::Value) -> clir::Value {
        let it = self.ty_of(x).as_int();
        let b = self.bits_of(x);
        // The position of the last mantissa bit `dt` keeps, and the mask of the kept bits.
        let low = if dt == DType::BF16 { 16 } else { 13 };
        let keep = self.k32(it, u32::MAX << low);
        let r = if dt == DType::BF16 {
            self.round_bits(b, low, keep)
        } else {
            // f16 in three cases: normal results rounded in the integer bits; results below
            // the smallest normal (2^-14) rounded to a multiple of the subnormal step 2^-24
            // by adding and subtracting 0.5 (whose f32 ulp is 2^-24: the sum rounds once, to
            // nearest even, the difference is exact); and magnitudes of 65520 or more, which
            // round to inf.
            let k = self.k32(it, 0x8000_0000);
            let sign = self.b.ins().band(b, k);
            let a = self.b.ins().bxor(b, sign);
            let normal = self.round_bits(a, low, keep);
            let af = self.float_of(a);
            let half = self.kf32(self.ty_of(af), 0.5);
            let s = self.b.ins().fadd(af, half);
            let s = self.b.ins().fsub(s, half);
            let small = self.bits_of(s);
            // `a` has no sign bit, so signed comparisons order it (one instruction on
            // x86-64's vectors, where unsigned ones take several).
            let k = self.k32(it, 113 << 23);
            let is_small = self.b.ins().icmp(IntCC::SignedLessThan, a, k);
            let r = self.pick(is_small, small, normal);
            let k = self.k32(it, 0x477f_f000);
            let is_big = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, a, k);
            let inf = self.k32(it, 0x7f80_0000);
            let r = self.pick(is_big, inf, r);
            self.b.ins().bor(r, sign)
        };
        // NaN: the quiet bit set and the low bits dropped, as the `half` crate narrows it.
        let quiet = self.k32(it, F32_QUIET);
        let nan = self.b.ins().bor(b, quiet);
        let nan = self.b.ins().band(nan, keep);
        let is_nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        let r = self.pick(is_nan, nan, r);
        self.float_of(r)
    }

    /// The f32 bits `b` rounded to nearest even at bit `low`: add just under half an ulp plus
    /// the last kept bit, and drop the bits below `low` (`keep` masks them off). A carry into
    /// the exponent gives the next binade, or inf.
    fn round_bits(&mut self, b: clir::Value, low: i64, keep: clir::Value) -> clir::Value {
        let it = self.ty_of(b);
        let one = self.k32(it, 1);
        let lsb = self.b.ins().ushr_imm_s(b, low);
        let lsb = self.b.ins().band(lsb, one);
        let half_ulp = self.k32(it, (1u32 << (low - 1)) - 1);
        let r = self.b.ins().iadd(b, half_ulp);
        let r = self.b.ins().iadd(r, lsb);
        self.b.ins().band(r, keep)
    }

    /// The bits of `dt` (zero-extended to `I32`, or in the lanes of `I32X4`) of a widened
    /// value, which `dt` holds exactly (the result of [`Isel::round_to_half`] or a widening).
    pub(crate) fn exact_bits(&mut self, dt: DType, x: clir::Value) -> clir::Value {
        let it = self.ty_of(x).as_int();
        let b = self.bits_of(x);
        if dt == DType::BF16 {
            return self.b.ins().ushr_imm_s(b, 16);
        }
        // f16: scaling by 2^-112 puts a normal f16's exponent in f32 position and a
        // subnormal's mantissa into an f32 subnormal of the same layout (exact, as Cranelift
        // code runs without flush-to-zero); infinities and NaN rebias their exponent instead.
        let k = self.k32(it, 0x8000_0000);
        let sign = self.b.ins().band(b, k);
        let sign = self.b.ins().ushr_imm_s(sign, 16);
        let k = self.k32(it, 0x7fff_ffff);
        let a = self.b.ins().band(b, k);
        let af = self.float_of(a);
        let scale = self.kf32(self.ty_of(af), f32::from_bits((127 - 112) << 23));
        let m = self.b.ins().fmul(af, scale);
        let m = self.bits_of(m);
        let m = self.b.ins().ushr_imm_s(m, 13);
        let sp = self.b.ins().ushr_imm_s(a, 13);
        let k = self.k32(it, (0x7f80_0000 >> 13) - 0x7c00);
        let sp = self.b.ins().isub(sp, k);
        let k = self.k32(it, 0x7f80_0000);
        let special = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, a, k);
        let r = self.pick(special, sp, m);
        self.b.ins().bor(r, sign)
    }

    /// The 16-bit float nearest to an `f32` (ties to even; overflow to ±inf; NaN as the
    /// `half` crate narrows it), as its bits (`I16`).
    pub(crate) fn narrow_half(&mut self, dt: DType, x: clir::Value) -> clir::Value {
        let r = self.round_to_half(dt, x);
        let bits = self.exact_bits(dt, r);
        self.b.ins().ireduce(types::I16, bits)
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
        let bits = self.bits_of(y);
        let bits = self.b.ins().isub(bits, away);
        let bits = self.b.ins().bor_imm_s(bits, 1);
        let odd = self.float_of(bits);
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
        let scale = self.float_of(e);
        let f = self.b.ins().fmul(f, scale);
        match neg {
            Some(neg) => {
                let nf = self.b.ins().fneg(f);
                self.b.ins().select(neg, nf, f)
            }
            None => f,
        }
    }

    /// An elementwise op on or to a 16-bit float held as bits (see the module doc): one
    /// element at a time, widened to `f32`, computed by the `f32` selection, narrowed back.
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

    /// An elementwise op whose operands or result are 16-bit floats, on the widened form
    /// (see the module doc): operands and result of `f16`/`bf16` are `F32` values (or
    /// `F32X4` lanes when `ty` is a vector), others are as [`Isel::emit`] has them. `ty` is
    /// the result's Cranelift type in that form.
    pub(crate) fn emit_widened(
        &mut self,
        op: EwOp,
        in_dt: DType,
        out_dt: DType,
        ty: Type,
        x: &[clir::Value],
    ) -> Selected {
        let wide = |dt: DType| if dt.is_half() { DType::F32 } else { dt };
        let vector = ty.is_vector();
        match op {
            EwOp::Convert if in_dt == out_dt => Ok(x[0]),
            EwOp::Convert if in_dt.is_half() && out_dt.is_half() => {
                Ok(self.round_to_half(out_dt, x[0]))
            }
            // The widened value is exact, so converting it is converting the 16-bit float.
            EwOp::Convert if in_dt.is_half() => {
                if vector {
                    self.emit_lanes(op, DType::F32, out_dt, ty, x)
                } else {
                    self.convert(DType::F32, out_dt, ty, x[0])
                }
            }
            EwOp::Convert if vector => Err(Refused::NotVector),
            EwOp::Convert => {
                let f = self.odd_f32(in_dt, x[0])?;
                Ok(self.round_to_half(out_dt, f))
            }
            // Comparisons and selects of widened values: widening keeps the order, total
            // order included (it maps distinct bits to distinct bits, sign and NaN payload
            // in place), and a select moves values unchanged.
            EwOp::Compare(_) | EwOp::Select => {
                if vector {
                    self.emit_lanes(op, wide(in_dt), wide(out_dt), ty, x)
                } else {
                    self.emit(op, wide(in_dt), wide(out_dt), ty, x)
                }
            }
            EwOp::Unary(_) | EwOp::Binary(_) => {
                let r = if vector {
                    self.emit_lanes(op, DType::F32, DType::F32, ty, x)?
                } else {
                    self.emit(op, DType::F32, DType::F32, ty, x)?
                };
                Ok(self.round_to_half(out_dt, r))
            }
        }
    }

    /// An `f32` from which one rounding to a 16-bit float gives the correctly rounded value
    /// of `x` of dtype `from` (not a 16-bit float): `x` itself for `f32` and the types `f32`
    /// holds exactly, else a value rounded to odd.
    fn odd_f32(&mut self, from: DType, x: clir::Value) -> Selected {
        Ok(match (from.kind(), from.bits()) {
            (Kind::Float, 32) => x,
            (Kind::Float, _) => self.f64_to_odd_f32(x),
            // Bools and integers of up to 16 bits are exact in f32.
            (_, bits) if bits <= 16 => self.convert(from, DType::F32, types::F32, x)?,
            (kind, _) => self.int_to_odd_f32(x, kind == Kind::Signed),
        })
    }

    /// A conversion to or from a 16-bit float held as bits: from one, widen to `f32` and
    /// convert that; to one, make an `f32` that rounds correctly and narrow it.
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
        let f = self.odd_f32(from, x)?;
        Ok(self.narrow_half(to, f))
    }
}
