"""graphjit values for Python: an `Array` is either eager (it holds a NumPy array, and each op
runs at once in graphjit's interpreter) or traced (it names a value of a function being built,
which is compiled once and run many times). One set of op definitions serves both: an eager op
is a one-op function, traced and then interpreted, so both styles share graphjit's semantics."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from . import _graphjit

# graphjit dtype names and the NumPy dtypes they map to (only those this build knows are used).
_NP_OF = {
    "bool": "bool",
    "i8": "int8",
    "i16": "int16",
    "i32": "int32",
    "i64": "int64",
    "u8": "uint8",
    "u16": "uint16",
    "u32": "uint32",
    "u64": "uint64",
    "f16": "float16",
    "f32": "float32",
    "f64": "float64",
}
_KNOWN = set(_graphjit.dtypes())
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


_NAME_OF = {v: k for k, v in _NP_OF.items()}
# NumPy dtype objects already named, so that the hot path of eager ops skips NumPy's slow
# `dtype.name` property.
_DTYPE_NAMES: dict[Any, str] = {}


def dtype_name(dt: Any) -> str:
    """The graphjit name of a NumPy dtype (or of a graphjit name), e.g. `float32` -> `f32`."""
    if isinstance(dt, str) and dt in _KNOWN:
        return dt
    try:
        return _DTYPE_NAMES[dt]
    except (KeyError, TypeError):
        pass
    d = np.dtype(dt)
    name = "bf16" if d.name == "bfloat16" else _NAME_OF.get(d.name, d.name)
    if name not in _KNOWN:
        raise TypeError(
            f"dtype {d.name} is not supported by graphjit (this build knows: "
            f"{', '.join(sorted(_KNOWN))})"
        )
    if isinstance(dt, np.dtype):
        _DTYPE_NAMES[dt] = name
    return name


def numpy_dtype(name: str) -> np.dtype:
    """The NumPy dtype of a graphjit dtype name; `bf16` needs the `ml_dtypes` package."""
    if name == "bf16":
        try:
            import ml_dtypes  # type: ignore[import-not-found]
        except ImportError as e:
            raise TypeError(
                "bf16 has no NumPy dtype; install the ml_dtypes package to use bf16 arrays"
            ) from e
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(_NP_OF[name])


def _is_float(dt: str) -> bool:
    return dt in ("f16", "bf16", "f32", "f64")


def _is_int(dt: str) -> bool:
    return dt[0] in "iu" and dt != "bool"


def type_text(dtype: str, shape: Sequence[int]) -> str:
    """A tensor type in IR syntax: `f32` for a scalar, `f32[2,3]` otherwise."""
    if not shape:
        return dtype
    return f"{dtype}[{','.join(str(d) for d in shape)}]"


def _literal(x: np.ndarray) -> str:
    """An array as an IR literal (nested lists; NaN and infinities by name)."""

    def atom(v: Any) -> str:
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        if isinstance(v, float):
            return repr(v)
        return str(v)

    def rec(a: Any) -> str:
        if isinstance(a, list):
            return "[" + ", ".join(rec(e) for e in a) + "]"
        return atom(a)

    if x.dtype.kind == "f" and x.dtype.itemsize < 4 or x.dtype.name == "bfloat16":
        x = x.astype(np.float32)
    return rec(x.tolist())


class GraphBreak(Exception):
    """Raised inside a trace when Python reads a traced value (`bool(t)`, `int(t)`...)."""

    def __init__(self, what: str, where: str):
        super().__init__(f"`{what}` read a traced value into Python control flow at {where}")
        self.what = what
        self.where = where


def _caller_location() -> str:
    """file:line of the innermost caller outside the graphjit package."""
    f = sys._getframe(1)
    while f is not None and os.path.dirname(os.path.abspath(f.f_code.co_filename)) == _PACKAGE_DIR:
        f = f.f_back
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno}"


class _Scope:
    """One region of a trace; values defined in it are usable only while it is open."""

    def __init__(self, trace: _Trace, parent: _Scope | None):
        self.trace = trace
        self.parent = parent
        self.lines: list[str] = []
        self.open = True

    def sees(self, other: _Scope) -> bool:
        s: _Scope | None = self
        while s is not None:
            if s is other:
                return other.open
            s = s.parent
        return False


class _Trace:
    """A function being built: parameters, a stack of open regions, and fresh value names."""

    def __init__(self, name: str):
        self.name = name
        self.params: list[tuple[str, str]] = []
        self.counter = 0
        self.scope = _Scope(self, None)
        self.root = self.scope

    def fresh(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"%{prefix}{self.counter}"

    def param(self, dtype: str, shape: tuple[int, ...]) -> Array:
        name = self.fresh("arg")
        self.params.append((name, type_text(dtype, shape)))
        return Array._traced(self, self.scope, name, dtype, shape)

    def emit(self, line: str) -> None:
        self.scope.lines.append(line)

    def text(self, results: Sequence[Array]) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in self.params)
        rtypes = ", ".join(type_text(r.dtype, r.shape) for r in results)
        body = "\n".join("  " + line for line in self.root.lines)
        ret = ", ".join(r._name for r in results)  # type: ignore[misc]
        return f"func @{self.name}({params}) -> ({rtypes}) {{\n{body}\n  return {ret}\n}}\n"


_state = threading.local()


def _current() -> _Trace | None:
    return getattr(_state, "trace", None)


class _Tracing:
    """Makes a trace current for the duration of a `with` block (per thread)."""

    def __init__(self, trace: _Trace | None):
        self.trace = trace

    def __enter__(self) -> _Trace | None:
        self.saved = _current()
        _state.trace = self.trace
        return self.trace

    def __exit__(self, *exc: Any) -> None:
        _state.trace = self.saved


# One-op functions already loaded for eager execution, by their IR text.
_EAGER_CACHE: dict[str, Any] = {}
_EAGER_LOCK = threading.Lock()


def _weak(x: Any) -> bool:
    return isinstance(x, (bool, int, float)) and not isinstance(x, Array)


class Array:
    """A graphjit value: eager (holding a NumPy array) or traced (inside `graphjit.jit`)."""

    __slots__ = ("_np", "_trace", "_scope", "_name", "dtype", "shape")
    __array_priority__ = 100  # numpy defers `ndarray + Array` to Array.__radd__

    def __init__(self, value: Any):
        arr = np.asarray(value)
        self.dtype = dtype_name(arr.dtype)
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        self._np: np.ndarray | None = arr
        self._trace: _Trace | None = None
        self._scope: _Scope | None = None
        self._name: str | None = None
        self.shape: tuple[int, ...] = tuple(arr.shape)

    @classmethod
    def _traced(cls, trace: _Trace, scope: _Scope, name: str, dtype: str, shape: tuple) -> Array:
        a = cls.__new__(cls)
        a._np = None
        a._trace = trace
        a._scope = scope
        a._name = name
        a.dtype = dtype
        a.shape = tuple(shape)
        return a

    # --- basic properties -------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def is_traced(self) -> bool:
        return self._trace is not None

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (the array itself, not a copy, for an eager value)."""
        if self._np is None:
            raise GraphBreak("numpy()", _caller_location())
        return self._np

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __repr__(self) -> str:
        if self._np is None:
            return f"Array(traced {self._name}: {type_text(self.dtype, self.shape)})"
        return f"Array({self._np!r})"

    # --- reading values into Python: a graph break when traced -------------------------------
    def _read(self, what: str) -> np.ndarray:
        if self._np is None:
            raise GraphBreak(what, _caller_location())
        return self._np

    def __bool__(self) -> bool:
        v = self._read("bool()")
        if v.size != 1:
            raise ValueError(
                f"the truth value of an array of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(v.reshape(()))

    def __int__(self) -> int:
        return int(self._read("int()").reshape(()))

    def __float__(self) -> float:
        return float(self._read("float()").reshape(()))

    def __index__(self) -> int:
        if not _is_int(self.dtype):
            raise TypeError(f"only integer arrays can be used as an index, not {self.dtype}")
        return int(self._read("index()").reshape(()))

    def item(self) -> Any:
        return self._read("item()").reshape(()).item()

    def tolist(self) -> Any:
        return self._read("tolist()").tolist()

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar array")
        return self.shape[0]

    # --- arithmetic ------------------------------------------------------------------------
    def __add__(self, o: Any) -> Array:
        return _binary("add", self, o)

    def __radd__(self, o: Any) -> Array:
        return _binary("add", o, self)

    def __sub__(self, o: Any) -> Array:
        return _binary("sub", self, o)

    def __rsub__(self, o: Any) -> Array:
        return _binary("sub", o, self)

    def __mul__(self, o: Any) -> Array:
        return _binary("mul", self, o)

    def __rmul__(self, o: Any) -> Array:
        return _binary("mul", o, self)

    def __truediv__(self, o: Any) -> Array:
        return _binary("div", self, o)

    def __rtruediv__(self, o: Any) -> Array:
        return _binary("div", o, self)

    def __floordiv__(self, o: Any) -> Array:
        # graphjit's integer `div` truncates toward zero, as C and XLA do (not Python's floor).
        return _binary("div", self, o)

    def __mod__(self, o: Any) -> Array:
        return _binary("rem", self, o)

    def __rmod__(self, o: Any) -> Array:
        return _binary("rem", o, self)

    def __pow__(self, o: Any) -> Array:
        return _binary("pow", self, o)

    def __rpow__(self, o: Any) -> Array:
        return _binary("pow", o, self)

    def __and__(self, o: Any) -> Array:
        return _binary("and", self, o)

    def __rand__(self, o: Any) -> Array:
        return _binary("and", o, self)

    def __or__(self, o: Any) -> Array:
        return _binary("or", self, o)

    def __ror__(self, o: Any) -> Array:
        return _binary("or", o, self)

    def __xor__(self, o: Any) -> Array:
        return _binary("xor", self, o)

    def __rxor__(self, o: Any) -> Array:
        return _binary("xor", o, self)

    def __lshift__(self, o: Any) -> Array:
        return _binary("shl", self, o)

    def __rshift__(self, o: Any) -> Array:
        return _binary("shr_logical" if self.dtype[0] == "u" else "shr_arith", self, o)

    def __neg__(self) -> Array:
        return _unary("neg", self)

    def __pos__(self) -> Array:
        return self

    def __abs__(self) -> Array:
        return _unary("abs", self)

    def __invert__(self) -> Array:
        return _unary("not", self)

    def __matmul__(self, o: Any) -> Array:
        from ._ops import dot

        return dot(self, o)

    def __rmatmul__(self, o: Any) -> Array:
        from ._ops import dot

        return dot(o, self)

    # --- comparisons -----------------------------------------------------------------------
    def __eq__(self, o: Any) -> Array:  # type: ignore[override]
        return _binary("eq", self, o)

    def __ne__(self, o: Any) -> Array:  # type: ignore[override]
        return _binary("ne", self, o)

    def __lt__(self, o: Any) -> Array:
        return _binary("lt", self, o)

    def __le__(self, o: Any) -> Array:
        return _binary("le", self, o)

    def __gt__(self, o: Any) -> Array:
        return _binary("gt", self, o)

    def __ge__(self, o: Any) -> Array:
        return _binary("ge", self, o)

    # --- reductions and shape ops ----------------------------------------------------------
    def sum(self, axis: Any = None) -> Array:
        return _reduce("sum", self, axis)

    def prod(self, axis: Any = None) -> Array:
        return _reduce("prod", self, axis)

    def min(self, axis: Any = None) -> Array:
        return _reduce("min", self, axis)

    def max(self, axis: Any = None) -> Array:
        return _reduce("max", self, axis)

    def any(self, axis: Any = None) -> Array:
        return _reduce("or", self.astype("bool") if self.dtype != "bool" else self, axis)

    def all(self, axis: Any = None) -> Array:
        return _reduce("and", self.astype("bool") if self.dtype != "bool" else self, axis)

    def astype(self, dtype: Any) -> Array:
        """Converts to another dtype with graphjit's rules (float to int truncates and
        saturates, NaN becomes 0)."""
        dt = dtype_name(dtype)
        if dt == self.dtype:
            return self
        return _apply(lambda t, x: t.op(f"convert {x}", dt, self.shape), [self])

    def reshape(self, *shape: Any) -> Array:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        dims = [int(d) for d in shape]
        if dims.count(-1) > 1:
            raise ValueError("reshape: at most one dimension can be -1")
        if -1 in dims:
            known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
            if known == 0 or self.size % known:
                raise ValueError(f"cannot reshape an array of shape {self.shape} into {shape}")
            dims[dims.index(-1)] = self.size // known
        if int(np.prod(dims, dtype=np.int64)) != self.size or any(d < 0 for d in dims):
            raise ValueError(f"cannot reshape an array of shape {self.shape} into {tuple(dims)}")
        if tuple(dims) == self.shape:
            return self
        return _apply(lambda t, x: t.op(f"reshape {x}", self.dtype, tuple(dims)), [self])

    def transpose(self, *perm: Any) -> Array:
        if len(perm) == 1 and isinstance(perm[0], (tuple, list)):
            perm = tuple(perm[0])
        p = [int(i) for i in perm] if perm else list(range(self.ndim))[::-1]
        if sorted(p) != list(range(self.ndim)):
            raise ValueError(f"transpose: {p} is not a permutation of the axes of {self.shape}")
        shape = tuple(self.shape[i] for i in p)
        return _apply(
            lambda t, x: t.op(f"transpose {x} perm=[{', '.join(map(str, p))}]", self.dtype, shape),
            [self],
        )

    @property
    def T(self) -> Array:
        return self.transpose()

    def broadcast_to(self, shape: Sequence[int]) -> Array:
        return broadcast_to(self, shape)

    def __getitem__(self, key: Any) -> Array:
        return _index(self, key)

    # --- the ops of loops (graphjit._ops) ----------------------------------------------------
    @property
    def at(self) -> Any:
        """Functional updates, as in JAX: `x.at[i].set(v)`, `.add(v)`, `.mul`, `.min`, `.max`."""
        from ._ops import _At

        return _At(self)

    def argmax(self, axis: int | None = None) -> Array:
        from ._ops import argmax

        return argmax(self, axis)

    def argmin(self, axis: int | None = None) -> Array:
        from ._ops import argmin

        return argmin(self, axis)

    def sort(self, axis: int = -1) -> Array:
        from ._ops import sort

        return sort(self, axis)

    def argsort(self, axis: int = -1) -> Array:
        from ._ops import argsort

        return argsort(self, axis)

    def cumsum(self, axis: int | None = None) -> Array:
        from ._ops import cumsum

        return cumsum(self, axis)

    def cumprod(self, axis: int | None = None) -> Array:
        from ._ops import cumprod

        return cumprod(self, axis)


# --- the op machinery ---------------------------------------------------------------------


class _Emitter:
    """Emits ops into the current region of a trace and gives their results as Arrays."""

    def __init__(self, trace: _Trace):
        self.trace = trace

    def op(self, text: str, dtype: str, shape: tuple) -> Array:
        name = self.trace.fresh()
        self.trace.emit(f"{name} = {text} : {type_text(dtype, shape)}")
        return Array._traced(self.trace, self.trace.scope, name, dtype, tuple(shape))

    def const(self, value: np.ndarray, dtype: str) -> Array:
        v = np.asarray(value)
        return self.op(f"const {_literal(v)}", dtype, tuple(v.shape))

    def broadcast(self, x: Array, shape: tuple) -> Array:
        if x.shape == tuple(shape):
            return x
        off = len(shape) - len(x.shape)
        if x.shape and any(d != 1 for d in x.shape):
            # Dims of size 1 that expand are dropped by a reshape first, so that the
            # broadcast's operand dims all equal their result dims.
            keep = [i for i, d in enumerate(x.shape) if d == shape[off + i]]
            if len(keep) != len(x.shape):
                x = self.op(f"reshape {x._name}", x.dtype, tuple(x.shape[i] for i in keep))
            dims = [off + i for i in keep]
        else:
            if x.shape:
                x = self.op(f"reshape {x._name}", x.dtype, ())
            dims = []
        return self.op(
            f"broadcast {x._name} dims=[{', '.join(map(str, dims))}]", x.dtype, tuple(shape)
        )


def _check_visible(trace: _Trace, a: Array) -> None:
    if a._trace is not trace:
        raise ValueError(
            f"a traced value ({a._name}) was used outside the function that traced it; "
            "return it from the jitted function instead of storing it"
        )
    assert a._scope is not None
    if not trace.scope.sees(a._scope):
        raise ValueError(
            f"the traced value {a._name} was defined inside a while_loop or cond branch that has "
            "ended; return it from the loop body or branch instead"
        )


def _apply(build: Callable[..., Array], operands: list[Array], key: Any = None) -> Array:
    """Runs `build(emitter, *operand_names)` on the operands: into the current trace when one
    of them is traced, else eagerly as a one-op function in the interpreter."""
    trace = _current()
    traced = [a for a in operands if a._trace is not None]
    if traced or trace is not None:
        t = traced[0]._trace if traced else trace
        assert t is not None
        em = _Emitter(t)
        names = []
        for a in operands:
            if a._trace is None:
                assert a._np is not None
                names.append(em.const(a._np, a.dtype)._name)
            else:
                _check_visible(t, a)
                names.append(a._name)
        return build(em, *names)
    return _eager(build, operands, key)


def _eager(build: Callable[..., Array], operands: list[Array], key: Any = None) -> Array:
    """Runs one op eagerly. `key`, when given, identifies the op and operand types, so that a
    repeated op skips building its IR text."""
    if key is not None:
        fn = _EAGER_CACHE.get(key)
        if fn is not None:
            return Array(fn.interpret(*[a._np for a in operands]))
    tr = _Trace("eager")
    params = [tr.param(a.dtype, a.shape) for a in operands]
    with _Tracing(tr):
        out = build(_Emitter(tr), *[p._name for p in params])
    text = tr.text([out])
    fn = _EAGER_CACHE.get(text)
    if fn is None:
        fn = _graphjit.load_text(text)["eager"]
        with _EAGER_LOCK:
            if len(_EAGER_CACHE) > 4096:
                _EAGER_CACHE.clear()
            _EAGER_CACHE[text] = fn
            if key is not None:
                _EAGER_CACHE[key] = fn
    result = fn.interpret(*[a._np for a in operands])
    return Array(result)


def _as_array(x: Any, like: Array | None = None) -> Array:
    """An operand as an Array: Python numbers take the dtype of the other operand (as JAX's weak
    types do), NumPy arrays and other values go through numpy.asarray."""
    if isinstance(x, Array):
        return x
    if _weak(x) and like is not None:
        if isinstance(x, float) and not _is_float(like.dtype):
            raise TypeError(
                f"cannot combine a Python float ({x!r}) with an array of dtype {like.dtype}; "
                "use .astype() to convert one of them"
            )
        if (
            isinstance(x, bool)
            and like.dtype != "bool"
            or like.dtype == "bool"
            and not isinstance(x, bool)
        ):
            raise TypeError(f"cannot combine {x!r} with an array of dtype {like.dtype}")
        return Array(np.asarray(x, dtype=numpy_dtype(like.dtype)))
    return Array(np.asarray(x))


def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"shapes {a} and {b} do not broadcast together")
        out.append(y if x == 1 else x)
    return tuple(out)


