//! Sorts whose comparator the kernels recognize, in both executors bit for bit and against
//! plain Rust sorts: total-order sorts of one operand (sorted in compiled code's result
//! buffer, floats as integer total keys) along every dimension and at every float width,
//! and `jnp.sort`'s comparator, whose key replaces NaN and zeros by constants (a key map),
//! in both directions with either sign of the constants. Edge cases: NaN payloads of both
//! signs, signed zeros, repeats, empty and size-1 dimensions.

mod common;

use common::{both_bits as both, XorShift};
use graphjit::ir::parse::parse_module;
use graphjit::Tensor;

fn shape_str(s: &[usize]) -> String {
    s.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A sort comparator `lt.total(key(a), key(b))` (or `gt.total`) whose key replaces elements
/// by constants, `nan_first` testing NaN before zero.
fn keyed_sort_src(n: usize, dt: &str, cmp: &str, nan: &str, zero: &str, nan_first: bool) -> String {
    let side = |x: &str| {
        let (c1, c2) = if nan_first {
            (
                format!("%z{x} = eq %{x}, %zc : bool\n    %{x}1 = select %z{x}, %zr, %{x} : {dt}"),
                format!(
                    "%n{x} = ne %{x}, %{x} : bool\n    %{x}2 = select %n{x}, %nr, %{x}1 : {dt}"
                ),
            )
        } else {
            (
                format!("%n{x} = ne %{x}, %{x} : bool\n    %{x}1 = select %n{x}, %nr, %{x} : {dt}"),
                format!("%z{x} = eq %zc, %{x} : bool\n    %{x}2 = select %z{x}, %zr, %{x}1 : {dt}"),
            )
        };
        format!("{c1}\n    {c2}")
    };
    format!(
        "func @s(%x: {dt}[{n}]) -> {dt}[{n}] {{
  %s = sort %x dim=0 stable=1 : {dt}[{n}] (%a: {dt}, %b: {dt}) {{
    %zc = const 0.0 : {dt}
    %zr = const {zero} : {dt}
    %nr = const {nan} : {dt}
    {a}
    {b}
    %lt = {cmp} %a2, %b2 : bool
    yield %lt
  }}
  return %s
}}",
        a = side("a"),
        b = side("b"),
    )
}

#[test]
fn sorts_by_a_key_map_are_stable_sorts_of_the_mapped_keys() {
    let mut rng = XorShift(0x0123_4567_89AB_CDEF);
    for n in [0usize, 1, 2, 17, 500] {
        let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(16)).collect();
        for (cmp, desc) in [("lt.total", false), ("gt.total", true)] {
            for (nan, nan_bits) in [("nan", f32::NAN.to_bits()), ("-nan", (-f32::NAN).to_bits())] {
                for (zero, zero_v) in [("0.0", 0.0f32), ("-0.0", -0.0)] {
                    for nan_first in [false, true] {
                        let src = keyed_sort_src(n, "f32", cmp, nan, zero, nan_first);
                        let out = both(&src, &[Tensor::from_vec(x.clone(), vec![n]).unwrap()]);
                        // The reference: Rust's stable sort by the mapped key's total order.
                        let map = |v: f32| {
                            if v.is_nan() {
                                f32::from_bits(nan_bits)
                            } else if v == 0.0 {
                                zero_v
                            } else {
                                v
                            }
                        };
                        let mut want = x.clone();
                        want.sort_by(|a, b| {
                            let o = map(*a).total_cmp(&map(*b));
                            if desc {
                                o.reverse()
                            } else {
                                o
                            }
                        });
                        let got: Vec<u32> = out[0]
                            .as_slice::<f32>()
                            .unwrap()
                            .iter()
                            .map(|v| v.to_bits())
                            .collect();
                        let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
                        assert_eq!(got, want, "{src}");
                    }
                }
            }
        }
        // f64, ascending, jnp's form.
        let y: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let src = keyed_sort_src(n, "f64", "lt.total", "nan", "0.0", false);
        let out = both(&src, &[Tensor::from_vec(y.clone(), vec![n]).unwrap()]);
        let canon = |v: f64| {
            if v.is_nan() {
                f64::NAN
            } else if v == 0.0 {
                0.0
            } else {
                v
            }
        };
        let mut want = y.clone();
        want.sort_by(|a, b| canon(*a).total_cmp(&canon(*b)));
        let got: Vec<u64> = out[0]
            .as_slice::<f64>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want);
    }
}

/// The region of the first region op of `src`'s function, as its scalar program.
fn body_of(src: &str) -> graphjit::ops::region::Body {
    let f = parse_module(src).unwrap().funcs[0].clone();
    let i = f
        .insts
        .iter()
        .position(|d| matches!(d.op, graphjit::ops::Op::Region(_)))
        .unwrap();
    graphjit::ir::body::region_body(&f, graphjit::ir::Inst(i as u32)).unwrap()
}

#[test]
fn a_jnp_key_is_recognized_as_a_key_map_and_a_near_miss_is_not() {
    let jnp = body_of(&keyed_sort_src(4, "f32", "lt.total", "nan", "0.0", false));
    let (k, desc, slot) = jnp.sort_key().unwrap();
    assert_eq!((k, desc), (0, false));
    let map = jnp.key_map(slot, 0).unwrap();
    assert_eq!(map.len(), 2);
    // The zero test is the outer select here, so it comes first.
    assert!(map[0].when.is_some() && map[1].when.is_none());
    // A replacement by a non-constant is not a key map.
    let odd = keyed_sort_src(4, "f32", "lt.total", "nan", "0.0", false)
        .replace("%a2 = select %za, %zr, %a1", "%a2 = select %za, %a1, %a1");
    let odd = body_of(&odd);
    if let Some((_, _, slot)) = odd.sort_key() {
        assert!(odd.key_map(slot, 0).is_none());
    }
}

