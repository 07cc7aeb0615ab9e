//! Instruction selection for `convert` between the dtypes held in Cranelift's own types
//! (bool, integers, `f32`, `f64`), with Rust `as` semantics; the 16-bit floats are in
//! `half_float.rs`.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self as clir, types, InstBuilder, Type};
use cranelift_frontend::FunctionBuilder;

use super::{cl_type, Class, Isel, Refused, Selected};
use crate::types::DType;

impl Isel<'_, '_, '_> {
    /// A conversion with Rust `as` semantics (and `x != 0` to bool). `ty` is the result's
    /// type; vectors convert only between integers of one width (no instruction) and between
    /// equal-width signed integers and floats of 32 bits, the forms with one exact instruction.
    pub(crate) fn convert(&mut self, from: DType, to: DType, ty: Type, x: clir::Value) -> Selected {
        if from == to {
            return Ok(x);
        }
        let (fc, tc) = (Class::of(from), Class::of(to));
        let (fb, tb) = (cl_type(from).bits(), cl_type(to).bits());
        if ty.is_vector() {
            return match (fc, tc) {
                // Between integers of one width, the bits stay (the lanes' type is the same).
                (Class::Int { .. }, Class::Int { .. }) if fb == tb => Ok(x),
                (Class::Int { signed: true }, Class::Float) if fb == 32 && tb == 32 => {
                    Ok(self.b.ins().fcvt_from_sint(ty, x))
                }
                (Class::Float, Class::Int { signed: true }) if fb == 32 && tb == 32 => {
                    Ok(self.b.ins().fcvt_to_sint_sat(ty, x))
                }
                (Class::Bool | Class::Int { .. } | Class::Float, _) => Err(Refused::NotVector),
            };
        }
        let ins = self.b.ins();
        Ok(match (fc, tc) {
            (Class::Bool | Class::Int { .. }, Class::Bool) => ins.icmp_imm_s(IntCC::NotEqual, x, 0),
            // A bool is an unsigned 0 or 1.
            (Class::Bool, Class::Int { .. }) => resize(self.b, x, fb, ty, false),
            (Class::Int { signed }, Class::Int { .. }) => resize(self.b, x, fb, ty, signed),
            (Class::Bool, Class::Float) => {
                let w = ins.uextend(types::I32, x);
                self.b.ins().fcvt_from_sint(ty, w)
            }
            // 8- and 16-bit integers widen to 32 bits first (exactly).
            (Class::Int { signed }, Class::Float) if fb < 32 => {
                let w = resize(self.b, x, fb, types::I32, signed);
                if signed {
                    self.b.ins().fcvt_from_sint(ty, w)
                } else {
                    self.b.ins().fcvt_from_uint(ty, w)
                }
            }
            (Class::Int { signed: true }, Class::Float) => ins.fcvt_from_sint(ty, x),
            (Class::Int { signed: false }, Class::Float) => ins.fcvt_from_uint(ty, x),
            // 8- and 16-bit results saturate in 32 bits, then clamp to their range.
            (Class::Float, Class::Int { signed }) if tb < 32 => {
                self.float_to_narrow_int(to, signed, x)
            }
            (Class::Float, Class::Bool) => {
                let zero = self.float_const(from, 0.0);
                // `NotEqual` is unordered-or-not-equal: NaN converts to true.
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            }
            // Truncates, saturates, and maps NaN to 0, exactly like Rust `as`.
            (Class::Float, Class::Int { signed: true }) => ins.fcvt_to_sint_sat(ty, x),
            (Class::Float, Class::Int { signed: false }) => ins.fcvt_to_uint_sat(ty, x),
            (Class::Float, Class::Float) if tb > fb => ins.fpromote(ty, x),
            (Class::Float, Class::Float) => ins.fdemote(ty, x),
        })
    }

    /// Float to an 8- or 16-bit integer: truncate and saturate in 32 bits (NaN gives 0),
    /// then clamp to the target's range and keep the low bits.
    fn float_to_narrow_int(&mut self, to: DType, signed: bool, x: clir::Value) -> clir::Value {
        let v = if signed {
            self.b.ins().fcvt_to_sint_sat(types::I32, x)
        } else {
            self.b.ins().fcvt_to_uint_sat(types::I32, x)
        };
        // The bounds as 32-bit immediates (zero-extended bits, as `iconst` wants).
        let bound = |s| {
            crate::ops::scalar::scalar_to_reg(crate::ops::scalar::convert(s, DType::I32)) as i64
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
        self.b.ins().ireduce(cl_type(to), v)
    }

    fn float_const(&mut self, dt: DType, v: f64) -> clir::Value {
        if cl_type(dt) == types::F32 {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        }
    }
}

/// An integer of `from_bits` bits resized to the integer type `to` (wrapping when narrower,
/// extended by its signedness when wider).
fn resize(
    b: &mut FunctionBuilder<'_>,
    x: clir::Value,
    from_bits: u32,
    to: Type,
    signed: bool,
) -> clir::Value {
    match to.bits().cmp(&from_bits) {
        std::cmp::Ordering::Equal => x,
        std::cmp::Ordering::Less => b.ins().ireduce(to, x),
        std::cmp::Ordering::Greater if signed => b.ins().sextend(to, x),
        std::cmp::Ordering::Greater => b.ins().uextend(to, x),
    }
}
