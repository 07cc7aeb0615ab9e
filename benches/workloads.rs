//! Criterion benchmarks of the workloads of issue 5 (W1..W6) and issue 11 (W7..W10, cumsum):
//! each program of `ir/` compiled
//! (with and without the loop optimizations), interpreted, and as a hand-written native Rust
//! loop, the floor.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use graphjit::interp::Interpreter;
use graphjit::ir::parse::parse_module;
use graphjit::ir::Function;
use graphjit::jit::{compile_with, Executable, JitOptions};
use graphjit::Tensor;

/// The function `name` of the IR file `file` (relative to the crate root).
fn load(file: &str, name: &str) -> Function {
    let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let m = parse_module(&src).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
    m.func(name)
        .unwrap_or_else(|| panic!("{path} has no @{name}"))
        .clone()
}

/// Inputs generated from argument texts as the CLI writes them (`rand:f32[1048576]`).
fn inputs(f: &Function, texts: &[&str]) -> Vec<Tensor> {
    f.param_types()
        .iter()
        .zip(texts)
        .map(|(t, s)| graphjit::args::parse_value(s, t).expect("argument"))
        .collect()
}

/// The compile options compared: everything on, and the plain per-op loops.
fn variants() -> [(&'static str, JitOptions); 2] {
    [
        ("jit", JitOptions::default()),
        ("jit-plain", JitOptions::plain()),
    ]
}

/// Benchmarks `run_into` of `f` on `ins` for every compile variant.
fn bench_jit(c: &mut Criterion, group: &str, f: &Function, ins: &[Tensor]) {
    let mut g = c.benchmark_group(group);
    for (label, opts) in variants() {
        let exe: Executable = compile_with(f, &opts).expect("compile");
        let mut outs: Vec<Tensor> = exe.result_types().iter().map(Tensor::zeros).collect();
        g.bench_function(label, |b| {
            b.iter(|| exe.run_into(black_box(ins), &mut outs).expect("run"))
        });
    }
    let interp = Interpreter::new(f).expect("interpreter");
    g.bench_function("interp", |b| {
        b.iter(|| interp.run(black_box(ins)).expect("run"))
    });
    g.finish();
}

fn f32_slice(t: &Tensor) -> &[f32] {
    t.as_slice::<f32>().expect("f32 tensor")
}

fn w1_w2(c: &mut Criterion) {
    let f = load("ir/counter.gir", "counter");
    let mut g = c.benchmark_group("W1 counter compile");
    for (label, opts) in variants() {
        g.bench_function(label, |b| {
            b.iter(|| compile_with(black_box(&f), &opts).expect("compile"))
        });
    }
    g.finish();
    bench_jit(
        c,
        "W1 counter(0,10) per call",
        &f,
        &inputs(&f, &["0", "10"]),
    );
    bench_jit(
        c,
        "W2 counter(0,10000000)",
        &f,
        &inputs(&f, &["0", "10000000"]),
    );
    c.bench_function("W2 counter(0,10000000)/native", |b| {
        b.iter(|| {
            let (mut a, mut s) = (black_box(0i32), black_box(10_000_000i32));
            while a < s {
                a = a.wrapping_add(2);
                s = s.wrapping_add(1);
            }
            (a, s)
        })
    });
}

fn w3_w4(c: &mut Criterion) {
    let x_text = ["rand:f32[1048576]"];
    let f = load("ir/poly.gir", "poly");
    let ins = inputs(&f, &x_text);
    bench_jit(c, "W3a poly", &f, &ins);
    let x = f32_slice(&ins[0]).to_vec();
    let mut y = vec![0f32; x.len()];
    c.bench_function("W3a poly/native", |b| {
        b.iter(|| {
            for (o, &v) in y.iter_mut().zip(black_box(&x)) {
                *o = ((v * 2.0 + 1.0) * v - 3.0) / (v + 4.0);
            }
        })
    });

    let f = load("ir/gauss_tanh.gir", "gauss_tanh");
    bench_jit(c, "W3b gauss_tanh", &f, &ins);
    c.bench_function("W3b gauss_tanh/native", |b| {
        b.iter(|| {
            for (o, &v) in y.iter_mut().zip(black_box(&x)) {
                *o = (-(v * v)).exp() * 0.5 + v.tanh();
            }
        })
    });

    let f = load("ir/sumsq.gir", "sumsq");
    bench_jit(c, "W4 sumsq", &f, &ins);
    c.bench_function("W4 sumsq/native", |b| {
        b.iter(|| {
            // The documented order: 16 lane-strided partial sums, then a fixed tree.
            let mut acc = [0f32; 16];
            let chunks = black_box(&x).chunks_exact(16);
            let tail = chunks.remainder();
            for ch in chunks {
                for j in 0..16 {
                    acc[j] += ch[j] * ch[j];
                }
            }
            for (j, &v) in tail.iter().enumerate() {
                acc[j] += v * v;
            }
            let s: Vec<f32> = (0..4)
                .map(|j| (acc[j] + acc[j + 4]) + (acc[j + 8] + acc[j + 12]))
                .collect();
            (s[0] + s[1]) + (s[2] + s[3])
        })
    });
}

fn w5(c: &mut Criterion) {
    let f = load("ir/decay.gir", "decay");
    let ins = inputs(&f, &["ones:f32[1024]"]);
    bench_jit(c, "W5 decay", &f, &ins);
    c.bench_function("W5 decay/native", |b| {
        b.iter(|| {
            let mut v = vec![1f32; 1024];
            for _ in 0..black_box(1000) {
                for e in v.iter_mut() {
                    *e = *e * 0.5 + 1.0;
                }
            }
            v
        })
    });
}

fn native_matmul(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    // The documented order: sequential k per output element, vectorizable across j.
    c.fill(0.0);
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            let (row, brow) = (&mut c[i * n..(i + 1) * n], &b[k * n..(k + 1) * n]);
            for (o, &bv) in row.iter_mut().zip(brow) {
                *o += aik * bv;
            }
        }
    }
}

