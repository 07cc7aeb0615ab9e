//! Random well-typed programs and inputs, for the differential property tests and the fuzzers.
//!
//! [`random_function`] builds a verified function from a seed: mixed dtypes and ranks, every
//! op family, explicit broadcasts, reductions, matrix products, and nested `while` (with
//! bounded trip counts) and `if` regions. [`random_inputs`] fills its parameters with a mix of
//! edge values (0, -1, MIN, MAX, NaN, ±inf, -0.0, subnormals) and ordinary numbers. The same
//! seed always gives the same program, so a failing seed is a reproducible bug report.

mod more;
mod region;

use crate::ir::{Function, Region, Value};
use crate::ops::scalar::convert;
use crate::ops::{BinaryOp, CmpOp, Op, ReduceOp, UnaryOp};
use crate::tensor::{Data, Scalar, Tensor};
use crate::types::{DType, Kind, TensorType};

/// SplitMix64: small, fast and good enough to pick program shapes.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

const F32_EDGES: [f32; 14] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    1e-45,
    -1.2e-38,
    f32::MAX,
    f32::MIN,
    0.5,
    -2.5,
    3.75,
];
const F64_EDGES: [f64; 14] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    5e-324,
    -2.2e-308,
    f64::MAX,
    f64::MIN,
    0.5,
    -2.5,
    3.75,
];
/// Integer edge values, given as `i64` and converted (wrapping) to each integer dtype; `W` is
/// the dtype's width, so that shift amounts around it are tried.
fn int_edges(dtype: DType) -> [Scalar; 12] {
    let w = i64::from(dtype.bits());
    let c = |v: i64| convert(Scalar::I64(v), dtype);
    [
        c(0),
        c(1),
        c(-1),
        c(2),
        c(-2),
        c(7),
        c(w - 1),
        c(w),
        c(w + 1),
        dtype.min_value(),
        dtype.max_value(),
        c(-8),
    ]
}

/// A random element of `dtype`: an edge value half the time, else a small ordinary number.
pub fn random_scalar(rng: &mut Rng, dtype: DType) -> Scalar {
    let edge = rng.chance(50);
    match dtype.kind() {
        Kind::Bool => Scalar::Bool(rng.chance(50)),
        Kind::Signed | Kind::Unsigned => {
            if edge {
                rng.pick(&int_edges(dtype))
            } else {
                convert(Scalar::I64(rng.below(41) as i64 - 20), dtype)
            }
        }
        Kind::Float if dtype.bits() > 32 => {
            let v = if edge {
                rng.pick(&F64_EDGES)
            } else {
                (rng.below(2001) as f64 - 1000.0) / 64.0
            };
            convert(Scalar::F64(v), dtype)
        }
        Kind::Float => {
            let v = if edge {
                rng.pick(&F32_EDGES)
            } else {
                (rng.below(2001) as f32 - 1000.0) / 64.0
            };
            convert(Scalar::F32(v), dtype)
        }
    }
}

/// A random tensor of type `ty`.
pub fn random_tensor(rng: &mut Rng, ty: &TensorType) -> Tensor {
    let n = ty.num_elements();
    let items: Vec<Scalar> = (0..n).map(|_| random_scalar(rng, ty.dtype)).collect();
    let data = Data::from_scalars(ty.dtype, &items).unwrap_or_else(|| Data::zeros(ty.dtype, n));
    Tensor::new(data, ty.shape.clone()).unwrap_or_else(|| Tensor::zeros(ty))
}

/// Random inputs for every parameter of `f`.
pub fn random_inputs(f: &Function, seed: u64) -> Vec<Tensor> {
    let mut rng = Rng::new(seed ^ 0xA5A5_5A5A_1234_5678);
    f.params
        .iter()
        .map(|&p| random_tensor(&mut rng, f.ty(p)))
        .collect()
}

