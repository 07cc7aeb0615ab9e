//! graphjit's own `exp` and `tanh` (`ops::scalar::vmath`): accuracy against `f64` references
//! (for `f32`) and against std's `f64` functions (for `f64`) over the whole range, their special values, and bit-identical results from the
//! interpreter and every compiled form (scalar, fused, fused SIMD f32x4 with every tail
//! length); and float `dot` through `matrixmultiply`, the same bits in both executors.

mod common;
mod jit_util;

use common::{check_both as check, variants};
use graphjit::jit::compile_with;
use graphjit::ops::scalar::vmath::{exp_f32, exp_f64, tanh_f32, tanh_f64};
use graphjit::ops::{scalar, Op, UnaryOp};
use graphjit::{DType, Tensor};
use jit_util::*;

/// The ulp of `f32` at the magnitude of `y` (an `f64`), subnormal spacing included.
fn ulp_f32(y: f64) -> f64 {
    let a = y.abs();
    if a < f32::MIN_POSITIVE as f64 {
        return 2f64.powi(-149);
    }
    2f64.powi(a.log2().floor() as i32 - 23)
}

/// The error of `got` in ulps of the correctly rounded result near `want`; infinite results
/// must match where the rounded reference overflows.
fn ulp_error(got: f32, want: f64) -> f64 {
    if want.is_nan() {
        return if got.is_nan() { 0.0 } else { f64::INFINITY };
    }
    let rounded = want as f32;
    if rounded.is_infinite() || got.is_infinite() {
        return if got == rounded { 0.0 } else { f64::INFINITY };
    }
    (got as f64 - want).abs() / ulp_f32(want)
}

/// Every 509th `f32` bit pattern (both signs, all exponents), plus dense runs around the
/// points where the algorithms switch: overflow and underflow of `exp`, the small/large
/// threshold of `tanh`, and around zero.
fn samples() -> Vec<f32> {
    let mut v: Vec<f32> = (0..u32::MAX / 509)
        .map(|i| f32::from_bits(i * 509))
        .collect();
    for centre in [
        88.72284f32,
        -87.33655,
        -103.27893,
        -103.97208,
        0.625,
        0.0,
        9.0,
    ] {
        for d in -3000i32..3000 {
            for s in [1.0f32, -1.0] {
                let b = (centre * s).to_bits() as i64 + d as i64;
                v.push(f32::from_bits(b as u32));
            }
        }
    }
    v
}

#[test]
fn exp_accuracy_against_f64() {
    let mut worst = (0.0f64, 0.0f32);
    for x in samples() {
        let e = ulp_error(exp_f32(x), (x as f64).exp());
        if e > worst.0 || e.is_nan() {
            worst = (e, x);
        }
    }
    eprintln!("exp_f32: max error {:.3} ulp at x = {:e}", worst.0, worst.1);
    assert!(worst.0 <= 1.0, "exp error {} ulp at {:e}", worst.0, worst.1);
}

#[test]
fn tanh_accuracy_against_f64() {
    let mut worst = (0.0f64, 0.0f32);
    for x in samples() {
        let e = ulp_error(tanh_f32(x), (x as f64).tanh());
        if e > worst.0 || e.is_nan() {
            worst = (e, x);
        }
    }
    eprintln!(
        "tanh_f32: max error {:.3} ulp at x = {:e}",
        worst.0, worst.1
    );
    assert!(
        worst.0 <= 2.0,
        "tanh error {} ulp at {:e}",
        worst.0,
        worst.1
    );
}

