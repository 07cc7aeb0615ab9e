"""`Function.run_into`: results written into caller-provided NumPy arrays, and every way an
output array can be unusable."""

import numpy as np
import pytest

import graphjit

TEXT = """
func @two(%a: f32[2,3]) -> (f32[2,3], i32) {
  %b = add %a, %a : f32[2,3]
  %c = const 7 : i32
  return %b, %c
}
"""


@pytest.fixture(scope="module")
def two():
    return graphjit.load(TEXT)["two"]


def test_run_into_writes_in_place(two):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    out0 = np.zeros((2, 3), np.float32)
    out1 = np.zeros((), np.int32)
    buf = out0.ctypes.data
    two.run_into([a], [out0, out1])
    np.testing.assert_array_equal(out0, a * 2)
    assert int(out1) == 7
    assert out0.ctypes.data == buf


def test_run_into_wrong_dtype(two):
    with pytest.raises(TypeError, match="output 0 must have dtype f32"):
        two.run_into([np.zeros((2, 3), np.float32)], [np.zeros((2, 3)), np.zeros((), np.int32)])


def test_run_into_wrong_shape(two):
    with pytest.raises(ValueError, match=r"output 0 must have shape \[2, 3\], got \[3, 2\]"):
        two.run_into(
            [np.zeros((2, 3), np.float32)], [np.zeros((3, 2), np.float32), np.zeros((), np.int32)]
        )


def test_run_into_read_only_output(two):
    out = np.zeros((2, 3), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="output 0 is read-only"):
        two.run_into([np.zeros((2, 3), np.float32)], [out, np.zeros((), np.int32)])


def test_run_into_non_contiguous_output(two):
    out = np.zeros((3, 2), np.float32).T
    with pytest.raises(ValueError, match="output 0 is not C-contiguous"):
        two.run_into([np.zeros((2, 3), np.float32)], [out, np.zeros((), np.int32)])


def test_run_into_wrong_output_count(two):
    with pytest.raises(TypeError, match="returns 2 result"):
        two.run_into([np.zeros((2, 3), np.float32)], [np.zeros((2, 3), np.float32)])


def test_run_into_outputs_must_be_arrays(two):
    with pytest.raises(TypeError, match="output 1 must be a NumPy array, got list"):
        two.run_into([np.zeros((2, 3), np.float32)], [np.zeros((2, 3), np.float32), [0]])
    with pytest.raises(TypeError, match="outputs must be a list or tuple"):
        two.run_into([np.zeros((2, 3), np.float32)], np.zeros(3))
