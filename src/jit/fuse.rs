//! Fusion of elementwise ops: which values are computed inside their consumer's loop instead
//! of being stored (the plan, decided before lowering), expression trees of fused groups, and
//! the fused loops that evaluate a tree per element (scalar) or per 128-bit vector.
//!
//! A value is fused ("inline") when it is a tensor computed by an elementwise op whose only use
//! is an elementwise op or a trailing-axes `reduce` in the same region: such a value is never
//! seen by anything else, so it needs no buffer. Splat constants and broadcasts are fused into
//! every consumer when all their uses are such consumers: their elements are a scalar register
//! or a strided read of their operand. Every other value is materialized as before, so values
//! used more than once or outside the group keep their buffer.
//!
//! Fusion moves the reads of a group's leaves to the consumer's position, which is safe because
//! every buffer is written once before it is read and stays unchanged until the end of the
//! region iteration that wrote it (see `lower.rs`).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData, Type};

use super::lower::{cl_type, Lowerer, Result};
use crate::ir::{Function, Value};
use crate::ops::{BinaryOp, Op, ReduceOp, UnaryOp};
use crate::types::DType;

/// The largest number of nodes one fused value may carry into its consumer; it bounds the
/// depth of the recursive tree walks and the size of the loop bodies.
const MAX_GROUP: usize = 32;

/// How a value is lowered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// A register (scalar) or a buffer (tensor), as usual.
    Normal,
    /// Computed inside its only consumer's loop.
    Inline,
    /// A splat or broadcast read inside each consumer's loop.
    Leaf,
}

