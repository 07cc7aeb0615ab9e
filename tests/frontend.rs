//! Tests of the three front ends: the static graph builder, eager tensors and traces.

use graphjit::graph::Graph;
use graphjit::ir::parse::parse_function;
use graphjit::ir::verify::verify_function;
use graphjit::ir::Function;
use graphjit::ops::Op;
use graphjit::trace::{self, TraceStatus, Traced};
use graphjit::{DType, Error, Tensor, TensorType};

/// The builder's error as text, which must exist.
fn build_error(g: &Graph) -> String {
    match g.check() {
        Err(e) => e.to_string(),
        Ok(()) => panic!("expected a build error in @{}", g.name()),
    }
}

/// Asserts that `msg` contains every one of `parts`.
fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(
            msg.contains(p),
            "error message {msg:?} does not mention {p:?}"
        );
    }
}

/// `tests/frontend.rs:LINE:`, the location prefix an error made on `line` names.
fn here(line: u32) -> String {
    format!("tests/frontend.rs:{line}:")
}

/// The counter loop of the README: `while first < second { first += 2; second += 1 }`.
fn counter(g: &Graph) {
    let first = g.input("first", DType::I32, []);
    let second = g.input("second", DType::I32, []);
    let out = g.while_loop(
        |v| v[0].lt(v[1]),
        |v| [v[0] + 2, v[1] + 1],
        &[first, second],
    );
    g.outputs(&out);
}

fn ops_of(f: &Function) -> Vec<String> {
    f.insts.iter().map(|i| i.op.name()).collect()
}

#[test]
fn counter_builds_a_while_with_two_regions() {
    let g = Graph::new("counter");
    counter(&g);
    let f = g.function().unwrap();
    assert_eq!(f.results, vec![TensorType::scalar(DType::I32); 2]);
    assert_eq!(f.param_types(), vec![TensorType::scalar(DType::I32); 2]);
    let w = f.insts.iter().find(|i| i.op == Op::While).unwrap();
    assert_eq!(w.regions.len(), 2);
    assert_eq!(w.region_args.len(), 2);
    let mut ops = ops_of(&f);
    ops.sort();
    assert_eq!(
        ops,
        ["add", "add", "const", "const", "lt", "return", "while", "yield", "yield"]
    );
}

#[test]
fn broadcasting_and_literals_become_explicit_ops() {
    let g = Graph::new("bcast");
    let m = g.input("m", DType::F32, [2, 3]);
    let v = g.input("v", DType::F32, [3]);
    let y = (m + v) * 2.0;
    assert_eq!(y.ty(), Some(TensorType::new(DType::F32, [2, 3])));
    g.outputs(&[y]);
    let f = g.function().unwrap();
    let dims: Vec<Vec<usize>> = f
        .insts
        .iter()
        .filter_map(|i| match &i.op {
            Op::Broadcast { dims } => Some(dims.clone()),
            _ => None,
        })
        .collect();
    // `v` goes to the trailing dimension; the scalar 2.0 to no dimension at all.
    assert_eq!(dims, vec![vec![1], vec![]]);
    let two = f.insts.iter().find_map(|i| match &i.op {
        Op::Const(t) => Some(t.clone()),
        _ => None,
    });
    assert_eq!(two, Some(graphjit::Tensor::scalar(2.0f32)));
}

#[test]
fn a_literal_on_the_left_takes_the_right_operands_dtype() {
    let g = Graph::new("lit");
    let x = g.input("x", DType::I64, [4]);
    let y = 1 - x;
    assert_eq!(y.ty(), Some(TensorType::new(DType::I64, [4])));
    g.check().unwrap();
}

#[test]
fn error_dtype_mismatch() {
    let g = Graph::new("mix");
    let a = g.input("a", DType::I32, []);
    let b = g.input("b", DType::F32, []);
    let line = line!() + 1;
    let c = a + b;
    assert!(c.is_poisoned());
    let msg = build_error(&g);
    assert_mentions(
        &msg,
        &[
            "@mix",
            "'add'",
            "(i32, f32)",
            "different dtypes",
            &here(line),
        ],
    );
    // Later ops on the poisoned value add no second error.
    let _ = c * 3;
    assert_eq!(build_error(&g), msg);
    assert!(matches!(g.function(), Err(Error::Verify(_))));
}