/// Whether `c` compares in IEEE total order, which sees a NaN's sign.
fn is_total(c: CmpOp) -> bool {
    matches!(
        c,
        CmpOp::TotalEq
            | CmpOp::TotalNe
            | CmpOp::TotalLt
            | CmpOp::TotalLe
            | CmpOp::TotalGt
            | CmpOp::TotalGe
    )
}

/// The dtypes generated programs use: all of them.
const GEN_DTYPES: [DType; DType::ALL.len()] = DType::ALL;

/// Limits of the generator.
#[derive(Clone, Copy, Debug)]
pub struct GenConfig {
    /// Ops generated per region (before the terminator).
    pub max_ops: usize,
    /// Nesting depth of `while` and `if`.
    pub max_depth: usize,
    /// Largest dimension size.
    pub max_dim: usize,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            max_ops: 10,
            max_depth: 3,
            max_dim: 5,
        }
    }
}

struct Gen {
    f: Function,
    rng: Rng,
    cfg: GenConfig,
    /// Visible values, innermost scope last.
    scopes: Vec<Vec<Value>>,
}

/// A random, well-typed function (it passes the verifier), determined by `seed`.
pub fn random_function(seed: u64) -> Function {
    random_function_with(seed, GenConfig::default())
}

/// [`random_function`] with explicit limits.
pub fn random_function_with(seed: u64, cfg: GenConfig) -> Function {
    let mut g = Gen {
        f: Function::new(format!("random{seed}"), Vec::new()),
        rng: Rng::new(seed),
        cfg,
        scopes: vec![Vec::new()],
    };
    let nparams = 1 + g.rng.below(3);
    for i in 0..nparams {
        let ty = g.random_type();
        let v = g.f.add_param(ty, Some(format!("p{i}")));
        g.scopes[0].push(v);
    }
    let body = g.f.body;
    let n = 1 + g.rng.below(cfg.max_ops);
    for _ in 0..n {
        g.step(body, 0);
    }
    let nres = 1 + g.rng.below(3);
    let visible = g.visible();
    let mut results = Vec::new();
    for _ in 0..nres {
        // Prefer recent values: they depend on more of the program.
        let k = visible.len();
        let v = visible[k - 1 - g.rng.below(k.min(4))];
        results.push(v);
    }
    g.f.results = results.iter().map(|&v| g.f.ty(v).clone()).collect();
    g.f.push_inst(body, Op::Return, results, vec![], vec![]);
    g.f
}

impl Gen {
    fn visible(&self) -> Vec<Value> {
        self.scopes.iter().flatten().copied().collect()
    }

    fn define(&mut self, v: Value) {
        if let Some(s) = self.scopes.last_mut() {
            s.push(v);
        }
    }

    fn random_shape(&mut self) -> Vec<usize> {
        let rank = self.rng.pick(&[0, 0, 1, 1, 1, 2, 2]);
        (0..rank)
            .map(|_| {
                if self.rng.chance(5) {
                    0
                } else {
                    1 + self.rng.below(self.cfg.max_dim)
                }
            })
            .collect()
    }

    fn random_type(&mut self) -> TensorType {
        let dtype = self.rng.pick(&GEN_DTYPES);
        let shape = self.random_shape();
        TensorType::new(dtype, shape)
    }

    fn push1(&mut self, r: Region, op: Op, args: Vec<Value>, ty: TensorType) -> Value {
        let i = self.f.push_inst(r, op, args, vec![ty], vec![None]);
        let v = self.f.results(i)[0];
        self.define(v);
        v
    }

    fn constant(&mut self, r: Region, ty: &TensorType) -> Value {
        let t = if self.rng.chance(50) {
            let s = random_scalar(&mut self.rng, ty.dtype);
            Tensor::full(s, ty.shape.clone())
        } else {
            random_tensor(&mut self.rng, ty)
        };
        self.push1(r, Op::Const(t), vec![], ty.clone())
    }

