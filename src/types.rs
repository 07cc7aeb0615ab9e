//! Element types and tensor types: the static type of every IR value.

use std::fmt;

mod shape;
pub use shape::{same_shape, Shape};

/// The one list of dtypes. Everything per-dtype in `src/` outside the JIT's instruction
/// selection is generated from it: [`DType`], [`crate::tensor::Scalar`], [`crate::tensor::Data`],
/// the [`crate::tensor::Element`] impls and the dispatch macros ([`crate::dispatch_dtype!`],
/// [`crate::match_data!`], [`crate::match_scalar!`]).
///
/// `for_each_dtype!(callback!(extra tokens))` calls `callback! { extra tokens; rows }`, one row
/// a dtype: `(Variant, rust_type, "text name", kind, bits)`, where `kind` is one of `bool`,
/// `sint`, `uint`, `float`, `half` (a 16-bit float that computes in `f32`, see
/// [`crate::ops::scalar`]) and `bits` is the width of its values (1 for `bool`, whose storage
/// is one byte). Adding a dtype is one row here plus its genuinely new semantics (see
/// ARCHITECTURE.md for the list of sites).
#[macro_export]
macro_rules! for_each_dtype {
    ($($cb:ident)::+ ! ( $($extra:tt)* )) => {
        $($cb)::+! {
            $($extra)*;
            (Bool, bool, "bool", bool, 1),
            (I8, i8, "i8", sint, 8),
            (I16, i16, "i16", sint, 16),
            (I32, i32, "i32", sint, 32),
            (I64, i64, "i64", sint, 64),
            (U8, u8, "u8", uint, 8),
            (U16, u16, "u16", uint, 16),
            (U32, u32, "u32", uint, 32),
            (U64, u64, "u64", uint, 64),
            (F16, half::f16, "f16", half, 16),
            (BF16, half::bf16, "bf16", half, 16),
            (F32, f32, "f32", float, 32),
            (F64, f64, "f64", float, 64),
        }
    };
}

/// `dispatch_dtype!(dtype, |T| expr)` evaluates `expr` with the type name `T` bound to the Rust
/// element type of `dtype` (a [`DType`] value): one monomorphized arm per dtype.
#[macro_export]
macro_rules! dispatch_dtype {
    ($dt:expr, |$t:ident| $body:expr) => {
        $crate::for_each_dtype!($crate::__dispatch_dtype_arms!(($dt)($t)($body)))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch_dtype_arms {
    (($dt:expr) ($t:ident) ($body:expr); $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        match $dt {
            $($crate::types::DType::$v => {
                #[allow(dead_code)]
                type $t = $rt;
                $body
            })*
        }
    };
}

macro_rules! define_dtype {
    (; $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        /// The element type of a tensor.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DType {
            $($v,)*
        }

        impl DType {
            /// Every dtype, in the table's fixed order (used by tests and generators).
            pub const ALL: [DType; [$(stringify!($v)),*].len()] = [$(DType::$v),*];

            /// The name used in the textual IR.
            pub fn name(self) -> &'static str {
                match self {
                    $(DType::$v => $name,)*
                }
            }

            /// Reads a dtype name as printed by [`DType::name`].
            pub fn from_name(s: &str) -> Option<DType> {
                match s {
                    $($name => Some(DType::$v),)*
                    _ => None,
                }
            }

            /// What kind of number the dtype holds.
            pub fn kind(self) -> Kind {
                match self {
                    $(DType::$v => define_dtype!(@kind $kind),)*
                }
            }

            /// The width of a value in bits (1 for `bool`, whose storage is one byte).
            pub fn bits(self) -> u32 {
                match self {
                    $(DType::$v => $bits,)*
                }
            }
        }
    };
    (@kind bool) => { Kind::Bool };
    (@kind sint) => { Kind::Signed };
    (@kind uint) => { Kind::Unsigned };
    (@kind float) => { Kind::Float };
    (@kind half) => { Kind::Float };
}

for_each_dtype!(define_dtype!());

/// The kinds of dtype: the semantics of an op depends on the kind and the width only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Bool,
    Signed,
    Unsigned,
    Float,
}

