#!/usr/bin/env bash
# scripts/setup.sh — install what the build needs (Debian packages) and
# configure + build einc. Idempotent; used by both README commands and CI.
#
#   scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
shift || true

# Debian packages the build uses (see docs/dependencies.md for why each),
# plus any a caller names in EINC_EXTRA_PACKAGES (scripts/bench.sh: Google
# Benchmark, OpenBLAS and oneDNN, the benchmarks' anchors; a plain build
# and CI never install them).
# The Python package (python/, docs/python.md) and its tests: python3-dev,
# pybind11-dev, python3-numpy, python3-pytest, for Debian's /usr/bin/python3.
PACKAGES=(cmake ninja-build g++ libboost-dev nlohmann-json3-dev libcli11-dev libgtest-dev llvm-14-dev
          python3-dev pybind11-dev python3-numpy python3-pytest
          ${EINC_EXTRA_PACKAGES:-})
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Python module is built for the interpreter the Debian packages above
# serve (not a pyenv or venv python3 earlier on PATH); a caller's own
# -DPython3_EXECUTABLE=... comes later and wins.
PYTHON_ARGS=()
[[ -x /usr/bin/python3 ]] && PYTHON_ARGS=(-DPython3_EXECUTABLE=/usr/bin/python3)

# Two cores: one build at a time, two jobs.
cmake -S . -B "$BUILD_DIR" -G Ninja "${PYTHON_ARGS[@]}" "$@" >/dev/null
ninja -C "$BUILD_DIR" -j "${EINC_JOBS:-2}"
