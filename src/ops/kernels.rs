//! Tensor kernels of every op without regions: what the interpreter and constant folding run.
//!
//! [`eval`] checks the operands against the op's type rule ([`crate::ops::infer`]) and then
//! runs a loop monomorphized for the dtype and, for elementwise ops, for the op itself (the
//! typed functions of [`crate::ops::scalar`] are handed in as zero-sized function items), so no
//! loop dispatches on an enum per element. A mismatch between op, operands and result type is
//! an `Err`, never a panic.
//!
//! The accumulation orders of [`reduce`] and [`dot`] are part of those ops' semantics: the
//! compiled code follows them exactly (for float `dot` it calls the same `matrixmultiply`
//! routine, through the runtime functions `dot_f32`/`dot_f64`), so that both executors give the same float bits.

pub(crate) use super::gemm::{dot_bf16, dot_f16, dot_f32, dot_f64, dot_sequential};
pub use super::gemm::{dot_half, gemm_f32, gemm_f64, DOT_ROWS};
use crate::error::Error;
use crate::ops::scalar::{compare_with, BinaryVisitor, CastTo, CompareVisitor, Elem, UnaryVisitor};
use crate::ops::{
    dot_general, gather, index, infer, layout, pad, BinaryOp, CmpOp, Op, ReduceOp, UnaryOp,
};
use crate::parallel::BLOCK;
use crate::tensor::{Data, Element, Tensor};
use crate::types::{strides, DType, TensorType};

/// An error naming the op whose operands do not fit it.
fn mismatch(op: &Op, message: impl std::fmt::Display) -> Error {
    Error::Argument(format!("'{}': {message}", op.name()))
}

/// Runs one op without regions on its operands, giving a tensor of `result_ty`.
///
/// The operands and `result_ty` are checked against the op's type rule first (the result
/// type matters for `const`, `convert`, `reshape`, `broadcast` and `iota`, and must equal the
/// inferred type for the others), and `result_ty` against the size limits; any mismatch is an
/// `Err`.
pub fn eval(op: &Op, args: &[&Tensor], result_ty: &TensorType) -> Result<Tensor, Error> {
    let tys: Vec<TensorType> = args.iter().map(|t| t.ty()).collect();
    let refs: Vec<&TensorType> = tys.iter().collect();
    let inferred = infer(op, &refs, Some(result_ty)).map_err(|e| mismatch(op, e))?;
    if inferred != *result_ty {
        return Err(mismatch(
            op,
            format!("the result is {inferred}, not the declared {result_ty}"),
        ));
    }
    result_ty.check_size().map_err(|e| mismatch(op, e))?;
    eval_verified(op, args, result_ty)
}

/// Runs one op without regions on operands already known to fit it: the operand and result
/// types passed the op's type rule and the size limits (in the verifier, when an interpreter
/// was prepared, or in the caller). Skips those checks, which [`eval`] makes; a mismatch
/// that still shows is a bug, reported as [`Error::Internal`].
pub fn eval_verified(op: &Op, args: &[&Tensor], result_ty: &TensorType) -> Result<Tensor, Error> {
    let internal = |m: &str| Error::Internal(format!("'{}': {m}", op.name()));
    let data =
        eval_checked(op, args, result_ty).ok_or_else(|| internal("the operands do not fit"))?;
    Tensor::new(data, result_ty.shape.clone())
        .ok_or_else(|| internal("the result does not fill its type"))
}

