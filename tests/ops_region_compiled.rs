//! Region ops whose region compiled code compiles into a function of its own and the shared
//! kernel calls (`ops::region_fn`): sorts with comparators no fast path knows (descending by
//! IEEE `gt`, two keys, `le`, which is not a strict weak order), scatters of several inputs
//! and scatters with a `sub` region, and `reduce_window` of rank-0 operands (one step of the
//! region, inline). Each runs in the interpreter and in every compile variant and must give
//! the same bits, and where the region is an order or a plain update, what Rust's own stable
//! sort or a plain loop gives. Data: NaNs of both signs, signed zeros, infinities, ties,
//! empty and size-1 dimensions.

mod common;

use common::{both_bits, check_both, XorShift};
use graphjit::ir::parse::parse_module;
use graphjit::Tensor;

/// Runs `src` (its first function) in the interpreter and every compile variant, wanting
/// the same bits (`check_both`, NaN payloads aside; `both_bits`, NaN payloads too).
fn both(src: &str, inputs: &[Tensor]) -> Vec<Tensor> {
    let m = parse_module(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let want = check_both(&m.funcs[0], inputs, src);
    let bits = both_bits(src, inputs);
    assert_eq!(bits, want);
    want
}

fn f32s(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

fn i32s(v: &[i32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

fn dims(s: &[usize]) -> String {
    s.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The shapes and sort dimensions every sort test runs: empty and size-1 dimensions on
/// either side, rows sorted along the contiguous and the strided dimension.
const SHAPES: [(&[usize], usize); 9] = [
    (&[0], 0),
    (&[1], 0),
    (&[2], 0),
    (&[300], 0),
    (&[0, 3], 1),
    (&[3, 0], 1),
    (&[5, 1], 1),
    (&[4, 37], 1),
    (&[37, 4], 0),
];

/// The rows along `dim` of a row-major `shape`, as lists of flat offsets.
fn rows(shape: &[usize], dim: usize) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    let len = shape[dim];
    if n == 0 {
        return Vec::new();
    }
    let stride: usize = shape[dim + 1..].iter().product();
    (0..n / len)
        .map(|r| {
            let base = (r / stride) * stride * len + r % stride;
            (0..len).map(|i| base + i * stride).collect()
        })
        .collect()
}

/// A two-operand sort source: keys `f32`, values `i32`, comparator `body` on
/// `(%a, %b, %c, %d)` yielding `%r`.
fn sort_kv_src(shape: &[usize], dim: usize, body: &str) -> String {
    let s = dims(shape);
    format!(
        "func @s(%x: f32[{s}], %v: i32[{s}]) -> (f32[{s}], i32[{s}]) {{
  %k, %w = sort %x, %v dim={dim} stable=1 : f32[{s}], i32[{s}] (%a: f32, %b: f32, %c: i32, %d: i32) {{
    {body}
    yield %r
  }}
  return %k, %w
}}"
    )
}

/// The elements' positions as values, so a result shows where each element came from.
fn positions(n: usize) -> Vec<i32> {
    (0..n as i32).collect()
}

#[test]
fn descending_sort_by_ieee_gt_moves_values_with_keys() {
    let mut rng = XorShift(0x5EED_0001);
    for (shape, dim) in SHAPES {
        let n: usize = shape.iter().product();
        let src = sort_kv_src(shape, dim, "%r = gt %a, %b : bool");
        // With NaNs `gt` is not a strict weak order: only the executors' agreement and a
        // permutation of each row can be asserted.
        let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(12)).collect();
        let out = both(&src, &[f32s(&x, shape), i32s(&positions(n), shape)]);
        let (k, p) = (
            out[0].as_slice::<f32>().unwrap(),
            out[1].as_slice::<i32>().unwrap(),
        );
        for row in rows(shape, dim) {
            let mut got: Vec<i32> = row.iter().map(|&o| p[o]).collect();
            got.sort_unstable();
            let mut want: Vec<i32> = row.iter().map(|&o| o as i32).collect();
            want.sort_unstable();
            assert_eq!(got, want, "{shape:?}: not a permutation of the row");
            for &o in &row {
                assert_eq!(k[o].to_bits(), x[p[o] as usize].to_bits());
            }
        }
        // Without NaNs it is one, and the result is Rust's stable descending sort (-0 and
        // +0 tie, so they keep their order).
        let x: Vec<f32> = x
            .iter()
            .map(|v| if v.is_nan() { 1.25 } else { *v })
            .collect();
        let out = both(&src, &[f32s(&x, shape), i32s(&positions(n), shape)]);
        let p = out[1].as_slice::<i32>().unwrap();
        for row in rows(shape, dim) {
            let mut want = row.clone();
            want.sort_by(|&a, &b| x[b].partial_cmp(&x[a]).unwrap());
            let got: Vec<usize> = row.iter().map(|&o| p[o] as usize).collect();
            assert_eq!(got, want, "{shape:?} dim {dim}");
        }
    }
}

#[test]
fn two_key_lexicographic_sort_is_rusts_stable_sort() {
    let mut rng = XorShift(0x5EED_0002);
    for (shape, dim) in SHAPES {
        let n: usize = shape.iter().product();
        let s = dims(shape);
        // Key 1 in the total order, then key 2 (signed), values riding along.
        let src = format!(
            "func @s(%x: f32[{s}], %y: i32[{s}], %v: i32[{s}]) -> (f32[{s}], i32[{s}], i32[{s}]) {{
  %k, %l, %w = sort %x, %y, %v dim={dim} stable=1 : f32[{s}], i32[{s}], i32[{s}] (%a: f32, %b: f32, %c: i32, %d: i32, %e: i32, %f: i32) {{
    %lt1 = lt.total %a, %b : bool
    %eq1 = eq.total %a, %b : bool
    %lt2 = lt %c, %d : bool
    %t = and %eq1, %lt2 : bool
    %r = or %lt1, %t : bool
    yield %r
  }}
  return %k, %l, %w
}}"
        );
        let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(10)).collect();
        let y: Vec<i32> = (0..n).map(|_| (rng.next() % 5) as i32 - 2).collect();
        let out = both(
            &src,
            &[f32s(&x, shape), i32s(&y, shape), i32s(&positions(n), shape)],
        );
        let (k, l, p) = (
            out[0].as_slice::<f32>().unwrap(),
            out[1].as_slice::<i32>().unwrap(),
            out[2].as_slice::<i32>().unwrap(),
        );
        for row in rows(shape, dim) {
            let mut want = row.clone();
            want.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].cmp(&y[b])));
            let got: Vec<usize> = row.iter().map(|&o| p[o] as usize).collect();
            assert_eq!(got, want, "{shape:?} dim {dim}");
            for &o in &row {
                assert_eq!(k[o].to_bits(), x[p[o] as usize].to_bits());
                assert_eq!(l[o], y[p[o] as usize]);
            }
        }
    }
}

