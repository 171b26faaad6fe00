//! Runs the bundled MLP classifier (features f32[N,16] → probabilities f32[N,4]) on three
//! deterministic rows through the typed API generated at build time, then exercises the safe
//! layer's error paths inside the real runtime. Prints one JSON document.

use ort_compact_sys::{Error, Tensor, TensorRef};
use serde_json::{json, Value};

include!(concat!(env!("OUT_DIR"), "/ort-compact/mlp_classifier.rs"));

const ROWS: usize = 3;
const FEATURES: usize = 16;

fn features() -> Vec<f32> {
    (0..ROWS * FEATURES)
        .map(|i| 2.0 * (0.37 * i as f32 + 0.1).sin())
        .collect()
}

/// The error text of a call that must fail.
fn error_text<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => "UNEXPECTED SUCCESS".to_string(),
        Err(e) => e.to_string(),
    }
}

fn error_cases(model: &MlpClassifier, x: &[f32]) -> Result<Value, Error> {
    let session = model.session();
    let good = TensorRef::new(&[ROWS as i64, FEATURES as i64], x)?;
    let as_f64: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
    let half = MlpClassifier::MODEL.len() / 2;
    Ok(json!({
        "not_ort_format": error_text(MlpClassifier::from_bytes(b"\x08\x07 this is not a model")),
        "truncated_ort": error_text(MlpClassifier::from_bytes(&MlpClassifier::MODEL[..half])),
        "unknown_input": error_text(session.run(&[("feature", good.into())])),
        "missing_input": error_text(session.run(&[])),
        "duplicate_input": error_text(session.run(&[("features", good.into()), ("features", good.into())])),
        "wrong_dtype": error_text(session.run(&[("features", TensorRef::new(&[3, 16], &as_f64)?.into())])),
        "wrong_rank": error_text(session.run(&[("features", TensorRef::new(&[48], x)?.into())])),
        "wrong_dim": error_text(model.run(TensorRef::new(&[6, 8], x)?)),
        "data_length": error_text(TensorRef::new(&[3, 16], &x[..40])),
        "unknown_output": error_text(session.run_outputs(&[("features", good.into())], &["logits"])),
        "wrong_output_type": error_text(session.run(&[("features", good.into())]).and_then(|mut o| o.take::<i64>("probabilities"))),
    }))
}

fn run() -> Result<Value, Error> {
    let model = MlpClassifier::new()?;
    let x = features();
    let out = model.run(TensorRef::new(&[ROWS as i64, FEATURES as i64], &x)?)?;
    let p: &Tensor<f32> = &out.probabilities;
    // An untyped run of the same session must agree with the typed one.
    let untyped = model
        .session()
        .run(&[("features", TensorRef::new(&[3, 16], &x)?.into())])?;
    let same = untyped.tensor::<f32>("probabilities")? == p;
    Ok(json!({
        "model": "mlp_classifier",
        "runtime_version": ort_compact_sys::runtime_version()?,
        "inputs": { "features": { "shape": [ROWS, FEATURES], "data": x } },
        "outputs": { "probabilities": { "shape": p.shape(), "data": p.data() } },
        "untyped_run_matches": same,
        "errors": error_cases(&model, &x)?,
    }))
}

fn main() {
    match run() {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
