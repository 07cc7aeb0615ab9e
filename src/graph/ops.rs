//! The ops of the builder: methods on [`Var`] and the Rust operators, with broadcasting and
//! literal promotion lowered to explicit IR ops.

use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Neg, Not, Rem, Shl, Sub};
use std::panic::Location;

use super::promote::{self, Literal};
use super::{Graph, Var};
use crate::ops::{BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use crate::tensor::{Element, Scalar};
use crate::types::{DType, TensorType};

/// An operand of a builder op: a [`Var`] or a Rust literal.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'g> {
    Var(Var<'g>),
    /// Becomes a constant of the other operand's dtype (see [`Literal`]).
    Lit(Scalar),
}

/// What may stand next to a [`Var`] in an op: another `Var` or a Rust literal (`bool`, `i32`,
/// `i64`, `f32`, `f64`).
pub trait Operand<'g> {
    fn into_arg(self) -> Arg<'g>;
}

impl<'g> Operand<'g> for Var<'g> {
    fn into_arg(self) -> Arg<'g> {
        Arg::Var(self)
    }
}

impl<'g> Operand<'g> for &Var<'g> {
    fn into_arg(self) -> Arg<'g> {
        Arg::Var(*self)
    }
}

/// Every element type is a literal operand (`x * 2.0`, `x + 1u8`).
impl<'g, T: Element> Operand<'g> for T {
    fn into_arg(self) -> Arg<'g> {
        Arg::Lit(self.scalar())
    }
}

/// The operand as a value: a literal becomes a rank-0 constant of `like`'s dtype.
fn resolve<'g>(
    arg: Arg<'g>,
    graph: &'g Graph,
    like: Var<'g>,
    op: &str,
    loc: &'static Location<'static>,
) -> Var<'g> {
    match arg {
        Arg::Var(v) => v,
        Arg::Lit(s) => literal_var(graph, s, like, op, loc),
    }
}

/// A literal next to a value becomes a rank-0 constant of that value's dtype.
fn literal_var<'g>(
    graph: &'g Graph,
    s: Scalar,
    like: Var<'g>,
    op: &str,
    loc: &'static Location<'static>,
) -> Var<'g> {
    let Some(dtype) = like.dtype() else {
        return Var { graph, value: None };
    };
    match promote::literal_tensor(s, dtype) {
        Ok(t) => graph.emit(Op::Const(t), &[], Some(TensorType::scalar(dtype)), loc),
        Err(m) => graph.state.borrow_mut().fail(graph, op, loc, m),
    }
}

/// Stretches `v` to `shape` under NumPy's rule, emitting a `broadcast` only when needed.
fn stretch<'g>(v: Var<'g>, shape: &[usize], loc: &'static Location<'static>) -> Var<'g> {
    let Some(ty) = v.ty() else { return v };
    if ty.shape == shape {
        return v;
    }
    let dims = promote::trailing_dims(ty.rank(), shape.len());
    let to = TensorType::new(ty.dtype, shape.to_vec());
    v.graph.emit(Op::Broadcast { dims }, &[v], Some(to), loc)
}

/// Brings operands to one dtype check and one broadcast shape; `None` when one is poisoned
/// or they do not fit (the error is recorded).
fn unify<'g>(
    graph: &'g Graph,
    op: &str,
    vars: &[Var<'g>],
    same_dtype: bool,
    loc: &'static Location<'static>,
) -> Option<Vec<Var<'g>>> {
    let mut tys = Vec::with_capacity(vars.len());
    for v in vars {
        if !std::ptr::eq(v.graph, graph) {
            graph.state.borrow_mut().fail(
                graph,
                op,
                loc,
                "an operand belongs to another graph".into(),
            );
            return None;
        }
        tys.push(v.ty()?);
    }
    let refs: Vec<&TensorType> = tys.iter().collect();
    if same_dtype && tys.windows(2).any(|w| w[0].dtype != w[1].dtype) {
        let m = format!(
            "operands have different dtypes {}; convert one explicitly",
            promote::types_list(&refs)
        );
        graph.state.borrow_mut().fail(graph, op, loc, m);
        return None;
    }
    let mut shape: Vec<usize> = Vec::new();
    for t in &tys {
        match promote::broadcast_shapes(&shape, &t.shape) {
            Some(s) => shape = s,
            None => {
                let m = format!(
                    "operand shapes {} do not broadcast together",
                    promote::types_list(&refs)
                );
                graph.state.borrow_mut().fail(graph, op, loc, m);
                return None;
            }
        }
    }
    Some(vars.iter().map(|&v| stretch(v, &shape, loc)).collect())
}

