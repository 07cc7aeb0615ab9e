//! Accuracy of the StableHLO elementwise math of `ops::math` against references computed
//! with mpmath at 60 digits and rounded once (`tests/data/math_refs.txt`, written by
//! `tools/math_refs.py`): at most 1 ulp for `f32` and 2 ulp for `f64` from the correctly
//! rounded value. The same points run through compiled code (every variant) must give the
//! interpreter's bits; special values (NaN, ±inf, ±0, subnormals) are checked by hand.

mod common;
mod jit_util;

use common::check_both;
use graphjit::ops::{scalar, BinaryOp, Op, UnaryOp};
use graphjit::{DType, Data, Scalar, Tensor};
use jit_util::{single_op, ty};

/// A point of the reference table.
struct Ref {
    op: String,
    dtype: DType,
    args: Vec<Scalar>,
    want: Scalar,
}

fn refs() -> Vec<Ref> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/math_refs.txt");
    let text = std::fs::read_to_string(path).expect("tests/data/math_refs.txt");
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let w: Vec<&str> = line.split_whitespace().collect();
        let dtype = if w[1] == "f32" {
            DType::F32
        } else {
            DType::F64
        };
        let parse = |h: &str| -> Scalar {
            let bits = u64::from_str_radix(h, 16).expect("hex bits");
            match dtype {
                DType::F32 => Scalar::F32(f32::from_bits(bits as u32)),
                _ => Scalar::F64(f64::from_bits(bits)),
            }
        };
        let vals: Vec<Scalar> = w[2..].iter().map(|h| parse(h)).collect();
        let (want, args) = vals.split_last().expect("a reference value");
        out.push(Ref {
            op: w[0].to_string(),
            dtype,
            args: args.to_vec(),
            want: *want,
        });
    }
    out
}

/// The distance in ulps between two finite floats of one type (their positions in the
/// ordered sequence of floats).
fn ulps(a: Scalar, b: Scalar) -> u64 {
    fn ord64(x: f64) -> i64 {
        let b = x.to_bits() as i64;
        if b < 0 {
            i64::MIN - b
        } else {
            b
        }
    }
    fn ord32(x: f32) -> i64 {
        let b = x.to_bits() as i32;
        (if b < 0 { i32::MIN - b } else { b }) as i64
    }
    match (a, b) {
        (Scalar::F32(x), Scalar::F32(y)) if x == y => 0,
        (Scalar::F64(x), Scalar::F64(y)) if x == y => 0,
        (Scalar::F32(x), Scalar::F32(y)) => ord32(x).abs_diff(ord32(y)),
        (Scalar::F64(x), Scalar::F64(y)) => ord64(x).abs_diff(ord64(y)),
        _ => u64::MAX,
    }
}

/// A vector of the scalars `v` of dtype `d`.
fn vector(d: DType, v: &[Scalar]) -> Tensor {
    Tensor::new(Data::from_scalars(d, v).expect("one dtype"), vec![v.len()]).expect("a vector")
}

fn unary_of(name: &str) -> UnaryOp {
    UnaryOp::ALL
        .into_iter()
        .find(|u| u.name() == name)
        .unwrap_or_else(|| panic!("no unary op {name}"))
}

fn eval(r: &Ref) -> Scalar {
    if r.op == "atan2" {
        scalar::eval_binary(BinaryOp::Atan2, r.args[0], r.args[1]).expect("atan2")
    } else {
        scalar::eval_unary(unary_of(&r.op), r.args[0]).expect("defined")
    }
}

#[test]
fn within_one_ulp_for_f32_and_two_for_f64() {
    let refs = refs();
    assert!(refs.len() > 1500, "{}", refs.len());
    let mut worst: std::collections::BTreeMap<(String, DType), u64> = Default::default();
    for r in &refs {
        let got = eval(r);
        let e = ulps(got, r.want);
        let limit = if r.dtype == DType::F32 { 1 } else { 2 };
        assert!(
            e <= limit,
            "{} {:?}: got {got:?}, want {:?} ({e} ulp)",
            r.op,
            r.args,
            r.want
        );
        let w = worst.entry((r.op.clone(), r.dtype)).or_default();
        *w = (*w).max(e);
    }
    eprintln!("worst errors in ulps: {worst:?}");
    // The table's points reach every op and dtype.
    assert_eq!(worst.len(), 14, "{worst:?}");
}

