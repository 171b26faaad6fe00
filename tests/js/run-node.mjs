// node run-node.mjs RUNTIME_DIR MODEL.ort INPUTS.json
// Runs MODEL once through onnxruntime-web 1.21.0's JS API in node, with the runtime (.mjs +
// .wasm) taken from RUNTIME_DIR, and prints {"outputs": {name: tensor}, "timings_ms": {…}} on
// stdout (tensor JSON: see lib/tensors.mjs). Exit code 1 with the error on stderr on failure.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from './lib/runtime-files.mjs';
import { runOnce } from './lib/tensors.mjs';

const start = performance.now();
const { files, model, inputs } = parseArgs(process.argv.slice(2), 'run-node.mjs');
try {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm: pathToFileURL(files.wasm).href, mjs: pathToFileURL(files.mjs).href };
  // Emscripten's node loader does not fetch file: URLs; hand it the bytes.
  ort.env.wasm.wasmBinary = fs.readFileSync(files.wasm);
  const result = await runOnce(ort, fs.readFileSync(model), inputs);
  result.timings_ms.total = Math.round((performance.now() - start) * 1000) / 1000;
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (e) {
  process.stderr.write(`run-node: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
}
