//! The inline forms compiled code gives region ops, against the interpreter (bit for bit)
//! and against plain Rust folds written here: a variadic `reduce` whose `iota` index operand
//! is read as the loop counter and whose keep conditions branch past the region (argmax,
//! argmin, and regions where only some of the yields are guarded), a `scatter` whose splat
//! constant update is a register and whose bounds test is dropped when the index dtype
//! cannot leave the operand, and a prefix `reduce_window` (cumsum) as a running scan written
//! into the output. Edge cases: NaN of both signs, signed zeros, ties, empty and size-1
//! dimensions, out-of-bounds and huge indices.

mod common;

use common::{both_bits as both, XorShift};
use graphjit::ir::parse::parse_module;
use graphjit::ir::verify::verify_function;
use graphjit::{jit, Tensor};

fn shape_str(s: &[usize]) -> String {
    s.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// JAX's argmax (`gt`) or argmin (`lt`) region; `tie_first` puts the tie test first in the
/// `or` that guards the index, `guarded` = false guards the index by the tie test alone
/// (then no condition guards both yields and compiled code runs the whole region).
fn arg_region(cmp: &str, tie_first: bool, guarded: bool) -> String {
    let first = match (guarded, tie_first) {
        (false, _) => "%first = or %tie, %tie : bool",
        (true, true) => "%first = or %tie, %pick : bool",
        (true, false) => "%first = or %pick, %tie : bool",
    };
    format!(
        "(%a: f32, %ai: IDX, %b: f32, %bi: IDX) {{
    %gt = {cmp} %a, %b : bool
    %nan = ne %a, %a : bool
    %pick = or %gt, %nan : bool
    %eq = eq %a, %b : bool
    %lt = lt %ai, %bi : bool
    %tie = and %eq, %lt : bool
    {first}
    %v = select %pick, %a, %b : f32
    %k = select %first, %ai, %bi : IDX
    yield %v, %k
  }}"
    )
}

/// The same region in Rust: the reference fold step.
fn arg_step(max: bool, guarded: bool, (a, ai): (f32, i64), (b, bi): (f32, i64)) -> (f32, i64) {
    let better = if max { a > b } else { a < b };
    let pick = better || a.is_nan();
    let tie = a == b && ai < bi;
    let first = if guarded { pick || tie } else { tie };
    (if pick { a } else { b }, if first { ai } else { bi })
}

