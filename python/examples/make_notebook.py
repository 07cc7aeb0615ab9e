"""Writes static_vs_dynamic.ipynb from the cells below (without outputs); CI and the tests
execute it with nbclient, and `python make_notebook.py --execute` stores its outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    (
        "md",
        "# Static vs dynamic: the counter both ways\n\n"
        "The classic comparison of TensorFlow's `tf.while_loop` (define the graph, then run it "
        "many times) with PyTorch's plain `while` on tensors (easy, rebuilt on every step), "
        "redone on graphjit: one op semantics, a static graph compiled once with Cranelift, "
        "and dynamic Python control flow running eagerly.\n\n"
        "`first = 0; second = 10; while first < second: first += 2; second += 1`",
    ),
    ("code", "import time\n\nimport numpy as np\n\nimport graphjit"),
    (
        "md",
        "## Static: `graphjit.while_loop`, traced once, compiled once, reused\n\n"
        "The loop is one `while` op of the traced function; the condition never reaches "
        "Python, so the whole function compiles.",
    ),
    (
        "code",
        "@graphjit.jit\n"
        "def counter(first, second):\n"
        "    return graphjit.while_loop(\n"
        "        lambda v: v[0] < v[1], lambda v: (v[0] + 2, v[1] + 1), (first, second)\n"
        "    )\n\n"
        "f, s = counter(np.int32(0), np.int32(10))\n"
        "print((int(f), int(s)))\n"
        "counter(np.int32(2), np.int32(11))  # same signature: a cache hit\n"
        "print(counter.stats())\n"
        "print(counter.explain())",
    ),
    ("md", "The IR graphjit traced, and the machine code Cranelift made of it:"),
    ("code", "print(counter.ir)"),
    ("code", "print(counter.asm)"),
    (
        "md",
        "## Dynamic: a plain Python `while` on eager graphjit values\n\n"
        "Each op runs at once in graphjit's interpreter (the same semantics), and Python reads "
        "the comparison to decide, as PyTorch does.",
    ),
    (
        "code",
        "first = graphjit.asarray(np.int32(0))\n"
        "second = graphjit.asarray(np.int32(10))\n"
        "while first < second:\n"
        "    first = first + 2\n"
        "    second = second + 1\n"
        "print((int(first), int(second)))",
    ),
    (
        "md",
        "The same Python loop under `graphjit.jit` reads a traced value into Python control "
        "flow; graphjit falls back to eager execution and says where:",
    ),
    (
        "code",
        "@graphjit.jit\n"
        "def counter_dynamic(first, second):\n"
        "    while first < second:\n"
        "        first = first + 2\n"
        "        second = second + 1\n"
        "    return first, second\n\n"
        "f, s = counter_dynamic(np.int32(0), np.int32(10))\n"
        "print((int(f), int(s)))\n"
        "print(counter_dynamic.explain().replace(str(__import__('os').getcwd()), '.'))",
    ),
    (
        "md",
        "## Timings: compiled vs interpreted vs eager\n\n"
        "The counter from `(0, n)` takes `n` iterations. Figures depend on the machine (and on "
        "what else runs on it).",
    ),
    (
        "code",
        "def median(fn, reps=5):\n"
        "    times = []\n"
        "    for _ in range(reps):\n"
        "        t = time.perf_counter()\n"
        "        fn()\n"
        "        times.append(time.perf_counter() - t)\n"
        "    return sorted(times)[reps // 2]\n\n"
        "n = 2000\n"
        "args = (np.int32(0), np.int32(n))\n"
        "static = counter.function(*args)\n"
        "compiled = median(lambda: static(*args))\n"
        "interpreted = median(lambda: static.interpret(*args))\n"
        "eager = median(lambda: counter_dynamic(*args), reps=3)\n"
        "for name, t in [('compiled', compiled), ('interpreted', interpreted), "
        "('eager (Python while)', eager)]:\n"
        "    print(f'{name:>22}: {t * 1e6:10.1f} us  ({t / compiled:8.1f}x compiled)')",
    ),
    (
        "md",
        "The compiled loop can also be stopped: `timeout=` (or Ctrl-C in a notebook) cancels "
        "it, and the function stays usable.",
    ),
    (
        "code",
        "try:\n"
        "    counter(np.int32(0), np.int32(2**31 - 1), max_iters=1000)\n"
        "except graphjit.IterationLimit as e:\n"
        "    print('stopped:', e)",
    ),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, src in CELLS:
        nb.cells.append(new_markdown_cell(src) if kind == "md" else new_code_cell(src))
    return nb


def main() -> None:
    here = Path(__file__).resolve().parent
    nb = build()
    if "--execute" in sys.argv:
        import nbclient

        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute(cwd=str(here))
    nbformat.write(nb, here / "static_vs_dynamic.ipynb")


if __name__ == "__main__":
    main()
