//! Region ops (`reduce` with a region, `reduce_window`, `sort`, `scatter`) and `TOTALORDER`
//! comparisons: the text form round-trips, the verifier rejects malformed regions, and both
//! executors give the same bits as plain Rust references written here (sequential folds,
//! `sort_by(total_cmp)`, indexing loops), including the edge cases: empty tensors, size-1
//! dimensions, NaN and signed zeros, ties, out-of-bounds and repeated scatter indices.

mod common;

use common::{both_bits as both, XorShift};
use graphjit::ir::parse::parse_module;
use graphjit::ir::verify::verify_function;
use graphjit::Tensor;

fn f32s(v: Vec<f32>) -> Tensor {
    let n = v.len();
    Tensor::from_vec(v, vec![n]).unwrap()
}

fn i32s(v: Vec<i32>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec()).unwrap()
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.as_slice::<f32>()
        .unwrap()
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

const ARGMAX: &str = "
func @argmax(%x: f32[N]) -> (f32, i32) {
  %idx = iota axis=0 : i32[N]
  %ninf = const -inf : f32
  %zero = const 0 : i32
  %m, %i = reduce %x, %idx, %ninf, %zero dims=[0] : f32, i32 (%a: f32, %ai: i32, %b: f32, %bi: i32) {
    %gt = gt %a, %b : bool
    %nan = ne %a, %a : bool
    %pick = or %gt, %nan : bool
    %eq = eq %a, %b : bool
    %lt = lt %ai, %bi : bool
    %tie = and %eq, %lt : bool
    %first = or %pick, %tie : bool
    %v = select %pick, %a, %b : f32
    %k = select %first, %ai, %bi : i32
    yield %v, %k
  }
  return %m, %i
}";

#[test]
fn argmax_matches_a_plain_loop_with_ties_and_nan() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for n in [1usize, 2, 7, 64, 1000] {
        let src = ARGMAX.replace('N', &n.to_string());
        for _ in 0..5 {
            let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(12)).collect();
            // The reference: the first NaN, else the first maximum (as jnp.argmax).
            let want = match x.iter().position(|v| v.is_nan()) {
                Some(i) => i,
                None => {
                    let m = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                    x.iter().position(|&v| v == m).unwrap()
                }
            };
            let out = both(&src, &[f32s(x.clone())]);
            assert_eq!(out[1].as_slice::<i32>().unwrap(), &[want as i32], "{x:?}");
        }
    }
}