#[test]
fn arg_reductions_read_the_iota_as_the_counter_and_branch_on_keep_conditions() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let shapes: &[&[usize]] = &[
        &[1],
        &[5],
        &[300],
        &[0, 3],
        &[3, 0],
        &[1, 1],
        &[4, 7],
        &[7, 1],
    ];
    for &shape in shapes {
        for dim in 0..shape.len() {
            for (cmp, max) in [("gt", true), ("lt", false)] {
                for (tie_first, guarded) in [(false, true), (true, true), (false, false)] {
                    for idx in ["i32", "i64", "u8"] {
                        for also_return_iota in [false, true] {
                            let kept: Vec<usize> = (0..shape.len())
                                .filter(|&d| d != dim)
                                .map(|d| shape[d])
                                .collect();
                            let (kt, kti) = if kept.is_empty() {
                                ("f32".to_string(), idx.to_string())
                            } else {
                                let k = shape_str(&kept);
                                (format!("f32[{k}]"), format!("{idx}[{k}]"))
                            };
                            let s = shape_str(shape);
                            let ret = if also_return_iota {
                                "return %m, %i, %idx\n}\n".to_string()
                            } else {
                                "return %m, %i\n}\n".to_string()
                            };
                            let extra = if also_return_iota {
                                format!(", {idx}[{s}]")
                            } else {
                                String::new()
                            };
                            let src = format!(
                                "func @f(%x: f32[{s}]) -> ({kt}, {kti}{extra}) {{
  %idx = iota axis={dim} : {idx}[{s}]
  %init = const {init} : f32
  %zero = const 0 : {idx}
  %m, %i = reduce %x, %idx, %init, %zero dims=[{dim}] : {kt}, {kti} {region}
  {ret}",
                                init = if max { "-inf" } else { "inf" },
                                region = arg_region(cmp, tie_first, guarded).replace("IDX", idx),
                            );
                            let n: usize = shape.iter().product();
                            let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(16)).collect();
                            let t = Tensor::from_vec(x.clone(), shape.to_vec()).unwrap();
                            let out = both(&src, &[t]);
                            // The reference: fold each kept position's row in increasing index.
                            let st: Vec<usize> = (0..shape.len())
                                .map(|d| shape[d + 1..].iter().product())
                                .collect();
                            let outer = n / shape[dim].max(1);
                            let mut want_v = Vec::new();
                            let mut want_i = Vec::new();
                            if shape[dim] == 0 {
                                let cnt: usize = kept.iter().product();
                                want_v = vec![
                                    if max {
                                        f32::NEG_INFINITY
                                    } else {
                                        f32::INFINITY
                                    };
                                    cnt
                                ];
                                want_i = vec![0; cnt];
                            }
                            for o in 0..outer {
                                // The base offset of the `o`-th row (row-major over kept dims).
                                let (hi, lo) = (o / st[dim], o % st[dim]);
                                let base = hi * st[dim] * shape[dim] + lo;
                                let init = if max {
                                    f32::NEG_INFINITY
                                } else {
                                    f32::INFINITY
                                };
                                let mut acc = (init, 0i64);
                                for j in 0..shape[dim] {
                                    let e = (x[base + j * st[dim]], j as i64 as u8 as i64);
                                    let e = if idx == "u8" { e } else { (e.0, j as i64) };
                                    acc = arg_step(max, guarded, acc, e);
                                }
                                want_v.push(acc.0);
                                want_i.push(acc.1);
                            }
                            let got_v: Vec<u32> = out[0]
                                .data()
                                .as_bytes()
                                .chunks(4)
                                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                                .collect();
                            let want_vb: Vec<u32> = want_v.iter().map(|v| v.to_bits()).collect();
                            assert_eq!(got_v, want_vb, "{src}\n{x:?}");
                            let got_i: Vec<i64> = match idx {
                                "i32" => out[1]
                                    .as_slice::<i32>()
                                    .unwrap()
                                    .iter()
                                    .map(|&v| v as i64)
                                    .collect(),
                                "i64" => out[1].as_slice::<i64>().unwrap().to_vec(),
                                _ => out[1]
                                    .as_slice::<u8>()
                                    .unwrap()
                                    .iter()
                                    .map(|&v| v as i64)
                                    .collect(),
                            };
                            assert_eq!(got_i, want_i, "{src}\n{x:?}");
                        }
                    }
                }
            }
        }
    }
}

/// `zeros(bins).at[idx].OP(splat)` in IR: a one-input scatter with a splat constant update.
fn hist_src(n: usize, idx: &str, bins: usize, dt: &str, splat: &str, body: &str) -> String {
    format!(
        "func @h(%d: {idx}[{n}]) -> {dt}[{bins}] {{
  %zeros = const 0 : {dt}[{bins}]
  %ones = const {splat} : {dt}[{n}]
  %i = reshape %d : {idx}[{n},1]
  %h = scatter %zeros, %i, %ones inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : {dt}[{bins}] (%a: {dt}, %b: {dt}) {{
    {body}
  }}
  return %h
}}"
    )
}

