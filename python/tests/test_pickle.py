"""Pickling: a Function travels as its IR text and compiles again on first use."""

import pickle

import numpy as np

import graphjit


def test_function_pickles_as_ir_text(counter):
    data = pickle.dumps(counter)
    assert b"while" in data  # the IR text itself
    g = pickle.loads(data)
    assert g.ir == counter.ir
    assert tuple(map(int, g(np.int32(0), np.int32(10)))) == (20, 20)


def test_unpickled_copy_hits_the_compile_cache(counter):
    counter(np.int32(0), np.int32(1))
    before = graphjit.compiler_stats()
    g = pickle.loads(pickle.dumps(counter))
    g(np.int32(0), np.int32(1))
    after = graphjit.compiler_stats()
    assert after["compilations"] == before["compilations"]
    assert after["hits"] == before["hits"] + 1


def test_jit_function_pickles_by_reference():
    from test_jit import counter as jitted

    g = pickle.loads(pickle.dumps(jitted))
    assert tuple(map(int, g(np.int32(0), np.int32(10)))) == (20, 20)
