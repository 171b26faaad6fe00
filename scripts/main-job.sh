#!/usr/bin/env bash
# README's main-job command. Until the compact build lands it installs the toolchain
# (idempotent), provisions the pinned sources and reports what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-toolchain.sh --no-test-deps
export PATH="$HOME/.cargo/bin:$PATH"
cargo run --release --quiet --bin ort-compact -- provision