#[test]
fn total_order_sorts_in_the_result_buffer_along_any_dimension() {
    let mut rng = XorShift(0x5151_5151_AAAA_0001);
    let shapes: &[&[usize]] = &[
        &[0],
        &[1],
        &[9],
        &[3, 4],
        &[4, 1],
        &[1, 5],
        &[0, 3],
        &[2, 3, 5],
    ];
    for &shape in shapes {
        for dim in 0..shape.len() {
            let s = shape_str(shape);
            let n: usize = shape.iter().product();
            let len = shape[dim];
            let st: usize = shape[dim + 1..].iter().product();
            let rows: Vec<Vec<usize>> = (0..n / len.max(1))
                .map(|r| {
                    let base = (r / st) * st * len + r % st;
                    (0..len).map(|i| base + i * st).collect()
                })
                .collect();
            let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(16)).collect();
            let k: Vec<i8> = (0..n).map(|_| rng.next() as i8).collect();
            for desc in [false, true] {
                let (fc, ic) = if desc {
                    ("gt.total", "gt")
                } else {
                    ("lt.total", "lt")
                };
                let src = |dt: &str, c: &str| {
                    format!(
                        "func @s(%x: {dt}[{s}]) -> {dt}[{s}] {{
  %r = sort %x dim={dim} stable=1 : {dt}[{s}] (%a: {dt}, %b: {dt}) {{
    %c = {c} %a, %b : bool
    yield %c
  }}
  return %r
}}"
                    )
                };
                let out = both(
                    &src("f32", fc),
                    &[Tensor::from_vec(x.clone(), shape.to_vec()).unwrap()],
                );
                let mut want = x.clone();
                for row in &rows {
                    let mut v: Vec<f32> = row.iter().map(|&o| x[o]).collect();
                    v.sort_by(|a, b| if desc { b.total_cmp(a) } else { a.total_cmp(b) });
                    for (&o, y) in row.iter().zip(v) {
                        want[o] = y;
                    }
                }
                let got: Vec<u32> = out[0]
                    .as_slice::<f32>()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect();
                let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want);
                let out = both(
                    &src("i8", ic),
                    &[Tensor::from_vec(k.clone(), shape.to_vec()).unwrap()],
                );
                let mut want = k.clone();
                for row in &rows {
                    let mut v: Vec<i8> = row.iter().map(|&o| k[o]).collect();
                    v.sort_by(|a, b| if desc { b.cmp(a) } else { a.cmp(b) });
                    for (&o, y) in row.iter().zip(v) {
                        want[o] = y;
                    }
                }
                assert_eq!(out[0].as_slice::<i8>().unwrap(), want.as_slice());
            }
        }
    }
}

#[test]
fn float_sorts_of_every_width_follow_the_total_order_of_the_bits() {
    // The key of a bit pattern of `w` bits in the total order: negatives reversed below
    // the non-negatives.
    fn key(bits: u64, w: u32) -> u64 {
        let sign = 1u64 << (w - 1);
        if bits & sign != 0 {
            !bits & (sign - 1)
        } else {
            bits | sign
        }
    }
    let mut rng = XorShift(0xF00D_F00D_1234_0001);
    let n = 700;
    // Random bit patterns (every NaN payload and sign, subnormals, zeros) and repeats.
    let raw: Vec<u64> = (0..n)
        .map(|k| if k % 5 == 0 { 0x8000 } else { rng.next() })
        .collect();
    for desc in [false, true] {
        let c = if desc { "gt.total" } else { "lt.total" };
        let src = |dt: &str| {
            format!(
                "func @s(%x: {dt}[{n}]) -> {dt}[{n}] {{
  %r = sort %x dim=0 stable=0 : {dt}[{n}] (%a: {dt}, %b: {dt}) {{
    %c = {c} %a, %b : bool
    yield %c
  }}
  return %r
}}"
            )
        };
        let want = |w: u32| -> Vec<u64> {
            let mask = if w == 64 { u64::MAX } else { (1 << w) - 1 };
            let mut v: Vec<u64> = raw.iter().map(|&b| b & mask).collect();
            v.sort_by_key(|&b| key(b, w));
            if desc {
                v.reverse();
            }
            v
        };
        let h: Vec<half::f16> = raw
            .iter()
            .map(|&b| half::f16::from_bits(b as u16))
            .collect();
        let out = both(&src("f16"), &[Tensor::from_vec(h, vec![n]).unwrap()]);
        let got: Vec<u64> = out[0]
            .as_slice::<half::f16>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits() as u64)
            .collect();
        assert_eq!(got, want(16));
        let h: Vec<half::bf16> = raw
            .iter()
            .map(|&b| half::bf16::from_bits(b as u16))
            .collect();
        let out = both(&src("bf16"), &[Tensor::from_vec(h, vec![n]).unwrap()]);
        let got: Vec<u64> = out[0]
            .as_slice::<half::bf16>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits() as u64)
            .collect();
        assert_eq!(got, want(16));
        let x: Vec<f32> = raw.iter().map(|&b| f32::from_bits(b as u32)).collect();
        let out = both(&src("f32"), &[Tensor::from_vec(x, vec![n]).unwrap()]);
        let got: Vec<u64> = out[0]
            .as_slice::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits() as u64)
            .collect();
        assert_eq!(got, want(32));
        let x: Vec<f64> = raw.iter().map(|&b| f64::from_bits(b)).collect();
        let out = both(&src("f64"), &[Tensor::from_vec(x, vec![n]).unwrap()]);
        let got: Vec<u64> = out[0]
            .as_slice::<f64>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(got, want(64));
    }
}
