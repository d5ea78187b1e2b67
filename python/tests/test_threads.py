"""Threads, the GIL and Ctrl-C (python/tests/test_threads.py).

Program.run and einsum release the GIL while einc works; one Program runs
concurrently from several threads with different inputs (einc::Program is
thread-safe), and each thread must get its own result. A Ctrl-C during a
run is raised as KeyboardInterrupt, not lost.
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


def test_ctrl_c_during_a_run_raises_keyboard_interrupt_when_it_returns():
    """einc cannot stop a run midway (no cancellation hook in the C++ API);
    a SIGINT that arrives during one is raised by that run() call."""
    p, x = long_run()
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in range(50):  # one of these runs is under way when the signal comes
                p.run(x=x, backend="reference")
    finally:
        timer.cancel()
