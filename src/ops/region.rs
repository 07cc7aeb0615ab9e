//! Ops that carry one region whose block takes scalar arguments (StableHLO's variadic
//! `reduce`, `reduce_window`, `sort` and `scatter`): their attributes, type rules, the scalar
//! program ([`Body`]) both executors derive from the region, and the recognizers of the
//! regions that have fast paths.
//!
//! A region of these ops is *isolated*: it sees only its own arguments (all rank 0) and the
//! values it defines, and holds only rank-0 elementwise ops and constants (the verifier
//! checks this). So the region is a pure scalar function, evaluated per element (pair) by the
//! kernels of [`super::region_kernels`] and emitted inline by the JIT.

use std::fmt;

use super::scalar::{convert, eval_binary, eval_compare, eval_select, eval_unary};
use super::{BinaryOp, CmpOp, Op, TypeError};
use crate::tensor::Scalar;
use crate::types::{DType, TensorType};

/// The window of a `reduce_window`, one entry per operand dimension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    pub dims: Vec<usize>,
    pub strides: Vec<usize>,
    pub base_dilations: Vec<usize>,
    pub window_dilations: Vec<usize>,
    pub pad_low: Vec<usize>,
    pub pad_high: Vec<usize>,
}

/// StableHLO's scatter dimension numbers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScatterDims {
    pub update_window_dims: Vec<usize>,
    pub inserted_window_dims: Vec<usize>,
    pub input_batching_dims: Vec<usize>,
    pub scatter_indices_batching_dims: Vec<usize>,
    pub scatter_dims_to_operand_dims: Vec<usize>,
    pub index_vector_dim: usize,
}

/// An op with one scalar region. Operands, results and region arguments:
///
/// - `Reduce { dims }`: operands `x_0..x_{n-1}, init_0..init_{n-1}` (inputs of one shape,
///   scalar inits of their dtypes); region `(acc_0..acc_{n-1}, x_0..x_{n-1}) -> (acc...)`;
///   results of the input shape without `dims`. Order: see [`super::region_kernels`].
/// - `ReduceWindow(w)`: the same operands and region; one result per input, of the window
///   count per dimension.
/// - `Sort { dim, stable }`: operands of one shape sorted together along `dim`; region
///   `(lhs_0, rhs_0, lhs_1, rhs_1, ...) -> bool`, "lhs comes before rhs".
/// - `Scatter(d)`: operands `input_0..input_{n-1}, indices, update_0..update_{n-1}`;
///   region `(current_0.., update_0..) -> (new...)`; results of the inputs' types.
#[derive(Clone, Debug, PartialEq)]
pub enum RegionOp {
    Reduce { dims: Vec<usize> },
    ReduceWindow(Window),
    Sort { dim: usize, stable: bool },
    Scatter(ScatterDims),
}

impl RegionOp {
    pub fn name(&self) -> &'static str {
        match self {
            RegionOp::Reduce { .. } => "reduce",
            RegionOp::ReduceWindow(_) => "reduce_window",
            RegionOp::Sort { .. } => "sort",
            RegionOp::Scatter(_) => "scatter",
        }
    }
}

/// The types around a region op: its results, and its region's arguments and yields.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub results: Vec<TensorType>,
    pub params: Vec<TensorType>,
    pub yields: Vec<TensorType>,
}

macro_rules! type_err {
    ($($t:tt)*) => { return Err(TypeError(format!($($t)*))) };
}

fn scalars(ts: &[&TensorType]) -> Vec<TensorType> {
    ts.iter().map(|t| TensorType::scalar(t.dtype)).collect()
}

/// Splits `n` inputs of one shape and `n` scalar inits of their dtypes.
fn inputs_and_inits<'a>(
    name: &str,
    args: &[&'a TensorType],
) -> Result<(Vec<&'a TensorType>, Vec<&'a TensorType>), TypeError> {
    if args.is_empty() || !args.len().is_multiple_of(2) {
        type_err!(
            "'{name}' takes n inputs and n initial values (n >= 1), got {} operands",
            args.len()
        );
    }
    let n = args.len() / 2;
    let (xs, inits) = args.split_at(n);
    for (k, (x, i)) in xs.iter().zip(inits).enumerate() {
        if x.shape != xs[0].shape {
            type_err!("'{name}' needs inputs of one shape, got {} and {x}", xs[0]);
        }
        if !i.is_scalar() || i.dtype != x.dtype {
            type_err!(
                "'{name}' initial value {k} must be a scalar {}, got {i}",
                x.dtype
            );
        }
    }
    Ok((xs.to_vec(), inits.to_vec()))
}