    /// A visible value of exactly `ty`, or a new one (a constant, or a broadcast scalar).
    fn value_of(&mut self, r: Region, ty: &TensorType) -> Value {
        let candidates: Vec<Value> = self
            .visible()
            .into_iter()
            .filter(|&v| self.f.ty(v) == ty)
            .collect();
        if !candidates.is_empty() && self.rng.chance(70) {
            return self.rng.pick(&candidates);
        }
        if !ty.is_scalar() && self.rng.chance(50) {
            let scalar_ty = TensorType::scalar(ty.dtype);
            let s = self.value_of(r, &scalar_ty);
            return self.push1(r, Op::Broadcast { dims: vec![] }, vec![s], ty.clone());
        }
        self.constant(r, ty)
    }

    fn any_value(&mut self, pred: impl Fn(&TensorType) -> bool) -> Option<Value> {
        let c: Vec<Value> = self
            .visible()
            .into_iter()
            .filter(|&v| pred(self.f.ty(v)))
            .collect();
        (!c.is_empty()).then(|| self.rng.pick(&c))
    }

    /// Generates one op (possibly a nested `while` or `if`) at the end of region `r`.
    fn step(&mut self, r: Region, depth: usize) {
        let kind = self.rng.below(20);
        let Some(v) = self.any_value(|_| true) else {
            let ty = self.random_type();
            self.constant(r, &ty);
            return;
        };
        let ty = self.f.ty(v).clone();
        match kind {
            0..=2 => {
                let ops: Vec<UnaryOp> = UnaryOp::ALL
                    .iter()
                    .copied()
                    .filter(|u| u.accepts(ty.dtype))
                    .collect();
                if !ops.is_empty() {
                    let u = self.rng.pick(&ops);
                    self.push1(r, Op::Unary(u), vec![v], ty);
                }
            }
            3..=6 => {
                let ops: Vec<BinaryOp> = BinaryOp::ALL
                    .iter()
                    .copied()
                    .filter(|b| b.accepts(ty.dtype))
                    .collect();
                if !ops.is_empty() {
                    let b = self.rng.pick(&ops);
                    let w = self.value_of(r, &ty);
                    let (x, y) = if self.rng.chance(50) { (v, w) } else { (w, v) };
                    self.push1(r, Op::Binary(b), vec![x, y], ty);
                }
            }
            7 => {
                // No total-order compares of floats: they see a NaN's sign, and which NaN an
                // operation on two NaNs returns is unspecified (Rust lets the compiler swap
                // the operands of `+`, so even the interpreter does not fix it; DESIGN.md:
                // NaN bit patterns are unspecified). `nan_canonical.rs` and the compare
                // tests cover total order on given NaNs.
                let ops: Vec<CmpOp> = CmpOp::ALL
                    .iter()
                    .copied()
                    .filter(|c| !(ty.dtype.is_float() && is_total(*c)))
                    .collect();
                let c = self.rng.pick(&ops);
                let w = self.value_of(r, &ty);
                self.push1(
                    r,
                    Op::Compare(c),
                    vec![v, w],
                    TensorType::new(DType::Bool, ty.shape.clone()),
                );
            }
            8 => {
                // A scalar predicate (StableHLO allows one) now and then.
                let pshape = if self.rng.chance(25) {
                    Vec::new()
                } else {
                    ty.shape.to_vec()
                };
                let pty = TensorType::new(DType::Bool, pshape);
                let p = self.value_of(r, &pty);
                let w = self.value_of(r, &ty);
                self.push1(r, Op::Select, vec![p, v, w], ty);
            }
            9 if ty.dtype.is_int() && self.rng.chance(25) => {
                // From an integer (float NaN payloads are unspecified, and a bitcast would
                // show them) to a dtype no wider: always a valid bitcast.
                let to: Vec<DType> = GEN_DTYPES
                    .into_iter()
                    .filter(|d| *d != DType::Bool && d.bits() <= ty.dtype.bits())
                    .collect();
                let to = crate::ops::bitcast_type(&ty, self.rng.pick(&to));
                if to.check_size().is_ok() {
                    self.push1(r, Op::BitcastConvert, vec![v], to);
                }
            }
            9 => {
                let to = TensorType::new(self.rng.pick(&GEN_DTYPES), ty.shape.clone());
                self.push1(r, Op::Convert, vec![v], to);
            }
            10 => self.shape_op(r, v, &ty),
            11 => {
                let ops: Vec<ReduceOp> = ReduceOp::ALL
                    .iter()
                    .copied()
                    .filter(|o| o.accepts(ty.dtype))
                    .collect();
                if !ops.is_empty() {
                    let o = self.rng.pick(&ops);
                    let axes: Vec<usize> = (0..ty.rank()).filter(|_| self.rng.chance(60)).collect();
                    let shape = (0..ty.rank())
                        .filter(|d| !axes.contains(d))
                        .map(|d| ty.shape[d])
                        .collect::<Vec<_>>();
                    self.push1(
                        r,
                        Op::Reduce { op: o, axes },
                        vec![v],
                        TensorType::new(ty.dtype, shape),
                    );
                }
            }
            12 if self.rng.chance(40) => self.gen_dot_general(r, v, &ty),
            12 => {
                if ty.rank() == 2 && ty.dtype.is_numeric() {
                    let k = ty.shape[1];
                    let rhs = if self.rng.chance(50) {
                        vec![k]
                    } else {
                        vec![k, 1 + self.rng.below(self.cfg.max_dim)]
                    };
                    let w = self.value_of(r, &TensorType::new(ty.dtype, rhs.clone()));
                    let mut out = vec![ty.shape[0]];
                    if rhs.len() == 2 {
                        out.push(rhs[1]);
                    }
                    self.push1(r, Op::Dot, vec![v, w], TensorType::new(ty.dtype, out));
                }
            }
            13 if depth < self.cfg.max_depth && self.rng.chance(50) => self.gen_case(r, depth),
            13..=14 if depth < self.cfg.max_depth => self.gen_if(r, depth),
            15..=16 if depth < self.cfg.max_depth => self.gen_while(r, depth),
            17 => self.region_op(r, v, &ty),
            _ => {
                let t = self.random_type();
                self.value_of(r, &t);
            }
        }
    }

