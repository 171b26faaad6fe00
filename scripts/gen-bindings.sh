#!/usr/bin/env bash
# Regenerate ort-compact-sys/src/bindings.rs from ONNX Runtime 1.21.0's onnxruntime_c_api.h with
# bindgen (options: ort-compact-sys/tests/bindings.rs, the single source of truth).
# Header: $ORT_COMPACT_C_API_HEADER, else the sources ort-compact-build provisions.
# Needs libclang (Debian: libclang1-NN, e.g. via clang-21) and rustfmt. Without arguments it
# rewrites the file; with --check it only compares (what `cargo test -p ort-compact-sys` does).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--check" ]; then
  exec cargo test -p ort-compact-sys --test bindings
fi
ORT_COMPACT_SYS_BLESS=1 cargo test -p ort-compact-sys --test bindings -- --nocapture
