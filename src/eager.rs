//! The dynamic front end: eager ops on [`Tensor`], run at once by the interpreter's kernels.
//!
//! Each op is type-checked with [`crate::ops::infer`] and run with
//! [`crate::ops::kernels::eval`], so eager results are the interpreter's (and the compiled
//! code's) bit for bit. Broadcasting and Rust literals follow the same rules as the builder
//! ([`crate::graph::promote`]). Ops are fallible, as in candle: a method or operator gives a
//! `Result<Tensor>`, and an error names the op, its operand types and the caller's line.
//!
//! Rust control flow works on tensor values, as in PyTorch:
//!
//! ```
//! use graphjit::Tensor;
//!
//! let mut first = Tensor::scalar(0i32);
//! let mut second = Tensor::scalar(10i32);
//! while first.lt(&second)?.to_bool()? {
//!     first = (&first + 2)?;
//!     second = (&second + 1)?;
//! }
//! assert_eq!((first.to_scalar::<i32>()?, second.to_scalar::<i32>()?), (20, 20));
//! # Ok::<(), graphjit::Error>(())
//! ```
//!
//! The generic core here (`Emit` and the op functions) also serves [`crate::trace`], whose
//! traced values run these very ops while recording them.

pub(crate) mod region;

use std::borrow::Cow;
use std::panic::Location;

use crate::error::Result;
use crate::graph::promote::{self, op_error, types_list, Literal};
use crate::ops::{infer, kernels, BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use crate::tensor::{Element, Scalar, Tensor};
use crate::types::{DType, TensorType};

type Loc = &'static Location<'static>;

/// Where eager-style ops go: straight to the kernels (eager tensors) or to the kernels and a
/// recording (traces).
pub(crate) trait Emit {
    type V: Clone;
    /// The type of a value.
    fn ty(v: &Self::V) -> TensorType;
    /// The name errors report as the function (`eager`, or the traced function's name).
    fn scope(&self) -> String;
    /// Checks that an operand may be used here (a traced value must belong to this call).
    fn check_operand(&self, _v: &Self::V, _op: &str, _loc: Loc) -> Result<()> {
        Ok(())
    }
    /// Runs (and maybe records) one region op (see [`crate::ops::region`]).
    fn emit_region(
        &self,
        op: crate::ops::region::RegionOp,
        body: &crate::ops::region::Body,
        args: &[&Self::V],
        loc: Loc,
    ) -> Result<Vec<Self::V>>;
    /// Runs (and maybe records) one op whose operands fit it.
    fn emit(
        &self,
        op: Op,
        args: &[&Self::V],
        declared: Option<TensorType>,
        loc: Loc,
    ) -> Result<Self::V>;
    /// An elementwise op of two operands (`Binary` or `Compare`) computed at once, when the
    /// emitter can do without the general path's resolution of literals, broadcasting and
    /// type rule (eager tensors of rank 0 and literals); `None` takes the general path.
    fn elementwise2(
        &self,
        _op: Elementwise,
        _a: &Arg<'_, Self::V>,
        _b: &Arg<'_, Self::V>,
    ) -> Option<Result<Self::V>> {
        None
    }
    /// A constant (a literal operand, or a plain tensor next to traced values).
    fn constant(&self, t: Tensor, loc: Loc) -> Result<Self::V> {
        let ty = t.ty();
        self.emit(Op::Const(t), &[], Some(ty), loc)
    }
}

/// The emitter of plain eager tensors.
pub(crate) struct Eager;

/// Runs one op on tensors: the type rule, then the kernel.
pub(crate) fn run_op(
    scope: &str,
    op: &Op,
    args: &[&Tensor],
    declared: Option<TensorType>,
    loc: Loc,
) -> Result<Tensor> {
    // A rank-0 result holds its element inline: it allocates nothing a limit would count.
    if let Some(t) = scalar_op(op, args) {
        return Ok(t);
    }
    let tys: Vec<TensorType> = args.iter().map(|t| t.ty()).collect();
    let refs: Vec<&TensorType> = tys.iter().collect();
    let ty = infer(op, &refs, declared.as_ref()).map_err(|e| {
        let m = format!("{e}; operand types {}", types_list(&refs));
        op_error(scope, &op.name(), loc, m)
    })?;
    ty.check_size()
        .map_err(|m| op_error(scope, &op.name(), loc, m))?;
    crate::limits::check_eager_allocation(scope, ty.num_elements() * ty.dtype.size_bytes())?;
    // Checked just above: the kernel need not run the type rule again.
    kernels::eval_verified(op, args, &ty)
}

/// An elementwise op on rank-0 operands of one dtype, evaluated on their scalars with the
/// scalar definition of the op (the per-dtype table the kernels use too, so the bits are the
/// kernels'); `None` for anything else, including an op its dtype does not have, which the
/// general path then reports. Its type rule is trivial (the operands' type, or `bool` for a
/// comparison), so nothing is inferred or allocated (the result's one element is stored
/// inline, see [`crate::tensor::Buf`]): this is what makes Rust control flow on eager scalars (the README's counter) cost tens of
/// nanoseconds an op rather than microseconds.
fn scalar_op(op: &Op, args: &[&Tensor]) -> Option<Tensor> {
    let op = Elementwise::of(op)?;
    let scalar = |t: &Tensor| if t.shape().is_empty() { t.get(0) } else { None };
    let r = match args {
        [x] => eval_scalar(op, scalar(x)?, None)?,
        [x, y] => eval_scalar(op, scalar(x)?, Some(scalar(y)?))?,
        _ => return None,
    };
    Some(Tensor::from_scalar(r))
}

/// The elementwise ops the scalar path runs: plain data, unlike an [`Op`], which has a
/// destructor (dropping one was a measurable part of an eager op).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Elementwise {
    Unary(UnaryOp),
    Binary(BinaryOp),
    Compare(CmpOp),
}