/// A binary op with broadcasting.
fn binary<'g>(
    a: Var<'g>,
    b: impl Operand<'g>,
    op: BinaryOp,
    loc: &'static Location<'static>,
) -> Var<'g> {
    let g = a.graph;
    let b = resolve(b.into_arg(), g, a, op.name(), loc);
    match unify(g, op.name(), &[a, b], true, loc) {
        Some(v) => g.emit(Op::Binary(op), &v, None, loc),
        None => Var {
            graph: g,
            value: None,
        },
    }
}

/// A binary op with a literal on the left (`2.0 * a`).
fn binary_lit<'g>(s: Scalar, b: Var<'g>, op: BinaryOp, loc: &'static Location<'static>) -> Var<'g> {
    let a = literal_var(b.graph, s, b, op.name(), loc);
    binary(a, b, op, loc)
}

fn compare<'g>(
    a: Var<'g>,
    b: impl Operand<'g>,
    op: CmpOp,
    loc: &'static Location<'static>,
) -> Var<'g> {
    let g = a.graph;
    let b = resolve(b.into_arg(), g, a, op.name(), loc);
    match unify(g, op.name(), &[a, b], true, loc) {
        Some(v) => g.emit(Op::Compare(op), &v, None, loc),
        None => Var {
            graph: g,
            value: None,
        },
    }
}

pub(super) fn select<'g>(
    g: &'g Graph,
    pred: Var<'g>,
    a: impl Operand<'g>,
    b: impl Operand<'g>,
    loc: &'static Location<'static>,
) -> Var<'g> {
    // A literal takes the dtype of the other branch; two literals cannot pick one.
    let (a, b) = match (a.into_arg(), b.into_arg()) {
        (Arg::Var(a), b) => (a, resolve(b, g, a, "select", loc)),
        (a, Arg::Var(b)) => (resolve(a, g, b, "select", loc), b),
        (Arg::Lit(_), Arg::Lit(_)) => {
            let m = "both branches are literals, so their dtype is unknown; make one a constant"
                .to_string();
            return g.state.borrow_mut().fail(g, "select", loc, m);
        }
    };
    if pred.dtype().is_some_and(|d| d != DType::Bool) {
        let m = format!(
            "the predicate must be bool, got {}",
            pred.ty().map(|t| t.to_string()).unwrap_or_default()
        );
        return g.state.borrow_mut().fail(g, "select", loc, m);
    }
    let Some(branches) = unify(g, "select", &[a, b], true, loc) else {
        return Var {
            graph: g,
            value: None,
        };
    };
    match unify(g, "select", &[pred, branches[0], branches[1]], false, loc) {
        Some(v) => g.emit(Op::Select, &v, None, loc),
        None => Var {
            graph: g,
            value: None,
        },
    }
}

