//! From an op and a dtype to the typed function: the visitor traits, the per-dtype op tables of
//! [`Elem`], and the run-time dtype dispatch ([`with_dtype`], [`with_convert`]).

use super::{
    cmp_eq, cmp_ge, cmp_gt, cmp_le, cmp_lt, cmp_ne, Arith, CastTo, FloatOps, Logic, Shift,
};
use crate::ops::{BinaryOp, CmpOp, ReduceOp, UnaryOp};
use crate::tensor::{Element, Scalar};
use crate::types::DType;

// ---------------------------------------------------------------------------------------------
// Dispatch: from an op and a dtype to the typed function, handed to a visitor.
// ---------------------------------------------------------------------------------------------

/// Receives the function of one unary op on `T`, as a zero-sized function item.
#[doc(hidden)]
pub trait UnaryVisitor<T> {
    type Out;
    fn visit<F: Fn(T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> Self::Out;
}

/// Receives the function of one binary op (or reduce combiner) on `T`.
#[doc(hidden)]
pub trait BinaryVisitor<T> {
    type Out;
    fn visit<F: Fn(T, T) -> T + Copy + Send + Sync + 'static>(self, f: F) -> Self::Out;
}

/// Receives the function of one comparison on `T`.
#[doc(hidden)]
pub trait CompareVisitor<T> {
    type Out;
    fn visit<F: Fn(T, T) -> bool + Copy + Send + Sync + 'static>(self, f: F) -> Self::Out;
}

/// Receives an element type chosen at run time from a [`DType`].
#[doc(hidden)]
pub trait DTypeVisitor {
    type Out;
    fn visit<T: Elem>(self) -> Self::Out;
}

/// Receives a source and a destination element type for a conversion.
#[doc(hidden)]
pub trait ConvertVisitor {
    type Out;
    fn visit<S: Elem + CastTo<D>, D: Elem>(self) -> Self::Out;
}

macro_rules! define_elem {
    (; $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        /// An element type with its op tables: which ops it accepts and their typed functions.
        /// It converts to every dtype ([`CastTo`] for each row of the dtype table).
        pub trait Elem: Element + PartialOrd $(+ CastTo<$rt>)* {
            define_elem!(@methods);
        }
    };
    (@methods) => {
    /// The element's bits in a `u64` register (zero-extended; `bool` is 0 or 1), used by the
    /// interpreter's scalar registers.
    fn to_reg(self) -> u64;
    /// Reads a value written by [`Elem::to_reg`].
    fn from_reg(r: u64) -> Self;
    /// Hands the function of `op` on this dtype to `v`; `None` when `op` is not defined on it.
    fn unary<V: UnaryVisitor<Self>>(op: UnaryOp, v: V) -> Option<V::Out>;
    /// Hands the function of `op` on this dtype to `v`; `None` when `op` is not defined on it.
    fn binary<V: BinaryVisitor<Self>>(op: BinaryOp, v: V) -> Option<V::Out>;
    /// Hands the combining function of a reduction to `v`; `None` when not defined.
    fn reduce<V: BinaryVisitor<Self>>(op: ReduceOp, v: V) -> Option<V::Out>;
    /// The identity a reduction's accumulators start from; `None` when not defined.
    fn reduce_identity(op: ReduceOp) -> Option<Self>;
    /// The matrix product of row-major `a` (`[m,k]`) and `b` (`[k,n]`) in this dtype's
    /// documented order (see [`crate::ops::kernels`]); `None` on `bool` or when a length does
    /// not fit the shape.
    fn dot(a: &[Self], b: &[Self], m: usize, k: usize, n: usize) -> Option<Vec<Self>>;
    };
}

crate::for_each_dtype!(define_elem!());

fn arith_unary<T: Arith, V: UnaryVisitor<T>>(op: UnaryOp, v: V) -> Option<V::Out> {
    match op {
        UnaryOp::Neg => Some(v.visit(T::neg)),
        UnaryOp::Abs => Some(v.visit(T::abs)),
        _ => None,
    }
}

fn float_unary<T: FloatOps, V: UnaryVisitor<T>>(op: UnaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        UnaryOp::Exp => v.visit(T::exp),
        UnaryOp::Log => v.visit(T::log),
        UnaryOp::Sqrt => v.visit(T::sqrt),
        UnaryOp::Tanh => v.visit(T::tanh),
        UnaryOp::Sin => v.visit(T::sin),
        UnaryOp::Cos => v.visit(T::cos),
        UnaryOp::Floor => v.visit(T::floor),
        UnaryOp::Ceil => v.visit(T::ceil),
        UnaryOp::Round => v.visit(T::round),
        UnaryOp::Neg | UnaryOp::Abs => return arith_unary(op, v),
        _ => return crate::ops::math::float_unary(op, v),
    })
}