/// The size of one output dimension of a window: `0` when the window does not fit.
pub fn window_out(n: usize, w: &Window, d: usize) -> Option<usize> {
    let dilated_in = if n == 0 {
        0
    } else {
        (n - 1).checked_mul(w.base_dilations[d])?.checked_add(1)?
    };
    let padded = dilated_in
        .checked_add(w.pad_low[d])?
        .checked_add(w.pad_high[d])?;
    let span = (w.dims[d] - 1).checked_mul(w.window_dilations[d])? + 1;
    Some(if padded < span {
        0
    } else {
        (padded - span) / w.strides[d] + 1
    })
}

/// The type rule of a region op: result types and region signature, or what is wrong.
pub fn signature(op: &RegionOp, args: &[&TensorType]) -> Result<Signature, TypeError> {
    match op {
        RegionOp::Reduce { dims } => {
            let (xs, inits) = inputs_and_inits("reduce", args)?;
            let rank = xs[0].rank();
            for (i, &d) in dims.iter().enumerate() {
                if d >= rank || (i > 0 && dims[i - 1] >= d) {
                    type_err!("'reduce' dims must be strictly increasing and below rank {rank}, got {dims:?}");
                }
            }
            let shape: Vec<usize> = (0..rank)
                .filter(|d| !dims.contains(d))
                .map(|d| xs[0].shape[d])
                .collect();
            let results = xs
                .iter()
                .map(|x| TensorType::new(x.dtype, shape.clone()))
                .collect();
            let mut params = scalars(&inits);
            params.extend(scalars(&xs));
            Ok(Signature {
                results,
                params,
                yields: scalars(&inits),
            })
        }
        RegionOp::ReduceWindow(w) => {
            let (xs, inits) = inputs_and_inits("reduce_window", args)?;
            let rank = xs[0].rank();
            let lists = [
                &w.dims,
                &w.strides,
                &w.base_dilations,
                &w.window_dilations,
                &w.pad_low,
                &w.pad_high,
            ];
            if lists.iter().any(|l| l.len() != rank) {
                type_err!("'reduce_window' needs window, strides, dilations and padding of {rank} entries each");
            }
            if lists[..4].iter().any(|l| l.contains(&0)) {
                type_err!("'reduce_window' window sizes, strides and dilations must be >= 1");
            }
            let mut shape = Vec::with_capacity(rank);
            for d in 0..rank {
                match window_out(xs[0].shape[d], w, d) {
                    Some(n) => shape.push(n),
                    None => type_err!("'reduce_window' dimension {d} is too large"),
                }
            }
            let results = xs
                .iter()
                .map(|x| TensorType::new(x.dtype, shape.clone()))
                .collect();
            let mut params = scalars(&inits);
            params.extend(scalars(&xs));
            Ok(Signature {
                results,
                params,
                yields: scalars(&inits),
            })
        }
        RegionOp::Sort { dim, .. } => {
            let Some(first) = args.first() else {
                type_err!("'sort' needs at least one operand");
            };
            if *dim >= first.rank() {
                type_err!("'sort' dimension {dim} is out of range for {first}");
            }
            if let Some(x) = args.iter().find(|x| x.shape != first.shape) {
                type_err!("'sort' needs operands of one shape, got {first} and {x}");
            }
            let params = args
                .iter()
                .flat_map(|t| [TensorType::scalar(t.dtype), TensorType::scalar(t.dtype)])
                .collect();
            Ok(Signature {
                results: args.iter().map(|t| (*t).clone()).collect(),
                params,
                yields: vec![TensorType::scalar(DType::Bool)],
            })
        }
        RegionOp::Scatter(d) => scatter_signature(d, args),
    }
}

