//! The floor of graphjit's own algorithms at graphjit's vector width: W3b (`exp(-x*x)*0.5 +
//! tanh(x)` over 2^20 `f32`) and W5 (`v = v*0.5 + 1`, 1000 times over 1024 `f32`) written in
//! plain Rust with the same operations in the same order, on 128-bit vectors, and timed
//! against graphjit's compiled code in the same process (issue 15, items 3 and 4).
//!
//! The point: the anchors (numba, native Rust with `-C target-cpu=native`) use 512-bit
//! vectors and FMA, graphjit's Cranelift emits 128-bit vectors and never fuses `a*b+c`. This
//! example is built for the default target, x86-64 baseline (SSE2: 128-bit `xmm` registers, no
//! FMA, no AVX), so LLVM has the same vector width and the same operations Cranelift has, and
//! what remains between the two is code generation. (Cranelift, on a host with AVX, writes the
//! same 128-bit operations in their three-operand VEX form; SSE2's two-operand form costs LLVM
//! some register copies.) The kernels below are `#[inline(never)]`
//! so that `objdump -d` shows them on their own (no `ymm`/`zmm`; `mulps`/`addps` in the 4-lane
//! ones) and callgrind can count them (`--toggle-collect='*native_floor::w3b_lanes4*'`).
//!
//! Every kernel's result is asserted to be the same bits as graphjit's (`ir/gauss_tanh.gir`,
//! `ir/decay.gir`) before anything is timed.
//!
//! Run with `cargo run --release --example native_floor [seconds]`: medians of many calls of
//! each, in interleaved rounds (each round times every kernel for `seconds`, default 0.5).
//! `native_floor once` runs every kernel once and times nothing, for callgrind.
//!
//! LLVM does not inline `vmath`'s generic `exp32`/`tanh32` into the 4-lane loop with the
//! default release settings (three calls per 4 elements, arguments through memory). The build
//! that inlines them, with the same flags for the dependencies, is
//! `cargo rustc --release --example native_floor -- -C codegen-units=1 -C
//! llvm-args=-inline-threshold=5000` (both flags are needed); its binary is then
//! `target/release/examples/native_floor`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use graphjit::ir::parse::parse_module;
use graphjit::jit::{compile, Executable};
use graphjit::ops::scalar::vmath::{self, Machine};
use graphjit::{RunOptions, Tensor};

/// W3b's length.
const N: usize = 1 << 20;
/// W5's length and step count.
const DECAY_LEN: usize = 1024;
const DECAY_STEPS: usize = 1000;

/// Four `f32` lanes: graphjit's `vmath` on `[f32; 4]` and `[i32; 4]`, every operation a
/// lane-wise loop that LLVM turns into one SSE2 instruction (`mulps`, `paddd`, `cmpltps`,
/// ...). A comparison gives a lane mask of all ones or zeros, as the vector instruction does,
/// and `select` is the bitwise blend of the two operands by it.
struct Lanes4;

type F4 = [f32; 4];
type I4 = [i32; 4];

#[inline(always)]
fn map<T: Copy, U>(a: [T; 4], f: impl Fn(T) -> U) -> [U; 4] {
    [f(a[0]), f(a[1]), f(a[2]), f(a[3])]
}

#[inline(always)]
fn zip<T: Copy, U>(a: [T; 4], b: [T; 4], f: impl Fn(T, T) -> U) -> [U; 4] {
    [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])]
}

