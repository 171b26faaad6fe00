#!/usr/bin/env bash
# Idempotent installer for everything ort-compact-build needs on Debian bookworm (the project's
# machine kind): Emscripten >= 4 (Debian sid), cmake >= 3.28 (PyPI, < 4), ninja, protoc 3.21.12,
# node modules Emscripten's JS tools import, the closure compiler, Chromium for browser tests,
# the Rust wasm32-unknown-emscripten target, and the Python oracle used only by tests.
#
# Usage: scripts/install-toolchain.sh [--no-test-deps]
# A second run with everything present finishes in seconds and changes nothing.
set -euo pipefail

TEST_DEPS=1
[ "${1:-}" = "--no-test-deps" ] && TEST_DEPS=0

log() { printf '[install-toolchain] %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

CLOSURE_VERSION=20260429.0.0
TOOLS_DIR="${ORT_COMPACT_TOOLS_DIR:-/opt/ort-compact-build}"

# --- apt: trixie + sid with low pin priority, so nothing else moves unasked -----------------
apt_uri() {
  # Reuse the Debian mirror this machine is already configured with.
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 ~ /bookworm/ {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { log "cannot find the Debian mirror in /etc/apt; add a bookworm 'deb' line first"; exit 1; }
  printf '%s' "$uri"
}

need_apt_update=0
if [ ! -f /etc/apt/sources.list.d/ort-compact-build.sources ]; then
  uri=$(apt_uri)
  log "adding Debian trixie and sid (deb + deb-src) from $uri with low pin priority"
  $SUDO tee /etc/apt/sources.list.d/ort-compact-build.sources >/dev/null <<SRC
Types: deb deb-src
URIs: $uri
Suites: trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $SUDO tee /etc/apt/preferences.d/ort-compact-build >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=sid
Pin-Priority: 50
PIN
  need_apt_update=1
fi
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Dpkg::Use-Pty=0 -q)
apt_update_once() {
  if [ "$need_apt_update" = 1 ] || [ ! -f /var/lib/apt/lists/.ort-compact-build-updated ]; then
    log "apt-get update"
    $SUDO apt-get "${APT_OPTS[@]}" update >/dev/null
    $SUDO touch /var/lib/apt/lists/.ort-compact-build-updated
    need_apt_update=0
  fi
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed'; }

emcc_major() {
  command -v emcc >/dev/null 2>&1 || { echo 0; return; }
  emcc --version 2>/dev/null | head -n1 | sed -E 's/.* ([0-9]+)\.[0-9]+\.[0-9]+.*/\1/;t;s/.*/0/'
}

# What installing Emscripten from sid does to this system, said before it is done: sid's
# Emscripten needs sid's C library and C++ runtime, so apt upgrades libc6, libstdc++6 and the
# packages built against them to sid, and replaces libssl3 and others by their t64 successors.
say_what_sid_changes() {
  local sim upgrades removals libc
  sim=$(apt-get "${APT_OPTS[@]}" -s install -t sid --no-install-recommends emscripten 2>/dev/null || true)
  upgrades=$(awk '$1=="Inst" && $3 ~ /^\[/ {printf "%s ", $2}' <<<"$sim")
  removals=$(awk '$1=="Remv" {printf "%s ", $2}' <<<"$sim")
  libc=$(awk '$1=="Inst" && $2=="libc6" {gsub(/[\[\]()]/, "", $3); gsub(/[()]/, "", $4); print $3 " -> " $4; exit}' <<<"$sim")
  log "No Emscripten >= 4 on PATH: installing Debian sid's. This changes the system beyond Emscripten:"
  log "  upgraded to sid ($(wc -w <<<"$upgrades") packages${libc:+, libc6 $libc}): $upgrades"
  [ -n "$removals" ] && log "  removed (replaced by their sid successors): $removals"
  log "  To keep this system as it is, stop now and activate an emsdk (or a distribution Emscripten >= 4)"
  log "  so that emcc is on PATH, then run this script again: it then installs no Emscripten."
}

if [ "$(emcc_major)" -lt 4 ]; then
  apt_update_once
  say_what_sid_changes
  log "installing Emscripten from Debian sid (clang-21, lld-21, binaryen)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" install -y -t sid \
    --no-install-recommends emscripten >/dev/null
fi

pkgs=(ninja-build protobuf-compiler xz-utils zstd ccache)
[ "$TEST_DEPS" = 1 ] && pkgs+=(chromium libonnx-testdata openssl)
missing=()
for p in "${pkgs[@]}"; do have_pkg "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt_update_once
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" install -y \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- the MSRV check's toolchain (tests/msrv.rs): Debian trixie's rustc and cargo 1.85 in
# /usr/bin, beside rustup's; they replace nothing
if [ "$TEST_DEPS" = 1 ] && ! /usr/bin/rustc --version 2>/dev/null | grep -q '^rustc 1\.85\.'; then
  apt_update_once
  log "installing Debian trixie's rustc and cargo 1.85 (for the MSRV check)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_OPTS[@]}" install -y -t trixie \
    --no-install-recommends rustc cargo >/dev/null
fi

# --- node modules Emscripten's JS tools import (Debian's node-acorn is invisible to nodesource node)
EMDIR=$(dirname "$(readlink -f "$(command -v emcc)")")
if ! (cd "$EMDIR" && node -e 'require.resolve("acorn"); require.resolve("acorn-import-phases")' >/dev/null 2>&1); then
  log "npm install acorn acorn-import-phases in $EMDIR"
  (cd "$EMDIR" && $SUDO npm install --no-audit --no-fund --silent --no-save acorn acorn-import-phases >/dev/null)
fi

# --- closure compiler (ORT links release builds with --closure 1) ----------------------------
if [ ! -x "$TOOLS_DIR/node_modules/.bin/google-closure-compiler" ]; then
  log "npm install google-closure-compiler@$CLOSURE_VERSION into $TOOLS_DIR"
  $SUDO mkdir -p "$TOOLS_DIR"
  $SUDO npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent \
    "google-closure-compiler@$CLOSURE_VERSION" >/dev/null
fi

# --- cmake >= 3.28 (< 4: CMake 4 breaks old dependency CMakeLists) ------------------------------
cmake_ok() {
  command -v cmake >/dev/null 2>&1 || return 1
  local v; v=$(cmake --version | head -n1 | awk '{print $3}')
  python3 - "$v" <<'PY'
import sys
v = tuple(int(x) for x in sys.argv[1].split(".")[:2])
sys.exit(0 if (3, 28) <= v < (4, 0) else 1)
PY
}
if ! cmake_ok; then
  log "pip install 'cmake>=3.28,<4'"
  python3 -m pip install -q --disable-pip-version-check 'cmake>=3.28,<4'
  hash -r
fi

# --- Rust target ---------------------------------------------------------------------------------
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-emscripten; then
  log "rustup target add wasm32-unknown-emscripten"
  rustup target add wasm32-unknown-emscripten >/dev/null
fi

# --- test-only Python oracle (the product never runs Python) --------------------------------------
if [ "$TEST_DEPS" = 1 ]; then
  if ! python3 -c 'import importlib.util as u, onnxruntime, onnx, skl2onnx, sklearn; assert onnxruntime.__version__ == "1.21.0" and u.find_spec("silero_vad")' >/dev/null 2>&1; then
    log "pip install test oracle (onnxruntime 1.21.0, onnx 1.17.0, skl2onnx, silero-vad)"
    python3 -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements-test.txt"
    python3 -m pip install -q --disable-pip-version-check --no-deps silero-vad==5.1.2
  fi
fi

log "ok: $(emcc --version | head -n1)"
log "ok: $(cmake --version | head -n1), ninja $(ninja --version), $(protoc --version)"