impl Elementwise {
    fn of(op: &Op) -> Option<Elementwise> {
        match *op {
            Op::Unary(u) => Some(Elementwise::Unary(u)),
            Op::Binary(b) => Some(Elementwise::Binary(b)),
            Op::Compare(c) => Some(Elementwise::Compare(c)),
            _ => None,
        }
    }
}

/// [`scalar_op`] on the scalars themselves. `eval_*` refuse operands of two dtypes, and the
/// `accepts` checks are the type rule's own.
fn eval_scalar(op: Elementwise, x: Scalar, y: Option<Scalar>) -> Option<Scalar> {
    use crate::ops::scalar::{eval_binary, eval_compare, eval_unary};
    match (op, y) {
        (Elementwise::Binary(b), Some(y)) if b.accepts(x.dtype()) => eval_binary(b, x, y),
        (Elementwise::Compare(c), Some(y)) => eval_compare(c, x, y),
        (Elementwise::Unary(u), None) if u.accepts(x.dtype()) => eval_unary(u, x),
        _ => None,
    }
}

/// The element of an eager operand of rank 0.
fn rank0(a: &Arg<'_, Tensor>) -> Option<Scalar> {
    let t = match a {
        Arg::Ref(t) => *t,
        Arg::Owned(t) => t,
        Arg::Lit(_) | Arg::Tensor(_) => return None,
    };
    if t.shape().is_empty() {
        t.get(0)
    } else {
        None
    }
}

impl Emit for Eager {
    type V = Tensor;
    /// Rank-0 tensors and literals: the literal takes the tensor's dtype by the usual rule,
    /// and the op runs on the two scalars ([`scalar_op`]).
    fn elementwise2(
        &self,
        op: Elementwise,
        a: &Arg<'_, Tensor>,
        b: &Arg<'_, Tensor>,
    ) -> Option<Result<Tensor>> {
        let (x, y) = match (a, b) {
            (t, Arg::Lit(s)) => {
                let x = rank0(t)?;
                (x, promote::literal_as(*s, x.dtype()).ok()?)
            }
            (Arg::Lit(s), t) => {
                let y = rank0(t)?;
                (promote::literal_as(*s, y.dtype()).ok()?, y)
            }
            (a, b) => (rank0(a)?, rank0(b)?),
        };
        // The result's one element is stored inline, so no memory limit applies to it.
        Some(Ok(Tensor::from_scalar(eval_scalar(op, x, Some(y))?)))
    }
    /// An eager constant is the tensor itself: no op runs.
    fn constant(&self, t: Tensor, _loc: Loc) -> Result<Tensor> {
        Ok(t)
    }
    fn ty(v: &Tensor) -> TensorType {
        v.ty()
    }
    fn scope(&self) -> String {
        "eager".to_string()
    }
    fn emit_region(
        &self,
        op: crate::ops::region::RegionOp,
        body: &crate::ops::region::Body,
        args: &[&Tensor],
        loc: Loc,
    ) -> Result<Vec<Tensor>> {
        Ok(region::run_region("eager", &op, body, args, loc)?.1)
    }
    fn emit(
        &self,
        op: Op,
        args: &[&Tensor],
        declared: Option<TensorType>,
        loc: Loc,
    ) -> Result<Tensor> {
        run_op("eager", &op, args, declared, loc)
    }
}

