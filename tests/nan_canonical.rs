//! `min`, `max`, `clamp` and the `min`/`max` reductions return the canonical NaN (positive,
//! quiet, no payload) whenever an operand is NaN, in the interpreter and in every compile
//! variant, scalar and vector: the bits are checked, since `Tensor`'s equality takes any NaN
//! for any other. Which NaN IEEE's `minimum`/`maximum` return is otherwise open, and
//! `TOTALORDER` compares and bitcasts can see it (the soak test's finding of 2026-11-30).

mod common;

use common::variants;
use graphjit::filetest::load;
use graphjit::interp::interpret;
use graphjit::jit::compile_with;
use graphjit::Tensor;

const CANONICAL_F32: u32 = 0x7fc0_0000;
const CANONICAL_F64: u64 = 0x7ff8_0000_0000_0000;

/// NaNs of both signs with payloads, next to ordinary values, repeated over 37 elements so
/// that the vector loops and their scalar remainders both see them.
fn inputs_f32() -> (Vec<f32>, Vec<f32>) {
    let a = [
        f32::from_bits(0xffc0_0001),
        1.0,
        f32::from_bits(0x7fc0_1234),
        -0.0,
        2.5,
        f32::NAN,
        -3.0,
    ];
    let b = [
        4.0,
        f32::from_bits(0xff80_0005),
        -1.0,
        f32::from_bits(0xffc0_0000),
        0.0,
        f32::from_bits(0x7fc0_0042),
        -7.0,
    ];
    let take = |v: &[f32]| (0..37).map(|i| v[i % v.len()]).collect();
    (take(&a), take(&b))
}

/// Every result bit pattern of `outs`, each NaN required to be the canonical one.
fn check_f32(outs: &[Tensor], want: &[Vec<f32>], what: &str) {
    for (k, (t, w)) in outs.iter().zip(want).enumerate() {
        let got = t.as_slice::<f32>().expect("f32 result");
        for (i, (&g, &w)) in got.iter().zip(w).enumerate() {
            let expect = if w.is_nan() {
                CANONICAL_F32
            } else {
                w.to_bits()
            };
            assert_eq!(g.to_bits(), expect, "{what}: result {k}, element {i}");
        }
    }
}

const PROGRAM_F32: &str = "
func @f(%a: f32[37], %b: f32[37]) -> (f32[37], f32[37], f32[37], f32, f32, f32) {
  %mx = max %a, %b : f32[37]
  %mn = min %a, %b : f32[37]
  %lo = const -2.0 : f32
  %hi = const 2.0 : f32
  %c = clamp %lo, %a, %hi : f32[37]
  %rmax = reduce.max %a axes=[0] : f32
  %rmin = reduce.min %b axes=[0] : f32
  %s0 = slice %a start=[0] limit=[1] stride=[1] : f32[1]
  %s = reshape %s0 : f32
  %t0 = slice %b start=[0] limit=[1] stride=[1] : f32[1]
  %t = reshape %t0 : f32
  %smax = max %s, %t : f32
  return %mx, %mn, %c, %rmax, %rmin, %smax
}
";

#[test]
fn min_max_clamp_and_their_reductions_give_the_canonical_nan_f32() {
    let f = load(PROGRAM_F32).unwrap().func("f").unwrap().clone();
    let (a, b) = inputs_f32();
    // The semantics, elementwise: any NaN operand gives NaN (checked as the canonical bits).
    // (No input pairs -0.0 with +0.0, where `f32::max` may pick either.)
    let ieee_max = |x: f32, y: f32| {
        if x.is_nan() || y.is_nan() {
            f32::NAN
        } else {
            x.max(y)
        }
    };
    let ieee_min = |x: f32, y: f32| {
        if x.is_nan() || y.is_nan() {
            f32::NAN
        } else {
            x.min(y)
        }
    };
    let want = vec![
        a.iter().zip(&b).map(|(&x, &y)| ieee_max(x, y)).collect(),
        a.iter().zip(&b).map(|(&x, &y)| ieee_min(x, y)).collect(),
        a.iter()
            .map(|&x| ieee_min(ieee_max(x, -2.0), 2.0))
            .collect(),
        vec![f32::NAN],
        vec![f32::NAN],
        vec![f32::NAN],
    ];
    let inputs = [
        Tensor::from_vec(a, vec![37]).unwrap(),
        Tensor::from_vec(b, vec![37]).unwrap(),
    ];
    check_f32(&interpret(&f, &inputs).unwrap(), &want, "interpreter");
    for (name, opts) in variants() {
        let outs = compile_with(&f, &opts).unwrap().run(&inputs).unwrap();
        check_f32(&outs, &want, name);
    }
}

#[test]
fn f64_max_and_reduce_min_give_the_canonical_nan() {
    let src = "
func @g(%a: f64[9], %b: f64[9]) -> (f64[9], f64) {
  %m = max %a, %b : f64[9]
  %r = reduce.min %a axes=[0] : f64
  return %m, %r
}
";
    let f = load(src).unwrap().func("g").unwrap().clone();
    let neg_nan = f64::from_bits(0xfff8_0000_0000_0077);
    let a: Vec<f64> = vec![neg_nan, 1.0, 2.0, -0.0, 5.0, neg_nan, 0.5, 3.0, -9.0];
    let b: Vec<f64> = vec![1.0, f64::NAN, neg_nan, 0.0, 4.0, 2.0, 0.25, 3.5, -8.0];
    let inputs = [
        Tensor::from_vec(a.clone(), vec![9]).unwrap(),
        Tensor::from_vec(b.clone(), vec![9]).unwrap(),
    ];
    let mut runs = vec![("interpreter", interpret(&f, &inputs).unwrap())];
    for (name, opts) in variants() {
        runs.push((name, compile_with(&f, &opts).unwrap().run(&inputs).unwrap()));
    }
    for (name, outs) in runs {
        let m = outs[0].as_slice::<f64>().unwrap();
        for i in 0..9 {
            let expect = if a[i].is_nan() || b[i].is_nan() {
                CANONICAL_F64
            } else if a[i] == b[i] {
                // Equal operands differ at most in a zero's sign, and +0 is the larger.
                a[i].to_bits() & b[i].to_bits()
            } else {
                a[i].max(b[i]).to_bits()
            };
            assert_eq!(m[i].to_bits(), expect, "{name}: max element {i}");
        }
        assert_eq!(
            outs[1].as_slice::<f64>().unwrap()[0].to_bits(),
            CANONICAL_F64,
            "{name}"
        );
    }
}
