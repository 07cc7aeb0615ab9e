"""Structured control flow (`while_loop`, `fori_loop`, `cond`) and `graphjit.jit`: a Python
function traced over graphjit values, compiled once per input signature, or run eagerly when it
reads a traced value into Python control flow."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from . import _graphjit
from ._array import (
    Array,
    GraphBreak,
    _as_array,
    _check_visible,
    _current,
    _Emitter,
    _Scope,
    _Trace,
    _Tracing,
    dtype_name,
    type_text,
)


def _flatten(init: Any) -> tuple[list[Any], bool]:
    if isinstance(init, (tuple, list)):
        return list(init), True
    return [init], False


def _unflatten(vals: Sequence[Any], is_seq: bool) -> Any:
    return tuple(vals) if is_seq else vals[0]


def _like(v: Any, ref: Array) -> Array:
    """`v` as an Array of `ref`'s dtype (Python numbers adopt it)."""
    a = _as_array(v, ref)
    if a.dtype != ref.dtype or a.shape != ref.shape:
        raise TypeError(
            f"a loop or branch value changed type: expected {type_text(ref.dtype, ref.shape)}, "
            f"got {type_text(a.dtype, a.shape)}"
        )
    return a


def _names(em: _Emitter, vals: Sequence[Array]) -> list[str]:
    out = []
    for a in vals:
        if a._trace is None:
            assert a._np is not None
            out.append(em.const(a._np, a.dtype)._name)
        else:
            _check_visible(em.trace, a)
            out.append(a._name)
    return out


def while_loop(cond_fn: Callable[[Any], Any], body_fn: Callable[[Any], Any], init: Any) -> Any:
    """Runs `body_fn` on the carried value while `cond_fn` of it is true, and returns it.

    `init` is one value or a tuple of values; `cond_fn` returns a bool scalar, `body_fn` a value
    of the same structure, dtypes and shapes. Inside `graphjit.jit` this is one `while` op of the
    compiled function; on eager values it is a Python loop."""
    flat, is_seq = _flatten(init)
    vals = [_as_array(v) for v in flat]
    trace = _current()
    if trace is None:
        for v in vals:
            if v._trace is not None:
                trace = v._trace
                break
    if trace is None:
        while bool(cond_fn(_unflatten(vals, is_seq))):
            out, _ = _flatten(body_fn(_unflatten(vals, is_seq)))
            if len(out) != len(vals):
                raise TypeError(f"while_loop body returned {len(out)} values for {len(vals)}")
            vals = [_like(o, r) for o, r in zip(out, vals)]
        return _unflatten(vals, is_seq)

    em = _Emitter(trace)
    inits = _names(em, vals)
    args = [Array._traced(trace, trace.scope, trace.fresh("c"), v.dtype, v.shape) for v in vals]
    outer = trace.scope
    cond_scope = _Scope(trace, outer)
    for a in args:
        a._scope = cond_scope
    trace.scope = cond_scope
    try:
        c = _as_array(cond_fn(_unflatten(args, is_seq)))
        if c.dtype != "bool" or c.shape != ():
            raise TypeError(
                f"while_loop cond must return a bool scalar, got {type_text(c.dtype, c.shape)}"
            )
        (cn,) = _names(em, [c])
        cond_scope.lines.append(f"yield {cn}")
    finally:
        cond_scope.open = False
        trace.scope = outer
    body_scope = _Scope(trace, outer)
    for a in args:
        a._scope = body_scope
    trace.scope = body_scope
    try:
        out, _ = _flatten(body_fn(_unflatten(args, is_seq)))
        if len(out) != len(vals):
            raise TypeError(f"while_loop body returned {len(out)} values for {len(vals)}")
        outs = [_like(o, r) for o, r in zip(out, vals)]
        body_scope.lines.append("yield " + ", ".join(_names(em, outs)))
    finally:
        body_scope.open = False
        trace.scope = outer
    results = [trace.fresh() for _ in vals]
    carried = ", ".join(f"{a._name} = {i}" for a, i in zip(args, inits))
    types = ", ".join(type_text(v.dtype, v.shape) for v in vals)
    lines = [f"{', '.join(results)} = while ({carried}) : {types} {{"]
    lines += ["  " + s for s in cond_scope.lines]
    lines.append("} do {")
    lines += ["  " + s for s in body_scope.lines]
    lines.append("}")
    for line in lines:
        trace.emit(line)
    return _unflatten(
        [Array._traced(trace, outer, n, v.dtype, v.shape) for n, v in zip(results, vals)], is_seq
    )


