"""`graphjit.jit`: tracing Python functions into IR, compiled once per input signature, with
while_loop / fori_loop / cond, and the eager fallback when Python reads a traced value."""

import numpy as np
import pytest

import graphjit
from graphjit import cond, fori_loop, jit, while_loop


@jit
def counter(first, second):
    return while_loop(lambda v: v[0] < v[1], lambda v: (v[0] + 2, v[1] + 1), (first, second))


def test_counter_static_compiled_once_per_signature():
    f = jit(counter.__wrapped__)
    assert tuple(map(int, f(np.int32(0), np.int32(10)))) == (20, 20)
    assert tuple(map(int, f(np.int32(3), np.int32(4)))) == (5, 5)
    assert f.stats() == {"traces": 1, "compilations": 1, "cache_hits": 1, "fallbacks": 0}
    # A new signature is traced and compiled again.
    r = f(np.int64(0), np.int64(10))
    assert r[0].dtype == np.int64
    assert f.stats()["traces"] == 2 and f.stats()["compilations"] == 2
    assert "static, compiled" in f.explain()


def test_jit_ir_has_a_while_and_agrees_with_interpreter():
    f = jit(counter.__wrapped__)
    f(np.int32(0), np.int32(10))
    assert "while" in f.ir and "lt" in f.ir
    fn = f.function(np.int32(0), np.int32(10))
    assert tuple(map(int, fn.interpret(np.int32(-5), np.int32(7)))) == tuple(
        map(int, f(np.int32(-5), np.int32(7)))
    )
    assert "function" in f.clif and len(f.asm) > 0


def test_python_while_falls_back_to_eager_and_explains_where():
    @jit
    def dyn(first, second):
        while first < second:  # reads a traced value: a graph break
            first = first + 2
            second = second + 1
        return first, second

    r = dyn(np.int32(0), np.int32(10))
    assert tuple(map(int, r)) == (20, 20)
    assert dyn.stats()["fallbacks"] == 1
    text = dyn.explain()
    assert "dynamic, runs eagerly: `bool()`" in text
    assert "test_jit.py:" in text
    line = int(text.rsplit(":", 1)[1])
    src = open(__file__).read().splitlines()[line - 1]
    assert "while first < second" in src


@pytest.mark.parametrize("read", [int, float])
def test_int_and_float_are_graph_breaks(read):
    @jit
    def g(x):
        n = read(x)
        return x * 2 if n > 1 else x

    assert int(g(np.int32(3))) == 6
    assert f"`{read.__name__}()`" in g.explain()


def test_ops_operators_reductions_astype_reshape_indexing():
    @jit
    def f(x):
        y = (x * 2.0 + 1.0) / (x - 10.0)
        s = y.sum()
        m = x.reshape(2, 3)[1]
        i = x.astype("i32")
        return s, m, i[2:5], -x[0], (x >= 2.0).astype("f32").sum(axis=0), abs(x - 3.0).max()

    x = np.arange(6, dtype=np.float32)
    s, m, i, n, c, mx = f(x)
    # The sum's order is graphjit's documented order; compare with a tolerance here.
    np.testing.assert_allclose(s, ((x * 2 + 1) / (x - 10)).sum(), rtol=1e-6)
    np.testing.assert_array_equal(m, x.reshape(2, 3)[1])
    np.testing.assert_array_equal(i, [2, 3, 4])
    assert i.dtype == np.int32
    assert float(n) == -0.0 and float(c) == 4.0 and float(mx) == 3.0


def test_broadcasting_and_where_and_matmul():
    @jit
    def f(a, b, v):
        return graphjit.where(a > 0.0, a + b, 0.0), a @ v

    a = np.array([[1.0, -1.0], [2.0, 3.0]])
    b = np.array([10.0, 20.0])
    v = np.array([1.0, 1.0])
    w, d = f(a, b, v)
    np.testing.assert_array_equal(w, np.where(a > 0, a + b, 0.0))
    np.testing.assert_array_equal(d, a @ v)


def test_fori_loop_sum_of_squares():
    @jit
    def f(x):
        return fori_loop(0, 10, lambda i, acc: acc + (i * i).astype("i64"), x)

    assert int(f(np.int64(0))) == sum(i * i for i in range(10))
    assert "while" in f.ir


def test_cond_traces_both_branches():
    @jit
    def f(x):
        return cond(x < 0, lambda v: -2 * v, lambda v: v + 100, x)

    assert int(f(np.int32(-4))) == 8
    assert int(f(np.int32(5))) == 105
    assert " if " in f.ir and f.stats()["compilations"] == 1