    fn shape_op(&mut self, r: Region, v: Value, ty: &TensorType) {
        let dt = ty.dtype;
        match (self.rng.below(10), ty.rank()) {
            (0, 0) => {
                let shape = vec![1 + self.rng.below(self.cfg.max_dim)];
                self.push1(
                    r,
                    Op::Broadcast { dims: vec![] },
                    vec![v],
                    TensorType::new(dt, shape),
                );
            }
            (0, 1) => {
                let m = 1 + self.rng.below(self.cfg.max_dim);
                let n = ty.shape[0];
                let (shape, dims) = if self.rng.chance(50) {
                    (vec![m, n], vec![1])
                } else {
                    (vec![n, m], vec![0])
                };
                self.push1(
                    r,
                    Op::Broadcast { dims },
                    vec![v],
                    TensorType::new(dt, shape),
                );
            }
            (1, _) => {
                let n = ty.num_elements();
                let shape = if self.rng.chance(50) {
                    vec![n]
                } else {
                    vec![1, n]
                };
                self.push1(r, Op::Reshape, vec![v], TensorType::new(dt, shape));
            }
            (2, 2) => {
                let shape = vec![ty.shape[1], ty.shape[0]];
                self.push1(
                    r,
                    Op::Transpose { perm: vec![1, 0] },
                    vec![v],
                    TensorType::new(dt, shape),
                );
            }
            (3, rank) if rank > 0 => {
                let (mut start, mut limit, mut stride, mut shape) =
                    (vec![], vec![], vec![], vec![]);
                for &n in &ty.shape {
                    let s = self.rng.below(n + 1);
                    let l = s + self.rng.below(n - s + 1);
                    let k = 1 + self.rng.below(3);
                    start.push(s);
                    limit.push(l);
                    stride.push(k);
                    shape.push((l - s).div_ceil(k));
                }
                self.push1(
                    r,
                    Op::Slice {
                        start,
                        limit,
                        stride,
                    },
                    vec![v],
                    TensorType::new(dt, shape),
                );
            }
            (4, rank) if rank > 0 => {
                let axis = self.rng.below(rank);
                let mut other = ty.shape.clone();
                other[axis] = self.rng.below(self.cfg.max_dim + 1);
                let w = self.value_of(r, &TensorType::new(dt, other.clone()));
                let mut shape = ty.shape.clone();
                shape[axis] += other[axis];
                self.push1(
                    r,
                    Op::Concat { axis },
                    vec![v, w],
                    TensorType::new(dt, shape),
                );
            }
            (8, _) if ty.dtype.is_numeric() => {
                // Bounds of the operand's type or scalars, in any order (lo > hi is allowed).
                let mut bound = || {
                    let t = if self.rng.chance(50) {
                        ty.clone()
                    } else {
                        TensorType::scalar(dt)
                    };
                    self.value_of(r, &t)
                };
                let (lo, hi) = (bound(), bound());
                self.push1(r, Op::Clamp, vec![lo, v, hi], ty.clone());
            }
            (7, rank) => {
                let mut dims: Vec<usize> = (0..rank).filter(|_| self.rng.chance(50)).collect();
                if self.rng.chance(50) {
                    dims.reverse();
                }
                self.push1(r, Op::Reverse { dims }, vec![v], ty.clone());
            }
            (5 | 6, rank) if rank > 0 => {
                // Start indices of either integer type, often edge values, so the clamp to
                // [0, dim - size] is exercised at both ends.
                let it = TensorType::scalar(self.rng.pick(&[DType::I32, DType::I64]));
                let sizes: Vec<usize> = ty.shape.iter().map(|&n| self.rng.below(n + 1)).collect();
                let window = TensorType::new(dt, sizes.clone());
                let update = self.rng.chance(50);
                let mut args = vec![v];
                if update {
                    args.push(self.value_of(r, &window));
                }
                for _ in 0..rank {
                    args.push(self.value_of(r, &it));
                }
                if update {
                    self.push1(r, Op::DynamicUpdateSlice, args, ty.clone());
                } else {
                    self.push1(r, Op::DynamicSlice { sizes }, args, window);
                }
            }
            (9, rank) if rank > 0 && self.rng.chance(50) => {
                // pad: small edge and interior padding with a scalar of the operand's dtype.
                let (mut low, mut high, mut interior, mut shape) = (vec![], vec![], vec![], vec![]);
                for &n in &ty.shape {
                    let (l, h, i) = (self.rng.below(3), self.rng.below(3), self.rng.below(2));
                    low.push(l);
                    high.push(h);
                    interior.push(i);
                    shape.push(l + h + n + n.saturating_sub(1) * i);
                }
                let pv = self.value_of(r, &TensorType::scalar(dt));
                let op = Op::Pad {
                    low,
                    high,
                    interior,
                };
                self.push1(r, op, vec![v, pv], TensorType::new(dt, shape));
            }
            (9, _) if ty.shape.iter().any(|&n| n > 0) => {
                // jnp.take(v, idx, axis, mode="clip") with indices of 0 to 2 dimensions, often
                // out of range at either end, along a dimension that has elements.
                let axes: Vec<usize> = (0..ty.rank()).filter(|&d| ty.shape[d] > 0).collect();
                let axis = self.rng.pick(&axes);
                let it = self.rng.pick(&[DType::I32, DType::I64, DType::U8]);
                let ishape: Vec<usize> = (0..self.rng.below(3))
                    .map(|_| self.rng.below(self.cfg.max_dim + 1))
                    .collect();
                let idx = self.value_of(r, &TensorType::new(it, ishape.clone()));
                let dims = crate::ops::gather::take_dims(ty, ishape.len(), axis);
                let mut shape = ty.shape[..axis].to_vec();
                shape.extend(&ishape);
                shape.extend(&ty.shape[axis + 1..]);
                self.push1(
                    r,
                    Op::Gather { dims },
                    vec![v, idx],
                    TensorType::new(dt, shape),
                );
            }
            _ => {
                let mut shape = self.random_shape();
                if shape.is_empty() {
                    shape.push(1 + self.rng.below(self.cfg.max_dim));
                }
                let numeric: Vec<DType> =
                    GEN_DTYPES.into_iter().filter(|d| d.is_numeric()).collect();
                let dtype = self.rng.pick(&numeric);
                let axis = self.rng.below(shape.len());
                self.push1(r, Op::Iota { axis }, vec![], TensorType::new(dtype, shape));
            }
        }
    }