fn arith_binary<T: Arith, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        BinaryOp::Add => v.visit(T::add),
        BinaryOp::Sub => v.visit(T::sub),
        BinaryOp::Mul => v.visit(T::mul),
        BinaryOp::Div => v.visit(T::div),
        BinaryOp::Rem => v.visit(T::rem),
        BinaryOp::Min => v.visit(T::min),
        BinaryOp::Max => v.visit(T::max),
        _ => return None,
    })
}

fn logic_binary<T: Logic, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    Some(match op {
        BinaryOp::And => v.visit(T::and),
        BinaryOp::Or => v.visit(T::or),
        BinaryOp::Xor => v.visit(T::xor),
        _ => return None,
    })
}

fn int_binary<T: Arith + Logic + Shift, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    match op {
        BinaryOp::Shl => Some(v.visit(T::shl)),
        BinaryOp::ShrLogical => Some(v.visit(T::shr_logical)),
        BinaryOp::ShrArith => Some(v.visit(T::shr_arith)),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => logic_binary(op, v),
        _ => arith_binary(op, v),
    }
}

fn float_binary<T: FloatOps, V: BinaryVisitor<T>>(op: BinaryOp, v: V) -> Option<V::Out> {
    match op {
        BinaryOp::Pow => Some(v.visit(T::pow)),
        BinaryOp::Atan2 => crate::ops::math::float_binary(op, v),
        _ => arith_binary(op, v),
    }
}

fn numeric_reduce<T: Arith, V: BinaryVisitor<T>>(op: ReduceOp, v: V) -> Option<V::Out> {
    Some(match op {
        ReduceOp::Sum => v.visit(T::add),
        ReduceOp::Prod => v.visit(T::mul),
        ReduceOp::Min => v.visit(T::min),
        ReduceOp::Max => v.visit(T::max),
        ReduceOp::And | ReduceOp::Or => return None,
    })
}

fn numeric_identity<T: Arith>(op: ReduceOp) -> Option<T> {
    Some(match op {
        ReduceOp::Sum => T::ZERO,
        ReduceOp::Prod => T::ONE,
        ReduceOp::Min => T::MIN_IDENTITY,
        ReduceOp::Max => T::MAX_IDENTITY,
        ReduceOp::And | ReduceOp::Or => return None,
    })
}

fn logic_reduce<T: Logic, V: BinaryVisitor<T>>(op: ReduceOp, v: V) -> Option<V::Out> {
    match op {
        ReduceOp::And => Some(v.visit(T::and)),
        ReduceOp::Or => Some(v.visit(T::or)),
        _ => None,
    }
}

fn logic_identity<T: Logic>(op: ReduceOp) -> Option<T> {
    match op {
        ReduceOp::And => Some(T::ALL_ONES),
        ReduceOp::Or => Some(T::NONE),
        _ => None,
    }
}

impl Elem for bool {
    #[inline(always)]
    fn to_reg(self) -> u64 {
        self as u64
    }
    #[inline(always)]
    fn from_reg(r: u64) -> bool {
        r != 0
    }
    fn unary<V: UnaryVisitor<bool>>(op: UnaryOp, v: V) -> Option<V::Out> {
        match op {
            UnaryOp::Not => Some(v.visit(<bool as Logic>::not)),
            _ => None,
        }
    }
    fn binary<V: BinaryVisitor<bool>>(op: BinaryOp, v: V) -> Option<V::Out> {
        logic_binary(op, v)
    }
    fn reduce<V: BinaryVisitor<bool>>(op: ReduceOp, v: V) -> Option<V::Out> {
        logic_reduce(op, v)
    }
    fn reduce_identity(op: ReduceOp) -> Option<bool> {
        logic_identity(op)
    }
    fn dot(_: &[bool], _: &[bool], _: usize, _: usize, _: usize) -> Option<Vec<bool>> {
        None
    }
}

macro_rules! int_elem {
    ($t:ty, $u:ty) => {
        impl Elem for $t {
            #[inline(always)]
            fn to_reg(self) -> u64 {
                self as $u as u64
            }
            #[inline(always)]
            fn from_reg(r: u64) -> $t {
                r as $u as $t
            }
            fn unary<V: UnaryVisitor<$t>>(op: UnaryOp, v: V) -> Option<V::Out> {
                match op {
                    UnaryOp::Not => Some(v.visit(<$t as Logic>::not)),
                    UnaryOp::Sign | UnaryOp::Popcnt | UnaryOp::Clz => {
                        crate::ops::math::int_unary(op, v)
                    }
                    _ => arith_unary(op, v),
                }
            }
            fn binary<V: BinaryVisitor<$t>>(op: BinaryOp, v: V) -> Option<V::Out> {
                int_binary(op, v)
            }
            fn reduce<V: BinaryVisitor<$t>>(op: ReduceOp, v: V) -> Option<V::Out> {
                match op {
                    ReduceOp::And | ReduceOp::Or => logic_reduce(op, v),
                    _ => numeric_reduce(op, v),
                }
            }
            fn reduce_identity(op: ReduceOp) -> Option<$t> {
                match op {
                    ReduceOp::And | ReduceOp::Or => logic_identity(op),
                    _ => numeric_identity(op),
                }
            }
            fn dot(a: &[$t], b: &[$t], m: usize, k: usize, n: usize) -> Option<Vec<$t>> {
                crate::ops::kernels::dot_sequential(a, b, m, k, n)
            }
        }
    };
}
int_elem!(i8, u8);
int_elem!(i16, u16);
int_elem!(i32, u32);
int_elem!(i64, u64);
int_elem!(u8, u8);
int_elem!(u16, u16);
int_elem!(u32, u32);
int_elem!(u64, u64);