macro_rules! unary_methods {
    ($($(#[$m:meta])* $name:ident => $op:ident;)*) => {
        $($(#[$m])*
        #[track_caller]
        pub fn $name(self) -> Var<'g> {
            self.unary(UnaryOp::$op)
        })*
    };
}

macro_rules! binary_methods {
    ($($(#[$m:meta])* $name:ident => $op:ident;)*) => {
        $($(#[$m])*
        #[track_caller]
        pub fn $name(self, rhs: impl Operand<'g>) -> Var<'g> {
            binary(self, rhs, BinaryOp::$op, Location::caller())
        })*
    };
}

macro_rules! compare_methods {
    ($($name:ident => $op:ident;)*) => {
        $(#[doc = concat!("Elementwise `", stringify!($name), "` with broadcasting; the result is `bool`.")]
        #[track_caller]
        pub fn $name(self, rhs: impl Operand<'g>) -> Var<'g> {
            compare(self, rhs, CmpOp::$op, Location::caller())
        })*
    };
}

macro_rules! reduce_methods {
    ($($name:ident => $op:ident;)*) => {
        $(#[doc = concat!("`reduce.", stringify!($op), "` over `axes` (strictly increasing).")]
        #[track_caller]
        pub fn $name(self, axes: &[usize]) -> Var<'g> {
            self.reduce(ReduceOp::$op, axes)
        })*
    };
}

impl<'g> Var<'g> {
    /// Any elementwise op of one operand.
    #[track_caller]
    pub fn unary(self, op: UnaryOp) -> Var<'g> {
        self.graph
            .emit(Op::Unary(op), &[self], None, Location::caller())
    }

    /// Any elementwise op of two operands, with broadcasting and literal promotion.
    #[track_caller]
    pub fn binary(self, op: BinaryOp, rhs: impl Operand<'g>) -> Var<'g> {
        binary(self, rhs, op, Location::caller())
    }

    /// Any comparison, with broadcasting and literal promotion.
    #[track_caller]
    pub fn compare(self, op: CmpOp, rhs: impl Operand<'g>) -> Var<'g> {
        compare(self, rhs, op, Location::caller())
    }

    unary_methods! {
        /// Absolute value (integer MIN stays MIN).
        abs => Abs;
        /// `e^x` (floats).
        exp => Exp;
        /// Natural logarithm (floats).
        log => Log;
        /// Square root (floats).
        sqrt => Sqrt;
        /// Hyperbolic tangent (floats).
        tanh => Tanh;
        /// Sine (floats).
        sin => Sin;
        /// Cosine (floats).
        cos => Cos;
        /// Round toward -inf (floats).
        floor => Floor;
        /// Round toward +inf (floats).
        ceil => Ceil;
        /// Round half to even (floats).
        round => Round;
    }

    binary_methods! {
        /// Elementwise minimum (IEEE `minimum` for floats).
        min => Min;
        /// Elementwise maximum (IEEE `maximum` for floats).
        max => Max;
        /// `self ^ rhs` for floats (C `pow`).
        pow => Pow;
        /// Logical (bool) or bitwise (int) and; also the `&` operator.
        and => And;
        /// Logical (bool) or bitwise (int) or; also the `|` operator.
        or => Or;
        /// Logical (bool) or bitwise (int) exclusive or; also the `^` operator.
        xor => Xor;
        /// Logical right shift (zeros come in); the amount is read as unsigned.
        shr_logical => ShrLogical;
        /// Arithmetic right shift (the sign comes in); the amount is read as unsigned.
        shr_arith => ShrArith;
    }

    compare_methods! {
        equal => Eq;
        not_equal => Ne;
        lt => Lt;
        le => Le;
        gt => Gt;
        ge => Ge;
    }

    reduce_methods! {
        sum => Sum;
        prod => Prod;
        reduce_min => Min;
        reduce_max => Max;
        all => And;
        any => Or;
    }

    /// A reduction over `axes` (strictly increasing), which disappear from the shape.
    #[track_caller]
    pub fn reduce(self, op: ReduceOp, axes: &[usize]) -> Var<'g> {
        let op = Op::Reduce {
            op,
            axes: axes.to_vec(),
        };
        self.graph.emit(op, &[self], None, Location::caller())
    }

    /// Converts every element to `dtype` (the conversion rules are in [`crate::ops::scalar`]).
    #[track_caller]
    pub fn convert(self, dtype: DType) -> Var<'g> {
        let loc = Location::caller();
        match self.shape() {
            Some(shape) => {
                let to = TensorType::new(dtype, shape);
                self.graph.emit(Op::Convert, &[self], Some(to), loc)
            }
            None => self,
        }
    }

    /// Reinterprets the bits of every element as `dtype`; between widths the last dimension
    /// grows or shrinks (see [`Op::BitcastConvert`]).
    #[track_caller]
    pub fn bitcast_convert(self, dtype: DType) -> Var<'g> {
        let loc = Location::caller();
        match self.ty() {
            Some(ty) => {
                let to = crate::ops::bitcast_type(&ty, dtype);
                self.graph.emit(Op::BitcastConvert, &[self], Some(to), loc)
            }
            None => self,
        }
    }

    /// The same elements in row-major order with a new shape of equal element count.
    #[track_caller]
    pub fn reshape(self, shape: impl Into<Vec<usize>>) -> Var<'g> {
        let loc = Location::caller();
        let shape = shape.into();
        match self.dtype() {
            Some(d) => {
                let to = TensorType::new(d, shape);
                self.graph.emit(Op::Reshape, &[self], Some(to), loc)
            }
            None => self,
        }
    }

    /// Result dimension `i` is dimension `perm[i]` of `self`.
    #[track_caller]
    pub fn transpose(self, perm: &[usize]) -> Var<'g> {
        let op = Op::Transpose {
            perm: perm.to_vec(),
        };
        self.graph.emit(op, &[self], None, Location::caller())
    }

    /// The elements `start[d] + k * stride[d] < limit[d]` of each dimension `d`.
    #[track_caller]
    pub fn slice(self, start: &[usize], limit: &[usize], stride: &[usize]) -> Var<'g> {
        let op = Op::Slice {
            start: start.to_vec(),
            limit: limit.to_vec(),
            stride: stride.to_vec(),
        };
        self.graph.emit(op, &[self], None, Location::caller())
    }

    /// Stretches `self` to `shape` under NumPy's rule (trailing dimensions aligned, size-1
    /// dimensions repeated).
    #[track_caller]
    pub fn broadcast_to(self, shape: impl Into<Vec<usize>>) -> Var<'g> {
        let loc = Location::caller();
        let shape = shape.into();
        let Some(ty) = self.ty() else { return self };
        if ty.rank() > shape.len() {
            let m = format!("cannot broadcast {ty} to a shape of lower rank {:?}", shape);
            return self
                .graph
                .state
                .borrow_mut()
                .fail(self.graph, "broadcast", loc, m);
        }
        let dims = promote::trailing_dims(ty.rank(), shape.len());
        self.broadcast_in_dim(shape, &dims, loc)
    }

    /// XLA's `broadcast_in_dim`: dimension `i` of `self` becomes dimension `dims[i]` of the
    /// result of shape `shape`.
    #[track_caller]
    pub fn broadcast_dims(self, shape: impl Into<Vec<usize>>, dims: &[usize]) -> Var<'g> {
        self.broadcast_in_dim(shape.into(), dims, Location::caller())
    }

    fn broadcast_in_dim(
        self,
        shape: Vec<usize>,
        dims: &[usize],
        loc: &'static Location<'static>,
    ) -> Var<'g> {
        let Some(d) = self.dtype() else { return self };
        let to = TensorType::new(d, shape);
        let op = Op::Broadcast {
            dims: dims.to_vec(),
        };
        self.graph.emit(op, &[self], Some(to), loc)
    }

    /// Matrix product `[m,k] x [k,n]`, or matrix-vector `[m,k] x [k]`.
    #[track_caller]
    pub fn dot(self, rhs: Var<'g>) -> Var<'g> {
        self.graph
            .emit(Op::Dot, &[self, rhs], None, Location::caller())
    }

    /// Elementwise `self ? a : b` for a bool `self`; see [`Graph::select`].
    #[track_caller]
    pub fn select(self, a: impl Operand<'g>, b: impl Operand<'g>) -> Var<'g> {
        select(self.graph, self, a, b, Location::caller())
    }
}