fn w6(c: &mut Criterion) {
    for n in [64usize, 256] {
        let f = load("ir/matmul.gir", &format!("matmul{n}"));
        let ty = format!("f32[{n},{n}]");
        let ins = inputs(&f, &[&format!("rand(1):{ty}"), &format!("rand(2):{ty}")]);
        bench_jit(c, &format!("W6 matmul{n}"), &f, &ins);
        let (a, b) = (f32_slice(&ins[0]).to_vec(), f32_slice(&ins[1]).to_vec());
        let mut out = vec![0f32; n * n];
        c.bench_function(&format!("W6 matmul{n}/native"), |bch| {
            bch.iter(|| native_matmul(black_box(&a), black_box(&b), &mut out, n))
        });
    }
}

/// W8..W10 and cumsum of issue 11: region ops on 2^20 elements against native Rust loops.
fn w8_w10(c: &mut Criterion) {
    let n = 1 << 20;
    let f = load("ir/argmax.gir", "argmax_big");
    let ins = inputs(&f, &["rand:f32[1048576]"]);
    bench_jit(c, "W8 argmax", &f, &ins);
    c.bench_function("W8 argmax/native", |b| {
        let x = f32_slice(&ins[0]);
        b.iter(|| {
            let (mut best, mut at) = (f32::NEG_INFINITY, 0usize);
            for (i, &v) in black_box(x).iter().enumerate() {
                if v > best || (v.is_nan() && !best.is_nan()) {
                    best = v;
                    at = i;
                }
            }
            at
        })
    });

    let f = load("ir/topk.gir", "sort_big");
    let ins = inputs(&f, &["rand:f32[1048576]"]);
    bench_jit(c, "W9 sort", &f, &ins);
    c.bench_function("W9 sort/native", |b| {
        let x = f32_slice(&ins[0]).to_vec();
        b.iter(|| {
            let mut v = x.clone();
            v.sort_unstable_by(f32::total_cmp);
            v
        })
    });

    // W9 with the comparator `jnp.sort` emits: the key is computed by the region.
    let f = load("ir/topk.gir", "sort_big_jnp");
    let ins = inputs(&f, &["rand:f32[1048576]"]);
    bench_jit(c, "W9 sort jnp comparator", &f, &ins);

    // W9 with comparators no fast path knows (issue 11's "compile any other comparator
    // region"): the region compiled into a function the shared merge sort calls, against
    // Rust's stable `sort_by` with the same comparator.
    let f = load("ir/sort_regions.gir", "sort_desc_big");
    let ins = inputs(&f, &["rand:f32[1048576]"]);
    bench_jit(c, "W9 sort gt comparator", &f, &ins);
    c.bench_function("W9 sort gt comparator/native", |b| {
        let x = f32_slice(&ins[0]).to_vec();
        b.iter(|| {
            let mut v = x.clone();
            v.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
            v
        })
    });
    let f = load("ir/sort_regions.gir", "sort_two_keys_big");
    let ins = inputs(&f, &["rand:f32[1048576]", "rand:i32[1048576]"]);
    bench_jit(c, "W9 sort two keys", &f, &ins);
    c.bench_function("W9 sort two keys/native", |b| {
        let x = f32_slice(&ins[0]);
        let y = ins[1].as_slice::<i32>().expect("i32 tensor");
        let pairs: Vec<(f32, i32)> = x.iter().copied().zip(y.iter().copied()).collect();
        b.iter(|| {
            let mut v = pairs.clone();
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            v
        })
    });

    let f = load("ir/histogram.gir", "hist_big");
    let ins = inputs(&f, &["rand:u8[1048576]"]);
    bench_jit(c, "W10 histogram", &f, &ins);
    c.bench_function("W10 histogram/native", |b| {
        let d = ins[0].as_slice::<u8>().expect("u8 tensor");
        b.iter(|| {
            let mut h = [0i32; 256];
            for &k in black_box(d) {
                h[k as usize] += 1;
            }
            h
        })
    });

    let f = load("ir/cumsum.gir", "cumsum_big");
    let ins = inputs(&f, &["rand:f32[1048576]"]);
    bench_jit(c, "cumsum", &f, &ins);
    c.bench_function("cumsum/native", |b| {
        let x = f32_slice(&ins[0]);
        let mut out = vec![0.0f32; n];
        b.iter(|| {
            let mut acc = 0.0f32;
            for (o, &v) in out.iter_mut().zip(black_box(x)) {
                acc += v;
                *o = acc;
            }
        })
    });
}

