// Conversions between the harness's JSON tensors and onnxruntime-web tensors.
// Shared by run-node.mjs and the page run-browser.mjs serves, so it must not import node modules.
//
// JSON tensor: {"type": "float32" | "int64" | "bool" | … (onnxruntime-web type names),
//               "dims": [n, …], "data": [flat values, row-major]}
// Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity"; 64-bit integers
// outside ±2^53 as decimal strings.

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

function parseNumber(v) {
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** JSON inputs {name: tensor} → {name: ort.Tensor}. */
export function toOrtFeeds(ort, inputs) {
  const feeds = {};
  for (const [name, t] of Object.entries(inputs)) {
    const Ctor = ARRAYS[t.type];
    if (t.type === 'string') {
      feeds[name] = new ort.Tensor('string', t.data.map(String), t.dims);
      continue;
    }
    if (!Ctor) throw new Error(`input '${name}': unsupported type ${t.type}`);
    const big = t.type === 'int64' || t.type === 'uint64';
    const data = Ctor.from(t.data, (v) => (big ? BigInt(typeof v === 'string' ? v : Math.trunc(parseNumber(v))) : parseNumber(v)));
    feeds[name] = new ort.Tensor(t.type, data, t.dims);
  }
  return feeds;
}

function jsonValue(v) {
  if (typeof v === 'bigint') {
    return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString();
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/** onnxruntime-web results {name: ort.Tensor} → JSON {name: tensor}. */
export function fromOrtResults(results) {
  const out = {};
  for (const [name, t] of Object.entries(results)) {
    let data;
    if (t.type === 'bool') data = Array.from(t.data, (b) => b !== 0);
    else if (t.type === 'string') data = Array.from(t.data);
    else data = Array.from(t.data, jsonValue);
    out[name] = { type: t.type, dims: Array.from(t.dims), data };
  }
  return out;
}

/** Create a session from model bytes, run it once, return {outputs, timings_ms}. */
export async function runOnce(ort, modelBytes, inputs) {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
  const t1 = performance.now();
  const results = await session.run(toOrtFeeds(ort, inputs));
  const t2 = performance.now();
  const outputs = fromOrtResults(results);
  await session.release();
  return {
    outputs,
    timings_ms: { create_session: round(t1 - t0), run: round(t2 - t1) },
  };
}

function round(ms) {
  return Math.round(ms * 1000) / 1000;
}
