#!/usr/bin/env bash
# scripts/bench.sh — install what the benchmarks need (Google Benchmark,
# OpenBLAS, oneDNN, through scripts/setup.sh), build einc with bench/ and
# run one of them: cpu_bench (against OpenBLAS and oneDNN's matmul, the
# default), conv_bench (convolutions, against oneDNN and im2col + OpenBLAS
# sgemm) or mask_bench (causal attention against the same statements
# unmasked).
#
#   scripts/bench.sh [cpu_bench flags...]                e.g. --benchmark_filter=square
#   scripts/bench.sh conv_bench [conv_bench flags...]    e.g. --benchmark_filter=_n8
#   scripts/bench.sh mask_bench [mask_bench flags...]    e.g. --benchmark_filter=attention
#
# OpenBLAS is run at its best: OPENBLAS_CORETYPE (set to Haswell on this
# machine, which halves sgemm) and OPENBLAS_L2_SIZE are unset for this
# command only (docs/performance.md). The build is Release (-O3).
set -euo pipefail
cd "$(dirname "$0")/.."

PROGRAM=cpu_bench
if [[ $# -gt 0 && ($1 == cpu_bench || $1 == conv_bench || $1 == mask_bench) ]]; then
  PROGRAM=$1
  shift
fi

BUILD_DIR="${EINC_BENCH_BUILD_DIR:-build-bench}"
EINC_EXTRA_PACKAGES="libbenchmark-dev libopenblas-dev libdnnl-dev" \
  scripts/setup.sh "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DEINC_BUILD_TESTS=OFF -DEINC_BUILD_BENCH=ON
if [[ ! -x "$BUILD_DIR/bench/$PROGRAM" ]]; then
  echo "bench: $BUILD_DIR/bench/$PROGRAM was not built (see the warning from cmake above)" >&2
  exit 1
fi
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BUILD_DIR/bench/$PROGRAM" "$@"