#[test]
fn le_comparators_are_not_strict_weak_orders_and_give_the_same_bits() {
    let mut rng = XorShift(0x5EED_0003);
    for (shape, dim) in SHAPES {
        let n: usize = shape.iter().product();
        // Floats with NaNs: `le` is neither irreflexive nor transitive over NaN.
        let src = sort_kv_src(shape, dim, "%r = le %a, %b : bool");
        let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(8)).collect();
        both(&src, &[f32s(&x, shape), i32s(&positions(n), shape)]);
        // Integers: `le` is reflexive, so ties are taken from the right run first, but the
        // keys still come out in order.
        let s = dims(shape);
        let src = format!(
            "func @s(%x: i32[{s}], %v: i32[{s}]) -> (i32[{s}], i32[{s}]) {{
  %k, %w = sort %x, %v dim={dim} stable=1 : i32[{s}], i32[{s}] (%a: i32, %b: i32, %c: i32, %d: i32) {{
    %r = le %a, %b : bool
    yield %r
  }}
  return %k, %w
}}"
        );
        let x: Vec<i32> = (0..n).map(|_| (rng.next() % 7) as i32 - 3).collect();
        let out = both(&src, &[i32s(&x, shape), i32s(&positions(n), shape)]);
        let (k, p) = (
            out[0].as_slice::<i32>().unwrap(),
            out[1].as_slice::<i32>().unwrap(),
        );
        for row in rows(shape, dim) {
            let got: Vec<i32> = row.iter().map(|&o| k[o]).collect();
            let mut want: Vec<i32> = row.iter().map(|&o| x[o]).collect();
            want.sort_unstable();
            assert_eq!(got, want, "{shape:?} dim {dim}");
            for &o in &row {
                assert_eq!(k[o], x[p[o] as usize]);
            }
        }
    }
}

