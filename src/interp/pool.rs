//! The interpreter's buffer pool: the buffers of a run's tensors are kept for the next ops and
//! runs instead of being freed and allocated again.
//!
//! A large buffer comes from the system as fresh pages, and touching them costs a page fault
//! each: W3a interpreted (ten 4 MiB tensors a run) spent most of its time faulting pages in.
//! Buffers kept here are already faulted in. Elementwise ops (`unary`, `binary`, compare) and
//! the broadcast of a scalar write their result into a pooled buffer of the result's dtype and
//! length when there is one; every other op allocates as before, and its buffer is pooled
//! afterwards too. The ops run the same per-dtype functions as the kernels
//! ([`crate::ops::scalar::Elem`]), one element at a time, so the results have the kernels' bits.
//!
//! The pool is bounded ([`MAX_BYTES`], [`MAX_BUFFERS`]; small buffers are not kept, malloc reuses
//! them cheaply) and freed with its interpreter.

use crate::ops::scalar::{compare_with, BinaryVisitor, CompareVisitor, Elem, UnaryVisitor};
use crate::ops::Op;
use crate::tensor::{Data, Element, Tensor};
use crate::types::{DType, TensorType};

/// The most bytes the pool keeps.
pub(super) const MAX_BYTES: usize = 256 << 20;
/// The most buffers the pool keeps.
pub(super) const MAX_BUFFERS: usize = 64;
/// Buffers smaller than this are left to the allocator.
const MIN_BYTES: usize = 16 << 10;

/// Free buffers, each with its dtype and length (its key).
pub(super) struct Pool {
    bufs: Vec<Data>,
    bytes: usize,
    max_bytes: usize,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool::with_max_bytes(MAX_BYTES)
    }
}

fn data_bytes(d: &Data) -> usize {
    d.len() * d.dtype().size_bytes()
}

impl Pool {
    fn with_max_bytes(max_bytes: usize) -> Pool {
        Pool {
            bufs: Vec::new(),
            bytes: 0,
            max_bytes,
        }
    }

    /// A pool that keeps nothing, for runs under a memory limit.
    pub(super) fn disabled() -> Pool {
        Pool::with_max_bytes(0)
    }

    /// Whether a buffer of `bytes` fits.
    fn room(&self, bytes: usize) -> bool {
        self.bufs.len() < MAX_BUFFERS && self.bytes.saturating_add(bytes) <= self.max_bytes
    }

    /// A free buffer of `n` elements of `dtype`, if the pool has one.
    fn take(&mut self, dtype: DType, n: usize) -> Option<Data> {
        let i = self
            .bufs
            .iter()
            .position(|d| d.len() == n && d.dtype() == dtype)?;
        let d = self.bufs.swap_remove(i);
        self.bytes -= data_bytes(&d);
        Some(d)
    }

    /// Keeps the buffer of `t` for later, when it is large and the pool has room.
    pub(super) fn give(&mut self, t: Tensor) {
        let d = t.into_data();
        let bytes = data_bytes(&d);
        if bytes >= MIN_BYTES && self.room(bytes) {
            self.bytes += bytes;
            self.bufs.push(d);
        }
    }

    /// Moves every buffer of `other` here, as room allows.
    pub(super) fn absorb(&mut self, other: Pool) {
        for d in other.bufs {
            let bytes = data_bytes(&d);
            if self.room(bytes) {
                self.bytes += bytes;
                self.bufs.push(d);
            }
        }
    }

    /// Runs `op` into a pooled buffer when it is an elementwise op or the broadcast of a
    /// one-element tensor and a buffer of the result's type is free; `None` otherwise (the
    /// caller then runs the kernel). The operands passed the op's type rule.
    pub(super) fn eval(&mut self, op: &Op, args: &[&Tensor], ty: &TensorType) -> Option<Tensor> {
        let n = ty.num_elements();
        let handled = match (op, args) {
            (Op::Unary(_), [x]) => x.len() == n,
            (Op::Binary(_) | Op::Compare(_), [x, y]) => x.len() == n && y.len() == n,
            (Op::Broadcast { .. }, [x]) => x.len() == 1 && x.dtype() == ty.dtype,
            _ => false,
        };
        if !handled || n * ty.dtype.size_bytes() < MIN_BYTES {
            return None;
        }
        let mut out = self.take(ty.dtype, n)?;
        let done = fill(op, args, &mut out);
        if done.is_none() {
            // Not expected after the type rule; the buffer stays in the pool and the kernel
            // runs instead.
            self.bufs.push(out);
            self.bytes += n * ty.dtype.size_bytes();
            return None;
        }
        Tensor::new(out, ty.shape.clone())
    }
}

