//! Deploying JS-mode runtimes, for real (ONNX Runtime built by emcc, onnxruntime-web 1.21.0 in
//! node and headless Chromium): the bundle's hashed files run and match Python onnxruntime
//! 1.21.0, its SRI values are what openssl computes; the matched-pair guard refuses a `.wasm`
//! from another build with a message naming both build ids.

use crate::progress::ProgressMode;
use crate::{Artifacts, Builder, WireWeights};
use ort_compact_test_support::verify::*;
use ort_compact_test_support::workspace;
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn build(model: &Path, out: &Path) -> Artifacts {
    build_with_bundle(model, out, None)
}

/// Builds `model`'s runtime into `out` (a cache hit after the other tests), and a bundle.
fn build_with_bundle(model: &Path, out: &Path, bundle: Option<&Path>) -> Artifacts {
    let mut b = Builder::new(model);
    b.out_dir(out)
        .cargo_metadata(false)
        .progress(ProgressMode::Stderr);
    if let Some(dir) = bundle {
        b.bundle(dir);
    }
    b.try_build()
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
    // Stock onnxruntime-web's wasm behind our .mjs: no build id at all.
    let stock = tmp.path().join("stock-wasm");
    std::fs::create_dir(&stock).unwrap();
    let dist = js_dir().join("node_modules/onnxruntime-web/dist");
    std::fs::copy(
        dist.join("ort-wasm-simd-threaded.wasm"),
        stock.join("ort-wasm.wasm"),
    )
    .unwrap();
    std::fs::copy(mlp.mjs().unwrap(), stock.join("ort-wasm.mjs")).unwrap();
    let err = run_driver_failing(
        "run-node.mjs",
        &stock,
        &mlp.models()[0].ort,
        &mlp_inputs(),
        tmp.path(),
    );
    assert!(
        err.contains(&format!("ort-wasm.mjs is build {mlp_id}"))
            && err.contains("carries no build id (not an ort-compact-build runtime)"),
        "{err}"
    );
}

/// `openssl dgst -sha384 -binary FILE | base64`, independent of the crate's own encoder.
fn openssl_sri(file: &Path) -> String {
    let digest = run_ok(
        Command::new("openssl")
            .args(["dgst", "-sha384", "-binary"])
            .arg(file),
    );
    let mut child = Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &digest).unwrap();
    let out = child.wait_with_output().unwrap();
    format!("sha384-{}", String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn a_bundle_runs_in_node_and_chromium_and_its_sri_values_check_out() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = workspace().join("models/mlp-classifier.onnx");
    let bundle_dir = tmp.path().join("site/bundle");
    let a = build_with_bundle(&onnx, &tmp.path().join("out"), Some(&bundle_dir));
    let bundle = a.bundle().expect("bundle written");
    let m = bundle.manifest();
    assert_eq!(m.build_id, a.build_id().unwrap());
    let wasm = std::fs::read(bundle_dir.join(&m.runtime.wasm)).unwrap();
    assert_eq!(
        crate::pair::build_id(&wasm).unwrap().as_deref(),
        Some(&*m.build_id)
    );
    assert_eq!(
        std::fs::read(a.wasm().unwrap()).unwrap(),
        wasm,
        "the bundle's .wasm is the output directory's"
    );
    for f in &m.files {
        assert_eq!(
            f.integrity,
            openssl_sri(&bundle_dir.join(&f.name)),
            "{}",
            f.name
        );
        assert!(f.br.size < f.size && f.gzip.size < f.size, "{f:?}");
    }
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.manifest_path()).unwrap()).unwrap();
    assert_eq!(written["runtime"]["mjs"], m.runtime.mjs);
    assert_eq!(
        written["files"].as_array().unwrap().len(),
        5,
        "pair, model, loader, preload hints"
    );

    let ort = bundle_dir.join(&m.models[0].file);
    let expected = reference(&onnx, &mlp_inputs(), tmp.path());
    for script in ["run-node.mjs", "run-browser.mjs"] {
        let actual = run_driver_in(script, &bundle_dir, &ort, &mlp_inputs(), tmp.path());
        assert_outputs_close(&actual["outputs"], &expected["outputs"], 1e-4, script);
    }
}

