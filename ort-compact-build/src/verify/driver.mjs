// ort-compact verify driver: runs one ORT-format model once in a built ONNX Runtime WebAssembly
// module, talking to the module's C exports directly (no onnxruntime-web JS).
//
// Usage: node driver.mjs CONFIG.json
// CONFIG: {"mjs": path, "wasm": path, "model": path, "max_values": n,
//          "inputs": [{"name": s, "elem_type": onnx_type_code, "dims": [n, ...]}]}
// Prints one line `ORT_COMPACT_VERIFY_RESULT <json>` on stdout and exits 0 whenever it could
// report; anything else (exit code != 0, no result line) is a driver crash.
//
// Module requirements: exports _OrtInit, _OrtGetLastError, _OrtCreateSessionOptions,
// _OrtReleaseSessionOptions, _OrtCreateSession, _OrtReleaseSession, _OrtGetInputOutputCount,
// _OrtGetInputName, _OrtGetOutputName, _OrtFree, _OrtCreateTensor, _OrtGetTensorData,
// _OrtReleaseTensor, _OrtRun, _malloc, _free; runtime methods UTF8ToString and, where HEAPU8 is
// not exported, getValue/setValue (slower byte-wise fallback).

import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

const MARKER = 'ORT_COMPACT_VERIFY_RESULT ';

// ONNX TensorProto element types: [name, byte size]
const TYPES = {
  1: ['float32', 4], 2: ['uint8', 1], 3: ['int8', 1], 4: ['uint16', 2], 5: ['int16', 2],
  6: ['int32', 4], 7: ['int64', 8], 8: ['string', 4], 9: ['bool', 1], 10: ['float16', 2],
  11: ['float64', 8], 12: ['uint32', 4], 13: ['uint64', 8], 16: ['bfloat16', 2],
};

const report = { ok: false, stage: 'start', timings_ms: {}, inputs: [], outputs: [] };
let stageStart = performance.now();

function finish() {
  process.stdout.write(MARKER + JSON.stringify(report) + '\n');
  process.exit(0);
}

// kind: 'status' (ORT returned an error code), 'trap' (WebAssembly.RuntimeError: the runtime is
// broken), 'exception' (a C++ exception or abort escaped), 'load', 'driver'.
function fail(stage, code, message, kind = 'status') {
  report.timings_ms[stage] = Math.round((performance.now() - stageStart) * 1000) / 1000;
  report.ok = false;
  report.stage = stage;
  report.error = { code, message: String(message), kind };
  finish();
}

function enterStage(name) {
  const now = performance.now();
  report.timings_ms[report.stage] = Math.round((now - stageStart) * 1000) / 1000;
  report.stage = name;
  stageStart = now;
}

// The pattern used for synthesised input data (also documented in the Rust module `verify`):
// floats: ((i * 7) % 13 - 6) / 8, integers: i % 2, bool: i % 2 == 0, strings: "s<i % 10>".
function floatValue(i) {
  return (((i * 7) % 13) - 6) / 8;
}

function f32ToF16Bits(v) {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  f[0] = v;
  const x = u[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0) return sign; // zero / f32 subnormal
  if (exp <= 0) return sign | ((mant | 0x800000) >>> (14 - exp)); // f16 subnormal (truncated)
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >>> 13);
}

