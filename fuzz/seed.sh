#!/usr/bin/env bash
# Seed fuzz/corpus/<target> with small models and configs of the oracle data
# (scripts/oracle/make_oracle.py; $ORT_COMPACT_ORACLE_DIR or ~/.cache/ort-compact-build/oracle).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
oracle="${ORT_COMPACT_ORACLE_DIR:-$HOME/.cache/ort-compact-build/oracle}"
if [ ! -f "$oracle/manifest.json" ]; then
  python3 "$here/../scripts/oracle/make_oracle.py" --out "$oracle"
fi
mkdir -p "$here/corpus/onnx_reader" "$here/corpus/ort_reader" "$here/corpus/op_config"
n=0
# Models under 64 KiB keep the fuzzer fast; names are made unique by their directory.
while IFS= read -r -d '' f; do
  d="$(basename "$(dirname "$f")")"
  case "$f" in
    *.onnx) cp "$f" "$here/corpus/onnx_reader/$d.onnx" ;;
    *.ort) cp "$f" "$here/corpus/ort_reader/$d.ort" ;;
    *.config) cp "$f" "$here/corpus/op_config/$d.$(basename "$f")" ;;
  esac
  n=$((n + 1))
done < <(find "$oracle" -mindepth 3 -maxdepth 3 -size -64k \
  \( -name 'model.onnx' -o -name 'model.ort' -o -name '*.config' \) -print0)
echo "seeded $n files into $here/corpus"