#[test]
fn a_general_reduce_folds_in_row_major_order() {
    // `sub` is neither associative nor a reduction kind: the result shows the order.
    let src = "
func @f(%x: f32[2,3,2]) -> f32[3] {
  %z = const 100.0 : f32
  %r = reduce %x, %z dims=[0,2] : f32[3] (%a: f32, %b: f32) {
    %d = sub %a, %b : f32
    %h = mul %d, %d : f32
    %s = sub %h, %a : f32
    yield %s
  }
  return %r
}";
    let x: Vec<f32> = (0..12).map(|i| i as f32 * 0.75 - 3.0).collect();
    let out = both(src, &[Tensor::from_vec(x.clone(), vec![2, 3, 2]).unwrap()]);
    let mut want = vec![];
    for j in 0..3 {
        let mut acc = 100.0f32;
        for i in 0..2 {
            for k in 0..2 {
                let b = x[i * 6 + j * 2 + k];
                let d = acc - b;
                acc = d * d - acc;
            }
        }
        want.push(acc);
    }
    assert_eq!(
        bits(&out[0]),
        want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn single_op_reduce_regions_take_the_fast_path_with_the_init_combined_once() {
    // `region(init, reduce.sum(x))`: with init 1.5 the sum is offset once.
    let src = "
func @f(%x: f32[3,4]) -> f32[3] {
  %z = const 1.5 : f32
  %r = reduce %x, %z dims=[1] : f32[3] (%a: f32, %b: f32) {
    %s = add %b, %a : f32
    yield %s
  }
  return %r
}";
    let x: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let out = both(src, &[Tensor::from_vec(x, vec![3, 4]).unwrap()]);
    assert_eq!(out[0].as_slice::<f32>().unwrap(), &[7.5, 23.5, 39.5]);
}

#[test]
fn reduce_over_an_empty_dimension_gives_the_init() {
    let src = "
func @f(%x: i32[0,3]) -> i32[3] {
  %z = const 7 : i32
  %r = reduce %x, %z dims=[0] : i32[3] (%a: i32, %b: i32) {
    %s = sub %a, %b : i32
    yield %s
  }
  return %r
}";
    let out = both(src, &[i32s(vec![], &[0, 3])]);
    assert_eq!(out[0].as_slice::<i32>().unwrap(), &[7, 7, 7]);
}

const SORT: &str = "
func @s(%x: f32[N], %i: i32[N]) -> (f32[N], i32[N]) {
  %a, %b = sort %x, %i dim=0 stable=1 : f32[N], i32[N] (%l: f32, %r: f32, %li: i32, %ri: i32) {
    BODY
  }
  return %a, %b
}";

#[test]
fn sort_by_total_order_matches_rust_total_cmp() {
    let mut rng = XorShift(12345);
    let bodies = [
        // Recognized: the key itself.
        ("%c = lt.total %l, %r : bool\n    yield %c", false),
        ("%c = gt.total %l, %r : bool\n    yield %c", true),
        // Not recognized: the general merge sort must agree.
        (
            "%c = lt.total %l, %r : bool\n    %f = const false : bool\n    %d = or %f, %c : bool\n    yield %d",
            false,
        ),
    ];
    for n in [0usize, 1, 2, 33, 500] {
        for (body, descending) in bodies {
            let src = SORT.replace('N', &n.to_string()).replace("BODY", body);
            let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(12)).collect();
            let idx: Vec<i32> = (0..n as i32).collect();
            let out = both(&src, &[f32s(x.clone()), i32s(idx.clone(), &[n])]);
            let mut want: Vec<(f32, i32)> = x.iter().cloned().zip(idx).collect();
            // A stable sort by the total order: ties keep their input order.
            if descending {
                want.sort_by(|a, b| b.0.total_cmp(&a.0));
            } else {
                want.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            let wb: Vec<u32> = want.iter().map(|p| p.0.to_bits()).collect();
            let wi: Vec<i32> = want.iter().map(|p| p.1).collect();
            assert_eq!(bits(&out[0]), wb, "{body}: {x:?}");
            assert_eq!(out[1].as_slice::<i32>().unwrap(), wi.as_slice());
        }
    }
}

#[test]
fn jnp_sort_comparator_ties_signed_zeros_and_nans() {
    // jnp.sort's comparator: -0 becomes 0 and every NaN the canonical NaN before `lt.total`,
    // so -0/+0 and all NaNs are ties that keep their order.
    let body = "%z = const 0.0 : f32
    %e = eq %l, %z : bool
    %l1 = select %e, %z, %l : f32
    %n = ne %l, %l : bool
    %q = const nan : f32
    %l2 = select %n, %q, %l1 : f32
    %z2 = const 0.0 : f32
    %e2 = eq %r, %z2 : bool
    %r1 = select %e2, %z2, %r : f32
    %n2 = ne %r, %r : bool
    %q2 = const nan : f32
    %r2 = select %n2, %q2, %r1 : f32
    %c = lt.total %l2, %r2 : bool
    yield %c";
    let src = SORT.replace('N', "6").replace("BODY", body);
    let x = vec![0.0, -f32::NAN, -0.0, f32::NAN, -1.0, 0.0];
    let out = both(&src, &[f32s(x), i32s((0..6).collect(), &[6])]);
    assert_eq!(out[1].as_slice::<i32>().unwrap(), &[4, 0, 2, 5, 1, 3]);
}

#[test]
fn jnp_sort_comparator_matches_a_stable_sort_of_canonical_keys() {
    // The key is computed by the comparator (`-0` to `0`, every NaN to the canonical NaN),
    // so the kernels run it per element and sort by it; ties must keep their input order,
    // ascending (`lt.total`, as jnp.sort) and descending (`gt.total`).
    let body = "%z = const 0.0 : f32
    %e = eq %l, %z : bool
    %l1 = select %e, %z, %l : f32
    %n = ne %l, %l : bool
    %q = const nan : f32
    %l2 = select %n, %q, %l1 : f32
    %e2 = eq %r, %z : bool
    %r1 = select %e2, %z, %r : f32
    %n2 = ne %r, %r : bool
    %r2 = select %n2, %q, %r1 : f32
    %c = CMP %l2, %r2 : bool
    yield %c";
    let canonical = |x: f32| {
        if x == 0.0 {
            0.0
        } else if x.is_nan() {
            f32::from_bits(0x7fc0_0000)
        } else {
            x
        }
    };
    let mut rng = XorShift(777);
    for n in [0usize, 1, 2, 33, 500, 4097] {
        for (cmp, descending) in [("lt.total", false), ("gt.total", true)] {
            let src = SORT
                .replace('N', &n.to_string())
                .replace("BODY", &body.replace("CMP", cmp));
            let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(12)).collect();
            let idx: Vec<i32> = (0..n as i32).collect();
            let out = both(&src, &[f32s(x.clone()), i32s(idx.clone(), &[n])]);
            let mut want: Vec<(f32, i32)> = x.iter().cloned().zip(idx).collect();
            // `sort_by` is stable: equal keys keep their input order.
            want.sort_by(|a, b| {
                let o = canonical(a.0).total_cmp(&canonical(b.0));
                if descending {
                    o.reverse()
                } else {
                    o
                }
            });
            let wb: Vec<u32> = want.iter().map(|p| p.0.to_bits()).collect();
            let wi: Vec<i32> = want.iter().map(|p| p.1).collect();
            assert_eq!(
                out[1].as_slice::<i32>().unwrap(),
                wi.as_slice(),
                "{cmp} n={n}"
            );
            assert_eq!(bits(&out[0]), wb, "{cmp} n={n}");
        }
    }
}

#[test]
fn sort_along_an_inner_dimension_sorts_each_row() {
    let src = "
func @s(%x: i32[3,4]) -> i32[3,4] {
  %a = sort %x dim=1 stable=0 : i32[3,4] (%l: i32, %r: i32) {
    %c = gt %l, %r : bool
    yield %c
  }
  return %a
}";
    let x = vec![3, 1, 2, 9, -5, 5, 0, 5, 7, 7, 7, 7];
    let out = both(src, &[i32s(x, &[3, 4])]);
    assert_eq!(
        out[0].as_slice::<i32>().unwrap(),
        &[9, 3, 2, 1, 5, 5, 0, -5, 7, 7, 7, 7]
    );
}

#[test]
fn cumsum_is_a_sequential_prefix_sum_and_windows_follow_the_spec() {
    let n = 1000;
    let src = format!(
        "
func @c(%x: f32[{n}]) -> f32[{n}] {{
  %z = const 0.0 : f32
  %c = reduce_window %x, %z window=[{n}] pad_low=[{m}] : f32[{n}] (%a: f32, %b: f32) {{
    %s = add %a, %b : f32
    yield %s
  }}
  return %c
}}",
        m = n - 1
    );
    let mut rng = XorShift(7);
    let x: Vec<f32> = (0..n).map(|_| (rng.next() % 1000) as f32 / 7.0).collect();
    let out = both(&src, &[f32s(x.clone())]);
    let mut acc = 0.0f32;
    let want: Vec<u32> = x
        .iter()
        .map(|v| {
            acc += v;
            acc.to_bits()
        })
        .collect();
    assert_eq!(bits(&out[0]), want);

    // A general window: size 3, stride 2, window dilation 2, base dilation 2, padding (1, 2).
    let src = "
func @w(%x: i32[5]) -> i32[OUT] {
  %z = const 1000 : i32
  %c = reduce_window %x, %z window=[3] strides=[2] base_dilations=[2] window_dilations=[2] pad_low=[1] pad_high=[2] : i32[OUT] (%a: i32, %b: i32) {
    %d = sub %a, %b : i32
    yield %d
  }
  return %c
}";
    let x = [3, -1, 4, 1, -5];
    // The reference, straight from the spec's definition with skipped padding and holes.
    let (base, lo, hi, w, s, wd) = (2usize, 1usize, 2usize, 3usize, 2usize, 2usize);
    let padded = (x.len() - 1) * base + 1 + lo + hi;
    let outs = (padded - ((w - 1) * wd + 1)) / s + 1;
    let mut want = vec![];
    for o in 0..outs {
        let mut acc = 1000;
        for k in 0..w {
            let p = o * s + k * wd;
            if p < lo || (p - lo) % base != 0 || (p - lo) / base >= x.len() {
                continue;
            }
            acc -= x[(p - lo) / base];
        }
        want.push(acc);
    }
    let out = both(
        &src.replace("OUT", &outs.to_string()),
        &[i32s(x.to_vec(), &[5])],
    );
    assert_eq!(out[0].as_slice::<i32>().unwrap(), want.as_slice());
}

#[test]
fn scatter_add_is_a_histogram_skipping_out_of_bounds_indices() {
    let n = 300;
    let src = format!(
        "
func @h(%d: i32[{n}]) -> i32[16] {{
  %zeros = const 0 : i32[16]
  %ones = const 1 : i32[{n}]
  %idx = reshape %d : i32[{n},1]
  %h = scatter %zeros, %idx, %ones inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : i32[16] (%a: i32, %b: i32) {{
    %s = add %a, %b : i32
    yield %s
  }}
  return %h
}}"
    );
    let mut rng = XorShift(99);
    let d: Vec<i32> = (0..n).map(|_| (rng.next() % 24) as i32 - 4).collect();
    let mut want = vec![0; 16];
    for &i in &d {
        if (0..16).contains(&i) {
            want[i as usize] += 1;
        }
    }
    let out = both(&src, &[i32s(d, &[n])]);
    assert_eq!(out[0].as_slice::<i32>().unwrap(), want.as_slice());
}

#[test]
fn scatter_rows_with_a_general_region_apply_in_update_order() {
    // x.at[idx].set(rows) on a [4,3] matrix with a repeated and an out-of-range index, with a
    // region that is not a fast path (it keeps `2 * new - old`).
    let src = "
func @s(%x: i32[4,3], %i: i32[3], %u: i32[3,3]) -> i32[4,3] {
  %idx = reshape %i : i32[3,1]
  %r = scatter %x, %idx, %u update_window_dims=[1] inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : i32[4,3] (%a: i32, %b: i32) {
    %t = add %b, %b : i32
    %d = sub %t, %a : i32
    yield %d
  }
  return %r
}";
    let x: Vec<i32> = (0..12).collect();
    let i = vec![2, 7, 2];
    let u = vec![10, 20, 30, 40, 50, 60, 70, 80, 90];
    let mut want = x.clone();
    for (k, &row) in i.iter().enumerate() {
        if !(0..4).contains(&row) {
            continue;
        }
        for c in 0..3 {
            let o = row as usize * 3 + c;
            want[o] = 2 * u[k * 3 + c] - want[o];
        }
    }
    let out = both(src, &[i32s(x, &[4, 3]), i32s(i, &[3]), i32s(u, &[3, 3])]);
    assert_eq!(out[0].as_slice::<i32>().unwrap(), want.as_slice());
}

#[test]
fn scatter_set_lets_the_last_repeated_update_win_and_skips_partial_windows() {
    // Windows of 2 elements: a start of 3 in a length-4 operand does not fit and is skipped
    // entirely, as are negative starts.
    let src = "
func @s(%x: f32[4], %i: i32[4,1], %u: f32[4,2]) -> f32[4] {
  %r = scatter %x, %i, %u update_window_dims=[1] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : f32[4] (%a: f32, %b: f32) {
    yield %b
  }
  return %r
}";
    let x = f32s(vec![0.5; 4]);
    let i = i32s(vec![1, 3, -1, 1], &[4, 1]);
    let u = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], vec![4, 2]).unwrap();
    let out = both(src, &[x, i, u]);
    assert_eq!(out[0].as_slice::<f32>().unwrap(), &[0.5, 7.0, 8.0, 0.5]);
}