_INT_OPS = {"and", "or", "xor", "shl", "shr_logical", "shr_arith"}
_CMP_OPS = {"eq", "ne", "lt", "le", "gt", "ge"}


def _binary(op: str, a: Any, b: Any) -> Array:
    if not isinstance(a, Array) and not isinstance(b, Array):
        a = Array(np.asarray(a))
    x = _as_array(a, b if isinstance(b, Array) else None)
    y = _as_array(b, x)
    if x.dtype != y.dtype:
        raise TypeError(
            f"{op}: operands have dtypes {x.dtype} and {y.dtype}; graphjit does not promote "
            "implicitly, use .astype() on one of them"
        )
    dt = x.dtype
    if op in _INT_OPS and _is_float(dt):
        raise TypeError(f"{op} needs bool or integer operands, got {dt}")
    if op == "pow" and not _is_float(dt):
        raise TypeError(f"pow (**) needs float operands, got {dt}; use .astype('f32') first")
    if op not in _INT_OPS and op not in _CMP_OPS and dt == "bool":
        raise TypeError(f"{op} needs numeric operands, got bool")
    shape = broadcast_shapes(x.shape, y.shape)
    rdt = "bool" if op in _CMP_OPS else dt

    def build(em: _Emitter, xn: str, yn: str) -> Array:
        xv = em.broadcast(Array._traced(em.trace, em.trace.scope, xn, dt, x.shape), shape)
        yv = em.broadcast(Array._traced(em.trace, em.trace.scope, yn, dt, y.shape), shape)
        return em.op(f"{op} {xv._name}, {yv._name}", rdt, shape)

    return _apply(build, [x, y], ("binary", op, dt, x.shape, y.shape))


