//! Resource limits: shapes whose element count overflows, or exceeds `MAX_ELEMENTS`, or whose
//! rank exceeds `MAX_RANK`, are refused with an error before anything is allocated, through
//! every door: the parser, the verifier, the interpreter, the compiler, the argument
//! generators, the graph builder, the eager API, the kernels and the CLI. (Deep nesting of
//! brackets and regions is tested in `tests/ir_text.rs`.)

use std::process::Command;
use std::time::{Duration, Instant};

use graphjit::args::{generate, parse_type, parse_value};
use graphjit::ir::parse::parse_module;
use graphjit::ir::verify::verify_module;
use graphjit::ir::Function;
use graphjit::ops::{kernels, Op};
use graphjit::types::{MAX_ELEMENTS, MAX_RANK};
use graphjit::{interp, jit, DType, Data, Graph, Tensor, TensorType};

/// Shapes every door must refuse: over the element limit by one, overflowing `usize`, and
/// one rank too many.
fn absurd_shapes() -> Vec<Vec<usize>> {
    vec![
        vec![MAX_ELEMENTS + 1],
        vec![1 << 14, (1 << 14) + 1],
        vec![usize::MAX, 2],
        vec![1 << 32, 1 << 32],
        vec![usize::MAX; 3],
        vec![1; MAX_RANK + 1],
    ]
}

fn type_text(shape: &[usize]) -> String {
    TensorType::new(DType::F64, shape.to_vec()).to_string()
}

/// Asserts that `f` fails fast: an allocation of the refused size would take far longer (or
/// fail the process).
fn quickly<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let r = f();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{what} took {:?}",
        start.elapsed()
    );
    r
}

#[test]
fn the_text_path_refuses_absurd_shapes() {
    for shape in absurd_shapes() {
        let t = type_text(&shape);
        for src in [
            format!("func @f(%x: {t}) -> {t} {{\n  return %x\n}}\n"),
            format!("func @f() -> {t} {{\n  %c = const 0.5 : {t}\n  return %c\n}}\n"),
            format!("func @f() -> {t} {{\n  %c = iota axis=0 : {t}\n  return %c\n}}\n"),
            format!(
                "func @f(%x: f64) -> {t} {{\n  %c = broadcast %x dims=[] : {t}\n  return %c\n}}\n"
            ),
        ] {
            let e = quickly(&src, || match parse_module(&src) {
                Err(e) => e.to_string(),
                Ok(m) => verify_module(&m)
                    .expect_err("an absurd shape must not verify")
                    .to_string(),
            });
            assert!(
                e.contains("limit") || e.contains("too large") || e.contains("overflow"),
                "{src}: {e}"
            );
        }
    }
    // A dimension that does not fit in 64 bits is a parse error.
    let e = parse_module("func @f(%x: f32[99999999999999999999999]) -> () {\n  return\n}\n")
        .unwrap_err();
    assert_eq!(e.line, 1, "{e}");
}

#[test]
fn ops_whose_results_would_be_absurd_do_not_verify() {
    // Each input type is fine; the result type is over the limit.
    let big = 1usize << 14;
    let cases = [
        format!("func @f(%x: f32[{big}]) -> f32[{big},{}] {{\n  %y = broadcast %x dims=[0] : f32[{big},{}]\n  return %y\n}}\n", big + 1, big + 1),
        format!("func @f(%a: f32[{big},1], %b: f32[1,{}]) -> f32[{big},{}] {{\n  %y = dot %a, %b : f32[{big},{}]\n  return %y\n}}\n", big + 1, big + 1, big + 1),
        format!("func @f(%a: i32[{}], %b: i32[{}]) -> i32[{}] {{\n  %y = concat %a, %b axis=0 : i32[{}]\n  return %y\n}}\n", MAX_ELEMENTS / 2 + 1, MAX_ELEMENTS / 2, MAX_ELEMENTS + 1, MAX_ELEMENTS + 1),
    ];
    for src in cases {
        let e = quickly(&src, || match parse_module(&src) {
            Err(e) => e.to_string(),
            Ok(m) => verify_module(&m).unwrap_err().to_string(),
        });
        assert!(e.contains("limit"), "{src}: {e}");
    }
}

/// `f` with one constant of type `ty`, built through the API so that no parser or verifier
/// stands in front of the executors.
fn const_function(ty: &TensorType) -> Function {
    let mut f = Function::new("big", vec![ty.clone()]);
    let body = f.body;
    let c = f.push_inst(
        body,
        Op::Const(Tensor::scalar(0.5f64)),
        vec![],
        vec![ty.clone()],
        vec![],
    );
    let v = f.results(c)[0];
    f.push_inst(body, Op::Return, vec![v], vec![], vec![]);
    f
}

#[test]
fn executors_refuse_unverified_absurd_types() {
    for shape in absurd_shapes() {
        let ty = TensorType::new(DType::F64, shape);
        let f = const_function(&ty);
        quickly("interpreter", || {
            assert!(interp::Interpreter::new(&f).is_err(), "{ty}")
        });
        quickly("compiler", || assert!(jit::compile(&f).is_err(), "{ty}"));
        quickly("kernel", || {
            let x = Tensor::scalar(1.0f64);
            let r = kernels::eval(&Op::Broadcast { dims: vec![] }, &[&x], &ty);
            assert!(r.is_err(), "{ty}");
        });
    }
}