/// The ttfi benchmark's driver (tests/js/ttfi.mjs) as CI runs it: one round, no throttling, the
/// MLP's bundle against stock onnxruntime-web's files + the `.onnx` (served uncompressed here;
/// the benchmark serves both brotli-encoded).
#[test]
fn ttfi_smoke_run_measures_both_contenders() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = workspace().join("models/mlp-classifier.onnx");
    let bundle_dir = tmp.path().join("bundle");
    let a = build_with_bundle(&onnx, &tmp.path().join("out"), Some(&bundle_dir));
    let m = a.bundle().unwrap().manifest();
    let ours = |name: &str| json!({"file": bundle_dir.join(name), "br": bundle_dir.join(format!("{name}.br"))});
    let dist = js_dir().join("node_modules/onnxruntime-web/dist");
    let items = tmp.path().join("items");
    let config = json!({
        "rounds": 1, "out_dir": items,
        "ort_js": {"file": dist.join("ort.wasm.min.mjs")},
        "profiles": [{"id": "none"}],
        "cases": [{
            "id": "mlp",
            "inputs": [{"name": "features", "type": "float32", "dims": [1, 16]}],
            "contenders": [
                {"id": "compact", "fingerprint": "smoke", "wasm": ours(&m.runtime.wasm),
                 "mjs": ours(&m.runtime.mjs), "model": ours(&m.models[0].file)},
                {"id": "stock", "fingerprint": "smoke",
                 "wasm": {"file": dist.join("ort-wasm-simd-threaded.wasm")},
                 "mjs": {"file": dist.join("ort-wasm-simd-threaded.mjs")},
                 "model": {"file": onnx}},
            ],
        }],
    });
    let config_path = tmp.path().join("ttfi.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    run_ok(
        Command::new(node())
            .current_dir(js_dir())
            .arg("ttfi.mjs")
            .arg(&config_path),
    );
    let item = |k: &str| -> serde_json::Value {
        let f = items.join(format!("mlp--{k}--none--r0--smoke.json"));
        serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap()
    };
    let (ours, stock) = (item("compact"), item("stock"));
    for r in [&ours, &stock] {
        let (cold, repeat) = (&r["cold"], &r["repeat"]);
        assert_eq!(cold["outputs"]["probabilities"], json!([1, 4]), "{r}");
        let ready = cold["ready_ms"].as_f64().unwrap();
        assert!(
            ready > 0.0 && cold["first_ms"].as_f64().unwrap() >= ready,
            "{r}"
        );
        assert!(cold["wasm_memory"].as_u64().unwrap() >= 1 << 20, "{r}");
        assert!(
            repeat["bytes"].as_u64().unwrap() < 10_000,
            "the repeat visit fetches only the page: {r}"
        );
    }
    let bytes = |r: &serde_json::Value| r["cold"]["bytes"].as_u64().unwrap();
    assert!(bytes(&ours) < 300_000, "bundle brotli-served: {ours}");
    assert!(
        bytes(&stock) > 12_000_000,
        "stock wasm uncompressed: {stock}"
    );
}