/// An operand of an eager-style op on values of type `V`.
pub enum Arg<'a, V> {
    Ref(&'a V),
    Owned(V),
    /// A Rust literal; it takes the other operand's dtype (see [`Literal`]).
    Lit(Scalar),
    /// A plain tensor next to a traced value: a constant of the trace.
    Tensor(&'a Tensor),
}

/// What may stand next to a value of type `V` in an op.
pub trait IntoArg<'a, V> {
    fn into_arg(self) -> Arg<'a, V>;
}

impl<'a> IntoArg<'a, Tensor> for &'a Tensor {
    fn into_arg(self) -> Arg<'a, Tensor> {
        Arg::Ref(self)
    }
}

impl<'a> IntoArg<'a, Tensor> for Tensor {
    fn into_arg(self) -> Arg<'a, Tensor> {
        Arg::Owned(self)
    }
}

/// Every element type is a literal operand (`x * 2.0`, `x + 1u8`).
impl<'a, V, T: Element> IntoArg<'a, V> for T {
    fn into_arg(self) -> Arg<'a, V> {
        Arg::Lit(self.scalar())
    }
}

/// The operand as a value; a literal becomes a constant of `like`'s dtype.
pub(crate) fn resolve<'a, E: Emit>(
    e: &E,
    arg: Arg<'a, E::V>,
    like: Option<&E::V>,
    op: &str,
    loc: Loc,
) -> Result<Cow<'a, E::V>> {
    Ok(match arg {
        Arg::Ref(v) => {
            e.check_operand(v, op, loc)?;
            Cow::Borrowed(v)
        }
        Arg::Owned(v) => {
            e.check_operand(&v, op, loc)?;
            Cow::Owned(v)
        }
        Arg::Lit(s) => {
            let Some(like) = like else {
                let m = format!("the literal {s} has no tensor operand to take a dtype from");
                return Err(op_error(&e.scope(), op, loc, m));
            };
            let dtype = E::ty(like).dtype;
            let t =
                promote::literal_tensor(s, dtype).map_err(|m| op_error(&e.scope(), op, loc, m))?;
            Cow::Owned(e.constant(t, loc)?)
        }
        Arg::Tensor(t) => Cow::Owned(e.constant(t.clone(), loc)?),
    })
}

/// Checks one dtype (when `same_dtype`) and broadcasts the operands to one shape.
fn unify<'a, E: Emit, const N: usize>(
    e: &E,
    op: &str,
    vals: [Cow<'a, E::V>; N],
    same_dtype: bool,
    loc: Loc,
) -> Result<[Cow<'a, E::V>; N]> {
    // Operands of one type (the common case) need no broadcast, and no list of types.
    let first = vals.first().map(|v| E::ty(v));
    if let Some(first) = first {
        let same = |v: &Cow<'a, E::V>| {
            let t = E::ty(v);
            t.shape == first.shape && (!same_dtype || t.dtype == first.dtype)
        };
        if vals[1..].iter().all(same) {
            return Ok(vals);
        }
    }
    let tys: Vec<TensorType> = vals.iter().map(|v| E::ty(v)).collect();
    let refs: Vec<&TensorType> = tys.iter().collect();
    if same_dtype && tys.windows(2).any(|w| w[0].dtype != w[1].dtype) {
        let m = format!(
            "operands have different dtypes {}; convert one explicitly",
            types_list(&refs)
        );
        return Err(op_error(&e.scope(), op, loc, m));
    }
    let mut shape: Vec<usize> = Vec::new();
    for t in &tys {
        shape = promote::broadcast_shapes(&shape, &t.shape).ok_or_else(|| {
            let m = format!(
                "operand shapes {} do not broadcast together",
                types_list(&refs)
            );
            op_error(&e.scope(), op, loc, m)
        })?;
    }
    let out: Vec<Cow<'a, E::V>> = vals
        .into_iter()
        .zip(&tys)
        .map(|(v, t)| {
            if t.shape == shape {
                return Ok(v);
            }
            let dims = promote::trailing_dims(t.rank(), shape.len());
            let to = TensorType::new(t.dtype, shape.clone());
            Ok(Cow::Owned(e.emit(
                Op::Broadcast { dims },
                &[&v],
                Some(to),
                loc,
            )?))
        })
        .collect::<Result<_>>()?;
    out.try_into()
        .map_err(|_| crate::Error::Internal("unify lost an operand".into()))
}

