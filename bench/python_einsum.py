#!/usr/bin/env python3
"""bench/python_einsum.py — einc.einsum against numpy.einsum(optimize=True)
and numpy.matmul, from Python (docs/python.md).

Each case is timed on all three, interleaved round by round so that machine
noise hits them alike (each side, after a pause, as many calls as fill 0.3
s); the table gives the median seconds per call and the speedups, numpy's
time / einc's (the median of the per-round ratios; > 1: einc is faster). The first einc call compiles (and JITs) the program and is not
timed: einc.einsum caches the compiled program per subscripts, dtypes and
shapes. Every einc result is checked against numpy's before timing.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_einsum.py [--threads N] [--rounds R] [--filter REGEX] [--smoke]

numpy.matmul and numpy.einsum(optimize=True) use numpy's BLAS with its own
thread count (OPENBLAS_NUM_THREADS etc.); set it to --threads for a fair
comparison. Not part of the test suite.
"""
import argparse
import re
import statistics
import time

import numpy as np

import einc

# name, subscripts, shapes, the same with numpy.matmul (or None)
CASES = [
    ("matmul 512", "ij,jk->ik", [(512, 512), (512, 512)], lambda a, b: np.matmul(a, b)),
    ("matmul 1024", "ij,jk->ik", [(1024, 1024), (1024, 1024)], lambda a, b: np.matmul(a, b)),
    ("matmul 64 (overhead)", "ij,jk->ik", [(64, 64), (64, 64)], lambda a, b: np.matmul(a, b)),
    ("matmul 4 (overhead)", "ij,jk->ik", [(4, 4), (4, 4)], lambda a, b: np.matmul(a, b)),
    ("gemv 2048", "ij,j->i", [(2048, 2048), (2048,)], lambda a, x: np.matmul(a, x)),
    ("batched 16x128", "bij,bjk->bik", [(16, 128, 128), (16, 128, 128)], lambda a, b: np.matmul(a, b)),
    ("batched 32x32", "bij,bjk->bik", [(32, 32, 32), (32, 32, 32)], lambda a, b: np.matmul(a, b)),
    ("attention scores", "hqd,hkd->hqk", [(8, 256, 64), (8, 256, 64)], lambda q, k: np.matmul(q, k.transpose(0, 2, 1))),
    ("abcd,dbe->ace 48", "abcd,dbe->ace", [(48, 48, 48, 48), (48, 48, 48)], None),
    ("chain ij,jk,kl", "ij,jk,kl->il", [(256, 512), (512, 512), (512, 32)], lambda a, b, c: a @ (b @ c)),
    ("bilinear", "bi,ij,bj->b", [(256, 256), (256, 256), (256, 256)], None),
    ("trace of product", "ij,ji->", [(1024, 1024), (1024, 1024)], None),
]


def seconds_per_call(fn, min_seconds):
    """One side's time per call: after a pause (OpenBLAS's threads spin for
    a while after each call, and would take the cores from the next side),
    calls repeated until `min_seconds` have passed."""
    time.sleep(0.2)
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="einc's cpu threads (default 2)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", default=einc.default_backend())
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--filter", default="", help="only the cases whose name this regular expression finds")
    parser.add_argument("--smoke", action="store_true", help="one short round, to check the script runs")
    args = parser.parse_args()
    rounds = 1 if args.smoke else args.rounds
    min_seconds = 0.01 if args.smoke else 0.3
    rng = np.random.default_rng(0)

    header = (f"{'case':<22}{'einc s':>11}{'np.einsum s':>13}{'matmul s':>11}"
              f"{'x np.einsum':>13}{'x matmul':>10}")
    print(f"einc {einc.__version__}, backend {args.backend}, {args.threads} threads, {args.dtype}, "
          f"median of {rounds} interleaved rounds; x = numpy's time / einc's (> 1: einc faster)")
    print(header)
    print("-" * len(header))
    for name, spec, shapes, matmul in CASES:
        if not re.search(args.filter, name):
            continue
        ops = [rng.standard_normal(s).astype(args.dtype) for s in shapes]
        run_einc = lambda: einc.einsum(spec, *ops, backend=args.backend, threads=args.threads)  # noqa: E731
        run_einsum = lambda: np.einsum(spec, *ops, optimize=True)  # noqa: E731
        run_matmul = (lambda: matmul(*ops)) if matmul else None
        expected = run_einsum()
        got = run_einc()  # compiles; not timed
        tol = 1e-3 if args.dtype == "float32" else 1e-9
        scale = max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0)
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale)
        times = {"einc": [], "einsum": [], "matmul": []}
        for _ in range(rounds):
            times["einc"].append(seconds_per_call(run_einc, min_seconds))
            times["einsum"].append(seconds_per_call(run_einsum, min_seconds))
            if run_matmul:
                times["matmul"].append(seconds_per_call(run_matmul, min_seconds))
        med = {k: statistics.median(v) if v else None for k, v in times.items()}
        speedup = lambda side: statistics.median(  # noqa: E731
            theirs / ours for theirs, ours in zip(times[side], times["einc"]))
        matmul_text = f"{med['matmul']:>11.2e}{speedup('matmul'):>10.2f}" if med["matmul"] else f"{'-':>11}{'-':>10}"
        print(f"{name:<22}{med['einc']:>11.2e}{med['einsum']:>13.2e}{matmul_text[:11]}"
              f"{speedup('einsum'):>13.2f}{matmul_text[11:]}")


if __name__ == "__main__":
    main()
