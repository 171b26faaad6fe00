// ort-compact-build bundle loader (build @BUILD_ID@), generated: do not edit.
//
//   import * as ort from "onnxruntime-web";
//   import { createSession } from "./bundle/loader.mjs";
//   const session = await createSession(ort);            // the bundle's first model
//   const other = await createSession(ort, { model: "name", sessionOptions: {...} });
//
// Every URL is resolved against this module's own URL, so the bundle works from any origin and
// base path. The model download, the runtime's download and its (streaming) compilation and the
// runtime's ES module all start at once instead of one after the other; each fetch carries the
// file's Subresource Integrity value. Where the bundle has a model's byte planes (better
// compressed than the .ort), those are downloaded and rejoined into the .ort's exact bytes.
// Where it was built with float16 weights on the wire (opt-in, lossy), those are widened back
// to float32. preload.html holds the matching <link> hints for a page.
const bundle = @BUNDLE@;
const here = (name) => new URL(name, import.meta.url).href;
async function get(file) {
  const url = here(file.name);
  let response;
  try {
    response = await fetch(url, { integrity: file.integrity, credentials: "same-origin" });
  } catch (e) {
    // A failed integrity check and a blocked request look alike here: ask the server again.
    const status = await fetch(url, { method: "HEAD", credentials: "same-origin" }).then((r) => r.status, () => null);
    if (status === 200) throw new Error(`ort-compact loader: ${url} is not the file this bundle was built with (its integrity value does not match): redeploy the whole bundle.`);
    if (status !== null) throw new Error(`ort-compact loader: ${url}: HTTP ${status} (deploy every file of the bundle)`);
    throw new Error(`ort-compact loader: could not fetch ${url} (${e.message}). If the bundle is on another origin, that origin must send Access-Control-Allow-Origin for its files.`);
  }
  if (!response.ok) throw new Error(`ort-compact loader: ${url}: HTTP ${response.status} (deploy every file of the bundle)`);
  return response;
}
async function compile(file) {
  try {
    return await WebAssembly.compileStreaming(get(file));
  } catch (e) {
    if (String(e.message).startsWith("ort-compact")) throw e;
// No streaming compilation here, or the server's Content-Type is not application/wasm.
    return WebAssembly.compile(await (await get(file)).arrayBuffer());
  }
}
/** The model's bytes from its byte planes (byte 0 of every 4-byte word, then byte 1, …). */
function join(buffer) {
  const planes = new Uint8Array(buffer);
  const words = planes.length >> 2;
  const out = new Uint8Array(planes.length);
  for (let p = 0; p < 4; p++) {
    const plane = planes.subarray(p * words, (p + 1) * words);
    for (let w = 0; w < words; w++) out[4 * w + p] = plane[w];
  }
  out.set(planes.subarray(4 * words), 4 * words);
  return out.buffer;
}
/** float32 bits of the float16 `h` (exact: every float16 value is a float32 value). */
function float32Bits(h) {
  const sign = (h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  let e = 113, m = mantissa; // subnormal: normalise
  while (!(m & 0x400)) { m <<= 1; e--; }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}
/** The model's .ort from its float16 transport (header, region table, the other bytes, the
 * float16 values' low bytes, then their high bytes), every value widened to float32. */
function widen(buffer) {
  const src = new Uint8Array(buffer), head = new DataView(buffer);
  if (src.length < 16 || String.fromCharCode(...src.subarray(0, 7)) !== "ORTCF16" || src[7] !== 1)
    throw new Error("ort-compact loader: the float16 model file is not in format 1 of ORTCF16: redeploy the whole bundle");
  const length = head.getUint32(8, true), n = head.getUint32(12, true);
  let values = 0;
  for (let i = 0; i < n; i++) values += head.getUint32(20 + 8 * i, true);
  const out = new Uint8Array(length), view = new DataView(out.buffer);
  let rest = 16 + 8 * n, at = 0, h = 0;
  const lo = rest + length - 4 * values, hi = lo + values;
  for (let i = 0; i < n; i++) {
    const offset = head.getUint32(16 + 8 * i, true), count = head.getUint32(20 + 8 * i, true);
    out.set(src.subarray(rest, rest + offset - at), at);
    rest += offset - at;
    for (let k = 0; k < count; k++, h++) view.setUint32(offset + 4 * k, float32Bits(src[lo + h] | (src[hi + h] << 8)), true);
    at = offset + 4 * count;
  }
  out.set(src.subarray(rest, rest + length - at), at);
  return out.buffer;
}
function download(entry) {
  if (entry.float16) return get(entry.float16).then((r) => r.arrayBuffer()).then(widen);
  if (entry.planes) return get(entry.planes).then((r) => r.arrayBuffer()).then(join);
  return get(entry).then((r) => r.arrayBuffer());
}
let runtime = null;
/** Start every download of `model` (default: the bundle's first) and of the runtime now. */
export function preload(model = bundle.models[0].model) {
  const entry = bundle.models.find((m) => m.model === model);
  if (!entry) throw new Error(`ort-compact loader: the bundle has no model "${model}" (it has ${models.join(", ")})`);
  entry.bytes ??= download(entry);
  runtime ??= import(here(bundle.mjs.name)).then(
    (glue) => glue.ortCompactPrecompiled(compile(bundle.wasm), here(bundle.wasm.name)),
    (e) => { throw new Error(`ort-compact loader: could not import ${here(bundle.mjs.name)} (${e.message}); from another origin, that origin must send Access-Control-Allow-Origin`); });
  return entry;
}
/** An onnxruntime-web 1.21.0 InferenceSession for `model`, on this bundle's runtime. */
export async function createSession(ort, { model, sessionOptions = {} } = {}) {
  const entry = preload(model);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm: here(bundle.wasm.name), mjs: here(bundle.mjs.name) };
  await runtime;
  const bytes = new Uint8Array(await entry.bytes);
  return ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], ...sessionOptions });
}
/** The .ort bytes the session of `model` is created from (after any rejoining or widening). */
export async function modelBytes(model) {
  return new Uint8Array(await preload(model).bytes);
}
export const buildId = "@BUILD_ID@";
export const models = bundle.models.map((m) => m.model);