/// The bundle's loader.mjs from another origin and a nested base path: with CORS the session
/// runs; without, the failure names the CORS policy instead of hanging; with a model file not
/// deployed, the loader names its URL and the HTTP status; with other bytes under its name, the
/// loader says the file is not the bundle's.
#[test]
fn the_loader_runs_from_another_origin_and_a_missing_cors_header_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle_dir = tmp.path().join("bundle");
    let mlp = workspace().join("models/mlp-classifier.onnx");
    build_with_bundle(&mlp, &tmp.path().join("out"), Some(&bundle_dir));
    let inputs = tmp.path().join("inputs.json");
    std::fs::write(&inputs, mlp_inputs().to_string()).unwrap();
    let out = run_ok(
        Command::new(node())
            .current_dir(js_dir())
            .arg("loader-origins.mjs")
            .arg(&bundle_dir)
            .arg(&inputs),
    );
    let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["cors"]["outputs"]["probabilities"], json!([1, 4]), "{r}");
    let failure = &r["no_cors"];
    assert!(failure["error"].is_string(), "{r}");
    let console = failure["console"].to_string();
    assert!(
        console.contains("blocked by CORS policy")
            && console.contains("Access-Control-Allow-Origin"),
        "{r}"
    );
    let missing = r["missing_model"]["error"].as_str().unwrap_or_default();
    assert!(
        missing.contains("ort-compact loader:")
            && missing.contains("/cdn/v1/models/mlp_classifier.")
            && missing.contains("HTTP 404 (deploy every file of the bundle)"),
        "{r}"
    );
    let tampered = r["tampered_model"]["error"].as_str().unwrap_or_default();
    assert!(
        tampered.contains("is not the file this bundle was built with")
            && tampered.contains("redeploy the whole bundle"),
        "{r}"
    );
}

/// Opt-in float16 weights on the wire, silero VAD (weights in the main graph and in the If
/// branches): in headless Chromium the loader downloads the transport instead of the `.ort` and
/// widens it to exactly the bytes the build predicts (sha256); the session computes what
/// Python onnxruntime 1.21.0 computes on that rounded model, and stays close to the original.
#[test]
fn float16_weights_on_the_wire_widen_to_the_rounded_model_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = located("silero_vad");
    let bundle_dir = tmp.path().join("bundle");
    let mut b = Builder::new(&onnx);
    b.out_dir(tmp.path().join("out"))
        .cargo_metadata(false)
        .progress(ProgressMode::Stderr)
        .bundle(&bundle_dir)
        .wire_weights(WireWeights::Float16);
    let a = b
        .try_build()
        .unwrap_or_else(|e| panic!("build failed: {e}"));
    let model = &a.bundle().expect("bundle written").manifest().models[0];
    let half = model.float16.as_ref().expect("silero has float32 weights");
    assert!(model.planes.is_none(), "the transport replaces the planes");
    let hints = std::fs::read_to_string(bundle_dir.join("preload.html")).unwrap();
    assert!(
        hints.contains(&half.file) && !hints.contains(&model.file),
        "{hints}"
    );
    let transport = std::fs::read(bundle_dir.join(&half.file)).unwrap();
    let exact = std::fs::read(bundle_dir.join(&model.file)).unwrap();
    assert!(
        transport.len() * 10 < exact.len() * 6,
        "{} vs {}",
        transport.len(),
        exact.len()
    );
    let widened = tmp.path().join("widened.ort");
    std::fs::write(&widened, crate::bundle::float16::widen(&transport)).unwrap();
    assert_eq!(
        crate::util::sha256_file(&widened).unwrap(),
        half.model_sha256
    );

    // The first chunk of a stream: a 440 Hz tone, the recurrent state at zero.
    let mut feeds = silero_inputs();
    feeds["state"]["data"] = json!(vec![0.0; 256]);
    let inputs = tmp.path().join("inputs.json");
    std::fs::write(&inputs, feeds.to_string()).unwrap();
    let out = run_ok(
        Command::new(node())
            .current_dir(js_dir())
            .arg("loader-run.mjs")
            .arg(&bundle_dir)
            .arg(&inputs),
    );
    let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        r["model_sha256"], half.model_sha256,
        "the loader's widened bytes"
    );
    let fetched = r["fetched"].to_string();
    assert!(
        fetched.contains(&half.file) && !fetched.contains(&model.file),
        "{fetched}"
    );
    let rounded = reference(&widened, &feeds, tmp.path());
    assert_outputs_close(
        &r["outputs"],
        &rounded["outputs"],
        1e-5,
        "vs the rounded model",
    );
    // Lossy, and by how much: on this tone the speech probability moves by 0.014 (0.124 →
    // 0.139); over 4 s of synthetic voice, chunk by chunk with the state carried, by at most
    // 7.4e-4, no decision at 0.5 flipped (README, "float16 weights on the wire").
    let original = reference(&onnx, &feeds, tmp.path());
    let only = |v: &serde_json::Value| json!({ "output": v["outputs"]["output"] });
    let worst = assert_outputs_close(&only(&r), &only(&original), 0.05, "vs the original");
    eprintln!("float16 on the wire: speech probability within {worst:e} of the original model's");
}