/// Writes the result of `op` on `args` into `out` (of the result's dtype and length).
fn fill(op: &Op, args: &[&Tensor], out: &mut Data) -> Option<()> {
    match (op, args) {
        (Op::Unary(u), [x]) => {
            crate::dispatch_dtype!(x.dtype(), |T| T::unary(
                *u,
                Into1(T::slice(x.data())?, T::slice_mut(out)?)
            ))
        }
        (Op::Binary(b), [x, y]) => crate::dispatch_dtype!(x.dtype(), |T| T::binary(
            *b,
            Into2(T::slice(x.data())?, T::slice(y.data())?, T::slice_mut(out)?)
        )),
        (Op::Compare(c), [x, y]) => {
            let Data::Bool(o) = out else { return None };
            crate::dispatch_dtype!(x.dtype(), |T| {
                compare_with(*c, Cmp2(T::slice(x.data())?, T::slice(y.data())?, o));
                Some(())
            })
        }
        (Op::Broadcast { .. }, [x]) => {
            crate::dispatch_dtype!(x.dtype(), |T| {
                let v = T::slice(x.data())?.first().copied()?;
                T::slice_mut(out)?.fill(v);
                Some(())
            })
        }
        _ => None,
    }
}

struct Into1<'a, T>(&'a [T], &'a mut [T]);
impl<T: Copy> UnaryVisitor<T> for Into1<'_, T> {
    type Out = ();
    fn visit<F: Fn(T) -> T>(self, f: F) {
        for (o, &x) in self.1.iter_mut().zip(self.0) {
            *o = f(x);
        }
    }
}

struct Into2<'a, T>(&'a [T], &'a [T], &'a mut [T]);
impl<T: Copy> BinaryVisitor<T> for Into2<'_, T> {
    type Out = ();
    fn visit<F: Fn(T, T) -> T>(self, f: F) {
        for (o, (&x, &y)) in self.2.iter_mut().zip(self.0.iter().zip(self.1)) {
            *o = f(x, y);
        }
    }
}

struct Cmp2<'a, T>(&'a [T], &'a [T], &'a mut [bool]);
impl<T: Copy> CompareVisitor<T> for Cmp2<'_, T> {
    type Out = ();
    fn visit<F: Fn(T, T) -> bool>(self, f: F) {
        for (o, (&x, &y)) in self.2.iter_mut().zip(self.0.iter().zip(self.1)) {
            *o = f(x, y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{kernels, BinaryOp, CmpOp, UnaryOp};

    /// Pooled results equal the kernels' bit for bit, and a pooled buffer is used again.
    #[test]
    fn pooled_ops_match_the_kernels() {
        let n = 1 << 15;
        let xs: Vec<f32> = (0..n).map(|i| (i as f32 - 4000.5) * 0.37).collect();
        let ys: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 * -0.01).collect();
        let x = Tensor::from_vec(xs, [n]).expect("x");
        let y = Tensor::from_vec(ys, [n]).expect("y");
        let c = Tensor::scalar(2.5f32);
        let f32_ty = TensorType::new(DType::F32, [n]);
        let bool_ty = TensorType::new(DType::Bool, [n]);
        let cases: Vec<(Op, Vec<&Tensor>, &TensorType)> = vec![
            (Op::Unary(UnaryOp::Exp), vec![&x], &f32_ty),
            (Op::Unary(UnaryOp::Tanh), vec![&y], &f32_ty),
            (Op::Binary(BinaryOp::Div), vec![&x, &y], &f32_ty),
            (Op::Binary(BinaryOp::Sub), vec![&y, &x], &f32_ty),
            (Op::Compare(CmpOp::Lt), vec![&x, &y], &bool_ty),
            (Op::Broadcast { dims: vec![] }, vec![&c], &f32_ty),
        ];
        let mut pool = Pool::default();
        for (op, args, ty) in &cases {
            let want = kernels::eval(op, args, ty).expect("kernel");
            // The first evaluation finds no buffer; then the kernel's result is pooled.
            assert!(pool.eval(op, args, ty).is_none());
            pool.give(want.clone());
            let got = pool
                .eval(op, args, ty)
                .expect("a pooled buffer of this type");
            assert_eq!(got, want, "{op:?}");
            assert!(pool.bufs.is_empty());
        }
    }

    #[test]
    fn the_pool_is_bounded_and_keeps_large_buffers_only() {
        let max = 1 << 20;
        let mut pool = Pool::with_max_bytes(max);
        pool.give(Tensor::zeros(&TensorType::new(DType::F32, [16])));
        assert!(
            pool.bufs.is_empty(),
            "a small buffer is left to the allocator"
        );
        let big = TensorType::new(DType::F64, [max / 8 / 4]);
        for _ in 0..6 {
            pool.give(Tensor::zeros(&big));
        }
        assert_eq!(pool.bufs.len(), 4);
        assert_eq!(pool.bytes, max);
        let mid = TensorType::new(DType::U8, [MIN_BYTES]);
        let mut many = Pool::default();
        for _ in 0..MAX_BUFFERS + 5 {
            many.give(Tensor::zeros(&mid));
        }
        assert_eq!(many.bufs.len(), MAX_BUFFERS);
    }
}