    /// A scalar bool that depends on data when one is at hand.
    fn predicate(&mut self, r: Region) -> Value {
        if let Some(s) = self.any_value(|t| t.is_scalar() && t.dtype != DType::Bool) {
            let ty = self.f.ty(s).clone();
            let w = self.value_of(r, &ty);
            let c = self.rng.pick(&CmpOp::ALL);
            return self.push1(
                r,
                Op::Compare(c),
                vec![s, w],
                TensorType::scalar(DType::Bool),
            );
        }
        self.value_of(r, &TensorType::scalar(DType::Bool))
    }

    fn gen_region(&mut self, region: Region, depth: usize, yields: &[TensorType]) {
        let n = self.rng.below(self.cfg.max_ops / 2 + 1);
        for _ in 0..n {
            self.step(region, depth + 1);
        }
        let vals: Vec<Value> = yields.iter().map(|t| self.value_of(region, t)).collect();
        self.f.push_inst(region, Op::Yield, vals, vec![], vec![]);
    }

    fn gen_if(&mut self, r: Region, depth: usize) {
        let p = self.predicate(r);
        self.gen_branching(r, depth, Op::If, p, 2);
    }

    /// An `if` or `case` on `selector` with `nbranches` regions yielding one or two values,
    /// of the types of visible values or new ones.
    fn gen_branching(
        &mut self,
        r: Region,
        depth: usize,
        op: Op,
        selector: Value,
        nbranches: usize,
    ) {
        let nres = 1 + self.rng.below(2);
        let tys: Vec<TensorType> = (0..nres)
            .map(|_| match self.any_value(|_| true) {
                Some(v) if self.rng.chance(70) => self.f.ty(v).clone(),
                _ => self.random_type(),
            })
            .collect();
        let inst = self
            .f
            .push_inst(r, op, vec![selector], tys.clone(), vec![None; nres]);
        let mut regions = Vec::new();
        for _ in 0..nbranches {
            let region = self.f.add_region();
            regions.push(region);
            self.scopes.push(Vec::new());
            self.gen_region(region, depth, &tys);
            self.scopes.pop();
        }
        self.f.set_regions(inst, regions);
        for v in self.f.results(inst).to_vec() {
            self.define(v);
        }
    }

