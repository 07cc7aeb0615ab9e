"""The ops real loops use, for graphjit values: indexing with traced or array indices (`x[i]`,
`x[idx]`, `x[:, idx]`), functional updates (`x.at[i].set/add/mul/min/max`), `argmax`/`argmin`,
`sort`/`argsort`, cumulative scans, `switch`, `where`, `dot`, `clip` and the elementwise math.
Each emits the StableHLO-shaped graphjit op (`dynamic_slice`, `gather`, `scatter`, a variadic
`reduce`, `sort`, `reduce_window`, `case`), so an eager value runs it in the interpreter and a
traced one compiles it, with one meaning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from ._array import (
    Array,
    _apply,
    _as_array,
    _current,
    _Emitter,
    _is_float,
    _is_int,
    _unary,
    broadcast_shapes,
    type_text,
)

_WIDE_INDEX = {"i64", "u32", "u64"}


def _lst(xs: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in xs) + "]"


def _index_dtype(dtypes: Sequence[str]) -> str:
    """The dtype indices are computed in: i32 as JAX uses, i64 when an index may not fit."""
    return "i64" if any(d in _WIDE_INDEX for d in dtypes) else "i32"


def _normalize(em: _Emitter, name: str, dtype: str, shape: tuple, n: int, idt: str) -> str:
    """`i + n` where `i < 0` (NumPy's negative indices), computed in `idt`; the ops that use the
    result then clamp (reads) or skip (updates) what is still out of range."""
    if dtype != idt:
        name = em.op(f"convert {name}", idt, shape)._name

    def splat(v: int) -> str:
        c = em.op(f"const {v}", idt, ())
        return em.broadcast(c, shape)._name

    neg = em.op(f"lt {name}, {splat(0)}", "bool", shape)._name
    wrapped = em.op(f"add {name}, {splat(n)}", idt, shape)._name
    return em.op(f"select {neg}, {wrapped}, {name}", idt, shape)._name


def _is_array_key(k: Any) -> bool:
    if isinstance(k, Array):
        return k.ndim > 0
    return isinstance(k, (np.ndarray, list)) and np.asarray(k).ndim > 0


def is_dynamic_key(k: Any) -> bool:
    """Whether an index needs a data-dependent op: a traced scalar or an integer array."""
    return (isinstance(k, Array) and k._trace is not None) or _is_array_key(k)


def _index_operand(k: Any) -> Array:
    a = k if isinstance(k, Array) else Array(np.asarray(k))
    if not _is_int(a.dtype):
        raise TypeError(f"an index must be of an integer dtype, got {type_text(a.dtype, a.shape)}")
    return a


def index(x: Array, key: tuple) -> Array:
    """`x[key]` where the key holds a traced scalar (a `dynamic_slice` of size 1: a clamped
    load in compiled code) or one integer array (a `gather`). Negative indices count from the
    end; indices still out of range are clamped, as in JAX."""
    arrays = [i for i, k in enumerate(key) if _is_array_key(k)]
    if arrays:
        (axis,) = arrays if len(arrays) == 1 else (None,)
        if axis is None or any(
            not (isinstance(k, slice) and k == slice(None)) for i, k in enumerate(key) if i != axis
        ):
            raise TypeError(
                "indexing with an integer array takes one array and full slices (`:`) on the "
                "other axes, e.g. x[idx] or x[:, idx]"
            )
        return _take(x, _index_operand(key[axis]), axis, normalize=True)
    dyn = {i: _index_operand(k) for i, k in enumerate(key) if isinstance(k, Array)}
    for i, k in dyn.items():
        if k.shape != ():
            raise TypeError(f"a traced index must be a scalar, got {type_text(k.dtype, k.shape)}")
        if x.shape[i] == 0:
            raise IndexError(f"index into axis {i} of size 0 (shape {x.shape})")
    idt = _index_dtype([k.dtype for k in dyn.values()])
    sizes = [1 if i in dyn else d for i, d in enumerate(x.shape)]
    inner = tuple(d for i, d in enumerate(x.shape) if i not in dyn)

    def build(em: _Emitter, xn: str, *kn: str) -> Array:
        names = iter(kn)
        starts = []
        for i, d in enumerate(x.shape):
            if i in dyn:
                starts.append(_normalize(em, next(names), dyn[i].dtype, (), d, idt))
            else:
                starts.append(em.op("const 0", idt, ())._name)
        w = em.op(
            f"dynamic_slice {xn}, {', '.join(starts)} sizes={_lst(sizes)}", x.dtype, tuple(sizes)
        )
        return em.op(f"reshape {w._name}", x.dtype, inner)

    y = _apply(build, [x, *dyn.values()])
    rest = tuple(k for i, k in enumerate(key) if i not in dyn)
    return y[rest] if rest else y


def _take(x: Array, idx: Array, axis: int, normalize: bool) -> Array:
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {x.shape}")
    axis %= x.ndim
    if x.shape[axis] == 0 and idx.size:
        raise IndexError(f"cannot take from axis {axis} of size 0 (shape {x.shape})")
    out = x.shape[:axis] + idx.shape + x.shape[axis + 1 :]
    offset = list(range(axis)) + list(range(axis + idx.ndim, len(out)))
    sizes = [1 if i == axis else d for i, d in enumerate(x.shape)]
    idt = _index_dtype([idx.dtype])

    def build(em: _Emitter, xn: str, kn: str) -> Array:
        if normalize:
            kn = _normalize(em, kn, idx.dtype, idx.shape, x.shape[axis], idt)
        return em.op(
            f"gather {xn}, {kn} offset_dims={_lst(offset)} collapsed_slice_dims=[{axis}] "
            f"operand_batching_dims=[] start_indices_batching_dims=[] start_index_map=[{axis}] "
            f"index_vector_dim={idx.ndim} slice_sizes={_lst(sizes)}",
            x.dtype,
            out,
        )

    return _apply(build, [x, idx])


def take(x: Any, indices: Any, axis: int = 0) -> Array:
    """`jnp.take(x, indices, axis, mode="clip")`: the slices of `x` at `indices` along `axis`,
    each index clamped to the axis (negative indices clamp to 0, as `mode="clip"` does)."""
    return _take(_as_array(x), _index_operand(indices), axis, normalize=False)


# --- functional updates: x.at[key].set(v) -------------------------------------------------

_COMBINE = {"add": "add", "mul": "mul", "min": "min", "max": "max"}


class _At:
    """`x.at`: indexing it gives an update reference, as in JAX."""

    __slots__ = ("_x",)

    def __init__(self, x: Array):
        self._x = x

    def __getitem__(self, key: Any) -> _AtKey:
        return _AtKey(self._x, key if isinstance(key, tuple) else (key,))


class _AtKey:
    """`x.at[key]`: `set`, `add`, `mul`, `min`, `max` return a new array with the elements at
    `key` updated (a `scatter`; updates out of range are dropped, as in JAX, and where indices
    repeat they apply in order, so for `set` the last wins); `get` reads them."""

    __slots__ = ("_x", "_key")

    def __init__(self, x: Array, key: tuple):
        self._x = x
        self._key = key

    def get(self) -> Array:
        return self._x[self._key]

    def set(self, v: Any) -> Array:
        return _scatter(self._x, self._key, v, None)

    def add(self, v: Any) -> Array:
        return _scatter(self._x, self._key, v, "add")

    def mul(self, v: Any) -> Array:
        return _scatter(self._x, self._key, v, "mul")

    def min(self, v: Any) -> Array:
        return _scatter(self._x, self._key, v, "min")

    def max(self, v: Any) -> Array:
        return _scatter(self._x, self._key, v, "max")


def _scatter(x: Array, key: tuple, v: Any, combine: str | None) -> Array:
    while key and isinstance(key[-1], slice) and key[-1] == slice(None):
        key = key[:-1]
    if not key:
        raise TypeError("x.at[...] needs at least one index")
    if len(key) > x.ndim:
        raise IndexError(f"too many indices ({len(key)}) for an array of shape {x.shape}")
    if combine is not None and x.dtype == "bool":
        raise TypeError(f"x.at[...].{combine} needs a numeric array, got bool")
    if len(key) == 1 and _is_array_key(key[0]):
        idx = _index_operand(key[0])
        upd_shape = idx.shape + x.shape[1:]
        window = list(range(idx.ndim, len(upd_shape)))
        ivd, n_idx = idx.ndim, 1
        parts = [idx]
    else:
        for k in key:
            if isinstance(k, slice) or _is_array_key(k):
                raise TypeError(
                    "x.at[...] takes integer or traced scalar indices for leading axes, or one "
                    "integer array for the first axis"
                )
        parts = [_index_operand(k) if isinstance(k, Array) else Array(np.int64(k)) for k in key]
        upd_shape = x.shape[len(key) :]
        window = list(range(len(upd_shape)))
        ivd, n_idx = 0, len(key)
    u = _as_array(v, x)
    if u.dtype != x.dtype:
        raise TypeError(f"x.at[...] updates of dtype {u.dtype} into an array of dtype {x.dtype}")
    if broadcast_shapes(u.shape, upd_shape) != upd_shape:
        raise ValueError(f"updates of shape {u.shape} do not broadcast to {upd_shape}")
    idt = _index_dtype([p.dtype for p in parts])
    inserted = _lst(range(n_idx))
    e = x.dtype

    def build(em: _Emitter, xn: str, un: str, *kn: str) -> Array:
        if ivd:
            (k,) = kn
            vec = _normalize(em, k, parts[0].dtype, parts[0].shape, x.shape[0], idt)
        else:
            scalars = [
                _normalize(em, k, p.dtype, (), x.shape[i], idt)
                for i, (k, p) in enumerate(zip(kn, parts))
            ]
            cols = [em.op(f"reshape {s}", idt, (1,))._name for s in scalars]
            vec = cols[0]
            for i, c in enumerate(cols[1:], start=2):
                vec = em.op(f"concat {vec}, {c} axis=0", idt, (i,))._name
        uv = em.broadcast(Array._traced(em.trace, em.trace.scope, un, e, u.shape), upd_shape)
        tr = em.trace
        name, cur, upd = tr.fresh(), tr.fresh("a"), tr.fresh("b")
        tr.emit(
            f"{name} = scatter {xn}, {vec}, {uv._name} update_window_dims={_lst(window)} "
            f"inserted_window_dims={inserted} scatter_dims_to_operand_dims={inserted} "
            f"index_vector_dim={ivd} : {type_text(e, x.shape)} ({cur}: {e}, {upd}: {e}) {{"
        )
        if combine is None:
            tr.emit(f"  yield {upd}")
        else:
            r = tr.fresh()
            tr.emit(f"  {r} = {_COMBINE[combine]} {cur}, {upd} : {e}")
            tr.emit(f"  yield {r}")
        tr.emit("}")
        return Array._traced(tr, tr.scope, name, e, x.shape)

    return _apply(build, [x, u, *parts])


# --- argmax, sort, scans --------------------------------------------------------------------


def _extreme(dtype: str, largest: bool) -> str:
    if _is_float(dtype):
        return "inf" if largest else "-inf"
    info = np.iinfo(np.dtype({"i": "int", "u": "uint"}[dtype[0]] + dtype[1:]))
    return str(info.max if largest else info.min)


def _arg_extreme(x: Any, axis: int | None, kind: str) -> Array:
    a = _as_array(x)
    if a.dtype == "bool":
        a = a.astype("u8")
    if axis is None:
        a, axis = a.reshape(-1), 0
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {a.shape}")
    axis %= a.ndim
    if a.shape[axis] == 0:
        raise ValueError(f"{kind} of an empty axis (shape {a.shape})")
    out = tuple(d for i, d in enumerate(a.shape) if i != axis)
    e, cmp = a.dtype, ("gt" if kind == "argmax" else "lt")
    init = _extreme(e, largest=kind == "argmin")

    def build(em: _Emitter, xn: str) -> Array:
        tr = em.trace
        idx = em.op(f"iota axis={axis}", "i32", a.shape)._name
        v0 = em.op(f"const {init}", e, ())._name
        i0 = em.op("const 0", "i32", ())._name
        va, ia, vb, ib = tr.fresh("a"), tr.fresh("ai"), tr.fresh("b"), tr.fresh("bi")
        m, k = tr.fresh(), tr.fresh()
        tr.emit(
            f"{m}, {k} = reduce {xn}, {idx}, {v0}, {i0} dims=[{axis}] : "
            f"{type_text(e, out)}, {type_text('i32', out)} "
            f"({va}: {e}, {ia}: i32, {vb}: {e}, {ib}: i32) {{"
        )
        # The accumulator wins when it is strictly better, NaN (a float's largest and smallest,
        # as NumPy's argmax and argmin treat it), or equal with the smaller index.
        n = [tr.fresh() for _ in range(8)]
        body = [f"{n[0]} = {cmp} {va}, {vb} : bool"]
        if _is_float(e):
            body += [f"{n[1]} = ne {va}, {va} : bool", f"{n[2]} = or {n[0]}, {n[1]} : bool"]
        else:
            n[2] = n[0]
        body += [
            f"{n[3]} = eq {va}, {vb} : bool",
            f"{n[4]} = lt {ia}, {ib} : bool",
            f"{n[5]} = and {n[3]}, {n[4]} : bool",
            f"{n[6]} = or {n[2]}, {n[5]} : bool",
            f"{n[7]} = select {n[2]}, {va}, {vb} : {e}",
        ]
        kk = tr.fresh()
        body += [f"{kk} = select {n[6]}, {ia}, {ib} : i32", f"yield {n[7]}, {kk}"]
        for line in body:
            tr.emit("  " + line)
        tr.emit("}")
        return Array._traced(tr, tr.scope, k, "i32", out)

    return _apply(build, [a])


def argmax(x: Any, axis: int | None = None) -> Array:
    """Index (i32) of the largest element along `axis` (of the flattened array when None): the
    first one on ties, the first NaN if there is one (NumPy's rules)."""
    return _arg_extreme(x, axis, "argmax")


def argmin(x: Any, axis: int | None = None) -> Array:
    """Index (i32) of the smallest element along `axis`: the first on ties, the first NaN."""
    return _arg_extreme(x, axis, "argmin")


def _less(tr: Any, e: str, a: str, b: str) -> tuple[list[str], str]:
    """Lines of a sort comparator `a < b`: for floats jnp.sort's order (-0 equals +0, every NaN
    equal and last), by `lt.total` on canonicalized keys."""
    if not _is_float(e):
        r = tr.fresh()
        return [f"{r} = lt {a}, {b} : bool"], r
    z, nan = tr.fresh(), tr.fresh()
    lines = [f"{z} = const 0.0 : {e}", f"{nan} = const nan : {e}"]
    keys = []
    for v in (a, b):
        iz, v1, isn, v2 = (tr.fresh() for _ in range(4))
        lines += [
            f"{iz} = eq {v}, {z} : bool",
            f"{v1} = select {iz}, {z}, {v} : {e}",
            f"{isn} = ne {v}, {v} : bool",
            f"{v2} = select {isn}, {nan}, {v1} : {e}",
        ]
        keys.append(v2)
    r = tr.fresh()
    lines.append(f"{r} = lt.total {keys[0]}, {keys[1]} : bool")
    return lines, r


def _sorted(x: Any, axis: int, indices: bool) -> Array:
    a = _as_array(x)
    if a.ndim == 0:
        raise ValueError("sort needs an array of rank 1 or more, got a scalar")
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {a.shape}")
    axis %= a.ndim
    e = a.dtype

    def build(em: _Emitter, xn: str) -> Array:
        tr = em.trace
        la, ra = tr.fresh("l"), tr.fresh("r")
        lines, lt = _less(tr, e, la, ra)
        s = tr.fresh()
        if indices:
            idx = em.op(f"iota axis={axis}", "i32", a.shape)._name
            li, ri, k = tr.fresh("li"), tr.fresh("ri"), tr.fresh()
            head = (
                f"{s}, {k} = sort {xn}, {idx} dim={axis} stable=1 : {type_text(e, a.shape)}, "
                f"{type_text('i32', a.shape)} ({la}: {e}, {ra}: {e}, {li}: i32, {ri}: i32) {{"
            )
        else:
            k = s
            head = (
                f"{s} = sort {xn} dim={axis} stable=1 : {type_text(e, a.shape)} "
                f"({la}: {e}, {ra}: {e}) {{"
            )
        tr.emit(head)
        for line in lines + [f"yield {lt}"]:
            tr.emit("  " + line)
        tr.emit("}")
        return Array._traced(tr, tr.scope, k, "i32" if indices else e, a.shape)

    return _apply(build, [a])


def sort(x: Any, axis: int = -1) -> Array:
    """`x` sorted ascending along `axis` (stable; floats as `numpy.sort`: NaNs last, -0.0 and
    +0.0 equal, so they keep their order)."""
    return _sorted(x, axis, indices=False)


def argsort(x: Any, axis: int = -1) -> Array:
    """The i32 indices that sort `x` along `axis` (stable, the order of `sort`)."""
    return _sorted(x, axis, indices=True)


_SCANS = {"cumsum": ("add", "0"), "cumprod": ("mul", "1"), "cummax": ("max", None)}
_SCANS["cummin"] = ("min", None)


def _scan(kind: str, x: Any, axis: int | None) -> Array:
    a = _as_array(x)
    if a.dtype == "bool":
        raise TypeError(f"{kind} needs a numeric array, got bool; use .astype() first")
    if axis is None:
        a, axis = a.reshape(-1), 0
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {a.shape}")
    axis %= a.ndim
    n = a.shape[axis]
    if n == 0:
        return a
    op, init = _SCANS[kind]
    if init is None:
        init = _extreme(a.dtype, largest=op == "min")
    window = [n if i == axis else 1 for i in range(a.ndim)]
    pad = [n - 1 if i == axis else 0 for i in range(a.ndim)]
    e = a.dtype

    def build(em: _Emitter, xn: str) -> Array:
        tr = em.trace
        z = em.op(f"const {init}", e, ())._name
        s, p, q, r = tr.fresh(), tr.fresh("a"), tr.fresh("b"), tr.fresh()
        # A window of the whole axis padded by n-1 in front folds x[0..=j] into output j in
        # increasing index order: a running scan (linear time) in both executors.
        tr.emit(
            f"{s} = reduce_window {xn}, {z} window={_lst(window)} pad_low={_lst(pad)} : "
            f"{type_text(e, a.shape)} ({p}: {e}, {q}: {e}) {{"
        )
        tr.emit(f"  {r} = {op} {p}, {q} : {e}")
        tr.emit(f"  yield {r}")
        tr.emit("}")
        return Array._traced(tr, tr.scope, s, e, a.shape)

    return _apply(build, [a])


def cumsum(x: Any, axis: int | None = None) -> Array:
    """Running sum along `axis` (of the flattened array when None), added in index order."""
    return _scan("cumsum", x, axis)


def cumprod(x: Any, axis: int | None = None) -> Array:
    """Running product along `axis`, multiplied in index order."""
    return _scan("cumprod", x, axis)


def cummax(x: Any, axis: int | None = None) -> Array:
    """Running maximum along `axis` (NaN propagates)."""
    return _scan("cummax", x, axis)


def cummin(x: Any, axis: int | None = None) -> Array:
    """Running minimum along `axis` (NaN propagates)."""
    return _scan("cummin", x, axis)


# --- switch ----------------------------------------------------------------------------------


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """`branches[index](*operands)` with `index` clamped to the branches (`jax.lax.switch`).
    With a traced index every branch is traced into one `case` op, and they must return values
    of the same types; with an eager index only the chosen branch runs."""
    from ._jit import _branching, _names

    fns = list(branches)
    if not fns:
        raise ValueError("switch needs at least one branch")
    i = _as_array(index)
    if i.shape != () or not _is_int(i.dtype):
        raise TypeError(f"switch needs an integer scalar index, got {type_text(i.dtype, i.shape)}")
    trace = i._trace or _current()
    if trace is None:
        return fns[min(max(int(i), 0), len(fns) - 1)](*operands)
    em = _Emitter(trace)
    (name,) = _names(em, [i])
    if i.dtype != "i32":
        # Indices beyond i32 clamp first, so that the conversion cannot wrap them into range.
        wide = em.op(f"convert {name}", "i64", ())._name if i.dtype != "i64" else name
        lo, hi = em.op("const 0", "i64", ())._name, em.op(f"const {len(fns)}", "i64", ())._name
        wide = em.op(f"clamp {lo}, {wide}, {hi}", "i64", ())._name
        name = em.op(f"convert {wide}", "i32", ())._name
    lo, hi = em.op("const 0", "i32", ())._name, em.op(f"const {len(fns) - 1}", "i32", ())._name
    k = em.op(f"clamp {lo}, {name}, {hi}", "i32", ())._name
    return _branching(trace, f"case {k}", "or", fns, operands, "switch")


# --- elementwise ------------------------------------------------------------------------------


def where(pred: Any, a: Any, b: Any) -> Array:
    """Elementwise `a if pred else b`; all three broadcast together."""
    p = _as_array(pred)
    if p.dtype != "bool":
        raise TypeError(f"where: the predicate must be bool, got {p.dtype}")
    x = _as_array(a, b if isinstance(b, Array) else None)
    y = _as_array(b, x)
    if x.dtype != y.dtype:
        raise TypeError(f"where: branches have dtypes {x.dtype} and {y.dtype}")
    shape = broadcast_shapes(broadcast_shapes(p.shape, x.shape), y.shape)

    def build(em: _Emitter, pn: str, xn: str, yn: str) -> Array:
        def t(n: str, v: Array) -> Array:
            return em.broadcast(Array._traced(em.trace, em.trace.scope, n, v.dtype, v.shape), shape)

        pv, xv, yv = t(pn, p), t(xn, x), t(yn, y)
        return em.op(f"select {pv._name}, {xv._name}, {yv._name}", x.dtype, shape)

    return _apply(build, [p, x, y])


def dot(a: Any, b: Any) -> Array:
    """Matrix product: `[m,k] @ [k,n]` or `[m,k] @ [k]`."""
    x = _as_array(a)
    y = _as_array(b, x)
    if x.dtype != y.dtype:
        raise TypeError(f"dot: operands have dtypes {x.dtype} and {y.dtype}")
    if x.ndim != 2 or y.ndim not in (1, 2) or x.shape[1] != y.shape[0]:
        raise ValueError(f"dot takes [m,k] x [k,n] or [m,k] x [k], got {x.shape} x {y.shape}")
    shape = (x.shape[0],) + tuple(y.shape[1:])
    return _apply(lambda em, p, q: em.op(f"dot {p}, {q}", x.dtype, shape), [x, y])


def clip(x: Any, lo: Any, hi: Any) -> Array:
    """`min(max(x, lo), hi)` with scalar bounds of `x`'s dtype (NaN propagates)."""
    a = _as_array(x)
    lo_a, hi_a = _as_array(lo, a), _as_array(hi, a)
    for name, v in (("lower", lo_a), ("upper", hi_a)):
        if v.shape != () or v.dtype != a.dtype:
            raise TypeError(
                f"clip: the {name} bound must be a scalar of dtype {a.dtype}, "
                f"got {type_text(v.dtype, v.shape)}"
            )
    if a.dtype == "bool":
        raise TypeError("clip needs a numeric array, got bool")
    return _apply(
        lambda em, xn, ln, hn: em.op(f"clamp {ln}, {xn}, {hn}", a.dtype, a.shape), [a, lo_a, hi_a]
    )


def _math(op: str, floats: bool = True, doc: str = "") -> Callable[[Any], Array]:
    def f(x: Any) -> Array:
        a = _as_array(x)
        if floats and not _is_float(a.dtype):
            raise TypeError(f"{op} needs a float operand, got {a.dtype}")
        if not floats and not _is_int(a.dtype):
            raise TypeError(f"{op} needs an integer operand, got {a.dtype}")
        return (
            _unary(op, a)
            if op in _OLD
            else _apply(
                lambda em, n: em.op(f"{op} {n}", a.dtype, a.shape),
                [a],
                ("unary", op, a.dtype, a.shape),
            )
        )

    f.__name__ = op
    f.__doc__ = doc or f"Elementwise `{op}` with graphjit's semantics."
    return f


_OLD = {"exp", "log", "sqrt", "tanh", "sin", "cos", "floor", "ceil", "round"}
exp = _math("exp")
log = _math("log")
sqrt = _math("sqrt")
tanh = _math("tanh")
sin = _math("sin")
cos = _math("cos")
floor = _math("floor")
ceil = _math("ceil")
round_ = _math("round", doc="Rounds to the nearest integer, ties to even (`numpy.round`).")
expm1 = _math("expm1")
log1p = _math("log1p")
rsqrt = _math("rsqrt", doc="`1 / sqrt(x)`, rounded once.")
logistic = _math("logistic", doc="`1 / (1 + exp(-x))` (`jax.nn.sigmoid`).")
sigmoid = logistic
cbrt = _math("cbrt")
erf = _math("erf")
round_afz = _math("round_nearest_afz", doc="Rounds to the nearest integer, ties away from zero.")
popcount = _math("popcnt", floats=False, doc="The number of one bits of each integer.")
clz = _math("clz", floats=False, doc="Leading zero bits of each integer (the width for 0).")


def sign(x: Any) -> Array:
    """-1, 0 or 1 by sign (floats keep NaN and the sign of zero)."""
    a = _as_array(x)
    if a.dtype == "bool":
        raise TypeError("sign needs a numeric operand, got bool")
    return _apply(lambda em, n: em.op(f"sign {n}", a.dtype, a.shape), [a])


def isfinite(x: Any) -> Array:
    """True where `x` is neither infinite nor NaN (floats only)."""
    a = _as_array(x)
    if not _is_float(a.dtype):
        raise TypeError(f"isfinite needs a float operand, got {a.dtype}")
    return abs(a) < float("inf")


def atan2(y: Any, x: Any) -> Array:
    """The angle of the point `(x, y)`, elementwise (floats; NaN and signed zeros as C's atan2)."""
    from ._array import _binary

    a = _as_array(y, x if isinstance(x, Array) else None)
    if not _is_float(a.dtype):
        raise TypeError(f"atan2 needs float operands, got {a.dtype}")
    return _binary("atan2", a, x)


def minimum(a: Any, b: Any) -> Array:
    """Elementwise minimum (NaN propagates, -0.0 < +0.0)."""
    from ._array import _binary

    return _binary("min", a, b)


def maximum(a: Any, b: Any) -> Array:
    """Elementwise maximum (NaN propagates, -0.0 < +0.0)."""
    from ._array import _binary

    return _binary("max", a, b)
