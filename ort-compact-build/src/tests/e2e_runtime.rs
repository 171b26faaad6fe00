//! End to end, for real: models → `Builder` (native ONNX→ORT conversion, kernel reduction, cmake +
//! emcc build of ONNX Runtime 1.21.0, verification in node) → onnxruntime-web 1.21.0's JS API
//! loads the outputs in node and in headless Chromium and matches Python onnxruntime 1.21.0
//! (≤ 1e-4). Plus the runtime cache: hits, weights-only changes, concurrent builds, leftovers of
//! an interrupted build.
//!
//! The first run on a machine builds ONNX Runtime (cached in ~/.cache/ort-compact-build).

use crate::progress::ProgressMode;
use crate::verify::{verify_model, InputSpec};
use crate::{Artifacts, Builder};
use ort_compact_test_support::verify::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const TOLERANCE: f64 = 1e-4;

fn build(models: &[&Path], out: &Path, cache: Option<&Path>) -> Artifacts {
    build_with(models, out, cache, |_| {})
}

fn build_with(
    models: &[&Path],
    out: &Path,
    cache: Option<&Path>,
    options: impl FnOnce(&mut Builder),
) -> Artifacts {
    let mut b = Builder::new(models[0]);
    options(&mut b);
    for m in &models[1..] {
        b.model(*m);
    }
    b.out_dir(out)
        .cargo_metadata(false)
        .progress(ProgressMode::Stderr);
    if let Some(c) = cache {
        b.cache_dir(c);
    }
    b.try_build()
        .unwrap_or_else(|e| panic!("build of {models:?} failed: {e}"))
}

/// Runs `model` (in `out`) with onnxruntime-web in node and Chromium; compares with Python on `onnx`.
fn check_both_drivers(out: &Path, ort: &Path, onnx: &Path, inputs: &Value, tmp: &Path) {
    let expected = reference(onnx, inputs, tmp);
    for script in ["run-node.mjs", "run-browser.mjs"] {
        let actual = run_driver_in(script, out, ort, inputs, tmp);
        let worst = assert_outputs_close(
            &actual["outputs"],
            &expected["outputs"],
            TOLERANCE,
            &format!("{script} on {}", ort.display()),
        );
        eprintln!(
            "{script} {}: largest difference to Python: {worst:e}",
            ort.display()
        );
    }
}

fn assert_runtime_files(a: &Artifacts) {
    for f in [
        "ort-wasm.wasm",
        "ort-wasm.mjs",
        "required_operators.config",
        "manifest.json",
    ] {
        assert!(
            a.dir().join(f).is_file(),
            "{f} missing in {}",
            a.dir().display()
        );
    }
    let manifest: Value = serde_json::from_slice(&std::fs::read(a.manifest()).unwrap()).unwrap();
    assert_eq!(manifest["ort_version"], "1.21.0");
    let wasm = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ort-wasm.wasm")
        .expect("wasm in manifest");
    assert!(wasm["brotli"].as_u64().unwrap() < wasm["raw"].as_u64().unwrap());
}

#[test]
fn silero_vad_runtime_matches_python_in_node_and_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = located("silero_vad");
    let out = tmp.path().join("out");
    let a = build(&[&onnx], &out, None);
    assert_runtime_files(&a);
    let ort = &a.models()[0].ort;
    check_both_drivers(&out, ort, &onnx, &silero_inputs(), tmp.path());
}

/// Two kinds of model in one runtime, built without SIMD: the scikit-learn models (ai.onnx.ml)
/// and the default MLP. Without SIMD, MLAS takes its scalar SGEMM path, which ORT 1.21 gets
/// wrong (MatMul, Gemm, LinearClassifier) until our pack-routine patch. The graphs are kept as
/// written (`GraphOptimization::None`), so the MLP's `MatMul`s stay `MatMul`s.
#[test]
fn sklearn_and_mlp_without_simd_match_python_in_node_and_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let models = sklearn_models(&tmp.path().join("models"));
    let mlp = workspace().join("models/mlp-classifier.onnx");
    let mut paths: Vec<&Path> = models.iter().map(|(_, p)| p.as_path()).collect();
    paths.push(&mlp);
    let out = tmp.path().join("out");
    let a = build_with(&paths, &out, None, |b| {
        b.simd(false)
            .graph_optimization(crate::GraphOptimization::None);
    });
    assert_runtime_files(&a);
    let manifest: Value = serde_json::from_slice(&std::fs::read(a.manifest()).unwrap()).unwrap();
    assert_eq!(manifest["flags"]["simd"], false, "{manifest}");
    assert_eq!(manifest["flags"]["optimize"], "balanced", "{manifest}");
    let config = std::fs::read_to_string(a.config()).unwrap();
    assert!(config.contains("ai.onnx.ml;"), "{config}");
    assert!(config.contains("MatMul"), "{config}");
    // Iris-like rows (sepal/petal lengths and widths).
    let rows = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3, 5.9, 2.8, 4.3, 1.3];
    let inputs = json!({ "input": tensor("float32", &[3, 4], f32_values(rows)) });
    for (m, (_, onnx)) in a.models().iter().zip(&models) {
        check_both_drivers(&out, &m.ort, onnx, &inputs, tmp.path());
    }
    let mlp_ort = &a.models()[models.len()].ort;
    let features = (0..32).map(|i| f64::from(i % 7) * 0.3 - 0.9);
    let mlp_inputs = json!({ "features": tensor("float32", &[2, 16], f32_values(features)) });
    check_both_drivers(&out, mlp_ort, &mlp, &mlp_inputs, tmp.path());
}

