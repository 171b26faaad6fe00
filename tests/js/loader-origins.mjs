// node loader-origins.mjs BUNDLE_DIR INPUTS.json
// The bundle's loader.mjs in headless Chromium, served from another origin than the page and
// under a nested base path (/cdn/v1/models/), three times: with CORS allowed (the session must
// run), without (the failure must name CORS), with CORS but the model files left out of the
// deployment (the loader must name the missing URL and its HTTP status), and with other bytes
// under the model's name (the loader must say it is not the bundle's file). The page imports
// onnxruntime-web from its own origin. Prints {"cors": {"outputs": {name: dims}},
// "no_cors": {"error": s, "console": [s]}, "missing_model": {"error": s, ...},
// "tampered_model": {"error": s, ...}} on stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const [bundleDir, inputsPath] = process.argv.slice(2);
if (!inputsPath) {
  process.stderr.write('usage: node loader-origins.mjs BUNDLE_DIR INPUTS.json\n');
  process.exit(2);
}
const inputs = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
const ortDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
const BASE = '/cdn/v1/models/';

const bundleRoutes = {};
for (const name of fs.readdirSync(bundleDir)) {
  if (name.endsWith('.br') || name.endsWith('.gz')) continue;
  const file = path.join(bundleDir, name);
  const br = fs.existsSync(file + '.br') ? file + '.br' : undefined;
  bundleRoutes[BASE + name] = { file, br, immutable: /\.[0-9a-f]{16}\./.test(name) };
}

function page(loaderUrl) {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module">
import { toOrtFeeds } from '/lib/tensors.mjs';
const logs = [];
try {
  const ort = await import('/ort/ort.wasm.min.mjs');
  const { createSession } = await import(${JSON.stringify(loaderUrl)});
  const session = await createSession(ort);
  const out = await session.run(toOrtFeeds(ort, ${JSON.stringify(inputs)}));
  window.result = { outputs: Object.fromEntries(Object.entries(out).map(([n, t]) => [n, Array.from(t.dims)])) };
} catch (e) {
  window.result = { error: String(e && e.message || e) };
}
</script></body></html>`;
}

const here = path.dirname(new URL(import.meta.url).pathname);
async function run(cors, { withoutModels = false, tampered = false } = {}) {
  const isModel = (url) => /\.(ort|planes)$/.test(url);
  const other = { file: path.join(bundleDir, 'manifest.json') };
  const routes = Object.fromEntries(Object.entries(bundleRoutes)
    .filter(([url]) => !(withoutModels && isModel(url)))
    .map(([url, route]) => [url, tampered && isModel(url) ? other : route]));
  const bundle = await serve(routes, { headers: cors ? { 'Access-Control-Allow-Origin': '*' } : {} });
  const app = await serve({
    '/': { body: page(`${bundle.url}${BASE}loader.mjs`), type: 'text/html; charset=utf-8' },
    '/ort/ort.wasm.min.mjs': { file: path.join(ortDist, 'ort.wasm.min.mjs') },
    '/lib/tensors.mjs': { file: path.join(here, 'lib', 'tensors.mjs') },
  }, { fallback: (p) => (p.startsWith('/ort/') ? { file: path.join(ortDist, path.basename(p)) } : null) });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-compact-loader-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: 60000,
  });
  try {
    const p = context.pages()[0] ?? (await context.newPage());
    const consoleLines = [];
    p.on('console', (m) => consoleLines.push(m.text()));
    await p.goto(app.url + '/');
    await p.waitForFunction(() => window.result !== undefined, null, { timeout: 120000, polling: 50 });
    return { ...(await p.evaluate(() => window.result)), console: consoleLines };
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
    await bundle.close();
    await app.close();
  }
}

try {
  const result = {
    cors: await run(true),
    no_cors: await run(false),
    missing_model: await run(true, { withoutModels: true }),
    tampered_model: await run(true, { tampered: true }),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (e) {
  process.stderr.write(`loader-origins: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
}
