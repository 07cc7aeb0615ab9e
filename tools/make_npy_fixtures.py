"""Writes the NumPy fixtures of tests/data/npy/, which tests/tensor_files.rs reads back.

Run from the repository root with NumPy installed:

    python3 -m venv /tmp/npenv && /tmp/npenv/bin/pip install numpy
    /tmp/npenv/bin/python tools/make_npy_fixtures.py

Every array's values follow from a formula that the Rust test computes on its own side
(`expected` in tests/tensor_files.rs), so the fixtures check graphjit's reader against NumPy's
writer rather than against themselves.
"""

from pathlib import Path

import numpy as np

OUT = Path("tests/data/npy")

# Shapes of rank 0 to 4; the Rust test uses the same table.
SHAPES = [(), (5,), (2, 3), (2, 3, 4), (2, 1, 3, 2)]
# Every graphjit dtype NumPy has (it has no bfloat16; ml_dtypes' is stored as untyped 'V2').
DTYPES = {
    "bool": np.bool_,
    "i8": np.int8,
    "i16": np.int16,
    "i32": np.int32,
    "i64": np.int64,
    "u8": np.uint8,
    "u16": np.uint16,
    "u32": np.uint32,
    "u64": np.uint64,
    "f16": np.float16,
    "f32": np.float32,
    "f64": np.float64,
}


def values(name: str, shape: tuple) -> np.ndarray:
    """Element i (row-major) is i*7 - 11, divided by 4 for floats; bools are i % 3 == 0.

    Integers narrower than 64 bits wrap (astype keeps the low bits), as the Rust side expects.
    """
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    if name == "bool":
        v = i % 3 == 0
    elif name.startswith("f"):
        v = (i * 7 - 11) / 4
    else:
        v = i * 7 - 11
    return v.astype(DTYPES[name]).reshape(shape)


def splitmix_f32(n: int, seed: int = 0) -> np.ndarray:
    """graphjit's `rand(seed):f32[n]` generator (SplitMix64, 24 bits per float)."""
    mask = (1 << 64) - 1
    state = seed
    out = np.empty(n, dtype=np.float32)
    for k in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        out[k] = np.float32(z >> 40) * np.float32(1.0 / (1 << 24))
    return out


def write_version(path: Path, arr: np.ndarray, version: tuple) -> None:
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in DTYPES:
        for rank, shape in enumerate(SHAPES):
            np.save(OUT / f"{name}_r{rank}.npy", values(name, shape))
    # Byte order, memory order and header versions.
    np.save(OUT / "i32_be_r2.npy", values("i32", SHAPES[2]).astype(">i4"))
    np.save(OUT / "f64_be_r3.npy", values("f64", SHAPES[3]).astype(">f8"))
    np.save(OUT / "f32_fortran_r3.npy", np.asfortranarray(values("f32", SHAPES[3])))
    np.save(OUT / "i64_fortran_r4.npy", np.asfortranarray(values("i64", SHAPES[4])))
    np.save(OUT / "f16_be_r2.npy", values("f16", SHAPES[2]).astype(">f2"))
    np.save(OUT / "u32_be_r3.npy", values("u32", SHAPES[3]).astype(">u4"))
    np.save(OUT / "u16_fortran_r3.npy", np.asfortranarray(values("u16", SHAPES[3])))
    write_version(OUT / "f32_v2_r2.npy", values("f32", SHAPES[2]), (2, 0))
    write_version(OUT / "f64_v3_r1.npy", values("f64", SHAPES[1]), (3, 0))
    # IEEE special values, whose bits must survive.
    special = np.array([np.nan, -np.inf, np.inf, -0.0, 1e-45, 3.4028235e38], dtype=np.float32)
    np.save(OUT / "f32_special.npy", special)
    special16 = np.array([np.nan, -np.inf, np.inf, -0.0, 2.0**-24, 65504.0], dtype=np.float16)
    np.save(OUT / "f16_special.npy", special16)
    # Named arrays, stored and deflated.
    named = {
        "a": values("f32", SHAPES[2]),
        "b": values("i64", SHAPES[1]),
        "c": values("bool", ()),
    }
    np.savez(OUT / "named.npz", **named)
    np.savez_compressed(OUT / "named_compressed.npz", **named)
    # Types graphjit does not read, for the error messages.
    np.save(OUT / "complex.npy", np.zeros(3, dtype=np.complex64))
    np.save(OUT / "record.npy", np.zeros(2, dtype=[("x", "<i4"), ("y", "<f4")]))
    # The scaled-down check of `graphjit run ir/poly.gir @x.npy`: x is the generator's
    # rand:f32[1024], y is NumPy's float32 evaluation of the same expression.
    x = splitmix_f32(1024)
    np.save(OUT / "poly_x1024.npy", x)
    two, one, three, four = (np.float32(c) for c in (2, 1, 3, 4))
    np.save(OUT / "poly_y1024.npy", ((x * two + one) * x - three) / (x + four))


if __name__ == "__main__":
    main()