fn scatter_signature(d: &ScatterDims, args: &[&TensorType]) -> Result<Signature, TypeError> {
    if args.len() < 3 || args.len().is_multiple_of(2) {
        type_err!(
            "'scatter' takes n inputs, the indices and n updates (n >= 1), got {} operands",
            args.len()
        );
    }
    let n = args.len() / 2;
    let (inputs, rest) = args.split_at(n);
    let (idx, updates) = (rest[0], &rest[1..]);
    for x in inputs {
        if x.shape != inputs[0].shape {
            type_err!(
                "'scatter' needs inputs of one shape, got {} and {x}",
                inputs[0]
            );
        }
    }
    for (k, u) in updates.iter().enumerate() {
        if u.shape != updates[0].shape || u.dtype != inputs[k].dtype {
            type_err!("'scatter' update {k} must have the shape of update 0 and the dtype of input {k}, got {u}");
        }
    }
    if !idx.dtype.is_int() {
        type_err!("'scatter' indices must be integers, got {idx}");
    }
    let (in_rank, idx_rank, up_rank) = (inputs[0].rank(), idx.rank(), updates[0].rank());
    if d.index_vector_dim > idx_rank {
        type_err!(
            "'scatter' index_vector_dim {} is out of range for {idx}",
            d.index_vector_dim
        );
    }
    let vec_len = if d.index_vector_dim < idx_rank {
        idx.shape[d.index_vector_dim]
    } else {
        1
    };
    if d.scatter_dims_to_operand_dims.len() != vec_len {
        type_err!("'scatter' scatter_dims_to_operand_dims needs {vec_len} entries (the index vector length)");
    }
    let scatter_rank = idx_rank - usize::from(d.index_vector_dim < idx_rank);
    if up_rank != d.update_window_dims.len() + scatter_rank {
        type_err!(
            "'scatter' updates {} need rank {} (window dims plus scatter dims)",
            updates[0],
            d.update_window_dims.len() + scatter_rank
        );
    }
    let increasing = |l: &[usize], bound: usize| {
        l.iter()
            .enumerate()
            .all(|(i, &x)| x < bound && (i == 0 || l[i - 1] < x))
    };
    if !increasing(&d.update_window_dims, up_rank)
        || !increasing(&d.inserted_window_dims, in_rank)
        || d.input_batching_dims.iter().any(|&x| x >= in_rank)
        || d.scatter_indices_batching_dims
            .iter()
            .any(|&x| x >= idx_rank || x == d.index_vector_dim)
        || d.input_batching_dims.len() != d.scatter_indices_batching_dims.len()
        || d.scatter_dims_to_operand_dims.iter().any(|&x| x >= in_rank)
        || (0..d.scatter_dims_to_operand_dims.len()).any(|k| {
            let x = d.scatter_dims_to_operand_dims[k];
            d.scatter_dims_to_operand_dims[..k].contains(&x) || d.input_batching_dims.contains(&x)
        })
        || (0..d.input_batching_dims.len())
            .any(|k| d.input_batching_dims[..k].contains(&d.input_batching_dims[k]))
    {
        type_err!("'scatter' dimension numbers are out of range or not increasing: {d:?}");
    }
    // Input dimensions that the window spans: all but the inserted and batching ones.
    let window_in: Vec<usize> = (0..in_rank)
        .filter(|x| !d.inserted_window_dims.contains(x) && !d.input_batching_dims.contains(x))
        .collect();
    if window_in.len() != d.update_window_dims.len()
        || window_in.len() + d.inserted_window_dims.len() + d.input_batching_dims.len() != in_rank
    {
        type_err!("'scatter' needs one update window dim per input dim that is neither inserted nor batching: {d:?}");
    }
    for (k, &ud) in d.update_window_dims.iter().enumerate() {
        if updates[0].shape[ud] > inputs[0].shape[window_in[k]] {
            type_err!(
                "'scatter' update window dim {ud} is larger than input dim {}",
                window_in[k]
            );
        }
    }
    // Update scatter dimensions must match the indices' batch dimensions.
    let up_scatter: Vec<usize> = (0..up_rank)
        .filter(|x| !d.update_window_dims.contains(x))
        .collect();
    let idx_batch: Vec<usize> = (0..idx_rank).filter(|&x| x != d.index_vector_dim).collect();
    for (u, i) in up_scatter.iter().zip(&idx_batch) {
        if updates[0].shape[*u] != idx.shape[*i] {
            type_err!(
                "'scatter' updates {} do not match the index batch shape of {idx}",
                updates[0]
            );
        }
    }
    let mut params = scalars(inputs);
    params.extend(scalars(updates));
    Ok(Signature {
        results: inputs.iter().map(|t| (*t).clone()).collect(),
        params,
        yields: scalars(inputs),
    })
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |ts: &[TensorType]| {
            ts.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(f, "({}) -> ({})", show(&self.params), show(&self.yields))
    }
}

/// One instruction of a [`Body`]: its op, its operand slots, its result dtype. Slots
/// `0..params.len()` are the region arguments; instruction `k` writes slot `params.len() + k`.
#[derive(Clone, Debug, PartialEq)]
pub struct BodyInst {
    pub op: Op,
    pub args: Vec<usize>,
    pub dtype: DType,
}