#[test]
fn runtime_error_messages_keep_their_numbers_without_iostreams() {
    // The runtime builds its messages without iostreams (vendor/patches/ort-no-iostreams.patch).
    // A wrong input shape must still come back as ORT's whole message, numbers included.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let a = build(
        &[&workspace().join("models/mlp-classifier.onnx")],
        &out,
        None,
    );
    let wrong = [InputSpec {
        name: "features".into(),
        elem_type: 1,
        dims: vec![2, 15],
    }];
    let report = verify_model(&out, &a.models()[0].ort, &wrong, &node()).unwrap();
    let e = report.run_error.expect("a [2, 15] input must be refused");
    for part in [
        "Got invalid dimensions for input: features for the following indices",
        "index: 1 Got: 15 Expected: 16",
        "Please fix either the inputs/outputs or the model.",
    ] {
        assert!(e.contains(part), "{part:?} not in {e:?}");
    }
}

fn default_model(dir: &Path, seed: u32) -> PathBuf {
    let out = dir.join(format!("mlp-{seed}.onnx"));
    let script = workspace().join("models/make_default_model.py");
    let st = Command::new("python3")
        .arg(script)
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    out
}

#[test]
fn cache_hits_weights_only_changes_and_concurrent_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = partial_cache(tmp.path(), "cache", &["downloads", "sources", "work"]);
    // Leftover of a build interrupted two days ago: not mistaken for a runtime, cleaned up.
    let stale = cache.join("artifacts/.tmp-interrupted");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("ort-wasm.wasm"), b"half").unwrap();
    let touched = Command::new("touch")
        .args(["-d", "2 days ago"])
        .arg(&stale)
        .status()
        .unwrap();
    assert!(touched.success());

    // Two builds of the same new op set at once: both succeed, exactly one builds.
    let m1 = default_model(tmp.path(), 1);
    let (c, p1) = (cache.clone(), m1.clone());
    let out_a = tmp.path().join("a");
    let out_b = tmp.path().join("b");
    let (oa, ob) = (out_a.clone(), out_b.clone());
    let t1 = std::thread::spawn(move || build(&[&p1], &oa, Some(&c)));
    let (c, p1) = (cache.clone(), m1.clone());
    let t2 = std::thread::spawn(move || build(&[&p1], &ob, Some(&c)));
    let (a, b) = (t1.join().unwrap(), t2.join().unwrap());
    assert_eq!(
        [a.cache_hit(), b.cache_hit()]
            .iter()
            .filter(|h| !**h)
            .count(),
        1,
        "exactly one of two concurrent builds must build"
    );
    let wasm_a = std::fs::read(out_a.join("ort-wasm.wasm")).unwrap();
    assert_eq!(wasm_a, std::fs::read(out_b.join("ort-wasm.wasm")).unwrap());
    let entries: Vec<String> = std::fs::read_dir(cache.join("artifacts"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".lock"))
        .collect();
    assert_eq!(entries.len(), 1, "one runtime, no leftovers: {entries:?}");

    // The same op set again: a hit.
    let again = build(&[&m1], &tmp.path().join("c"), Some(&cache));
    assert!(again.cache_hit());

    // Different weights, same operators: a hit, so no C++ compile at all; the .ort differs.
    let m2 = default_model(tmp.path(), 2);
    let other = build(&[&m2], &tmp.path().join("d"), Some(&cache));
    assert!(
        other.cache_hit(),
        "a weights-only change must not rebuild the runtime"
    );
    assert_eq!(std::fs::read(other.wasm().unwrap()).unwrap(), wasm_a);
    assert_ne!(
        std::fs::read(&other.models()[0].ort).unwrap(),
        std::fs::read(&again.models()[0].ort).unwrap()
    );
}
