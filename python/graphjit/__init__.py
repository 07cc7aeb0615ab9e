"""graphjit for Python: IR functions compiled once with Cranelift and run on NumPy arrays,
`graphjit.jit` for Python functions (static graphs with `while_loop`/`cond`, eager fallback
for Python control flow), eager values, and Ctrl-C that stops a running loop."""

from __future__ import annotations

import os
from typing import Any

from . import _graphjit
from ._array import Array, asarray, broadcast_to
from ._graphjit import (
    Cancelled,
    CancelToken,
    CompileError,
    DeadlineExceeded,
    Function,
    GraphjitError,
    IterationLimit,
    MemoryLimit,
    Module,
    ParseError,
    RunError,
    VerifyError,
    compiler_stats,
)
from ._jit import JitFunction, cond, fori_loop, jit, while_loop
from ._ops import (
    argmax,
    argmin,
    argsort,
    atan2,
    cbrt,
    ceil,
    clip,
    clz,
    cos,
    cummax,
    cummin,
    cumprod,
    cumsum,
    dot,
    erf,
    exp,
    expm1,
    floor,
    isfinite,
    log,
    log1p,
    logistic,
    maximum,
    minimum,
    popcount,
    round_afz,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sort,
    sqrt,
    switch,
    take,
    tanh,
    where,
)
from ._ops import round_ as round  # noqa: A001 (graphjit.round mirrors numpy.round)

__all__ = [
    "Array",
    "CancelToken",
    "Cancelled",
    "CompileError",
    "DeadlineExceeded",
    "Function",
    "GraphjitError",
    "IterationLimit",
    "JitFunction",
    "MemoryLimit",
    "Module",
    "ParseError",
    "RunError",
    "VerifyError",
    "argmax",
    "argmin",
    "argsort",
    "asarray",
    "atan2",
    "broadcast_to",
    "cbrt",
    "ceil",
    "clip",
    "clz",
    "compiler_stats",
    "cond",
    "cos",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "dot",
    "erf",
    "exp",
    "expm1",
    "floor",
    "fori_loop",
    "from_jax",
    "isfinite",
    "jit",
    "load",
    "log",
    "log1p",
    "logistic",
    "maximum",
    "minimum",
    "popcount",
    "round",
    "round_afz",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sort",
    "sqrt",
    "switch",
    "take",
    "tanh",
    "where",
    "while_loop",
]


def _looks_like_ir(s: str) -> bool:
    return "{" in s or "\n" in s


def load(path_or_text: str | os.PathLike[str]) -> Module:
    """Loads a module of IR functions: a path to a `.gir` file (or `.mlir`, StableHLO, once
    this build has the importer), or the IR text itself. Raises `ParseError` (with `.line` and
    `.col`) or `VerifyError` for bad IR, `FileNotFoundError` for a missing file."""
    if isinstance(path_or_text, os.PathLike) or not _looks_like_ir(path_or_text):
        path = os.fspath(path_or_text)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith(".mlir"):
            return _graphjit.load_mlir(text)
        return _graphjit.load_text(text)
    if "stablehlo." in path_or_text or "func.func" in path_or_text:
        return _graphjit.load_mlir(path_or_text)
    return _graphjit.load_text(path_or_text)


def from_jax(fn: Any, *example_args: Any) -> Function:
    """Lowers a JAX function to StableHLO for the example arguments' shapes and dtypes, and
    imports it as a graphjit `Function` (needs `jax`)."""
    try:
        import jax  # type: ignore[import-not-found]
    except ImportError as e:
        raise ImportError("graphjit.from_jax needs JAX: pip install jax") from e
    text = jax.jit(fn).lower(*example_args).as_text()
    module = _graphjit.load_mlir(text)
    return module[module.names()[0]]
