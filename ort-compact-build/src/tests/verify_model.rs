//! `verify::verify_model` and `ort-compact verify` on a real runtime: by default stock
//! onnxruntime-web 1.21.0's wasm (installed by scripts/install-js-test-deps.sh), or the runtime
//! in `$ORT_COMPACT_TEST_RUNTIME_DIR`. Python onnxruntime 1.21.0 is the reference.

use crate::verify::{verify_model, InputSpec, VerifyReport};
use crate::Error;
use ort_compact_test_support::verify::*;
use serde_json::{json, Value};
use std::path::Path;

fn spec(name: &str, elem_type: i32, dims: &[i64]) -> InputSpec {
    InputSpec {
        name: name.to_string(),
        elem_type,
        dims: dims.to_vec(),
    }
}

fn output<'a>(r: &'a VerifyReport, name: &str) -> &'a crate::verify::OutputSummary {
    r.outputs
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no output {name} in {r:?}"))
}

/// The driver's synthetic inputs, in harness format, for Python.
fn synth_f32(dims: &[i64]) -> Value {
    let n = dims.iter().product::<i64>() as usize;
    let data = synth_float(n).into_iter().map(|x| json!(x)).collect();
    tensor("float32", dims, data)
}

fn assert_prefix_close(actual: &[f64], expected: &Value, what: &str) {
    let expected = expected["data"].as_array().unwrap();
    assert!(!actual.is_empty(), "{what}: no values reported");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let e = e.as_f64().unwrap();
        assert!((a - e).abs() <= 1e-4, "{what}[{i}]: {a} vs Python {e}");
    }
}

#[test]
fn sigmoid_runs_and_matches_python() {
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    let r = verify_model(
        &runtime_dir(),
        &m.sigmoid,
        &[spec("x", 1, &[3, 4, 5])],
        &node(),
    )
    .unwrap();
    eprintln!(
        "verify sigmoid: wall {:.2} s, {:?}",
        r.wall.as_secs_f64(),
        r.timings_ms
    );
    assert_eq!(r.inputs, vec!["x"]);
    assert!(r.run_error.is_none());
    let y = output(&r, "y");
    assert_eq!(y.elem_type, Some(1));
    assert_eq!(y.dims, vec![3, 4, 5]);
    assert_eq!(y.count, 60);
    assert_eq!(y.values.len(), 16);
    let expected = reference(&m.sigmoid, &json!({"x": synth_f32(&[3, 4, 5])}), tmp.path());
    assert_prefix_close(&y.values, &expected["outputs"]["y"], "sigmoid y");
}

#[test]
fn silero_vad_runs_and_matches_python() {
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    // 256 samples: the synthetic sr (0) selects the 8 kHz branch, which takes 256-sample chunks.
    let inputs = [
        spec("input", 1, &[1, 256]),
        spec("state", 1, &[2, 1, 128]),
        spec("sr", 7, &[]),
    ];
    let r = verify_model(&runtime_dir(), &m.silero, &inputs, &node()).unwrap();
    eprintln!(
        "verify silero_vad: wall {:.2} s, {:?}",
        r.wall.as_secs_f64(),
        r.timings_ms
    );
    assert!(r.run_error.is_none(), "{:?}", r.run_error);
    let out = output(&r, "output");
    assert_eq!(out.dims, vec![1, 1]);
    let state = output(&r, "stateN");
    assert_eq!(state.dims, vec![2, 1, 128]);
    let expected = reference(
        &m.silero,
        &json!({
            "input": synth_f32(&[1, 256]),
            "state": synth_f32(&[2, 1, 128]),
            "sr": tensor("int64", &[], vec![json!(0)]),
        }),
        tmp.path(),
    );
    assert_prefix_close(&out.values, &expected["outputs"]["output"], "silero output");
    assert_prefix_close(
        &state.values,
        &expected["outputs"]["stateN"],
        "silero stateN",
    );
}

#[test]
fn run_failure_on_synthetic_shapes_is_reported_not_fatal() {
    // Symbolic dims replaced by 1: the session is fine (all kernels found) but silero's STFT
    // cannot take one sample.
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    let inputs = [
        spec("input", 1, &[1, 1]),
        spec("state", 1, &[2, 1, 128]),
        spec("sr", 7, &[]),
    ];
    let r = verify_model(&runtime_dir(), &m.silero, &inputs, &node()).unwrap();
    let e = r.run_error.expect("the run must fail on one sample");
    assert!(e.contains("Non-zero status code"), "{e}");
    assert!(r.outputs.is_empty());
    assert!(r.timings_ms.contains_key("session"));
}