#[test]
fn argument_generators_refuse_absurd_types_before_allocating() {
    for shape in absurd_shapes() {
        let t = type_text(&shape);
        let ty = TensorType::new(DType::F64, shape);
        quickly(&t, || {
            assert!(parse_type(&t).is_err(), "{t}");
            for g in ["zeros", "ones", "iota", "rand", "full(1)"] {
                assert!(generate(g, &ty).is_err(), "{g}:{t}");
                assert!(parse_value(&format!("{g}:{t}"), &ty).is_err(), "{g}:{t}");
            }
        });
    }
    assert!(Tensor::new(Data::F32(Vec::new().into()), [usize::MAX, 2]).is_none());
}

#[test]
fn the_graph_builder_and_eager_api_refuse_absurd_shapes() {
    for shape in absurd_shapes() {
        let g = Graph::new("big");
        let x = g.input("x", DType::F32, shape.clone());
        g.outputs(&[x]);
        quickly("graph", || assert!(g.compile().is_err(), "{shape:?}"));
        let one = Tensor::scalar(1.0f32);
        quickly("eager", || {
            assert!(one.broadcast_to(shape.clone()).is_err(), "{shape:?}")
        });
    }
}

#[test]
fn the_cli_refuses_absurd_shapes() {
    let dir = std::env::temp_dir().join(format!("graphjit_robust_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.gir");
    std::fs::write(
        &file,
        "func @big(%x: f32[4]) -> f32[65536,65536] {\n  %y = broadcast %x dims=[0] : f32[65536,65536]\n  return %y\n}\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_graphjit"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let path = file.to_str().unwrap();
    let e = run(&["run", path, "zeros:f32[4]"]);
    assert!(e.contains("more elements than the limit"), "{e}");
    let e = run(&["run", "ir/sumsq.gir", "zeros:f32[4294967296,4294967296]"]);
    assert!(e.contains("limit") || e.contains("too large"), "{e}");
    let e = run(&[
        "run",
        "--interp",
        "ir/sumsq.gir",
        "rand:f32[18446744073709551615]",
    ]);
    assert!(e.contains("limit") || e.contains("too large"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A tensor whose data no longer matches its shape (its `Data` replaced through
/// `data_mut`) must be refused, not read out of bounds.
fn mismatched_tensor() -> (Function, Tensor) {
    let m = parse_module(
        "func @f(%x: f32[1024]) -> f32 {\n  %s = reduce.sum %x axes=[0] : f32\n  return %s\n}\n",
    )
    .unwrap();
    let mut t = Tensor::zeros(&TensorType::new(DType::F32, [1024]));
    *t.data_mut() = Data::F32(vec![1.0; 3].into());
    (m.funcs[0].clone(), t)
}

#[test]
fn the_interpreter_refuses_a_tensor_whose_data_does_not_match_its_shape() {
    let (f, t) = mismatched_tensor();
    let e = interp::interpret(&f, &[t]).unwrap_err().to_string();
    assert!(e.contains("3 element(s)") && e.contains("f32[1024]"), "{e}");
}

/// Found by this branch: `Executable::check_inputs` compared dtype and shape, not the data
/// length, so such a tensor was read out of bounds.
#[test]
fn compiled_code_refuses_a_tensor_whose_data_does_not_match_its_shape() {
    let (f, t) = mismatched_tensor();
    let exe = jit::compile(&f).unwrap();
    let e = exe.run(&[t]).unwrap_err().to_string();
    assert!(e.contains("3 element(s)") && e.contains("f32[1024]"), "{e}");
    // An output whose data was shrunk is refused too, instead of written out of bounds.
    let x = Tensor::zeros(&TensorType::new(DType::F32, [1024]));
    let mut out = vec![Tensor::scalar(0.0f32)];
    *out[0].data_mut() = Data::F32(Vec::new().into());
    assert!(exe.run_into(&[x], &mut out).is_err());
}

/// Zero-element types with huge dimensions are refused like any oversized type: they hold no
/// element, but their strides (`[0, MAX, 2]` has a stride of `2 * MAX`) would overflow.
#[test]
fn empty_tensors_with_huge_dimensions_are_refused() {
    let big = usize::MAX;
    for (ty, op, out) in [
        (
            format!("f32[0,{big}]"),
            "transpose %x perm=[1,0]",
            format!("f32[{big},0]"),
        ),
        (
            format!("f32[0,{big},2]"),
            "reduce.sum %x axes=[1]",
            "f32[0,2]".to_string(),
        ),
        (
            format!("i32[0,{big},3]"),
            "transpose %x perm=[0,2,1]",
            format!("i32[0,3,{big}]"),
        ),
        (
            format!("f64[0,{big},2]"),
            "reshape %x",
            "f64[0]".to_string(),
        ),
        (
            format!("f64[0,{big},2]"),
            "neg %x",
            format!("f64[0,{big},2]"),
        ),
    ] {
        let src = format!("func @f(%x: {ty}) -> {out} {{\n  %y = {op} : {out}\n  return %y\n}}\n");
        let e = parse_module(&src)
            .map_err(|e| e.to_string())
            .and_then(|m| verify_module(&m).map_err(|e| e.to_string()))
            .expect_err(&src);
        assert!(e.contains("more elements than the limit"), "{src}: {e}");
        let t = TensorType::new(DType::F32, [0, big, 2]);
        assert!(t.check_size().is_err() && t.checked_num_elements().is_none());
    }
    // Modest empty types still run, in both executors.
    let src = "func @f(%x: f32[0,7,2]) -> f32[0,2] {\n  %y = reduce.sum %x axes=[1] : f32[0,2]\n  return %y\n}\n";
    let m = parse_module(src).unwrap();
    verify_module(&m).unwrap();
    let f = &m.funcs[0];
    let x = Tensor::zeros(f.ty(f.params[0]));
    let want = interp::interpret(f, std::slice::from_ref(&x)).unwrap();
    assert_eq!(jit::compile(f).unwrap().run(&[x]).unwrap(), want);
}
