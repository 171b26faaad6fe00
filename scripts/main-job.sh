#!/usr/bin/env bash
# README's main-job command: installs the toolchain (idempotent), then builds a compact ONNX Runtime
# WebAssembly runtime for the bundled default model and prints its size against stock.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-toolchain.sh --no-test-deps
export PATH="$HOME/.cargo/bin:$PATH"
model="${1:-models/mlp-classifier.onnx}"
out="${2:-target/ort-compact/default}"
cargo run --release --quiet -p ort-compact-cli -- build "$model" --out "$out"
