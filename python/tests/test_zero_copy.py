"""Arrays read and written in place by compiled code: results equal the copying paths (the
interpreter, and arrays that must be copied), arrays that cannot be used in place (unaligned,
aliased with an output, bools stored as other bytes) still give the right results, and the
ones graphjit refuses (strided, byte-swapped) say why."""

import numpy as np
import pytest

import graphjit

TEXT = """
func @axpy(%a: f32, %x: f32[64], %y: f32[64]) -> f32[64] {
  %ab = broadcast %a dims=[] : f32[64]
  %m = mul %ab, %x : f32[64]
  %r = add %m, %y : f32[64]
  return %r
}

func @rev(%x: i32[5]) -> i32[5] {
  %r = reverse %x dims=[0] : i32[5]
  return %r
}

func @flip(%p: bool[4]) -> bool[4] {
  %r = not %p : bool[4]
  return %r
}
"""


@pytest.fixture(scope="module")
def mod():
    return graphjit.load(TEXT)


def inputs(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(64).astype(np.float32)
    y = rng.standard_normal(64).astype(np.float32)
    return np.float32(1.5), x, y


def test_in_place_inputs_match_the_interpreter(mod):
    f = mod["axpy"]
    a, x, y = inputs(1)
    got = f(a, x, y)
    np.testing.assert_array_equal(got.view(np.uint32), f.interpret(a, x, y).view(np.uint32))
    # The inputs are untouched.
    a2, x2, y2 = inputs(1)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_arrays_that_must_be_copied_give_the_same_results(mod):
    f = mod["axpy"]
    a, x, y = inputs(2)
    want = f(a, x, y)
    # Strided arrays are refused rather than copied behind the caller's back.
    strided = np.repeat(x, 2)[::2]
    assert not strided.flags.c_contiguous
    with pytest.raises(ValueError, match="not C-contiguous"):
        f(a, strided, y)
    # Unaligned: the float data starts one byte into a buffer.
    raw = np.zeros(64 * 4 + 1, np.uint8)
    unaligned = np.frombuffer(raw.data, dtype=np.float32, count=64, offset=1)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(f(a, unaligned, y), want)
    swapped = x.astype(x.dtype.newbyteorder(">"))
    with pytest.raises(ValueError, match="native byte order"):
        f(a, swapped, y)


def test_run_into_with_an_output_that_is_also_an_input(mod):
    rev = mod["rev"]
    x = np.arange(5, dtype=np.int32)
    # Reading x while writing x in place would give [4, 3, 2, 3, 4]; the aliasing is detected
    # and the run goes through copies.
    rev.run_into([x], [x])
    np.testing.assert_array_equal(x, np.array([4, 3, 2, 1, 0], np.int32))


def test_run_into_in_place_writes_the_callers_array(mod):
    f = mod["axpy"]
    a, x, y = inputs(3)
    out = np.full(64, np.nan, np.float32)
    f.run_into([a, x, y], [out])
    np.testing.assert_array_equal(out, f(a, x, y))


def test_bool_arrays_in_place_and_invalid_bool_bytes(mod):
    flip = mod["flip"]
    p = np.array([True, False, False, True])
    np.testing.assert_array_equal(flip(p), ~p)
    out = np.zeros(4, bool)
    flip.run_into([p], [out])
    np.testing.assert_array_equal(out, ~p)
    # A bool view of bytes other than 0 and 1 cannot be used in place; it is normalised by
    # the copy, so 2 counts as true.
    odd = np.array([2, 0, 1, 0], np.uint8).view(bool)
    np.testing.assert_array_equal(flip(odd), np.array([False, True, False, True]))


def test_large_results_are_fresh_arrays_written_in_place(ir_dir):
    # Results of 64 KiB or more are NumPy arrays the compiled code writes directly (no
    # zeroed library buffer); each call still returns new arrays with the interpreter's bits.
    poly = graphjit.load(ir_dir / "poly.gir")["poly"]
    x = np.random.default_rng(3).standard_normal(1 << 20).astype(np.float32)
    x[:4] = [np.nan, -4.0, np.inf, -0.0]
    a, b = poly(x), poly(x)
    want = poly.interpret(x)
    assert a.dtype == np.float32 and a.shape == x.shape and a.flags.writeable
    assert not np.shares_memory(a, b) and not np.shares_memory(a, x)
    assert a.tobytes() == want.tobytes() and b.tobytes() == want.tobytes()
    a[:] = 0
    assert poly(x).tobytes() == want.tobytes()


def test_large_results_of_a_loop_stop_at_the_limit(ir_dir):
    decay = graphjit.load(
        """
func @decay(%v0: f32[32768], %n: i32) -> (f32[32768], i32) {
  %zero = const 0 : i32
  %one = const 1 : i32
  %half = const 0.5 : f32[32768]
  %onef = const 1 : f32[32768]
  %k, %v = while (%i = %zero, %x = %v0) : i32, f32[32768] {
    %more = lt %i, %n : bool
    yield %more
  } do {
    %h = mul %x, %half : f32[32768]
    %x2 = add %h, %onef : f32[32768]
    %i2 = add %i, %one : i32
    yield %i2, %x2
  }
  return %v, %k
}
"""
    )["decay"]
    v = np.arange(32768, dtype=np.float32)
    out, k = decay(v, np.int32(3))
    assert int(k) == 3
    assert out.tobytes() == decay.interpret(v, np.int32(3))[0].tobytes()
    with pytest.raises(graphjit.IterationLimit):
        decay(v, np.int32(100), max_iters=10)