/// W7 (issue 11): a fori_loop dot product over 2^20 f32 reading `x[i]` and `y[i]` with
/// size-1 `dynamic_slice`s, against the native sequential loop (the same order of additions).
fn w7(c: &mut Criterion) {
    let f = load("ir/fori_dot.gir", "fori_dot");
    let ins = inputs(&f, &["rand(1):f32[1048576]", "rand(2):f32[1048576]"]);
    bench_jit(c, "W7 fori_dot", &f, &ins);
    let (x, y) = (f32_slice(&ins[0]).to_vec(), f32_slice(&ins[1]).to_vec());
    c.bench_function("W7 fori_dot/native", |b| {
        b.iter(|| {
            let (x, y) = (black_box(&x), black_box(&y));
            let mut acc = 0f32;
            for i in 0..x.len() {
                acc += x[i] * y[i];
            }
            acc
        })
    });
}

/// Short measurements: the machine is shared, and the comparisons are side by side.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// W3a's expression on the narrow dtypes of issue 10 (`ir/poly_u8.gir`, `ir/poly_bf16.gir`):
/// `u8` runs in `i8x16` lanes (its division split into lanes), `bf16` one element at a time
/// through `f32`. The native loops compute exactly what the semantics table says.
fn w3_narrow(c: &mut Criterion) {
    let f = load("ir/poly_u8.gir", "poly_u8");
    let ins = inputs(&f, &["rand:u8[1048576]"]);
    bench_jit(c, "W3a-like u8", &f, &ins);
    let x = ins[0].as_slice::<u8>().expect("u8 tensor").to_vec();
    let mut y = vec![0u8; x.len()];
    c.bench_function("W3a-like u8/native", |b| {
        b.iter(|| {
            for (o, &v) in y.iter_mut().zip(black_box(&x)) {
                let t3 = v
                    .wrapping_mul(2)
                    .wrapping_add(1)
                    .wrapping_mul(v)
                    .wrapping_sub(3);
                // x / 0 is the type's MAX.
                *o = t3.checked_div(v.wrapping_add(4)).unwrap_or(u8::MAX);
            }
        })
    });

    let f = load("ir/poly_bf16.gir", "poly_bf16");
    let ins = inputs(&f, &["rand:bf16[1048576]"]);
    bench_jit(c, "W3a-like bf16", &f, &ins);
    let x = ins[0]
        .as_slice::<half::bf16>()
        .expect("bf16 tensor")
        .to_vec();
    let mut y = vec![half::bf16::ZERO; x.len()];
    c.bench_function("W3a-like bf16/native", |b| {
        b.iter(|| {
            // Each op in f32, its result rounded to bf16.
            let r = |v: f32| half::bf16::from_f32(v).to_f32();
            for (o, &v) in y.iter_mut().zip(black_box(&x)) {
                let v = v.to_f32();
                let t3 = r(r(r(r(v * 2.0) + 1.0) * v) - 3.0);
                *o = half::bf16::from_f32(t3 / r(v + 4.0));
            }
        })
    });
}

/// The README's eager counter (issue 15, item 6): every iteration runs three eager ops
/// (`lt`, `+ 2`, `+ 1`) on rank-0 tensors and reads one back. 1,000 iterations a sample;
/// divide the time by 1,000 for the cost of one iteration.
fn eager_counter(c: &mut Criterion) {
    c.bench_function("eager counter(0,1000)", |b| {
        b.iter(|| {
            let mut first = Tensor::scalar(black_box(0i32));
            let mut second = Tensor::scalar(black_box(1000i32));
            while first.lt(&second)?.item::<bool>()? {
                first = (&first + 2)?;
                second = (&second + 1)?;
            }
            Ok::<_, graphjit::Error>((first, second))
        })
    });
}

criterion_group! {
    name = benches;
    config = config();
    targets = w1_w2, w3_w4, w3_narrow, w5, w6, w7, w8_w10, eager_counter
}
criterion_main!(benches);