def test_cond_branches_must_agree():
    @jit
    def f(x):
        return cond(x < 0, lambda: x, lambda: x.astype("f32"))

    with pytest.raises(TypeError, match="cond branches return different types"):
        f(np.int32(1))


def test_while_loop_body_must_keep_types():
    @jit
    def f(x):
        return while_loop(lambda v: v < 10, lambda v: v.astype("f32"), x)

    with pytest.raises(TypeError, match="changed type"):
        f(np.int32(0))


def test_loop_value_used_outside_its_body_is_an_error():
    leaked = []

    @jit
    def f(x):
        def body(v):
            leaked.append(v + 1)
            return v + 1

        r = while_loop(lambda v: v < 3, body, x)
        return r + leaked[0]

    with pytest.raises(ValueError, match="while_loop or cond branch that has ended"):
        f(np.int32(0))


def test_outer_values_visible_inside_loops():
    @jit
    def f(x, step):
        return while_loop(lambda v: v < 100, lambda v: v + step, x)

    assert int(f(np.int32(0), np.int32(7))) == 105


def test_dtype_mismatch_is_a_clear_error():
    @jit
    def f(x, y):
        return x + y

    with pytest.raises(TypeError, match="dtypes f32 and i32.*astype"):
        f(np.float32(1), np.int32(1))


def test_shape_mismatch_is_a_clear_error():
    @jit
    def f(x, y):
        return x + y

    with pytest.raises(ValueError, match="do not broadcast"):
        f(np.zeros(3, np.float32), np.zeros(4, np.float32))


def test_jit_kwargs_reach_the_compiled_run():
    with pytest.raises(graphjit.IterationLimit):
        counter(np.int32(0), np.int32(1000), max_iters=5)


def test_jit_bench_and_dynamic_bench():
    f = jit(counter.__wrapped__)
    b = f.bench(np.int32(0), np.int32(100), seconds=0.02)
    assert b["dynamic"] is False and b["compiled_median_seconds"] > 0 and b["trace_seconds"] > 0

    @jit
    def dyn(x):
        return x + 1 if bool(x > 0) else x

    assert dyn.bench(np.int32(1), seconds=0.02)["dynamic"] is True


def test_decorator_with_name():
    @jit(name="stepper")
    def f(x):
        return x + 1

    f(np.int32(1))
    assert "@stepper" in f.ir


def test_numpy_of_a_traced_value_is_a_graph_break():
    @jit
    def f(x):
        return x + float(np.asarray(x).sum())

    r = f(np.float32(2))
    assert float(r) == 4.0
    assert "`numpy()`" in f.explain()


def test_reshape_with_minus_one_and_bad_reshape():
    @jit
    def f(x):
        return x.reshape(-1, 2).sum(axis=1)

    np.testing.assert_array_equal(f(np.arange(6, dtype=np.int32)), [1, 5, 9])

    @jit
    def g(x):
        return x.reshape(4)

    with pytest.raises(ValueError, match="cannot reshape"):
        g(np.arange(6, dtype=np.int32))


def test_comparisons_give_bool_and_logic_ops():
    @jit
    def f(x, y):
        return (x < y) & (x != 0) | ~(y > 5)

    x = np.array([0, 1, 2, 7], dtype=np.int64)
    y = np.array([1, 1, 9, 8], dtype=np.int64)
    r = f(x, y)
    assert r.dtype == np.bool_
    np.testing.assert_array_equal(r, ((x < y) & (x != 0)) | ~(y > 5))


def test_traced_index_compiles_to_a_dynamic_slice():
    @jit
    def f(x, i):
        return x[i]

    assert int(f(np.arange(3, dtype=np.int32) * 5, np.int32(2))) == 10
    assert f.stats()["compilations"] == 1 and "dynamic_slice" in f.ir
    with pytest.raises(TypeError, match="integer dtype"):
        f(np.arange(3, dtype=np.int32), np.float32(1))


def test_from_jax_needs_jax_or_runs_the_function():
    try:
        import jax  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="needs JAX"):
            graphjit.from_jax(lambda x: x, np.float32(1))
        return
    x = np.arange(4, dtype=np.float32)
    f = graphjit.from_jax(lambda v: v * 2 + 1, x)
    np.testing.assert_array_equal(f(x), x * 2 + 1)
