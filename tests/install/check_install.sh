#!/usr/bin/env bash
# tests/install/check_install.sh BUILD_DIR WORK_DIR — installs einc from
# BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs the
# outside project in tests/install/consumer against it.
set -euo pipefail
build_dir=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$here/consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
