#!/usr/bin/env bash
# scripts/test.sh — build everything and run the whole test suite (CTest),
# then build the layers again with AddressSanitizer + UndefinedBehaviorSanitizer
# and run their tests (any sanitizer report aborts the test: CI fails).
# Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build -DEINC_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j 2 --timeout 600

if [[ "${EINC_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== sanitizers (ASan + UBSan)"
  # The layers that do not link LLVM (the JIT is checked by the main run),
  # with the IR verified after every lowering pass.
  scripts/setup.sh build-asan -DEINC_BUILD_TESTS=ON -DEINC_SANITIZE=ON -DEINC_WITH_LLVM=OFF -DEINC_VERIFY_IR=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j 2 --timeout 900 -E '^install\.'
fi