/// A region as a flat scalar program (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub params: Vec<DType>,
    pub insts: Vec<BodyInst>,
    pub yields: Vec<usize>,
}

/// One replacement of a sort key map ([`Body::key_map`]): elements equal to `when` (NaN
/// elements when `None`) become `value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyStep {
    pub when: Option<Scalar>,
    pub value: Scalar,
}

/// Whether `op` may appear in a scalar region (on rank-0 values).
pub fn allowed_in_body(op: &Op) -> bool {
    matches!(
        op,
        Op::Const(_)
            | Op::Unary(_)
            | Op::Binary(_)
            | Op::Compare(_)
            | Op::Select
            | Op::Convert
            | Op::Reshape
            | Op::Broadcast { .. }
            | Op::Yield
    )
}

impl Body {
    /// `(acc, x) -> op(acc, x)` on `dt`: a fold (or a scatter's update) by one op.
    pub fn fold(op: BinaryOp, dt: DType) -> Body {
        Body {
            params: vec![dt, dt],
            insts: vec![BodyInst {
                op: Op::Binary(op),
                args: vec![0, 1],
                dtype: dt,
            }],
            yields: vec![2],
        }
    }

    /// `(old, new) -> new`: a scatter that sets.
    pub fn replace(dt: DType) -> Body {
        Body {
            params: vec![dt, dt],
            insts: vec![],
            yields: vec![1],
        }
    }

    /// The argmax (`max`) or argmin region of JAX over (value, index) pairs: the larger
    /// (smaller) value wins, NaN wins over everything, and ties keep the smaller index.
    /// Arguments `(acc_value, acc_index, value, index)`.
    pub fn arg_best(dt: DType, index: DType, max: bool) -> Body {
        let i = |op: Op, args: &[usize], dtype: DType| BodyInst {
            op,
            args: args.to_vec(),
            dtype,
        };
        let b = DType::Bool;
        let better = if max { CmpOp::Gt } else { CmpOp::Lt };
        Body {
            params: vec![dt, index, dt, index],
            insts: vec![
                i(Op::Compare(better), &[0, 2], b),       // 4
                i(Op::Compare(CmpOp::Ne), &[0, 0], b),    // 5: acc is NaN
                i(Op::Binary(BinaryOp::Or), &[4, 5], b),  // 6: keep acc's value
                i(Op::Compare(CmpOp::Eq), &[0, 2], b),    // 7
                i(Op::Compare(CmpOp::Lt), &[1, 3], b),    // 8
                i(Op::Binary(BinaryOp::And), &[7, 8], b), // 9: a tie, acc first
                i(Op::Binary(BinaryOp::Or), &[6, 9], b),  // 10: keep acc's index
                i(Op::Select, &[6, 0, 2], dt),            // 11
                i(Op::Select, &[10, 1, 3], index),        // 12
            ],
            yields: vec![11, 12],
        }
    }

    /// A sort comparator on operands of `dts`: the total order on operand 0, ascending or
    /// descending (the other operands ride along).
    pub fn order(dts: &[DType], descending: bool) -> Body {
        let cmp = if descending {
            CmpOp::TotalGt
        } else {
            CmpOp::TotalLt
        };
        Body {
            params: dts.iter().flat_map(|&d| [d, d]).collect(),
            insts: vec![BodyInst {
                op: Op::Compare(cmp),
                args: vec![0, 1],
                dtype: DType::Bool,
            }],
            yields: vec![2 * dts.len()],
        }
    }

    /// Runs the program on `args`, writing the yielded values to `out`; `regs` is scratch.
    /// `None` only if the program was not verified.
    pub fn eval(
        &self,
        args: &[Scalar],
        regs: &mut Vec<Scalar>,
        out: &mut Vec<Scalar>,
    ) -> Option<()> {
        regs.clear();
        regs.extend_from_slice(args);
        for i in &self.insts {
            let a = |k: usize| regs.get(*i.args.get(k)?).copied();
            let v = match &i.op {
                Op::Const(t) => t.get(0)?,
                Op::Unary(u) => eval_unary(*u, a(0)?)?,
                Op::Binary(b) => eval_binary(*b, a(0)?, a(1)?)?,
                Op::Compare(c) => eval_compare(*c, a(0)?, a(1)?)?,
                Op::Select => eval_select(a(0)?, a(1)?, a(2)?)?,
                Op::Convert => convert(a(0)?, i.dtype),
                Op::Reshape | Op::Broadcast { .. } => a(0)?,
                _ => return None,
            };
            regs.push(v);
        }
        out.clear();
        for &y in &self.yields {
            out.push(*regs.get(y)?);
        }
        Some(())
    }