#[test]
fn empty_operands_pass_through() {
    let src = "
func @e(%x: f32[0], %i: i32[0,1], %u: f32[0]) -> (f32[0], f32[0]) {
  %s = sort %x dim=0 stable=1 : f32[0] (%l: f32, %r: f32) {
    %c = lt.total %l, %r : bool
    yield %c
  }
  %t = scatter %x, %i, %u inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : f32[0] (%a: f32, %b: f32) {
    %m = max %a, %b : f32
    yield %m
  }
  return %s, %t
}";
    let out = both(src, &[f32s(vec![]), i32s(vec![], &[0, 1]), f32s(vec![])]);
    assert!(out[0].is_empty() && out[1].is_empty());
}

#[test]
fn total_order_comparisons_in_both_executors() {
    let src = "
func @c(%a: f32[6], %b: f32[6]) -> (bool[6], bool[6], bool[6]) {
  %lt = lt.total %a, %b : bool[6]
  %eq = eq.total %a, %b : bool[6]
  %ge = ge.total %a, %b : bool[6]
  return %lt, %eq, %ge
}";
    let a = vec![-0.0, f32::NAN, -f32::NAN, f32::INFINITY, 1.0, -0.0];
    let b = vec![0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1.0, -0.0];
    let out = both(src, &[f32s(a.clone()), f32s(b.clone())]);
    let lt: Vec<bool> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.total_cmp(y).is_lt())
        .collect();
    let eq: Vec<bool> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.total_cmp(y).is_eq())
        .collect();
    let ge: Vec<bool> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.total_cmp(y).is_ge())
        .collect();
    assert_eq!(out[0].as_slice::<bool>().unwrap(), lt.as_slice());
    assert_eq!(out[1].as_slice::<bool>().unwrap(), eq.as_slice());
    assert_eq!(out[2].as_slice::<bool>().unwrap(), ge.as_slice());
}

