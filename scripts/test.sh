#!/usr/bin/env bash
# README's test command: installs everything the tests need (idempotent), then runs the checks
# and the whole test suite. Real ORT sources, real emcc, real node / Chromium; the first run on a
# fresh machine provisions sources and builds ONNX Runtime (cached under ~/.cache/ort-compact-build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-toolchain.sh
if [ -f scripts/install-js-test-deps.sh ]; then bash scripts/install-js-test-deps.sh; fi
export PATH="$HOME/.cargo/bin:$PATH"
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -q -- -D warnings
echo "== cargo test"
cargo test --workspace --no-fail-fast
