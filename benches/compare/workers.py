"""The workloads W1-W10 of benches/RESULTS.md written for JAX and for numba, timed in this
process; `compare.py` runs this file once per framework and thread setting (the thread knobs
are environment variables, read when JAX and numba load) and reads the JSON it prints.

Usage: python workers.py jax|numba --threads one|all --seconds S [--only W3a,W4]"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

N = 1 << 20


def inputs() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return {
        "x": rng.random(N, dtype=np.float32),
        "y": rng.random(N, dtype=np.float32),
        "v": rng.random(1024, dtype=np.float32),
        "a": rng.random((256, 256), dtype=np.float32),
        "b": rng.random((256, 256), dtype=np.float32),
        "d": rng.integers(0, 100, N).astype(np.uint8),
    }


def measure(fn: Callable[[], Any], seconds: float) -> float:
    """Median seconds per call: calls are timed in batches of at least ~1 ms each (so that
    a call of nanoseconds is not swamped by the clock), for `seconds` in all."""
    fn()
    batch, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        t = time.perf_counter() - t0
        if t >= 1e-3 or batch >= 1 << 20:
            break
        batch *= 4
    samples = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(samples) < 5:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t0) / batch)
    return statistics.median(samples)


def jax_workloads(data: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    import jax
    import jax.numpy as jnp
    from jax import lax

    def counter(a: Any, b: Any) -> Any:
        return lax.while_loop(lambda v: v[0] < v[1], lambda v: (v[0] + 2, v[1] + 1), (a, b))

    def decay(v: Any) -> Any:
        return lax.fori_loop(0, 1000, lambda i, x: x * 0.5 + 1.0, v)

    def fori_dot(x: Any, y: Any) -> Any:
        return lax.fori_loop(0, x.shape[0], lambda i, acc: acc + x[i] * y[i], jnp.float32(0))

    def hist(d: Any) -> Any:
        return jnp.zeros(256, jnp.int32).at[d].add(1)

    put = {k: jax.device_put(v) for k, v in data.items()}
    a0, a10, a1e7 = jnp.int32(0), jnp.int32(10), jnp.int32(10_000_000)
    fns = {
        "W1": (jax.jit(counter), (a0, a10)),
        "W2": (jax.jit(counter), (a0, a1e7)),
        "W3a": (jax.jit(lambda x: ((x * 2 + 1) * x - 3) / (x + 4)), (put["x"],)),
        "W3b": (jax.jit(lambda x: jnp.exp(-x * x) * 0.5 + jnp.tanh(x)), (put["x"],)),
        "W4": (jax.jit(lambda x: jnp.sum(x * x)), (put["x"],)),
        "W5": (jax.jit(decay), (put["v"],)),
        "W6": (jax.jit(jnp.matmul), (put["a"], put["b"])),
        "W7": (jax.jit(fori_dot), (put["x"], put["y"])),
        "W8": (jax.jit(jnp.argmax), (put["x"],)),
        "W9": (jax.jit(jnp.sort), (put["x"],)),
        "W10": (jax.jit(hist), (put["d"],)),
    }
    return {
        k: (lambda f=f, args=args: jax.block_until_ready(f(*args))) for k, (f, args) in fns.items()
    }


def numba_workloads(data: dict[str, Any], parallel: bool) -> dict[str, Callable[[], Any]]:
    import numba
    from numba import njit, prange

    @njit(cache=False)
    def counter(a: int, b: int) -> tuple:
        while a < b:
            a += 2
            b += 1
        return a, b

    # The elementwise workloads and the reduction use prange with all cores (numba's
    # parallel=True); one thread runs the same code through NUMBA_NUM_THREADS=1.
    @njit(parallel=parallel)
    def poly(x: Any) -> Any:
        out = np.empty_like(x)
        for i in prange(x.shape[0]):
            v = x[i]
            out[i] = ((v * np.float32(2) + np.float32(1)) * v - np.float32(3)) / (v + np.float32(4))
        return out

    @njit(parallel=parallel)
    def gauss_tanh(x: Any) -> Any:
        out = np.empty_like(x)
        for i in prange(x.shape[0]):
            v = x[i]
            out[i] = np.exp(-v * v) * np.float32(0.5) + np.tanh(v)
        return out

    # Reassociation lets LLVM vectorize the sum, as graphjit's fixed 16-lane order does.
    @njit(parallel=parallel, fastmath={"reassoc"})
    def sumsq(x: Any) -> Any:
        acc = np.float32(0)
        for i in prange(x.shape[0]):
            acc += x[i] * x[i]
        return acc

    @njit
    def decay(v: Any) -> Any:
        x = v.copy()
        for _ in range(1000):
            for i in range(x.shape[0]):
                x[i] = x[i] * np.float32(0.5) + np.float32(1)
        return x

    @njit(parallel=parallel)
    def matmul(a: Any, b: Any) -> Any:
        return a @ b

    @njit
    def fori_dot(x: Any, y: Any) -> Any:
        acc = np.float32(0)
        for i in range(x.shape[0]):
            acc += x[i] * y[i]
        return acc

    @njit
    def argmax(x: Any) -> Any:
        return np.argmax(x)

    @njit
    def sort(x: Any) -> Any:
        return np.sort(x)

    @njit
    def hist(d: Any) -> Any:
        h = np.zeros(256, np.int32)
        for v in d:
            h[v] += 1
        return h

    x, y, v, a, b, d = (data[k] for k in "xyvabd")
    fns = {
        "W1": lambda: counter(0, 10),
        "W2": lambda: counter(0, 10_000_000),
        "W3a": lambda: poly(x),
        "W3b": lambda: gauss_tanh(x),
        "W4": lambda: sumsq(x),
        "W5": lambda: decay(v),
        "W6": lambda: matmul(a, b),
        "W7": lambda: fori_dot(x, y),
        "W8": lambda: argmax(x),
        "W9": lambda: sort(x),
        "W10": lambda: hist(d),
    }
    _ = numba.config.NUMBA_NUM_THREADS
    return fns


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("framework", choices=["jax", "numba"])
    p.add_argument("--threads", choices=["one", "all"], default="one")
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--only", default="")
    args = p.parse_args()
    data = inputs()
    if args.framework == "jax":
        fns = jax_workloads(data)
    else:
        fns = numba_workloads(data, parallel=args.threads == "all")
    only = set(filter(None, args.only.split(",")))
    out = {}
    for name, fn in fns.items():
        if only and name not in only:
            continue
        out[name] = measure(fn, args.seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