def fori_loop(lower: Any, upper: Any, body_fn: Callable[[Any, Any], Any], init: Any) -> Any:
    """Runs `val = body_fn(i, val)` for `i` from `lower` to `upper` (exclusive) and returns
    `val`; `i` is an i32 scalar (or the dtype of `lower` when it is an array)."""
    flat, is_seq = _flatten(init)
    lo = _as_array(lower) if isinstance(lower, Array) else Array(np.int32(lower))
    hi = _like(upper, lo) if not isinstance(upper, Array) else upper
    n = len(flat)

    def cond(v: tuple) -> Any:
        return v[0] < hi

    def body(v: tuple) -> tuple:
        out, _ = _flatten(body_fn(v[0], _unflatten(list(v[1:]), is_seq)))
        if len(out) != n:
            raise TypeError(f"fori_loop body returned {len(out)} values for {n}")
        return (v[0] + 1, *out)

    res = while_loop(cond, body, (lo, *flat))
    return _unflatten(list(res[1:]), is_seq)


def cond(
    pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any], *operands: Any
) -> Any:
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`. Inside `graphjit.jit` with a
    traced `pred`, both branches are traced into one `if` op and must return values of the same
    types; with an eager `pred`, only the chosen branch runs."""
    p = _as_array(pred)
    if p.dtype != "bool" or p.shape != ():
        raise TypeError(f"cond needs a bool scalar predicate, got {type_text(p.dtype, p.shape)}")
    trace = p._trace or _current()
    if trace is None:
        return true_fn(*operands) if bool(p) else false_fn(*operands)
    em = _Emitter(trace)
    (pn,) = _names(em, [p])
    return _branching(trace, f"if {pn}", "else", [true_fn, false_fn], operands, "cond")


def _branching(
    trace: _Trace,
    head: str,
    sep: str,
    fns: Sequence[Callable[..., Any]],
    operands: Sequence[Any],
    what: str,
) -> Any:
    """Traces each of `fns(*operands)` into its own region and emits `head : types { ... }`
    with the regions separated by `} sep {` (an `if` or a `case`); every branch must return
    values of the same types. Returns the op's results, structured as the first branch's."""
    em = _Emitter(trace)
    outer = trace.scope
    branches = []
    for fn in fns:
        scope = _Scope(trace, outer)
        trace.scope = scope
        try:
            out, is_seq = _flatten(fn(*operands))
            vals = [_as_array(o) for o in out]
            scope.lines.append("yield " + ", ".join(_names(em, vals)))
        finally:
            scope.open = False
            trace.scope = outer
        branches.append((scope, vals, is_seq))
    kinds = [[(a.dtype, a.shape) for a in vals] for _, vals, _ in branches]
    if any(k != kinds[0] for k in kinds):
        shown = " and ".join("(" + ", ".join(type_text(d, s) for d, s in k) + ")" for k in kinds)
        raise TypeError(f"{what} branches return different types: {shown}")
    first, seq = branches[0][1], branches[0][2]
    results = [trace.fresh() for _ in first]
    types = ", ".join(type_text(a.dtype, a.shape) for a in first)
    lines = [f"{', '.join(results)} = {head} : {types} {{"]
    for k, (scope, _, _) in enumerate(branches):
        if k:
            lines.append(f"}} {sep} {{")
        lines += ["  " + line for line in scope.lines]
    lines.append("}")
    for line in lines:
        trace.emit(line)
    return _unflatten(
        [Array._traced(trace, outer, n, a.dtype, a.shape) for n, a in zip(results, first)], seq
    )


class _Entry:
    """What `jit` knows about one input signature: a compiled function, or why it is dynamic."""

    def __init__(self, function: Any | None, reason: GraphBreak | None, multi: bool):
        self.function = function
        self.reason = reason
        self.multi = multi
        self.trace_seconds = 0.0


def _to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, Array):
        return x.numpy()
    return np.asarray(x)


class JitFunction:
    """A Python function compiled by graphjit once per input signature (see `graphjit.jit`)."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None):
        self._fn = fn
        self._name = name or getattr(fn, "__name__", "f").strip("<>") or "f"
        if not self._name.replace("_", "a").isalnum():
            self._name = "f"
        self._cache: dict[tuple, _Entry] = {}
        self._order: list[tuple] = []
        self._lock = threading.Lock()
        self._stats = {"traces": 0, "compilations": 0, "cache_hits": 0, "fallbacks": 0}
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__qualname__ = getattr(fn, "__qualname__", self._name)

    def __reduce__(self) -> Any:
        # A decorated module-level function pickles by name, as plain functions do (the name
        # now refers to this object, not to the undecorated function).
        mod = sys.modules.get(self.__module__)
        if mod is not None and getattr(mod, self.__qualname__, None) is self:
            return self.__qualname__
        return (JitFunction, (self._fn, self._name))

    @staticmethod
    def _signature(arrays: Sequence[np.ndarray]) -> tuple:
        return tuple((dtype_name(a.dtype), a.shape) for a in arrays)

    def _trace(self, sig: tuple) -> _Entry:
        start = time.perf_counter()
        tr = _Trace(self._name)
        params = [tr.param(dt, shape) for dt, shape in sig]
        self._stats["traces"] += 1
        try:
            with _Tracing(tr):
                out = self._fn(*params)
                flat, multi = _flatten(out)
                em = _Emitter(tr)
                vals = [_as_array(o) for o in flat]
                names = []
                for n, v in zip(_names(em, vals), vals):
                    names.append(Array._traced(tr, tr.root, n, v.dtype, v.shape))
        except GraphBreak as gb:
            entry = _Entry(None, gb, False)
        else:
            module = _graphjit.load_text(tr.text(names))
            entry = _Entry(module[self._name], None, multi)
        entry.trace_seconds = time.perf_counter() - start
        return entry

    def _entry(self, arrays: Sequence[np.ndarray]) -> tuple[_Entry, bool]:
        sig = self._signature(arrays)
        entry = self._cache.get(sig)
        if entry is not None:
            return entry, False
        with self._lock:
            entry = self._cache.get(sig)
            if entry is None:
                entry = self._trace(sig)
                self._cache[sig] = entry
                self._order.append(sig)
                return entry, True
        return entry, False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the function on NumPy arrays (or numbers) and returns NumPy arrays; keyword
        arguments (`max_iters`, `timeout`, `cancel`, `max_memory`) limit compiled runs, and
        `threads` sets how many threads their parallel loops use (the same bits for any count)."""
        arrays = [_to_numpy(a) for a in args]
        entry, fresh = self._entry(arrays)
        if entry.function is None:
            self._stats["fallbacks"] += 1
            out = self._fn(*[Array(a) for a in arrays])
            flat, multi = _flatten(out)
            res = [_to_numpy(o) for o in flat]
            return tuple(res) if multi else res[0]
        if fresh:
            self._stats["compilations"] += 1
        else:
            self._stats["cache_hits"] += 1
        out = entry.function(*arrays, **kwargs)
        if entry.multi and not isinstance(out, tuple):
            return (out,)
        return out

    def function(self, *args: Any) -> Any:
        """The compiled `graphjit.Function` for these arguments' signature (tracing it if
        needed), or raises `RunError` when the trace is dynamic."""
        entry, _ = self._entry([_to_numpy(a) for a in args])
        if entry.function is None:
            raise _graphjit.RunError(f"@{self._name} is dynamic for this signature: {entry.reason}")
        return entry.function

    def _last(self) -> Any:
        for sig in reversed(self._order):
            e = self._cache[sig]
            if e.function is not None:
                return e.function
        raise RuntimeError(
            f"@{self._name} has no compiled signature yet; call it (or .function(*args)) first"
        )

    @property
    def ir(self) -> str:
        """The traced IR of the most recently traced static signature."""
        return self._last().ir

    @property
    def optimized_ir(self) -> str:
        return self._last().optimized_ir

    @property
    def clif(self) -> str:
        """The Cranelift IR of the most recently traced static signature."""
        return self._last().clif

    @property
    def asm(self) -> str:
        """The machine code of the most recently traced static signature."""
        return self._last().asm

    def stats(self) -> dict:
        """Counters: traces, compilations, cache hits and eager fallbacks."""
        return dict(self._stats)

    def explain(self) -> str:
        """One line per input signature: compiled, or dynamic and where Python read a traced
        value (file:line)."""
        lines = []
        for sig in self._order:
            e = self._cache[sig]
            types = ", ".join(type_text(dt, shape) for dt, shape in sig)
            if e.function is not None:
                lines.append(f"@{self._name}({types}): static, compiled once and reused")
            else:
                lines.append(f"@{self._name}({types}): dynamic, runs eagerly: {e.reason}")
        return "\n".join(lines) if lines else f"@{self._name}: not called yet"

    def bench(self, *args: Any, seconds: float = 0.2) -> dict:
        """Times tracing, compiling, and compiled vs interpreted runs on these arguments; a
        dynamic signature reports its eager time only."""
        arrays = [_to_numpy(a) for a in args]
        entry, _ = self._entry(arrays)
        if entry.function is None:
            times = []
            start = time.perf_counter()
            while len(times) < 3 or time.perf_counter() - start < seconds:
                t = time.perf_counter()
                self._fn(*[Array(a) for a in arrays])
                times.append(time.perf_counter() - t)
            times.sort()
            return {"dynamic": True, "eager_median_seconds": times[len(times) // 2]}
        d = dict(entry.function.bench(*arrays, seconds=seconds))
        d["trace_seconds"] = entry.trace_seconds
        d["dynamic"] = False
        return d


def jit(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Compiles `fn` with graphjit: traced over graphjit values once per input signature
    (dtypes and shapes), compiled with Cranelift, and reused. If `fn` reads a traced value into
    Python control flow (`if t:`, `bool(t)`, `int(t)`, `float(t)`), that signature runs eagerly
    instead and `explain()` says where. Usable as `@jit` or `@jit(name="f")`."""
    if fn is None:
        return lambda f: JitFunction(f, name)
    return JitFunction(fn, name)