    /// The binary op when the body is `yield op(arg0, arg1)` (or with the arguments swapped,
    /// for a commutative op) on two arguments: the fast path of reductions and scatters.
    pub fn single_binary(&self) -> Option<BinaryOp> {
        self.combine().flatten().map(|(b, _)| b)
    }

    /// The fast form of a two-argument region: `Some(None)` when it returns its second
    /// argument, `Some(Some((op, swapped)))` when it is `op(arg0, arg1)` (`op(arg1, arg0)`
    /// when swapped), `None` otherwise.
    pub fn combine(&self) -> Option<super::region_fast::Combine> {
        if self.is_replace() {
            return Some(None);
        }
        if self.params.len() != 2 || self.insts.len() != 1 || self.yields != [2] {
            return None;
        }
        let i = &self.insts[0];
        let Op::Binary(b) = i.op else { return None };
        let commutative = matches!(
            b,
            BinaryOp::Add
                | BinaryOp::Mul
                | BinaryOp::Min
                | BinaryOp::Max
                | BinaryOp::And
                | BinaryOp::Or
                | BinaryOp::Xor
        );
        match i.args[..] {
            [0, 1] => Some(Some((b, false))),
            [1, 0] if commutative => Some(Some((b, true))),
            _ => None,
        }
    }

    /// Whether the body yields its second argument unchanged (scatter's "set").
    pub fn is_replace(&self) -> bool {
        self.params.len() == 2 && self.yields == [1]
    }

    /// For a sort comparator that is a strict total order on a key of one operand: the
    /// operand, whether the order is descending, and the slot holding the key of `lhs` (the
    /// operand's `lhs` argument itself, or a value computed from it alone). The comparator
    /// must be `lt`/`gt` of `key(lhs)` and `key(rhs)`, where `key` is the same program on
    /// each side (`jnp.sort`'s canonicalizes -0 and NaN first), with `lt.total`/`gt.total`
    /// on floats and any `lt`/`gt` on integers.
    pub fn sort_key(&self) -> Option<(usize, bool, usize)> {
        let n = self.params.len();
        let last = self.insts.len().checked_sub(1)?;
        if self.yields != [n + last] || self.insts.len() > 64 {
            return None;
        }
        let i = &self.insts[last];
        let Op::Compare(c) = i.op else { return None };
        let [p, q] = i.args[..] else { return None };
        let (a, b) = (self.param_of(p)?, self.param_of(q)?);
        if a / 2 != b / 2 || a == b || !self.mirror(p, q, a, b) {
            return None;
        }
        let float = self.dtype_of(p)?.is_float();
        let descending = match (c, float) {
            (CmpOp::Lt, false) | (CmpOp::TotalLt, _) => false,
            (CmpOp::Gt, false) | (CmpOp::TotalGt, _) => true,
            _ => return None,
        };
        // `lt(key(rhs), key(lhs))` is `gt(key(lhs), key(rhs))`.
        let (key, flip) = if a.is_multiple_of(2) {
            (p, false)
        } else {
            (q, true)
        };
        Some((a / 2, descending != flip, key))
    }

    /// For a fold region over `n` accumulators (arguments `0..n`, then the `n` new
    /// elements): slots of boolean conditions each of which, when true, makes the region
    /// yield its accumulators unchanged. They are the conditions every yield `k` is guarded
    /// by as `select(c, acc_k, _)` where `c` is that condition or an `or` containing it.
    /// JAX's argmax region has two, `acc > x` and `acc != acc`: compiled code tests them
    /// first and skips the rest of the region, which changes nothing else (the region still
    /// decides every other case, so the bits are the region's). Empty when there are none.
    pub fn keep_conditions(&self, n: usize) -> Vec<usize> {
        let np = self.params.len();
        if self.yields.len() != n || np != 2 * n || self.insts.len() > 64 {
            return Vec::new();
        }
        // The `or` leaves of a condition, in order (bounded by the instruction count).
        let leaves = |c: usize| -> Vec<usize> {
            let mut out = Vec::new();
            let mut stack = vec![c];
            while let Some(s) = stack.pop() {
                let inst = s.checked_sub(np).and_then(|k| self.insts.get(k));
                match inst {
                    Some(i) if i.op == Op::Binary(BinaryOp::Or) && i.dtype == DType::Bool => {
                        stack.extend(i.args.iter().rev());
                    }
                    _ if !out.contains(&s) => out.push(s),
                    _ => {}
                }
            }
            out
        };
        let mut common: Option<Vec<usize>> = None;
        for (k, &y) in self.yields.iter().enumerate() {
            if y == k {
                // Yields its accumulator whatever happens.
                continue;
            }
            let Some(i) = y.checked_sub(np).and_then(|j| self.insts.get(j)) else {
                return Vec::new();
            };
            let [c, t, _] = i.args[..] else {
                return Vec::new();
            };
            if i.op != Op::Select || t != k {
                return Vec::new();
            }
            let ls = leaves(c);
            common = Some(match common {
                None => ls,
                Some(prev) => prev.into_iter().filter(|s| ls.contains(s)).collect(),
            });
        }
        common
            .unwrap_or_default()
            .into_iter()
            .filter(|&s| self.dtype_of(s) == Some(DType::Bool))
            .collect()
    }