    fn gen_while(&mut self, r: Region, depth: usize) {
        if self.rng.chance(30) {
            return self.gen_elementwise_while(r);
        }
        let mut extra = Vec::new();
        for _ in 0..1 + self.rng.below(2) {
            if let Some(v) = self.any_value(|_| true) {
                extra.push(v);
            }
        }
        self.counted_while(r, extra, 4, |g, body, args| {
            let k = g.rng.below(g.cfg.max_ops / 2 + 1);
            for _ in 0..k {
                g.step(body, depth + 1);
            }
            args[1..]
                .iter()
                .map(|&a| {
                    let t = g.f.ty(a).clone();
                    g.value_of(body, &t)
                })
                .collect()
        });
    }

    /// A `while` carrying a counter from 0 and `extra`, whose condition is `counter < L` for
    /// a random `L` below `max_trips`, and whose body adds one to the counter and yields
    /// what `fill` builds in it for the other carried values (given the region arguments).
    fn counted_while(
        &mut self,
        r: Region,
        extra: Vec<Value>,
        max_trips: usize,
        fill: impl FnOnce(&mut Self, Region, &[Value]) -> Vec<Value>,
    ) {
        let i32t = TensorType::scalar(DType::I32);
        let zero = self.push1(r, Op::Const(Tensor::scalar(0i32)), vec![], i32t.clone());
        let mut inits = vec![zero];
        inits.extend(extra);
        let tys: Vec<TensorType> = inits.iter().map(|&v| self.f.ty(v).clone()).collect();
        let n = tys.len();
        let inst = self
            .f
            .push_inst(r, Op::While, inits, tys.clone(), vec![None; n]);
        let args = self.f.add_region_args(inst, tys, vec![None; n]);

        // The cond region bounds the trip count with the counter in args[0].
        let cond = self.f.add_region();
        self.scopes.push(args.clone());
        let limit = Tensor::scalar(self.rng.below(max_trips) as i32);
        let lim = self.push1(cond, Op::Const(limit), vec![], i32t.clone());
        let c = self.push1(
            cond,
            Op::Compare(CmpOp::Lt),
            vec![args[0], lim],
            TensorType::scalar(DType::Bool),
        );
        self.f.push_inst(cond, Op::Yield, vec![c], vec![], vec![]);
        self.scopes.pop();

        let body = self.f.add_region();
        self.scopes.push(args.clone());
        let one = self.push1(body, Op::Const(Tensor::scalar(1i32)), vec![], i32t.clone());
        let next = self.push1(body, Op::Binary(BinaryOp::Add), vec![args[0], one], i32t);
        let mut ys = vec![next];
        ys.extend(fill(self, body, &args));
        self.f.push_inst(body, Op::Yield, ys, vec![], vec![]);
        self.scopes.pop();

        self.f.set_regions(inst, vec![cond, body]);
        for v in self.f.results(inst).to_vec() {
            self.define(v);
        }
    }