/// Two resolved operands.
type Pair<'a, V> = (Cow<'a, V>, Cow<'a, V>);

/// Resolves two operands, a literal taking the dtype of the other one.
fn pair<'a, E: Emit>(
    e: &E,
    a: Arg<'a, E::V>,
    b: Arg<'a, E::V>,
    op: &str,
    loc: Loc,
) -> Result<Pair<'a, E::V>> {
    if let Arg::Lit(s) = a {
        let b = resolve(e, b, None, op, loc)?;
        let a = resolve(e, Arg::Lit(s), Some(&b), op, loc)?;
        return Ok((a, b));
    }
    let a = resolve(e, a, None, op, loc)?;
    let b = resolve(e, b, Some(&a), op, loc)?;
    Ok((a, b))
}

pub(crate) fn binary<'a, E: Emit>(
    e: &E,
    op: BinaryOp,
    a: Arg<'a, E::V>,
    b: Arg<'a, E::V>,
    loc: Loc,
) -> Result<E::V> {
    if let Some(r) = e.elementwise2(Elementwise::Binary(op), &a, &b) {
        return r;
    }
    let (a, b) = pair(e, a, b, op.name(), loc)?;
    let v = unify(e, op.name(), [a, b], true, loc)?;
    e.emit(Op::Binary(op), &[&v[0], &v[1]], None, loc)
}

pub(crate) fn compare<'a, E: Emit>(
    e: &E,
    op: CmpOp,
    a: Arg<'a, E::V>,
    b: Arg<'a, E::V>,
    loc: Loc,
) -> Result<E::V> {
    if let Some(r) = e.elementwise2(Elementwise::Compare(op), &a, &b) {
        return r;
    }
    let (a, b) = pair(e, a, b, op.name(), loc)?;
    let v = unify(e, op.name(), [a, b], true, loc)?;
    e.emit(Op::Compare(op), &[&v[0], &v[1]], None, loc)
}

pub(crate) fn select<'a, E: Emit>(
    e: &E,
    pred: &'a E::V,
    a: Arg<'a, E::V>,
    b: Arg<'a, E::V>,
    loc: Loc,
) -> Result<E::V> {
    let pt = E::ty(pred);
    if pt.dtype != DType::Bool {
        let m = format!("the predicate must be bool, got {pt}");
        return Err(op_error(&e.scope(), "select", loc, m));
    }
    let (a, b) = pair(e, a, b, "select", loc)?;
    let (ta, tb) = (E::ty(&a), E::ty(&b));
    if ta.dtype != tb.dtype {
        let m = format!(
            "operands have different dtypes {}; convert one explicitly",
            types_list(&[&pt, &ta, &tb])
        );
        return Err(op_error(&e.scope(), "select", loc, m));
    }
    let v = unify(e, "select", [Cow::Borrowed(pred), a, b], false, loc)?;
    e.emit(Op::Select, &[&v[0], &v[1], &v[2]], None, loc)
}

pub(crate) fn unary<E: Emit>(e: &E, op: UnaryOp, x: &E::V, loc: Loc) -> Result<E::V> {
    e.emit(Op::Unary(op), &[x], None, loc)
}

pub(crate) fn reduce<E: Emit>(
    e: &E,
    op: ReduceOp,
    axes: &[usize],
    x: &E::V,
    loc: Loc,
) -> Result<E::V> {
    let op = Op::Reduce {
        op,
        axes: axes.to_vec(),
    };
    e.emit(op, &[x], None, loc)
}

pub(crate) fn convert<E: Emit>(e: &E, x: &E::V, dtype: DType, loc: Loc) -> Result<E::V> {
    let to = TensorType::new(dtype, E::ty(x).shape);
    e.emit(Op::Convert, &[x], Some(to), loc)
}

pub(crate) fn bitcast_convert<E: Emit>(e: &E, x: &E::V, dtype: DType, loc: Loc) -> Result<E::V> {
    let to = crate::ops::bitcast_type(&E::ty(x), dtype);
    e.emit(Op::BitcastConvert, &[x], Some(to), loc)
}

