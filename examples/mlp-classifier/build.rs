//! Builds a compact ONNX Runtime for `models/mlp-classifier.onnx` (static library when the
//! target is wasm32-unknown-emscripten) and the typed module `mlp_classifier.rs`.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let model = manifest.join("../../models/mlp-classifier.onnx");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("ort-compact");
    println!("cargo:rerun-if-changed={}", model.display());
    if std::env::var("TARGET").as_deref() == Ok("wasm32-unknown-emscripten") {
        ort_compact_build::Builder::new(&model)
            .out_dir(&out)
            .build();
    } else {
        // Host builds (`cargo check/clippy/test --workspace`): no runtime is linked there, so
        // only the typed module is generated; the program reports `Error::NoRuntime`.
        if let Err(e) = ort_compact_build::codegen::write_without_runtime(&model, &out) {
            panic!("generating the typed module for {}: {e}", model.display());
        }
    }
}
