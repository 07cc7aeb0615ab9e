//! Helpers shared by the integration tests (`mod common;`): the one check that runs a function
//! in the interpreter and in every compile variant and wants the same bits, the edge values
//! of every dtype (one table), and programs read from `ir/` instead of being built by hand.

// Each test file uses some of these helpers, never all.
#![allow(dead_code)]

use graphjit::filetest::load;
use graphjit::interp::interpret;
use graphjit::ir::Function;
use graphjit::jit::{compile_with, JitOptions};
use graphjit::ops::{scalar, BinaryOp};
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

/// The edge values of a dtype, each once: zeros of both signs, ones, MIN and MAX and their
/// neighbours, shift amounts around the width, the points where conversions to narrower types
/// saturate or round, subnormals, infinities and NaN. The one table every test draws on.
pub fn edge_scalars(dtype: DType) -> Vec<Scalar> {
    match dtype {
        DType::Bool => vec![Scalar::Bool(false), Scalar::Bool(true)],
        DType::I32 => [
            0,
            1,
            -1,
            2,
            -2,
            -7,
            7,
            31,
            32,
            33,
            63,
            64,
            100,
            -100,
            12345,
            i32::MIN,
            i32::MAX,
            i32::MIN + 1,
            i32::MAX - 1,
        ]
        .map(Scalar::I32)
        .to_vec(),
        DType::I64 => [
            0,
            1,
            -1,
            2,
            -2,
            -7,
            7,
            31,
            32,
            33,
            63,
            64,
            65,
            100,
            -100,
            12345,
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
            i32::MIN as i64,
            i32::MAX as i64,
            1 << 32 | 5,
        ]
        .map(Scalar::I64)
        .to_vec(),
        DType::F32 => [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -2.5,
            2.5,
            3.75,
            0.3,
            -0.7,
            1e-45,
            -1e-45,
            f32::MIN_POSITIVE / 4.0,
            1.17e-38,
            -1e-10,
            f32::MAX,
            f32::MIN,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            16777217.0,
            2147483648.0,
            -2147483904.0,
            3e9,
            -3e9,
            1e10,
            9.3e18,
            1e20,
        ]
        .map(Scalar::F32)
        .to_vec(),
        DType::F64 => [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -2.5,
            2.5,
            3.75,
            0.3,
            -0.7,
            5e-324,
            -5e-324,
            2.2e-308,
            -1e-10,
            f64::MAX,
            f64::MIN,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2147483648.0,
            -2147483904.0,
            3e9,
            1e10,
            9.3e18,
            -1e19,
            1e300,
        ]
        .map(Scalar::F64)
        .to_vec(),
        // The 8- and 16-bit and unsigned integers: the same kinds of edges, by width (shift
        // amounts around it, MIN, MAX and their neighbours, the unsigned wrap point).
        d if d.is_int() => {
            let w = i64::from(d.bits());
            let c = |v: i64| scalar::convert(Scalar::I64(v), d);
            let mut v: Vec<Scalar> = [0, 1, -1, 2, -7, 7, w - 1, w, w + 1, 100]
                .into_iter()
                .map(c)
                .collect();
            let (min, max) = (d.min_value(), d.max_value());
            let one = c(1);
            let add = |a, b| scalar::eval_binary(BinaryOp::Add, a, b).expect("add");
            let sub = |a, b| scalar::eval_binary(BinaryOp::Sub, a, b).expect("sub");
            v.extend([min, max, add(min, one), sub(max, one)]);
            // The middle of an unsigned range, where the signed reading of the bits turns.
            v.push(scalar::eval_binary(BinaryOp::Shl, one, c(w - 1)).expect("shl"));
            v
        }
        // f16 and bf16: the f32 edges rounded to them, plus their own largest finite value,
        // smallest subnormal and normal, and values next to 1 (where rounding ties happen).
        d => {
            let c = |v: f32| scalar::convert(Scalar::F32(v), d);
            let mut v: Vec<Scalar> = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -2.5,
                2.5,
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                3e9,
                -3e9,
                65504.0,
                -65504.0,
                5.9604645e-8,
                6.1035156e-5,
                1.0009766,
                0.9995117,
                1.0078125,
                3.3895314e38,
                9.2e-41,
                255.0,
                -128.0,
            ]
            .into_iter()
            .map(c)
            .collect();
            v.extend([d.min_value(), d.max_value()]);
            v
        }
    }
}

/// The edge values of a dtype ([`edge_scalars`]) as a rank-1 tensor of `n` elements, taken
/// from `offset` with a stride prime to the table's length, so that different offsets pair
/// different values and every value appears before any repeats.
pub fn edge_values(dt: DType, n: usize, offset: usize) -> Tensor {
    let e = edge_scalars(dt);
    let coprime = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a == 1
    };
    let stride = (7..).find(|&s| coprime(s, e.len())).expect("a stride");
    let items: Vec<Scalar> = (0..n)
        .map(|i| e[i.wrapping_mul(stride).wrapping_add(offset) % e.len()])
        .collect();
    Tensor::new(Data::from_scalars(dt, &items).expect("items"), [n]).expect("tensor")
}

/// Parses and verifies the first function of the IR text `src`, runs it in the interpreter
/// and compiled (default options), asserts that every result has the same type and bytes in
/// both (NaN payloads included), and returns the interpreter's results.
pub fn both_bits(src: &str, inputs: &[Tensor]) -> Vec<Tensor> {
    let m = graphjit::ir::parse::parse_module(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let f = m.funcs[0].clone();
    graphjit::ir::verify::verify_function(&f).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let a = interpret(&f, inputs).unwrap_or_else(|e| panic!("interpreted: {e}\n{src}"));
    let b = graphjit::jit::compile(&f)
        .unwrap_or_else(|e| panic!("compile: {e}\n{src}"))
        .run(inputs)
        .unwrap_or_else(|e| panic!("compiled: {e}\n{src}"));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.ty(), y.ty());
        assert_eq!(
            x.data().as_bytes(),
            y.data().as_bytes(),
            "interpreted {x} vs compiled {y}\n{src}"
        );
    }
    a
}

/// A small deterministic generator (xorshift), so the tests need no crate and a seed
/// reproduces a failure.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Floats with many ties, signed zeros, infinities and NaNs of both signs: each of those
    /// six once in `spread` draws, else a quarter-integer in [-5, 5].
    pub fn edgy_f32(&mut self, spread: u64) -> f32 {
        match self.next() % spread {
            0 => f32::NAN,
            1 => -f32::NAN,
            2 => 0.0,
            3 => -0.0,
            4 => f32::INFINITY,
            5 => f32::NEG_INFINITY,
            _ => ((self.next() % 41) as f32 - 20.0) / 4.0,
        }
    }
}
