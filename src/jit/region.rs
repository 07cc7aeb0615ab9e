//! The runtime side of region ops that compiled code does not emit inline: a context per
//! instruction (its op, its region's scalar program, its types), owned by the
//! [`super::Executable`], and the one runtime function that runs the shared kernel of
//! [`crate::ops::region_kernels`] on the instruction's buffers, so both executors compute
//! the same bits by construction.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ir::{body::region_body, Function, Inst};
use crate::ops::region::{Body, RegionOp};
use crate::ops::{region_fast, region_kernels, Op};
use crate::tensor::{Data, Tensor};
use crate::types::{DType, TensorType};

/// What [`graphjit_region`] needs to run one region op.
pub(crate) struct RegionCall {
    op: RegionOp,
    body: Body,
    args: Vec<TensorType>,
    results: Vec<TensorType>,
}

impl RegionCall {
    /// The region's scalar program.
    pub(crate) fn body(&self) -> &Body {
        &self.body
    }
}

/// The contexts of the region ops of `f`, by instruction index (`None` for other ops).
pub(crate) fn region_calls(f: &Function) -> Result<Vec<Option<Box<RegionCall>>>, String> {
    let mut out = Vec::with_capacity(f.insts.len());
    for (i, d) in f.insts.iter().enumerate() {
        let Op::Region(op) = &d.op else {
            out.push(None);
            continue;
        };
        let body = region_body(f, Inst(i as u32))?;
        out.push(Some(Box::new(RegionCall {
            op: op.clone(),
            body,
            args: d.args.iter().map(|&a| f.ty(a).clone()).collect(),
            results: d.results.iter().map(|&r| f.ty(r).clone()).collect(),
        })));
    }
    Ok(out)
}

/// A tensor copied from a buffer of type `ty` at `p`.
///
/// # Safety
/// `p` points to `ty.num_elements()` readable elements of `ty.dtype`.
unsafe fn read_tensor(p: *const u8, ty: &TensorType) -> Option<Tensor> {
    let n = ty.num_elements();
    let bytes = std::slice::from_raw_parts(p, n * ty.dtype.size_bytes());
    let data = if ty.dtype == DType::Bool {
        Data::Bool(bytes.iter().map(|&b| b != 0).collect())
    } else {
        Data::from_bytes(ty.dtype, bytes)?
    };
    Tensor::new(data, ty.shape.clone())
}

/// A sort of one operand by the total order of its elements (`lt.total`/`gt.total`, see
/// [`Body::sort_key`]) straight into the result buffer: the input is copied there and each
/// row sorted in place by the kernel's typed sort ([`region_fast::sort_rows_in_place`], the
/// one the interpreter runs), so there is one copy instead of four. `Some(false)` when the
/// op is another one.
///
/// # Safety
/// As [`graphjit_region`]'s; the result buffer is a scratch slot aligned for every dtype.
unsafe fn sort_in_output(
    c: &RegionCall,
    args: *const *const u8,
    outs: *const *mut u8,
) -> Option<bool> {
    let RegionOp::Sort { dim, .. } = c.op else {
        return Some(false);
    };
    let ([ty], Some((0, descending, 0))) = (&c.args[..], c.body.sort_key()) else {
        return Some(false);
    };
    let Some(&len) = ty.shape.get(dim) else {
        return Some(false);
    };
    if ty.dtype == DType::Bool || c.results.first() != Some(ty) {
        return Some(false);
    }
    let n = ty.num_elements();
    let (src, dst) = (*args, *outs);
    std::ptr::copy(src, dst, n * ty.dtype.size_bytes());
    if len <= 1 {
        return Some(true);
    }
    let stride: usize = ty.shape[dim + 1..].iter().product();
    let bases: Vec<usize> = (0..n / len)
        .map(|r| (r / stride) * stride * len + r % stride)
        .collect();
    fn go<T: crate::ops::scalar::Elem>(
        dst: *mut u8,
        n: usize,
        bases: &[usize],
        len: usize,
        stride: usize,
        descending: bool,
    ) -> Option<()> {
        // SAFETY: the caller's buffer holds `n` elements of `T`, aligned.
        let out = unsafe { std::slice::from_raw_parts_mut(dst.cast::<T>(), n) };
        region_fast::sort_rows_in_place(out, bases, len, stride, descending)
    }
    crate::dispatch_dtype!(ty.dtype, |T| go::<T>(
        dst, n, &bases, len, stride, descending
    ))?;
    Some(true)
}

/// Runs the region op of `ctx` on the buffers `args[k]` and writes its results into the
/// buffers `outs[k]`. Returns 0, or 1 if the kernel failed (verified code never does).
///
/// # Safety
/// `ctx` is a live [`RegionCall`]; `args` and `outs` hold one pointer per operand and
/// result, each to a buffer of the type recorded in `ctx`.
pub(crate) unsafe extern "C" fn graphjit_region(
    ctx: *const RegionCall,
    args: *const *const u8,
    outs: *const *mut u8,
) -> i64 {
    let run = || -> Option<()> {
        let c = &*ctx;
        if sort_in_output(c, args, outs)? {
            return Some(());
        }
        let mut ins = Vec::with_capacity(c.args.len());
        for (k, ty) in c.args.iter().enumerate() {
            ins.push(read_tensor(*args.add(k), ty)?);
        }
        let refs: Vec<&Tensor> = ins.iter().collect();
        let res = region_kernels::eval(&c.op, &c.body, &refs, &c.results).ok()?;
        for (k, t) in res.iter().enumerate() {
            let bytes = t.data().as_bytes();
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), *outs.add(k), bytes.len());
        }
        Some(())
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Some(())) => 0,
        _ => 1,
    }
}