#[test]
fn text_form_round_trips() {
    for file in ["argmax", "topk", "cumsum", "histogram"] {
        let path = format!("{}/ir/{file}.gir", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let m = parse_module(&text).unwrap();
        for f in &m.funcs {
            verify_function(f).unwrap();
            let printed = f.to_string();
            let again = parse_module(&printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
            assert_eq!(&again.funcs[0], f, "{printed}");
            assert_eq!(again.funcs[0].to_string(), printed);
        }
    }
}

// Malformed regions (a use of an outer value, argument types, a non-bool comparator, a tensor
// op inside, a result of the wrong shape, a scatter index vector that does not match) are the
// files `tests/ir/verify_23_*.gir` to `verify_28_*.gir`, checked by `tests/filetests.rs`.

#[test]
fn builder_argmax_sort_cumsum_and_at_in_both_executors() {
    use graphjit::{DType, Graph};
    let g = Graph::new("front");
    let x = g.input("x", DType::F32, [2, 4]);
    let i = g.input("i", DType::I32, [3]);
    let v = g.input("v", DType::F32, [3, 4]);
    let am = x.argmax(1);
    let an = x.argmin(0);
    let s = x.sort(1, false);
    let asort = x.argsort(1, true);
    let c = x.cumsum(1);
    let cm = x.cummax(0);
    let added = x.at(i).add(v);
    let set = x.at(i).set(v);
    g.outputs(&[am, an, s, asort, c, cm, added, set]);
    let xs = vec![3.0f32, f32::NAN, -1.0, 3.0, 0.5, 2.0, 2.0, -0.0];
    let x0 = Tensor::from_vec(xs.clone(), vec![2, 4]).unwrap();
    // Index -1 is the last row; 5 is out of range and dropped; row 1 twice: updates in order.
    let i0 = i32s(vec![-1, 5, -1], &[3]);
    let v0 = Tensor::from_vec((0..12).map(|k| k as f32).collect::<Vec<_>>(), vec![3, 4]).unwrap();
    let inputs = [x0, i0, v0];
    let a = g.interpret(&inputs).unwrap();
    let b = g.compile().unwrap().run(&inputs).unwrap();
    for (p, q) in a.iter().zip(&b) {
        assert_eq!(p.data().as_bytes(), q.data().as_bytes());
    }
    assert_eq!(a[0].as_slice::<i32>().unwrap(), &[1, 1]);
    assert_eq!(a[1].as_slice::<i32>().unwrap(), &[1, 0, 0, 1]);
    let sb = bits(&a[2]);
    let want: Vec<u32> = [-1.0, 3.0, 3.0, f32::NAN, -0.0, 0.5, 2.0, 2.0]
        .iter()
        .map(|v: &f32| v.to_bits())
        .collect();
    assert_eq!(sb, want);
    assert_eq!(a[3].as_slice::<i32>().unwrap(), &[1, 0, 3, 2, 1, 2, 0, 3]);
    let cs = a[4].as_slice::<f32>().unwrap();
    assert_eq!((cs[0], cs[4], cs[7]), (3.0, 0.5, 4.5));
    assert!(cs[1].is_nan());
    let cmx = a[5].as_slice::<f32>().unwrap();
    assert_eq!((cmx[4], cmx[6], cmx[7]), (3.0, 2.0, 3.0));
    assert!(cmx[5].is_nan());
    let mut want_add = xs.clone();
    let mut want_set = xs;
    for (k, row) in [1usize, 1].iter().enumerate() {
        let src = if k == 0 { 0 } else { 2 };
        for col in 0..4 {
            want_add[row * 4 + col] += (src * 4 + col) as f32;
            want_set[row * 4 + col] = (src * 4 + col) as f32;
        }
    }
    assert_eq!(
        bits(&a[6]),
        want_add.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(
        bits(&a[7]),
        want_set.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn eager_and_traced_region_ops_agree_with_the_builder() {
    use graphjit::trace::{self, Traced};
    let x = Tensor::from_vec(vec![2i32, -7, 2, 9, 0, 9], vec![6]).unwrap();
    assert_eq!(x.argmax(0).unwrap().as_slice::<i32>().unwrap(), &[3]);
    assert_eq!(x.argmin(0).unwrap().as_slice::<i32>().unwrap(), &[1]);
    assert_eq!(
        x.sort(0, true).unwrap().as_slice::<i32>().unwrap(),
        &[9, 9, 2, 2, 0, -7]
    );
    assert_eq!(
        x.argsort(0, false).unwrap().as_slice::<i32>().unwrap(),
        &[1, 4, 0, 2, 3, 5]
    );
    assert_eq!(
        x.cumsum(0).unwrap().as_slice::<i32>().unwrap(),
        &[2, -5, -3, 6, 6, 15]
    );
    let h = Tensor::from_vec(vec![0i32; 4], vec![4]).unwrap();
    let idx = i32s(vec![1, 3, 1, -1, 4], &[5]);
    let ones = i32s(vec![1; 5], &[5]);
    assert_eq!(
        h.at_add(&idx, &ones).unwrap().as_slice::<i32>().unwrap(),
        &[0, 2, 0, 2]
    );
    let f = trace::function(|xs: &[Traced]| {
        let s = xs[0].cumsum(0)?;
        let a = xs[0].argmax(0)?;
        let t = xs[0].at_set(&xs[1], &xs[2])?;
        Ok(vec![s, a, t])
    });
    let first = f.call(&[x.clone(), idx.clone(), ones.clone()]).unwrap();
    let second = f.call(&[x, idx, ones]).unwrap();
    assert_eq!(first, second);
    assert_eq!(f.stats().compilations, 1);
    assert_eq!(first[2].as_slice::<i32>().unwrap(), &[2, 1, 2, 1, 1, 1]);
}

#[test]
fn eager_and_traced_cumprod_and_cummin() {
    use graphjit::trace::{self, Traced};
    let x = Tensor::from_vec(vec![2i32, -3, 4, -1, 0, 5], vec![6]).unwrap();
    // Products and minima of the prefixes, computed by hand.
    assert_eq!(
        x.cumprod(0).unwrap().as_slice::<i32>().unwrap(),
        &[2, -6, -24, 24, 0, 0]
    );
    assert_eq!(
        x.cummin(0).unwrap().as_slice::<i32>().unwrap(),
        &[2, -3, -3, -3, -3, -3]
    );
    // Along the second axis of a matrix, NaN propagating through the minimum.
    let m = Tensor::from_vec(vec![1.5f32, 0.5, 2.0, 3.0, f32::NAN, -1.0], vec![2, 3]).unwrap();
    let p = m.cumprod(1).unwrap();
    assert_eq!(p.as_slice::<f32>().unwrap()[..3], [1.5, 0.75, 1.5]);
    let mn = m.cummin(1).unwrap();
    let mn = mn.as_slice::<f32>().unwrap();
    assert_eq!(mn[..4], [1.5, 0.5, 0.5, 3.0]);
    assert!(mn[4].is_nan() && mn[5].is_nan());
    // Traced: the same ops recorded, compiled on the second call, same bits.
    let f = trace::function(|xs: &[Traced]| Ok(vec![xs[0].cumprod(1)?, xs[0].cummin(1)?]));
    let first = f.call(std::slice::from_ref(&m)).unwrap();
    let second = f.call(std::slice::from_ref(&m)).unwrap();
    assert_eq!(f.stats().compilations, 1);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.data().as_bytes(), b.data().as_bytes());
    }
    assert_eq!(first[0].data().as_bytes(), p.data().as_bytes());
}

#[test]
fn scatter_of_a_rank0_update_at_one_index() {
    // The form JAX gives `x.at[i].set(v)` inside `fori_loop`: indices `[1]`, index vector
    // dimension 0, a rank-0 update (compiled code keeps it in a register).
    let src = "
func @s(%x: i64[4], %i: i32, %v: i64) -> i64[4] {
  %idx = reshape %i : i32[1]
  %r = scatter %x, %idx, %v inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=0 : i64[4] (%a: i64, %b: i64) {
    %s = mul %a, %b : i64
    yield %s
  }
  return %r
}";
    let x = Tensor::from_vec(vec![1i64, 2, 3, 4], vec![4]).unwrap();
    for (i, want) in [
        (2, [1i64, 2, 30, 4]),
        (4, [1, 2, 3, 4]),
        (-1, [1, 2, 3, 4]),
        (0, [10, 2, 3, 4]),
    ] {
        let out = both(src, &[x.clone(), Tensor::scalar(i), Tensor::scalar(10i64)]);
        assert_eq!(out[0].as_slice::<i64>().unwrap(), &want, "index {i}");
    }
}