/// Runs an op whose operands passed its type rule. `None` only if that check was wrong.
fn eval_checked(op: &Op, args: &[&Tensor], ty: &TensorType) -> Option<Data> {
    let arg = |i: usize| args.get(i).copied();
    match op {
        Op::Const(t) => Some(t.data().clone()),
        Op::Unary(u) => unary_data(*u, arg(0)?.data()),
        Op::Binary(b) => binary_data(*b, arg(0)?.data(), arg(1)?.data()),
        Op::Compare(c) => compare_data(*c, arg(0)?.data(), arg(1)?.data()),
        Op::Select => select_data(arg(0)?.data(), arg(1)?.data(), arg(2)?.data()),
        Op::Convert => Some(convert_data(arg(0)?.data(), ty.dtype)),
        Op::BitcastConvert => Data::from_bytes(ty.dtype, arg(0)?.data().as_bytes()),
        Op::Reshape => Some(arg(0)?.data().clone()),
        Op::Broadcast { dims } => {
            let x = arg(0)?;
            let in_strides = strides(x.shape());
            let mut st = vec![0usize; ty.rank()];
            for (i, &r) in dims.iter().enumerate() {
                if x.shape()[i] != 1 {
                    st[r] = in_strides[i];
                }
            }
            Some(gather_data(x.data(), 0, &ty.shape, &st))
        }
        Op::Transpose { perm } => {
            let x = arg(0)?;
            let in_strides = strides(x.shape());
            let st: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
            Some(gather_data(x.data(), 0, &ty.shape, &st))
        }
        Op::Slice { start, stride, .. } => {
            let x = arg(0)?;
            let in_strides = strides(x.shape());
            let offset = start.iter().zip(&in_strides).map(|(s, t)| s * t).sum();
            let st: Vec<usize> = stride.iter().zip(&in_strides).map(|(k, t)| k * t).collect();
            Some(gather_data(x.data(), offset, &ty.shape, &st))
        }
        Op::Concat { axis } => concat_data(args, *axis, ty),
        Op::Iota { axis } => iota_data(ty, *axis),
        Op::Reduce { op: r, axes } => reduce_data(*r, arg(0)?, axes),
        Op::Dot => dot_data(arg(0)?, arg(1)?),
        Op::DynamicSlice { sizes } => index::dynamic_slice_data(args, sizes),
        Op::DynamicUpdateSlice => index::dynamic_update_slice_data(args),
        Op::Reverse { dims } => Some(layout::reverse_data(arg(0)?, dims)),
        Op::Clamp => clamp_data(arg(0)?, arg(1)?, arg(2)?),
        Op::Pad { low, interior, .. } => pad::pad_data(arg(0)?, arg(1)?, low, interior, ty),
        Op::Gather { dims } => gather::gather_data(arg(0)?, arg(1)?, dims),
        Op::DotGeneral { dims } => {
            let (a, b) = (arg(0)?, arg(1)?);
            let (ad, bd) = (a.data(), b.data());
            dot_general::dot_general_data(ad, a.shape(), bd, b.shape(), dims, ty.dtype)
        }
        Op::Region(_) | Op::While | Op::If | Op::Case | Op::Yield | Op::Return => None,
    }
}

/// Expands `body` once per dtype with `T` naming its element type; `body` gives
/// `Option<Vec<T>>`, and the whole gives `Option<Data>`.
macro_rules! by_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        crate::dispatch_dtype!($dtype, |$T| ($body).map(<$T as Element>::into_data))
    };
}

// ---------------------------------------------------------------------------------------------
// Elementwise ops.
// ---------------------------------------------------------------------------------------------

struct Map1<'a, T>(&'a [T]);
impl<T: Copy> UnaryVisitor<T> for Map1<'_, T> {
    type Out = Vec<T>;
    fn visit<F: Fn(T) -> T>(self, f: F) -> Vec<T> {
        self.0.iter().map(|&x| f(x)).collect()
    }
}

struct Map2<'a, T>(&'a [T], &'a [T]);
impl<T: Copy> BinaryVisitor<T> for Map2<'_, T> {
    type Out = Vec<T>;
    fn visit<F: Fn(T, T) -> T>(self, f: F) -> Vec<T> {
        self.0.iter().zip(self.1).map(|(&x, &y)| f(x, y)).collect()
    }
}
impl<T: Copy> CompareVisitor<T> for Map2<'_, T> {
    type Out = Vec<bool>;
    fn visit<F: Fn(T, T) -> bool>(self, f: F) -> Vec<bool> {
        self.0.iter().zip(self.1).map(|(&x, &y)| f(x, y)).collect()
    }
}

fn unary_data(op: UnaryOp, x: &Data) -> Option<Data> {
    by_dtype!(x.dtype(), T => T::unary(op, Map1(T::slice(x)?)))
}