impl Machine for Lanes4 {
    type F = F4;
    type I = I4;
    type M = I4;
    #[inline(always)]
    fn splat(&mut self, c: f64) -> F4 {
        [c as f32; 4]
    }
    #[inline(always)]
    fn isplat(&mut self, c: i64) -> I4 {
        [c as i32; 4]
    }
    #[inline(always)]
    fn add(&mut self, a: F4, b: F4) -> F4 {
        zip(a, b, |a, b| a + b)
    }
    #[inline(always)]
    fn sub(&mut self, a: F4, b: F4) -> F4 {
        zip(a, b, |a, b| a - b)
    }
    #[inline(always)]
    fn mul(&mut self, a: F4, b: F4) -> F4 {
        zip(a, b, |a, b| a * b)
    }
    #[inline(always)]
    fn div(&mut self, a: F4, b: F4) -> F4 {
        zip(a, b, |a, b| a / b)
    }
    #[inline(always)]
    fn abs(&mut self, a: F4) -> F4 {
        map(a, f32::abs)
    }
    #[inline(always)]
    fn bits_of(&mut self, a: F4) -> I4 {
        map(a, |a| a.to_bits() as i32)
    }
    #[inline(always)]
    fn float_of_bits(&mut self, a: I4) -> F4 {
        map(a, |a| f32::from_bits(a as u32))
    }
    #[inline(always)]
    fn iadd(&mut self, a: I4, b: I4) -> I4 {
        zip(a, b, i32::wrapping_add)
    }
    #[inline(always)]
    fn isub(&mut self, a: I4, b: I4) -> I4 {
        zip(a, b, i32::wrapping_sub)
    }
    #[inline(always)]
    fn band(&mut self, a: I4, b: I4) -> I4 {
        zip(a, b, |a, b| a & b)
    }
    #[inline(always)]
    fn bor(&mut self, a: I4, b: I4) -> I4 {
        zip(a, b, |a, b| a | b)
    }
    #[inline(always)]
    fn shl(&mut self, a: I4, s: u8) -> I4 {
        map(a, |a| a.wrapping_shl(s as u32))
    }
    #[inline(always)]
    fn sshr(&mut self, a: I4, s: u8) -> I4 {
        map(a, |a| a.wrapping_shr(s as u32))
    }
    #[inline(always)]
    fn lt(&mut self, a: F4, b: F4) -> I4 {
        zip(a, b, |a, b| -i32::from(a < b))
    }
    #[inline(always)]
    fn select(&mut self, m: I4, x: F4, y: F4) -> F4 {
        let xb = self.bits_of(x);
        let yb = self.bits_of(y);
        let blend = |i: usize| (m[i] & xb[i]) | (!m[i] & yb[i]);
        let r = [blend(0), blend(1), blend(2), blend(3)];
        self.float_of_bits(r)
    }
}

/// W3b's expression on four lanes, in `ir/gauss_tanh.gir`'s order: `mul`, `neg`, `exp`,
/// `mul` by 0.5, `tanh`, `add`.
#[inline(always)]
fn gauss_tanh4(x: F4) -> F4 {
    let m = &mut Lanes4;
    let sq = m.mul(x, x);
    let nsq = map(sq, neg);
    let e = vmath::exp32(m, nsq);
    let half = m.splat(0.5);
    let g = m.mul(e, half);
    let t = vmath::tanh32(m, x);
    m.add(g, t)
}

/// W3b on 128-bit vectors: four elements per iteration.
#[inline(never)]
fn w3b_lanes4(x: &[f32], y: &mut [f32]) {
    for (y, x) in y.chunks_exact_mut(4).zip(x.chunks_exact(4)) {
        let r = gauss_tanh4([x[0], x[1], x[2], x[3]]);
        y.copy_from_slice(&r);
    }
}

/// W3b on one lane: the interpreter's scalar `exp`/`tanh` (the same algorithm on one `f32`).
/// Each element goes through a call LLVM may not inline (`#[inline(never)]`), so the loop
/// cannot be vectorized behind our back and this stays a one-lane figure.
#[inline(never)]
fn w3b_lanes1(x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = gauss_tanh1(x);
    }
}

#[inline(never)]
fn gauss_tanh1(x: f32) -> f32 {
    vmath::exp_f32(neg(x * x)) * 0.5 + vmath::tanh_f32(x)
}

/// `neg` as graphjit computes it, a flip of the sign bit: written as `-(x * x)`, LLVM may
/// compute `x * -x` instead, which for a signalling NaN `x` gives a NaN of the other sign
/// (x86 returns the first operand's NaN).
#[inline(always)]
fn neg(x: f32) -> f32 {
    f32::from_bits(x.to_bits() ^ 0x8000_0000)
}

/// W5 as written: the `while` outside, one pass over the 1024 elements in memory per step.
#[inline(never)]
fn w5_outer(v: &mut [f32]) {
    for _ in 0..DECAY_STEPS {
        for x in v.iter_mut() {
            *x = *x * 0.5 + 1.0;
        }
    }
}

/// W5 interchanged: `C` elements (`C / 4` vectors) kept in registers for all 1000 steps (x86-64
/// has 16 `xmm` registers: up to 64 elements fit beside the two constants, with a few spills;
/// 16 elements are too few independent chains to hide the latency of `mulps` and `addps`).
#[inline(never)]
fn w5_interchanged<const C: usize>(v: &mut [f32]) {
    for chunk in v.chunks_exact_mut(C) {
        let mut r = [0f32; C];
        r.copy_from_slice(chunk);
        for _ in 0..DECAY_STEPS {
            for x in r.iter_mut() {
                *x = *x * 0.5 + 1.0;
            }
        }
        chunk.copy_from_slice(&r);
    }
}