pub(crate) fn reshape<E: Emit>(e: &E, x: &E::V, shape: Vec<usize>, loc: Loc) -> Result<E::V> {
    let to = TensorType::new(E::ty(x).dtype, shape);
    e.emit(Op::Reshape, &[x], Some(to), loc)
}

pub(crate) fn broadcast_to<E: Emit>(e: &E, x: &E::V, shape: Vec<usize>, loc: Loc) -> Result<E::V> {
    let t = E::ty(x);
    if t.rank() > shape.len() {
        let m = format!("cannot broadcast {t} to a shape of lower rank {shape:?}");
        return Err(op_error(&e.scope(), "broadcast", loc, m));
    }
    let dims = promote::trailing_dims(t.rank(), shape.len());
    let to = TensorType::new(t.dtype, shape);
    e.emit(Op::Broadcast { dims }, &[x], Some(to), loc)
}

/// The methods shared by eager tensors and traced values: every op of the IR without
/// regions. `$emit` is an expression giving the emitter from `self`.
macro_rules! value_methods {
    ($V:ty, $self_:ident => $emit:expr) => {
        /// Any elementwise op of one operand.
        #[track_caller]
        pub fn unary(&$self_, op: UnaryOp) -> Result<$V> {
            crate::eager::unary(&$emit, op, $self_, Location::caller())
        }

        /// Any elementwise op of two operands, with broadcasting and literal promotion.
        #[track_caller]
        pub fn binary<'a>(&'a $self_, op: BinaryOp, rhs: impl IntoArg<'a, $V>) -> Result<$V> {
            let loc = Location::caller();
            crate::eager::binary(&$emit, op, Arg::Ref($self_), rhs.into_arg(), loc)
        }

        /// Any comparison, with broadcasting and literal promotion; the result is `bool`.
        #[track_caller]
        pub fn compare<'a>(&'a $self_, op: CmpOp, rhs: impl IntoArg<'a, $V>) -> Result<$V> {
            let loc = Location::caller();
            crate::eager::compare(&$emit, op, Arg::Ref($self_), rhs.into_arg(), loc)
        }

        /// Elementwise `self ? a : b` for a bool `self`, with broadcasting.
        #[track_caller]
        pub fn select<'a>(
            &'a $self_,
            a: impl IntoArg<'a, $V>,
            b: impl IntoArg<'a, $V>,
        ) -> Result<$V> {
            let loc = Location::caller();
            crate::eager::select(&$emit, $self_, a.into_arg(), b.into_arg(), loc)
        }

        /// A reduction over `axes` (strictly increasing), which disappear from the shape.
        #[track_caller]
        pub fn reduce(&$self_, op: ReduceOp, axes: &[usize]) -> Result<$V> {
            crate::eager::reduce(&$emit, op, axes, $self_, Location::caller())
        }

        /// The index (`i32`) of the largest element along `axis` (`jnp.argmax`: NaN is the
        /// largest, ties give the first index).
        #[track_caller]
        pub fn argmax(&$self_, axis: usize) -> Result<$V> {
            crate::eager::region::arg_best(&$emit, $self_, axis, true, Location::caller())
        }

        /// The index (`i32`) of the smallest element along `axis` (`jnp.argmin`).
        #[track_caller]
        pub fn argmin(&$self_, axis: usize) -> Result<$V> {
            crate::eager::region::arg_best(&$emit, $self_, axis, false, Location::caller())
        }

        /// The elements sorted along `axis` in the total order (NaN last ascending), stably.
        #[track_caller]
        pub fn sort(&$self_, axis: usize, descending: bool) -> Result<$V> {
            crate::eager::region::sorted(&$emit, $self_, axis, descending, false, Location::caller())
        }

        /// The indices (`i32`) that sort the elements along `axis` (stable, total order).
        #[track_caller]
        pub fn argsort(&$self_, axis: usize, descending: bool) -> Result<$V> {
            crate::eager::region::sorted(&$emit, $self_, axis, descending, true, Location::caller())
        }

        /// The running sum along `axis` (`jnp.cumsum`), added in index order.
        #[track_caller]
        pub fn cumsum(&$self_, axis: usize) -> Result<$V> {
            let (op, k) = (BinaryOp::Add, ReduceOp::Sum);
            crate::eager::region::cumulative(&$emit, $self_, axis, op, k, Location::caller())
        }

        /// The running maximum along `axis` (NaN propagates).
        #[track_caller]
        pub fn cummax(&$self_, axis: usize) -> Result<$V> {
            let (op, k) = (BinaryOp::Max, ReduceOp::Max);
            crate::eager::region::cumulative(&$emit, $self_, axis, op, k, Location::caller())
        }

        /// The running product along `axis`, multiplied in index order.
        #[track_caller]
        pub fn cumprod(&$self_, axis: usize) -> Result<$V> {
            let (op, k) = (BinaryOp::Mul, ReduceOp::Prod);
            crate::eager::region::cumulative(&$emit, $self_, axis, op, k, Location::caller())
        }

        /// The running minimum along `axis` (NaN propagates).
        #[track_caller]
        pub fn cummin(&$self_, axis: usize) -> Result<$V> {
            let (op, k) = (BinaryOp::Min, ReduceOp::Min);
            crate::eager::region::cumulative(&$emit, $self_, axis, op, k, Location::caller())
        }

        /// `x.at[i].add(v)`: a scalar or vector `i` of indices into dimension 0 (negative
        /// ones count from the end, others out of range are dropped); repeats add up.
        #[track_caller]
        pub fn at_add(&$self_, i: &$V, v: &$V) -> Result<$V> {
            let body = crate::ops::region::Body::fold(BinaryOp::Add, $self_.ty().dtype);
            crate::eager::region::at(&$emit, $self_, i, v, &body, Location::caller())
        }

        /// `x.at[i].set(v)`: as [`Self::at_add`], and the last of repeated indices wins.
        #[track_caller]
        pub fn at_set(&$self_, i: &$V, v: &$V) -> Result<$V> {
            let body = crate::ops::region::Body::replace($self_.ty().dtype);
            crate::eager::region::at(&$emit, $self_, i, v, &body, Location::caller())
        }

        /// Converts every element to `dtype`.
        #[track_caller]
        pub fn convert(&$self_, dtype: DType) -> Result<$V> {
            crate::eager::convert(&$emit, $self_, dtype, Location::caller())
        }

        /// Reinterprets the bits of every element as `dtype`; between widths the last
        /// dimension grows or shrinks (see [`Op::BitcastConvert`]).
        #[track_caller]
        pub fn bitcast_convert(&$self_, dtype: DType) -> Result<$V> {
            crate::eager::bitcast_convert(&$emit, $self_, dtype, Location::caller())
        }

        /// The same elements with a new shape of equal element count.
        #[track_caller]
        pub fn reshape(&$self_, shape: impl Into<Vec<usize>>) -> Result<$V> {
            crate::eager::reshape(&$emit, $self_, shape.into(), Location::caller())
        }

        /// Stretches to `shape` under NumPy's rule.
        #[track_caller]
        pub fn broadcast_to(&$self_, shape: impl Into<Vec<usize>>) -> Result<$V> {
            crate::eager::broadcast_to(&$emit, $self_, shape.into(), Location::caller())
        }

        /// Result dimension `i` is dimension `perm[i]`.
        #[track_caller]
        pub fn transpose(&$self_, perm: &[usize]) -> Result<$V> {
            let op = Op::Transpose { perm: perm.to_vec() };
            $emit.emit(op, &[$self_], None, Location::caller())
        }

        /// The elements `start[d] + k * stride[d] < limit[d]` of each dimension `d`.
        #[track_caller]
        pub fn slice(&$self_, start: &[usize], limit: &[usize], stride: &[usize]) -> Result<$V> {
            let op = Op::Slice {
                start: start.to_vec(),
                limit: limit.to_vec(),
                stride: stride.to_vec(),
            };
            $emit.emit(op, &[$self_], None, Location::caller())
        }

        /// StableHLO's `clamp(lo, self, hi)`: `min(max(self, lo), hi)` elementwise; `lo`
        /// and `hi` have this value's type or are scalars of its dtype.
        #[track_caller]
        pub fn clamp(&$self_, lo: &$V, hi: &$V) -> Result<$V> {
            $emit.emit(Op::Clamp, &[lo, $self_, hi], None, Location::caller())
        }

        /// StableHLO's `reverse`: the elements along each of `dims` in reverse order.
        #[track_caller]
        pub fn reverse(&$self_, dims: &[usize]) -> Result<$V> {
            let op = Op::Reverse { dims: dims.to_vec() };
            $emit.emit(op, &[$self_], None, Location::caller())
        }

        /// StableHLO's `dynamic_slice`: the window of shape `sizes` at the runtime `starts`
        /// (one scalar integer per dimension, each clamped to `[0, dim - size]`).
        #[track_caller]
        pub fn dynamic_slice(&$self_, starts: &[&$V], sizes: &[usize]) -> Result<$V> {
            let mut args = vec![$self_];
            args.extend_from_slice(starts);
            let op = Op::DynamicSlice { sizes: sizes.to_vec() };
            $emit.emit(op, &args, None, Location::caller())
        }

        /// StableHLO's `dynamic_update_slice`: a copy with the window at the (clamped)
        /// `starts` replaced by `update`.
        #[track_caller]
        pub fn dynamic_update_slice(&$self_, update: &$V, starts: &[&$V]) -> Result<$V> {
            let mut args = vec![$self_, update];
            args.extend_from_slice(starts);
            $emit.emit(Op::DynamicUpdateSlice, &args, None, Location::caller())
        }

        /// Matrix product `[m,k] x [k,n]`, or matrix-vector `[m,k] x [k]`.
        #[track_caller]
        pub fn dot(&$self_, rhs: &$V) -> Result<$V> {
            $emit.emit(Op::Dot, &[$self_, rhs], None, Location::caller())
        }

        crate::eager::value_methods!(@unary $V, $self_ => $emit;
            abs Abs, exp Exp, log Log, sqrt Sqrt, tanh Tanh, sin Sin, cos Cos,
            floor Floor, ceil Ceil, round Round);
        crate::eager::value_methods!(@binary $V, $self_ => $emit;
            min Min, max Max, pow Pow, and And, or Or, xor Xor,
            shr_logical ShrLogical, shr_arith ShrArith);
        crate::eager::value_methods!(@compare $V, $self_ => $emit;
            equal Eq, not_equal Ne, lt Lt, le Le, gt Gt, ge Ge);
        crate::eager::value_methods!(@reduce $V, $self_ => $emit;
            sum Sum, prod Prod, reduce_min Min, reduce_max Max, all And, any Or);
        crate::eager_more::more_value_methods!($V, $self_ => $emit);
    };
    (@unary $V:ty, $self_:ident => $emit:expr; $($name:ident $op:ident),*) => {
        $(#[doc = concat!("Elementwise `", stringify!($name), "`.")]
        #[track_caller]
        pub fn $name(&$self_) -> Result<$V> {
            crate::eager::unary(&$emit, UnaryOp::$op, $self_, Location::caller())
        })*
    };
    (@binary $V:ty, $self_:ident => $emit:expr; $($name:ident $op:ident),*) => {
        $(#[doc = concat!("Elementwise `", stringify!($name), "` with broadcasting and literal promotion.")]
        #[track_caller]
        pub fn $name<'a>(&'a $self_, rhs: impl IntoArg<'a, $V>) -> Result<$V> {
            let loc = Location::caller();
            crate::eager::binary(&$emit, BinaryOp::$op, Arg::Ref($self_), rhs.into_arg(), loc)
        })*
    };
    (@compare $V:ty, $self_:ident => $emit:expr; $($name:ident $op:ident),*) => {
        $(#[doc = concat!("Elementwise comparison `", stringify!($op), "` with broadcasting; the result is `bool`.")]
        #[track_caller]
        pub fn $name<'a>(&'a $self_, rhs: impl IntoArg<'a, $V>) -> Result<$V> {
            let loc = Location::caller();
            crate::eager::compare(&$emit, CmpOp::$op, Arg::Ref($self_), rhs.into_arg(), loc)
        })*
    };
    (@reduce $V:ty, $self_:ident => $emit:expr; $($name:ident $op:ident),*) => {
        $(#[doc = concat!("`reduce.", stringify!($op), "` over `axes`.")]
        #[track_caller]
        pub fn $name(&$self_, axes: &[usize]) -> Result<$V> {
            crate::eager::reduce(&$emit, ReduceOp::$op, axes, $self_, Location::caller())
        })*
    };
}

