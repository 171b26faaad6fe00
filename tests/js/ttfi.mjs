// node ttfi.mjs CONFIG.json
// Time to first inference in headless Chromium: for each case (a model), network profile and
// contender (our bundle, or stock onnxruntime-web files + the original .onnx), a page in a fresh
// browser context (cold HTTP cache) imports onnxruntime-web 1.21.0, creates the session from the
// model's URL and runs it once; then the same page is visited again in the same context (warm
// HTTP cache). Times are performance.now() from navigation start. Network conditions come from
// CDP (Network.emulateNetworkConditions). Contenders alternate their order from round to round.
//
// CONFIG: {"rounds": n, "out_dir": dir, "ort_js": FILE, "profiles": [PROFILE], "cases": [CASE]}
//   FILE:    {"file": path, "br"?: path, "gzip"?: path}
//   PROFILE: {"id": s, "latency_ms"?: n, "down_kbps"?: n, "up_kbps"?: n}   (no numbers: none)
//   CASE:    {"id": s, "profiles"?: [id], "inputs": [{"name", "type", "dims", "fill"?}],
//             "contenders": [{"id": s, "fingerprint": s, "wasm": FILE, "mjs": FILE, "model": FILE,
//                             "loader"?: FILE, "preload"?: {"file": path, "prefix": s},
//                             "extra"?: [FILE]}]}   (extra: more files the loader fetches)
// A contender with a `loader` (a bundle's loader.mjs) is loaded through it, with the bundle's
// preload hints (their `prefix/` removed: the page sits in the bundle's directory) in the head;
// the others set onnxruntime-web's wasmPaths and create the session from the model's URL.
// Each measured item is written to out_dir/<case>--<contender>--<profile>--r<round>--<fp>.json as
// soon as it is done, and an existing one is not measured again (a cut run resumes). Inputs are
// filled with `fill` or the harness's pattern (floats ((j * 7) % 13 - 6) / 8, integers j % 2).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const [configPath] = process.argv.slice(2);
if (!configPath) {
  process.stderr.write('usage: node ttfi.mjs CONFIG.json\n');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
fs.mkdirSync(config.out_dir, { recursive: true });

const file = (f) => ({ file: f.file, br: f.br, gzip: f.gzip, immutable: true });
const routes = { '/ort/ort.wasm.min.mjs': file(config.ort_js) };
for (const c of config.cases) {
  for (const k of c.contenders) {
    for (const f of [k.wasm, k.mjs, k.model, k.loader, ...(k.extra ?? [])].filter(Boolean)) {
      routes[`/${c.id}/${k.id}/${path.basename(f.file)}`] = file(f);
    }
    routes[`/${c.id}/${k.id}/`] = { body: page(c, k), type: 'text/html; charset=utf-8' };
  }
}

/** The measured page of contender `k` of case `c`. */
function page(c, k) {
  const base = `/${c.id}/${k.id}/`;
  const settings = {
    wasm: base + path.basename(k.wasm.file),
    mjs: base + path.basename(k.mjs.file),
    model: base + path.basename(k.model.file),
    loader: k.loader ? base + path.basename(k.loader.file) : null,
    inputs: c.inputs,
  };
  const hints = k.preload ? fs.readFileSync(k.preload.file, 'utf8').replaceAll(`href="${k.preload.prefix}/`, 'href="') : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>ttfi ${c.id} ${k.id}</title>${hints}</head><body>
<script type="module">
const S = ${JSON.stringify(settings)};
// Every WebAssembly.Memory the runtime creates, exports or imports: its size after the first run.
const memories = new Set();
const scan = (o) => { for (const v of Object.values(o || {})) { if (v instanceof WebAssembly.Memory) memories.add(v); else if (v && typeof v === 'object' && !(v instanceof WebAssembly.Module)) for (const w of Object.values(v)) if (w instanceof WebAssembly.Memory) memories.add(w); } };
const grab = (imports) => (r) => { scan(imports); scan((r instanceof WebAssembly.Instance ? r : r.instance).exports); return r; };
const instantiate = WebAssembly.instantiate, streaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiate = (m, imports) => instantiate.call(WebAssembly, m, imports).then(grab(imports));
WebAssembly.instantiateStreaming = (r, imports) => streaming.call(WebAssembly, r, imports).then(grab(imports));
const SIZES = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array, bool: Uint8Array };
try {
  const ort = await import('/ort/ort.wasm.min.mjs');
  let session;
  if (S.loader) {
    const { createSession } = await import(S.loader);
    session = await createSession(ort);
  } else {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = { wasm: new URL(S.wasm, location.href).href, mjs: new URL(S.mjs, location.href).href };
    session = await ort.InferenceSession.create(new URL(S.model, location.href).href, { executionProviders: ['wasm'] });
  }
  const ready = performance.now();
  const feeds = {};
  for (const i of S.inputs) {
    const n = i.dims.reduce((a, b) => a * b, 1);
    const data = new SIZES[i.type](n);
    const value = (j) => i.fill ?? (i.type === 'float32' ? ((j * 7) % 13 - 6) / 8 : j % 2);
    for (let j = 0; j < n; j++) data[j] = i.type === 'int64' ? BigInt(value(j)) : value(j);
    feeds[i.name] = new ort.Tensor(i.type, data, i.dims);
  }
  const out = await session.run(feeds);
  const first = performance.now();
  let memory = 0;
  for (const m of memories) memory += m.buffer.byteLength;
  const resources = performance.getEntriesByType('resource').map((e) => ({
    name: new URL(e.name).pathname, start_ms: Math.round(e.startTime), end_ms: Math.round(e.responseEnd), bytes: e.encodedBodySize }));
  window.result = { ready_ms: ready, first_ms: first, wasm_memory: memory, resources,
    outputs: Object.fromEntries(Object.entries(out).map(([n, t]) => [n, Array.from(t.dims)])) };
} catch (e) {
  window.result = { error: String(e && e.stack || e) };
}
</script></body></html>`;
}

const server = await serve(routes);

/** A browser with a fresh profile: an empty disk cache, as on a first visit. (An incognito
 * context's memory cache would not keep stock's 12.7 MB wasm for the repeat visit.) */
async function freshBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-compact-ttfi-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60000,
  });
  return { context, profile };
}

/** One visit of `url` in `pageObj`: the page's result plus the bytes the server sent. */
async function visit(pageObj, url) {
  server.resetBytes();
  await pageObj.goto(url, { timeout: 600000 });
  await pageObj.waitForFunction(() => window.result !== undefined, null, { timeout: 600000, polling: 50 });
  const result = await pageObj.evaluate(() => window.result);
  if (result.error) throw new Error(`${url}: ${result.error}\nrequests: ${server.requests().join('; ')}`);
  return { ...result, bytes: server.bytesSent(), requests: server.requests().length };
}

async function measure(c, k, profile) {
  const { context, profile: dir } = await freshBrowser();
  try {
    const p = context.pages()[0] ?? (await context.newPage());
    if (profile.latency_ms !== undefined) {
      const cdp = await context.newCDPSession(p);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: profile.latency_ms,
        downloadThroughput: (profile.down_kbps * 1000) / 8,
        uploadThroughput: (profile.up_kbps * 1000) / 8,
      });
    }
    const url = `${server.url}/${c.id}/${k.id}/`;
    const cold = await visit(p, url);
    const repeat = await visit(p, url);
    return { cold, repeat };
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let failed = false;
try {
  for (let round = 0; round < config.rounds; round++) {
    for (const c of config.cases) {
      const profiles = config.profiles.filter((p) => !c.profiles || c.profiles.includes(p.id));
      for (const profile of profiles) {
        const order = round % 2 === 0 ? c.contenders : [...c.contenders].reverse();
        for (const k of order) {
          const item = path.join(config.out_dir, `${c.id}--${k.id}--${profile.id}--r${round}--${k.fingerprint}.json`);
          if (fs.existsSync(item)) continue;
          const t = performance.now();
          const result = await measure(c, k, profile);
          fs.writeFileSync(item + '.tmp', JSON.stringify({ case: c.id, contender: k.id, profile: profile.id, round, ...result }));
          fs.renameSync(item + '.tmp', item);
          process.stderr.write(`ttfi ${c.id} ${k.id} ${profile.id} r${round}: ready ${result.cold.ready_ms.toFixed(0)} ms, first ${result.cold.first_ms.toFixed(0)} ms, ${result.cold.bytes} B; repeat first ${result.repeat.first_ms.toFixed(0)} ms (${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
        }
      }
    }
  }
} catch (e) {
  process.stderr.write(`ttfi: ${e && e.stack ? e.stack : e}\n`);
  failed = true;
} finally {
  await server.close();
}
process.exit(failed ? 1 : 0);