#[test]
fn histograms_with_a_splat_update_skip_out_of_range_indices_of_every_index_dtype() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    // Not a multiple of 4: the unrolled loop of updates has a remainder.
    let n = 1003;
    for bins in [1usize, 100, 128, 255, 256, 300] {
        // u8 and i8 (the bounds test drops a side when the dtype cannot cross it), and the
        // 64-bit types, whose huge unsigned values must not pass as negative.
        let raw: Vec<u64> = (0..n)
            .map(|k| match k % 9 {
                0 => u64::MAX - rng.next() % 4,
                1 => 1 << 63,
                _ => rng.next() % (bins as u64 + 40),
            })
            .collect();
        let cases: Vec<(&str, Tensor, Vec<i128>)> = vec![
            (
                "u8",
                Tensor::from_vec(raw.iter().map(|&v| v as u8).collect::<Vec<u8>>(), vec![n])
                    .unwrap(),
                raw.iter().map(|&v| v as u8 as i128).collect(),
            ),
            (
                "i8",
                Tensor::from_vec(raw.iter().map(|&v| v as i8).collect::<Vec<i8>>(), vec![n])
                    .unwrap(),
                raw.iter().map(|&v| v as i8 as i128).collect(),
            ),
            (
                "u64",
                Tensor::from_vec(raw.clone(), vec![n]).unwrap(),
                raw.iter().map(|&v| v as i128).collect(),
            ),
            (
                "i64",
                Tensor::from_vec(raw.iter().map(|&v| v as i64).collect::<Vec<i64>>(), vec![n])
                    .unwrap(),
                raw.iter().map(|&v| v as i64 as i128).collect(),
            ),
            (
                "i32",
                Tensor::from_vec(raw.iter().map(|&v| v as i32).collect::<Vec<i32>>(), vec![n])
                    .unwrap(),
                raw.iter().map(|&v| v as i32 as i128).collect(),
            ),
        ];
        for (idx, t, vals) in cases {
            let in_range = |v: i128| v >= 0 && v < bins as i128;
            // Add 1 (i32).
            let out = both(
                &hist_src(
                    n,
                    idx,
                    bins,
                    "i32",
                    "1",
                    "%s = add %a, %b : i32\n    yield %s",
                ),
                std::slice::from_ref(&t),
            );
            let mut want = vec![0i32; bins];
            for &v in &vals {
                if in_range(v) {
                    want[v as usize] += 1;
                }
            }
            assert_eq!(
                out[0].as_slice::<i32>().unwrap(),
                want.as_slice(),
                "{idx} {bins}"
            );
            // A general region on f32: `2 * old - 0.5`, order-dependent per bin.
            let out = both(
                &hist_src(
                    n,
                    idx,
                    bins,
                    "f32",
                    "0.5",
                    "%t = add %a, %a : f32\n    %s = sub %t, %b : f32\n    yield %s",
                ),
                std::slice::from_ref(&t),
            );
            let mut want = vec![0f32; bins];
            for &v in &vals {
                if in_range(v) {
                    let o = &mut want[v as usize];
                    *o = (*o + *o) - 0.5;
                }
            }
            let got: Vec<u32> = out[0]
                .as_slice::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{idx} {bins}");
        }
    }
}

#[test]
fn a_splat_update_used_elsewhere_keeps_its_buffer() {
    let src = "func @h(%d: u8[6]) -> (i32[4], i32[6]) {
  %zeros = const 0 : i32[4]
  %ones = const 3 : i32[6]
  %i = reshape %d : u8[6,1]
  %h = scatter %zeros, %i, %ones inserted_window_dims=[0] scatter_dims_to_operand_dims=[0] index_vector_dim=1 : i32[4] (%a: i32, %b: i32) {
    %s = add %a, %b : i32
    yield %s
  }
  return %h, %ones
}";
    let d = Tensor::from_vec(vec![0u8, 3, 4, 255, 3, 1], vec![6]).unwrap();
    let out = both(src, &[d]);
    assert_eq!(out[0].as_slice::<i32>().unwrap(), &[3, 3, 0, 6]);
    assert_eq!(out[1].as_slice::<i32>().unwrap(), &[3; 6]);
}