#[test]
fn compiled_code_gives_the_interpreters_bits_on_the_reference_points() {
    let refs = refs();
    for name in [
        "expm1", "log1p", "rsqrt", "logistic", "cbrt", "erf", "atan2",
    ] {
        for dtype in [DType::F32, DType::F64] {
            let pts: Vec<&Ref> = refs
                .iter()
                .filter(|r| r.op == name && r.dtype == dtype)
                .collect();
            let n = pts.len();
            let column = |k: usize| {
                let v: Vec<Scalar> = pts.iter().map(|r| r.args[k]).collect();
                vector(dtype, &v)
            };
            let t = ty(dtype, &[n]);
            if name == "atan2" {
                let f = single_op(Op::Binary(BinaryOp::Atan2), &[t.clone(), t.clone()], t);
                check_both(&f, &[column(0), column(1)], name);
            } else {
                let f = single_op(
                    Op::Unary(unary_of(name)),
                    std::slice::from_ref(&t),
                    t.clone(),
                );
                check_both(&f, &[column(0)], name);
            }
        }
    }
}

#[test]
fn special_values() {
    use Scalar::{F32, F64};
    let u = |op: UnaryOp, x: Scalar| scalar::eval_unary(op, x).expect("defined");
    let bits = |s: Scalar| match s {
        F32(v) => v.to_bits() as u64,
        F64(v) => v.to_bits(),
        _ => u64::MAX,
    };
    let nan = |s: Scalar| matches!(s, F32(v) if v.is_nan()) || matches!(s, F64(v) if v.is_nan());
    for op in [
        UnaryOp::Expm1,
        UnaryOp::Log1p,
        UnaryOp::Rsqrt,
        UnaryOp::Logistic,
        UnaryOp::Cbrt,
        UnaryOp::Erf,
        UnaryOp::Sign,
        UnaryOp::RoundAfz,
    ] {
        assert!(nan(u(op, F32(f32::NAN))), "{}", op.name());
        assert!(nan(u(op, F64(f64::NAN))), "{}", op.name());
    }
    // Odd functions keep the sign of zero; rsqrt(±0) is ±inf (1/±0).
    for op in [
        UnaryOp::Expm1,
        UnaryOp::Log1p,
        UnaryOp::Cbrt,
        UnaryOp::Erf,
        UnaryOp::Sign,
        UnaryOp::RoundAfz,
    ] {
        assert_eq!(bits(u(op, F64(-0.0))), (-0.0f64).to_bits(), "{}", op.name());
        assert_eq!(
            bits(u(op, F32(-0.0))),
            (-0.0f32).to_bits() as u64,
            "{}",
            op.name()
        );
    }
    assert_eq!(u(UnaryOp::Rsqrt, F32(0.0)), F32(f32::INFINITY));
    assert_eq!(u(UnaryOp::Rsqrt, F64(-0.0)), F64(f64::NEG_INFINITY));
    assert!(nan(u(UnaryOp::Rsqrt, F32(-1.0))));
    assert_eq!(u(UnaryOp::Rsqrt, F32(4.0)), F32(0.5));
    assert_eq!(u(UnaryOp::Expm1, F64(f64::NEG_INFINITY)), F64(-1.0));
    assert_eq!(u(UnaryOp::Expm1, F32(f32::INFINITY)), F32(f32::INFINITY));
    assert_eq!(u(UnaryOp::Log1p, F64(-1.0)), F64(f64::NEG_INFINITY));
    assert!(nan(u(UnaryOp::Log1p, F32(-2.0))));
    assert_eq!(u(UnaryOp::Logistic, F32(f32::INFINITY)), F32(1.0));
    assert_eq!(u(UnaryOp::Logistic, F64(f64::NEG_INFINITY)), F64(0.0));
    assert_eq!(u(UnaryOp::Logistic, F32(0.0)), F32(0.5));
    assert_eq!(u(UnaryOp::Cbrt, F64(-27.0)), F64(-3.0));
    assert_eq!(
        u(UnaryOp::Cbrt, F32(f32::NEG_INFINITY)),
        F32(f32::NEG_INFINITY)
    );
    assert_eq!(u(UnaryOp::Erf, F64(f64::INFINITY)), F64(1.0));
    assert_eq!(u(UnaryOp::Erf, F32(-10.0)), F32(-1.0));
    // Subnormals: expm1, log1p and erf are x (times 2/sqrt(pi) for erf) to first order.
    let tiny = f64::from_bits(1);
    assert_eq!(u(UnaryOp::Expm1, F64(tiny)), F64(tiny));
    assert_eq!(u(UnaryOp::Log1p, F64(tiny)), F64(tiny));
    assert_eq!(u(UnaryOp::Sign, F64(tiny)), F64(1.0));
    assert_eq!(u(UnaryOp::Sign, F32(-f32::INFINITY)), F32(-1.0));
    // round_nearest_afz: halves go away from zero, unlike `round` (half to even).
    for (x, want) in [
        (0.5f32, 1.0f32),
        (-2.5, -3.0),
        (1.4999999, 1.0),
        (8388609.0, 8388609.0),
    ] {
        assert_eq!(u(UnaryOp::RoundAfz, F32(x)), F32(want), "{x}");
    }
    assert_eq!(
        u(UnaryOp::RoundAfz, F64(-0.4)).to_string(),
        F64(-0.0).to_string()
    );
    // atan2 quadrants and signed zeros (C99 Annex F).
    let a = |y: f64, x: f64| scalar::eval_binary(BinaryOp::Atan2, F64(y), F64(x)).unwrap();
    assert_eq!(a(0.0, -1.0), F64(std::f64::consts::PI));
    assert_eq!(a(-0.0, -1.0), F64(-std::f64::consts::PI));
    assert_eq!(bits(a(-0.0, 1.0)), (-0.0f64).to_bits());
    assert_eq!(a(1.0, 0.0), F64(std::f64::consts::FRAC_PI_2));
    assert_eq!(
        a(f64::INFINITY, f64::INFINITY),
        F64(std::f64::consts::FRAC_PI_4)
    );
    assert!(nan(a(f64::NAN, 1.0)));
}

