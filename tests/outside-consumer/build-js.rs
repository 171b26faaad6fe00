// JS mode from a build script: the runtime pair for onnxruntime-web, whatever the target.
fn main() {
    use ort_compact_build::{Builder, Flavor};
    Builder::new("mlp-classifier.onnx").flavor(Flavor::JsModule).build();
}