#[test]
fn missing_kernel_is_an_error_naming_the_op() {
    // ONNX Runtime 1.21 has no CPU kernel for DeformConv: the one real "missing kernel" case a
    // stock runtime shows (a full build also reads .onnx, so the model needs no conversion).
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("deform.onnx");
    oracle(&["deformconv", model.to_str().unwrap()]);
    let err = verify_model(
        &runtime_dir(),
        &model,
        &[
            spec("X", 1, &[1, 1, 2, 2]),
            spec("W", 1, &[1, 1, 1, 1]),
            spec("offset", 1, &[1, 2, 2, 2]),
        ],
        &node(),
    )
    .unwrap_err();
    let Error::Verification { model: m, reason } = &err else {
        panic!("expected Verification, got {err}")
    };
    assert_eq!(m, &model);
    assert!(
        reason.contains("no kernel for DeformConv(19) (node 'deform_node')"),
        "{reason}"
    );
}

#[test]
fn corrupted_model_is_a_verification_error() {
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    let mut bytes = std::fs::read(&m.sigmoid).unwrap();
    bytes.truncate(bytes.len() / 3);
    let bad = tmp.path().join("truncated.ort");
    std::fs::write(&bad, bytes).unwrap();
    let err = verify_model(&runtime_dir(), &bad, &[spec("x", 1, &[3, 4, 5])], &node()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Verification { .. }), "{text}");
    assert!(text.contains("creating the session failed"), "{text}");
    assert!(text.contains("truncated.ort"), "{text}");
}

#[test]
fn missing_input_spec_is_a_verification_error() {
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    let err = verify_model(&runtime_dir(), &m.sigmoid, &[], &node()).unwrap_err();
    assert!(
        err.to_string()
            .contains("no input spec for model input(s): x"),
        "{err}"
    );
}

#[test]
fn directory_without_runtime_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m.ort");
    std::fs::write(&model, b"x").unwrap();
    let err = verify_model(tmp.path(), &model, &[], &node()).unwrap_err();
    assert!(err.to_string().contains("holds no runtime"), "{err}");
}

#[test]
fn old_node_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("node");
    std::fs::write(&fake, "#!/bin/sh\necho v16.20.2\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = verify_model(&runtime_dir(), Path::new("x.ort"), &[], &fake).unwrap_err();
    assert!(
        matches!(&err, Error::ToolTooOld { tool: "node", found, .. } if found == "16.20.2"),
        "{err}"
    );
}

#[test]
fn runtime_without_heap_view_exports_still_verifies() {
    // Emscripten >= 4.0.7 exports HEAPU8 only when asked; the driver then falls back to
    // getValue/setValue (which ORT's own EXPORTED_RUNTIME_METHODS list has).
    let tmp = tempfile::tempdir().unwrap();
    let m = models(tmp.path());
    let dir = tmp.path().join("noheap");
    std::fs::create_dir_all(&dir).unwrap();
    let (mjs, wasm) = crate::verify::runtime_files(&runtime_dir()).unwrap();
    std::fs::copy(mjs, dir.join("real.mjs")).unwrap();
    std::fs::copy(wasm, dir.join("ort-wasm.wasm")).unwrap();
    std::fs::write(
        dir.join("ort-wasm.mjs"),
        "import factory from './real.mjs';\n\
         export default async function (opts) {\n\
           const m = await factory(opts);\n\
           for (const k of ['HEAPU8', 'HEAP8', 'HEAPU32', 'HEAP32', 'HEAPF32'])\n\
             Object.defineProperty(m, k, { get: () => undefined, set: () => {}, configurable: true });\n\
           return m;\n\
         }\n",
    )
    .unwrap();
    let r = verify_model(&dir, &m.sigmoid, &[spec("x", 1, &[3, 4, 5])], &node()).unwrap();
    let expected = reference(&m.sigmoid, &json!({"x": synth_f32(&[3, 4, 5])}), tmp.path());
    assert_prefix_close(
        &output(&r, "y").values,
        &expected["outputs"]["y"],
        "sigmoid y without HEAPU8",
    );
}
