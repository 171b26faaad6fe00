//! Our operator configs against ONNX Runtime 1.21.0's own (`convert_onnx_models_to_ort`) for
//! every `.ort` model of the oracle corpus, plain and with type reduction; and `.onnx` input
//! for every model of the corpus.

use crate::model::{ModelFile, OrtModel};
use crate::ops::{required_ops, required_ops_of_files, OpConfig};
use crate::Error;
use ort_compact_test_support::oracle::{oracle_model, oracle_models, strip_comments};

#[test]
fn ort_configs_equal_onnxruntime_tool_output() {
    let models = oracle_models();
    let converted: Vec<_> = models.iter().filter(|m| m.ok).collect();
    let mut mismatches = Vec::new();
    for m in &converted {
        let model = ModelFile::load(&m.ort()).unwrap_or_else(|e| panic!("{}: {e}", m.id));
        for (types, expected_path) in [(false, m.config()), (true, m.types_config())] {
            let ours = required_ops(&model, types)
                .unwrap_or_else(|e| panic!("{} (types={types}): {e}", m.id))
                .to_string();
            let expected = strip_comments(&std::fs::read_to_string(&expected_path).unwrap());
            if ours != expected {
                mismatches.push(format!(
                    "{} (types={types}):\n ours:\n{ours}\n onnxruntime:\n{expected}",
                    m.id
                ));
            }
            // Our parser reads ORT's file back to the same config.
            let parsed = OpConfig::parse(&std::fs::read_to_string(&expected_path).unwrap())
                .unwrap_or_else(|e| panic!("{}: parsing ORT's config: {e}", m.id));
            assert_eq!(parsed.to_string(), expected, "{} round trip", m.id);
        }
    }
    eprintln!(
        "oracle: {} models in the corpus, {} converted by onnxruntime 1.21.0 (skipped {}), \
         {} configs compared ({} mismatches)",
        models.len(),
        converted.len(),
        models.len() - converted.len(),
        converted.len() * 2,
        mismatches.len()
    );
    assert!(
        converted.len() >= 900,
        "too few oracle models: {}",
        converted.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn union_over_models_equals_merged_configs() {
    let ids = [
        "silero-vad/silero_vad",
        "sklearn/iris_scaler_logreg",
        "testdata-node/test_loop11",
    ];
    let paths: Vec<_> = ids.iter().map(|id| oracle_model(id).ort()).collect();
    for types in [false, true] {
        let union = required_ops_of_files(&paths, types).unwrap();
        let mut merged = OpConfig::new();
        for p in &paths {
            merged.merge(&required_ops(&ModelFile::load(p).unwrap(), types).unwrap());
        }
        assert_eq!(union.to_string(), merged.to_string());
        assert!(union.contains("ai.onnx", 16, "If"));
        assert!(union.contains("ai.onnx", 11, "Loop"));
        assert!(union.contains("ai.onnx.ml", 1, "LinearClassifier"));
    }
}

#[test]
fn ort_subgraph_ops_and_since_versions() {
    // silero-vad's If branches hold most of the model.
    let m = OrtModel::load(&oracle_model("silero-vad/silero_vad").ort()).unwrap();
    assert_eq!(m.format_version(), "6");
    let resolver = m.session().kernel_type_str_resolver().unwrap();
    // Every operator of the model has a resolver entry `domain:op:since_version`.
    let ids: Vec<&str> = resolver.entries().map(|e| e.op_id()).collect();
    assert!(
        ids.contains(&":LSTM:14") && ids.contains(&"com.microsoft:FusedConv:1"),
        "{ids:?}"
    );
    use crate::model::ort::ArgRef;
    let relu = resolver.resolve(":Relu:14", "T").unwrap();
    assert_eq!(relu, [ArgRef::Input(0), ArgRef::Output(0)]);
    assert!(resolver.resolve(":Relu:14", "nope").is_none());
    let cfg = required_ops(&ModelFile::Ort(m), false).unwrap();
    assert!(cfg.contains("ai.onnx", 14, "LSTM"), "{cfg}");
    assert!(cfg.contains("com.microsoft", 1, "FusedConv"), "{cfg}");
}

#[test]
fn onnx_input_works_for_the_corpus() {
    let models = oracle_models();
    let mut ok = 0;
    let mut unknown_domain = 0;
    let mut failures = Vec::new();
    for m in models {
        match ModelFile::load(&m.onnx()).and_then(|f| required_ops(&f, false)) {
            Ok(cfg) => {
                assert!(!cfg.is_empty(), "{}: no operators", m.id);
                ok += 1;
            }
            Err(Error::UnknownDomain { domain, .. }) if domain == "ai.onnx.preview.training" => {
                unknown_domain += 1
            }
            Err(e) => failures.push(format!("{}: {e}", m.id)),
        }
    }
    eprintln!(
        "onnx input: {ok} of {} models analysed; {unknown_domain} rejected for the training \
         domain",
        models.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn onnx_ops_cover_ort_ops_for_unoptimised_models() {
    // skl2onnx models are not changed by ORT's optimizers: the same operators, and the
    // imported opset selects the same kernels as the since-version.
    for id in ["sklearn/iris_logreg", "sklearn/iris_random_forest"] {
        let m = oracle_model(id);
        let onnx = required_ops(&ModelFile::load(&m.onnx()).unwrap(), false).unwrap();
        let ort = required_ops(&ModelFile::load(&m.ort()).unwrap(), false).unwrap();
        let names = |c: &OpConfig| -> Vec<(String, String)> {
            let mut v: Vec<_> = c
                .ops
                .iter()
                .flat_map(|(d, o)| {
                    o.values()
                        .flat_map(|ops| ops.keys().map(|op| (d.clone(), op.clone())))
                        .collect::<Vec<_>>()
                })
                .collect();
            v.sort();
            v.dedup();
            v
        };
        assert_eq!(names(&onnx), names(&ort), "{id}");
    }
}
