"""Loading IR, running it compiled and interpreted on NumPy arrays, and bad inputs."""

import numpy as np
import pytest

import graphjit

ADD = """
func @add(%a: f32[4], %b: f32[4]) -> f32[4] {
  %c = add %a, %b : f32[4]
  return %c
}
func @pair(%x: i32) -> (i32, i64) {
  %one = const 1 : i32
  %y = add %x, %one : i32
  %z = convert %x : i64
  return %y, %z
}
"""


def test_load_file_names_and_lookup(ir_dir):
    m = graphjit.load(ir_dir / "counter.gir")
    assert m.names() == ["counter"]
    assert m["counter"].name == "counter"
    assert m.function("@counter").name == "counter"
    assert "counter" in m and len(m) == 1


def test_load_path_as_str(ir_dir):
    m = graphjit.load(str(ir_dir / "poly.gir"))
    assert m.names() == ["poly8", "poly"]


def test_missing_function_is_keyerror_listing_names():
    m = graphjit.load(ADD)
    with pytest.raises(KeyError, match="no function @nope.*add, pair"):
        m["nope"]


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        graphjit.load("/nonexistent/file.gir")


def test_counter_compiled_and_interpreted(counter):
    r = counter(np.int32(0), np.int32(10))
    assert isinstance(r, tuple) and len(r) == 2
    assert r[0].dtype == np.int32 and r[0].shape == ()
    assert (int(r[0]), int(r[1])) == (20, 20)
    assert tuple(map(int, counter.interpret(np.int32(0), np.int32(10)))) == (20, 20)


def test_python_numbers_take_the_parameter_dtype(counter):
    assert tuple(map(int, counter(3, 4))) == (5, 5)


def test_single_result_is_an_array_not_a_tuple():
    f = graphjit.load(ADD)["add"]
    a = np.arange(4, dtype=np.float32)
    r = f(a, a)
    assert isinstance(r, np.ndarray)
    np.testing.assert_array_equal(r, a + a)


def test_several_results_of_different_dtypes():
    y, z = graphjit.load(ADD)["pair"](np.int32(41))
    assert (y.dtype, z.dtype) == (np.int32, np.int64)
    assert (int(y), int(z)) == (42, 41)


@pytest.mark.parametrize("name", ["poly8", "poly"])
def test_poly_compiled_equals_interpreted_bit_for_bit(ir_dir, name):
    f = graphjit.load(ir_dir / "poly.gir")[name]
    n = 8 if name == "poly8" else 1 << 20
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    a, b = f(x), f.interpret(x)
    assert a.tobytes() == b.tobytes()
    expected = ((x * 2 + 1) * x - 3) / (x + 4)
    np.testing.assert_allclose(a, expected, rtol=1e-5)


def test_integer_division_semantics_table():
    f = graphjit.load(
        "func @d(%a: i32[3], %b: i32[3]) -> i32[3] {\n %c = div %a, %b : i32[3]\n return %c\n}"
    )["d"]
    a = np.array([7, -7, -(2**31)], dtype=np.int32)
    b = np.array([0, 2, -1], dtype=np.int32)
    # x / 0 = -1; truncation toward zero; MIN / -1 = MIN (XLA's rules, not NumPy's).
    np.testing.assert_array_equal(f(a, b), [-1, -3, -(2**31)])
    np.testing.assert_array_equal(f.interpret(a, b), [-1, -3, -(2**31)])


def test_wrong_dtype_is_typeerror_naming_the_argument():
    f = graphjit.load(ADD)["add"]
    with pytest.raises(
        TypeError, match=r"argument 0 \(%a\) of @add must be f32\[4\], got f64\[4\]"
    ):
        f(np.zeros(4), np.zeros(4, np.float32))


def test_wrong_shape_is_typeerror():
    f = graphjit.load(ADD)["add"]
    with pytest.raises(TypeError, match=r"argument 1 \(%b\).*f32\[4\], got f32\[5\]"):
        f(np.zeros(4, np.float32), np.zeros(5, np.float32))