#[test]
fn error_shape_mismatch() {
    let g = Graph::new("shapes");
    let a = g.input("a", DType::F32, [3]);
    let b = g.input("b", DType::F32, [4]);
    let line = line!() + 1;
    let _ = a.lt(b);
    let msg = build_error(&g);
    assert_mentions(
        &msg,
        &["'lt'", "(f32[3], f32[4])", "do not broadcast", &here(line)],
    );
}

#[test]
fn error_from_the_op_type_rule() {
    let g = Graph::new("rule");
    let a = g.input("a", DType::I32, [3]);
    let line = line!() + 1;
    let _ = a.exp();
    let msg = build_error(&g);
    assert_mentions(
        &msg,
        &["'exp'", "not defined on i32", "(i32[3])", &here(line)],
    );

    let g = Graph::new("dot");
    let a = g.input("a", DType::F32, [2, 3]);
    let b = g.input("b", DType::F32, [2, 3]);
    let _ = a.dot(b);
    assert_mentions(&build_error(&g), &["'dot'", "f32[2,3] and f32[2,3]"]);

    let g = Graph::new("reshape");
    let a = g.input("a", DType::F32, [2, 3]);
    let _ = a.reshape([4]);
    assert_mentions(
        &build_error(&g),
        &["'reshape'", "f32[2,3] cannot become f32[4]"],
    );
}

#[test]
fn error_literal_that_does_not_fit() {
    let g = Graph::new("lit");
    let a = g.input("a", DType::I32, []);
    let line = line!() + 1;
    let _ = a * 2.5;
    let msg = build_error(&g);
    assert_mentions(&msg, &["'mul'", "2.5", "cannot be a i32", &here(line)]);

    // Whole floats are fine for integer tensors, and booleans only for bool tensors.
    let g = Graph::new("ok");
    let a = g.input("a", DType::I32, []);
    let _ = a * 2.0;
    g.check().unwrap();
    let _ = a & true;
    assert_mentions(&build_error(&g), &["'and'", "true", "cannot be a i32"]);
}

#[test]
fn error_wrong_number_of_loop_vars() {
    let g = Graph::new("count");
    let a = g.input("a", DType::I32, []);
    let b = g.input("b", DType::I32, []);
    let line = line!() + 1;
    let out = g.while_loop(|v| v[0].lt(v[1]), |v| vec![v[0] + 1], &[a, b]);
    // The caller still gets one (poisoned) value per loop variable.
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|v| v.is_poisoned()));
    let msg = build_error(&g);
    assert_mentions(
        &msg,
        &[
            "'while'",
            "gives 1 value(s) for 2 loop variable(s)",
            &here(line),
        ],
    );
}

#[test]
fn error_body_changes_a_loop_var_type() {
    let g = Graph::new("retype");
    let a = g.input("a", DType::I32, []);
    let x = g.input("x", DType::F32, [2]);
    let line = line!() + 1;
    let _ = g.while_loop(|v| v[0].lt(10), |v| [v[0] + 1, v[1].sum(&[0])], &[a, x]);
    let msg = build_error(&g);
    assert_mentions(
        &msg,
        &[
            "'while'",
            "changes the type of loop variable 1 from f32[2] to f32",
            &here(line),
        ],
    );
}

#[test]
fn error_loop_condition_not_a_scalar_bool() {
    let g = Graph::new("notbool");
    let a = g.input("a", DType::I32, []);
    let line = line!() + 1;
    let _ = g.while_loop(|v| v[0] + 1, |v| [v[0] + 1], &[a]);
    assert_mentions(
        &build_error(&g),
        &[
            "'while'",
            "condition must be a scalar bool, got i32",
            &here(line),
        ],
    );

    let g = Graph::new("vecbool");
    let x = g.input("x", DType::F32, [3]);
    let _ = g.while_loop(|v| v[0].lt(1.0), |v| [v[0] * 2.0], &[x]);
    assert_mentions(&build_error(&g), &["scalar bool, got bool[3]"]);
}

#[test]
fn error_cond_predicate_and_branch_types() {
    let g = Graph::new("pred");
    let a = g.input("a", DType::I32, []);
    let line = line!() + 1;
    let r = g.cond(a, || [a + 1], || [a - 1]);
    assert_eq!(r.len(), 1);
    assert!(r[0].is_poisoned());
    assert_mentions(
        &build_error(&g),
        &[
            "'if'",
            "predicate must be a scalar bool, got i32",
            &here(line),
        ],
    );

    let g = Graph::new("branches");
    let a = g.input("a", DType::I32, []);
    let _ = g.cond(a.gt(0), || vec![a, a], || vec![a, a.convert(DType::F64)]);
    assert_mentions(
        &build_error(&g),
        &["'if'", "then gives (i32, i32), else gives (i32, f64)"],
    );
}

