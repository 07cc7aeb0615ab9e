"""The ops of loops from Python: traced and array indexing, `.at[]` updates, argmax, sort,
scans, switch and the further math, each checked eagerly and compiled against NumPy."""

import math

import numpy as np
import pytest

import graphjit as gj


def both(fn, *args):
    """`fn` run eagerly and through `graphjit.jit`; both results as NumPy arrays."""
    eager = fn(*[gj.asarray(a) for a in args])
    compiled = gj.jit(fn)(*args)
    return np.asarray(eager), np.asarray(compiled)


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
    assert a.tobytes() == b.tobytes(), (a, b)


def test_fori_loop_dot_reads_x_i_with_traced_indices():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(1000).astype(np.float32)
    y = rng.standard_normal(1000).astype(np.float32)

    def dot(x, y):
        return gj.fori_loop(0, x.shape[0], lambda i, acc: acc + x[i] * y[i], np.float32(0))

    f = gj.jit(dot)
    got = f(x, y)
    # The loop adds in index order, so a sequential f32 loop gives exactly its bits.
    want = np.float32(0)
    for a, b in zip(x, y):
        want = np.float32(want + a * b)
    same_bits(got, want)
    assert "dynamic_slice" in f.ir
    assert f.stats()["compilations"] == 1


def test_traced_index_counts_negative_from_the_end_and_clamps():
    x = np.arange(10, dtype=np.int32) * 3
    f = gj.jit(lambda x, i: x[i])
    for i, want in [(0, 0), (4, 12), (-1, 27), (-10, 0), (25, 27), (-25, 0)]:
        assert int(f(x, np.int32(i))) == want, i
    # A row of a matrix by a traced index, then a static slice of it.
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = gj.jit(lambda m, i: m[i, 1:3])
    same_bits(g(m, np.int64(2)), m[2, 1:3])
    same_bits(g(m, np.int64(-2)), m[1, 1:3])


def test_traced_index_errors_say_what_is_wrong():
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="integer dtype"):
        gj.jit(lambda x, i: x[i])(x, np.float32(1))
    with pytest.raises(TypeError, match="full slices"):
        gj.jit(lambda x, i: x[i, 0])(np.zeros((4, 2), np.float32), np.zeros(2, np.int32))
    with pytest.raises(IndexError, match="size 0"):
        gj.jit(lambda x, i: x[i])(np.zeros(0, np.float32), np.int32(0))


@pytest.mark.parametrize("shape,axis", [((7,), 0), ((3, 5), 0), ((3, 5), 1)])
def test_array_indices_gather_like_numpy(shape, axis):
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    n = shape[axis]
    idx = np.array([[0, n - 1], [-1, 1]], dtype=np.int32)
    key = (idx,) if axis == 0 else (slice(None), idx)
    eager, compiled = both(lambda x, i: x[(i,) if axis == 0 else (slice(None), i)], x, idx)
    same_bits(eager, x[key])
    same_bits(compiled, x[key])


def test_take_clips_out_of_range_indices():
    x = np.array([10, 20, 30], np.int64)
    idx = np.array([-5, 0, 2, 9], np.int32)
    eager, compiled = both(lambda x, i: gj.take(x, i), x, idx)
    want = np.take(x, idx, mode="clip")
    same_bits(eager, want)
    same_bits(compiled, want)


def test_at_updates_match_numpy_ufunc_at():
    x = np.zeros(5, np.int32)
    idx = np.array([1, 3, 1, 1, 4], np.int32)
    v = np.array([1, 2, 3, 4, 5], np.int32)
    want = x.copy()
    np.add.at(want, idx, v)
    eager, compiled = both(lambda x, i, v: x.at[i].add(v), x, idx, v)
    same_bits(eager, want)
    same_bits(compiled, want)
    # set: where indices repeat, the last update wins (1 is set to 3, then to 4).
    want = x.copy()
    for i, u in zip(idx, v):
        want[i] = u
    eager, compiled = both(lambda x, i, v: x.at[i].set(v), x, idx, v)
    same_bits(eager, want)
    same_bits(compiled, want)
    for kind, ufunc in [("mul", np.multiply), ("min", np.minimum), ("max", np.maximum)]:
        base = np.array([2, -3, 4, 5, 6], np.int32)
        want = base.copy()
        ufunc.at(want, idx, v)
        eager, compiled = both(lambda x, i, v, k=kind: getattr(x.at[i], k)(v), base, idx, v)
        same_bits(eager, want)
        same_bits(compiled, want)


