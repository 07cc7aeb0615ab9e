//! Compile time against tensor size and program size (issue 15, item 2): poly (W3a) at 2^10
//! and 2^24 elements, a chain of 10,000 elementwise ops, the same chain inside a `while` body,
//! and a function with a `while` compiled and then run once under a limit (the limit-checked
//! variant is compiled on that first limited run).
//!
//! `cargo bench --bench compile`. Targets: poly at 2^24 under 0.5 ms and within 2x of 2^10;
//! the chain under 30 ms; the `while` chain no dearer per op than the straight one.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use graphjit::ir::parse::parse_function;
use graphjit::ir::Function;
use graphjit::jit::compile;

/// W3a's `poly` over `n` elements (`ir/poly.gir` with another size).
fn poly(n: usize) -> Function {
    let t = format!("f32[{n}]");
    let mut s = format!("func @poly(%x: {t}) -> {t} {{\n");
    for c in [2, 1, 3, 4] {
        s += &format!("  %c{c} = const {c} : f32\n  %b{c} = broadcast %c{c} dims=[] : {t}\n");
    }
    for line in [
        "%t0 = mul %x, %b2",
        "%t1 = add %t0, %b1",
        "%t2 = mul %t1, %x",
        "%t3 = sub %t2, %b3",
        "%t4 = add %x, %b4",
        "%y = div %t3, %t4",
    ] {
        s += &format!("  {line} : {t}\n");
    }
    s += "  return %y\n}\n";
    parse_function(&s).expect("poly parses")
}

/// `ops` alternating `add` and `mul` of a broadcast constant, one after the other, over
/// `f32[64]`: straight-line code, or the body of a `while` of three iterations.
fn chain(ops: usize, in_loop: bool) -> Function {
    let t = "f32[64]";
    let mut s = format!("func @chain(%x: {t}) -> {t} {{\n  %c = const 1.5 : f32\n");
    s += &format!("  %b = broadcast %c dims=[] : {t}\n");
    let mut prev = if in_loop { "%v" } else { "%x" }.to_string();
    let mut body = String::new();
    for i in 0..ops {
        let op = if i % 2 == 0 { "add" } else { "mul" };
        body += &format!("  %v{i} = {op} {prev}, %b : {t}\n");
        prev = format!("%v{i}");
    }
    if in_loop {
        s += "  %zero = const 0 : i32\n  %one = const 1 : i32\n  %n = const 3 : i32\n";
        s += &format!("  %k, %y = while (%i = %zero, %v = %x) : i32, {t} {{\n");
        s += "    %more = lt %i, %n : bool\n    yield %more\n  } do {\n";
        s += &body;
        s += &format!("    %i2 = add %i, %one : i32\n    yield %i2, {prev}\n  }}\n");
        s += "  return %y\n}\n";
    } else {
        s += &body;
        s += &format!("  return {prev}\n}}\n");
    }
    parse_function(&s).expect("chain parses")
}

fn compile_time(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    for log2 in [10, 24] {
        let f = poly(1 << log2);
        g.bench_function(format!("poly 2^{log2}"), |b| {
            b.iter(|| compile(black_box(&f)).expect("compile"))
        });
    }
    for (label, in_loop) in [("chain 10000", false), ("while chain 10000", true)] {
        let f = chain(10_000, in_loop);
        g.bench_function(label, |b| {
            b.iter(|| compile(black_box(&f)).expect("compile"))
        });
    }
    g.finish();
}

/// Long programs take tens of milliseconds to compile: fewer samples.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = compile_time
}
criterion_main!(benches);
