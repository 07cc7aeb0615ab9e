//! Operands that compiled region ops read without a buffer. An `iota` input of a variadic
//! `reduce` (JAX's argmax/argmin index operand) is the loop counter of its dimension, and a
//! splat constant update of a one-input `scatter` (the `1` of a histogram's
//! `x.at[i].add(1)`) is one register. Such a value is then not materialized at all when
//! every use of it reads it that way ([`read_in_place`]), which saves writing (and reading
//! back) a buffer as large as the operand on every run.

use cranelift_codegen::ir as clir;

use super::{Lowerer, Result};
use crate::ir::{Function, Value, ValueDef};
use crate::jit::plan::EwOp;
use crate::ops::region::RegionOp;
use crate::ops::Op;
use crate::types::DType;

/// How a region op's lowering reads one operand's elements.
#[derive(Clone, Copy)]
pub(super) enum Src {
    /// A buffer, indexed by the element's linear offset.
    Buf(clir::Value),
    /// An `iota` along this dimension of the operand: the element's coordinate there.
    Iota(usize),
    /// Every element is this register.
    Splat(clir::Value),
}

/// The `iota` dimension of `v`, if `v` is a tensor computed by `iota`.
fn iota_axis(f: &Function, v: Value) -> Option<usize> {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return None;
    };
    match f.inst(i).op {
        Op::Iota { axis } if !f.ty(v).is_scalar() => Some(axis),
        _ => None,
    }
}

/// Whether `v` is a non-empty tensor constant with every element equal.
fn splat_const(f: &Function, v: Value) -> Option<&crate::tensor::Tensor> {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return None;
    };
    match &f.inst(i).op {
        Op::Const(t) if !f.ty(v).is_scalar() && !t.is_empty() && t.is_splat() => Some(t),
        _ => None,
    }
}

/// Whether instruction `u` reads its operand `v` in place (see the module doc). These are
/// exactly the operands [`Lowerer::region_src`] reads without their buffer.
fn reads_in_place(f: &Function, u: crate::ir::Inst, v: Value) -> bool {
    let d = f.inst(u);
    match &d.op {
        // Variadic reductions always take the general inline loop, which reads an `iota`
        // input as a coordinate; the inits are scalars.
        Op::Region(RegionOp::Reduce { .. }) if d.args.len() >= 4 => {
            let n = d.args.len() / 2;
            iota_axis(f, v).is_some() && !d.args[n..].contains(&v)
        }
        // A one-input scatter is inline and reads a splat update as a register.
        Op::Region(RegionOp::Scatter(_)) if d.args.len() == 3 => {
            splat_const(f, v).is_some() && d.args[0] != v && d.args[1] != v
        }
        _ => false,
    }
}

/// For every value: whether all its uses read it in place, so that it needs no buffer.
pub(super) fn read_in_place(f: &Function) -> Vec<bool> {
    let mut users: Vec<Vec<crate::ir::Inst>> = vec![Vec::new(); f.values.len()];
    for rd in &f.regions {
        for &i in &rd.insts {
            for a in &f.inst(i).args {
                users[a.index()].push(i);
            }
        }
    }
    users
        .iter()
        .enumerate()
        .map(|(v, us)| {
            let v = Value(v as u32);
            !us.is_empty() && us.iter().all(|&u| reads_in_place(f, u, v))
        })
        .collect()
}

impl Lowerer<'_, '_> {
    /// How a region op reads its operand `v`: a coordinate for an `iota` input of a variadic
    /// reduction (`in_reduce`), a register for a splat constant (`splat_ok`), else the
    /// buffer (or register, for a scalar) that `v` was lowered to.
    pub(super) fn region_src(&mut self, v: Value, in_reduce: bool, splat_ok: bool) -> Result<Src> {
        let f = self.f;
        if in_reduce {
            if let Some(axis) = iota_axis(f, v) {
                return Ok(Src::Iota(axis));
            }
        }
        if splat_ok {
            if let Some(t) = splat_const(f, v) {
                let s = t
                    .get(0)
                    .ok_or_else(|| self.err("an empty splat constant"))?;
                return Ok(Src::Splat(self.isel().constant(s)));
            }
        }
        let x = self.val(v)?;
        Ok(if f.ty(v).is_scalar() {
            Src::Splat(x)
        } else {
            Src::Buf(x)
        })
    }

    /// The element of `src` at coordinates `at` (linear offset `off`), of dtype `dt`.
    pub(super) fn read_src(
        &mut self,
        src: Src,
        at: &[clir::Value],
        off: clir::Value,
        dt: DType,
    ) -> Result<clir::Value> {
        Ok(match src {
            Src::Buf(p) => self.load_elem(p, off, dt),
            Src::Splat(x) => x,
            Src::Iota(axis) => {
                let i = *at
                    .get(axis)
                    .ok_or_else(|| self.err("an iota dimension is out of range"))?;
                // The coordinate converted as `lower_iota` converts it.
                let r = self.isel().emit(
                    EwOp::Convert,
                    DType::I64,
                    dt,
                    crate::jit::isel::cl_type(dt),
                    &[i],
                );
                self.selected(r, "'iota'")?
            }
        })
    }
}
