//! Deploying JS-mode runtimes, for real (ONNX Runtime built by emcc, onnxruntime-web 1.21.0 in
//! node and headless Chromium): the matched-pair guard refuses a `.wasm` from another build with
//! a message naming both build ids.

use crate::progress::ProgressMode;
use crate::{Artifacts, Builder};
use ort_compact_test_support::verify::*;
use serde_json::json;
use std::path::Path;

fn build(model: &Path, out: &Path) -> Artifacts {
    Builder::new(model)
        .out_dir(out)
        .cargo_metadata(false)
        .progress(ProgressMode::Stderr)
        .try_build()
        .unwrap_or_else(|e| panic!("build of {} failed: {e}", model.display()))
}

fn mlp_inputs() -> serde_json::Value {
    let features = (0..16).map(|i| f64::from(i % 5) * 0.25 - 0.5);
    json!({ "features": tensor("float32", &[1, 16], f32_values(features)) })
}

/// The runtimes of two models (the same two other tests build, so a cache hit after them): the
/// MLP's `.wasm` deployed with silero's `.mjs`.
#[test]
fn a_mismatched_pair_names_both_build_ids_in_node_and_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let mlp = build(
        &workspace().join("models/mlp-classifier.onnx"),
        &tmp.path().join("mlp"),
    );
    let silero = build(&located("silero_vad"), &tmp.path().join("silero"));
    let (mlp_id, silero_id) = (mlp.build_id().unwrap(), silero.build_id().unwrap());
    assert_ne!(mlp_id, silero_id);
    for a in [&mlp, &silero] {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(a.manifest()).unwrap()).unwrap();
        assert_eq!(manifest["build_id"], a.build_id().unwrap());
    }
    // The matched pair runs (onnxruntime-web, both drivers).
    for script in ["run-node.mjs", "run-browser.mjs"] {
        let ok = run_driver_in(
            script,
            mlp.dir(),
            &mlp.models()[0].ort,
            &mlp_inputs(),
            tmp.path(),
        );
        assert_eq!(ok["outputs"]["probabilities"]["dims"], json!([1, 4]));
    }
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(mlp.wasm().unwrap(), mixed.join("ort-wasm.wasm")).unwrap();
    std::fs::copy(silero.mjs().unwrap(), mixed.join("ort-wasm.mjs")).unwrap();
    for script in ["run-node.mjs", "run-browser.mjs"] {
        let err = run_driver_failing(
            script,
            &mixed,
            &mlp.models()[0].ort,
            &mlp_inputs(),
            tmp.path(),
        );
        for part in [
            "ort-compact: the runtime's .mjs and .wasm come from different builds",
            &format!("ort-wasm.mjs is build {silero_id}"),
            &format!("is build {mlp_id}"),
            "redeploy both files from one build",
        ] {
            assert!(err.contains(part), "{script}: {part:?} not in:\n{err}");
        }
        assert!(!err.contains("LinkError"), "{err}");
    }
}