/// `(x, y) .at[i]` updated by `(u, w)` through the region `body` on
/// `(%a: f32, %b: i32, %c: f32, %d: i32)` yielding `%s, %m`.
fn scatter2_src(n: usize, m: usize, body: &str) -> String {
    format!(
        "func @s(%x: f32[{n}], %y: i32[{n}], %i: i32[{m}], %u: f32[{m}], %w: i32[{m}]) -> (f32[{n}], i32[{n}]) {{
  %idx = reshape %i : i32[{m},1]
  %r, %q = scatter %x, %y, %idx, %u, %w inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : f32[{n}], i32[{n}] (%a: f32, %b: i32, %c: f32, %d: i32) {{
    {body}
    yield %s, %m
  }}
  return %r, %q
}}"
    )
}

/// Plain loops over the updates in order, skipping out-of-bounds indices.
fn scatter2_want(
    x: &[f32],
    y: &[i32],
    i: &[i32],
    u: &[f32],
    w: &[i32],
    f: impl Fn(f32, f32) -> f32,
    g: impl Fn(i32, i32) -> i32,
) -> (Vec<f32>, Vec<i32>) {
    let (mut x, mut y) = (x.to_vec(), y.to_vec());
    for k in 0..i.len() {
        if let Some(j) = usize::try_from(i[k]).ok().filter(|&j| j < x.len()) {
            x[j] = f(x[j], u[k]);
            y[j] = g(y[j], w[k]);
        }
    }
    (x, y)
}

/// What a scatter region does to a float input and to an integer input.
type FloatUpdate = fn(f32, f32) -> f32;
type IntUpdate = fn(i32, i32) -> i32;

#[test]
fn variadic_scatters_apply_each_region_in_update_order() {
    let mut rng = XorShift(0x5EED_0004);
    let regions: [(&str, FloatUpdate, IntUpdate); 2] = [
        (
            "%s = add %a, %c : f32\n    %m = max %b, %d : i32",
            |a, c| a + c,
            |b, d| b.max(d),
        ),
        (
            // Not commutative: the order of the updates shows.
            "%s = sub %c, %a : f32\n    %m = sub %b, %d : i32",
            |a, c| c - a,
            |b, d| b.wrapping_sub(d),
        ),
    ];
    for (body, f, g) in regions {
        for (n, m) in [(0usize, 0usize), (0, 5), (1, 1), (6, 40), (64, 500)] {
            let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(16)).collect();
            let y: Vec<i32> = (0..n).map(|_| (rng.next() % 100) as i32 - 50).collect();
            // Repeated indices and both out-of-bounds sides.
            let i: Vec<i32> = (0..m)
                .map(|_| (rng.next() % (n as u64 + 4)) as i32 - 2)
                .collect();
            let u: Vec<f32> = (0..m).map(|_| rng.edgy_f32(16)).collect();
            let w: Vec<i32> = (0..m).map(|_| (rng.next() % 100) as i32 - 50).collect();
            let src = scatter2_src(n, m, body);
            let out = both(
                &src,
                &[
                    f32s(&x, &[n]),
                    i32s(&y, &[n]),
                    i32s(&i, &[m]),
                    f32s(&u, &[m]),
                    i32s(&w, &[m]),
                ],
            );
            let (wx, wy) = scatter2_want(&x, &y, &i, &u, &w, f, g);
            assert_eq!(out[0], f32s(&wx, &[n]), "{body} n={n} m={m}");
            assert_eq!(out[1], i32s(&wy, &[n]), "{body} n={n} m={m}");
        }
    }
}

#[test]
fn scatter_with_a_sub_region_applies_in_update_order() {
    // One input (its region is inline in compiled code), the update minus the old value.
    let mut rng = XorShift(0x5EED_0005);
    for (n, m) in [(0usize, 3usize), (1, 4), (10, 100)] {
        let src = format!(
            "func @s(%x: f32[{n}], %i: i32[{m}], %u: f32[{m}]) -> f32[{n}] {{
  %idx = reshape %i : i32[{m},1]
  %r = scatter %x, %idx, %u inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : f32[{n}] (%a: f32, %b: f32) {{
    %s = sub %b, %a : f32
    yield %s
  }}
  return %r
}}"
        );
        let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(16)).collect();
        let i: Vec<i32> = (0..m)
            .map(|_| (rng.next() % (n as u64 + 2)) as i32 - 1)
            .collect();
        let u: Vec<f32> = (0..m).map(|_| rng.edgy_f32(16)).collect();
        let out = both(&src, &[f32s(&x, &[n]), i32s(&i, &[m]), f32s(&u, &[m])]);
        let mut want = x.clone();
        for (&j, &v) in i.iter().zip(&u) {
            if let Some(o) = usize::try_from(j).ok().and_then(|j| want.get_mut(j)) {
                *o = v - *o;
            }
        }
        assert_eq!(out[0], f32s(&want, &[n]), "n={n} m={m}");
    }
}