def test_wrong_count():
    f = graphjit.load(ADD)["add"]
    with pytest.raises(TypeError, match="@add takes 2 argument"):
        f(np.zeros(4, np.float32))


def test_unsupported_dtype():
    f = graphjit.load(ADD)["add"]
    with pytest.raises(TypeError, match="complex128.*not support"):
        f(np.zeros(4, np.complex128), np.zeros(4, np.float32))


def test_non_contiguous_input_is_rejected_with_the_fix():
    f = graphjit.load(ADD)["add"]
    x = np.zeros(8, np.float32)[::2]
    with pytest.raises(ValueError, match="not C-contiguous.*ascontiguousarray"):
        f(x, x)


def test_non_native_byte_order_is_rejected():
    f = graphjit.load(ADD)["add"]
    x = np.zeros(4, np.dtype(">f4"))
    with pytest.raises(ValueError, match="byte order"):
        f(x, x)


def test_parse_error_has_line_and_col():
    with pytest.raises(graphjit.ParseError) as e:
        graphjit.load("func @f(%a: i32) -> i32 {\n  %b = add %a, : i32\n  return %b\n}")
    assert e.value.line == 2
    assert "2:" in str(e.value)
    assert isinstance(e.value, graphjit.GraphjitError)


def test_verify_error_names_the_value():
    text = "func @f(%a: i32) -> i32 {\n  %b = add %a, %a : f32\n  return %b\n}"
    with pytest.raises(graphjit.VerifyError, match="in @f.*%b"):
        graphjit.load(text)


def test_exception_hierarchy():
    assert issubclass(graphjit.IterationLimit, graphjit.RunError)
    assert issubclass(graphjit.DeadlineExceeded, graphjit.RunError)
    assert issubclass(graphjit.Cancelled, graphjit.RunError)
    assert issubclass(graphjit.RunError, graphjit.GraphjitError)


def test_malformed_mlir_is_a_parse_error_with_a_position(tmp_path):
    p = tmp_path / "f.mlir"
    p.write_text("func.func @main() {\n  %0 = stablehlo.frobnicate : tensor<f32>\n}")
    with pytest.raises(graphjit.ParseError, match="frobnicate"):
        graphjit.load(p)


def test_dumps(counter):
    assert "while" in counter.ir and "@counter" in counter.ir
    assert "function" in counter.clif
    assert len(counter.asm.splitlines()) > 5
    assert counter.params == [("i32", ()), ("i32", ())]
    assert "@counter" in repr(counter)


def test_bench_reports_medians(counter):
    b = counter.bench(np.int32(0), np.int32(1000), seconds=0.02)
    assert b["compile_seconds"] > 0
    assert b["compiled_median_seconds"] > 0 and b["interpreted_median_seconds"] > 0
    assert b["compiled_runs"] >= 3


def test_bool_and_f64_round_trip():
    f = graphjit.load(
        "func @g(%x: f64[2,3]) -> (bool[2,3], f64[3]) {\n"
        "  %z = const 0 : f64[2,3]\n"
        "  %p = gt %x, %z : bool[2,3]\n"
        "  %s = reduce.sum %x axes=[0] : f64[3]\n"
        "  return %p, %s\n}"
    )["g"]
    x = np.array([[1.0, -2.0, 0.5], [-1.0, 3.0, np.nan]])
    p, s = f(x)
    np.testing.assert_array_equal(p, x > 0)
    assert s.shape == (3,) and s[0] == 0.0 and s[1] == 1.0 and np.isnan(s[2])


def test_load_stablehlo_file(ir_dir):
    files = sorted((ir_dir.parent / "tests" / "stablehlo").glob("*.mlir"))
    assert files
    m = graphjit.load(files[0])
    assert len(m.names()) >= 1
