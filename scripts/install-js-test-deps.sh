#!/usr/bin/env bash
# Install the JS test harness's npm dependencies (onnxruntime-web 1.21.0, playwright-core) into
# tests/js/node_modules, exactly as pinned by tests/js/package-lock.json.
# Idempotent: does nothing when node_modules already matches the lock file.
# playwright-core downloads no browser; the harness drives the system's /usr/bin/chromium.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
js="$here/../tests/js"
cd "$js"

command -v node >/dev/null || { echo "install-js-test-deps: node not found (need Node.js >= 18)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-js-test-deps: npm not found" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
  echo "install-js-test-deps: node $(node --version) is too old; Node.js >= 18 is required" >&2
  exit 1
fi

stamp="node_modules/.ort-compact-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -f node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm ] \
   && [ -f node_modules/playwright-core/package.json ]; then
  echo "install-js-test-deps: tests/js/node_modules is up to date"
  exit 0
fi

# No install scripts are needed (protobufjs' postinstall only prints a notice).
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$want" > "$stamp"
echo "install-js-test-deps: installed $(node -p 'require("./node_modules/onnxruntime-web/package.json").version') onnxruntime-web, $(node -p 'require("./node_modules/playwright-core/package.json").version') playwright-core"