pub(crate) use value_methods;

/// The Rust operators on values: `&a + &b`, `&a * 2.0`, `2 - &a`, `-&a`, `!&a`, for
/// references and owned values, each giving a `Result`.
macro_rules! value_operators {
    ($V:ty, $x:ident => $emit:expr) => {
        crate::eager::value_operators!(@bin $V, $x => $emit;
            Add add Add, Sub sub Sub, Mul mul Mul, Div div Div, Rem rem Rem,
            BitAnd bitand And, BitOr bitor Or, BitXor bitxor Xor, Shl shl Shl);
        crate::eager::value_operators!(@un $V, $x => $emit; Neg neg Neg, Not not Not);
    };
    (@un $V:ty, $x:ident => $emit:expr; $($Trait:ident $method:ident $op:ident),*) => {
        $(
        impl std::ops::$Trait for &$V {
            type Output = Result<$V>;
            #[track_caller]
            fn $method(self) -> Result<$V> {
                let $x = self;
                crate::eager::unary(&$emit, UnaryOp::$op, $x, Location::caller())
            }
        }

        impl std::ops::$Trait for $V {
            type Output = Result<$V>;
            #[track_caller]
            fn $method(self) -> Result<$V> {
                let $x = &self;
                crate::eager::unary(&$emit, UnaryOp::$op, $x, Location::caller())
            }
        }
        )*
    };
    (@bin $V:ty, $x:ident => $emit:expr; $($Trait:ident $method:ident $op:ident),*) => {
        $(
        impl<'a, R: IntoArg<'a, $V>> std::ops::$Trait<R> for &'a $V {
            type Output = Result<$V>;
            #[track_caller]
            fn $method(self, rhs: R) -> Result<$V> {
                let $x = self;
                let loc = Location::caller();
                crate::eager::binary(&$emit, BinaryOp::$op, Arg::Ref($x), rhs.into_arg(), loc)
            }
        }

        impl<'a, R: IntoArg<'a, $V>> std::ops::$Trait<R> for $V {
            type Output = Result<$V>;
            #[track_caller]
            fn $method(self, rhs: R) -> Result<$V> {
                let $x = &self;
                let loc = Location::caller();
                crate::eager::binary(&$emit, BinaryOp::$op, Arg::Ref($x), rhs.into_arg(), loc)
            }
        }

        crate::eager::value_operators!(@lit $V, $x => $emit; $Trait $method $op; i32, f64, bool);
        )*
    };
    // Literals on the left are `i32`, `f64` and `bool` only: with more than one integer or
    // float type, `1 - &x` would leave Rust unable to infer the literal's type.
    (@lit $V:ty, $x:ident => $emit:expr; $Trait:ident $method:ident $op:ident; $($t:ty),*) => {
        $(impl std::ops::$Trait<&$V> for $t {
            type Output = Result<$V>;
            #[track_caller]
            fn $method(self, rhs: &$V) -> Result<$V> {
                let $x = rhs;
                let loc = Location::caller();
                let lit = Arg::Lit(crate::graph::promote::Literal::scalar(self));
                crate::eager::binary(&$emit, BinaryOp::$op, lit, Arg::Ref($x), loc)
            }
        })*
    };
}

