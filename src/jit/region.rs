//! The runtime side of region ops that compiled code does not emit inline (`sort`, scatters
//! of several inputs): a context per instruction (its op, its region's scalar program, its
//! types), owned by the [`super::Executable`], and the runtime functions that run the shared
//! kernels of [`crate::ops::region_fn`] on the instruction's buffers with the region compiled
//! (`lower/region_fn.rs`), so both executors run one algorithm and compute the same bits.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ir::{body::region_body, Function, Inst};
use crate::ops::region::{Body, RegionOp};
use crate::ops::region_fn::{self, RegionFn};
use crate::ops::scalar::Elem;
use crate::ops::{region_fast, region_kernels, Op};
use crate::tensor::{Data, Tensor};
use crate::types::{DType, TensorType};

/// What [`graphjit_sort`] and [`graphjit_scatter`] need to run one region op.
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
/// As [`graphjit_sort`]'s; the result buffer is a scratch slot aligned for every dtype.
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

/// A region compiled by `lower/region_fn.rs`: `fn(a, b, out)` on arrays of 8-byte slots.
type CompiledRegion = unsafe extern "C" fn(a: *const u64, b: *const u64, out: *mut u64);

/// The function at `addr`, if not null.
///
/// # Safety
/// `addr` is 0 or the address of a finalized [`CompiledRegion`].
unsafe fn compiled(addr: u64) -> Option<CompiledRegion> {
    // SAFETY: the caller guarantees the type; null stays `None`.
    (addr != 0).then(|| unsafe { std::mem::transmute::<usize, CompiledRegion>(addr as usize) })
}

/// The bits a register of `dt` can have set (the compiled region stores each yield in its own
/// width, so the rest of its slot is whatever was there).
fn width_mask(dt: DType) -> u64 {
    match dt.size_bytes() {
        n @ 1..=7 => (1u64 << (8 * n)) - 1,
        _ => u64::MAX,
    }
}

/// Compiled code's [`RegionFn`]: elements are register bits, and the region is the
/// function compiled from its program (`f`, laid out as the op's kernel calls it: pairs for
/// a comparator, halves for an update), or for a sort key the function yielding the key's
/// slot (`key`).
struct Compiled {
    f: Option<CompiledRegion>,
    key: Option<CompiledRegion>,
    /// The dtype of every slot of the body.
    dts: Vec<DType>,
    /// The mask of every yield's dtype.
    masks: Vec<u64>,
    /// The number of elements on each side of a call (half the region's arguments).
    half: usize,
    out: Vec<u64>,
}

impl Compiled {
    fn new(body: &Body, f: Option<CompiledRegion>, key: Option<CompiledRegion>) -> Self {
        let dts = region_fn::slot_dtypes(body);
        let masks = body
            .yields
            .iter()
            .map(|&y| dts.get(y).map_or(u64::MAX, |&d| width_mask(d)))
            .collect();
        Compiled {
            f,
            key,
            dts,
            masks,
            half: body.params.len() / 2,
            out: vec![0; body.yields.len().max(1)],
        }
    }
}

impl RegionFn for Compiled {
    type V = u64;

    fn less(&mut self, a: &[u64], b: &[u64]) -> Option<bool> {
        let f = self.f?;
        if a.len() != self.half || b.len() != self.half {
            return None;
        }
        // SAFETY: `f` reads `half` slots of `a` and of `b` and writes one slot of `out` per
        // yield (`out` has them); it does nothing else.
        unsafe { f(a.as_ptr(), b.as_ptr(), self.out.as_mut_ptr()) };
        Some(self.out[0] & 0xff != 0)
    }

    fn update(&mut self, acc: &mut [u64], x: &[u64]) -> Option<()> {
        let f = self.f?;
        if acc.len() != self.half || x.len() != self.half || self.masks.len() != acc.len() {
            return None;
        }
        // SAFETY: as in `less`.
        unsafe { f(acc.as_ptr(), x.as_ptr(), self.out.as_mut_ptr()) };
        for ((a, &o), &m) in acc.iter_mut().zip(&self.out).zip(&self.masks) {
            *a = o & m;
        }
        Some(())
    }

