#!/usr/bin/env bash
# Times an outside consumer crate's build with cargo's default profiles (build scripts and their
# dependencies at opt-level 0), against the CLI doing the same work, for milestone 4 of the
# "crate people can depend on" issue. Writes target/bench-reports/consumer-build.md.
#
#   scripts/dev/consumer-build-times.sh [MODEL.onnx ...]
#
# For each model: a fresh consumer (tests/outside-consumer with the model) built with
#   1. host `cargo check` (typed module only),
#   2. `cargo build --release --target wasm32-unknown-emscripten` (Rust mode),
#   3. the same build again after touching the model (the build script alone re-runs),
# and `ort-compact build MODEL --static-lib` (release-compiled CLI) for the same runtime.
# Runtimes come from the cache when they are there (run the tests or the main job first), so
# the figures are the Rust-side costs: conversion, hashing, compression, copies, codegen.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  silero=$(python3 -c "import importlib.util as u, os; print(os.path.join(os.path.dirname(u.find_spec('silero_vad').origin), 'data', 'silero_vad.onnx'))")
  models=("$root/models/mlp-classifier.onnx" "$silero")
fi
cargo build --release -q -p ort-compact-cli
cli="$root/target/release/ort-compact"
report="$root/target/bench-reports/consumer-build.md"
mkdir -p "$(dirname "$report")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target="$root/target/consumer-times"
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }
{
  echo "# Outside consumer build times (default profiles) vs the CLI"
  echo
  echo "$(date -u +%F), $(nproc) cores, $(rustc --version). Consumer: tests/outside-consumer with path"
  echo "dependencies on this checkout, target dir $target (dependencies compiled once before timing)."
  echo
  echo "| model | MB | host cargo check | Rust-mode build, build script re-run | CLI --static-lib (release) |"
  echo "|---|---|---|---|---|"
} > "$report"
for model in "${models[@]}"; do
  c="$work/$(basename "$model" .onnx)"
  mkdir -p "$c/src"
  sed -e "s|@BUILD@|$root/ort-compact-build|" -e "s|@SYS@|$root/ort-compact-sys|" \
    tests/outside-consumer/Cargo.toml.in > "$c/Cargo.toml"
  sed -e "s|mlp-classifier.onnx|model.onnx|" tests/outside-consumer/build.rs > "$c/build.rs"
  # The model is copied as model.onnx: the typed module is model.rs, its type `Model`.
  printf 'include!(concat!(env!("OUT_DIR"), "/ort-compact/model.rs"));\nfn main() { println!("{}", Model::MODEL.len()); }\n' > "$c/src/main.rs"
  cp "$model" "$c/model.onnx"
  cp Cargo.lock "$c/"
  # Warm-up: compile every dependency once for both targets (not timed).
  (cd "$c" && CARGO_TARGET_DIR=$target cargo check -q --offline 2>/dev/null || true)
  (cd "$c" && CARGO_TARGET_DIR=$target cargo build -q --offline --release --target wasm32-unknown-emscripten 2>/dev/null || true)
  touch "$c/model.onnx"
  t0=$(now); (cd "$c" && CARGO_TARGET_DIR=$target cargo check -q --offline); t1=$(now)
  touch "$c/model.onnx"
  t2=$(now); (cd "$c" && CARGO_TARGET_DIR=$target cargo build -q --offline --release --target wasm32-unknown-emscripten); t3=$(now)
  t4=$(now); "$cli" build "$c/model.onnx" --static-lib --quiet --out "$work/cli-out" > /dev/null; t5=$(now)
  mb=$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1])/1e6:.2f}')" "$model")
  echo "| $(basename "$model") | $mb | $(secs "$t0" "$t1") s | $(secs "$t2" "$t3") s | $(secs "$t4" "$t5") s |" | tee -a "$report"
done
echo "report: $report"
