#!/usr/bin/env python3
# Writes tests/data/math_refs.txt: reference values of graphjit's elementwise math
# (expm1, log1p, rsqrt, logistic, cbrt, erf, atan2) computed with mpmath at 60 digits and
# rounded once to f32 and f64, for tests/math_accuracy.rs. Run: python3 tools/math_refs.py
import random
import struct

import mpmath

mpmath.mp.dps = 60
random.seed(11)


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def to_f32(x):
    # Python floats are f64; round an mpf to f32 correctly via its exact rational value.
    return struct.unpack("<f", struct.pack("<f", float(mpmath.mpf(x))))[0]


def round_f32(v):
    """Correctly rounds the mpf v to f32 (not through f64, which could round twice)."""
    if mpmath.isinf(v) or mpmath.isnan(v):
        return float(v)
    if v == 0:
        return 0.0
    # Candidates around the f64 value, chosen by distance to the exact value.
    f = float(v)
    c = struct.unpack("<f", struct.pack("<f", f))[0]
    best = c
    bits = f32_bits(c)
    for d in (-1, 1):
        nb = bits + d
        if 0 <= nb < 1 << 32:
            cand = struct.unpack("<f", struct.pack("<I", nb))[0]
            if abs(mpmath.mpf(cand) - v) < abs(mpmath.mpf(best) - v):
                best = cand
    return best


def samples(kind):
    xs = []
    if kind == "wide":
        for _ in range(120):
            xs.append(random.uniform(-1, 1) * 10 ** random.uniform(-8, 2.5))
    elif kind == "small":
        for _ in range(120):
            xs.append(random.uniform(-1, 1) * 10 ** random.uniform(-12, 0.5))
    elif kind == "positive":
        for _ in range(120):
            xs.append(10 ** random.uniform(-30, 30))
    elif kind == "log1p":
        for _ in range(120):
            xs.append(-1 + 10 ** random.uniform(-12, 3))
    elif kind == "erf":
        for _ in range(120):
            xs.append(
                random.uniform(-6.5, 6.5)
                * (10 ** random.uniform(-6, 0) if random.random() < 0.3 else 1)
            )
    return xs


OPS = {
    "expm1": (lambda x: mpmath.expm1(x), "wide"),
    "log1p": (lambda x: mpmath.log1p(x), "log1p"),
    "rsqrt": (lambda x: 1 / mpmath.sqrt(x), "positive"),
    "logistic": (lambda x: 1 / (1 + mpmath.exp(-x)), "wide"),
    "cbrt": (lambda x: mpmath.cbrt(x) if x >= 0 else -mpmath.cbrt(-x), "wide"),
    "erf": (lambda x: mpmath.erf(x), "erf"),
}

lines = ["# op dtype x_bits [y_bits] reference_bits (mpmath, 60 digits, rounded once)"]
for name, (f, kind) in OPS.items():
    for x in samples(kind):
        x64 = x
        v = f(mpmath.mpf(x64))
        r64 = float(v)
        if abs(r64) > 1.7e308:
            continue
        lines.append(f"{name} f64 {f64_bits(x64):016x} {f64_bits(r64):016x}")
        x32 = to_f32(x)
        if x32 == 0.0:
            continue
        v = f(mpmath.mpf(x32))
        if abs(float(v)) > 3.4e38:
            continue
        r32 = round_f32(v)
        lines.append(f"{name} f32 {f32_bits(x32):08x} {f32_bits(r32):08x}")
for _ in range(150):
    y = random.uniform(-1, 1) * 10 ** random.uniform(-5, 5)
    x = random.uniform(-1, 1) * 10 ** random.uniform(-5, 5)
    v = mpmath.atan2(mpmath.mpf(y), mpmath.mpf(x))
    lines.append(f"atan2 f64 {f64_bits(y):016x} {f64_bits(x):016x} {f64_bits(float(v)):016x}")
    y32, x32 = to_f32(y), to_f32(x)
    v = mpmath.atan2(mpmath.mpf(y32), mpmath.mpf(x32))
    lines.append(f"atan2 f32 {f32_bits(y32):08x} {f32_bits(x32):08x} {f32_bits(round_f32(v)):08x}")

with open("tests/data/math_refs.txt", "w") as out:
    out.write("\n".join(lines) + "\n")
print(len(lines) - 1, "reference values")