/// `clamp(lo, x, hi)` is `min(max(x, lo), hi)`: the two binary ops, with a scalar bound
/// repeated over `x`.
fn clamp_data(lo: &Tensor, x: &Tensor, hi: &Tensor) -> Option<Data> {
    let full = |b: &Tensor| -> Option<Data> {
        if b.shape() == x.shape() {
            Some(b.data().clone())
        } else {
            Some(Data::splat(b.get(0)?, x.len()))
        }
    };
    let low = binary_data(BinaryOp::Max, x.data(), &full(lo)?)?;
    binary_data(BinaryOp::Min, &low, &full(hi)?)
}

fn binary_data(op: BinaryOp, a: &Data, b: &Data) -> Option<Data> {
    by_dtype!(a.dtype(), T => T::binary(op, Map2(T::slice(a)?, T::slice(b)?)))
}

fn compare_data(op: CmpOp, a: &Data, b: &Data) -> Option<Data> {
    fn go<T: Elem>(op: CmpOp, a: &Data, b: &Data) -> Option<Vec<bool>> {
        Some(compare_with(op, Map2(T::slice(a)?, T::slice(b)?)))
    }
    crate::dispatch_dtype!(a.dtype(), |T| go::<T>(op, a, b)).map(|v| Data::Bool(v.into()))
}

fn select_data(p: &Data, a: &Data, b: &Data) -> Option<Data> {
    fn go<T: Copy>(p: &[bool], a: &[T], b: &[T]) -> Vec<T> {
        p.iter()
            .zip(a.iter().zip(b))
            .map(|(&p, (&x, &y))| if p { x } else { y })
            .collect()
    }
    let Data::Bool(p) = p else { return None };
    if let ([p], true) = (p.as_slice(), a.len() != 1) {
        // A scalar predicate picks a whole operand.
        return Some(if *p { a.clone() } else { b.clone() });
    }
    by_dtype!(a.dtype(), T => Some(go::<T>(p, T::slice(a)?, T::slice(b)?)))
}

pub(crate) fn convert_data(x: &Data, to: DType) -> Data {
    fn go<S: Elem>(v: &[S], to: DType) -> Data {
        crate::dispatch_dtype!(to, |D| D::into_data(
            v.iter().map(|&x| CastTo::<D>::cast(x)).collect()
        ))
    }
    crate::match_data!(x, |v| go(v, to))
}

// ---------------------------------------------------------------------------------------------
// Data movement.
// ---------------------------------------------------------------------------------------------

/// Copies the elements at `offset + sum(idx[d] * strides[d])` for every index `idx` of `shape`,
/// in row-major order. Broadcast (stride 0), transpose (permuted strides) and slice (offset
/// and scaled strides) are all this one loop; the innermost dimension is copied as a slice
/// when its stride is 1 and as a repeated element when it is 0.
fn gather<T: Copy>(src: &[T], offset: usize, shape: &[usize], strides: &[usize]) -> Vec<T> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let Some((&inner, outer_shape)) = shape.split_last() else {
        out.push(src[offset]);
        return out;
    };
    let rank = shape.len();
    let step = strides[rank - 1];
    let outer_strides = &strides[..rank - 1];
    let mut idx = vec![0usize; rank - 1];
    let mut base = offset;
    loop {
        match step {
            1 => out.extend_from_slice(&src[base..base + inner]),
            0 => out.extend(std::iter::repeat_n(src[base], inner)),
            s => out.extend((0..inner).map(|k| src[base + k * s])),
        }
        // Advance the outer index like an odometer, keeping `base` in step with it.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            base += outer_strides[d];
            if idx[d] < outer_shape[d] {
                break;
            }
            base -= outer_strides[d] * idx[d];
            idx[d] = 0;
        }
    }
}

/// [`gather`] on any dtype.
pub(crate) fn gather_data(x: &Data, offset: usize, shape: &[usize], strides: &[usize]) -> Data {
    crate::match_data!(x, |v| Element::into_data(gather(v, offset, shape, strides)))
}

