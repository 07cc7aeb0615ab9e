"""Shared fixtures of the graphjit Python tests: the repository's IR examples."""

from pathlib import Path

import pytest

import graphjit

IR_DIR = Path(__file__).resolve().parents[2] / "ir"


@pytest.fixture(scope="session")
def ir_dir() -> Path:
    return IR_DIR


@pytest.fixture(scope="session")
def counter() -> graphjit.Function:
    return graphjit.load(IR_DIR / "counter.gir")["counter"]


# An endless loop: %i counts up forever (the condition `true` never changes).
SPIN = """
func @spin(%n: i64) -> i64 {
  %one = const 1 : i64
  %r = while (%i = %n) : i64 {
    %t = const true : bool
    yield %t
  } do {
    %i2 = add %i, %one : i64
    yield %i2
  }
  return %r
}
"""


@pytest.fixture(scope="session")
def spin() -> graphjit.Function:
    return graphjit.load(SPIN)["spin"]
