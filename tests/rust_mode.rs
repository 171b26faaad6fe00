//! Rust mode end to end: each example crate is built for wasm32-unknown-emscripten (its build
//! script runs `ort_compact_build::Builder`, which links the compact ONNX Runtime static library
//! and generates the typed module), run under node, and its JSON output compared with Python
//! onnxruntime 1.21.0 (the oracle) on the original `.onnx` model, within 1e-4. The examples also
//! exercise the safe layer's error paths inside the real runtime; their messages are checked.
//!
//! Needs emcc, node and Python onnxruntime (scripts/install-toolchain.sh installs them). The
//! nested cargo uses its own target directory (`target/rust-mode`) so it never waits on the
//! lock of the outer `cargo test`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TOLERANCE: f64 = 1e-4;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// Build `package` for wasm32-unknown-emscripten (release) and return its `.js`.
fn build_example(package: &str) -> PathBuf {
    let target_dir = workspace().join("target/rust-mode");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace())
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-emscripten",
            "-p",
            package,
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .stdout(Stdio::inherit())
        .output()
        .expect("running cargo");
    assert!(
        out.status.success(),
        "cargo build of {package} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = target_dir.join("wasm32-unknown-emscripten/release");
    let js = dir.join(format!("{package}.js"));
    assert!(js.is_file(), "no {}", js.display());
    js
}

/// The `.wasm` next to a `.js` (Emscripten names it after the crate, with underscores).
fn wasm_of(js: &Path, package: &str) -> PathBuf {
    let dir = js.parent().expect("js has a directory");
    let candidates = [
        dir.join(format!("{package}.wasm")),
        dir.join(format!("{}.wasm", package.replace('-', "_"))),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| panic!("no .wasm next to {}", js.display()))
}

fn run_node(js: &Path) -> Value {
    let node = std::env::var_os("ORT_COMPACT_NODE").unwrap_or_else(|| "node".into());
    let out = Command::new(node).arg(js).output().expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node {} failed ({}):\n{stdout}\n{}",
        js.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in the output:\n{stdout}"));
    serde_json::from_str(line).expect("the example prints valid JSON")
}

/// Run a Python oracle script with `input` as JSON on stdin; returns its JSON stdout.
fn python(script: &str, input: &Value) -> Value {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("writing to python");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "python oracle failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle prints JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| panic!("not a number: {x}")))
        .collect()
}

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let worst = actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= TOLERANCE,
        "{what}: max |diff| {worst} > {TOLERANCE}\nactual   {actual:?}\nexpected {expected:?}"
    );
    worst
}

fn assert_error(errors: &Value, case: &str, needles: &[&str]) {
    let text = errors[case]
        .as_str()
        .unwrap_or_else(|| panic!("no error case {case} in {errors}"));
    for n in needles {
        assert!(text.contains(n), "error {case}: {text:?} lacks {n:?}");
    }
}

fn report_size(package: &str, js: &Path) {
    let wasm = wasm_of(js, package);
    let size = std::fs::metadata(&wasm).expect("wasm").len();
    let js_size = std::fs::metadata(js).expect("js").len();
    eprintln!(
        "{package}: {} = {size} B, {} = {js_size} B",
        wasm.display(),
        js.display()
    );
    assert!(
        size < 4_000_000,
        "{package}: .wasm unexpectedly large ({size} B)"
    );
}

const ORACLE_PRELUDE: &str = r#"
import json, sys
import numpy as np
import onnxruntime as ort
assert ort.__version__ == "1.21.0", ort.__version__
req = json.load(sys.stdin)
sess = ort.InferenceSession(req["model"], providers=["CPUExecutionProvider"])
"#;

