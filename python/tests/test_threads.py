"""Threads, the GIL and Ctrl-C (python/tests/test_threads.py).

Program.run and einsum release the GIL while einc works; one Program runs
concurrently from several threads with different inputs (einc::Program is
thread-safe), and each thread must get its own result. A Ctrl-C during a
run on the main thread cancels it and raises KeyboardInterrupt promptly; a
caller's own SIGINT handler is left alone.
"""
import os
import signal
import threading
import time

import numpy as np
import pytest

import einc
from conftest import BACKENDS


def test_one_program_from_four_threads():
    p = einc.compile("dim M, K, N\ninput A[M, K]\ninput B[K, N]\nC[i, j] = A[i, k] * B[k, j]\noutput C\n")
    rng = np.random.default_rng(3)
    jobs = [(rng.integers(-3, 4, (33, 47)).astype(np.float32), rng.integers(-3, 4, (47, 29)).astype(np.float32),
             BACKENDS[k % len(BACKENDS)]) for k in range(8)]
    results = [None] * len(jobs)
    errors = []

    def work(k):
        try:
            a, b, backend = jobs[k]
            for _ in range(5):
                results[k] = p.run(A=a, B=b, backend=backend, threads=1)["C"]
                einc.einsum("ij,jk->ik", a, b, backend=backend)
        except Exception as e:  # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for (a, b, _), c in zip(jobs, results):
        np.testing.assert_array_equal(c, a @ b)


def long_run():
    """A reference run long enough (over 0.15 s) to look inside: (program, x)."""
    p = einc.compile("dim N\ninput x[N]\ny[i] = exp(x[i]) * tanh(x[i]) * 2\noutput y\n")
    n = 1 << 22
    while True:
        x = np.zeros(n, np.float32)
        start = time.perf_counter()
        p.run(x=x, backend="reference")
        if time.perf_counter() - start > 0.15 or n >= 1 << 27:
            return p, x
        n *= 4


def test_gil_released_while_running():
    """A Python thread runs Python code in the middle of another thread's
    run: impossible if the run held the GIL."""
    p, x = long_run()
    stamps = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            stamps.append(time.perf_counter())

    t = threading.Thread(target=ticker)
    t.start()
    try:
        while not stamps:
            time.sleep(0.001)
        start = time.perf_counter()
        p.run(x=x, backend="reference")
        end = time.perf_counter()
    finally:
        done.set()
        t.join()
    assert end - start > 0.1, "the run is too short to tell"
    assert any(start + 0.03 < s < end - 0.03 for s in stamps)


def interrupt_soon(seconds):
    """A timer that sends this process SIGINT (Ctrl-C) after `seconds`."""
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_during_a_series_of_runs_is_never_lost():
    """Whichever moment the signal comes (in a run, between two), one of
    the runs raises KeyboardInterrupt."""
    p, x = long_run()
    timer = interrupt_soon(0.05)
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in range(50):
                p.run(x=x, backend="reference")
    finally:
        timer.cancel()


def very_long_run(backend):
    """A call that runs for seconds on any machine unless cancelled: 2^31
    interpreted points of a contraction (reference), or a 4096 x 8192 x 4096
    GEMM on one thread through einsum (cpu)."""
    if backend == "reference":
        p = einc.compile("dim M = 1024, K = 2048, N = 1024\ninput A[M, K]\ninput B[K, N]\n"
                         "C[i, j] = A[i, k] * B[k, j]\noutput C\n")
        a, b = np.ones((1024, 2048), np.float32), np.ones((2048, 1024), np.float32)
        return lambda: p.run(A=a, B=b, backend="reference")
    a, b = np.ones((4096, 8192), np.float32), np.ones((8192, 4096), np.float32)
    return lambda: einc.einsum("ij,jk->ik", a, b, backend="cpu", threads=1)


def test_ctrl_c_cancels_a_long_run(backend):
    """The run stops at its next check (between statements, parallel tasks,
    interpreted chunks) instead of running to the end."""
    run = very_long_run(backend)
    start = time.perf_counter()
    timer = interrupt_soon(0.1)
    try:
        with pytest.raises(KeyboardInterrupt):
            run()
    finally:
        timer.cancel()
    took = time.perf_counter() - start
    assert took < 1.5, f"KeyboardInterrupt came {took:.2f} s after the run started (the signal: after 0.1 s)"
    # Python's handler is back in place, and einc runs as before.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    np.testing.assert_array_equal(einc.einsum("ij,jk->ik", np.eye(2), np.eye(2), backend=backend), np.eye(2))


def test_a_sigint_handler_of_the_callers_own_is_left_alone():
    """Such a handler may not raise: the run is not cancelled, and the
    handler runs (once) when it returns."""
    p, x = long_run()
    calls = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: calls.append(number))
    try:
        timer = interrupt_soon(0.05)
        try:
            y = p.run(x=x, backend="reference")["y"]
        finally:
            timer.cancel()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert calls == [signal.SIGINT]
    assert y.shape == x.shape
