//! Helpers shared by the JIT tests: building small functions with the `Function` API.
#![allow(dead_code)]

use graphjit::ir::{Function, Inst, Region, Value};
use graphjit::ops::Op;
use graphjit::{DType, Tensor, TensorType};

pub fn ty(dtype: DType, shape: &[usize]) -> TensorType {
    TensorType::new(dtype, shape.to_vec())
}

pub fn sc(dtype: DType) -> TensorType {
    TensorType::scalar(dtype)
}

/// Appends a one-result instruction.
pub fn op(f: &mut Function, r: Region, op: Op, args: Vec<Value>, t: TensorType) -> Value {
    let i = f.push_inst(r, op, args, vec![t], vec![None]);
    f.results(i)[0]
}

pub fn ret(f: &mut Function, r: Region, vals: Vec<Value>) {
    f.push_inst(r, Op::Return, vals, vec![], vec![]);
}

pub fn yield_(f: &mut Function, r: Region, vals: Vec<Value>) {
    f.push_inst(r, Op::Yield, vals, vec![], vec![]);
}

pub fn konst(f: &mut Function, r: Region, t: Tensor) -> Value {
    let ty = t.ty();
    op(f, r, Op::Const(t), vec![], ty)
}

/// `f(params...) = op(params...)` with one result of type `out`.
pub fn single_op(o: Op, params: &[TensorType], out: TensorType) -> Function {
    let mut f = Function::new("single", vec![out.clone()]);
    let ps: Vec<Value> = params
        .iter()
        .enumerate()
        .map(|(i, t)| f.add_param(t.clone(), Some(format!("p{i}"))))
        .collect();
    let body = f.body;
    let v = op(&mut f, body, o, ps, out);
    ret(&mut f, body, vec![v]);
    f
}

/// A `while` with `inits` carried; `cond` and `body` fill the regions given the region
/// arguments and return the yielded values.
pub fn while_loop(
    f: &mut Function,
    r: Region,
    inits: Vec<Value>,
    cond: impl FnOnce(&mut Function, Region, &[Value]) -> Value,
    body: impl FnOnce(&mut Function, Region, &[Value]) -> Vec<Value>,
) -> Vec<Value> {
    let tys: Vec<TensorType> = inits.iter().map(|&v| f.ty(v).clone()).collect();
    let n = tys.len();
    let w: Inst = f.push_inst(r, Op::While, inits, tys.clone(), vec![None; n]);
    let args = f.add_region_args(w, tys, vec![None; n]);
    let cr = f.add_region();
    let br = f.add_region();
    let c = cond(f, cr, &args);
    yield_(f, cr, vec![c]);
    let ys = body(f, br, &args);
    yield_(f, br, ys);
    f.set_regions(w, vec![cr, br]);
    f.results(w).to_vec()
}

/// An `if` with result types `tys`.
pub fn if_(
    f: &mut Function,
    r: Region,
    pred: Value,
    tys: Vec<TensorType>,
    then: impl FnOnce(&mut Function, Region) -> Vec<Value>,
    els: impl FnOnce(&mut Function, Region) -> Vec<Value>,
) -> Vec<Value> {
    let n = tys.len();
    let i = f.push_inst(r, Op::If, vec![pred], tys, vec![None; n]);
    let tr = f.add_region();
    let er = f.add_region();
    let ys = then(f, tr);
    yield_(f, tr, ys);
    let ys = els(f, er);
    yield_(f, er, ys);
    f.set_regions(i, vec![tr, er]);
    f.results(i).to_vec()
}

/// The counter loop of `ir/counter.gir`: `(a, b) -> while a < b { a += 2; b += 1 }`, read
/// from the file.
pub fn counter() -> Function {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ir/counter.gir");
    let src = std::fs::read_to_string(path).expect("ir/counter.gir");
    graphjit::filetest::load(&src)
        .expect("ir/counter.gir loads")
        .func("counter")
        .expect("@counter")
        .clone()
}