def _unary(op: str, a: Any) -> Array:
    x = _as_array(a)
    if op in (
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sin",
        "cos",
        "floor",
        "ceil",
        "round",
    ) and not _is_float(x.dtype):
        raise TypeError(f"{op} needs a float operand, got {x.dtype}")
    if op in ("neg", "abs") and x.dtype == "bool":
        raise TypeError(f"{op} needs a numeric operand, got bool")
    if op == "not" and _is_float(x.dtype):
        raise TypeError(f"~ (not) needs a bool or integer operand, got {x.dtype}")
    return _apply(
        lambda em, n: em.op(f"{op} {n}", x.dtype, x.shape), [x], ("unary", op, x.dtype, x.shape)
    )


def _axes(x: Array, axis: Any) -> list[int]:
    if axis is None:
        return list(range(x.ndim))
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        if not -x.ndim <= a < x.ndim:
            raise ValueError(f"axis {a} is out of range for an array of shape {x.shape}")
        out.append(a % x.ndim)
    return sorted(set(out))


def _reduce(kind: str, x: Array, axis: Any) -> Array:
    axes = _axes(x, axis)
    if kind in ("sum", "prod", "min", "max") and x.dtype == "bool":
        raise TypeError(f"{kind} needs a numeric array, got bool; use .astype() first")
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    if not axes:
        return x
    return _apply(
        lambda em, n: em.op(
            f"reduce.{kind} {n} axes=[{', '.join(map(str, axes))}]", x.dtype, shape
        ),
        [x],
    )


