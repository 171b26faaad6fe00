// node run-browser.mjs RUNTIME_DIR MODEL.ort INPUTS.json
// Same as run-node.mjs, but the model runs in headless Chromium: a tiny HTTP server on
// 127.0.0.1 serves a page that imports onnxruntime-web 1.21.0's ESM build (ort.wasm.min.mjs)
// and the runtime files from RUNTIME_DIR; playwright-core drives /usr/bin/chromium (override:
// env CHROMIUM) with a fresh user-data-dir. Prints {"outputs": …, "timings_ms": …} on stdout.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { parseArgs } from './lib/runtime-files.mjs';

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

const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** URL path → file on disk (only these are served). */
function resolvePath(urlPath) {
  if (urlPath === '/runtime/ort-wasm.mjs') return files.mjs;
  if (urlPath === '/runtime/ort-wasm.wasm') return files.wasm;
  if (urlPath === '/model.ort') return model;
  if (urlPath === '/lib/tensors.mjs') return path.join(here, 'lib', 'tensors.mjs');
  const m = /^\/ort\/([A-Za-z0-9._-]+)$/.exec(urlPath);
  if (m) return path.join(ortDist, m[1]);
  return null;
}

const server = http.createServer((req, res) => {
  const urlPath = new URL(req.url, 'http://127.0.0.1').pathname;
  // Cross-origin isolation is not needed single-threaded, but makes the stock threaded build
  // behave as in a real deployment.
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
  if (urlPath === '/') {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
    return;
  }
  if (urlPath === '/inputs.json') {
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
    res.end(JSON.stringify(inputs));
    return;
  }
  const file = resolvePath(urlPath);
  if (!file || !fs.existsSync(file)) {
    res.writeHead(404, headers);
    res.end('not found');
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-compact-chromium-'));
let context;
let exitCode = 0;
try {
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  const url = `http://127.0.0.1:${server.address().port}/`;
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
  server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(exitCode);