def test_at_drops_out_of_range_updates_and_wraps_negative_ones():
    x = np.arange(4, dtype=np.float32)
    f = gj.jit(lambda x, i: x.at[i].set(100.0))
    same_bits(f(x, np.int32(9)), x)
    same_bits(f(x, np.int32(-1)), np.array([0, 1, 2, 100], np.float32))
    same_bits(f(x, np.int32(-9)), x)
    # A row of a matrix, and a scalar by two indices.
    m = np.zeros((2, 3), np.float32)
    g = gj.jit(lambda m, i, r: m.at[i].add(r))
    same_bits(g(m, np.int32(1), np.ones(3, np.float32)), np.array([[0, 0, 0], [1, 1, 1]], "f4"))
    h = gj.jit(lambda m, i, j: m.at[i, j].set(7.0))
    same_bits(h(m, np.int32(1), np.int32(2)), np.array([[0, 0, 0], [0, 0, 7]], "f4"))


def test_histogram_in_a_fori_loop():
    data = np.random.default_rng(2).integers(0, 8, size=200).astype(np.int32)

    def hist(d):
        return gj.fori_loop(0, d.shape[0], lambda i, h: h.at[d[i]].add(1), np.zeros(8, np.int32))

    f = gj.jit(hist)
    same_bits(f(data), np.bincount(data, minlength=8).astype(np.int32))


def test_argmax_and_argmin_follow_numpy_with_ties_and_nan():
    cases = [
        np.array([1.0, 3.0, 3.0, -1.0], np.float32),
        np.array([1.0, np.nan, 3.0, np.nan], np.float32),
        np.array([-np.inf, -np.inf], np.float64),
        np.array([-0.0, 0.0, -0.0], np.float32),
        np.array([5, 2, 9, 9, 2], np.int8),
        np.array([3, 1, 3], np.uint32),
    ]
    for x in cases:
        for name in ("argmax", "argmin"):
            eager, compiled = both(lambda x, n=name: getattr(x, n)(), x)
            want = np.int32(getattr(np, name)(x))
            same_bits(eager, want)
            same_bits(compiled, want)
    m = np.array([[1.0, 5.0, 5.0], [np.nan, 2.0, 9.0]], np.float32)
    for axis in (0, 1):
        eager, compiled = both(lambda m, a=axis: gj.argmax(m, a), m)
        same_bits(eager, np.argmax(m, axis).astype(np.int32))
        same_bits(compiled, np.argmax(m, axis).astype(np.int32))
    with pytest.raises(ValueError, match="empty"):
        gj.argmax(gj.asarray(np.zeros(0, np.float32)))


def test_sort_and_argsort_match_numpy_stable_sort():
    x = np.array([3.0, -0.0, np.nan, 1.0, 0.0, -np.inf, -np.nan, 1.0, 2.5], np.float32)
    eager, compiled = both(lambda x: x.sort(), x)
    want = np.sort(x, kind="stable")
    same_bits(eager, want)
    same_bits(compiled, want)
    eager, compiled = both(lambda x: x.argsort(), x)
    want = np.argsort(x, kind="stable").astype(np.int32)
    same_bits(eager, want)
    same_bits(compiled, want)
    m = np.random.default_rng(3).integers(-5, 5, size=(4, 6)).astype(np.int16)
    for axis in (0, 1, -1):
        eager, compiled = both(lambda m, a=axis: gj.sort(m, a), m)
        same_bits(eager, np.sort(m, axis, kind="stable"))
        same_bits(compiled, np.sort(m, axis, kind="stable"))


def test_top_k_by_sort_in_a_jitted_function():
    x = np.random.default_rng(4).standard_normal(50).astype(np.float64)
    f = gj.jit(lambda x: x.argsort()[45:])
    same_bits(f(x), np.argsort(x, kind="stable")[45:].astype(np.int32))