#[test]
fn prefix_windows_are_running_scans_along_any_dimension() {
    let mut rng = XorShift(0xDEAD_BEEF_1234_5678);
    let shapes: &[&[usize]] = &[
        &[1],
        &[6],
        &[0],
        &[3, 5],
        &[5, 1],
        &[1, 4],
        &[0, 4],
        &[2, 3, 4],
    ];
    for &shape in shapes {
        for dim in 0..shape.len() {
            let s = shape_str(shape);
            let n: usize = shape.iter().product();
            let window: Vec<String> = (0..shape.len())
                .map(|d| if d == dim { shape[d].max(1) } else { 1 }.to_string())
                .collect();
            let pad: Vec<String> = (0..shape.len())
                .map(|d| if d == dim { shape[d].max(1) - 1 } else { 0 }.to_string())
                .collect();
            // A variadic cummax with the index of the first maximum, NaN-aware (a region that
            // is not one binary op), and a plain f32 cumsum returned straight.
            let src = format!(
                "func @c(%x: f32[{s}], %ks: i32[{s}]) -> (f32[{s}], i32[{s}], f32[{s}]) {{
  %ninf = const -inf : f32
  %zero = const 0 : i32
  %m, %i = reduce_window %x, %ks, %ninf, %zero window=[{w}] pad_low=[{p}] : f32[{s}], i32[{s}] {region}
  %z = const -0.0 : f32
  %c = reduce_window %x, %z window=[{w}] pad_low=[{p}] : f32[{s}] (%u: f32, %w: f32) {{
    %t = add %u, %w : f32
    yield %t
  }}
  return %m, %i, %c
}}",
                w = window.join(","),
                p = pad.join(","),
                region = arg_region("gt", false, true).replace("IDX", "i32"),
            );
            let x: Vec<f32> = (0..n).map(|_| rng.edgy_f32(16)).collect();
            let k: Vec<i32> = (0..n).map(|_| (rng.next() % 7) as i32).collect();
            let out = both(
                &src,
                &[
                    Tensor::from_vec(x.clone(), shape.to_vec()).unwrap(),
                    Tensor::from_vec(k.clone(), shape.to_vec()).unwrap(),
                ],
            );
            let st: usize = shape[dim + 1..].iter().product();
            let len = shape[dim];
            let (mut wm, mut wi, mut wc) = (vec![0u32; n], vec![0i32; n], vec![0u32; n]);
            for o in 0..n / len.max(1) {
                let base = (o / st) * st * len + o % st;
                let mut acc = (f32::NEG_INFINITY, 0i64);
                let mut sum = -0.0f32;
                for j in 0..len {
                    let e = base + j * st;
                    acc = arg_step(true, true, acc, (x[e], k[e] as i64));
                    sum += x[e];
                    wm[e] = acc.0.to_bits();
                    wi[e] = acc.1 as i32;
                    wc[e] = sum.to_bits();
                }
            }
            let f32bits = |t: &Tensor| -> Vec<u32> {
                t.as_slice::<f32>()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect()
            };
            assert_eq!(f32bits(&out[0]), wm, "{src}");
            assert_eq!(out[1].as_slice::<i32>().unwrap(), wi.as_slice(), "{src}");
            assert_eq!(f32bits(&out[2]), wc, "{src}");
        }
    }
}

#[test]
fn a_scan_carried_by_a_loop_is_written_into_the_loop_buffer() {
    // cumsum applied three times in a `while`, its result carried: 1, 2, 3, 4 -> the third
    // iterated prefix sums.
    let src = "func @w(%x: i32[4]) -> i32[4] {
  %zero = const 0 : i32
  %r, %x2 = while (%i = %zero, %v = %x) : i32, i32[4] {
    %three = const 3 : i32
    %c = lt %i, %three : bool
    yield %c
  } do {
    %one = const 1 : i32
    %j = add %i, %one : i32
    %z = const 0 : i32
    %s = reduce_window %v, %z window=[4] pad_low=[3] : i32[4] (%a: i32, %b: i32) {
      %t = add %a, %b : i32
      yield %t
    }
    yield %j, %s
  }
  return %x2
}";
    let out = both(
        src,
        &[Tensor::from_vec(vec![1i32, 2, 3, 4], vec![4]).unwrap()],
    );
    // [1,2,3,4] -> [1,3,6,10] -> [1,4,10,20] -> [1,5,15,35].
    assert_eq!(out[0].as_slice::<i32>().unwrap(), &[1, 5, 15, 35]);
}