/// Runs `f` repeatedly for `budget` (at least 20 times) and returns the median time of one
/// call, in µs.
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..5 {
        f();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while start.elapsed() < budget || times.len() < 20 {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    median(times)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The core's clock in GHz, estimated from a chain of dependent 64-bit `imul`s (3 cycles each
/// on Intel and AMD cores since 2008): the median of many short samples, so that a sample
/// the scheduler interrupted does not count. Turns the medians into cycles.
#[cfg(target_arch = "x86_64")]
fn clock_ghz() -> f64 {
    const ITERS: u64 = 10_000;
    let mut times = Vec::new();
    for _ in 0..2000 {
        let t = Instant::now();
        // SAFETY: register arithmetic only; no memory, stack or flags the compiler relies on.
        unsafe {
            std::arch::asm!(
                "2:",
                "imul {x}, {x}", "imul {x}, {x}", "imul {x}, {x}", "imul {x}, {x}",
                "imul {x}, {x}", "imul {x}, {x}", "imul {x}, {x}", "imul {x}, {x}",
                "imul {x}, {x}", "imul {x}, {x}",
                "dec {n}",
                "jnz 2b",
                x = inout(reg) 3u64 => _,
                n = inout(reg) ITERS => _,
                options(nomem, nostack),
            );
        }
        times.push(t.elapsed().as_secs_f64());
    }
    (ITERS * 30) as f64 / median(times) / 1e9
}

#[cfg(not(target_arch = "x86_64"))]
fn clock_ghz() -> f64 {
    f64::NAN
}

/// Compiles `@func` of `ir/file`.
fn compiled(file: &str, func: &str) -> Executable {
    let path = format!("{}/ir/{file}", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).expect("the .gir file");
    let m = parse_module(&src).expect("parse");
    compile(m.func(func).expect("the function")).expect("compile")
}

/// The first element where `a` and `b` differ in bits, as a message; with `any_nan`, two
/// NaNs count as the same whatever their sign and payload.
fn first_difference(a: &[f32], b: &[f32], any_nan: bool) -> Option<String> {
    assert_eq!(a.len(), b.len());
    let same = |x: f32, y: f32| x.to_bits() == y.to_bits() || (any_nan && x.is_nan() && y.is_nan());
    a.iter().zip(b).position(|(&x, &y)| !same(x, y)).map(|i| {
        format!(
            "element {i}: {:e} ({:#010x}) against {:e} ({:#010x})",
            a[i],
            a[i].to_bits(),
            b[i],
            b[i].to_bits()
        )
    })
}

/// Runs `exe` on one input on one thread and returns its `f32` result.
fn graphjit_result(exe: &Executable, x: &[f32], opts: &RunOptions) -> Vec<f32> {
    let t = Tensor::from_vec(x.to_vec(), [x.len()]).expect("tensor");
    let out = exe.run_with(&[t], opts).expect("run");
    out[0].as_slice::<f32>().expect("f32").to_vec()
}

fn main() {
    let arg = std::env::args().nth(1);
    let once = arg.as_deref() == Some("once");
    let secs: f64 = arg.and_then(|s| s.parse().ok()).unwrap_or(0.5);
    let budget = Duration::from_secs_f64(secs);
    let one = RunOptions::new().with_threads(1);

    let gauss = compiled("gauss_tanh.gir", "gauss_tanh");
    let decay = compiled("decay.gir", "decay");
    // The inputs of the benchmarks (`graphjit bench ... rand:f32[1048576]`, `rand(3):f32[1024]`).
    let ty = |n: usize| graphjit::TensorType::new(graphjit::DType::F32, [n]);
    let x = graphjit::args::parse_value("rand:f32[1048576]", &ty(N)).expect("x");
    let x: Vec<f32> = x.as_slice::<f32>().expect("f32").to_vec();
    let v0 = graphjit::args::parse_value("rand(3):f32[1024]", &ty(DECAY_LEN)).expect("v0");
    let v0: Vec<f32> = v0.as_slice::<f32>().expect("f32").to_vec();
    let mut y = vec![0f32; N];

    if once {
        // One call of each, nothing else, for `valgrind --tool=callgrind --collect-atstart=no
        // --toggle-collect='*KERNEL*'`.
        w3b_lanes4(&x, &mut y);
        w3b_lanes1(&x, &mut y);
        black_box(graphjit_result(&gauss, &x, &one));
        let mut v = v0.clone();
        w5_outer(&mut v);
        let mut v = v0.clone();
        w5_interchanged::<64>(&mut v);
        black_box(graphjit_result(&decay, &v0, &one));
        return;
    }

    // Same bits as graphjit, on the benchmark's input and on a sweep of bit patterns that
    // reaches every exponent, both signs, infinities, NaNs and subnormals.
    let sweep: Vec<f32> = (0..N as u32)
        .map(|i| f32::from_bits(i.wrapping_mul(4099)))
        .collect();
    for (name, input) in [("rand", &x), ("sweep", &sweep)] {
        let want = graphjit_result(&gauss, input, &one);
        // The same bits except which NaN a NaN result is: Rust does not specify NaN bits, and
        // LLVM treats `fadd` as commutative, so it may compute the last `add` as `t + g`; x86
        // returns the first operand's NaN, so when both are NaNs of different signs (from a
        // signalling NaN input) the sign differs. Seen on one lane with the default build and
        // on four lanes with more inlining; not seen on non-NaN results.
        w3b_lanes4(input, &mut y);
        if let Some(d) = first_difference(&y, &want, true) {
            panic!("W3b 4 lanes differs from graphjit on {name}: {d}");
        }
        w3b_lanes1(input, &mut y);
        if let Some(d) = first_difference(&y, &want, true) {
            panic!("W3b 1 lane differs from graphjit on {name}: {d}");
        }
    }
    let want = graphjit_result(&decay, &v0, &one);
    let mut v = v0.clone();
    w5_outer(&mut v);
    assert!(
        first_difference(&v, &want, false).is_none(),
        "W5 outer differs"
    );
    for c in [16, 32, 64, 128] {
        let mut v = v0.clone();
        match c {
            16 => w5_interchanged::<16>(&mut v),
            32 => w5_interchanged::<32>(&mut v),
            64 => w5_interchanged::<64>(&mut v),
            _ => w5_interchanged::<128>(&mut v),
        }
        if let Some(d) = first_difference(&v, &want, false) {
            panic!("W5 interchanged by {c} differs: {d}");
        }
    }
    // From `rand(3)` the sequence has reached its fixed point 2 long before step 1000; the
    // timed runs start from the input every time, so they do the same arithmetic as graphjit.
    println!(
        "bits: every native kernel gives graphjit's results (W3b on rand and on a sweep of 2^20 \
         bit patterns, which NaN a NaN result is aside; W5 on rand(3))"
    );

    let x_t = Tensor::from_vec(x.clone(), [N]).expect("tensor");
    let v_t = Tensor::from_vec(v0.clone(), [DECAY_LEN]).expect("tensor");
    let mut gauss_out = vec![Tensor::zeros(&ty(N))];
    let mut decay_out = vec![Tensor::zeros(&ty(DECAY_LEN))];
    let mut v = v0.clone();
    let names = [
        "W3b native 4 lanes",
        "W3b native 1 lane",
        "W3b graphjit",
        "W5 native while outside",
        "W5 native interchanged, 32",
        "W5 native interchanged, 64",
        "W5 native interchanged, 16",
        "W5 native interchanged, 128",
        "W5 graphjit",
    ];
    let mut all: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for round in 1..=5 {
        let row = [
            measure(budget, || w3b_lanes4(black_box(&x), &mut y)),
            measure(budget, || w3b_lanes1(black_box(&x), &mut y)),
            measure(budget, || {
                gauss
                    .run_into_with(black_box(std::slice::from_ref(&x_t)), &mut gauss_out, &one)
                    .expect("run")
            }),
            measure(budget, || {
                v.copy_from_slice(&v0);
                w5_outer(black_box(&mut v));
            }),
            measure(budget, || {
                v.copy_from_slice(&v0);
                w5_interchanged::<32>(black_box(&mut v));
            }),
            measure(budget, || {
                v.copy_from_slice(&v0);
                w5_interchanged::<64>(black_box(&mut v));
            }),
            measure(budget, || {
                v.copy_from_slice(&v0);
                w5_interchanged::<16>(black_box(&mut v));
            }),
            measure(budget, || {
                v.copy_from_slice(&v0);
                w5_interchanged::<128>(black_box(&mut v));
            }),
            measure(budget, || {
                decay
                    .run_into_with(black_box(std::slice::from_ref(&v_t)), &mut decay_out, &one)
                    .expect("run")
            }),
        ];
        let line: Vec<String> = names
            .iter()
            .zip(&row)
            .map(|(n, t)| format!("{n} {t:.1}"))
            .collect();
        println!("round {round} (µs): {}", line.join(", "));
        for (a, t) in all.iter_mut().zip(row) {
            a.push(t);
        }
    }
    let ghz = clock_ghz();
    println!("median of the rounds' medians (clock about {ghz:.2} GHz):");
    for (n, a) in names.iter().zip(all) {
        let t = median(a);
        // W3b's unit of work is an element, W5's an element and step.
        let (units, unit) = if n.starts_with("W3b") {
            (N, "element")
        } else {
            (DECAY_LEN * DECAY_STEPS, "element-step")
        };
        let cycles = t * 1e3 * ghz / units as f64;
        println!("  {n:28} {t:9.1} µs  {cycles:6.3} cycles per {unit}");
    }
}
