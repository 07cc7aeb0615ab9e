#!/usr/bin/env python3
"""Export JAX programs as StableHLO fixtures for graphjit's importer, with inputs, outputs and timings.

Run `python3 tools/jax_fixtures.py`: it creates a virtualenv in `.venv-jax/` (git-ignored),
installs JAX there, re-runs itself inside it, and writes for each program `tests/stablehlo/NAME.mlir`
(what `jax.jit(f).lower(*args).as_text()` prints) and `tests/stablehlo/NAME.io` (inputs and JAX's
outputs, floats as exact bit patterns, plus JAX's lower+compile and run times). The Rust test
`tests/stablehlo.rs` reads them without JAX.

`.io` format, one item a line:
    note TEXT            why a fixture's floats may differ from JAX's, and by how much
    tol ULPS             the largest distance in units in the last place allowed for floats
    in DTYPE SHAPE V...  an input: MLIR dtype, dims joined by 'x' ('-' for a scalar), values
    out DTYPE SHAPE V... an output; floats are hex bit patterns, integers decimal, bools 0/1
    jax_compile_ms X     median of COMPILE_REPS runs of jax.jit(f).lower(*args).compile(), each
                         of a fresh function object so no JAX or XLA cache answers
    jax_run_us X         median of RUN_REPS runs of the compiled program on these inputs, from
                         Python (so it includes JAX's dispatch; the script prints that floor)

`python3 tools/jax_fixtures.py --times-only [NAME...]` re-times JAX without rewriting anything
else: it checks that the `.mlir` text and the `in`/`out` lines it would write are the ones in
the repository (reporting each difference, writing neither) and replaces only the
`jax_compile_ms` and `jax_run_us` lines, so the timings can be refreshed right before
`cargo bench --bench stablehlo` on the same machine.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-jax"
OUT = ROOT / "tests" / "stablehlo"
# Fresh compiles are slow (tens to hundreds of ms), runs fast; medians of odd counts.
COMPILE_REPS = 9
RUN_REPS = 101


def ensure_venv():
    """Re-executes this script inside a virtualenv that has JAX."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", "jax"])
    env = dict(os.environ, JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu")
    sys.exit(subprocess.call([str(py), __file__, *sys.argv[1:]], env=env))


ensure_venv()

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

assert jax.config.jax_enable_x64, "run with JAX_ENABLE_X64=1"

MLIR_DTYPE = {
    "bool": "i1",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "ui8",
    "uint16": "ui16",
    "uint32": "ui32",
    "uint64": "ui64",
    "float16": "f16",
    "bfloat16": "bf16",
    "float32": "f32",
    "float64": "f64",
}
BITS = {"float16": np.uint16, "bfloat16": np.uint16, "float32": np.uint32, "float64": np.uint64}


def encode(a):
    """One tensor as an `.io` line's tail: dtype, shape, values (floats as bit patterns)."""
    a = np.asarray(a)
    name = str(a.dtype)
    shape = "x".join(str(d) for d in a.shape) if a.shape else "-"
    flat = a.reshape(-1)
    if name in BITS:
        vals = [f"0x{int(v):x}" for v in flat.view(BITS[name])]
    elif name == "bool":
        vals = ["1" if v else "0" for v in flat]
    else:
        vals = [str(int(v)) for v in flat]
    return " ".join([MLIR_DTYPE[name], shape, *vals])


def timed(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


PROGRAMS = []


def program(*args, note=None, tol=None, debug_info=False):
    """Registers a JAX function with its example inputs."""

    def wrap(f):
        PROGRAMS.append((f.__name__, f, args, note, tol, debug_info))
        return f

    return wrap


rng = np.random.default_rng(12)
f32v = rng.standard_normal(16).astype(np.float32)
f32m = rng.standard_normal((4, 8)).astype(np.float32)
f64v = rng.standard_normal(16)
i64v = rng.integers(-1000, 1000, 16)
i32v = rng.integers(-1000, 1000, 16).astype(np.int32)

EXP_NOTE = (
    "XLA:CPU evaluates exp/log/tanh with its own polynomial approximations, graphjit with its own"
)
DOT_NOTE = "float matrix products: XLA (Eigen) and graphjit (matrixmultiply) accumulate in different orders and use FMA differently"
FMA_NOTE = (
    "XLA:CPU contracts a*b+c into a fused multiply-add under jit; graphjit rounds the product first"
)
SUM_NOTE = "float sums: XLA and graphjit (16 lane-strided partial sums) add in different orders"


# -- Loops and control flow ------------------------------------------------------------------


@program(np.int64(10))
def counter(n):
    return lax.while_loop(lambda i: i < n, lambda i: i + 1, np.int64(0))


@program(np.int64(7), np.float32(1.5))
def while_tuple(n, x):
    def body(c):
        i, acc, flag = c
        return i + 1, acc * x + 1.0, jnp.logical_not(flag)

    return lax.while_loop(lambda c: c[0] < n, body, (np.int64(0), np.float32(0.0), True))


@program(i64v)
def fori_sum(x):
    return lax.fori_loop(0, x.shape[0], lambda i, s: s + x[i], np.int64(0))


@program(i64v)
def fori_write(x):
    return lax.fori_loop(0, x.shape[0] - 1, lambda i, y: y.at[i + 1].set(y[i] + x[i + 1]), x)


@program(f64v)
def scan_cumsum(x):
    def step(c, v):
        return c + v, c * 2.0

    return lax.scan(step, 0.0, x)


@program(np.int64(5), np.int64(7))
def nested_loops(n, m):
    def outer(i, acc):
        return lax.fori_loop(0, m, lambda j, a: a + i * j + 1, acc)

    return lax.fori_loop(0, n, outer, np.int64(0))


@program(np.int64(27))
def collatz(x):
    def body(c):
        v, k = c
        return jnp.where(v % 2 == 0, v // 2, 3 * v + 1), k + 1

    return lax.while_loop(lambda c: c[0] != 1, body, (x, np.int64(0)))


@program(np.int64(30))
def fibonacci(n):
    return lax.fori_loop(0, n, lambda i, c: (c[1], c[0] + c[1]), (np.int64(0), np.int64(1)))[0]


@program(np.int64(1071), np.int64(462))
def gcd(a, b):
    return lax.while_loop(lambda c: c[1] != 0, lambda c: (c[1], c[0] % c[1]), (a, b))[0]


@program(np.float64(2.0))
def newton_sqrt(a):
    return lax.fori_loop(0, 8, lambda i, x: 0.5 * (x + a / x), a)


@program(f32v)
def cond_sum(x):
    return lax.cond(jnp.sum(x) > 0, lambda v: v * 2.0, lambda v: v - 1.0, x)


@program(np.int64(1), f32v)
def switch3(i, x):
    return lax.switch(i, [lambda v: v, lambda v: v * 3.0, lambda v: -v], x)


@program(np.int64(9), f32v)
def switch_oob(i, x):
    return lax.switch(i, [lambda v: v + 1.0, lambda v: v * 3.0], x)


@program(np.array([0.1, 0.5, -0.3, 0.25], np.float32))
def escape_time(c):
    def body(s):
        z, n, k = s
        z2 = z * z + c
        alive = jnp.abs(z2) < 2.0
        return jnp.where(alive, z2, z), n + alive.astype(jnp.int32), k + 1

    init = (jnp.zeros_like(c), jnp.zeros(c.shape, jnp.int32), np.int64(0))
    return lax.while_loop(lambda s: s[2] < 20, body, init)[1]


# -- Indexing, sorting, scans -----------------------------------------------------------------


@program(f32v)
def argmax(x):
    return jnp.argmax(x)


@program(f32m)
def argmin_rows(x):
    return jnp.argmin(x, axis=1)


@program(f32v)
def sort(x):
    return jnp.sort(x)


@program(i64v)
def argsort(x):
    return jnp.argsort(x)


@program(i64v)
def cumsum(x):
    return jnp.cumsum(x)


@program(f32v)
def cummax(x):
    return lax.cummax(x)


@program(f32v, np.array([3, 0, 15, 7], np.int64))
def take(x, idx):
    return jnp.take(x, idx)


@program(np.zeros(8, np.float32), np.array([1, 3, 1, 7], np.int64), np.ones(4, np.float32))
def at_add(x, idx, v):
    return x.at[idx].add(v)


@program(i64v, np.array([2, 5], np.int64))
def at_set(x, idx):
    return x.at[idx].set(-1)


@program(f32v)
def reverse(x):
    return x[::-1]


@program(f32m)
def slicing(x):
    return x[1:3, ::2], x[:, 5]


@program(f32m, f32m)
def concat_transpose(a, b):
    return jnp.concatenate([a, b], axis=0).T.reshape(16, 4)


# -- Arithmetic and integer idioms ------------------------------------------------------------


@program(i64v, np.int64(7))
def floordiv_mod(x, d):
    return x // d, x % d, x // -d, x % -d


@program(i32v, np.int32(-5))
def floordiv_mod_i32(x, d):
    return x // d, x % d


@program(i64v)
def int_hash(x):
    h = x * np.int64(0x9E3779B97F4A7C15 - (1 << 64))
    h = h ^ (h >> 29)
    h = h * np.int64(0xBF58476D1CE4E5B9 - (1 << 64))
    return h ^ lax.shift_right_logical(h, np.int64(31))


@program(i32v)
def shifts(x):
    return x << 3, x >> 2, lax.shift_right_logical(x, np.int32(4))


@program(i64v)
def int_reductions(x):
    return jnp.sum(x), jnp.prod(x[:5]), jnp.max(x), jnp.min(x)


@program(np.array([True, False, True, True]))
def bool_any_all(b):
    return jnp.any(b), jnp.all(b), jnp.logical_xor(b, b[::-1])


@program(np.int64(3))
def arange_outer(k):
    a = jnp.arange(6)
    return jnp.outer(a, a) + k


@program(f64v, note=FMA_NOTE, tol=4)
def poly_f64(x):
    return ((3.0 * x - 2.0) * x + 0.5) * x - 1.0


@program(f32v, np.float32(-0.5), np.float32(0.5))
def clip(x, lo, hi):
    return jnp.clip(x, lo, hi)


@program(f32v)
def relu_where(x):
    return jnp.maximum(x, 0.0), jnp.where(x > 0.5, x, -x)


@program(f32v)
def round_floor_ceil(x):
    y = x * 3.7
    return jnp.round(y), jnp.floor(y), jnp.ceil(y)


@program(f32v)
def convert_types(x):
    y = x * 100.0
    return y.astype(jnp.int32), y.astype(jnp.int64), (x > 0).astype(jnp.float64)


@program(np.abs(f64v) + 0.5, np.float64(1.7))
def power_f64(x, p):
    return x**p, jnp.sqrt(x)


@program(f32v)
def sign_abs(x):
    return jnp.sign(x), jnp.abs(x)


@program(f32v, note=EXP_NOTE, tol=4)
def transcendental(x):
    return jnp.exp(x), jnp.log(jnp.abs(x) + 1.0), jnp.tanh(x), jnp.sin(x), jnp.cos(x)


# -- Linear algebra and networks --------------------------------------------------------------


@program(f32m, f32m.T.copy(), note=DOT_NOTE, tol=8)
def einsum_matmul(a, b):
    return jnp.einsum("ij,jk->ik", a, b)


@program(rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 5, 2)), note=DOT_NOTE, tol=8)
def einsum_batched(a, b):
    return jnp.einsum("bij,bjk->bik", a, b)


@program(i64v.reshape(4, 4), i64v[:4])
def matvec_int(a, v):
    return a @ v


@program(f32m, note=EXP_NOTE + "; " + SUM_NOTE, tol=8)
def softmax(x):
    return jax.nn.softmax(x, axis=-1)


@program(f32m, note=SUM_NOTE + "; 1/sqrt may be fused into rsqrt by XLA", tol=8)
def layer_norm(x):
    m = jnp.mean(x, axis=-1, keepdims=True)
    v = jnp.mean((x - m) ** 2, axis=-1, keepdims=True)
    return (x - m) / jnp.sqrt(v + 1e-5)


@program(
    f32m,
    rng.standard_normal((8, 16)).astype(np.float32),
    rng.standard_normal(16).astype(np.float32),
    rng.standard_normal((16, 3)).astype(np.float32),
    note=DOT_NOTE + "; " + EXP_NOTE,
    tol=64,
)
def mlp(x, w1, b1, w2):
    return jnp.tanh(jax.nn.relu(x @ w1 + b1) @ w2)


@program(f64v, note=SUM_NOTE, tol=4)
def mean_var(x):
    return jnp.mean(x), jnp.var(x)


# -- jax.random, small dtypes -----------------------------------------------------------------


@program(np.uint32(42))
def threefry(seed):
    return jax.random.bits(jax.random.key(seed), (8,), jnp.uint32)


@program(np.arange(10, dtype=np.uint32) * np.uint32(2654435761))
def hash_u32(x):
    h = x ^ (x >> 16)
    h = h * np.uint32(0x45D9F3B)
    return h ^ (h >> 16)


@program(rng.integers(0, 256, (4, 6)).astype(np.uint8))
def u8_image(img):
    inv = 255 - img
    return inv, (img.astype(jnp.int32).sum(axis=1) // 6).astype(jnp.uint8)


@program(f32v.astype(jnp.bfloat16))
def bf16_scale(x):
    return x * jnp.bfloat16(2.5) + jnp.bfloat16(1.0)


@program(f32v, debug_info=True)
def with_locations(x):
    return jnp.maximum(x * 2.0, x - 1.0)


@jax.jit
def _helper(x):
    return x * x + 1.0


@program(f64v, note=FMA_NOTE, tol=8)
def private_call(x):
    return _helper(x) - _helper(x * 2.0)


def measure(f, args):
    """Medians in seconds: JAX's lower+compile of fresh functions, and a run of the program."""

    def compile_fresh():
        # A new function object each time, so jit's tracing and lowering caches miss.
        jax.jit(lambda *a: f(*a)).lower(*args).compile()

    compiled = jax.jit(f).lower(*args).compile()
    compile_s = timed(compile_fresh, COMPILE_REPS)
    run_s = timed(lambda: jax.block_until_ready(compiled(*args)), RUN_REPS)
    return compile_s, run_s


def time_lines(compile_s, run_s):
    return [f"jax_compile_ms {compile_s * 1e3:.3f}", f"jax_run_us {run_s * 1e6:.3f}"]


def differences(name, text, io_lines):
    """What a full export would change in a fixture's `.mlir` text and `in`/`out` lines."""
    mlir, io = OUT / f"{name}.mlir", OUT / f"{name}.io"
    if not mlir.exists() or not io.exists():
        return ["no recorded fixture"]
    diffs = []
    if mlir.read_text() != text:
        diffs.append(".mlir text differs")
    data = [ln for ln in io_lines if ln.startswith(("in ", "out "))]
    recorded = [ln for ln in io.read_text().splitlines() if ln.startswith(("in ", "out "))]
    if data != recorded:
        diffs.append("inputs or outputs differ")
    return diffs


def retime(name, compile_s, run_s):
    """Replaces (or appends) only the timing lines of a fixture's `.io` file."""
    io = OUT / f"{name}.io"
    keep = [
        ln
        for ln in io.read_text().splitlines()
        if not ln.startswith(("jax_compile_ms ", "jax_run_us "))
    ]
    io.write_text("\n".join(keep + time_lines(compile_s, run_s)) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--times-only",
        action="store_true",
        help="re-time JAX and update only the jax_compile_ms/jax_run_us lines",
    )
    ap.add_argument("names", nargs="*", help="fixtures to export (default: all)")
    opts = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(opts.names)
    changed = []
    for name, f, args, note, tol, debug_info in PROGRAMS:
        if only and name not in only:
            continue
        args = tuple(jnp.asarray(a) for a in args)
        lowered = jax.jit(f).lower(*args)
        text = lowered.as_text(debug_info=debug_info)
        outs = jax.tree_util.tree_leaves(lowered.compile()(*args))
        compile_s, run_s = measure(f, args)
        lines = []
        if note:
            lines.append(f"note {note}")
        if tol is not None:
            lines.append(f"tol {tol}")
        lines += [f"in {encode(a)}" for a in args]
        lines += [f"out {encode(o)}" for o in outs]
        if opts.times_only:
            diffs = differences(name, text, lines)
            if diffs:
                changed.append(f"{name}: {', '.join(diffs)}")
                if diffs == ["no recorded fixture"]:
                    continue
            retime(name, compile_s, run_s)
        else:
            (OUT / f"{name}.mlir").write_text(text)
            (OUT / f"{name}.io").write_text("\n".join(lines + time_lines(compile_s, run_s)) + "\n")
        print(f"{name}: compile {compile_s * 1e3:.1f} ms, run {run_s * 1e6:.1f} us")
    # JAX's run times are measured from Python: its dispatch of a trivial program is a floor
    # under every one of them.
    x = jnp.asarray(np.float32(1.0))
    trivial = jax.jit(lambda v: v + 1.0).lower(x).compile()
    floor_s = timed(lambda: jax.block_until_ready(trivial(x)), RUN_REPS)
    print(f"JAX dispatch floor (jit of x + 1 on an f32 scalar): {floor_s * 1e6:.1f} us")
    if changed:
        print("not rewritten, a full export would change them (JAX " + jax.__version__ + "):")
        print("\n".join("  " + c for c in changed))


if __name__ == "__main__":
    main()