/// The demo web app (examples/vad-web) on the project's static server, in headless Chromium: the
/// speech probabilities it computes and the segments it shows match Python onnxruntime 1.21.0
/// on the same audio; hashed files come brotli-encoded and immutable; a screenshot is kept in
/// target/demo/vad-web.png.
#[test]
fn the_demo_page_shows_what_python_onnxruntime_computes() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = located("silero_vad");
    let bundle_dir = tmp.path().join("bundle");
    build_with_bundle(&onnx, &tmp.path().join("out"), Some(&bundle_dir));
    let shots = workspace().join("target/demo");
    std::fs::create_dir_all(&shots).unwrap();
    let screenshot = shots.join("vad-web.png");
    let _ = std::fs::remove_file(&screenshot);
    let out = run_ok(
        Command::new(node())
            .current_dir(js_dir())
            .arg("demo-page.mjs")
            .arg(&bundle_dir)
            .arg(&screenshot),
    );
    let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let audio = tmp.path().join("audio.json");
    std::fs::write(&audio, r["demo"]["audio"].to_string()).unwrap();
    let expected_path = tmp.path().join("expected.json");
    oracle(&[
        "vad",
        onnx.to_str().unwrap(),
        audio.to_str().unwrap(),
        expected_path.to_str().unwrap(),
    ]);
    let expected: Vec<f64> =
        serde_json::from_slice(&std::fs::read(&expected_path).unwrap()).unwrap();
    let shown: Vec<f64> = r["demo"]["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(shown.len(), expected.len());
    assert_eq!(shown.len(), 56_000 / 512, "3.5 s in 512-sample chunks");
    let worst = shown
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-4, "largest difference to Python: {worst}");
    // The table the page shows: the runs of chunks at or above 0.5, from Python's numbers.
    let mut runs: Vec<(usize, usize, f64)> = Vec::new();
    for (i, p) in expected.iter().enumerate() {
        match runs.last_mut() {
            Some((_, end, peak)) if *p >= 0.5 && *end == i => {
                *end = i + 1;
                *peak = peak.max(*p);
            }
            _ if *p >= 0.5 => runs.push((i, i + 1, *p)),
            _ => {}
        }
    }
    assert!(
        !runs.is_empty(),
        "the synthesised voice is detected somewhere"
    );
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), runs.len(), "{r:?}");
    for (row, (from, to, peak)) in rows.iter().zip(&runs) {
        let cell = |i: usize| -> f64 {
            let text = row[i].as_str().unwrap();
            text.trim_end_matches(" s").parse().unwrap()
        };
        assert!((cell(0) - *from as f64 * 0.032).abs() < 1e-3, "{row}");
        assert!((cell(1) - *to as f64 * 0.032).abs() < 1e-3, "{row}");
        assert!((cell(2) - peak).abs() < 2e-4, "{row} vs {peak}");
    }
    assert_eq!(
        r["status"],
        format!("done: {} speech segment(s)", runs.len())
    );
    for (path, h) in r["headers"].as_object().unwrap() {
        let hashed = path.contains(".ort") || path.contains("/bundle/ort-wasm.");
        if hashed {
            assert_eq!(h["content-encoding"], "br", "{path}");
            assert!(
                h["cache-control"].as_str().unwrap().contains("immutable"),
                "{path}"
            );
        }
    }
    assert_eq!(
        r["outside_status"], 404,
        "a path escaping the served directories"
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{}",
        png.len()
    );
}
