"""Runs W1-W10 in graphjit (compiled and interpreted), JAX, numba and native Rust on this
machine, once pinned to one core with every thread knob at 1 and once with all cores, and
writes benches/COMPARISON.md (medians and ratios from that one run, the machine, the versions)
and benches/compare/comparison.svg (the ratios as a bar chart).

JAX, numba and matplotlib go into a virtualenv of their own (benches/compare/.venv, made on
first use; CI does not need any of this):

    python3 benches/compare/compare.py            # all workloads, 1 s of timing each
    python3 benches/compare/compare.py --seconds 0.3 --only W3a,W4
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"

# name, what, IR file, function, graphjit arguments, native Rust benchmark (benches/workloads.rs)
WORKLOADS = [
    ("W1", "counter(0, 10), per call", "counter.gir", "counter", ["0", "10"], None),
    ("W2", "counter(0, 10^7)", "counter.gir", "counter", ["0", "10000000"], "W2 "),
    ("W3a", "((x*2+1)*x-3)/(x+4), 2^20 f32", "poly.gir", "poly", ["rand:f32[1048576]"], "W3a "),
    (
        "W3b",
        "exp(-x*x)*0.5+tanh(x), 2^20 f32",
        "gauss_tanh.gir",
        "gauss_tanh",
        ["rand:f32[1048576]"],
        "W3b ",
    ),
    ("W4", "sum(x*x), 2^20 f32", "sumsq.gir", "sumsq", ["rand:f32[1048576]"], "W4 "),
    ("W5", "x*0.5+1 1000 times, 1024 f32", "decay.gir", "decay", ["rand:f32[1024]"], "W5 "),
    (
        "W6",
        "matmul 256x256 f32",
        "matmul.gir",
        "matmul256",
        ["rand:f32[256,256]", "rand(1):f32[256,256]"],
        "W6 matmul256",
    ),
    (
        "W7",
        "fori_loop dot of x[i]*y[i], 2^20 f32",
        "fori_dot.gir",
        "fori_dot",
        ["rand:f32[1048576]", "rand(1):f32[1048576]"],
        "W7 ",
    ),
    ("W8", "argmax, 2^20 f32", "argmax.gir", "argmax_big", ["rand:f32[1048576]"], "W8 "),
    ("W9", "sort, 2^20 f32", "topk.gir", "sort_big", ["rand:f32[1048576]"], "W9 sort/"),
    (
        "W10",
        "histogram zeros(256).at[u8].add(1), 2^20",
        "histogram.gir",
        "hist_big",
        ["rand:u8[1048576]"],
        "W10 ",
    ),
]

ONE_THREAD_ENV = {
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
}


def in_venv() -> bool:
    try:
        import jax  # noqa: F401
        import matplotlib  # noqa: F401
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def ensure_venv() -> None:
    """Re-runs this script in the comparison virtualenv, making it first if needed."""
    if in_venv():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"making {VENV} (JAX, numba, matplotlib)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def pinned(cmd: list[str], one: bool) -> list[str]:
    return (["taskset", "-c", "0"] if one and shutil.which("taskset") else []) + cmd


def run_json(cmd: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def graphjit(binary: Path, one: bool, seconds: float, only: set[str]) -> dict:
    threads = (
        "--threads"
        in subprocess.run([str(binary), "bench", "--help"], capture_output=True, text=True).stdout
    )
    env = dict(os.environ, **(ONE_THREAD_ENV if one else {}))
    res = {}
    for name, _, file, func, args, _ in WORKLOADS:
        if only and name not in only:
            continue
        cmd = [str(binary), "bench", "--json", "--seconds", str(seconds)]
        if threads:
            cmd += ["--threads", "1" if one else str(os.cpu_count() or 1)]
        cmd += [f"ir/{file}", "--func", func, *args]
        r = run_json(pinned(cmd, one), env)
        res[name] = (r["jit_median_ns"] * 1e-9, r["interp_median_ns"] * 1e-9)
        print(f"  graphjit {name}: {res[name][0] * 1e3:.3f} ms", file=sys.stderr)
    return res


def framework(name: str, one: bool, seconds: float, only: set[str]) -> dict:
    env = dict(os.environ, **(ONE_THREAD_ENV if one else {}), JAX_PLATFORMS="cpu")
    cmd = [sys.executable, str(HERE / "workers.py"), name, "--threads", "one" if one else "all"]
    cmd += ["--seconds", str(seconds), "--only", ",".join(sorted(only))]
    r = run_json(pinned(cmd, one), env)
    print(f"  {name}: {len(r)} workloads", file=sys.stderr)
    return r


def native(only: set[str]) -> dict:
    """Medians of the native Rust loops of benches/workloads.rs (one thread), in seconds."""
    cmd = ["cargo", "bench", "--bench", "workloads", "--", "--output-format", "bencher", "/native"]
    out = subprocess.run(pinned(cmd, True), capture_output=True, text=True, cwd=ROOT)
    times = {}
    for line in out.stdout.splitlines():
        m = re.match(r"test (.+?) \.\.\. bench:\s+([\d,.]+) ns/iter", line)
        if m:
            times[m.group(1)] = float(m.group(2).replace(",", "")) * 1e-9
    res = {}
    for name, *_, prefix in WORKLOADS:
        if prefix is None or (only and name not in only):
            continue
        hits = [t for k, t in times.items() if k.startswith(prefix) and k.endswith("/native")]
        if hits:
            res[name] = hits[0]
    return res


def fmt(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def machine() -> str:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        flags = Path("/proc/cpuinfo").read_text()
        simd = ", ".join(f for f in ("avx2", "avx512f", "fma") if f" {f}" in flags)
    except OSError:
        simd = "?"
    return f"{model}, {os.cpu_count()} cores ({simd})"


def versions() -> str:
    import jax
    import numba
    import numpy

    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return (
        f"graphjit {commit} ({rustc}), JAX {jax.__version__}, numba {numba.__version__}, "
        f"NumPy {numpy.__version__}, Python {platform.python_version()}"
    )


def table(mode: str, g: dict, jx: dict, nb: dict, nat: dict) -> list[str]:
    lines = [
        f"### {mode}",
        "",
        "| workload | graphjit compiled | graphjit interpreted | JAX jit | numba | native Rust "
        "| JAX / graphjit | numba / graphjit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, what, *_ in WORKLOADS:
        if name not in g:
            continue
        c, i = g[name]
        j, n, r = jx.get(name), nb.get(name), nat.get(name)

        def ratio(o: float | None, c: float = c) -> str:
            return f"{o / c:.2f}x" if o else "-"

        lines.append(
            f"| {name} {what} | {fmt(c)} | {fmt(i)} | {fmt(j)} | {fmt(n)} | {fmt(r)} "
            f"| {ratio(j)} | {ratio(n)} |"
        )
    return lines + [""]


def chart(results: dict, path: Path) -> None:
    """Bars of other / graphjit compiled per workload (above 1: graphjit is faster)."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 1, figsize=(10, 4 * len(results)), squeeze=False)
    for ax, (mode, (g, jx, nb, nat)) in zip(axes[:, 0], results.items()):
        names = [w[0] for w in WORKLOADS if w[0] in g]
        series = [("JAX", jx), ("numba", nb), ("native Rust", nat)]
        width = 0.8 / len(series)
        for k, (label, d) in enumerate(series):
            xs = [i + (k - 1) * width for i in range(len(names))]
            ys = [d[n] / g[n][0] if d.get(n) else 0 for n in names]
            ax.bar(xs, ys, width, label=label)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel("time / graphjit compiled")
        ax.set_title(f"{mode}: above 1, graphjit is faster")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=1.0, help="timing per measurement")
    p.add_argument("--only", default="", help="comma-separated workloads, e.g. W3a,W4")
    p.add_argument("--out", default=str(ROOT / "benches" / "COMPARISON.md"))
    p.add_argument("--svg", default=str(HERE / "comparison.svg"))
    p.add_argument("--no-native", action="store_true", help="skip the cargo bench native loops")
    args = p.parse_args()
    ensure_venv()
    only = set(filter(None, args.only.split(",")))
    subprocess.run(["cargo", "build", "--release", "--bin", "graphjit"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "graphjit"
    started = datetime.datetime.now(datetime.timezone.utc)
    load = os.getloadavg()[0]
    nat = {} if args.no_native else native(only)
    results = {}
    for mode, one in (("One thread, pinned to one core", True), ("All cores", False)):
        print(mode, file=sys.stderr)
        g = graphjit(binary, one, args.seconds, only)
        jx = framework("jax", one, args.seconds, only)
        nb = framework("numba", one, args.seconds, only)
        results[mode] = (g, jx, nb, nat)
    doc = [
        "# graphjit against JAX, numba and native Rust",
        "",
        f"Written by `python3 benches/compare/compare.py --seconds {args.seconds}"
        + (f" --only {args.only}" if args.only else "")
        + f"` at {started:%Y-%m-%d %H:%M} UTC (load average {load:.2f} at the start).",
        "",
        f"- Machine: {machine()}.",
        f"- Versions: {versions()}.",
        "- Each figure is the median time of one call; the ratios are of medians from this run."
        " Native Rust is the loop of `benches/workloads.rs` (one thread, criterion).",
        "- One thread: every process pinned with `taskset -c 0`, graphjit `--threads 1`, XLA"
        " without its thread pools, `NUMBA_NUM_THREADS=1`, BLAS threads 1. All cores: defaults,"
        " numba's `parallel=True` loops.",
        "",
        "![ratios](compare/comparison.svg)",
        "",
    ]
    for mode, (g, jx, nb, n) in results.items():
        doc += table(mode, g, jx, nb, n)
    Path(args.out).write_text("\n".join(doc))
    chart(results, Path(args.svg))
    print(f"wrote {args.out} and {args.svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
