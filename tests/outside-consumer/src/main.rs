//! Runs the MLP classifier through the typed module the build script generated and prints its
//! input and output as one JSON line.

include!(concat!(env!("OUT_DIR"), "/ort-compact/mlp_classifier.rs"));

fn main() -> Result<(), ort_compact_sys::Error> {
    let features: Vec<f32> = (0..32).map(|i| (0.21 * i as f32).cos()).collect();
    let model = MlpClassifier::new()?;
    let out = model.run(ort_compact_sys::TensorRef::new(&[2, 16], &features)?)?;
    println!(
        "{{\"features\": {{\"shape\": [2, 16], \"data\": {:?}}}, \"probabilities\": {{\"shape\": {:?}, \"data\": {:?}}}}}",
        features,
        out.probabilities.shape(),
        out.probabilities.data()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    /// On the host the typed module compiles, and its calls say that no runtime is linked.
    #[test]
    fn the_host_has_the_typed_module_but_no_runtime() {
        assert_eq!(super::MlpClassifier::INPUT_NAMES, ["features"]);
        let err = super::MlpClassifier::new().unwrap_err();
        assert!(err.to_string().contains("no ONNX Runtime is linked"), "{err}");
    }
}