pub(crate) use value_operators;

impl Tensor {
    value_methods!(Tensor, self => Eager);

    /// The single element of a one-element tensor as a `T`, or an error saying why not (its
    /// dtype is not `T`'s, or it has another number of elements).
    #[track_caller]
    pub fn to_scalar<T: Element>(&self) -> Result<T> {
        scalar_of(self, "eager", Location::caller())
    }

    /// The truth of a one-element `bool` tensor: `to_scalar::<bool>()`.
    #[track_caller]
    pub fn to_bool(&self) -> Result<bool> {
        scalar_of(self, "eager", Location::caller())
    }

    /// PyTorch's name for [`Tensor::to_scalar`]: `while a.lt(&b)?.item::<bool>()? { .. }`.
    #[track_caller]
    pub fn item<T: Element>(&self) -> Result<T> {
        scalar_of(self, "eager", Location::caller())
    }
}

value_operators!(Tensor, x => Eager);

/// The element of a one-element tensor, for `to_scalar` of eager and traced values.
pub(crate) fn scalar_of<T: Element>(t: &Tensor, scope: &str, loc: Loc) -> Result<T> {
    // The op's name is formatted only for an error: this runs on every `while` test.
    let what = || format!("to_scalar::<{}>", T::DTYPE);
    if t.len() != 1 {
        let m = format!("needs a tensor of one element, got {}", t.ty());
        return Err(op_error(scope, &what(), loc, m));
    }
    t.get_item::<T>().ok_or_else(|| {
        let m = format!("needs a {} tensor, got {}", T::DTYPE, t.ty());
        op_error(scope, &what(), loc, m)
    })
}
