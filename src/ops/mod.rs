//! The op set: one closed enum of ops, their text names, and their type and shape rules.
//!
//! The scalar meaning of every elementwise op is in [`scalar`]; the type rules ([`infer`]) are
//! in `type_rules`; the tensor kernels the interpreter (and constant folding) run are in
//! [`kernels`]. The JIT emits inline code for
//! the cheap ops and calls the very functions of [`scalar`] for the transcendental ones.

// The kernels and their index arithmetic are the executors' machinery: public for the tests
// and benches, hidden from the documentation because they are no part of the interface.
#[doc(hidden)]
pub mod compare;
#[doc(hidden)]
pub mod dot_general;
#[doc(hidden)]
pub mod gather;
/// The matrix products of `dot` (integer and float, blocks of rows on the thread pool).
mod gemm;
#[doc(hidden)]
pub mod index;
#[doc(hidden)]
pub mod kernels;
#[doc(hidden)]
pub mod layout;
#[doc(hidden)]
pub mod math;
#[doc(hidden)]
pub mod pad;
#[doc(hidden)]
pub mod region;
#[doc(hidden)]
pub mod region_fast;
#[doc(hidden)]
pub mod region_fn;
#[doc(hidden)]
pub mod region_kernels;
pub mod scalar;
mod type_rules;

pub use type_rules::{bitcast_type, infer};

use std::fmt;

use crate::tensor::Tensor;
use crate::types::DType;

/// Elementwise ops of one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Abs,
    Not,
    Exp,
    Log,
    Sqrt,
    Tanh,
    Sin,
    Cos,
    Floor,
    Ceil,
    Round,
    // StableHLO's further elementwise math (semantics in `math`).
    Sign,
    RoundAfz,
    Expm1,
    Log1p,
    Rsqrt,
    Logistic,
    Cbrt,
    Erf,
    Popcnt,
    Clz,
}

/// Elementwise ops of two operands of the same type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Min,
    Max,
    Pow,
    And,
    Or,
    Xor,
    Shl,
    ShrLogical,
    ShrArith,
    /// `atan2(y, x)` of floats (semantics in `math`).
    Atan2,
}

/// Elementwise comparisons; the result is `bool`. The `Total*` comparisons are StableHLO's
/// `TOTALORDER` comparison type (see [`compare`]): on floats they order
/// `-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN` by bits; on other dtypes they are the
/// plain comparisons. The plain ones are StableHLO's `FLOAT`, `SIGNED` and `UNSIGNED` types,
/// chosen by the operands' dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    TotalEq,
    TotalNe,
    TotalLt,
    TotalLe,
    TotalGt,
    TotalGe,
}

/// The combining function of a `reduce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Prod,
    Min,
    Max,
    And,
    Or,
}

