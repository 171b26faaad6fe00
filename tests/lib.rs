//! Helpers shared by the workspace integration tests: the workspace root, nested cargo builds
//! for wasm32-unknown-emscripten, running the result under node, and the Python onnxruntime
//! 1.21.0 oracle.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

/// How far a compact runtime's outputs may be from Python onnxruntime 1.21.0's.
pub const TOLERANCE: f64 = 1e-4;

/// The start of every oracle script: reads `{"model": path, …}` from stdin into `req` and opens
/// an onnxruntime 1.21.0 session `sess` on the model.
pub const ORACLE_PRELUDE: &str = r#"
import json, sys
import numpy as np
import onnxruntime as ort
assert ort.__version__ == "1.21.0", ort.__version__
req = json.load(sys.stdin)
sess = ort.InferenceSession(req["model"], providers=["CPUExecutionProvider"])
"#;

pub use ort_compact_test_support::workspace;

/// A `cargo` command (the one running the tests) that builds for wasm32-unknown-emscripten in
/// release mode into `target_dir`, never waiting on the outer `cargo test`'s lock.
pub fn cargo_wasm_build(dir: &Path, target_dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-emscripten",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .stdout(Stdio::inherit());
    cmd
}

/// Run `cmd` and panic with its stderr when it fails.
pub fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run an Emscripten program's `.js` under node and parse the last line that is a JSON object.
pub fn run_node(js: &Path) -> Value {
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
    serde_json::from_str(line).expect("the program prints valid JSON")
}

/// Run a Python oracle script with `input` as JSON on stdin; returns its JSON stdout.
pub fn python(script: &str, input: &Value) -> Value {
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

/// The numbers of a JSON array.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| panic!("not a number: {x}")))
        .collect()
}

/// Assert `actual` is within [`TOLERANCE`] of `expected`; returns the largest difference.
pub fn assert_close(what: &str, actual: &[f64], expected: &[f64]) -> f64 {
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

/// Python onnxruntime 1.21.0's `probabilities` for the bundled MLP classifier on `features`
/// (`{"shape": [n, 16], "data": […]}`): `{"shape": […], "data": […]}`.
pub fn mlp_oracle(features: &Value) -> Value {
    let model = workspace().join("models/mlp-classifier.onnx");
    let script = format!(
        "{ORACLE_PRELUDE}\nx = np.array(req['data'], dtype=np.float32).reshape(req['shape'])\n\
         (p,) = sess.run(['probabilities'], {{'features': x}})\n\
         print(json.dumps({{'shape': list(p.shape), 'data': [float(v) for v in p.ravel()]}}))\n"
    );
    python(
        &script,
        &serde_json::json!({
            "model": model,
            "shape": features["shape"],
            "data": features["data"],
        }),
    )
}
