// node loader-run.mjs BUNDLE_DIR INPUTS.json
// The bundle's loader.mjs in headless Chromium, the bundle served by scripts/serve.mjs under
// /bundle/ (brotli-encoded): createSession(ort) for the bundle's first model, one run on the
// inputs. Prints {"outputs": {name: tensor}, "model_sha256": hex of the .ort bytes the session
// was created from (loader's modelBytes()), "fetched": [bundle files the page requested]}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { serveDirectory } from '../../scripts/serve.mjs';

const [bundleDir, inputsPath] = process.argv.slice(2);
if (!inputsPath) {
  process.stderr.write('usage: node loader-run.mjs BUNDLE_DIR INPUTS.json\n');
  process.exit(2);
}
const inputs = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
const ortDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
const here = path.dirname(new URL(import.meta.url).pathname);
const site = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-compact-loader-run-'));
fs.writeFileSync(path.join(site, 'index.html'), `<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module">
import { toOrtFeeds, fromOrtResults } from '/lib/tensors.mjs';
try {
  const ort = await import('/ort/ort.wasm.min.mjs');
  const { createSession, modelBytes } = await import('/bundle/loader.mjs');
  const session = await createSession(ort);
  const out = await session.run(toOrtFeeds(ort, ${JSON.stringify(inputs)}));
  const digest = await crypto.subtle.digest('SHA-256', await modelBytes());
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  window.result = { outputs: fromOrtResults(out), model_sha256: hex };
} catch (e) {
  window.result = { error: String(e && e.message || e) };
}
</script></body></html>`);

const server = await serveDirectory(site, {
  mounts: { '/bundle/': bundleDir, '/ort/': ortDist, '/lib/': path.join(here, 'lib') },
});
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-compact-loader-run-profile-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  timeout: 60000,
});
let code = 0;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const fetched = [];
  page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname.startsWith('/bundle/')) fetched.push(u.pathname.slice(8)); });
  await page.goto(server.url + '/');
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 120000, polling: 50 });
  const result = await page.evaluate(() => window.result);
  if (result.error) throw new Error(result.error);
  process.stdout.write(JSON.stringify({ ...result, fetched }) + '\n');
} catch (e) {
  process.stderr.write(`loader-run: ${e && e.stack ? e.stack : e}\n`);
  code = 1;
} finally {
  await context.close().catch(() => {});
  await server.close();
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(site, { recursive: true, force: true });
}
process.exit(code);
