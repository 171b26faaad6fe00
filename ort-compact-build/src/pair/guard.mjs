// ort-compact-build's matched-pair guard, appended to Emscripten's ES module. The module's own
// loader is replaced through its `instantiateWasm` hook: the .wasm is compiled (streaming where
// the browser can), its build id (custom section "ort_compact.build_id") is compared with this
// module's, and only a matching pair is instantiated. A mismatch rejects the factory with a
// message naming both ids instead of a LinkError or a "function signature mismatch" later.
// Lines starting with // are dropped when the guard is embedded.
const ortCompactBuildId = "@BUILD_ID@";
const ortCompactWasmName = "@WASM_NAME@";
const ortCompactIsNode = globalThis.process?.versions?.node && globalThis.process.type != "renderer";
let ortCompactPrecompiledWasm = null;
// The bundle's loader compiles the .wasm while the model downloads and hands the promise of the
// WebAssembly.Module here (the loader and onnxruntime-web import this same module URL).
export function ortCompactPrecompiled(module, url) {
  ortCompactPrecompiledWasm = [module, url];
}
async function ortCompactFetch(url) {
  try {
    return await fetch(url, { credentials: "same-origin" });
  } catch (e) {
    throw new Error(`ort-compact: could not fetch ${url} (${e.message}). If it is on another origin, that origin must allow this page with CORS (Access-Control-Allow-Origin).`);
  }
}
async function ortCompactCompile(arg) {
  if (ortCompactPrecompiledWasm) return [await ortCompactPrecompiledWasm[0], ortCompactPrecompiledWasm[1]];
  if (arg.wasmBinary) return [await WebAssembly.compile(arg.wasmBinary), "the wasmBinary given"];
  const url = arg.locateFile
    ? arg.locateFile(ortCompactWasmName, new URL(".", import.meta.url).href)
    : new URL(ortCompactWasmName, import.meta.url).href;
  if (ortCompactIsNode && !/^https?:/.test(url)) {
    const { readFile } = await import("node:fs/promises");
    return [await WebAssembly.compile(await readFile(url.startsWith("file:") ? new URL(url) : url)), url];
  }
  try {
    return [await WebAssembly.compileStreaming(ortCompactFetch(url)), url];
  } catch (e) {
    if (e.message?.startsWith("ort-compact:")) throw e;
// No streaming here (or not served as application/wasm): compile from the bytes instead.
    const response = await ortCompactFetch(url);
    if (!response.ok) throw new Error(`ort-compact: fetching ${url} failed: HTTP ${response.status}`);
    return [await WebAssembly.compile(await response.arrayBuffer()), url];
  }
}
function ortCompactCheck(module, where) {
  const section = WebAssembly.Module.customSections(module, "ort_compact.build_id");
  const id = section.length ? new TextDecoder().decode(section[0]) : null;
  if (id === ortCompactBuildId) return;
  const other = id ? `is build ${id}` : "carries no build id (not an ort-compact-build runtime)";
  throw new Error(`ort-compact: the runtime's .mjs and .wasm come from different builds: ${import.meta.url} is build ${ortCompactBuildId}, but ${where} ${other}. They only work as the pair built together: redeploy both files from one build.`);
}
async function ortCompactFactory(arg = {}) {
  if (arg.instantiateWasm) return @FACTORY@(arg);
  let fail;
  const failed = new Promise((_, reject) => { fail = reject; });
  arg.instantiateWasm = (imports, done) => {
    ortCompactCompile(arg)
      .then(([module, where]) => { ortCompactCheck(module, where); return WebAssembly.instantiate(module, imports); })
      .then(done)
      .catch(fail);
    return {};
  };
  return Promise.race([@FACTORY@(arg), failed]);
}
export default ortCompactFactory;