/// How many `f32` values lie between `got` and the `f64` reference rounded to `f32` (the
/// correctly rounded result, but for the rare reference within an `f64` ulp of a midpoint):
/// 0 when `got` is correctly rounded, 1 when it is a neighbour. NaN against NaN is 0.
fn ulps_from_rounded(got: f32, want: f64) -> u64 {
    let r = want as f32;
    if got.is_nan() || r.is_nan() {
        return if got.is_nan() && r.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    // The integer keys of the total order of floats, for which neighbours differ by one.
    let key = |x: f32| {
        let b = x.to_bits() as i64;
        if b < 0x8000_0000 {
            b
        } else {
            0x8000_0000 - b
        }
    };
    key(got).abs_diff(key(r))
}

/// The bound: `tanh` and `exp` on `f32` are the correctly rounded result or one of its
/// neighbours on the sampled inputs, and densely around `tanh`'s clamp at 9.5 (from which
/// it returns exactly 1, as the unclamped formula did).
#[test]
fn within_one_ulp_of_the_correctly_rounded_value() {
    let mut xs = samples();
    for d in -20_000i32..20_000 {
        for s in [1.0f32, -1.0] {
            xs.push(f32::from_bits(
                (9.5f32 * s).to_bits().wrapping_add(d as u32),
            ));
        }
    }
    for x in xs {
        let t = ulps_from_rounded(tanh_f32(x), (x as f64).tanh());
        assert!(t <= 1, "tanh({x:e}) = {:e}: {t} ulp", tanh_f32(x));
        let e = ulps_from_rounded(exp_f32(x), (x as f64).exp());
        assert!(e <= 1, "exp({x:e}) = {:e}: {e} ulp", exp_f32(x));
    }
    for x in [9.1f32, 9.4999, 9.5, 9.5001, 10.0, 44.0, 45.0, 1e10] {
        assert_eq!(tanh_f32(x), 1.0, "tanh({x}) rounds to 1");
    }
}

/// Every `f32` input (2^32 of them, about a minute in release mode on one core:
/// `cargo test --release --test math_vmath -- --ignored`).
#[test]
#[ignore]
fn every_f32_within_one_ulp_of_the_correctly_rounded_value() {
    for b in 0..=u32::MAX {
        let x = f32::from_bits(b);
        let t = ulps_from_rounded(tanh_f32(x), (x as f64).tanh());
        assert!(t <= 1, "tanh({x:e}) = {:e}: {t} ulp", tanh_f32(x));
        let e = ulps_from_rounded(exp_f32(x), (x as f64).exp());
        assert!(e <= 1, "exp({x:e}) = {:e}: {e} ulp", exp_f32(x));
    }
}

#[test]
fn special_values() {
    let bits = |x: f32| x.to_bits();
    assert!(exp_f32(f32::NAN).is_nan());
    assert_eq!(bits(exp_f32(f32::INFINITY)), bits(f32::INFINITY));
    assert_eq!(bits(exp_f32(f32::NEG_INFINITY)), bits(0.0));
    assert_eq!(exp_f32(0.0), 1.0);
    assert_eq!(exp_f32(-0.0), 1.0);
    assert_eq!(exp_f32(89.0), f32::INFINITY);
    assert!(ulp_error(exp_f32(88.7), (88.7f32 as f64).exp()) <= 1.0);
    assert!(exp_f32(88.72283).is_finite());
    assert_eq!(exp_f32(88.72284), f32::INFINITY);
    assert_eq!(bits(exp_f32(-104.0)), bits(0.0));
    assert_eq!(bits(exp_f32(-1e30)), bits(0.0));
    // Subnormal results are kept: e^-100 is about 3.7e-44, 26 times the smallest subnormal.
    let s = exp_f32(-100.0);
    assert!(s > 0.0 && s < f32::MIN_POSITIVE, "{s:e}");
    assert!(ulp_error(s, (-100f64).exp()) <= 1.0);
    assert_eq!(
        exp_f32(-103.2789),
        f32::from_bits(1),
        "the smallest subnormal"
    );
    assert!(ulp_error(exp_f32(1.0), std::f64::consts::E) <= 1.0);

    assert!(tanh_f32(f32::NAN).is_nan());
    assert_eq!(tanh_f32(f32::INFINITY), 1.0);
    assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
    assert_eq!(bits(tanh_f32(0.0)), bits(0.0));
    assert_eq!(bits(tanh_f32(-0.0)), bits(-0.0));
    assert_eq!(tanh_f32(20.0), 1.0);
    assert_eq!(tanh_f32(-20.0), -1.0);
    assert_eq!(tanh_f32(1e-30), 1e-30);
    assert_eq!(tanh_f32(-1e-40), -1e-40);
    for x in [0.1f32, 0.5, 0.624, 0.625, 0.7, 2.0, 8.9] {
        assert_eq!(bits(tanh_f32(-x)), bits(-tanh_f32(x)), "odd at {x}");
    }
}

#[test]
fn the_runtime_symbols_and_the_tables_are_these_functions() {
    for x in samples().into_iter().step_by(97) {
        assert_eq!(scalar::exp_f32(x).to_bits(), exp_f32(x).to_bits());
        assert_eq!(scalar::tanh_f32(x).to_bits(), tanh_f32(x).to_bits());
        let e = scalar::eval_unary(UnaryOp::Exp, graphjit::Scalar::F32(x)).unwrap();
        assert!(
            matches!(e, graphjit::Scalar::F32(v) if v.to_bits() == exp_f32(x).to_bits()
            || (v.is_nan() && x.is_nan()))
        );
    }
}

/// The ulp of `f64` at the magnitude of `y`, subnormal spacing included.
fn ulp_f64(y: f64) -> f64 {
    // The gap above |y| (powi of a large negative exponent would underflow to 0).
    let a = y.abs();
    f64::from_bits(a.to_bits() + 1) - a
}

/// Every 2^44+1th `f64` bit pattern and dense runs at the switch points, with std's `f64`
/// function (itself within about 1 ulp) as the reference: the error bound is measured
/// against it, so it includes std's own error.
fn samples_f64() -> Vec<f64> {
    let step = (1u64 << 44) + 1;
    let mut v: Vec<f64> = (0..u64::MAX / step)
        .map(|i| f64::from_bits(i * step))
        .collect();
    for centre in [
        709.782712893384f64,
        -708.3964,
        -744.44007,
        -745.1332,
        0.625,
        0.0,
        19.0,
    ] {
        for d in -2000i64..2000 {
            for s in [1.0f64, -1.0] {
                v.push(f64::from_bits(
                    ((centre * s).to_bits() as i64).wrapping_add(d) as u64,
                ));
            }
        }
    }
    let mut r = Rng(3);
    for _ in 0..200_000 {
        v.push((r.next() >> 11) as f64 / (1u64 << 53) as f64 * 60.0 - 30.0);
    }
    v
}

fn max_err_f64(f: fn(f64) -> f64, reference: fn(f64) -> f64) -> (f64, f64) {
    let mut worst = (0.0f64, 0.0f64);
    for x in samples_f64() {
        let (got, want) = (f(x), reference(x));
        let e = if want.is_nan() || got.is_nan() {
            if want.is_nan() == got.is_nan() {
                0.0
            } else {
                f64::INFINITY
            }
        } else if want.is_infinite() || got.is_infinite() {
            if got == want {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (got - want).abs() / ulp_f64(want)
        };
        if e > worst.0 {
            worst = (e, x);
        }
    }
    worst
}

#[test]
fn f64_accuracy_against_std() {
    let (e, x) = max_err_f64(exp_f64, f64::exp);
    eprintln!("exp_f64: max difference from std {e:.3} ulp at x = {x:e}");
    assert!(e <= 2.0, "exp_f64 {e} ulp at {x:e}");
    let (e, x) = max_err_f64(tanh_f64, f64::tanh);
    eprintln!("tanh_f64: max difference from std {e:.3} ulp at x = {x:e}");
    assert!(e <= 3.0, "tanh_f64 {e} ulp at {x:e}");
    assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
    assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
    assert_eq!(exp_f64(710.0), f64::INFINITY);
    assert!(exp_f64(f64::NAN).is_nan() && tanh_f64(f64::NAN).is_nan());
    assert_eq!(
        exp_f64(-745.0),
        f64::from_bits(1),
        "the smallest subnormal, not 0"
    );
    assert_eq!(tanh_f64(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(tanh_f64(f64::NEG_INFINITY), -1.0);
}

/// A deterministic pseudo-random stream (xorshift), for inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Mostly moderate values in [-lim, lim), with some arbitrary bit patterns mixed in.
    fn f32(&mut self, lim: f32) -> f32 {
        let r = self.next();
        if r.is_multiple_of(8) {
            f32::from_bits((r >> 32) as u32)
        } else {
            ((r >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * lim
        }
    }
}

const EDGES: [f32; 16] = [
    0.0,
    -0.0,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    88.72283,
    88.72284,
    -103.97,
    -100.0,
    1e-40,
    -1e-40,
    0.625,
    -0.624_999_94,
    9.0,
    f32::MAX,
    f32::MIN,
];

#[test]
fn exp_and_tanh_agree_in_every_executor_for_every_length() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for op in [UnaryOp::Exp, UnaryOp::Tanh] {
        for n in 0..=37usize {
            let g = single_op(Op::Unary(op), &[ty(DType::F64, &[n])], ty(DType::F64, &[n]));
            let xs: Vec<f64> = (0..n)
                .map(|i| match i % 4 {
                    0 => EDGES[(i + n) % EDGES.len()] as f64,
                    1 => f64::from_bits(rng.next()),
                    _ => rng.f32(if op == UnaryOp::Exp { 800.0 } else { 25.0 }) as f64,
                })
                .collect();
            check(
                &g,
                &[Tensor::from_vec(xs, [n]).unwrap()],
                &format!("{op:?} f64 n={n}"),
            );
            let f = single_op(Op::Unary(op), &[ty(DType::F32, &[n])], ty(DType::F32, &[n]));
            let edges: Vec<f32> = (0..n).map(|i| EDGES[(i + n) % EDGES.len()]).collect();
            check(
                &f,
                &[Tensor::from_vec(edges, [n]).unwrap()],
                &format!("{op:?} edges n={n}"),
            );
            let lim = if op == UnaryOp::Exp { 110.0 } else { 12.0 };
            let xs: Vec<f32> = (0..n).map(|_| rng.f32(lim)).collect();
            check(
                &f,
                &[Tensor::from_vec(xs, [n]).unwrap()],
                &format!("{op:?} random n={n}"),
            );
        }
        // A scalar operand: the inline scalar sequence of the elementwise lowering.
        let f = single_op(Op::Unary(op), &[ty(DType::F32, &[])], ty(DType::F32, &[]));
        for &x in &EDGES {
            check(&f, &[Tensor::scalar(x)], &format!("{op:?} scalar {x:e}"));
        }
    }
}

#[test]
fn compiled_exp_and_tanh_match_on_many_values() {
    // Every 4093rd bit pattern and the dense runs, through the f32x4 loop and the scalar loop.
    let xs: Vec<f32> = samples().into_iter().step_by(8).collect();
    let n = xs.len();
    let input = [Tensor::from_vec(xs.clone(), [n]).unwrap()];
    for (op, reference) in [
        (UnaryOp::Exp, exp_f32 as fn(f32) -> f32),
        (UnaryOp::Tanh, tanh_f32),
    ] {
        let f = single_op(Op::Unary(op), &[ty(DType::F32, &[n])], ty(DType::F32, &[n]));
        let want: Vec<f32> = xs.iter().map(|&x| reference(x)).collect();
        let want = Tensor::from_vec(want, [n]).unwrap();
        for (name, opts) in variants() {
            let got = compile_with(&f, &opts).unwrap().run(&input).unwrap();
            assert_eq!(got[0], want, "{op:?} [{name}]");
        }
    }
}

#[test]
fn gauss_tanh_fused_matches_the_interpreter() {
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ir/gauss_tanh.gir")).unwrap();
    let m = graphjit::ir::parse::parse_module(&src).unwrap();
    let f = m.func("gauss_tanh").unwrap();
    let n = f.param_types()[0].num_elements();
    let mut rng = Rng(7);
    let xs: Vec<f32> = (0..n)
        .map(|i| {
            if i % 5 == 0 {
                rng.f32(20.0)
            } else {
                rng.f32(1.0)
            }
        })
        .collect();
    check(f, &[Tensor::from_vec(xs, [n]).unwrap()], "gauss_tanh");
}

#[test]
fn float_dot_agrees_in_both_executors() {
    let mut rng = Rng(42);
    let shapes = [
        (1, 1, 1),
        (3, 0, 5),
        (0, 4, 3),
        (5, 7, 3),
        (17, 33, 9),
        (37, 35, 36),
        (64, 64, 64),
        (130, 70, 19),
        (9, 300, 1),
    ];
    for dt in [DType::F32, DType::F64] {
        for &(m, k, n) in &shapes {
            let a: Vec<f64> = (0..m * k).map(|_| rng.f32(4.0) as f64).collect();
            let b: Vec<f64> = (0..k * n).map(|_| rng.f32(4.0) as f64).collect();
            let make = |v: &[f64], s: &[usize]| match dt {
                DType::F32 => {
                    Tensor::from_vec(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), s.to_vec())
                }
                _ => Tensor::from_vec(v.to_vec(), s.to_vec()),
            };
            let (ta, tb) = (make(&a, &[m, k]).unwrap(), make(&b, &[k, n]).unwrap());
            let f = single_op(
                Op::Dot,
                &[ty(dt, &[m, k]), ty(dt, &[k, n])],
                ty(dt, &[m, n]),
            );
            check(&f, &[ta.clone(), tb], &format!("{dt} dot {m}x{k}x{n}"));
            // Matrix-vector.
            let tv = make(&b[..k], &[k]).unwrap();
            let g = single_op(Op::Dot, &[ty(dt, &[m, k]), ty(dt, &[k])], ty(dt, &[m]));
            check(&g, &[ta, tv], &format!("{dt} dot {m}x{k} x vector"));
        }
    }
}