function f16BitsToF32(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function synthBytes(elemType, count) {
  switch (elemType) {
    case 1: return new Uint8Array(Float32Array.from({ length: count }, (_, i) => floatValue(i)).buffer);
    case 11: return new Uint8Array(Float64Array.from({ length: count }, (_, i) => floatValue(i)).buffer);
    case 10: return new Uint8Array(Uint16Array.from({ length: count }, (_, i) => f32ToF16Bits(floatValue(i))).buffer);
    case 16: {
      const f = Float32Array.from({ length: count }, (_, i) => floatValue(i));
      const u = new Uint32Array(f.buffer);
      return new Uint8Array(Uint16Array.from(u, (x) => x >>> 16).buffer);
    }
    case 2: case 3: return Uint8Array.from({ length: count }, (_, i) => i % 2);
    case 4: case 5: return new Uint8Array(Uint16Array.from({ length: count }, (_, i) => i % 2).buffer);
    case 6: case 12: return new Uint8Array(Uint32Array.from({ length: count }, (_, i) => i % 2).buffer);
    case 7: case 13: return new Uint8Array(BigUint64Array.from({ length: count }, (_, i) => BigInt(i % 2)).buffer);
    case 9: return Uint8Array.from({ length: count }, (_, i) => (i % 2 === 0 ? 1 : 0));
    default: return null;
  }
}

function decodeValues(elemType, bytes) {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const num = (x) => (typeof x === 'bigint' ? (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x.toString()) : x);
  const finite = (x) => (Number.isFinite(x) ? x : String(x));
  switch (elemType) {
    case 1: return Array.from(new Float32Array(buf), finite);
    case 11: return Array.from(new Float64Array(buf), finite);
    case 10: return Array.from(new Uint16Array(buf), (h) => finite(f16BitsToF32(h)));
    case 16: return Array.from(new Uint16Array(buf), (h) => finite(new Float32Array(new Uint32Array([h << 16]).buffer)[0]));
    case 2: return Array.from(new Uint8Array(buf));
    case 3: return Array.from(new Int8Array(buf));
    case 4: return Array.from(new Uint16Array(buf));
    case 5: return Array.from(new Int16Array(buf));
    case 6: return Array.from(new Int32Array(buf));
    case 12: return Array.from(new Uint32Array(buf));
    case 7: return Array.from(new BigInt64Array(buf), num);
    case 13: return Array.from(new BigUint64Array(buf), num);
    case 9: return Array.from(new Uint8Array(buf), (b) => b !== 0);
    default: return [];
  }
}

async function main() {
  const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const maxValues = Number.isInteger(config.max_values) ? config.max_values : 16;

  const modelBytes = fs.readFileSync(config.model);

  // ---- load the Emscripten module -----------------------------------------------------------
  report.stage = 'load';
  let m;
  try {
    const factoryModule = await import(pathToFileURL(config.mjs).href);
    const factory = factoryModule.default;
    if (typeof factory !== 'function') throw new Error(`${config.mjs} has no default export (factory)`);
    m = await factory({ wasmBinary: fs.readFileSync(config.wasm), numThreads: 1 });
  } catch (e) {
    return fail('load', -1, `loading the runtime module failed: ${e && e.stack ? e.stack : e}`, 'load');
  }
  const needed = ['_OrtInit', '_OrtGetLastError', '_OrtCreateSessionOptions', '_OrtCreateSession',
    '_OrtGetInputOutputCount', '_OrtGetInputName', '_OrtGetOutputName', '_OrtFree', '_OrtCreateTensor',
    '_OrtGetTensorData', '_OrtReleaseTensor', '_OrtRun', '_malloc', '_free', 'UTF8ToString'];
  const missing = needed.filter((k) => typeof m[k] !== 'function');
  if (!m.HEAPU8 && (typeof m.getValue !== 'function' || typeof m.setValue !== 'function')) {
    missing.push('HEAPU8 (or getValue+setValue)');
  }
  if (missing.length) return fail('load', -1, `the runtime module does not export: ${missing.join(', ')}`, 'load');

  // ---- memory helpers (views are re-read after every call: memory may grow) ----------------
  const heap = () => m.HEAPU8;
  const write = (ptr, bytes) => {
    if (heap()) heap().set(bytes, ptr);
    else for (let i = 0; i < bytes.length; i++) m.setValue(ptr + i, bytes[i], 'i8');
  };
  const read = (ptr, len) => {
    if (heap()) return heap().slice(ptr, ptr + len);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = m.getValue(ptr + i, 'i8') & 0xff;
    return out;
  };
  const u32 = (ptr) => new DataView(read(ptr, 4).buffer).getUint32(0, true);
  const setU32 = (ptr, v) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    write(ptr, b);
  };
  const allocs = [];
  const malloc = (n) => {
    const p = m._malloc(Math.max(n, 1)) >>> 0;
    if (!p) throw new Error(`malloc(${n}) failed`);
    allocs.push(p);
    return p;
  };
  const cstr = (s) => {
    const b = new TextEncoder().encode(s + '\0');
    const p = malloc(b.length);
    write(p, b);
    return p;
  };
  const lastError = (fallback) => {
    const p = malloc(8);
    m._OrtGetLastError(p, p + 4);
    const code = u32(p) | 0;
    const msgPtr = u32(p + 4);
    const message = msgPtr ? m.UTF8ToString(msgPtr) : fallback;
    return { code, message };
  };
  // A C call that may abort (exceptions off: a throw inside ORT aborts the instance).
  const call = (stage, fn) => {
    try {
      return fn();
    } catch (e) {
      const trap = e instanceof WebAssembly.RuntimeError;
      const what = e && e.message ? e.message : String(e);
      return fail(stage, -1, trap ? `the runtime trapped: ${what}` : `the runtime threw: ${what}`, trap ? 'trap' : 'exception');
    }
  };

  // ---- init + session ------------------------------------------------------------------------
  enterStage('init');
  if (call('init', () => m._OrtInit(1, 2)) !== 0) {
    const e = lastError('OrtInit failed');
    return fail('init', e.code, e.message);
  }
  enterStage('session');
  // graph optimization level 99 (all), cpu arena on, mem pattern on, sequential, no profiling,
  // no profile prefix, no log id, log severity 2 (warning), verbosity 0, no optimized model path.
  const opts = call('session', () => m._OrtCreateSessionOptions(99, 1, 1, 0, 0, 0, 0, 2, 0, 0)) >>> 0;
  if (!opts) {
    const e = lastError('OrtCreateSessionOptions failed');
    return fail('session', e.code, e.message);
  }
  const modelPtr = malloc(modelBytes.length);
  write(modelPtr, modelBytes);
  const session = call('session', () => m._OrtCreateSession(modelPtr, modelBytes.length, opts)) >>> 0;
  if (!session) {
    const e = lastError('OrtCreateSession failed without an error message');
    return fail('session', e.code, e.message);
  }
  const counts = malloc(8);
  if (call('session', () => m._OrtGetInputOutputCount(session, counts, counts + 4)) !== 0) {
    const e = lastError('OrtGetInputOutputCount failed');
    return fail('session', e.code, e.message);
  }
  const nIn = u32(counts);
  const nOut = u32(counts + 4);
  const names = (getter, n) => {
    const out = [];
    for (let i = 0; i < n; i++) {
      const p = call('session', () => getter(session, i)) >>> 0;
      if (!p) {
        const e = lastError('getting an input/output name failed');
        fail('session', e.code, e.message);
      }
      out.push(m.UTF8ToString(p));
      m._OrtFree(p);
    }
    return out;
  };
  const inputNames = names(m._OrtGetInputName, nIn);
  const outputNames = names(m._OrtGetOutputName, nOut);
  report.inputs = inputNames;

  // ---- inputs ----------------------------------------------------------------------------------
  enterStage('inputs');
  const specs = new Map((config.inputs || []).map((s) => [s.name, s]));
  const missingSpecs = inputNames.filter((n) => !specs.has(n));
  if (missingSpecs.length) return fail('inputs', -1, `no input spec for model input(s): ${missingSpecs.join(', ')}`, 'driver');
  const tensors = [];
  for (const name of inputNames) {
    const spec = specs.get(name);
    const type = TYPES[spec.elem_type];
    if (!type) return fail('inputs', -1, `input '${name}': element type ${spec.elem_type} is not supported by the verify driver`, 'driver');
    const dims = spec.dims.map(Number);
    const count = dims.reduce((a, b) => a * b, 1);
    let dataPtr;
    let dataLen;
    if (spec.elem_type === 8) {
      const ptrs = new Uint8Array(count * 4);
      for (let i = 0; i < count; i++) new DataView(ptrs.buffer).setUint32(i * 4, cstr(`s${i % 10}`), true);
      dataLen = ptrs.length;
      dataPtr = malloc(dataLen);
      write(dataPtr, ptrs);
    } else {
      const bytes = synthBytes(spec.elem_type, count);
      dataLen = bytes.length;
      dataPtr = malloc(dataLen);
      write(dataPtr, bytes);
    }
    const dimsPtr = malloc(dims.length * 4);
    dims.forEach((d, i) => setU32(dimsPtr + i * 4, d));
    const t = call('inputs', () => m._OrtCreateTensor(spec.elem_type, dataPtr, dataLen, dimsPtr, dims.length, 1)) >>> 0; // 1 = CPU (api.cc DATA_LOCATION_CPU)
    if (!t) {
      const e = lastError('OrtCreateTensor failed');
      return fail('inputs', e.code, `input '${name}': ${e.message}`);
    }
    tensors.push(t);
  }

  // ---- run -------------------------------------------------------------------------------------
  enterStage('run');
  const inNamesPtr = malloc(nIn * 4);
  inputNames.forEach((n, i) => setU32(inNamesPtr + i * 4, cstr(n)));
  const inValsPtr = malloc(nIn * 4);
  tensors.forEach((t, i) => setU32(inValsPtr + i * 4, t));
  const outNamesPtr = malloc(nOut * 4);
  outputNames.forEach((n, i) => setU32(outNamesPtr + i * 4, cstr(n)));
  const outValsPtr = malloc(nOut * 4);
  for (let i = 0; i < nOut; i++) setU32(outValsPtr + i * 4, 0);
  const rc = call('run', () => m._OrtRun(session, inNamesPtr, inValsPtr, nIn, outNamesPtr, nOut, outValsPtr, 0));
  if (rc !== 0) {
    const e = lastError('OrtRun failed');
    return fail('run', e.code, e.message);
  }

  // ---- outputs ---------------------------------------------------------------------------------
  enterStage('outputs');
  const q = malloc(16);
  for (let i = 0; i < nOut; i++) {
    const t = u32(outValsPtr + i * 4);
    const out = { name: outputNames[i] };
    if (call('outputs', () => m._OrtGetTensorData(t, q, q + 4, q + 8, q + 12)) !== 0) {
      const e = lastError('OrtGetTensorData failed');
      out.error = e.message; // e.g. a sequence or map output: not a tensor
      m._OrtReleaseTensor(t);
      report.outputs.push(out);
      continue;
    }
    const elemType = u32(q);
    const dataPtr = u32(q + 4);
    const dimsPtr = u32(q + 8);
    const nDims = u32(q + 12);
    const dims = [];
    for (let d = 0; d < nDims; d++) dims.push(u32(dimsPtr + d * 4));
    const count = dims.reduce((a, b) => a * b, 1);
    out.elem_type = elemType;
    out.dims = dims;
    out.count = count;
    const type = TYPES[elemType];
    const shown = Math.min(count, maxValues);
    if (elemType === 8) {
      out.values = [];
      for (let k = 0; k < shown; k++) out.values.push(m.UTF8ToString(u32(dataPtr + k * 4)));
      m._OrtFree(dataPtr);
    } else if (type) {
      out.values = decodeValues(elemType, read(dataPtr, shown * type[1]));
    }
    m._OrtFree(dimsPtr);
    m._OrtReleaseTensor(t);
    report.outputs.push(out);
  }
  for (const t of tensors) m._OrtReleaseTensor(t);
  if (typeof m._OrtReleaseSession === 'function') m._OrtReleaseSession(session);
  if (typeof m._OrtReleaseSessionOptions === 'function') m._OrtReleaseSessionOptions(opts);
  for (const p of allocs) m._free(p);
  enterStage('done');
  report.ok = true;
  finish();
}

main().catch((e) => fail(report.stage, -1, `driver error: ${e && e.stack ? e.stack : e}`, 'driver'));
