"""Measures the Python speed figures of benches/RESULTS.md: call overhead of a cached compiled
function on two scalars, run_into with preallocated outputs, W3a (ir/poly.gir, 2^20 f32) from
Python against the same run timed inside Rust, and tracing + compiling the counter with jit.

Run (after `pip install ./python`, a release build): python python/benches/bench_python.py"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

import graphjit

ROOT = Path(__file__).resolve().parents[2]


def per_call(fn, n: int, repeats: int = 7) -> float:
    """Median over `repeats` of the mean time of `n` calls, in seconds."""
    means = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        means.append((time.perf_counter() - t) / n)
    return statistics.median(means)


def main() -> None:
    add = graphjit.load(
        "func @add(%a: i32, %b: i32) -> i32 {\n %c = add %a, %b : i32\n return %c\n}"
    )["add"]
    a, b = np.int32(1), np.int32(2)
    arr_a, arr_b = np.array(1, np.int32), np.array(2, np.int32)
    add(a, b)
    call = per_call(lambda: add(arr_a, arr_b), 20000)
    out = np.zeros((), np.int32)
    into = per_call(lambda: add.run_into((arr_a, arr_b), (out,)), 20000)

    poly = graphjit.load(ROOT / "ir" / "poly.gir")["poly"]
    x = np.random.default_rng(0).random(1 << 20, dtype=np.float32)
    y = np.empty_like(x)
    poly(x)
    w3a_call = per_call(lambda: poly(x), 50)
    w3a_into = per_call(lambda: poly.run_into((x,), (y,)), 50)
    rust = poly.bench(x, seconds=1.0)["compiled_median_seconds"]

    compile_times = []
    for i in range(20):

        def counter(first, second):
            return graphjit.while_loop(
                lambda v: v[0] < v[1], lambda v: (v[0] + 2, v[1] + 1), (first, second)
            )

        # A distinct name per round makes each compilation a cache miss.
        f = graphjit.jit(counter, name=f"counter{i}")
        t = time.perf_counter()
        f(a, b)
        compile_times.append(time.perf_counter() - t)

    print("| figure | value |")
    print("| --- | --- |")
    print(f"| call, cached compiled function, two scalar arrays | {call * 1e6:.2f} us |")
    print(f"| run_into, preallocated output, two scalars | {into * 1e6:.2f} us |")
    print(f"| W3a from Python, fn(x) (allocates the result) | {w3a_call * 1e3:.3f} ms |")
    print(f"| W3a from Python, run_into | {w3a_into * 1e3:.3f} ms |")
    print(f"| W3a inside Rust (Executable::run, Function.bench) | {rust * 1e3:.3f} ms |")
    print(
        f"| jit trace + compile of the counter (median of 20) | {statistics.median(compile_times) * 1e3:.2f} ms |"
    )


if __name__ == "__main__":
    main()