#[test]
fn rank0_reduce_windows_are_one_step_of_the_region() {
    // A single fold with `sub` (the order of the arguments shows), and a variadic
    // (value, index) pair whose region keeps the larger value.
    let src = "func @w(%x: f32, %z: f32) -> f32 {
  %c = reduce_window %x, %z window=[] : f32 (%a: f32, %b: f32) {
    %s = sub %a, %b : f32
    yield %s
  }
  return %c
}";
    let vals = [0.0f32, -0.0, 1.5, -2.25, f32::INFINITY, f32::NAN, -f32::NAN];
    for &x in &vals {
        for &z in &vals {
            let out = both(src, &[Tensor::scalar(x), Tensor::scalar(z)]);
            assert_eq!(out[0], Tensor::scalar(z - x), "{z} - {x}");
        }
    }
    let src = "func @w(%x: f32, %i: i32, %z: f32, %j: i32) -> (f32, i32) {
  %c, %k = reduce_window %x, %i, %z, %j window=[] : f32, i32 (%a: f32, %ai: i32, %b: f32, %bi: i32) {
    %gt = gt %b, %a : bool
    %v = select %gt, %b, %a : f32
    %w = select %gt, %bi, %ai : i32
    yield %v, %w
  }
  return %c, %k
}";
    for &x in &vals {
        for &z in &vals {
            let out = both(
                src,
                &[
                    Tensor::scalar(x),
                    Tensor::scalar(7i32),
                    Tensor::scalar(z),
                    Tensor::scalar(-1i32),
                ],
            );
            let (v, k) = if x > z { (x, 7) } else { (z, -1) };
            assert_eq!(
                out,
                vec![Tensor::scalar(v), Tensor::scalar(k)],
                "{z} vs {x}"
            );
        }
    }
}

#[test]
fn compiled_code_runs_a_compiled_comparator() {
    // The comparator is a function of the module (its `fcmp` is in the dump), passed to the
    // sort kernel by address; before, the entry function passed the kernel the region's
    // program and the kernel interpreted it per comparison.
    let src = sort_kv_src(&[16], 0, "%r = gt %a, %b : bool");
    let f = parse_module(&src).unwrap().funcs[0].clone();
    let exe = graphjit::jit::compile(&f).unwrap();
    let clif = exe.clif();
    assert!(clif.contains("func_addr"), "{clif}");
    assert!(clif.contains("fcmp gt"), "{clif}");
    assert_eq!(clif.matches("function ").count(), 2, "{clif}");
    // A recognized total order needs no compiled region.
    let src = sort_kv_src(&[16], 0, "%r = lt.total %a, %b : bool");
    let f = parse_module(&src).unwrap().funcs[0].clone();
    let exe = graphjit::jit::compile(&f).unwrap();
    assert_eq!(exe.clif().matches("function ").count(), 1, "{}", exe.clif());
}

#[test]
fn argsort_by_jnp_comparator_computes_the_key_with_a_compiled_function() {
    // `jnp.argsort`'s comparator: -0 and every NaN canonicalized, then `lt.total`; two
    // operands, so the kernel sorts by the key the compiled key function yields per element.
    let mut rng = XorShift(0x5EED_0006);
    for (shape, dim) in SHAPES {
        let n: usize = shape.iter().product();
        let body = "%z = const 0.0 : f32
    %nan = const nan : f32
    %za = eq %a, %z : bool
    %a1 = select %za, %z, %a : f32
    %na = ne %a, %a : bool
    %a2 = select %na, %nan, %a1 : f32
    %zb = eq %b, %z : bool
    %b1 = select %zb, %z, %b : f32
    %nb = ne %b, %b : bool
    %b2 = select %nb, %nan, %b1 : f32
    %r = lt.total %a2, %b2 : bool";
        let src = sort_kv_src(shape, dim, body);
        let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(8)).collect();
        let out = both(&src, &[f32s(&x, shape), i32s(&positions(n), shape)]);
        let p = out[1].as_slice::<i32>().unwrap();
        let key = |v: f32| {
            if v.is_nan() {
                f32::NAN
            } else if v == 0.0 {
                0.0
            } else {
                v
            }
        };
        for row in rows(shape, dim) {
            let mut want = row.clone();
            want.sort_by(|&a, &b| key(x[a]).total_cmp(&key(x[b])));
            let got: Vec<usize> = row.iter().map(|&o| p[o] as usize).collect();
            assert_eq!(got, want, "{shape:?} dim {dim}");
        }
    }
}