/// The inverse of [`gather`]: writes `src`, row-major of `shape`, to the elements
/// `offset + sum(idx[d] * strides[d])` of `dst`. The caller keeps every such element in
/// bounds; `None` if the dtypes differ or an element is not.
fn put<T: Copy>(
    dst: &mut [T],
    offset: usize,
    shape: &[usize],
    strides: &[usize],
    src: &[T],
) -> Option<()> {
    let mut idx = vec![0usize; shape.len()];
    for &x in src {
        let at = offset + idx.iter().zip(strides).map(|(i, s)| i * s).sum::<usize>();
        *dst.get_mut(at)? = x;
        // Advance the index like an odometer, last dimension fastest.
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Some(())
}

/// [`put`] on any dtype.
pub(crate) fn put_data(
    dst: &mut Data,
    offset: usize,
    shape: &[usize],
    strides: &[usize],
    src: &Data,
) -> Option<()> {
    crate::match_data!(dst, |d| put(
        d,
        offset,
        shape,
        strides,
        Element::slice(src)?
    ))
}

fn concat_data(args: &[&Tensor], axis: usize, ty: &TensorType) -> Option<Data> {
    fn go<T: Element>(args: &[&Tensor], axis: usize, ty: &TensorType) -> Option<Vec<T>> {
        let outer: usize = ty.shape[..axis].iter().product();
        let inner: usize = ty.shape[axis + 1..].iter().product();
        let parts: Vec<(&[T], usize)> = args
            .iter()
            .map(|t| Some((t.as_slice::<T>()?, t.shape()[axis] * inner)))
            .collect::<Option<_>>()?;
        let mut out = Vec::with_capacity(ty.num_elements());
        for o in 0..outer {
            for &(v, chunk) in &parts {
                out.extend_from_slice(v.get(o * chunk..(o + 1) * chunk)?);
            }
        }
        Some(out)
    }
    by_dtype!(ty.dtype, T => go::<T>(args, axis, ty))
}

fn iota_data(ty: &TensorType, axis: usize) -> Option<Data> {
    fn go<T: Copy>(ty: &TensorType, axis: usize) -> Option<Vec<T>>
    where
        i64: CastTo<T>,
    {
        let outer: usize = ty.shape[..axis].iter().product();
        let len = ty.shape[axis];
        let inner: usize = ty.shape[axis + 1..].iter().product();
        let mut out = Vec::with_capacity(ty.num_elements());
        for _ in 0..outer {
            for k in 0..len {
                out.extend(std::iter::repeat_n((k as i64).cast(), inner));
            }
        }
        Some(out)
    }
    if !ty.dtype.is_numeric() {
        return None;
    }
    by_dtype!(ty.dtype, T => go::<T>(ty, axis))
}

// ---------------------------------------------------------------------------------------------
// Reductions and matrix products.
// ---------------------------------------------------------------------------------------------

/// Reduces `xs` in graphjit's fixed order: element `i` is combined into accumulator
/// `acc[i % 16]` (each starting at `identity`) for increasing `i`; then
/// `s_j = (acc[j] ∘ acc[j+4]) ∘ (acc[j+8] ∘ acc[j+12])` for `j` in `0..4`, and the result is
/// `(s_0 ∘ s_1) ∘ (s_2 ∘ s_3)`. That is four 4-lane vector accumulators added as
/// `(v0 ∘ v1) ∘ (v2 ∘ v3)` followed by a pairwise sum of the lanes, so SIMD code can follow it.
#[inline]
pub fn reduce_lanes<T: Copy>(xs: &[T], identity: T, f: impl Fn(T, T) -> T) -> T {
    let mut acc = [identity; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for j in 0..16 {
            acc[j] = f(acc[j], c[j]);
        }
    }
    for (j, &x) in chunks.remainder().iter().enumerate() {
        acc[j] = f(acc[j], x);
    }
    let s = |j: usize| f(f(acc[j], acc[j + 4]), f(acc[j + 8], acc[j + 12]));
    f(f(s(0), s(1)), f(s(2), s(3)))
}

/// Reduces `xs` in graphjit's blocked order: up to [`BLOCK`] elements as [`reduce_lanes`];
/// more are cut into blocks of [`BLOCK`] elements (the last one shorter), each reduced by
/// [`reduce_lanes`], and the block results `b_0, b_1, ...` combined from the left,
/// `((b_0 ∘ b_1) ∘ b_2) ∘ ...`. The blocks depend only on the length, so the result does not
/// depend on how many threads reduce them.
pub fn reduce_blocked<T: Copy>(xs: &[T], identity: T, f: impl Fn(T, T) -> T) -> T {
    if xs.len() <= BLOCK {
        return reduce_lanes(xs, identity, f);
    }
    let mut blocks = xs.chunks(BLOCK);
    let first = reduce_lanes(blocks.next().unwrap_or(&[]), identity, &f);
    blocks.fold(first, |acc, c| f(acc, reduce_lanes(c, identity, &f)))
}

/// Reduces consecutive rows of `row` elements each, `n_out` of them.
struct ReduceRows<'a, T> {
    data: &'a [T],
    row: usize,
    n_out: usize,
    identity: T,
}