#[test]
fn error_value_from_an_ended_or_sibling_region() {
    // A value built inside the body, used after the loop.
    let g = Graph::new("escape");
    let a = g.input("a", DType::I32, []);
    let mut inner = None;
    let out = g.while_loop(
        |v| v[0].lt(10),
        |v| {
            let n = v[0] + 1;
            inner = Some(n);
            [n]
        },
        &[a],
    );
    g.check().unwrap();
    let line = line!() + 1;
    let _ = out[0] + inner.unwrap();
    assert_mentions(
        &build_error(&g),
        &["'add'", "operand 1", "is not visible here", &here(line)],
    );

    // A value of the cond region, used in the sibling body region.
    let g = Graph::new("sibling");
    let a = g.input("a", DType::I32, []);
    let in_cond = std::cell::Cell::new(None);
    let _ = g.while_loop(
        |v| {
            let t = v[0] * 2;
            in_cond.set(Some(t));
            t.lt(10)
        },
        |v| [v[0] + in_cond.get().unwrap()],
        &[a],
    );
    assert_mentions(&build_error(&g), &["'add'", "is not visible here"]);

    // Values of enclosing scopes are visible in nested regions.
    let g = Graph::new("capture");
    let a = g.input("a", DType::I32, []);
    let step = g.scalar(3i32);
    let _ = g.while_loop(|v| v[0].lt(a), |v| [v[0] + step], &[a]);
    g.check().unwrap();
}

#[test]
fn error_misuse_of_the_graph() {
    let g = Graph::new("outs");
    let a = g.input("a", DType::I32, []);
    let _ = a + 1;
    assert_mentions(
        &g.function().unwrap_err().to_string(),
        &["no outputs", "Graph::outputs"],
    );

    let g = Graph::new("names");
    let _ = g.input("a", DType::I32, []);
    let _ = g.input("a", DType::I32, []);
    assert_mentions(&build_error(&g), &["'input'", "'a' is already used"]);

    let g = Graph::new("names2");
    let _ = g.input("2x", DType::I32, []);
    assert_mentions(&build_error(&g), &["'2x' is not a valid input name"]);

    let g = Graph::new("one");
    let h = Graph::new("two");
    let a = g.input("a", DType::I32, []);
    let b = h.input("b", DType::I32, []);
    let _ = a + b;
    assert_mentions(&build_error(&g), &["'add'", "another graph"]);
}

#[test]
fn counter_compiled_gives_20_20() {
    let g = Graph::new("counter");
    counter(&g);
    let exe = g.compile().unwrap();
    let out = exe
        .run(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])
        .unwrap();
    assert_eq!(out, vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]);
    // A second compile of the same graph is answered by the cache with the same code.
    let again = g.compile().unwrap();
    assert!(std::sync::Arc::ptr_eq(&exe, &again));
}

/// `sum over i < n of (number of j < i)`, as two nested `while_loop`s: n(n-1)/2.
fn nested(g: &Graph) {
    let n = g.input("n", DType::I32, []);
    let zero = g.scalar(0i32);
    let out = g.while_loop(
        |v| v[0].lt(n),
        |v| {
            let inner = g.while_loop(|w| w[0].lt(v[0]), |w| [w[0] + 1, w[1] + 1], &[zero, v[1]]);
            [v[0] + 1, inner[1]]
        },
        &[zero, zero],
    );
    g.outputs(&[out[1]]);
}

/// Collatz step count of a scalar: a `cond` inside a `while`.
fn collatz(g: &Graph) {
    let x = g.input("x", DType::I64, []);
    let steps = g.scalar(0i32);
    let out = g.while_loop(
        |v| v[0].not_equal(1),
        |v| {
            let even = (v[0] % 2).equal(0);
            let next = g.cond(even, || [v[0] / 2], || [v[0] * 3 + 1]);
            [next[0], v[1] + 1]
        },
        &[x, steps],
    );
    g.outputs(&[out[1]]);
}

