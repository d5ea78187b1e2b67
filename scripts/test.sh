#!/usr/bin/env bash
# scripts/test.sh — build everything and run the whole test suite (CTest).
# Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build -DEINC_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j 2 --timeout 600
