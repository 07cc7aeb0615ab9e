"""Eager graphjit values: ops run at once with graphjit's semantics, NumPy in and out."""

import numpy as np
import pytest

import graphjit


def test_asarray_keeps_the_numpy_buffer():
    x = np.arange(4, dtype=np.float32)
    a = graphjit.asarray(x)
    assert a.numpy() is x
    assert a.shape == (4,) and a.dtype == "f32"


def test_eager_counter_python_while():
    first, second = graphjit.asarray(np.int32(0)), graphjit.asarray(np.int32(10))
    while first < second:
        first = first + 2
        second = second + 1
    assert (int(first), int(second)) == (20, 20)


def test_eager_uses_graphjit_integer_semantics():
    a = graphjit.asarray(np.array([7, -7], dtype=np.int32))
    b = graphjit.asarray(np.array([0, 2], dtype=np.int32))
    # graphjit: x / 0 = -1 and x % 0 = x; NumPy would warn and give 0.
    np.testing.assert_array_equal((a / b).numpy(), [-1, -3])
    np.testing.assert_array_equal((a % b).numpy(), [7, -1])


def test_eager_float_ops_match_compiled():
    x = np.linspace(-3, 3, 11, dtype=np.float32)

    @graphjit.jit
    def f(v):
        return graphjit.tanh(v) * graphjit.exp(v)

    eager = (graphjit.tanh(graphjit.asarray(x)) * graphjit.exp(graphjit.asarray(x))).numpy()
    assert eager.tobytes() == f(x).tobytes()


def test_eager_while_loop_and_cond_run_in_python():
    r = graphjit.while_loop(lambda v: v < 10, lambda v: v * 2, graphjit.asarray(np.int32(1)))
    assert int(r) == 16
    c = graphjit.cond(graphjit.asarray(True), lambda: 1, lambda: 2)
    assert c == 1


def test_eager_bool_of_vector_is_ambiguous():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(graphjit.asarray(np.zeros(3)) > 0)


def test_eager_indexing_and_shapes():
    x = graphjit.asarray(np.arange(12, dtype=np.int64).reshape(3, 4))
    np.testing.assert_array_equal(x[1].numpy(), [4, 5, 6, 7])
    np.testing.assert_array_equal(x[:, ::2].numpy(), np.arange(12).reshape(3, 4)[:, ::2])
    np.testing.assert_array_equal(x.T.numpy(), np.arange(12).reshape(3, 4).T)
    assert int(x[2, 3]) == 11
    with pytest.raises(IndexError, match="out of bounds"):
        x[3]


def test_eager_mixing_python_floats_with_ints_is_an_error():
    with pytest.raises(TypeError, match="Python float"):
        graphjit.asarray(np.int32(1)) + 0.5


def test_asarray_with_dtype_and_numpy_protocol():
    a = graphjit.asarray([1, 2, 3], dtype="f32")
    assert a.dtype == "f32"
    np.testing.assert_array_equal(np.asarray(a + 1.0), [2, 3, 4])


def test_asarray_rejects_unsupported_dtypes():
    with pytest.raises(TypeError, match="complex64 is not supported"):
        graphjit.asarray(np.zeros(2, np.complex64))


def test_eager_reductions_and_repr():
    x = graphjit.asarray(np.array([[1.5, -2.0], [4.0, 0.5]], dtype=np.float64))
    assert float(x.max()) == 4.0 and float(x.min()) == -2.0
    np.testing.assert_array_equal(x.sum(axis=0).numpy(), [5.5, -1.5])
    assert bool((x > 0).any()) and not bool((x > 0).all())
    assert "Array(" in repr(x)