/// Every op of the IR. Attributes are stored inline; operands and results live in the
/// instruction that holds the op.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A constant; the tensor has exactly the result's type.
    Const(Tensor),
    Unary(UnaryOp),
    Binary(BinaryOp),
    Compare(CmpOp),
    /// `select(pred, a, b)`: elementwise `pred ? a : b`; `pred` is `bool` of the same shape,
    /// or a scalar `bool` that picks all of `a` or all of `b` (as StableHLO allows).
    Select,
    /// Elementwise conversion to the result's dtype (rules in [`scalar`]).
    Convert,
    /// Reinterprets the bits of the operand as the result's dtype (StableHLO's
    /// `bitcast_convert`; bytes in little-endian order). Between dtypes of one width the shape
    /// stays; a narrower result gains a last dimension of `in_bits / out_bits`; a wider result
    /// drops the operand's last dimension, which must be `out_bits / in_bits`. Not defined on
    /// `bool`.
    BitcastConvert,
    /// XLA's `broadcast_in_dim`: operand dimension `i` becomes result dimension `dims[i]`,
    /// where it must have the result's size or size 1. `dims` is strictly increasing.
    Broadcast {
        dims: Vec<usize>,
    },
    /// Same elements in row-major order, new shape of equal element count.
    Reshape,
    /// Result dimension `i` is operand dimension `perm[i]`.
    Transpose {
        perm: Vec<usize>,
    },
    /// Elements `start[d] + k * stride[d] < limit[d]` of each dimension `d`.
    Slice {
        start: Vec<usize>,
        limit: Vec<usize>,
        stride: Vec<usize>,
    },
    /// Operands joined along `axis`; all other dimensions equal.
    Concat {
        axis: usize,
    },
    /// Element value is its index along `axis`, converted to the result dtype.
    Iota {
        axis: usize,
    },
    /// Reduces the listed axes (strictly increasing) away; see [`kernels::reduce`] for the
    /// accumulation order, which both executors follow.
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
    },
    /// Matrix product `[m,k] x [k,n] -> [m,n]`, or matrix-vector `[m,k] x [k] -> [m]`; see
    /// [`kernels::dot`] for the accumulation order: sequential in `k` for integers, the
    /// `matrixmultiply` crate's blocked order (which may use FMA) for floats, the same in
    /// both executors.
    Dot,
    /// StableHLO's `dynamic_slice`: operand 0 is the tensor, operands `1..=rank` are one
    /// scalar integer start index per dimension; the result is the window of shape `sizes`
    /// at those starts, each clamped to `[0, dim - size]` (see [`index::clamp_start`]), so
    /// no read is ever out of bounds.
    DynamicSlice {
        sizes: Vec<usize>,
    },
    /// StableHLO's `dynamic_update_slice`: operand 0 with the window at the (clamped) starts
    /// given by operands `2..2 + rank` replaced by operand 1, the update.
    DynamicUpdateSlice,
    /// StableHLO's `clamp(min, x, max)`: `min(max(x, min), max)` elementwise with the
    /// semantics of `max` and `min` (so NaN propagates); `min` and `max` have the type of `x`
    /// or are scalars of its dtype.
    Clamp,
    /// StableHLO's `reverse`: the order of elements along each of `dims` (distinct, in
    /// range, any order) is reversed.
    Reverse {
        dims: Vec<usize>,
    },
    /// StableHLO's `pad` with non-negative edge padding (a negative one is a crop, written as
    /// a `slice` after it): operand 0 with `low[d]` and `high[d]` copies of the padding value
    /// (operand 1, a scalar) around dimension `d` and `interior[d]` between neighbours; see
    /// [`pad`].
    Pad {
        low: Vec<usize>,
        high: Vec<usize>,
        interior: Vec<usize>,
    },
    /// StableHLO's `gather` of operand 0 at the start indices in operand 1, with the spec's
    /// dimension numbers; starts are clamped into the operand (see [`gather::GatherPlan`]).
    Gather {
        dims: gather::GatherDims,
    },
    /// StableHLO's `dot_general` with batch and contracting dimensions; the result's dtype is
    /// declared and the operands are converted to it first (see [`dot_general`]).
    DotGeneral {
        dims: dot_general::DotDims,
    },
    /// StableHLO's `case`: operand 0 is a scalar `i32` index; region `index` runs and yields
    /// the results, and an index out of `0..regions` runs the last region, as the spec says.
    /// The regions have no arguments, like `if`'s.
    Case,
    /// Loop: operands are the initial loop-carried values; region 0 (cond) yields a scalar
    /// `bool`, region 1 (body) yields the next loop-carried values; both regions see the
    /// instruction's region arguments (the current loop-carried values). Results are the
    /// final loop-carried values.
    While,
    /// Operand 0 is a scalar `bool`; region 0 (then) or region 1 (else) runs and yields the
    /// results.
    If,
    /// An op with one isolated scalar region (variadic `reduce`, `reduce_window`, `sort`,
    /// `scatter`); see [`region`]. Its type rule is [`region::signature`], which the verifier
    /// applies with the region.
    Region(region::RegionOp),
    /// Terminates a nested region with its values.
    Yield,
    /// Terminates the function body with its results.
    Return,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 22] = [
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Not,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sqrt,
        UnaryOp::Tanh,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Sign,
        UnaryOp::RoundAfz,
        UnaryOp::Expm1,
        UnaryOp::Log1p,
        UnaryOp::Rsqrt,
        UnaryOp::Logistic,
        UnaryOp::Cbrt,
        UnaryOp::Erf,
        UnaryOp::Popcnt,
        UnaryOp::Clz,
    ];

    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Abs => "abs",
            UnaryOp::Not => "not",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Sign => "sign",
            UnaryOp::RoundAfz => "round_nearest_afz",
            UnaryOp::Expm1 => "expm1",
            UnaryOp::Log1p => "log1p",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Logistic => "logistic",
            UnaryOp::Cbrt => "cbrt",
            UnaryOp::Erf => "erf",
            UnaryOp::Popcnt => "popcnt",
            UnaryOp::Clz => "clz",
        }
    }

    /// Whether the op is defined on `dtype`.
    pub fn accepts(self, dtype: DType) -> bool {
        match self {
            UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign => dtype.is_numeric(),
            UnaryOp::Not => !dtype.is_float(),
            UnaryOp::Popcnt | UnaryOp::Clz => dtype.is_int(),
            _ => dtype.is_float(),
        }
    }
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 15] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::Min,
        BinaryOp::Max,
        BinaryOp::Pow,
        BinaryOp::And,
        BinaryOp::Or,
        BinaryOp::Xor,
        BinaryOp::Shl,
        BinaryOp::ShrLogical,
        BinaryOp::ShrArith,
        BinaryOp::Atan2,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Rem => "rem",
            BinaryOp::Min => "min",
            BinaryOp::Max => "max",
            BinaryOp::Pow => "pow",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Xor => "xor",
            BinaryOp::Shl => "shl",
            BinaryOp::ShrLogical => "shr_logical",
            BinaryOp::ShrArith => "shr_arith",
            BinaryOp::Atan2 => "atan2",
        }
    }

    /// Whether the op is defined on `dtype`.
    pub fn accepts(self, dtype: DType) -> bool {
        match self {
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Rem
            | BinaryOp::Min
            | BinaryOp::Max => dtype.is_numeric(),
            BinaryOp::Pow | BinaryOp::Atan2 => dtype.is_float(),
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => !dtype.is_float(),
            BinaryOp::Shl | BinaryOp::ShrLogical | BinaryOp::ShrArith => dtype.is_int(),
        }
    }
}