/// A function of one of the example files under `ir/`.
fn example(file: &str, name: &str) -> graphjit::ir::Function {
    let path = format!("{}/ir/{file}", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap();
    let m = parse_module(&src).unwrap();
    let f = m.funcs.into_iter().find(|f| f.name == name).unwrap();
    verify_function(&f).unwrap();
    f
}

#[test]
fn the_workloads_need_no_buffer_for_the_iota_the_splat_or_the_scan() {
    // W8's 4 MB iota of indices, W10's 4 MB of ones and cumsum's 4 MB result copied into the
    // output are all gone: the iota is the loop counter, the ones a register, and the scan
    // writes the output directly.
    let n = 1usize << 20;
    let argmax = jit::compile(&example("argmax.gir", "argmax_big")).unwrap();
    assert!(argmax.scratch_bytes() < 1024, "{}", argmax.scratch_bytes());
    let hist = jit::compile(&example("histogram.gir", "hist_big")).unwrap();
    assert!(hist.scratch_bytes() < 4096, "{}", hist.scratch_bytes());
    let cumsum = jit::compile(&example("cumsum.gir", "cumsum_big")).unwrap();
    assert_eq!(cumsum.scratch_bytes(), 0);
    // And they compute what they should.
    let x: Vec<f32> = (0..n).map(|k| ((k * 7919) % 1000) as f32).collect();
    let out = argmax
        .run(&[Tensor::from_vec(x.clone(), vec![n]).unwrap()])
        .unwrap();
    let want = x.iter().position(|&v| v == 999.0).unwrap() as i32;
    assert_eq!(out[0].as_slice::<i32>().unwrap(), &[want]);
    let d: Vec<u8> = (0..n).map(|k| (k % 251) as u8).collect();
    let out = hist
        .run(&[Tensor::from_vec(d.clone(), vec![n]).unwrap()])
        .unwrap();
    let mut want = vec![0i32; 256];
    for &v in &d {
        want[v as usize] += 1;
    }
    assert_eq!(out[0].as_slice::<i32>().unwrap(), want.as_slice());
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
fn the_keep_conditions_are_those_of_argmax_and_argmin_only() {
    let arg = |cmp: &str, tie_first: bool, guarded: bool| {
        body_of(&format!(
            "func @f(%x: f32[3]) -> i32 {{
  %idx = iota axis=0 : i32[3]
  %ninf = const -inf : f32
  %zero = const 0 : i32
  %m, %i = reduce %x, %idx, %ninf, %zero dims=[0] : f32, i32 {}
  return %i
}}",
            arg_region(cmp, tie_first, guarded).replace("IDX", "i32")
        ))
    };
    // Slots: 4 arguments, then gt (4) and nan (5) are the keep conditions.
    assert_eq!(arg("gt", false, true).keep_conditions(2), vec![4, 5]);
    assert_eq!(arg("lt", true, true).keep_conditions(2), vec![4, 5]);
    assert_eq!(
        arg("gt", false, false).keep_conditions(2),
        Vec::<usize>::new()
    );
}