impl<T: Copy> BinaryVisitor<T> for ReduceRows<'_, T> {
    type Out = Vec<T>;
    fn visit<F: Fn(T, T) -> T + Copy>(self, f: F) -> Vec<T> {
        if self.row == 0 {
            return vec![reduce_lanes(&[], self.identity, f); self.n_out];
        }
        self.data
            .chunks_exact(self.row)
            .map(|c| reduce_blocked(c, self.identity, f))
            .collect()
    }
}

fn reduce_data(op: ReduceOp, x: &Tensor, axes: &[usize]) -> Option<Data> {
    let shape = x.shape();
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let n_out: usize = kept.iter().map(|&d| shape[d]).product();
    let row: usize = axes.iter().map(|&d| shape[d]).product();
    // Bring the reduced axes to the end (kept axes first, each group in its order), so that
    // the elements of one output are contiguous and in row-major order over the reduced axes.
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let moved;
    let data = if perm.iter().enumerate().all(|(i, &p)| i == p) {
        x.data()
    } else {
        let in_strides = strides(shape);
        let st: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
        let sh: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        moved = gather_data(x.data(), 0, &sh, &st);
        &moved
    };
    by_dtype!(x.dtype(), T => T::reduce(
        op,
        ReduceRows {
            data: T::slice(data)?,
            row,
            n_out,
            identity: T::reduce_identity(op)?,
        },
    ))
}

fn dot_data(a: &Tensor, b: &Tensor) -> Option<Data> {
    let (m, k) = (*a.shape().first()?, *a.shape().get(1)?);
    let n = if b.shape().len() == 2 {
        b.shape()[1]
    } else {
        1
    };
    by_dtype!(a.dtype(), T => T::dot(a.as_slice()?, b.as_slice()?, m, k, n))
}

// ---------------------------------------------------------------------------------------------
// Convenience entry points, one per op; each checks its operands like `eval`.
// ---------------------------------------------------------------------------------------------

fn run_inferred(op: Op, args: &[&Tensor]) -> Result<Tensor, Error> {
    let tys: Vec<TensorType> = args.iter().map(|t| t.ty()).collect();
    let refs: Vec<&TensorType> = tys.iter().collect();
    let ty = infer(&op, &refs, None).map_err(|e| mismatch(&op, e))?;
    ty.check_size().map_err(|e| mismatch(&op, e))?;
    eval_verified(&op, args, &ty)
}