def _index(x: Array, key: Any) -> Array:
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is Ellipsis or k is None for k in key):
        raise TypeError("graphjit indexing takes integers and slices (no ... or None)")
    if len(key) > x.ndim:
        raise IndexError(f"too many indices ({len(key)}) for an array of shape {x.shape}")
    from ._ops import index, is_dynamic_key

    if any(is_dynamic_key(k) for k in key):
        return index(x, key)
    start, limit, stride, out_shape = [], [], [], []
    for i, d in enumerate(x.shape):
        k = key[i] if i < len(key) else slice(None)
        if isinstance(k, Array):
            k = int(k)
        if isinstance(k, slice):
            s, e, st = k.indices(d)
            if st <= 0:
                raise IndexError("graphjit slices need a positive step")
            n = max(0, (e - s + st - 1) // st)
            start.append(s)
            limit.append(max(s, e) if n else s)
            stride.append(st)
            out_shape.append(n)
        else:
            try:
                j = int(k)
            except TypeError:
                raise TypeError(f"index {k!r} is not an integer or a slice") from None
            if not -d <= j < d:
                raise IndexError(f"index {j} is out of bounds for axis {i} with size {d}")
            j %= d
            start.append(j)
            limit.append(j + 1)
            stride.append(1)
    full = tuple(
        (limit[i] - start[i] + stride[i] - 1) // stride[i] if stride[i] else 0
        for i in range(x.ndim)
    )
    final = tuple(out_shape)

    def build(em: _Emitter, n: str) -> Array:
        v = em.op(
            f"slice {n} start=[{', '.join(map(str, start))}] limit=[{', '.join(map(str, limit))}]"
            f" stride=[{', '.join(map(str, stride))}]",
            x.dtype,
            full,
        )
        if full != final:
            v = em.op(f"reshape {v._name}", x.dtype, final)
        return v

    return _apply(build, [x])


def broadcast_to(x: Any, shape: Sequence[int]) -> Array:
    """Broadcasts `x` to `shape` with NumPy's rules."""
    a = _as_array(x)
    shape = tuple(int(d) for d in shape)
    if broadcast_shapes(a.shape, shape) != shape:
        raise ValueError(f"cannot broadcast shape {a.shape} to {shape}")
    return _apply(
        lambda em, n: em.broadcast(
            Array._traced(em.trace, em.trace.scope, n, a.dtype, a.shape), shape
        ),
        [a],
    )


def asarray(x: Any, dtype: Any = None) -> Array:
    """An eager graphjit value holding `x` (a NumPy array is kept without copying when it is
    C-contiguous and already of the dtype)."""
    if isinstance(x, Array):
        return x if dtype is None else x.astype(dtype)
    arr = np.asarray(x) if dtype is None else np.asarray(x, dtype=numpy_dtype(dtype_name(dtype)))
    return Array(arr)
