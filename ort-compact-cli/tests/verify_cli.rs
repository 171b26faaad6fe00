//! `ort-compact verify DIR`: every model of an output directory runs once in its runtime (the
//! runtime under test, see `ort_compact_test_support::verify::runtime_dir`).

use ort_compact_test_support::verify::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The runtime's `.mjs` and `.wasm` in `dir` (our `ort-wasm.*` or stock's names).
fn runtime_files(dir: &Path) -> (PathBuf, PathBuf) {
    ["ort-wasm", "ort-wasm-simd", "ort-wasm-simd-threaded"]
        .iter()
        .map(|stem| {
            (
                dir.join(format!("{stem}.mjs")),
                dir.join(format!("{stem}.wasm")),
            )
        })
        .find(|(m, w)| m.is_file() && w.is_file())
        .unwrap_or_else(|| panic!("no runtime in {}", dir.display()))
}

/// Lays out an output directory like `ort-compact build` does: runtime as ort-wasm.*, models,
/// manifest.json.
fn output_dir(tmp: &Path, models: &Models, manifest: Value) -> PathBuf {
    let dir = tmp.join("out");
    std::fs::create_dir_all(&dir).unwrap();
    let (mjs, wasm) = runtime_files(&runtime_dir());
    std::fs::copy(mjs, dir.join("ort-wasm.mjs")).unwrap();
    std::fs::copy(wasm, dir.join("ort-wasm.wasm")).unwrap();
    std::fs::copy(&models.sigmoid, dir.join("sigmoid.ort")).unwrap();
    std::fs::copy(&models.silero, dir.join("silero_vad.ort")).unwrap();
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    dir
}

#[test]
fn cli_verifies_an_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    let dir = output_dir(
        tmp.path(),
        &m,
        json!({"models": [
            {"ort": "sigmoid.ort", "inputs": [{"name": "x", "elem_type": 1, "dims": [3, 4, 5]}]},
            {"ort": "silero_vad.ort", "inputs": [
                {"name": "input", "elem_type": 1, "dims": ["batch", "samples"]},
                {"name": "state", "elem_type": 1, "dims": [2, "batch", 128]},
                {"name": "sr", "elem_type": 7, "dims": []}]}
        ]}),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ort-compact"))
        .arg("verify")
        .arg(&dir)
        .arg("--node")
        .arg(node())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("sigmoid.ort: ok (") && stdout.contains("outputs: y [3, 4, 5]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("silero_vad.ort: session ok (")
            && stdout.contains("the run with synthetic inputs failed"),
        "{stdout}"
    );
}

#[test]
fn cli_fails_on_a_model_without_kernels() {
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    let dir = output_dir(
        tmp.path(),
        &m,
        json!({"models": [{"ort": "deform.onnx", "inputs": []}]}),
    );
    oracle(&["deformconv", dir.join("deform.onnx").to_str().unwrap()]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ort-compact"))
        .arg("verify")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no kernel for DeformConv(19)"), "{stderr}");
}
