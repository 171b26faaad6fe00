// node bench-node.mjs RUNTIME_DIR MODEL.ort INPUTS.json [RUNS]
// Times onnxruntime-web 1.21.0 in node (1 thread) over the runtime in RUNTIME_DIR: runtime
// initialisation, session creation, the first run and the median / min of RUNS further runs.
// Prints {"init_ms", "create_session_ms", "first_run_ms", "median_run_ms", "min_run_ms", "runs"}.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from './lib/runtime-files.mjs';
import { toOrtFeeds } from './lib/tensors.mjs';

const argv = process.argv.slice(2);
const runs = Number(argv[3] ?? 50);
const { files, model, inputs } = parseArgs(argv.slice(0, 3), 'bench-node.mjs');
const ms = (a, b) => Math.round((b - a) * 1000) / 1000;
try {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm: pathToFileURL(files.wasm).href, mjs: pathToFileURL(files.mjs).href };
  ort.env.wasm.wasmBinary = fs.readFileSync(files.wasm);
  const bytes = fs.readFileSync(model);
  const t0 = performance.now();
  // The first session also initialises the wasm runtime; a second one measures creation alone.
  const warm = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const t1 = performance.now();
  await warm.release();
  const t2 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const t3 = performance.now();
  const feeds = toOrtFeeds(ort, inputs);
  await session.run(feeds);
  const t4 = performance.now();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const a = performance.now();
    await session.run(feeds);
    times.push(performance.now() - a);
  }
  times.sort((a, b) => a - b);
  await session.release();
  process.stdout.write(JSON.stringify({
    init_ms: ms(t0, t1) - ms(t2, t3),
    create_session_ms: ms(t2, t3),
    first_run_ms: ms(t3, t4),
    median_run_ms: Math.round(times[Math.floor(times.length / 2)] * 1000) / 1000,
    min_run_ms: Math.round(times[0] * 1000) / 1000,
    runs,
  }) + '\n');
} catch (e) {
  process.stderr.write(`bench-node: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
}