#[test]
fn nested_loops_and_cond_inside_while_compile() {
    let g = Graph::new("nested");
    nested(&g);
    let exe = g.compile().unwrap();
    assert_eq!(
        exe.run(&[Tensor::scalar(10i32)]).unwrap(),
        vec![Tensor::scalar(45i32)]
    );
    assert_eq!(
        exe.run(&[Tensor::scalar(0i32)]).unwrap(),
        vec![Tensor::scalar(0i32)]
    );

    let g = Graph::new("collatz");
    collatz(&g);
    let exe = g.compile().unwrap();
    assert_eq!(
        exe.run(&[Tensor::scalar(27i64)]).unwrap(),
        vec![Tensor::scalar(111i32)]
    );
    assert_eq!(
        exe.run(&[Tensor::scalar(6i64)]).unwrap(),
        vec![Tensor::scalar(8i32)]
    );
}

/// The builder's IR prints, parses back to the very same function, and verifies.
fn assert_round_trips(g: &Graph) {
    let f = g.function().unwrap();
    let text = g.ir().unwrap();
    let back = parse_function(&text).unwrap();
    assert_eq!(
        back, f,
        "IR text does not read back to the same function:\n{text}"
    );
    verify_function(&back).unwrap();
}

#[test]
fn builder_ir_round_trips_through_the_parser() {
    let g = Graph::new("counter");
    counter(&g);
    assert_round_trips(&g);
    let g = Graph::new("nested");
    nested(&g);
    assert_round_trips(&g);
    let g = Graph::new("collatz");
    collatz(&g);
    assert_round_trips(&g);

    let g = Graph::new("shapes");
    let m = g.input("m", DType::F32, [2, 3]);
    let v = g.input("v", DType::F32, [3]);
    let t = (m * v + 1.0).transpose(&[1, 0]);
    let s = t.slice(&[0, 0], &[3, 2], &[2, 1]).reshape([4]);
    let c = g.concat(&[s, g.iota(DType::F32, [2], 0)], 0);
    let p = c.gt(0.5);
    let y = g.select(p, c.exp(), -c).reduce_max(&[0]);
    let k = m.dot(v.reshape([3, 1])).convert(DType::I64);
    g.outputs(&[y, k]);
    assert_round_trips(&g);

    // An input may take a name of the builder's `%vN` form; the names stay unique.
    let g = Graph::new("names");
    let a = g.input("v1", DType::I32, []);
    let b = g.input("v0", DType::I32, []);
    g.outputs(&[(a + 1) * b]);
    assert_round_trips(&g);
    assert!(g.ir().unwrap().contains("%v2 = const 1 : i32"));
}

#[test]
fn eager_counter_loop_gives_20_20() -> Result<(), Error> {
    let mut first = Tensor::scalar(0i32);
    let mut second = Tensor::scalar(10i32);
    let mut steps = 0;
    while first.lt(&second)?.to_bool()? {
        first = (&first + 2)?;
        second = (&second + 1)?;
        steps += 1;
    }
    assert_eq!(
        (first.to_scalar::<i32>()?, second.to_scalar::<i32>()?),
        (20, 20)
    );
    assert_eq!(steps, 10);
    Ok(())
}

#[test]
fn eager_ops_broadcast_and_promote_literals() -> Result<(), Error> {
    let m = Tensor::from([[1.0f32, 2.0], [3.0, 4.0]]);
    let v = Tensor::from([10.0f32, 20.0]);
    assert_eq!((&m + &v)?, Tensor::from([[11.0f32, 22.0], [13.0, 24.0]]));
    assert_eq!((2.0 * &m)?, Tensor::from([[2.0f32, 4.0], [6.0, 8.0]]));
    assert_eq!((1 - &v)?, Tensor::from([-9.0f32, -19.0]));
    assert_eq!(m.sum(&[0, 1])?, Tensor::scalar(10.0f32));
    assert!(m.gt(2.5)?.any(&[0, 1])?.to_bool()?);
    assert_eq!((-&v)?, Tensor::from([-10.0f32, -20.0]));
    let i = Tensor::from([7i32, -7]);
    // Integer division and remainder follow the IR's semantics (truncation, sign of dividend).
    assert_eq!((&i / 2)?, Tensor::from([3i32, -3]));
    assert_eq!((&i % 2)?, Tensor::from([1i32, -1]));
    assert_eq!((&i / 0)?, Tensor::from([-1i32, -1]));
    let p = Tensor::from([true, false]);
    assert_eq!(p.select(&i, 0)?, Tensor::from([7i32, 0]));
    assert_eq!((!&p)?, Tensor::from([false, true]));
    Ok(())
}