    /// A `while` whose condition reads only its counter and whose body is elementwise over
    /// its carried tensors (one type), splat constants, the counter broadcast, and `select`s
    /// on a scalar: the loops compiled code runs interchanged with their element loop
    /// (`jit/lower/interchange.rs`).
    fn gen_elementwise_while(&mut self, r: Region) {
        let dtypes: Vec<DType> = GEN_DTYPES
            .into_iter()
            .filter(|&d| d != DType::Bool)
            .collect();
        let mut shape = self.random_shape();
        if shape.is_empty() {
            shape.push(1 + self.rng.below(self.cfg.max_dim * 8));
        }
        let ty = TensorType::new(self.rng.pick(&dtypes), shape);
        let mut extra = Vec::new();
        for _ in 0..1 + self.rng.below(2) {
            extra.push(self.value_of(r, &ty));
        }
        let carried = extra.len();
        self.counted_while(r, extra, 6, |g, body, args| {
            let mut local: Vec<Value> = args[1..].to_vec();
            for _ in 0..1 + g.rng.below(g.cfg.max_ops) {
                let x = g.elementwise_operand(body, &ty, &local, args[0]);
                let v = match g.rng.below(4) {
                    0 => {
                        let ops: Vec<UnaryOp> = UnaryOp::ALL
                            .iter()
                            .copied()
                            .filter(|u| u.accepts(ty.dtype))
                            .collect();
                        if ops.is_empty() {
                            continue;
                        }
                        let u = g.rng.pick(&ops);
                        g.push1(body, Op::Unary(u), vec![x], ty.clone())
                    }
                    1 => {
                        let p = g.value_of(body, &TensorType::scalar(DType::Bool));
                        let y = g.elementwise_operand(body, &ty, &local, args[0]);
                        g.push1(body, Op::Select, vec![p, x, y], ty.clone())
                    }
                    _ => {
                        let ops: Vec<BinaryOp> = BinaryOp::ALL
                            .iter()
                            .copied()
                            .filter(|b| b.accepts(ty.dtype))
                            .collect();
                        if ops.is_empty() {
                            continue;
                        }
                        let b = g.rng.pick(&ops);
                        let y = g.elementwise_operand(body, &ty, &local, args[0]);
                        g.push1(body, Op::Binary(b), vec![x, y], ty.clone())
                    }
                };
                local.push(v);
            }
            (0..carried).map(|_| g.rng.pick(&local)).collect()
        });
    }

