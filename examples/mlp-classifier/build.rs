//! The compact ONNX Runtime for the bundled MLP classifier: for wasm32-unknown-emscripten the
//! static library (linked into this program) and the typed module `mlp_classifier.rs`; for the
//! host (`cargo check`, `clippy`, `test`) the typed module alone.

fn main() {
    ort_compact_build::Builder::new("../../models/mlp-classifier.onnx").build();
}