#[test]
fn eager_errors_name_op_types_and_location() {
    let a = Tensor::scalar(1i32);
    let b = Tensor::scalar(1.0f32);
    let line = line!() + 1;
    let e = (&a + &b).unwrap_err().to_string();
    assert_mentions(
        &e,
        &["'add'", "(i32, f32)", "different dtypes", &here(line)],
    );

    let x = Tensor::from([1.0f32, 2.0, 3.0]);
    let y = Tensor::from([1.0f32, 2.0]);
    let e = x.lt(&y).unwrap_err().to_string();
    assert_mentions(&e, &["'lt'", "(f32[3], f32[2])", "do not broadcast"]);

    let e = x.to_scalar::<f32>().unwrap_err().to_string();
    assert_mentions(&e, &["to_scalar::<f32>", "one element", "f32[3]"]);
    let e = a.to_bool().unwrap_err().to_string();
    assert_mentions(&e, &["to_scalar::<bool>", "needs a bool tensor, got i32"]);
    let e = (&a * 0.5).unwrap_err().to_string();
    assert_mentions(&e, &["'mul'", "0.5", "cannot be a i32"]);
    let e = a.exp().unwrap_err().to_string();
    assert_mentions(&e, &["'exp'", "not defined on i32"]);
}

#[test]
fn traced_static_function_compiles_once_then_hits_the_cache() -> Result<(), Error> {
    let f = trace::function(|xs: &[Traced]| {
        let y = ((&xs[0] * &xs[1])? + 1.0)?;
        Ok(vec![y.tanh()?, y.sum(&[0])?])
    })
    .named("mul_add");
    let a = Tensor::from([0.5f32, -1.0, 2.0]);
    let b = Tensor::from([2.0f32, 0.25, -3.0]);
    let first = f.call(&[a.clone(), b.clone()])?;
    let s = f.stats();
    assert_eq!(
        (s.traces, s.compilations, s.cache_hits, s.fallbacks),
        (1, 1, 0, 0)
    );
    let second = f.call(&[a.clone(), b.clone()])?;
    let s = f.stats();
    assert_eq!(
        (s.traces, s.compilations, s.cache_hits, s.fallbacks),
        (1, 1, 1, 0)
    );
    // The traced (eager) call and the compiled call agree bit for bit.
    assert_eq!(first, second);
    let eager = ((&a * &b)? + 1.0)?;
    assert_eq!(first, vec![eager.tanh()?, eager.sum(&[0])?]);
    let sig = [a.ty(), b.ty()];
    assert_eq!(f.status(&sig), Some(TraceStatus::Compiled));
    assert!(f.explain().contains("@mul_add(f32[3], f32[3]): static"));

    // A new signature traces and compiles again.
    let c = Tensor::from([1.0f32, 2.0]);
    f.call(&[c.clone(), c])?;
    let s = f.stats();
    assert_eq!((s.traces, s.compilations, s.cache_hits), (2, 2, 1));
    Ok(())
}

#[test]
fn traced_function_with_data_dependent_control_flow_falls_back() -> Result<(), Error> {
    let line = line!() + 3;
    let counter = trace::function(|xs: &[Traced]| {
        let (mut first, mut second) = (xs[0].clone(), xs[1].clone());
        while first.lt(&second)?.to_bool()? {
            first = (&first + 2)?;
            second = (&second + 1)?;
        }
        Ok(vec![first, second])
    })
    .named("counter");
    let out = counter.call(&[Tensor::scalar(0i32), Tensor::scalar(10i32)])?;
    assert_eq!(out, vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]);
    // The same signature keeps running eagerly, with whatever control flow the data asks for.
    let out = counter.call(&[Tensor::scalar(5i32), Tensor::scalar(5i32)])?;
    assert_eq!(out, vec![Tensor::scalar(5i32), Tensor::scalar(5i32)]);
    let s = counter.stats();
    assert_eq!(
        (s.traces, s.compilations, s.cache_hits, s.fallbacks),
        (1, 0, 0, 2)
    );
    let why = counter.explain();
    assert_mentions(
        &why,
        &["@counter(i32, i32): dynamic", "to_bool()", &here(line)],
    );
    match counter.status(&vec![TensorType::scalar(DType::I32); 2]) {
        Some(TraceStatus::Dynamic(b)) => assert_eq!(b.location.line(), line),
        other => panic!("expected a dynamic trace, got {other:?}"),
    }
    Ok(())
}

