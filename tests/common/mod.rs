//! Helpers shared by the integration tests (`mod common;`): the one check that runs a function
//! in the interpreter and in every compile variant and wants the same bits, the edge values
//! of every dtype, and programs read from `ir/` instead of being built by hand.

// Each test file uses some of these helpers, never all.
#![allow(dead_code)]

use graphjit::filetest::load;
use graphjit::interp::interpret;
use graphjit::ir::Function;
use graphjit::jit::{compile_with, JitOptions};
use graphjit::ops::scalar;
use graphjit::{DType, Data, Scalar, Tensor};

/// The compile option sets every differential check compares with the interpreter.
pub fn variants() -> Vec<(&'static str, JitOptions)> {
    vec![
        ("plain", JitOptions::plain()),
        (
            "fused-scalar",
            JitOptions {
                simd: false,
                ..JitOptions::default()
            },
        ),
        ("fused-simd", JitOptions::default()),
    ]
}

/// Runs `f` on `inputs` in the interpreter (the reference semantics) and compiled under every
/// variant, asserts that all give the same bits (NaNs by NaN-ness: `Tensor`'s equality), and
/// returns the interpreter's results.
pub fn check_both(f: &Function, inputs: &[Tensor], what: &str) -> Vec<Tensor> {
    let want = interpret(f, inputs).unwrap_or_else(|e| panic!("{what} [interp]: {e}"));
    for (name, opts) in variants() {
        let exe = compile_with(f, &opts).unwrap_or_else(|e| panic!("{what} [{name}]: {e}"));
        let got = exe
            .run(inputs)
            .unwrap_or_else(|e| panic!("{what} [{name}]: {e}"));
        assert_eq!(got, want, "{what}: {name} differs from the interpreter");
    }
    want
}

/// Function `name` of the file `ir/FILE`, parsed and verified.
pub fn load_ir(file: &str, name: &str) -> Function {
    let path = format!("{}/ir/{file}", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    load(&src)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .func(name)
        .unwrap_or_else(|| panic!("{path} has no @{name}"))
        .clone()
}

/// Edge values of a dtype, cycled from `offset` to fill `n` elements.
pub fn edge_values(dt: DType, n: usize, offset: usize) -> Tensor {
    let f64s = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -2.5,
        2.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        3.75,
        -7.0,
        1e10,
        -1e-10,
        1e300,
        5e-324,
        f64::MAX,
        f64::MIN,
        2147483648.0,
        -2147483904.0,
        9.3e18,
        0.3,
        -0.7,
    ];
    let i64s = [
        0i64,
        1,
        -1,
        2,
        -2,
        7,
        -7,
        31,
        32,
        33,
        63,
        64,
        100,
        -100,
        i64::MIN,
        i64::MAX,
        i32::MIN as i64,
        i32::MAX as i64,
        12345,
    ];
    let idx = |i: usize| i.wrapping_mul(7).wrapping_add(offset);
    match dt {
        DType::F32 => {
            let extra = [f32::MIN_POSITIVE / 4.0, f32::MAX, f32::MIN, 16777217.0];
            Tensor::from(
                (0..n)
                    .map(|i| {
                        let k = idx(i) % (f64s.len() + extra.len());
                        if k < f64s.len() {
                            f64s[k] as f32
                        } else {
                            extra[k - f64s.len()]
                        }
                    })
                    .collect::<Vec<f32>>(),
            )
        }
        DType::F64 => Tensor::from(
            (0..n)
                .map(|i| f64s[idx(i) % f64s.len()])
                .collect::<Vec<f64>>(),
        ),
        DType::I32 => {
            let extra = [i32::MIN, i32::MAX];
            Tensor::from(
                (0..n)
                    .map(|i| {
                        let k = idx(i) % (i64s.len() + 2);
                        if k < i64s.len() {
                            i64s[k] as i32
                        } else {
                            extra[k - i64s.len()]
                        }
                    })
                    .collect::<Vec<i32>>(),
            )
        }
        DType::I64 => Tensor::from(
            (0..n)
                .map(|i| i64s[idx(i) % i64s.len()])
                .collect::<Vec<i64>>(),
        ),
        DType::Bool => Tensor::from((0..n).map(|i| idx(i) % 3 == 0).collect::<Vec<bool>>()),
        // The other dtypes take the same lists converted (wrapping, saturating, rounding).
        d => {
            let items: Vec<Scalar> = (0..n)
                .map(|i| {
                    if d.is_float() {
                        scalar::convert(Scalar::F64(f64s[idx(i) % f64s.len()]), d)
                    } else {
                        scalar::convert(Scalar::I64(i64s[idx(i) % i64s.len()]), d)
                    }
                })
                .collect();
            Tensor::new(Data::from_scalars(d, &items).expect("items"), [n]).expect("tensor")
        }
    }
}
