// node run-browser.mjs RUNTIME_DIR MODEL.ort INPUTS.json
// Same as run-node.mjs, but the model runs in headless Chromium: the project's static server
// (scripts/serve.mjs) on 127.0.0.1 serves a page that imports onnxruntime-web 1.21.0's ESM
// build (ort.wasm.min.mjs) and the runtime files from RUNTIME_DIR; playwright-core drives
// /usr/bin/chromium (override: env CHROMIUM) with a fresh user-data-dir. Prints
// {"outputs": …, "timings_ms": …} on stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { parseArgs } from './lib/runtime-files.mjs';
import { serve } from '../../scripts/serve.mjs';

const start = performance.now();
const here = path.dirname(fileURLToPath(import.meta.url));
const { files, model, inputs } = parseArgs(process.argv.slice(2), 'run-browser.mjs');
// 'onnxruntime-web/wasm' resolves (for require) to dist/ort.wasm.min.js.
const ortDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>ort-compact harness</title></head><body>
<script type="module">
  import * as ort from '/ort/ort.wasm.min.mjs';
  import { runOnce } from '/lib/tensors.mjs';
  window.runModel = async () => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = {
      wasm: new URL('/runtime/ort-wasm.wasm', location.href).href,
      mjs: new URL('/runtime/ort-wasm.mjs', location.href).href,
    };
    const model = new Uint8Array(await (await fetch('/model.ort')).arrayBuffer());
    const inputs = await (await fetch('/inputs.json')).json();
    return runOnce(ort, model, inputs);
  };
  window.harnessReady = true;
</script></body></html>`;

const routes = {
  '/': { body: PAGE, type: 'text/html; charset=utf-8' },
  '/inputs.json': { body: JSON.stringify(inputs), type: 'application/json' },
  '/runtime/ort-wasm.mjs': { file: files.mjs },
  '/runtime/ort-wasm.wasm': { file: files.wasm },
  '/model.ort': { file: model },
  '/lib/tensors.mjs': { file: path.join(here, 'lib', 'tensors.mjs') },
};
/** onnxruntime-web's own files, by name. */
function ortFile(urlPath) {
  const m = /^\/ort\/([A-Za-z0-9._-]+)$/.exec(urlPath);
  return m ? { file: path.join(ortDist, m[1]) } : null;
}
// Cross-origin isolation is not needed single-threaded, but makes the stock threaded build
// behave as in a real deployment.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-compact-chromium-'));
let context;
let server;
let exitCode = 0;
try {
  server = await serve(routes, { fallback: ortFile, headers: isolation });
  const url = `${server.url}/`;
  const t0 = performance.now();
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60000,
  });
  const t1 = performance.now();
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleLines = [];
  page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.harnessReady === true, null, { timeout: 60000 });
  let result;
  try {
    result = await page.evaluate(() => window.runModel());
  } catch (e) {
    throw new Error(`${e.message}\nbrowser console:\n${consoleLines.join('\n')}`);
  }
  result.timings_ms.browser_launch = Math.round((t1 - t0) * 1000) / 1000;
  result.timings_ms.total = Math.round((performance.now() - start) * 1000) / 1000;
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (e) {
  process.stderr.write(`run-browser: ${e && e.stack ? e.stack : e}\n`);
  exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  if (server) await server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(exitCode);
