//! The JS harness (tests/js): onnxruntime-web 1.21.0's JS API over the runtime under test, in
//! node and in headless Chromium, must give Python onnxruntime 1.21.0's outputs (≤ 1e-4) for
//! real models. The runtime is `$ORT_COMPACT_TEST_RUNTIME_DIR` or, by default, stock
//! onnxruntime-web's own wasm (installed by scripts/install-js-test-deps.sh).

use ort_compact_test_support::verify::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const TOLERANCE: f64 = 1e-4;

/// Runs a driver against the runtime under test.
fn run_driver(script: &str, model: &Path, inputs: &Value, tmp: &Path) -> Value {
    run_driver_in(script, &runtime_dir(), model, inputs, tmp)
}

fn sigmoid_inputs() -> Value {
    json!({ "x": tensor("float32", &[3, 4, 5], f32_values(synth_float(60))) })
}

fn check(script: &str, pick: fn(&Models) -> &Path, inputs: Value) {
    let tmp = tempfile::tempdir().unwrap();
    let models = models(tmp.path());
    let model = pick(&models);
    let expected = reference(model, &inputs, tmp.path());
    let actual = run_driver(script, model, &inputs, tmp.path());
    let worst = assert_outputs_close(
        &actual["outputs"],
        &expected["outputs"],
        TOLERANCE,
        &format!("{script} on {}", model.display()),
    );
    eprintln!("{script}: largest difference to Python onnxruntime: {worst:e}");
}

#[test]
fn node_harness_matches_python_on_sigmoid() {
    check("run-node.mjs", |m| &m.sigmoid, sigmoid_inputs());
}

#[test]
fn node_harness_matches_python_on_silero_vad() {
    check("run-node.mjs", |m| &m.silero, silero_inputs());
}

#[test]
fn browser_harness_matches_python_on_sigmoid() {
    check("run-browser.mjs", |m| &m.sigmoid, sigmoid_inputs());
}

#[test]
fn browser_harness_matches_python_on_silero_vad() {
    check("run-browser.mjs", |m| &m.silero, silero_inputs());
}

#[test]
fn node_harness_reports_a_bad_model_as_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.ort");
    std::fs::write(&bad, b"not a model at all").unwrap();
    let inputs = tmp.path().join("in.json");
    std::fs::write(&inputs, sigmoid_inputs().to_string()).unwrap();
    let out = Command::new(node())
        .current_dir(js_dir())
        .arg("run-node.mjs")
        .arg(runtime_dir())
        .arg(&bad)
        .arg(&inputs)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("run-node:"), "{err}");
}
