//! The builder's forms of the ops of issue 11 part B: the further elementwise math,
//! `is_finite`, `pad` with signed edges, `gather` and `take`, and `dot_general`.

use std::panic::Location;

use super::Var;
use crate::ops::dot_general::DotDims;
use crate::ops::gather::{take_dims, GatherDims};
use crate::ops::pad::split_negative;
use crate::ops::{scalar, BinaryOp, CmpOp, Op, UnaryOp};
use crate::tensor::{Scalar, Tensor};
use crate::types::{DType, TensorType};

macro_rules! math_methods {
    ($($(#[$m:meta])* $name:ident => $op:ident;)*) => {
        $($(#[$m])*
        #[track_caller]
        pub fn $name(self) -> Var<'g> {
            self.unary(UnaryOp::$op)
        })*
    };
}

impl<'g> Var<'g> {
    math_methods! {
        /// `-1`, `0` or `1` by sign (floats: NaN and ±0 stay).
        sign => Sign;
        /// Rounds half away from zero.
        round_nearest_afz => RoundAfz;
        /// `e^x - 1`, accurate near 0.
        expm1 => Expm1;
        /// `ln(1 + x)`, accurate near 0.
        log1p => Log1p;
        /// `1 / sqrt(x)`.
        rsqrt => Rsqrt;
        /// `1 / (1 + e^-x)` (`jax.nn.sigmoid`).
        logistic => Logistic;
        /// The real cube root.
        cbrt => Cbrt;
        /// The error function.
        erf => Erf;
        /// The number of set bits (integers).
        popcnt => Popcnt;
        /// The number of leading zero bits (integers).
        clz => Clz;
    }

    /// `atan2(self, x)` of floats, by quadrant.
    #[track_caller]
    pub fn atan2(self, x: Var<'g>) -> Var<'g> {
        self.graph.emit(
            Op::Binary(BinaryOp::Atan2),
            &[self, x],
            None,
            Location::caller(),
        )
    }

    /// Whether each element is finite: `|x| < inf` (floats).
    #[track_caller]
    pub fn is_finite(self) -> Var<'g> {
        let loc = Location::caller();
        let Some(t) = self.ty() else { return self };
        let dt = if t.dtype.is_float() {
            t.dtype
        } else {
            DType::F32
        };
        let inf = scalar::convert(Scalar::F64(f64::INFINITY), dt);
        let c = self.graph.emit(
            Op::Const(Tensor::full(inf, t.shape.clone())),
            &[],
            Some(TensorType::new(dt, t.shape.clone())),
            loc,
        );
        let a = self.graph.emit(Op::Unary(UnaryOp::Abs), &[self], None, loc);
        self.graph.emit(Op::Compare(CmpOp::Lt), &[a, c], None, loc)
    }

    /// StableHLO's `pad` with the scalar `value`: `low[d]`/`high[d]` elements around
    /// dimension `d` (negative: that many removed) and `interior[d]` between neighbours.
    #[track_caller]
    pub fn pad(self, value: Var<'g>, low: &[i64], high: &[i64], interior: &[usize]) -> Var<'g> {
        let loc = Location::caller();
        let Some(t) = self.ty() else { return self };
        let split = match split_negative(&t.shape, low, high, interior) {
            Ok(s) => s,
            Err(m) => {
                return self
                    .graph
                    .state
                    .borrow_mut()
                    .fail(self.graph, "pad", loc, m)
            }
        };
        let op = Op::Pad {
            low: split.low,
            high: split.high,
            interior: interior.to_vec(),
        };
        let padded = self.graph.emit(op, &[self, value], None, loc);
        match split.crop {
            None => padded,
            Some((start, limit)) => {
                let stride = vec![1; start.len()];
                let op = Op::Slice {
                    start,
                    limit,
                    stride,
                };
                self.graph.emit(op, &[padded], None, loc)
            }
        }
    }

    /// StableHLO's `gather` with explicit dimension numbers (starts clamped into range).
    #[track_caller]
    pub fn gather(self, indices: Var<'g>, dims: &GatherDims) -> Var<'g> {
        let op = Op::Gather { dims: dims.clone() };
        self.graph
            .emit(op, &[self, indices], None, Location::caller())
    }

    /// `jnp.take(self, indices, axis, mode="clip")`: whole slices along `axis` at integer
    /// `indices` of any shape, each clamped into range; one load per element.
    #[track_caller]
    pub fn take(self, indices: Var<'g>, axis: usize) -> Var<'g> {
        let loc = Location::caller();
        let (Some(t), Some(it)) = (self.ty(), indices.ty()) else {
            return self;
        };
        if axis >= t.rank() {
            let m = format!("axis {axis} is out of range for {t}");
            return self
                .graph
                .state
                .borrow_mut()
                .fail(self.graph, "gather", loc, m);
        }
        let op = Op::Gather {
            dims: take_dims(&t, it.rank(), axis),
        };
        self.graph.emit(op, &[self, indices], None, loc)
    }

    /// StableHLO's `dot_general`, accumulating in `dtype` (operands converted first).
    #[track_caller]
    pub fn dot_general(self, rhs: Var<'g>, dims: &DotDims, dtype: DType) -> Var<'g> {
        let loc = Location::caller();
        let (Some(a), Some(b)) = (self.ty(), rhs.ty()) else {
            return self;
        };
        let decl = TensorType::scalar(dtype);
        let op = Op::DotGeneral { dims: dims.clone() };
        match crate::ops::dot_general::infer_dot_general(&[&a, &b], dims, Some(&decl)) {
            Ok(t) => self.graph.emit(op, &[self, rhs], Some(t), loc),
            Err(e) => self
                .graph
                .state
                .borrow_mut()
                .fail(self.graph, "dot_general", loc, e.0),
        }
    }
}