def test_scans_add_in_index_order():
    x = np.random.default_rng(5).standard_normal((3, 100)).astype(np.float32)
    for axis in (0, 1, None):
        eager, compiled = both(lambda x, a=axis: gj.cumsum(x, a), x)
        # NumPy's cumsum adds sequentially too, so the bits agree.
        same_bits(eager, np.cumsum(x, axis))
        same_bits(compiled, np.cumsum(x, axis))
    i = np.array([3, -1, 4, 1, -5, 9], np.int64)
    for name, want in [
        ("cumprod", np.cumprod(i)),
        ("cummax", np.maximum.accumulate(i)),
        ("cummin", np.minimum.accumulate(i)),
    ]:
        eager, compiled = both(lambda x, n=name: getattr(gj, n)(x), i)
        same_bits(eager, want)
        same_bits(compiled, want)
    same_bits(gj.cumsum(gj.asarray(np.zeros((2, 0), np.float32)), 1), np.zeros((2, 0), np.float32))


def test_switch_clamps_its_index_and_traces_every_branch():
    branches = [lambda x: x + 1.0, lambda x: x * 2.0, lambda x: -x]
    f = gj.jit(lambda i, x: gj.switch(i, branches, x))
    x = np.array([1.5, -2.0], np.float32)
    for i, want in [(0, x + 1), (1, x * 2), (2, -x), (7, -x), (-3, x + 1)]:
        same_bits(f(np.int32(i), x), want)
    assert "case" in f.ir and f.stats()["compilations"] == 1
    same_bits(gj.switch(1, branches, gj.asarray(x)), x * 2)
    with pytest.raises(TypeError, match="different types"):
        gj.jit(lambda i, x: gj.switch(i, [lambda x: x, lambda x: x.sum()], x))(np.int32(0), x)


def test_math_functions_are_accurate_and_agree_in_both_executors():
    x = np.linspace(-3, 3, 61).astype(np.float64)
    refs = {
        "expm1": np.expm1,
        "log1p": lambda v: np.log1p(np.abs(v)),
        "cbrt": np.cbrt,
        "logistic": lambda v: 1 / (1 + np.exp(-v)),
        "erf": np.vectorize(math.erf),
    }
    for name, ref in refs.items():
        arg = np.abs(x) if name == "log1p" else x
        eager, compiled = both(getattr(gj, name), arg)
        same_bits(eager, compiled)
        np.testing.assert_allclose(compiled, ref(x), rtol=4e-16, atol=1e-300, err_msg=name)
    eager, compiled = both(gj.rsqrt, np.abs(x) + 0.5)
    same_bits(eager, compiled)
    np.testing.assert_allclose(compiled, 1 / np.sqrt(np.abs(x) + 0.5), rtol=4e-16)
    f = np.array([-2.5, -0.0, 0.0, np.nan, 3.0, np.inf], np.float32)
    # StableHLO's sign keeps the zero's sign (NumPy's gives +0.0 for -0.0).
    same_bits(gj.sign(f).numpy(), np.where(f == 0, f, np.sign(f)))
    same_bits(gj.isfinite(f).numpy(), np.isfinite(f))
    same_bits(
        gj.round_afz(gj.asarray(np.array([0.5, -2.5, 1.4], "f4"))), np.array([1, -3, 1], "f4")
    )
    eager, compiled = both(lambda y: gj.atan2(y, np.float32(1.0)), f)
    same_bits(eager, compiled)
    # Within 1 ulp of the f64 result rounded to f32.
    ref = np.arctan2(f.astype(np.float64), 1.0).astype(np.float32)
    ok = np.isnan(ref) | (np.abs(compiled - ref) <= np.spacing(np.abs(ref)))
    assert ok.all(), (compiled, ref)
    u = np.array([0, 1, 255, 256], np.uint32)
    same_bits(gj.popcount(u).numpy(), np.array([0, 1, 8, 1], np.uint32))
    same_bits(gj.clz(u).numpy(), np.array([32, 31, 24, 23], np.uint32))
    same_bits(gj.clip(gj.asarray(f), -1.0, 1.0).numpy()[[0, 4]], np.array([-1, 1], "f4"))
    with pytest.raises(TypeError, match="float"):
        gj.erf(np.arange(3))
