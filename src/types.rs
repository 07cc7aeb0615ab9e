//! Element types and tensor types: the static type of every IR value.

use std::fmt;

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    I32,
    I64,
    F32,
    F64,
}

impl DType {
    /// Every dtype, in a fixed order (used by tests and generators).
    pub const ALL: [DType; 5] = [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64];

    /// The name used in the textual IR.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// Reads a dtype name as printed by [`DType::name`].
    pub fn from_name(s: &str) -> Option<DType> {
        Some(match s {
            "bool" => DType::Bool,
            "i32" => DType::I32,
            "i64" => DType::I64,
            "f32" => DType::F32,
            "f64" => DType::F64,
            _ => return None,
        })
    }

    /// Bytes per element in a tensor buffer (a `bool` is one byte, 0 or 1).
    pub fn size_bytes(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn is_int(self) -> bool {
        matches!(self, DType::I32 | DType::I64)
    }

    /// Integers and floats: the types arithmetic is defined on.
    pub fn is_numeric(self) -> bool {
        self.is_int() || self.is_float()
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
    pub shape: Vec<usize>,
}

impl TensorType {
    pub fn new(dtype: DType, shape: impl Into<Vec<usize>>) -> TensorType {
        TensorType {
            dtype,
            shape: shape.into(),
        }
    }

    pub fn scalar(dtype: DType) -> TensorType {
        TensorType {
            dtype,
            shape: Vec::new(),
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

/// Whether two shapes are equal. Slice equality would call `memcmp`, and glibc's AVX-512
/// `memcmp` given zero bytes at the dangling pointer of an empty `Vec` (a scalar's shape)
/// does a masked load that needs a fault-suppression microcode assist: measured here at about
/// 250 ns a comparison, which was most of the cost of a call to a small compiled function.
/// Empty shapes compare without touching memory.
#[inline]
pub fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && (a.is_empty() || a == b)
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