    fn key(&mut self, x: &[u64], slot: usize) -> Option<i128> {
        let dt = *self.dts.get(slot)?;
        if slot < 2 * self.half {
            return Some(region_fn::key_of_bits(*x.get(slot / 2)?, dt));
        }
        let f = self.key?;
        if x.len() != self.half {
            return None;
        }
        // SAFETY: as in `less`; the key function has one yield.
        unsafe { f(x.as_ptr(), x.as_ptr(), self.out.as_mut_ptr()) };
        Some(region_fn::key_of_bits(self.out[0] & width_mask(dt), dt))
    }
}

/// The elements of a buffer of type `ty` at `p` as register bits.
///
/// # Safety
/// `p` points to `ty.num_elements()` readable elements of `ty.dtype`.
unsafe fn read_bits(p: *const u8, ty: &TensorType) -> Vec<u64> {
    let n = ty.num_elements();
    if ty.dtype == DType::Bool {
        // SAFETY: the caller's buffer holds `n` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(p, n) };
        return bytes.iter().map(|&b| u64::from(b != 0)).collect();
    }
    fn go<T: Elem>(p: *const u8, n: usize) -> Vec<u64> {
        // SAFETY: the caller's buffer holds `n` elements of `T` (maybe unaligned).
        (0..n)
            .map(|i| unsafe { p.cast::<T>().add(i).read_unaligned() }.to_reg())
            .collect()
    }
    crate::dispatch_dtype!(ty.dtype, |T| go::<T>(p, n))
}

/// Writes register bits `v` into a buffer of type `ty` at `p`.
///
/// # Safety
/// `p` points to `v.len()` writable elements of `ty.dtype`.
unsafe fn write_bits(p: *mut u8, ty: &TensorType, v: &[u64]) {
    fn go<T: Elem>(p: *mut u8, v: &[u64]) {
        for (i, &r) in v.iter().enumerate() {
            // SAFETY: the caller's buffer holds `v.len()` elements of `T`.
            unsafe { p.cast::<T>().add(i).write_unaligned(T::from_reg(r)) };
        }
    }
    crate::dispatch_dtype!(ty.dtype, |T| go::<T>(p, v))
}

/// Runs `run`, turning a panic (a bug: the kernels return `None` instead) into status 1
/// rather than unwinding through compiled frames.
fn status(run: impl FnOnce() -> Option<()>) -> i64 {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Some(())) => 0,
        _ => 1,
    }
}

/// Runs the `sort` of `ctx` on the buffers `args[k]`, writing the sorted operands into the
/// buffers `outs[k]`: a total order on one operand sorts typed in the result buffer, a key
/// map of one operand by the typed key sort, any other comparator by
/// [`region_fn::sort`] with the compiled comparator `less`, or with the compiled key
/// function `key` when the comparator compares a computed key. Returns 0, or 1 if the kernel
/// failed (verified code never does).
///
/// # Safety
/// `ctx` is a live [`RegionCall`] of a `sort`; `args` and `outs` hold one pointer per operand
/// and result, each to a buffer of the type recorded in `ctx`; `less` and `key` are 0 or
/// regions compiled from `ctx`'s body with the pairs layout (the key one yielding its key
/// slot).
pub(crate) unsafe extern "C" fn graphjit_sort(
    ctx: *const RegionCall,
    args: *const *const u8,
    outs: *const *mut u8,
    less: u64,
    key: u64,
) -> i64 {
    status(|| {
        let c = &*ctx;
        let RegionOp::Sort { dim, .. } = c.op else {
            return None;
        };
        if sort_in_output(c, args, outs)? {
            return Some(());
        }
        if let ([ty], Some((0, _, _))) = (&c.args[..], c.body.sort_key()) {
            let x = read_tensor(*args, ty)?;
            if let Some(out) = region_kernels::sort_typed(&c.body, &[&x], dim) {
                let bytes = out.as_bytes();
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), *outs, bytes.len());
                return Some(());
            }
        }
        let mut cols: Vec<Vec<u64>> = Vec::with_capacity(c.args.len());
        for (k, ty) in c.args.iter().enumerate() {
            cols.push(read_bits(*args.add(k), ty));
        }
        let mut f = Compiled::new(&c.body, compiled(less), compiled(key));
        region_fn::sort(&mut f, c.body.sort_key(), &mut cols, &c.args[0].shape, dim)?;
        if c.results.len() != cols.len() {
            return None;
        }
        for (k, (col, ty)) in cols.iter().zip(&c.results).enumerate() {
            write_bits(*outs.add(k), ty, col);
        }
        Some(())
    })
}