#[test]
fn general_windows_fold_their_elements_in_order_skipping_padding_and_holes() {
    let mut rng = XorShift(0x7777_1234_ABCD_0042);
    for case in 0..300 {
        let rank = 1 + (rng.next() % 2) as usize;
        let shape: Vec<usize> = (0..rank).map(|_| (rng.next() % 6) as usize).collect();
        let pick = |rng: &mut XorShift, m: u64| (rng.next() % m) as usize;
        let dims: Vec<usize> = (0..rank).map(|_| 1 + pick(&mut rng, 3)).collect();
        let strides: Vec<usize> = (0..rank).map(|_| 1 + pick(&mut rng, 3)).collect();
        let base: Vec<usize> = (0..rank).map(|_| 1 + pick(&mut rng, 3)).collect();
        let wdil: Vec<usize> = (0..rank).map(|_| 1 + pick(&mut rng, 2)).collect();
        let lo: Vec<usize> = (0..rank).map(|_| pick(&mut rng, 4)).collect();
        let hi: Vec<usize> = (0..rank).map(|_| pick(&mut rng, 4)).collect();
        // The output extent of each dimension, from the spec (0 when the window is larger
        // than the padded, dilated operand).
        let out: Vec<usize> = (0..rank)
            .map(|x| {
                let padded = if shape[x] == 0 {
                    0
                } else {
                    (shape[x] - 1) * base[x] + 1
                } + lo[x]
                    + hi[x];
                let span = (dims[x] - 1) * wdil[x] + 1;
                if padded < span {
                    0
                } else {
                    (padded - span) / strides[x] + 1
                }
            })
            .collect();
        let n: usize = shape.iter().product();
        let x: Vec<i32> = (0..n).map(|_| (rng.next() % 200) as i32 - 100).collect();
        let v = |s: &[usize]| shape_str(s);
        let src = format!(
            "func @w(%x: i32[{s}]) -> i32[{o}] {{
  %z = const 7 : i32
  %c = reduce_window %x, %z window=[{d}] strides=[{st}] base_dilations=[{b}] window_dilations=[{wd}] pad_low=[{l}] pad_high=[{h}] : i32[{o}] (%a: i32, %e: i32) {{
    %t = mul %a, %z2 : i32
    %u = sub %t, %e : i32
    yield %u
  }}
  return %c
}}",
            s = v(&shape),
            o = v(&out),
            d = v(&dims),
            st = v(&strides),
            b = v(&base),
            wd = v(&wdil),
            l = v(&lo),
            h = v(&hi),
        )
        .replace("%z2", "%a");
        let res = both(&src, &[Tensor::from_vec(x.clone(), shape.clone()).unwrap()]);
        // The reference: each output folds `acc * acc - x` over its window's elements in
        // row-major order of the window position, from 7.
        let xst: Vec<usize> = (0..rank).map(|d| shape[d + 1..].iter().product()).collect();
        let total: usize = out.iter().product();
        let mut want = Vec::with_capacity(total);
        for oi in 0..total {
            let o: Vec<usize> = (0..rank)
                .map(|d| oi / out[d + 1..].iter().product::<usize>() % out[d])
                .collect();
            let mut acc = 7i32;
            let wn: usize = dims.iter().product();
            for ki in 0..wn {
                let k: Vec<usize> = (0..rank)
                    .map(|d| ki / dims[d + 1..].iter().product::<usize>() % dims[d])
                    .collect();
                let mut off = Some(0usize);
                for d in 0..rank {
                    let p = o[d] * strides[d] + k[d] * wdil[d];
                    off = match (off, p.checked_sub(lo[d])) {
                        (Some(f), Some(q)) if q % base[d] == 0 && q / base[d] < shape[d] => {
                            Some(f + q / base[d] * xst[d])
                        }
                        _ => None,
                    };
                }
                if let Some(f) = off {
                    acc = acc.wrapping_mul(acc).wrapping_sub(x[f]);
                }
            }
            want.push(acc);
        }
        assert_eq!(
            res[0].as_slice::<i32>().unwrap(),
            want.as_slice(),
            "case {case}\n{src}"
        );
    }
}
