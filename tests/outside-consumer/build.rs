fn main() {
    ort_compact_build::Builder::new("mlp-classifier.onnx").build();
}
