// Locating a runtime's .mjs/.wasm pair in a directory (node only).
import fs from 'node:fs';
import path from 'node:path';

/**
 * {mjs, wasm} absolute paths in `dir`: the pair a bundle's manifest.json names (an ort-compact
 * deploy bundle, content-hashed names), ort-wasm.* (an ort-compact build), else the names stock
 * onnxruntime-web ships (ort-wasm-simd.*, ort-wasm-simd-threaded.*).
 */
export function runtimeFiles(dir) {
  const manifest = path.resolve(dir, 'manifest.json');
  if (fs.existsSync(manifest)) {
    const m = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    if (m.bundle_format) return { mjs: path.resolve(dir, m.runtime.mjs), wasm: path.resolve(dir, m.runtime.wasm) };
  }
  for (const stem of ['ort-wasm', 'ort-wasm-simd', 'ort-wasm-simd-threaded']) {
    const mjs = path.resolve(dir, `${stem}.mjs`);
    const wasm = path.resolve(dir, `${stem}.wasm`);
    if (fs.existsSync(mjs) && fs.existsSync(wasm)) return { mjs, wasm };
  }
  throw new Error(`${dir} holds no runtime (ort-wasm.mjs + ort-wasm.wasm, or ort-wasm-simd[-threaded].*)`);
}

/** Parse `DIR MODEL INPUTS.json` from argv or exit with usage. */
export function parseArgs(argv, script) {
  if (argv.length !== 3) {
    process.stderr.write(`usage: node ${script} RUNTIME_DIR MODEL.ort INPUTS.json\n`);
    process.exit(2);
  }
  const [dir, model, inputs] = argv;
  return {
    files: runtimeFiles(dir),
    model: path.resolve(model),
    inputs: JSON.parse(fs.readFileSync(inputs, 'utf8')),
  };
}