macro_rules! operator {
    ($Trait:ident, $method:ident, $op:ident) => {
        impl<'g, R: Operand<'g>> $Trait<R> for Var<'g> {
            type Output = Var<'g>;
            #[track_caller]
            fn $method(self, rhs: R) -> Var<'g> {
                binary(self, rhs, BinaryOp::$op, Location::caller())
            }
        }
        impl<'g, R: Operand<'g>> $Trait<R> for &Var<'g> {
            type Output = Var<'g>;
            #[track_caller]
            fn $method(self, rhs: R) -> Var<'g> {
                binary(*self, rhs, BinaryOp::$op, Location::caller())
            }
        }
        // Literals on the left are `i32`, `f64` and `bool` only: with more than one integer
        // or float type, `1 - x` would leave Rust unable to infer the literal's type.
        operator!(@lit $Trait, $method, $op, bool, i32, f64);
    };
    (@lit $Trait:ident, $method:ident, $op:ident, $($t:ty),*) => {
        $(impl<'g> $Trait<Var<'g>> for $t {
            type Output = Var<'g>;
            #[track_caller]
            fn $method(self, rhs: Var<'g>) -> Var<'g> {
                binary_lit(self.scalar(), rhs, BinaryOp::$op, Location::caller())
            }
        })*
    };
}

operator!(Add, add, Add);
operator!(Sub, sub, Sub);
operator!(Mul, mul, Mul);
operator!(Div, div, Div);
operator!(Rem, rem, Rem);
operator!(BitAnd, bitand, And);
operator!(BitOr, bitor, Or);
operator!(BitXor, bitxor, Xor);
operator!(Shl, shl, Shl);

impl<'g> Neg for Var<'g> {
    type Output = Var<'g>;
    #[track_caller]
    fn neg(self) -> Var<'g> {
        self.graph
            .emit(Op::Unary(UnaryOp::Neg), &[self], None, Location::caller())
    }
}

impl<'g> Not for Var<'g> {
    type Output = Var<'g>;
    /// Logical not of a bool, bitwise not of an integer.
    #[track_caller]
    fn not(self) -> Var<'g> {
        self.graph
            .emit(Op::Unary(UnaryOp::Not), &[self], None, Location::caller())
    }
}
