#!/usr/bin/env python3
"""bench/python_einsum.py — einc.einsum against numpy.einsum(optimize=True)
and numpy.matmul, from Python (docs/python.md).

Each case is timed on all three, interleaved round by round so that machine
noise hits them alike; the table gives the median seconds and the ratios
einc / numpy. The first einc call compiles (and JITs) the program and is not
timed: einc.einsum caches the compiled program per subscripts, dtypes and
shapes. Every einc result is checked against numpy's before timing.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_einsum.py [--threads N] [--rounds R] [--smoke]

numpy.matmul and numpy.einsum(optimize=True) use numpy's BLAS with its own
thread count (OPENBLAS_NUM_THREADS etc.); set it to --threads for a fair
comparison. Not part of the test suite.
"""
import argparse
import statistics
import time

import numpy as np

import einc

# name, subscripts, shapes, the same with numpy.matmul (or None)
CASES = [
    ("matmul 512", "ij,jk->ik", [(512, 512), (512, 512)], lambda a, b: np.matmul(a, b)),
    ("matmul 64 (overhead)", "ij,jk->ik", [(64, 64), (64, 64)], lambda a, b: np.matmul(a, b)),
    ("gemv 2048", "ij,j->i", [(2048, 2048), (2048,)], lambda a, x: np.matmul(a, x)),
    ("batched 16x128", "bij,bjk->bik", [(16, 128, 128), (16, 128, 128)], lambda a, b: np.matmul(a, b)),
    ("attention scores", "hqd,hkd->hqk", [(8, 256, 64), (8, 256, 64)], lambda q, k: np.matmul(q, k.transpose(0, 2, 1))),
    ("chain ij,jk,kl", "ij,jk,kl->il", [(256, 512), (512, 512), (512, 32)], lambda a, b, c: a @ (b @ c)),
    ("bilinear", "bi,ij,bj->b", [(256, 256), (256, 256), (256, 256)], None),
    ("trace of product", "ij,ji->", [(1024, 1024), (1024, 1024)], None),
]


def time_once(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="einc's cpu threads (default 2)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--backend", default=einc.default_backend())
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--smoke", action="store_true", help="one round, to check the script runs")
    args = parser.parse_args()
    rounds = 1 if args.smoke else args.rounds
    rng = np.random.default_rng(0)

    header = f"{'case':<22}{'einc s':>11}{'np.einsum s':>13}{'matmul s':>11}{'einc/einsum':>13}{'einc/matmul':>13}"
    print(f"einc {einc.__version__}, backend {args.backend}, {args.threads} threads, {args.dtype}, "
          f"median of {rounds} rounds")
    print(header)
    print("-" * len(header))
    for name, spec, shapes, matmul in CASES:
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
            times["einc"].append(time_once(run_einc))
            times["einsum"].append(time_once(run_einsum))
            if run_matmul:
                times["matmul"].append(time_once(run_matmul))
        med = {k: statistics.median(v) if v else None for k, v in times.items()}
        matmul_text = f"{med['matmul']:>11.2e}" if med["matmul"] else f"{'-':>11}"
        ratio_matmul = f"{med['einc'] / med['matmul']:>13.2f}" if med["matmul"] else f"{'-':>13}"
        print(f"{name:<22}{med['einc']:>11.2e}{med['einsum']:>13.2e}{matmul_text}"
              f"{med['einc'] / med['einsum']:>13.2f}{ratio_matmul}")


if __name__ == "__main__":
    main()
