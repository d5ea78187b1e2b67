#!/usr/bin/env bash
# scripts/bench.sh — install what the benchmarks need (Google Benchmark,
# OpenBLAS, through scripts/setup.sh), build einc with bench/ and run
# cpu_bench against OpenBLAS.
#
#   scripts/bench.sh [cpu_bench flags...]     e.g. --benchmark_filter=square
#
# OpenBLAS is run at its best: OPENBLAS_CORETYPE (set to Haswell on this
# machine, which halves sgemm) and OPENBLAS_L2_SIZE are unset for this
# command only (docs/performance.md). The build is Release (-O3).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${EINC_BENCH_BUILD_DIR:-build-bench}"
EINC_EXTRA_PACKAGES="libbenchmark-dev libopenblas-dev" \
  scripts/setup.sh "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DEINC_BUILD_TESTS=OFF -DEINC_BUILD_BENCH=ON
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BUILD_DIR/bench/cpu_bench" "$@"