    /// For a sort key computed from argument `param` (see [`Body::sort_key`]): the key as
    /// a chain of replacements, outermost first, when it is `select(c, K, rest)` nested
    /// down to the argument itself, each `c` being `ne(x, x)` (x is NaN, `None` here) or
    /// `eq(x, C)` (`Some(C)`) and `K` a constant. `jnp.sort`'s canonicalization (NaN to one
    /// NaN, -0 to 0) is such a chain, so it runs as typed code instead of the program.
    pub fn key_map(&self, slot: usize, param: usize) -> Option<Vec<KeyStep>> {
        let np = self.params.len();
        let dt = *self.params.get(param)?;
        let konst = |s: usize| match &self.insts.get(s.checked_sub(np)?)?.op {
            Op::Const(t) if t.len() == 1 && t.dtype() == dt => t.get(0),
            _ => None,
        };
        let mut steps = Vec::new();
        let mut cur = slot;
        // Each step goes to a lower slot, so this ends within the instruction count.
        while cur != param {
            let i = self.insts.get(cur.checked_sub(np)?)?;
            let [c, k, rest] = i.args[..] else {
                return None;
            };
            if i.op != Op::Select || i.dtype != dt || rest >= cur {
                return None;
            }
            let ci = self.insts.get(c.checked_sub(np)?)?;
            let when = match (&ci.op, &ci.args[..]) {
                (Op::Compare(CmpOp::Ne), &[a, b]) if a == param && b == param => None,
                (Op::Compare(CmpOp::Eq), &[a, b]) if a == param => Some(konst(b)?),
                (Op::Compare(CmpOp::Eq), &[a, b]) if b == param => Some(konst(a)?),
                _ => return None,
            };
            steps.push(KeyStep {
                when,
                value: konst(k)?,
            });
            cur = rest;
        }
        Some(steps)
    }

    fn dtype_of(&self, slot: usize) -> Option<DType> {
        match slot.checked_sub(self.params.len()) {
            None => self.params.get(slot).copied(),
            Some(k) => self.insts.get(k).map(|i| i.dtype),
        }
    }

    /// The one region argument `slot` depends on, if exactly one.
    fn param_of(&self, slot: usize) -> Option<usize> {
        let n = self.params.len();
        let mut seen = vec![false; n + self.insts.len()];
        let mut stack = vec![slot];
        let mut found = None;
        while let Some(s) = stack.pop() {
            if std::mem::replace(seen.get_mut(s)?, true) {
                continue;
            }
            if s < n {
                if found.is_some_and(|f| f != s) {
                    return None;
                }
                found = Some(s);
            } else {
                stack.extend(&self.insts[s - n].args);
            }
        }
        found
    }

    /// Whether `p` computes from argument `a` what `q` computes from argument `b`, by the
    /// same instructions. Each step goes to lower slots, so the recursion is bounded by the
    /// (limited) number of instructions.
    fn mirror(&self, p: usize, q: usize, a: usize, b: usize) -> bool {
        let n = self.params.len();
        match (p.checked_sub(n), q.checked_sub(n)) {
            (None, None) => p == a && q == b,
            (Some(i), Some(j)) => {
                let (x, y) = (&self.insts[i], &self.insts[j]);
                x.op == y.op
                    && x.dtype == y.dtype
                    && x.args.len() == y.args.len()
                    && x.args
                        .iter()
                        .zip(&y.args)
                        .all(|(&u, &v)| (u == v && u >= n) || self.mirror(u, v, a, b))
            }
            _ => false,
        }
    }
}