impl CmpOp {
    pub const ALL: [CmpOp; 12] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::TotalEq,
        CmpOp::TotalNe,
        CmpOp::TotalLt,
        CmpOp::TotalLe,
        CmpOp::TotalGt,
        CmpOp::TotalGe,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::TotalEq => "eq.total",
            CmpOp::TotalNe => "ne.total",
            CmpOp::TotalLt => "lt.total",
            CmpOp::TotalLe => "le.total",
            CmpOp::TotalGt => "gt.total",
            CmpOp::TotalGe => "ge.total",
        }
    }

    /// The plain comparison of the same direction, and whether this one is `TOTALORDER`.
    pub fn split_total(self) -> (CmpOp, bool) {
        match self {
            CmpOp::TotalEq => (CmpOp::Eq, true),
            CmpOp::TotalNe => (CmpOp::Ne, true),
            CmpOp::TotalLt => (CmpOp::Lt, true),
            CmpOp::TotalLe => (CmpOp::Le, true),
            CmpOp::TotalGt => (CmpOp::Gt, true),
            CmpOp::TotalGe => (CmpOp::Ge, true),
            c => (c, false),
        }
    }
}

impl ReduceOp {
    pub const ALL: [ReduceOp; 6] = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Min,
        ReduceOp::Max,
        ReduceOp::And,
        ReduceOp::Or,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
            ReduceOp::And => "and",
            ReduceOp::Or => "or",
        }
    }

    /// Whether the reduction is defined on `dtype`.
    pub fn accepts(self, dtype: DType) -> bool {
        match self {
            ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Min | ReduceOp::Max => dtype.is_numeric(),
            ReduceOp::And | ReduceOp::Or => !dtype.is_float(),
        }
    }
}

impl Op {
    /// The op's name in the textual IR (`reduce.sum` for reductions).
    pub fn name(&self) -> String {
        match self {
            Op::Reduce { op, .. } => format!("reduce.{}", op.name()),
            _ => self.base_name().to_string(),
        }
    }

    /// The op's name without a reduce kind.
    pub fn base_name(&self) -> &'static str {
        match self {
            Op::Const(_) => "const",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Compare(c) => c.name(),
            Op::Select => "select",
            Op::Convert => "convert",
            Op::BitcastConvert => "bitcast_convert",
            Op::Broadcast { .. } => "broadcast",
            Op::Reshape => "reshape",
            Op::Transpose { .. } => "transpose",
            Op::Slice { .. } => "slice",
            Op::Concat { .. } => "concat",
            Op::Iota { .. } => "iota",
            Op::Reduce { .. } => "reduce",
            Op::Dot => "dot",
            Op::DynamicSlice { .. } => "dynamic_slice",
            Op::DynamicUpdateSlice => "dynamic_update_slice",
            Op::Reverse { .. } => "reverse",
            Op::Clamp => "clamp",
            Op::Region(r) => r.name(),
            Op::Pad { .. } => "pad",
            Op::Gather { .. } => "gather",
            Op::DotGeneral { .. } => "dot_general",
            Op::Case => "case",
            Op::While => "while",
            Op::If => "if",
            Op::Yield => "yield",
            Op::Return => "return",
        }
    }

    /// Whether the op has regions (structured control flow).
    pub fn has_regions(&self) -> bool {
        matches!(self, Op::While | Op::If | Op::Region(_) | Op::Case)
    }

    /// Whether the op ends a region.
    pub fn is_terminator(&self) -> bool {
        matches!(self, Op::Yield | Op::Return)
    }

    /// Whether the op's result depends only on its operands, so that it may be folded,
    /// deduplicated or removed when unused.
    pub fn is_pure(&self) -> bool {
        !self.is_terminator() && !self.has_regions()
    }
}

/// A violation of an op's type rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError(pub String);

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
