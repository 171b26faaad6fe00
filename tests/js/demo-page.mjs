// node demo-page.mjs BUNDLE_DIR SCREENSHOT.png
// Opens examples/vad-web in headless Chromium, served by the project's static server
// (scripts/serve.mjs: brotli siblings, immutable hashed names) with the bundle mounted at
// /bundle/ and onnxruntime-web 1.21.0's dist at /ort/, waits for the page to finish, saves a
// screenshot and prints {"demo": window.demo, "status": s, "rows": [[from, to, peak]],
// "headers": {path: headers}, "outside_status": HTTP status of a path escaping the directories}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveDirectory } from '../../scripts/serve.mjs';

const [bundleDir, screenshot] = process.argv.slice(2);
if (!screenshot) {
  process.stderr.write('usage: node demo-page.mjs BUNDLE_DIR SCREENSHOT.png\n');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const ortDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
const server = await serveDirectory(path.resolve(here, '../../examples/vad-web'), {
  mounts: { '/ort/': ortDist, '/bundle/': path.resolve(bundleDir) },
});
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-compact-demo-'));
let context;
let code = 0;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1000, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: 60000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  const headers = {};
  page.on('response', (r) => { headers[new URL(r.url()).pathname] = r.headers(); });
  await page.goto(server.url + '/');
  await page.waitForFunction(() => window.demo && window.demo.done, null, { timeout: 120000, polling: 100 });
  const demo = await page.evaluate(() => window.demo);
  if (demo.error) throw new Error(`${demo.error}\nconsole:\n${consoleLines.join('\n')}`);
  const status = await page.textContent('#status');
  const rows = await page.$$eval('#segments tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
  await page.screenshot({ path: screenshot, fullPage: true });
  // The server never leaves its directories, however the path is spelt.
  const outside = await fetch(`${server.url}/bundle/..%2f..%2f..%2fCargo.toml`);
  process.stdout.write(JSON.stringify({ demo, status, rows, headers, outside_status: outside.status }) + '\n');
} catch (e) {
  process.stderr.write(`demo-page: ${e && e.stack ? e.stack : e}\n`);
  code = 1;
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  await server.close();
}
process.exit(code);