#[test]
fn mlp_classifier_example_matches_onnxruntime() {
    let package = "example-mlp-classifier";
    let js = build_example(package);
    report_size(package, &js);
    let got = run_node(&js);
    assert_eq!(got["runtime_version"], "1.21.0");
    assert_eq!(got["untyped_run_matches"], true);

    let features = &got["inputs"]["features"];
    let model = workspace().join("models/mlp-classifier.onnx");
    let script = format!(
        "{ORACLE_PRELUDE}\nx = np.array(req['data'], dtype=np.float32).reshape(req['shape'])\n\
         (p,) = sess.run(['probabilities'], {{'features': x}})\n\
         print(json.dumps({{'shape': list(p.shape), 'data': [float(v) for v in p.ravel()]}}))\n"
    );
    let expected = python(
        &script,
        &serde_json::json!({
            "model": model,
            "shape": features["shape"],
            "data": features["data"],
        }),
    );
    let p = &got["outputs"]["probabilities"];
    assert_eq!(p["shape"], expected["shape"]);
    let worst = assert_close(
        "probabilities",
        &floats(&p["data"]),
        &floats(&expected["data"]),
    );
    eprintln!("{package}: max |diff| vs Python onnxruntime = {worst:e}");

    let e = &got["errors"];
    assert_error(
        e,
        "not_ort_format",
        &["not an ORT-format model", "ONNX protobuf"],
    );
    assert_error(e, "truncated_ort", &["ONNX Runtime error"]);
    assert_error(
        e,
        "unknown_input",
        &["no input named \"feature\"", "[\"features\"]"],
    );
    assert_error(
        e,
        "missing_input",
        &["1 input(s) but 0 were given", "features"],
    );
    assert_error(e, "duplicate_input", &["more than once"]);
    assert_error(e, "wrong_dtype", &["element type f64, but f32 is expected"]);
    assert_error(e, "wrong_rank", &["rank 1", "expects rank 2"]);
    assert_error(e, "wrong_dim", &["fixes axis 1 to 16"]);
    assert_error(e, "data_length", &["40 element(s)", "needs 48"]);
    assert_error(e, "unknown_output", &["no output named \"logits\""]);
    assert_error(e, "wrong_output_type", &["f32, but i64 is expected"]);
}

fn silero_model() -> PathBuf {
    if let Some(p) = std::env::var_os("SILERO_VAD_ONNX") {
        return PathBuf::from(p);
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import importlib.util as u, os; s = u.find_spec('silero_vad'); \
             print(os.path.join(os.path.dirname(s.origin), 'data', 'silero_vad.onnx'))",
        ])
        .output()
        .expect("python3");
    assert!(out.status.success(), "silero-vad Python package not found");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn silero_vad_example_matches_onnxruntime() {
    let package = "example-silero-vad";
    let js = build_example(package);
    report_size(package, &js);
    let got = run_node(&js);
    assert_eq!(got["runtime_version"], "1.21.0");

    // The same chunking, context and state handling as the example (and the silero-vad package).
    let script = format!(
        "{ORACLE_PRELUDE}\n\
         audio = np.array(req['signal'], dtype=np.float32)\n\
         chunk, ctx_len, sr = req['chunk'], req['context'], req['sample_rate']\n\
         state = np.zeros((2, 1, 128), dtype=np.float32)\n\
         ctx = np.zeros(ctx_len, dtype=np.float32)\n\
         probs = []\n\
         for i in range(0, len(audio), chunk):\n\
         \x20   x = np.concatenate([ctx, audio[i:i + chunk]])[None, :]\n\
         \x20   out, state = sess.run(None, {{'input': x, 'state': state, 'sr': np.array(sr, dtype=np.int64)}})\n\
         \x20   probs.append(float(out.ravel()[0]))\n\
         \x20   ctx = x[0, -ctx_len:]\n\
         print(json.dumps({{'probabilities': probs, 'state_shape': list(state.shape), \
         'state': [float(v) for v in state.ravel()]}}))\n"
    );
    let expected = python(
        &script,
        &serde_json::json!({
            "model": silero_model(),
            "signal": got["signal"],
            "chunk": got["chunk"],
            "context": got["context"],
            "sample_rate": got["sample_rate"],
        }),
    );
    let probs = floats(&got["probabilities"]);
    assert_eq!(probs.len(), 16);
    let w1 = assert_close("probabilities", &probs, &floats(&expected["probabilities"]));
    assert_eq!(got["final_state"]["shape"], expected["state_shape"]);
    let w2 = assert_close(
        "final state",
        &floats(&got["final_state"]["data"]),
        &floats(&expected["state"]),
    );
    eprintln!(
        "{package}: probabilities {probs:?}; max |diff| {:e}",
        w1.max(w2)
    );

    let e = &got["errors"];
    assert_error(
        e,
        "short_input",
        &["ONNX Runtime error", "Conv", "Invalid input shape"],
    );
    assert_error(e, "sr_dtype", &["element type f32, but i64 is expected"]);
    assert_error(e, "state_dim", &["fixes axis 2 to 128"]);
    assert_error(e, "missing_input", &["3 input(s) but 2 were given", "sr"]);
}