/// Runs the `scatter` of `ctx` on the buffers `args[k]` (inputs, indices, updates), writing
/// the scattered inputs into the buffers `outs[k]` by [`region_fn::scatter`] with the
/// compiled region `update`. Returns 0, or 1 if the kernel failed (verified code never does).
///
/// # Safety
/// As [`graphjit_sort`]'s, for a `scatter`; `update` is a region compiled from `ctx`'s body
/// with the halves layout.
pub(crate) unsafe extern "C" fn graphjit_scatter(
    ctx: *const RegionCall,
    args: *const *const u8,
    outs: *const *mut u8,
    update: u64,
) -> i64 {
    status(|| {
        let c = &*ctx;
        let RegionOp::Scatter(d) = &c.op else {
            return None;
        };
        let n = c.args.len() / 2;
        if n == 0 || c.results.len() != n {
            return None;
        }
        let mut cols: Vec<Vec<u64>> = Vec::with_capacity(n);
        let mut ups: Vec<Vec<u64>> = Vec::with_capacity(n);
        for k in 0..n {
            cols.push(read_bits(*args.add(k), &c.args[k]));
            ups.push(read_bits(*args.add(n + 1 + k), &c.args[n + 1 + k]));
        }
        let idx = read_tensor(*args.add(n), &c.args[n])?;
        let pairs = region_kernels::scatter_pairs(&c.args[0].shape, &idx, &c.args[n + 1].shape, d)?;
        let mut f = Compiled::new(&c.body, compiled(update), None);
        region_fn::scatter(&mut f, &mut cols, &ups, &pairs)?;
        for (k, (col, ty)) in cols.iter().zip(&c.results).enumerate() {
            write_bits(*outs.add(k), ty, col);
        }
        Some(())
    })
}

#[cfg(test)]
mod tests {
    use crate::ir::parse::parse_module;
    use crate::jit::runtime::RuntimeFn;

    /// The runtime functions the entry function of `src`'s first function imports, by symbol.
    fn runtime_calls(src: &str) -> Vec<&'static str> {
        let f = parse_module(src).unwrap().funcs[0].clone();
        let exe = crate::jit::compile(&f).unwrap();
        let entry = exe.clif().split("\n}").next().unwrap().to_string();
        RuntimeFn::ALL
            .iter()
            .filter(|r| entry.contains(&format!(" u0:{} ", r.index())))
            .map(|r| r.symbol())
            .collect()
    }

    #[test]
    fn general_sorts_and_scatters_call_their_kernel_with_a_compiled_region() {
        let sort = "func @s(%x: f32[8], %v: i32[8]) -> (f32[8], i32[8]) {
  %k, %w = sort %x, %v dim=0 stable=1 : f32[8], i32[8] (%a: f32, %b: f32, %c: i32, %d: i32) {
    %r = le %a, %b : bool
    yield %r
  }
  return %k, %w
}";
        assert_eq!(runtime_calls(sort), ["graphjit_sort"]);
        let scatter = "func @s(%x: f32[4], %y: i32[4], %i: i32[2,1], %u: f32[2], %w: i32[2]) -> (f32[4], i32[4]) {
  %r, %q = scatter %x, %y, %i, %u, %w inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : f32[4], i32[4] (%a: f32, %b: i32, %c: f32, %d: i32) {
    %s = add %a, %c : f32
    %m = max %b, %d : i32
    yield %s, %m
  }
  return %r, %q
}";
        assert_eq!(runtime_calls(scatter), ["graphjit_scatter"]);
        // A rank-0 window calls nothing.
        let window = "func @w(%x: f32, %z: f32) -> f32 {
  %c = reduce_window %x, %z window=[] : f32 (%a: f32, %b: f32) {
    %s = sub %a, %b : f32
    yield %s
  }
  return %c
}";
        assert!(runtime_calls(window).is_empty());
    }
}