/// The decisions taken before lowering a function.
pub(crate) struct FusionPlan {
    pub plan: Vec<Plan>,
    /// Tensors written directly into a function output (`Out(i)`) or into the other buffer of
    /// a loop-carried value (`Carried`), so that `return`/`yield` need not copy them.
    pub dest: Vec<Option<Dest>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dest {
    Out(usize),
    Carried,
}

fn is_elementwise(op: &Op) -> bool {
    matches!(
        op,
        Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::Convert
    )
}

/// Whether `axes` are the last `axes.len()` axes of a rank-`rank` operand.
pub(crate) fn trailing(axes: &[usize], rank: usize) -> bool {
    axes.len() <= rank
        && axes
            .iter()
            .enumerate()
            .all(|(i, &a)| a == rank - axes.len() + i)
}

/// Whether the instruction producing `dest`-capable results writes its result slot through
/// `Lowerer::alloc_result` (elementwise roots, `reduce`, `dot`).
fn writes_result_slot(op: &Op) -> bool {
    is_elementwise(op) || matches!(op, Op::Reduce { .. } | Op::Dot)
}

/// Decides the plan of every value of `f`. With `fusion` off every value is `Normal`.
pub(crate) fn plan(f: &Function, fusion: bool) -> FusionPlan {
    let nv = f.values.len();
    let mut out = FusionPlan {
        plan: vec![Plan::Normal; nv],
        dest: vec![None; nv],
    };
    if !fusion {
        return out;
    }
    let ni = f.insts.len();
    // The region of every instruction and the users of every value. Regions are scanned by
    // index, so a malformed function (which lowering rejects later) cannot make this loop.
    let mut region_of = vec![usize::MAX; ni];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for (r, rd) in f.regions.iter().enumerate() {
        for &i in &rd.insts {
            let Some(d) = f.insts.get(i.index()) else {
                return out;
            };
            region_of[i.index()] = r;
            for a in &d.args {
                match users.get_mut(a.index()) {
                    Some(u) => u.push(i.index()),
                    None => return out,
                }
            }
        }
    }
    let valid = |v: Value| v.index() < nv;
    // Whether instruction `u` can take its operand `v` as a fused tree.
    let consumer = |u: usize, v: Value| -> bool {
        let d = &f.insts[u];
        let Some(&res) = d.results.first() else {
            return false;
        };
        if d.results.len() != 1 || !valid(res) || f.ty(res).is_scalar() {
            return match &d.op {
                // A full reduction to a scalar is a consumer too.
                Op::Reduce { axes, .. } => {
                    d.args.len() == 1 && d.results.len() == 1 && trailing(axes, f.ty(v).rank())
                }
                _ => false,
            };
        }
        match &d.op {
            op if is_elementwise(op) => true,
            Op::Reduce { axes, .. } => d.args.len() == 1 && trailing(axes, f.ty(v).rank()),
            _ => false,
        }
    };
    let mut size = vec![0usize; nv];
    for (r, rd) in f.regions.iter().enumerate() {
        for &i in &rd.insts {
            let d = &f.insts[i.index()];
            let [v] = d.results[..] else { continue };
            if !valid(v) || f.ty(v).is_scalar() || d.args.iter().any(|&a| !valid(a)) {
                continue;
            }
            let us = &users[v.index()];
            let all_consumers = !us.is_empty() && us.iter().all(|&u| consumer(u, v));
            match &d.op {
                op if is_elementwise(op) => {
                    let s = 1 + d
                        .args
                        .iter()
                        .filter(|a| out.plan[a.index()] == Plan::Inline)
                        .map(|a| size[a.index()])
                        .sum::<usize>();
                    size[v.index()] = s;
                    if us.len() == 1
                        && region_of[us[0]] == r
                        && consumer(us[0], v)
                        && s <= MAX_GROUP
                    {
                        out.plan[v.index()] = Plan::Inline;
                    }
                }
                Op::Const(t) if !t.is_empty() && t.is_splat() && all_consumers => {
                    out.plan[v.index()] = Plan::Leaf;
                }
                Op::Broadcast { .. } if d.args.len() == 1 && all_consumers => {
                    out.plan[v.index()] = Plan::Leaf;
                }
                _ => {}
            }
        }
    }
    // Destinations: a result computed at the top level of the body and returned is written
    // into the output; a tensor yielded by a `while` body and used nowhere else is written
    // into the loop's other buffer.
    let defining = |v: Value| match f.value(v).def {
        crate::ir::ValueDef::Result(i, 0) => Some(i.index()),
        _ => None,
    };
    for (r, rd) in f.regions.iter().enumerate() {
        let Some(&last) = rd.insts.last() else {
            continue;
        };
        let d = &f.insts[last.index()];
        match d.op {
            Op::Return if r == f.body.index() => {
                for (k, &v) in d.args.iter().enumerate() {
                    let Some(i) = defining(v) else { continue };
                    if !f.ty(v).is_scalar()
                        && f.results.get(k) == Some(f.ty(v))
                        && out.dest[v.index()].is_none()
                        && out.plan[v.index()] == Plan::Normal
                        && region_of[i] == r
                        && writes_result_slot(&f.insts[i].op)
                    {
                        out.dest[v.index()] = Some(Dest::Out(k));
                    }
                }
            }
            Op::Yield => {
                for &v in &d.args {
                    let Some(i) = defining(v) else { continue };
                    if !f.ty(v).is_scalar()
                        && users[v.index()].len() == 1
                        && out.plan[v.index()] == Plan::Normal
                        && region_of[i] == r
                        && writes_result_slot(&f.insts[i].op)
                    {
                        out.dest[v.index()] = Some(Dest::Carried);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// An elementwise operation of a fused tree.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EwOp {
    Unary(UnaryOp),
    Binary(BinaryOp),
    Compare(crate::ops::CmpOp),
    Select,
    Convert,
}

/// What a leaf reads: a buffer through per-dimension element strides over the tree's shape
/// (0 for a broadcast dimension), or one scalar register.
#[derive(Clone, Debug)]
pub(crate) enum LeafSrc {
    Buf { ptr: clir::Value, coefs: Vec<usize> },
    Splat(clir::Value),
}

#[derive(Clone, Debug)]
pub(crate) enum Node {
    Leaf {
        src: LeafSrc,
        dt: DType,
        ir: Value,
    },
    Op {
        op: EwOp,
        args: Vec<usize>,
        dt: DType,
    },
}

/// A fused group: nodes in dependency order, the last one is the root.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    pub shape: Vec<usize>,
}

impl Tree {
    fn dt(&self, n: usize) -> DType {
        match &self.nodes[n] {
            Node::Leaf { dt, .. } | Node::Op { dt, .. } => *dt,
        }
    }

    fn root(&self) -> usize {
        self.nodes.len() - 1
    }

    /// The lane count of a 128-bit vector version of the tree, if every value in it has one
    /// element size of 4 or 8 bytes (no bools, no widening conversions) and is signed or a
    /// float of its own width (the vector forms use signed `min`/`max`/`abs`).
    fn lanes(&self) -> Option<usize> {
        let es = self.dt(0).size_bytes();
        if !(es == 4 || es == 8) {
            return None;
        }
        let all = (0..self.nodes.len()).all(|n| {
            let d = self.dt(n);
            d.size_bytes() == es && !d.is_unsigned()
        });
        all.then_some(16 / es)
    }

    /// Whether every buffer leaf is the row-major layout of the tree's shape.
    pub(crate) fn contiguous(&self) -> bool {
        let strides = crate::types::TensorType::new(DType::F32, self.shape.clone()).strides();
        self.nodes.iter().all(|n| match n {
            Node::Leaf {
                src: LeafSrc::Buf { coefs, .. },
                ..
            } => coefs
                .iter()
                .zip(&strides)
                .zip(&self.shape)
                .all(|((c, s), &d)| d == 1 || c == s),
            _ => true,
        })
    }
}

/// The vector type of `dt` with `lanes` lanes.
fn vec_type(dt: DType) -> Type {
    // Bool never reaches vector code (`Tree::lanes`); a byte vector keeps this total.
    let t = cl_type(dt);
    t.by(16 / t.bytes()).unwrap_or(types::I8X16)
}

/// Flags of vector loads and stores: the addresses are in bounds but not 16-byte aligned.
fn vflags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Whether an elementwise op has an exact 128-bit vector form on `dt` (operand dtype) giving
/// `out` (result dtype); the others are computed lane by lane with the scalar code (for
/// `log`, `sin`, `cos`, `pow`, `rem`: a runtime call per lane).
fn vector_form(op: EwOp, dt: DType, out: DType) -> bool {
    match op {
        EwOp::Unary(u) => match u {
            UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Not => true,
            UnaryOp::Sqrt | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round => dt.is_float(),
            // graphjit's own polynomial `exp`/`tanh` (`ops::scalar::vmath`), emitted in
            // f32x4 / f64x2.
            UnaryOp::Exp | UnaryOp::Tanh => dt.is_float(),
            _ => false,
        },
        EwOp::Binary(b) => match b {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Min | BinaryOp::Max => true,
            BinaryOp::Div => dt.is_float(),
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => !dt.is_float(),
            _ => false,
        },
        EwOp::Convert => {
            dt == out
                || matches!(
                    (dt, out),
                    (DType::I32, DType::F32) | (DType::F32, DType::I32)
                )
        }
        EwOp::Compare(_) | EwOp::Select => false,
    }
}

/// Per-row state of a fused loop: the address of each buffer leaf's first element of the row,
/// or the scalar (and vector) value of a leaf that is constant along the row.
struct Row {
    base: Vec<Option<clir::Value>>,
    /// Byte step per element along the row, for scalar loops.
    step: Vec<i64>,
    scalar: Vec<Option<clir::Value>>,
    vector: Vec<Option<clir::Value>>,
}

/// Where a fused loop puts each element.
pub(crate) enum Sink {
    /// Row-major into this buffer.
    Store(clir::Value),
}

impl Lowerer<'_, '_> {
    /// The fused tree of the tensor `v`, whose node list ends in `v` itself.
    pub(crate) fn tree_of(&mut self, v: Value) -> Result<Tree> {
        let mut t = Tree {
            nodes: Vec::new(),
            shape: self.ty(v)?.shape.clone(),
        };
        self.add_node(&mut t, v)?;
        Ok(t)
    }

    fn add_node(&mut self, t: &mut Tree, v: Value) -> Result<usize> {
        let ty = self.ty(v)?;
        let dt = ty.dtype;
        if let Some(n) = t
            .nodes
            .iter()
            .position(|n| matches!(n, Node::Leaf { ir, .. } if *ir == v))
        {
            return Ok(n);
        }
        let src = match self.plan.plan.get(v.index()) {
            Some(Plan::Inline) if self.deferred[v.index()] => {
                let f = self.f;
                let crate::ir::ValueDef::Result(i, 0) = f.value(v).def else {
                    return Err(self.err(format!("fused value {} has no instruction", v.0)));
                };
                let d = f.inst(i);
                let op = match &d.op {
                    Op::Unary(u) => EwOp::Unary(*u),
                    Op::Binary(b) => EwOp::Binary(*b),
                    Op::Compare(c) => EwOp::Compare(*c),
                    Op::Select => EwOp::Select,
                    Op::Convert => EwOp::Convert,
                    _ => return Err(self.err(format!("fused value {} is not elementwise", v.0))),
                };
                let mut args = Vec::with_capacity(d.args.len());
                for &a in &d.args {
                    args.push(self.add_node(t, a)?);
                }
                t.nodes.push(Node::Op { op, args, dt });
                return Ok(t.nodes.len() - 1);
            }
            Some(Plan::Leaf) => self.leaf_srcs[v.index()]
                .clone()
                .ok_or_else(|| self.err(format!("value {} is used before it is defined", v.0)))?,
            _ => LeafSrc::Buf {
                ptr: self.val(v)?,
                coefs: ty.strides(),
            },
        };
        t.nodes.push(Node::Leaf { src, dt, ir: v });
        Ok(t.nodes.len() - 1)
    }

    /// Adds the root node of an elementwise instruction `op(args)` with result dtype `dt` and
    /// result shape `shape` on top of its operands' trees.
    pub(crate) fn tree_of_op(
        &mut self,
        op: EwOp,
        args: &[Value],
        dt: DType,
        shape: &[usize],
    ) -> Result<Tree> {
        let mut t = Tree {
            nodes: Vec::new(),
            shape: shape.to_vec(),
        };
        let mut ns = Vec::with_capacity(args.len());
        for &a in args {
            ns.push(self.add_node(&mut t, a)?);
        }
        t.nodes.push(Node::Op { op, args: ns, dt });
        Ok(t)
    }

    /// Emits the scalar code of one elementwise op.
    fn scalar_op(
        &mut self,
        op: EwOp,
        in_dt: DType,
        out_dt: DType,
        x: &[clir::Value],
    ) -> Result<clir::Value> {
        Ok(match op {
            EwOp::Unary(u) => self.unary(u, in_dt, x[0])?,
            EwOp::Binary(b) => self.binary(b, in_dt, x[0], x[1])?,
            EwOp::Compare(c) => self.compare(c, in_dt, x[0], x[1]),
            EwOp::Select => self.b.ins().select(x[0], x[1], x[2]),
            EwOp::Convert => self.convert(in_dt, out_dt, x[0]),
        })
    }

    /// The dtype an op's operation is defined on (its last operand's: `select`'s values).
    fn in_dt(t: &Tree, args: &[usize]) -> DType {
        t.dt(*args.last().unwrap_or(&0))
    }

    /// Evaluates the tree for the element at index `i` (an `i64` along the row).
    fn eval_scalar(&mut self, t: &Tree, row: &Row, i: clir::Value) -> Result<clir::Value> {
        let mut vals: Vec<clir::Value> = Vec::with_capacity(t.nodes.len());
        for (n, node) in t.nodes.iter().enumerate() {
            let v = match node {
                Node::Leaf { dt, .. } => match (row.scalar[n], row.base[n]) {
                    (Some(s), _) => s,
                    (None, Some(base)) => {
                        let off = self.b.ins().imul_imm_s(i, row.step[n]);
                        let addr = self.b.ins().iadd(base, off);
                        self.b
                            .ins()
                            .load(cl_type(*dt), MemFlagsData::trusted(), addr, 0)
                    }
                    (None, None) => return Err(self.err("a fused leaf has no source")),
                },
                Node::Op { op, args, dt } => {
                    let xs: Vec<clir::Value> = args.iter().map(|&a| vals[a]).collect();
                    self.scalar_op(*op, Self::in_dt(t, args), *dt, &xs)?
                }
            };
            vals.push(v);
        }
        Ok(vals[t.root()])
    }

    /// Evaluates the tree for the vector of elements at byte offset `off + imm` along the row.
    fn eval_vector(
        &mut self,
        t: &Tree,
        row: &Row,
        off: clir::Value,
        imm: i64,
    ) -> Result<clir::Value> {
        let mut vals: Vec<clir::Value> = Vec::with_capacity(t.nodes.len());
        for (n, node) in t.nodes.iter().enumerate() {
            let v = match node {
                Node::Leaf { dt, .. } => match (row.vector[n], row.base[n]) {
                    (Some(s), _) => s,
                    (None, Some(base)) => {
                        let addr = self.b.ins().iadd(base, off);
                        self.b.ins().load(vec_type(*dt), vflags(), addr, imm as i32)
                    }
                    (None, None) => return Err(self.err("a fused leaf has no source")),
                },
                Node::Op { op, args, dt } => {
                    let xs: Vec<clir::Value> = args.iter().map(|&a| vals[a]).collect();
                    let in_dt = Self::in_dt(t, args);
                    if vector_form(*op, in_dt, *dt) {
                        self.vector_op(*op, in_dt, *dt, &xs)?
                    } else {
                        self.lanewise(*op, in_dt, *dt, &xs)?
                    }
                }
            };
            vals.push(v);
        }
        Ok(vals[t.root()])
    }

    /// An op without a vector form, computed lane by lane.
    fn lanewise(
        &mut self,
        op: EwOp,
        in_dt: DType,
        out_dt: DType,
        xs: &[clir::Value],
    ) -> Result<clir::Value> {
        let lanes = 16 / out_dt.size_bytes();
        let mut acc = None;
        for lane in 0..lanes {
            let ls: Vec<clir::Value> = xs
                .iter()
                .map(|&x| self.b.ins().extractlane(x, lane as u8))
                .collect();
            let r = self.scalar_op(op, in_dt, out_dt, &ls)?;
            acc = Some(match acc {
                None => self.b.ins().splat(vec_type(out_dt), r),
                Some(v) => self.b.ins().insertlane(v, r, lane as u8),
            });
        }
        acc.ok_or_else(|| self.err("a vector without lanes"))
    }

    /// The vector form of an op (see `vector_form`): lane by lane the same IEEE operations
    /// or wrapping integer operations as the scalar code.
    fn vector_op(
        &mut self,
        op: EwOp,
        in_dt: DType,
        out_dt: DType,
        x: &[clir::Value],
    ) -> Result<clir::Value> {
        if let EwOp::Unary(u) = op {
            if let Some(v) = self.vmath(u, in_dt, x[0], true) {
                return Ok(v);
            }
        }
        let ins = self.b.ins();
        let float = in_dt.is_float();
        Ok(match op {
            EwOp::Unary(u) => match (u, float) {
                (UnaryOp::Neg, true) => ins.fneg(x[0]),
                (UnaryOp::Neg, false) => ins.ineg(x[0]),
                (UnaryOp::Abs, true) => ins.fabs(x[0]),
                (UnaryOp::Abs, false) => ins.iabs(x[0]),
                (UnaryOp::Not, false) => ins.bnot(x[0]),
                (UnaryOp::Sqrt, true) => ins.sqrt(x[0]),
                (UnaryOp::Floor, true) => ins.floor(x[0]),
                (UnaryOp::Ceil, true) => ins.ceil(x[0]),
                (UnaryOp::Round, true) => ins.nearest(x[0]),
                _ => return self.lanewise(op, in_dt, out_dt, x),
            },
            EwOp::Binary(bop) => match (bop, float) {
                (BinaryOp::Add, true) => ins.fadd(x[0], x[1]),
                (BinaryOp::Sub, true) => ins.fsub(x[0], x[1]),
                (BinaryOp::Mul, true) => ins.fmul(x[0], x[1]),
                (BinaryOp::Div, true) => ins.fdiv(x[0], x[1]),
                (BinaryOp::Min, true) => ins.fmin(x[0], x[1]),
                (BinaryOp::Max, true) => ins.fmax(x[0], x[1]),
                (BinaryOp::Add, false) => ins.iadd(x[0], x[1]),
                (BinaryOp::Sub, false) => ins.isub(x[0], x[1]),
                (BinaryOp::Mul, false) => ins.imul(x[0], x[1]),
                (BinaryOp::Min, false) => ins.smin(x[0], x[1]),
                (BinaryOp::Max, false) => ins.smax(x[0], x[1]),
                (BinaryOp::And, false) => ins.band(x[0], x[1]),
                (BinaryOp::Or, false) => ins.bor(x[0], x[1]),
                (BinaryOp::Xor, false) => ins.bxor(x[0], x[1]),
                _ => return self.lanewise(op, in_dt, out_dt, x),
            },
            EwOp::Convert => match (in_dt, out_dt) {
                _ if in_dt == out_dt => x[0],
                (DType::I32, DType::F32) => ins.fcvt_from_sint(types::F32X4, x[0]),
                (DType::F32, DType::I32) => ins.fcvt_to_sint_sat(types::I32X4, x[0]),
                _ => return self.lanewise(op, in_dt, out_dt, x),
            },
            EwOp::Compare(_) | EwOp::Select => return self.lanewise(op, in_dt, out_dt, x),
        })
    }

    /// Prepares the per-row state for rows starting at element offsets given by `row_off(leaf
    /// coefs)` (an `i64` element index, or `None` for the first row), with the row along the
    /// last dimension of the tree's shape.
    fn row_state(&mut self, t: &Tree, outer: &[clir::Value], vector: bool) -> Result<Row> {
        let nn = t.nodes.len();
        let mut row = Row {
            base: vec![None; nn],
            step: vec![0; nn],
            scalar: vec![None; nn],
            vector: vec![None; nn],
        };
        let last = t.shape.len().saturating_sub(1);
        for (n, node) in t.nodes.iter().enumerate() {
            let Node::Leaf { src, dt, .. } = node else {
                continue;
            };
            let es = dt.size_bytes() as i64;
            match src {
                LeafSrc::Splat(s) => row.scalar[n] = Some(*s),
                LeafSrc::Buf { ptr, coefs } => {
                    let e = self.linear(outer, &coefs[..outer.len()], 0);
                    let bytes = self.b.ins().imul_imm_s(e, es);
                    let base = self.b.ins().iadd(*ptr, bytes);
                    let inner = if t.shape.is_empty() { 0 } else { coefs[last] };
                    if inner == 0 {
                        let s = self
                            .b
                            .ins()
                            .load(cl_type(*dt), MemFlagsData::trusted(), base, 0);
                        row.scalar[n] = Some(s);
                    } else {
                        row.base[n] = Some(base);
                        row.step[n] = inner as i64 * es;
                    }
                }
            }
            if vector {
                if let Some(s) = row.scalar[n] {
                    row.vector[n] = Some(self.b.ins().splat(vec_type(*dt), s));
                }
            }
        }
        Ok(row)
    }

    /// Merges adjacent dimensions that every buffer leaf walks contiguously and drops
    /// dimensions of size 1, so that most fused loops are one flat loop.
    fn collapse(t: &mut Tree) {
        let mut shape: Vec<usize> = Vec::new();
        let mut keep: Vec<Vec<usize>> = Vec::new();
        let leaves: Vec<usize> = (0..t.nodes.len())
            .filter(|&n| {
                matches!(
                    t.nodes[n],
                    Node::Leaf {
                        src: LeafSrc::Buf { .. },
                        ..
                    }
                )
            })
            .collect();
        let coef = |t: &Tree, n: usize, d: usize| match &t.nodes[n] {
            Node::Leaf {
                src: LeafSrc::Buf { coefs, .. },
                ..
            } => coefs[d],
            _ => 0,
        };
        for d in 0..t.shape.len() {
            if t.shape[d] == 1 {
                continue;
            }
            let cs: Vec<usize> = leaves.iter().map(|&n| coef(t, n, d)).collect();
            if let Some(s) = shape.last_mut() {
                let prev = keep.last_mut().expect("a coefficient row per dimension");
                let mergeable = prev.iter().zip(&cs).all(|(&p, &c)| p == c * t.shape[d]);
                if mergeable {
                    *s *= t.shape[d];
                    *prev = cs;
                    continue;
                }
            }
            shape.push(t.shape[d]);
            keep.push(cs);
        }
        for (k, &n) in leaves.iter().enumerate() {
            if let Node::Leaf {
                src: LeafSrc::Buf { coefs, .. },
                ..
            } = &mut t.nodes[n]
            {
                *coefs = keep.iter().map(|c| c[k]).collect();
            }
        }
        t.shape = shape;
    }

    /// Emits the loops that evaluate `t` for every element and put the results into `sink`.
    pub(crate) fn emit_fused(&mut self, mut t: Tree, sink: Sink) -> Result<()> {
        if t.shape.contains(&0) {
            return Ok(());
        }
        Self::collapse(&mut t);
        let Sink::Store(dst) = sink;
        let out_dt = t.dt(t.root());
        let oes = out_dt.size_bytes() as i64;
        let n = t.shape.last().copied().unwrap_or(1) as u64;
        let lanes = if self.simd { t.lanes() } else { None };
        // Vector loops need every buffer leaf to walk the row contiguously.
        let lanes = lanes.filter(|&l| {
            n >= l as u64
                && t.nodes.iter().all(|node| match node {
                    Node::Leaf {
                        src: LeafSrc::Buf { coefs, .. },
                        ..
                    } => matches!(coefs.last(), Some(0 | 1)),
                    _ => true,
                })
        });
        let outer_shape: Vec<usize> = t.shape[..t.shape.len().saturating_sub(1)].to_vec();
        let tr = &t;
        self.nest(&outer_shape, &mut |l, idx| {
            let row = l.row_state(tr, idx, lanes.is_some())?;
            let e = l.linear(idx, &row_strides(&tr.shape), 0);
            let e = l.b.ins().imul_imm_s(e, n as i64 * oes);
            let out = l.b.ins().iadd(dst, e);
            match lanes {
                Some(lanes) => l.vector_row(tr, &row, out, n, lanes),
                None => l.counted_loop(n, &mut |l, i| {
                    let v = l.eval_scalar(tr, &row, i)?;
                    let off = l.b.ins().imul_imm_s(i, oes);
                    let addr = l.b.ins().iadd(out, off);
                    l.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
                    Ok(())
                }),
            }
        })
    }

    /// One row of `n` elements of a vectorizable tree stored at `out`: a loop of two vectors
    /// per iteration, then the remaining whole vectors, then the remaining elements one by one.
    fn vector_row(
        &mut self,
        t: &Tree,
        row: &Row,
        out: clir::Value,
        n: u64,
        lanes: usize,
    ) -> Result<()> {
        const UNROLL: u64 = 2;
        let l = lanes as u64;
        let es = 16 / l as i64;
        let iters = n / (l * UNROLL);
        let step = (l * UNROLL) as i64 * es;
        self.offset_loop(iters, step, &mut |lw, off| {
            for u in 0..UNROLL as i64 {
                let v = lw.eval_vector(t, row, off, u * 16)?;
                let addr = lw.b.ins().iadd(out, off);
                lw.b.ins().store(vflags(), v, addr, (u * 16) as i32);
            }
            Ok(())
        })?;
        let mut done = iters * l * UNROLL;
        let zero = self.b.ins().iconst(types::I64, 0);
        while n - done >= l {
            let imm = done as i64 * es;
            let v = self.eval_vector(t, row, zero, imm)?;
            self.b.ins().store(vflags(), v, out, imm as i32);
            done += l;
        }
        for k in done..n {
            let i = self.b.ins().iconst(types::I64, k as i64);
            let v = self.eval_scalar(t, row, i)?;
            let oes = t.dt(t.root()).size_bytes() as i64;
            self.b
                .ins()
                .store(MemFlagsData::trusted(), v, out, (k as i64 * oes) as i32);
        }
        Ok(())
    }

    /// Emits `for off in (0..iters*step).step_by(step) { body(off) }` with a byte offset as
    /// the only induction variable.
    pub(crate) fn offset_loop(
        &mut self,
        iters: u64,
        step: i64,
        body: &mut dyn FnMut(&mut Self, clir::Value) -> Result<()>,
    ) -> Result<()> {
        if iters == 0 {
            return Ok(());
        }
        let header = self.b.create_block();
        let body_b = self.b.create_block();
        let exit = self.b.create_block();
        let off = self.b.append_block_param(header, types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().jump(header, &[zero.into()]);
        self.b.switch_to_block(header);
        let end = (iters as i64).wrapping_mul(step);
        let more = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, off, end);
        self.b.ins().brif(more, body_b, &[], exit, &[]);
        self.b.switch_to_block(body_b);
        body(self, off)?;
        let next = self.b.ins().iadd_imm_s(off, step);
        self.b.ins().jump(header, &[next.into()]);
        self.b.switch_to_block(exit);
        Ok(())
    }

    /// Reduces `r` consecutive elements of the contiguous tree `t` (flat, starting at element
    /// `start` of every buffer leaf) in the documented order: element `i` goes into
    /// accumulator `i % 16`, then the fixed tree. With vectors the sixteen accumulators are
    /// `16 / lanes` vector registers, lane `j` of register `k` being accumulator
    /// `k * lanes + j`, which is the same assignment.
    pub(crate) fn reduce_tree(
        &mut self,
        op: ReduceOp,
        t: &Tree,
        start: clir::Value,
        r: u64,
    ) -> Result<clir::Value> {
        let dt = t.dt(t.root());
        let es = dt.size_bytes() as i64;
        let lanes = if self.simd && dt != DType::Bool {
            t.lanes()
        } else {
            None
        };
        // The row: every buffer leaf contiguous from element `start`.
        let flat = Tree {
            nodes: t
                .nodes
                .iter()
                .map(|n| match n {
                    Node::Leaf {
                        src: LeafSrc::Buf { ptr, .. },
                        dt,
                        ir,
                    } => Node::Leaf {
                        src: LeafSrc::Buf {
                            ptr: *ptr,
                            coefs: vec![1, 1],
                        },
                        dt: *dt,
                        ir: *ir,
                    },
                    other => other.clone(),
                })
                .collect(),
            shape: vec![1, r as usize],
        };
        let row = self.row_state(&flat, &[start], lanes.is_some())?;
        let id = self.identity(op, dt)?;
        let chunks = r / 16;
        let acc: Vec<clir::Value> = match lanes {
            Some(lanes) => {
                let vt = vec_type(dt);
                let vid = self.b.ins().splat(vt, id);
                let vars: Vec<_> = (0..16 / lanes)
                    .map(|_| {
                        let v = self.b.declare_var(vt);
                        self.b.def_var(v, vid);
                        v
                    })
                    .collect();
                self.offset_loop(chunks, 16 * es, &mut |l, off| {
                    for (k, &a) in vars.iter().enumerate() {
                        let x = l.eval_vector(&flat, &row, off, k as i64 * 16)?;
                        let cur = l.b.use_var(a);
                        let next = l.combine(op, dt, cur, x);
                        l.b.def_var(a, next);
                    }
                    Ok(())
                })?;
                let mut acc = Vec::with_capacity(16);
                for &a in &vars {
                    let v = self.b.use_var(a);
                    for lane in 0..lanes {
                        acc.push(self.b.ins().extractlane(v, lane as u8));
                    }
                }
                acc
            }
            None => {
                let vars: Vec<_> = (0..16)
                    .map(|_| {
                        let v = self.b.declare_var(cl_type(dt));
                        self.b.def_var(v, id);
                        v
                    })
                    .collect();
                self.counted_loop(chunks, &mut |l, c| {
                    let i0 = l.b.ins().imul_imm_s(c, 16);
                    for (j, &a) in vars.iter().enumerate() {
                        let i = l.b.ins().iadd_imm_s(i0, j as i64);
                        let x = l.eval_scalar(&flat, &row, i)?;
                        let cur = l.b.use_var(a);
                        let next = l.combine(op, dt, cur, x);
                        l.b.def_var(a, next);
                    }
                    Ok(())
                })?;
                vars.iter().map(|&a| self.b.use_var(a)).collect()
            }
        };
        let mut acc = acc;
        for j in 0..(r % 16) {
            let i = self.b.ins().iconst(types::I64, (chunks * 16 + j) as i64);
            let x = self.eval_scalar(&flat, &row, i)?;
            acc[j as usize] = self.combine(op, dt, acc[j as usize], x);
        }
        Ok(self.combine_tree(op, dt, &acc))
    }
}

/// The row-major strides of the outer dimensions of `shape` counted in rows (the last
/// dimension is the row).
fn row_strides(shape: &[usize]) -> Vec<usize> {
    let outer = &shape[..shape.len().saturating_sub(1)];
    let mut s = vec![1; outer.len()];
    for d in (0..outer.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * outer[d + 1];
    }
    s
}