    /// An operand of type `ty` for an elementwise body: a tensor of the body, a splat
    /// constant, or the loop counter converted and broadcast.
    fn elementwise_operand(
        &mut self,
        r: Region,
        ty: &TensorType,
        local: &[Value],
        counter: Value,
    ) -> Value {
        match self.rng.below(8) {
            0 => {
                let s = random_scalar(&mut self.rng, ty.dtype);
                let t = Tensor::full(s, ty.shape.clone());
                self.push1(r, Op::Const(t), vec![], ty.clone())
            }
            1 => {
                let sty = TensorType::scalar(ty.dtype);
                let c = self.push1(r, Op::Convert, vec![counter], sty);
                self.push1(r, Op::Broadcast { dims: vec![] }, vec![c], ty.clone())
            }
            _ => self.rng.pick(local),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::random_function;
    use crate::ops::Op;

    /// The differential test only covers what the generator emits; this keeps the newer ops
    /// from silently dropping out of it.
    #[test]
    fn generator_emits_the_indexing_and_region_ops() {
        let (mut slices, mut updates, mut reverses, mut clamps) = (0, 0, 0, 0);
        let mut regions = std::collections::HashSet::new();
        let (mut pads, mut gathers, mut scalar_selects) = (0, 0, 0);
        let (mut dot_generals, mut widened, mut cases) = (0, 0, 0);
        for seed in 0..1000 {
            let f = random_function(seed);
            for d in &f.insts {
                match d.op {
                    Op::DynamicSlice { .. } => slices += 1,
                    Op::DynamicUpdateSlice => updates += 1,
                    Op::Reverse { .. } => reverses += 1,
                    Op::Clamp => clamps += 1,
                    Op::Region(ref r) => {
                        regions.insert(r.name());
                    }
                    Op::Pad { .. } => pads += 1,
                    Op::Gather { .. } => gathers += 1,
                    Op::DotGeneral { .. } => {
                        dot_generals += 1;
                        if f.ty(d.results[0]).dtype != f.ty(d.args[0]).dtype {
                            widened += 1;
                        }
                    }
                    Op::Case => cases += 1,
                    Op::Select if f.ty(d.args[0]).is_scalar() && !f.ty(d.args[1]).is_scalar() => {
                        scalar_selects += 1
                    }
                    _ => {}
                }
            }
        }
        assert!(
            slices > 3 && updates > 3 && reverses > 3 && clamps > 3,
            "{slices} slices, {updates} updates, {reverses} reverses, {clamps} clamps"
        );
        assert_eq!(regions.len(), 4, "region ops generated: {regions:?}");
        assert!(
            pads > 3 && gathers > 3 && scalar_selects > 3,
            "{pads} pads, {gathers} gathers, {scalar_selects} scalar selects"
        );
        assert!(
            dot_generals > 3 && widened > 0 && cases > 3,
            "{dot_generals} dot_generals ({widened} to another dtype), {cases} cases"
        );
    }
}
