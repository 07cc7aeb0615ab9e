"""Limits of a run: max_iters, timeout, CancelToken, Ctrl-C (SIGINT from a timer thread),
and one Function called from several threads at once."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import graphjit


def test_max_iters_stops_a_loop(counter):
    with pytest.raises(graphjit.IterationLimit, match="limit of 3 iterations"):
        counter(np.int32(0), np.int32(100), max_iters=3)


def test_max_iters_large_enough_lets_it_finish(counter):
    # The counter from (0, 10) takes 10 back-edges; a limit of 10 lets it finish.
    r = counter(np.int32(0), np.int32(10), max_iters=10)
    assert tuple(map(int, r)) == (20, 20)
    with pytest.raises(graphjit.IterationLimit):
        counter(np.int32(0), np.int32(10), max_iters=9)


def test_max_iters_interpreted(counter):
    with pytest.raises(graphjit.IterationLimit):
        counter.interpret(np.int32(0), np.int32(100), max_iters=5)


@pytest.mark.parametrize("mode", ["compiled", "interpreted"])
def test_timeout_stops_an_endless_loop(spin, mode):
    run = spin if mode == "compiled" else spin.interpret
    t = time.perf_counter()
    with pytest.raises(graphjit.DeadlineExceeded, match="deadline"):
        run(np.int64(0), timeout=0.05)
    assert time.perf_counter() - t < 1.0


def test_bad_limits_are_valueerrors(counter):
    with pytest.raises(ValueError, match="max_iters"):
        counter(0, 1, max_iters=-1)
    with pytest.raises(ValueError, match="timeout"):
        counter(0, 1, timeout=float("nan"))


def test_cancel_token_from_another_thread(spin):
    token = graphjit.CancelToken()
    threading.Timer(0.05, token.cancel).start()
    with pytest.raises(graphjit.Cancelled):
        spin(np.int64(0), cancel=token)
    assert token.cancelled


def _sigint_after(seconds: float) -> threading.Timer:
    t = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    t.start()
    return t


@pytest.mark.parametrize("mode", ["compiled", "interpreted"])
def test_ctrl_c_cancels_a_running_loop_quickly(spin, mode):
    run = spin if mode == "compiled" else spin.interpret
    _sigint_after(0.2)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run(np.int64(0))
    elapsed = time.perf_counter() - start
    # The signal arrives at 0.2 s; the run must stop within 0.1 s of it.
    assert 0.15 < elapsed < 0.3 + 0.05, elapsed
    # The function stays usable afterwards.
    with pytest.raises(graphjit.IterationLimit):
        run(np.int64(0), max_iters=100)


def test_ctrl_c_in_a_jitted_while_loop():
    @graphjit.jit
    def forever(x):
        return graphjit.while_loop(lambda v: v >= 0, lambda v: v + 1, x)

    _sigint_after(0.1)
    with pytest.raises(KeyboardInterrupt):
        forever(np.int64(0))


def test_threads_call_one_function_at_once(ir_dir):
    f = graphjit.load(ir_dir / "poly.gir")["poly"]
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(1 << 20).astype(np.float32) for _ in range(4)]
    expected = [f.interpret(x) for x in xs]
    results = [None] * 16
    errors = []

    def work(i):
        try:
            for _ in range(3):
                results[i] = f(xs[i % 4])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, r in enumerate(results):
        assert r.tobytes() == expected[i % 4].tobytes()


def test_gil_is_released_while_running(spin):
    # While one thread runs an endless loop, another thread keeps running Python code.
    token = graphjit.CancelToken()
    done = []

    def run():
        try:
            spin(np.int64(0), cancel=token)
        except graphjit.Cancelled:
            done.append(True)

    t = threading.Thread(target=run)
    t.start()
    count = 0
    end = time.perf_counter() + 0.1
    while time.perf_counter() < end:
        count += 1
    token.cancel()
    t.join(2)
    assert done == [True]
    assert count > 1000


@pytest.mark.parametrize("mode", ["compiled", "interpreted"])
def test_max_memory_refuses_a_run_that_needs_more(ir_dir, mode):
    poly = graphjit.load(ir_dir / "poly.gir")["poly"]
    run = poly if mode == "compiled" else poly.interpret
    x = np.ones(1 << 20, dtype=np.float32)
    # The 4 MiB result does not fit in 1 MiB; the same call with room runs, and so does the
    # function afterwards.
    with pytest.raises(graphjit.MemoryLimit, match="over its limit of 1048576 bytes"):
        run(x, max_memory=1 << 20)
    y = run(x, max_memory=64 << 20)
    assert y.shape == (1 << 20,) and float(np.abs(y).max()) == 0.0
    with pytest.raises(ValueError, match="max_memory"):
        run(x, max_memory=-1)


def test_compiler_stats_report_the_cache_bound():
    s = graphjit.compiler_stats()
    assert {"compilations", "hits", "evictions", "entries", "code_bytes"} <= set(s)
    assert s["entries"] <= s["compilations"]


def test_threads_change_no_bit_and_must_be_positive(ir_dir):
    gauss = graphjit.load(ir_dir / "gauss_tanh.gir")["gauss_tanh"]
    x = np.random.default_rng(9).standard_normal(1 << 20).astype(np.float32)
    one = gauss(x, threads=1)
    assert gauss(x, threads=2).tobytes() == one.tobytes()
    assert gauss(x, threads=3).tobytes() == one.tobytes()
    assert gauss.interpret(x, threads=2).tobytes() == one.tobytes()
    out = np.empty_like(x)
    gauss.run_into((x,), (out,), threads=2)
    assert out.tobytes() == one.tobytes()
    with pytest.raises(ValueError, match="threads"):
        gauss(x, threads=0)
