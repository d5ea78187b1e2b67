#!/usr/bin/env bash
# scripts/run_example.sh — the main job: build einc and print the cost report
# of the transformer-block example (then its prefill/decode sweep).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build -DEINC_BUILD_TESTS=OFF
build/bin/einc report examples/05_transformer_block.ein
echo
build/bin/einc report examples/05_transformer_block.ein --sweep T=1,128,1024,8192