/// `reduce.<op>` over `axes` (strictly increasing) of `x`.
///
/// **Accumulation order** (part of the op's semantics; the compiled code follows it): for each
/// output element, the reduced elements `x_0 .. x_{n-1}` are taken in row-major order over
/// the reduced axes. Up to `BLOCK` = 16384 ([`crate::parallel::BLOCK`]) of them are combined in
/// the 16-accumulator order of [`reduce_lanes`]: `x_i` goes
/// into `acc[i % 16]`, each accumulator starting at the identity (sum `0` / `+0.0`, prod `1`,
/// min `MAX` / `+inf`, max `MIN` / `-inf`, and all ones / `true`, or `0` / `false`), then
/// `s_j = (acc[j] ∘ acc[j+4]) ∘ (acc[j+8] ∘ acc[j+12])` and the result is
/// `(s_0 ∘ s_1) ∘ (s_2 ∘ s_3)`. More than `BLOCK` elements are cut into blocks of `BLOCK`
/// consecutive elements (the last one may be shorter), each block reduced in that order, and
/// the block results combined from the left: `((b_0 ∘ b_1) ∘ b_2) ∘ ...`
/// ([`reduce_blocked`]). Blocks depend on the length only, never on the thread count, so
/// every thread count and both executors give the same bits.
/// Float `min`/`max` combine with IEEE `minimum`/`maximum`.
/// An empty reduction gives the identity; a float sum of only `-0.0` gives `+0.0`.
pub fn reduce(op: ReduceOp, axes: &[usize], x: &Tensor) -> Result<Tensor, Error> {
    run_inferred(
        Op::Reduce {
            op,
            axes: axes.to_vec(),
        },
        &[x],
    )
}

/// Matrix product `[m,k] x [k,n] -> [m,n]`, or matrix-vector `[m,k] x [k] -> [m]`.
///
/// **Integers** (`i32`, `i64`): `C[i,j] = ((0 + A[i,0]*B[0,j]) + A[i,1]*B[1,j]) + ...`,
/// sequential in `k`, wrapping.
///
/// **Floats** (`f32`, `f64`): computed by the `matrixmultiply` crate (`sgemm`/`dgemm`, one
/// thread per call, `alpha = 1`, `beta = 0`), through `dot_f32`/`dot_f64`, which the interpreter
/// and compiled code both call, so both executors give the same bits. The accumulation order
/// is that crate's blocked order: fixed for a given build, CPU and shape, but not the
/// sequential order above, and not specified further by graphjit. Its micro-kernels use
/// fused multiply-adds where the CPU has them (x86-64 with FMA/AVX-512, aarch64 NEON): this
/// is the one place graphjit's float results may involve FMA. Results can therefore differ
/// in the last bits between CPUs (and from a naive sum); on one machine they are
/// reproducible. A product of at least 2^20 multiply-adds with more than [`DOT_ROWS`] rows is
/// computed as blocks of [`DOT_ROWS`] rows of A and C, one `sgemm`/`dgemm` call each, run on
/// the thread pool; the blocks depend on the shape only, so the thread count changes no bit
/// (and the crate accumulates each `C[i,j]` over `k` the same way whatever rows share the
/// call, which `row_blocks_change_no_bit` checks). An empty `k` gives `+0.0` everywhere.
pub fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor, Error> {
    run_inferred(Op::Dot, &[a, b])
}

/// An elementwise unary op.
pub fn unary(op: UnaryOp, x: &Tensor) -> Result<Tensor, Error> {
    run_inferred(Op::Unary(op), &[x])
}

/// An elementwise binary op on two tensors of one type.
pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor, Error> {
    run_inferred(Op::Binary(op), &[a, b])
}

/// An elementwise comparison, giving a `bool` tensor.
pub fn compare(op: CmpOp, a: &Tensor, b: &Tensor) -> Result<Tensor, Error> {
    run_inferred(Op::Compare(op), &[a, b])
}

