//! Rust mode end to end: each example crate is built for wasm32-unknown-emscripten (its build
//! script runs `ort_compact_build::Builder`, which links the compact ONNX Runtime static library
//! and generates the typed module), run under node, and its JSON output compared with Python
//! onnxruntime 1.21.0 (the oracle) on the original `.onnx` model, within 1e-4. The examples also
//! exercise the safe layer's error paths inside the real runtime; their messages are checked.
//!
//! Needs emcc, node and Python onnxruntime (scripts/install-toolchain.sh installs them). The
//! nested cargo uses its own target directory (`target/rust-mode`) so it never waits on the
//! lock of the outer `cargo test`.

use ort_compact_tests::{
    assert_close, cargo_wasm_build, floats, mlp_oracle, python, run_node, run_ok, workspace,
    ORACLE_PRELUDE,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Build `package` for wasm32-unknown-emscripten (release) and return its `.js`.
fn build_example(package: &str) -> PathBuf {
    let target_dir = workspace().join("target/rust-mode");
    run_ok(
        cargo_wasm_build(&workspace(), &target_dir).args(["-p", package]),
        &format!("cargo build of {package}"),
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

#[test]
fn mlp_classifier_example_matches_onnxruntime() {
    let package = "example-mlp-classifier";
    let js = build_example(package);
    report_size(package, &js);
    let got = run_node(&js);
    assert_eq!(got["runtime_version"], "1.21.0");
    assert_eq!(got["untyped_run_matches"], true);

    let expected = mlp_oracle(&got["inputs"]["features"]);
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