#[test]
fn traced_values_do_not_outlive_their_call() {
    let kept = std::cell::RefCell::new(None::<Traced>);
    let f = trace::function(|xs: &[Traced]| {
        let y = match kept.borrow().as_ref() {
            Some(old) => (&xs[0] + old)?,
            None => (&xs[0] + 1)?,
        };
        *kept.borrow_mut() = Some(y.clone());
        Ok(vec![y])
    });
    f.call(&[Tensor::scalar(1i32)]).unwrap();
    let e = f.call(&[Tensor::scalar(1i64)]).unwrap_err().to_string();
    assert_mentions(&e, &["'add'", "another call"]);
}

#[test]
fn traced_functions_capture_plain_tensors_as_constants() -> Result<(), Error> {
    let w = Tensor::from([1.0f64, 2.0, 3.0]);
    let f = trace::function(|xs: &[Traced]| Ok(vec![(&xs[0] * &w)?.sum(&[0])?]));
    let x = Tensor::from([1.0f64, 1.0, 1.0]);
    assert_eq!(
        f.call(std::slice::from_ref(&x))?,
        vec![Tensor::scalar(6.0f64)]
    );
    assert_eq!(f.call(&[x])?, vec![Tensor::scalar(6.0f64)]);
    assert_eq!(f.stats().cache_hits, 1);
    Ok(())
}

#[test]
fn counter_interpreted_gives_20_20_like_compiled() {
    let g = Graph::new("counter");
    counter(&g);
    let inputs = [Tensor::scalar(0i32), Tensor::scalar(10i32)];
    let interpreted = g.interpret(&inputs).unwrap();
    assert_eq!(
        interpreted,
        vec![Tensor::scalar(20i32), Tensor::scalar(20i32)]
    );
    assert_eq!(g.compile().unwrap().run(&inputs).unwrap(), interpreted);

    let g = Graph::new("nested");
    nested(&g);
    assert_eq!(
        g.interpret(&[Tensor::scalar(10i32)]).unwrap(),
        vec![Tensor::scalar(45i32)]
    );
    let g = Graph::new("collatz");
    collatz(&g);
    assert_eq!(
        g.interpret(&[Tensor::scalar(27i64)]).unwrap(),
        vec![Tensor::scalar(111i32)]
    );
}

#[test]
fn static_traces_round_trip_through_the_parser() -> Result<(), Error> {
    let f = trace::function(|xs: &[Traced]| {
        let m = xs[0].reshape([2, 2])?;
        Ok(vec![m.dot(&m)?.transpose(&[1, 0])?, (&xs[0] * 0.5)?.exp()?])
    })
    .named("mm");
    let x = Tensor::from(vec![1.0f64, 2.0, 3.0, 4.0]);
    f.call(std::slice::from_ref(&x))?;
    let traced = f.traced_function(&[x.ty()]).unwrap();
    assert_eq!(parse_function(&traced.to_string()).unwrap(), traced);
    verify_function(&traced).unwrap();
    Ok(())
}

/// The PyTorch spelling: `item::<bool>()` reads a value eagerly, and in a trace it is
/// a graph break named after the call.
#[test]
fn item_reads_a_value_and_breaks_a_trace() -> graphjit::Result<()> {
    let mut first = Tensor::scalar(0i32);
    let mut second = Tensor::scalar(10i32);
    while first.lt(&second)?.item::<bool>()? {
        first = (&first + 2)?;
        second = (&second + 1)?;
    }
    assert_eq!((first.item::<i32>()?, second.item::<i32>()?), (20, 20));
    assert!(first.item::<f32>().is_err(), "a dtype mismatch is an error");
    let f = graphjit::function(|xs: &[graphjit::Traced]| {
        let mut a = xs[0].clone();
        while a.lt(&xs[1])?.item::<bool>()? {
            a = (&a + 2)?;
        }
        Ok(vec![a])
    });
    let r = f.call(&[Tensor::scalar(0i32), Tensor::scalar(5i32)])?;
    assert_eq!(r, [Tensor::scalar(6i32)]);
    assert!(f.explain().contains("`item::<bool>()`"), "{}", f.explain());
    Ok(())
}