impl DType {
    /// The dtype names, for error messages: "bool, i32, ... or f64".
    pub fn names() -> String {
        let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
        match names.split_last() {
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// Bytes per element in a tensor buffer (a `bool` is one byte, 0 or 1).
    pub fn size_bytes(self) -> usize {
        self.bits().div_ceil(8) as usize
    }

    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// Signed and unsigned integers.
    pub fn is_int(self) -> bool {
        matches!(self.kind(), Kind::Signed | Kind::Unsigned)
    }

    /// A signed integer (two's complement).
    pub fn is_signed(self) -> bool {
        self.kind() == Kind::Signed
    }

    /// An unsigned integer.
    pub fn is_unsigned(self) -> bool {
        self.kind() == Kind::Unsigned
    }

    /// `f16` or `bf16`: a storage type whose ops compute in `f32` and round the result.
    pub fn is_half(self) -> bool {
        self.kind() == Kind::Float && self.bits() == 16
    }

    /// Integers and floats: the types arithmetic is defined on.
    pub fn is_numeric(self) -> bool {
        self.is_int() || self.is_float()
    }

    /// The smallest value: `false`, the integer MIN, or `-inf`.
    pub fn min_value(self) -> crate::tensor::Scalar {
        crate::dispatch_dtype!(self, |T| crate::tensor::Element::into_scalar(
            <T as crate::tensor::Element>::LOWEST
        ))
    }

    /// The largest value: `true`, the integer MAX, or `+inf`.
    pub fn max_value(self) -> crate::tensor::Scalar {
        crate::dispatch_dtype!(self, |T| crate::tensor::Element::into_scalar(
            <T as crate::tensor::Element>::HIGHEST
        ))
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The largest number of elements one tensor may have (2 GiB of f64). It keeps every byte size and every
/// index computation well inside `i64` and `usize`, so neither executor can overflow on a
/// shape the verifier accepted.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// The largest rank a tensor may have.
pub const MAX_RANK: usize = 16;

/// A dtype and a static shape. Rank 0 (an empty shape) is a scalar.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorType {
    pub dtype: DType,
    pub shape: Shape,
}

impl TensorType {
    pub fn new(dtype: DType, shape: impl Into<Shape>) -> TensorType {
        TensorType {
            dtype,
            shape: shape.into(),
        }
    }

    pub const fn scalar(dtype: DType) -> TensorType {
        TensorType {
            dtype,
            shape: Shape::scalar(),
        }
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// The element count. Types that pass [`TensorType::check_size`] never overflow here.
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// The element count, or `None` when the rank exceeds [`MAX_RANK`] or the product of the
    /// non-zero dimensions exceeds [`MAX_ELEMENTS`] (or overflows `usize`).
    pub fn checked_num_elements(&self) -> Option<usize> {
        if self.shape.len() > MAX_RANK {
            return None;
        }
        // The product of the non-zero dimensions is bounded too: an empty tensor such as
        // f32[0,HUGE,2] holds nothing, but its strides and index arithmetic would overflow.
        let mut nonzero: usize = 1;
        for &d in self.shape.iter().filter(|&&d| d != 0) {
            nonzero = nonzero.checked_mul(d)?;
        }
        if nonzero > MAX_ELEMENTS {
            return None;
        }
        Some(if self.shape.contains(&0) { 0 } else { nonzero })
    }

    /// Checks the limits every type in a program must respect.
    pub fn check_size(&self) -> Result<(), String> {
        if self.shape.len() > MAX_RANK {
            return Err(format!(
                "type {self} has rank {}, more than the limit of {MAX_RANK}",
                self.shape.len()
            ));
        }
        if self.checked_num_elements().is_none() {
            return Err(format!(
                "type {self} has more elements than the limit of {MAX_ELEMENTS}"
            ));
        }
        Ok(())
    }

    /// Whether `t` has this type: a cheap check made on every run's inputs and outputs.
    #[inline]
    pub fn matches(&self, dtype: DType, shape: &[usize]) -> bool {
        self.dtype == dtype && same_shape(&self.shape, shape)
    }

    /// Row-major strides in elements.
    pub fn strides(&self) -> Vec<usize> {
        strides(&self.shape)
    }
}

/// Row-major strides in elements for a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

impl fmt::Display for TensorType {
    /// `i32` for a scalar, `f32[2,3]` for a tensor.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.dtype)?;
        if !self.shape.is_empty() {
            f.write_str("[")?;
            for (i, d) in self.shape.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{d}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::scalar::eval_compare;
    use crate::ops::CmpOp;
    use crate::tensor::Scalar;

    #[test]
    fn every_dtype_round_trips_its_name_and_has_ordered_bounds() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
            assert_eq!(d.min_value().dtype(), d);
            assert_eq!(d.max_value().dtype(), d);
            assert_eq!(
                eval_compare(CmpOp::Lt, d.min_value(), d.max_value()),
                Some(Scalar::Bool(true)),
                "{d}"
            );
            assert!(d.size_bytes() * 8 >= d.bits() as usize, "{d}");
            assert!(!(d.is_signed() && d.is_unsigned()));
            assert_eq!(d.is_int(), d.is_signed() || d.is_unsigned());
        }
        assert_eq!(DType::from_name("i33"), None);
        assert_eq!(DType::I64.bits(), 64);
        assert_eq!(DType::Bool.size_bytes(), 1);
        assert_eq!(DType::I32.min_value(), Scalar::I32(i32::MIN));
        assert_eq!(DType::F64.max_value(), Scalar::F64(f64::INFINITY));
    }
}