/// Elementwise `p ? a : b`.
pub fn select(p: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor, Error> {
    run_inferred(Op::Select, &[p, a, b])
}

/// Elementwise conversion to `to` (rules in [`crate::ops::scalar::CastTo`]).
pub fn convert(x: &Tensor, to: DType) -> Result<Tensor, Error> {
    eval(&Op::Convert, &[x], &TensorType::new(to, x.shape().to_vec()))
}

/// `broadcast_in_dim`: operand dimension `i` becomes result dimension `dims[i]`.
pub fn broadcast(x: &Tensor, dims: &[usize], shape: &[usize]) -> Result<Tensor, Error> {
    eval(
        &Op::Broadcast {
            dims: dims.to_vec(),
        },
        &[x],
        &TensorType::new(x.dtype(), shape.to_vec()),
    )
}

/// The same elements in row-major order with a new shape.
pub fn reshape(x: &Tensor, shape: &[usize]) -> Result<Tensor, Error> {
    eval(
        &Op::Reshape,
        &[x],
        &TensorType::new(x.dtype(), shape.to_vec()),
    )
}

/// Result dimension `i` is operand dimension `perm[i]`.
pub fn transpose(x: &Tensor, perm: &[usize]) -> Result<Tensor, Error> {
    run_inferred(
        Op::Transpose {
            perm: perm.to_vec(),
        },
        &[x],
    )
}

/// Elements `start[d] + k * stride[d] < limit[d]` of each dimension `d`.
pub fn slice(
    x: &Tensor,
    start: &[usize],
    limit: &[usize],
    stride: &[usize],
) -> Result<Tensor, Error> {
    run_inferred(
        Op::Slice {
            start: start.to_vec(),
            limit: limit.to_vec(),
            stride: stride.to_vec(),
        },
        &[x],
    )
}

/// The operands joined along `axis`.
pub fn concat(args: &[&Tensor], axis: usize) -> Result<Tensor, Error> {
    run_inferred(Op::Concat { axis }, args)
}

/// A tensor of type `ty` whose elements are their index along `axis` (converted to the dtype
/// like `convert` from `i64`).
pub fn iota(ty: &TensorType, axis: usize) -> Result<Tensor, Error> {
    eval(&Op::Iota { axis }, &[], ty)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn f32s(v: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
    }

    #[test]
    fn gather_covers_broadcast_transpose_slice() {
        let x = f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let t = transpose(&x, &[1, 0]).unwrap();
        assert_eq!(t, f32s(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0], &[3, 2]));
        let s = slice(&x, &[0, 1], &[2, 3], &[1, 2]).unwrap();
        assert_eq!(s, f32s(&[2.0, 5.0], &[2, 1]));
        let b = broadcast(&f32s(&[7.0, 8.0], &[2]), &[0], &[2, 2]).unwrap();
        assert_eq!(b, f32s(&[7.0, 7.0, 8.0, 8.0], &[2, 2]));
    }

    #[test]
    fn mismatches_are_errors() {
        let a = f32s(&[1.0], &[1]);
        let b = Tensor::from_vec(vec![1i32], vec![1]).unwrap();
        assert!(binary(BinaryOp::Add, &a, &b).is_err());
        assert!(eval(&Op::Dot, &[&a, &a], &TensorType::scalar(DType::F32)).is_err());
        assert!(eval(&Op::While, &[], &TensorType::scalar(DType::F32)).is_err());
        let wrong = TensorType::new(DType::F32, vec![2]);
        assert!(eval(&Op::Unary(UnaryOp::Neg), &[&a], &wrong).is_err());
    }

    #[test]
    fn reduce_lanes_is_identity_for_empty_input() {
        assert_eq!(reduce_lanes(&[], 0i32, |a, b| a + b), 0);
        assert_eq!(reduce_lanes(&[5i32], 0, |a, b| a + b), 5);
    }

    /// Pseudo-random floats with many significant bits, so that any change in the order of
    /// the additions shows in the result.
    pub(crate) fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn blocked_reduction_combines_blocks_from_the_left() {
        // Around the block boundary: up to BLOCK elements the order of reduce_lanes, beyond it
        // the block results folded from the left, each computed here independently.
        let xs = noise(3 * BLOCK + 5, 3);
        let add = |a: f32, b: f32| a + b;
        for n in [BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5] {
            let got = reduce_blocked(&xs[..n], 0.0, add);
            let want = if n <= BLOCK {
                reduce_lanes(&xs[..n], 0.0, add)
            } else {
                let parts: Vec<f32> = xs[..n]
                    .chunks(BLOCK)
                    .map(|c| reduce_lanes(c, 0.0, add))
                    .collect();
                let mut acc = parts[0];
                for p in &parts[1..] {
                    acc += p;
                }
                acc
            };
            assert_eq!(got.to_bits(), want.to_bits(), "n = {n}");
        }
        // A reduction of more than one block is not the 16-lane order over all elements (so
        // the test above tells the two apart).
        let n = 3 * BLOCK + 5;
        assert_ne!(
            reduce_blocked(&xs[..n], 0.0, add).to_bits(),
            reduce_lanes(&xs[..n], 0.0, add).to_bits()
        );
    }
}