#[test]
fn integer_sign_popcnt_clz_on_every_integer_dtype() {
    for d in DType::ALL.into_iter().filter(|d| d.is_int()) {
        let bits = d.bits();
        for v in [-1i64, 0, 1, 5, 64] {
            let x = scalar::convert(Scalar::I64(v), d);
            // An independent reference from the two's-complement bits.
            let raw = (v as u64) & (u64::MAX >> (64 - bits));
            let popcnt = raw.count_ones() as i64;
            let clz = (raw.leading_zeros() - (64 - bits)) as i64;
            let sign = if v == 0 {
                0
            } else if v < 0 && d.is_signed() {
                -1
            } else {
                1
            };
            let want = |w: i64| scalar::convert(Scalar::I64(w), d);
            let u = |op| scalar::eval_unary(op, x).unwrap();
            assert_eq!(u(UnaryOp::Popcnt), want(popcnt), "popcnt {d} {v}");
            assert_eq!(u(UnaryOp::Clz), want(clz), "clz {d} {v}");
            assert_eq!(u(UnaryOp::Sign), want(sign), "sign {d} {v}");
        }
        let f = single_op(Op::Unary(UnaryOp::Clz), &[ty(d, &[3])], ty(d, &[3]));
        let x = vector(
            d,
            &[
                d.min_value(),
                d.max_value(),
                scalar::convert(Scalar::I64(0), d),
            ],
        );
        check_both(&f, &[x], "clz");
    }
}
