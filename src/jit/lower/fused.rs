//! The loops of fused groups: expression trees of elementwise ops (built from the fusion plan
//! of `super::super::plan`; without fusion, a group of one op) evaluated per element or per
//! 128-bit vector, stored row-major or reduced in the documented order. Each node's
//! instructions come from the instruction selector (`super::super::isel`).
//!
//! Values of `f16`/`bf16` inside a tree are held widened, as `f32` (one lane of an `f32x4` in
//! vector code): widened where a leaf is loaded, rounded to their type after every op, and
//! narrowed (exactly) where the root is stored (`super::super::half_float`).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self as clir, types, InstBuilder, MemFlagsData};

use super::outline::parallel_worthy;
use super::{Lowerer, Result};
use crate::ir::Value;
use crate::jit::isel::{cl_type, splat_value, vector_type};
use crate::jit::plan::{EwOp, Plan};
use crate::ops::{ReduceOp, UnaryOp};
use crate::parallel::BLOCK;
use crate::types::{DType, TensorType};

mod reduce;

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

    /// The lane count of a vector version of the tree, if every value in it has one element
    /// size and one lane count in registers: 128-bit vectors of 4- or 8-byte elements or of
    /// the 1- and 2-byte integers (`i8x16`, `i16x8`), and the 16-bit floats as four `f32`
    /// lanes. No bools, no widening conversions. An op without a vector form for its lanes is
    /// split into lanes by `Isel::emit_lanes`, so every tree that passes here can be emitted.
    fn lanes(&self) -> Option<usize> {
        let es = self.dt(0).size_bytes();
        let lanes = vreg_type(self.dt(0))?.lane_count();
        let fits = |dt: DType| {
            dt.size_bytes() == es && vreg_type(dt).map(|t| t.lane_count()) == Some(lanes)
        };
        (0..self.nodes.len())
            .all(|n| fits(self.dt(n)))
            .then_some(lanes as usize)
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

/// The vector register type of `dt` in a fused tree: its 128-bit vector type, or `f32x4` for
/// the 16-bit floats, which vector code holds widened, four to a register.
fn vreg_type(dt: DType) -> Option<clir::Type> {
    if dt.is_half() {
        Some(types::F32X4)
    } else {
        vector_type(dt)
    }
}

/// At most this many splat constants of a vector tree are held in registers through its loop
/// (see `isel::splat_value`).
const PINNED_CONSTANTS: usize = 4;

/// The vector type of `dt` in code that chose vectors (`Tree::lanes` excludes bool).
fn vtype(dt: DType) -> clir::Type {
    vreg_type(dt).unwrap_or(types::I8X16)
}

/// The register type of one element of `dt` in a fused tree: `f32` for the 16-bit floats,
/// held widened, else the element's own type.
fn reg_type(dt: DType) -> clir::Type {
    if dt.is_half() {
        types::F32
    } else {
        cl_type(dt)
    }
}

/// Flags of vector loads and stores: the addresses are in bounds but not 16-byte aligned.
fn vflags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
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
            shape: self.ty(v).shape.to_vec(),
        };
        self.add_node(&mut t, v)?;
        Ok(t)
    }

    fn add_node(&mut self, t: &mut Tree, v: Value) -> Result<usize> {
        let ty = self.ty(v);
        let dt = ty.dtype;
        if let Some(n) = t
            .nodes
            .iter()
            .position(|n| matches!(n, Node::Leaf { ir, .. } if *ir == v))
        {
            return Ok(n);
        }
        let src = match self.plan.plan_of(v) {
            Plan::Inline if self.deferred[v.index()] => {
                let f = self.f;
                let crate::ir::ValueDef::Result(i, 0) = f.value(v).def else {
                    return Err(self.err(format!("fused value {} has no instruction", v.0)));
                };
                let d = f.inst(i);
                let op = EwOp::of(&d.op)
                    .ok_or_else(|| self.err(format!("fused value {} is not elementwise", v.0)))?;
                let mut args = Vec::with_capacity(d.args.len());
                for &a in &d.args {
                    args.push(self.add_node(t, a)?);
                }
                t.nodes.push(Node::Op { op, args, dt });
                return Ok(t.nodes.len() - 1);
            }
            Plan::Leaf => self.leaf_srcs[v.index()]
                .clone()
                .ok_or_else(|| self.err(format!("value {} is used before it is defined", v.0)))?,
            // A scalar operand of a tensor op (`select`'s scalar predicate) is a register
            // read by every element.
            _ if ty.is_scalar() && !t.shape.is_empty() => LeafSrc::Splat(self.val(v)?),
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
                        let x = self
                            .b
                            .ins()
                            .load(cl_type(*dt), MemFlagsData::trusted(), addr, 0);
                        self.widened(*dt, x)
                    }
                    (None, None) => return Err(self.err("a fused leaf has no source")),
                },
                Node::Op { op, args, dt } => {
                    let xs: Vec<clir::Value> = args.iter().map(|&a| vals[a]).collect();
                    let in_dt = Self::in_dt(t, args);
                    let r = if in_dt.is_half() || dt.is_half() {
                        self.isel()
                            .emit_widened(*op, in_dt, *dt, reg_type(*dt), &xs)
                    } else {
                        self.isel().emit(*op, in_dt, *dt, cl_type(*dt), &xs)
                    };
                    self.selected(r, "a fused op")?
                }
            };
            vals.push(v);
        }
        let (root, dt) = (vals[t.root()], t.dt(t.root()));
        if !dt.is_half() {
            return Ok(root);
        }
        let bits = self.isel().exact_bits(dt, root);
        Ok(self.b.ins().ireduce(types::I16, bits))
    }

    /// A leaf's value of `dt` as a fused tree holds it: 16-bit floats widened to `f32`.
    fn widened(&mut self, dt: DType, x: clir::Value) -> clir::Value {
        if dt.is_half() {
            self.isel().widen_half(dt, x)
        } else {
            x
        }
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
                        if dt.is_half() {
                            // Four elements, zero-extended to 32-bit lanes, then widened.
                            let u = self.b.ins().uload16x4(vflags(), addr, imm as i32);
                            self.isel().widen_bits(*dt, u)
                        } else {
                            self.b.ins().load(vtype(*dt), vflags(), addr, imm as i32)
                        }
                    }
                    (None, None) => return Err(self.err("a fused leaf has no source")),
                },
                Node::Op { op, args, dt } => {
                    let xs: Vec<clir::Value> = args.iter().map(|&a| vals[a]).collect();
                    let in_dt = Self::in_dt(t, args);
                    let r = if in_dt.is_half() || dt.is_half() {
                        self.isel().emit_widened(*op, in_dt, *dt, vtype(*dt), &xs)
                    } else {
                        self.isel().emit_lanes(*op, in_dt, *dt, vtype(*dt), &xs)
                    };
                    self.selected(r, "a fused vector op")?
                }
            };
            vals.push(v);
        }
        Ok(vals[t.root()])
    }

    /// The 16 bytes of results at byte offset `off + imm` along the row, as one vector to
    /// store: one evaluation of the tree, or for a 16-bit float root two (eight elements,
    /// four per `f32x4`) narrowed and packed into one `i16x8`.
    fn eval_unit(
        &mut self,
        t: &Tree,
        row: &Row,
        off: clir::Value,
        imm: i64,
    ) -> Result<clir::Value> {
        let dt = t.dt(t.root());
        if !dt.is_half() {
            return self.eval_vector(t, row, off, imm);
        }
        let lo = self.eval_vector(t, row, off, imm)?;
        let hi = self.eval_vector(t, row, off, imm + 8)?;
        let lo = self.isel().exact_bits(dt, lo);
        let hi = self.isel().exact_bits(dt, hi);
        // The lanes hold 0..=0xffff, which the saturating pack keeps.
        Ok(self.b.ins().unarrow(lo, hi))
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
        // Constants kept in registers through the loop, as long as they are few: many would
        // only be spilled (and cost a stack slot each).
        let splats = t
            .nodes
            .iter()
            .filter(|n| {
                matches!(
                    n,
                    Node::Leaf {
                        src: LeafSrc::Splat(_),
                        ..
                    }
                )
            })
            .count();
        let pin = splats <= PINNED_CONSTANTS;
        for (n, node) in t.nodes.iter().enumerate() {
            let Node::Leaf { src, dt, .. } = node else {
                continue;
            };
            let es = dt.size_bytes() as i64;
            match src {
                LeafSrc::Splat(s) => row.scalar[n] = Some(self.widened(*dt, *s)),
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
                        row.scalar[n] = Some(self.widened(*dt, s));
                    } else {
                        row.base[n] = Some(base);
                        row.step[n] = inner as i64 * es;
                    }
                }
            }
            if vector {
                if let Some(s) = row.scalar[n] {
                    row.vector[n] = Some(splat_value(&mut self.b, vtype(*dt), s, pin));
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
        let total: u64 = t.shape.iter().map(|&d| d as u64).product();
        if !self.outlined && !t.shape.is_empty() && parallel_worthy(total) {
            return self.emit_fused_parallel(&t, dst);
        }
        let out_dt = t.dt(t.root());
        let oes = out_dt.size_bytes() as i64;
        let n = t.shape.last().copied().unwrap_or(1) as u64;
        let lanes = if self.simd { t.lanes() } else { None };
        // Vector loops need every buffer leaf to walk the row contiguously.
        // A vector step stores 16 bytes.
        let unit = 16 / oes as u64;
        let lanes = lanes.filter(|_| {
            n >= unit
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
                Some(_) => l.vector_row(tr, &row, out, n),
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

    /// One row of `n` elements of a vectorizable tree stored at `out`: a loop of two 16-byte
    /// stores per iteration (one for a tree with `exp` or `tanh`, and in a function of more
    /// than [`crate::jit::HUGE_FUNCTION`] instructions, where compile time matters more), then
    /// the remaining whole 16 bytes, then the remaining elements one by one.
    fn vector_row(&mut self, t: &Tree, row: &Row, out: clir::Value, n: u64) -> Result<()> {
        // `exp` and `tanh` use about 25 constants and as many temporaries: two vectors in
        // flight spilled every constant to the stack and reloaded it on every iteration.
        let heavy = t.nodes.iter().any(|node| {
            matches!(
                node,
                Node::Op {
                    op: EwOp::Unary(UnaryOp::Exp | UnaryOp::Tanh),
                    ..
                }
            )
        });
        let huge = self.f.insts.len() > crate::jit::HUGE_FUNCTION;
        let unroll: u64 = if heavy || huge { 1 } else { 2 };
        let es = t.dt(t.root()).size_bytes() as i64;
        let l = 16 / es as u64;
        let iters = n / (l * unroll);
        let step = (l * unroll) as i64 * es;
        self.offset_loop(iters, step, &mut |lw, off| {
            for u in 0..unroll as i64 {
                let v = lw.eval_unit(t, row, off, u * 16)?;
                let addr = lw.b.ins().iadd(out, off);
                lw.b.ins().store(vflags(), v, addr, (u * 16) as i32);
            }
            Ok(())
        })?;
        let mut done = iters * l * unroll;
        let zero = self.b.ins().iconst(types::I64, 0);
        while n - done >= l {
            let imm = done as i64 * es;
            let v = self.eval_unit(t, row, zero, imm)?;
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