macro_rules! float_elem {
    ($t:ty, $u:ty, $dot:path) => {
        impl Elem for $t {
            #[inline(always)]
            fn to_reg(self) -> u64 {
                self.to_bits() as u64
            }
            #[inline(always)]
            fn from_reg(r: u64) -> $t {
                <$t>::from_bits(r as $u)
            }
            fn unary<V: UnaryVisitor<$t>>(op: UnaryOp, v: V) -> Option<V::Out> {
                float_unary(op, v)
            }
            fn binary<V: BinaryVisitor<$t>>(op: BinaryOp, v: V) -> Option<V::Out> {
                float_binary(op, v)
            }
            fn reduce<V: BinaryVisitor<$t>>(op: ReduceOp, v: V) -> Option<V::Out> {
                numeric_reduce(op, v)
            }
            fn reduce_identity(op: ReduceOp) -> Option<$t> {
                numeric_identity(op)
            }
            fn dot(a: &[$t], b: &[$t], m: usize, k: usize, n: usize) -> Option<Vec<$t>> {
                $dot(a, b, m, k, n)
            }
        }
    };
}
float_elem!(f32, u32, crate::ops::kernels::gemm_f32);
float_elem!(f64, u64, crate::ops::kernels::gemm_f64);
float_elem!(half::f16, u16, crate::ops::kernels::dot_half);
float_elem!(half::bf16, u16, crate::ops::kernels::dot_half);

/// A scalar as the bits of a `u64` register (see [`Elem::to_reg`]): how the interpreter holds
/// rank-0 values and how compiled code writes integer immediates.
pub fn scalar_to_reg(x: Scalar) -> u64 {
    crate::match_scalar!(x, |v| v.to_reg())
}

/// Reads a register written by [`scalar_to_reg`] as a scalar of `dtype`.
pub fn reg_to_scalar(r: u64, dtype: DType) -> Scalar {
    crate::dispatch_dtype!(dtype, |T| Element::into_scalar(<T as Elem>::from_reg(r)))
}

/// Hands the function of comparison `op` on `T` to `v` (every dtype accepts every comparison).
pub fn compare_with<T: Elem, V: CompareVisitor<T>>(op: CmpOp, v: V) -> V::Out {
    match op {
        CmpOp::Eq => v.visit(cmp_eq::<T>),
        CmpOp::Ne => v.visit(cmp_ne::<T>),
        CmpOp::Lt => v.visit(cmp_lt::<T>),
        CmpOp::Le => v.visit(cmp_le::<T>),
        CmpOp::Gt => v.visit(cmp_gt::<T>),
        CmpOp::Ge => v.visit(cmp_ge::<T>),
        CmpOp::TotalEq => v.visit(crate::ops::compare::total_eq::<T>),
        CmpOp::TotalNe => v.visit(crate::ops::compare::total_ne::<T>),
        CmpOp::TotalLt => v.visit(crate::ops::compare::total_lt::<T>),
        CmpOp::TotalLe => v.visit(crate::ops::compare::total_le::<T>),
        CmpOp::TotalGt => v.visit(crate::ops::compare::total_gt::<T>),
        CmpOp::TotalGe => v.visit(crate::ops::compare::total_ge::<T>),
    }
}

/// Calls `v` with the Rust element type of `dtype`.
pub fn with_dtype<V: DTypeVisitor>(dtype: DType, v: V) -> V::Out {
    crate::dispatch_dtype!(dtype, |T| v.visit::<T>())
}

/// Calls `v` with the Rust element types of a conversion from `from` to `to`.
pub fn with_convert<V: ConvertVisitor>(from: DType, to: DType, v: V) -> V::Out {
    struct Outer<V> {
        to: DType,
        v: V,
    }
    impl<V: ConvertVisitor> DTypeVisitor for Outer<V> {
        type Out = V::Out;
        fn visit<S: Elem>(self) -> V::Out {
            let v = self.v;
            crate::dispatch_dtype!(self.to, |D| v.visit::<S, D>())
        }
    }
    with_dtype(from, Outer { to, v })
}
