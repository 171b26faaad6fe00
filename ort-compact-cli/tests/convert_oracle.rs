//! Oracle test: every model of the corpus (onnxruntime's datasets, silero-vad, scikit-learn models
//! converted with skl2onnx, small generated com.microsoft / function / model-local-function
//! models, the ONNX backend node tests) is converted with `ort-compact convert`,
//! and the `.ort` must load in Python onnxruntime 1.21.0 and give the same outputs as the `.onnx`
//! (≤ 1e-5 relative). The driver is `scripts/oracle/compare_ort.py`.
//!
//! The driver also compares each converted model's structure (nodes, since-versions, arg counts,
//! implicit inputs, attributes incl. defaults, value element types, initializers, resolver table)
//! with the `.ort` onnxruntime writes itself with graph optimizations disabled.

use std::process::Command;

/// Models whose structure legitimately differs from onnxruntime's own `.ort`: the converter
/// expands the same functions (ONNX functions without a CPU kernel, model-local functions) but
/// names the expanded values differently; and `sklearn/mlp`, where onnxruntime's always-on
/// duplicate-Cast removal rewrites the graph even with optimizations disabled (the converter
/// keeps the model's own nodes).
const STRUCTURE_EXEMPT: &[&str] = &[
    "nllloss",
    "sce_",
    "sequence_map",
    "hardswish",
    "mish",
    "castlike",
    "local/",
    "functions/",
    "sklearn/mlp",
];

/// Why a model may pass from `.onnx` but not from `.ort`, with the converter's error text that
/// says so. Anything else is a converter bug.
const KNOWN_LIMITS: &[(&str, &str)] = &[
    // `optional(...)` values: the ORT format's type union (tensor, sequence, map) cannot hold
    // them, so no `.ort` can (ONNX Runtime's own converter rejects them too).
    (
        "optional-typed values",
        "has an optional, sparse-tensor or opaque type, which the ORT format",
    ),
    // Operators ONNX Runtime 1.21.0 has no CPU kernel for and expands on load from a
    // context-dependent ONNX function that the converter has no rule for (CenterCropPad;
    // NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss below opset 13): reported as such.
    (
        "context-dependent function ops",
        "from a context-dependent ONNX function; this converter does not",
    ),
];

#[test]
fn converted_models_match_onnx_in_python_onnxruntime() {
    let probe = Command::new("python3")
        .args(["-c", "import onnx, onnxruntime, numpy"])
        .status();
    assert!(
        probe.map(|s| s.success()).unwrap_or(false),
        "python3 with onnx and onnxruntime is needed: run scripts/test.sh (it installs them)"
    );
    let root = ort_compact_test_support::workspace();
    let driver = root.join("scripts/oracle/compare_ort.py");
    let work = tempfile::tempdir().unwrap();
    let summary_path = work.path().join("summary.json");
    let out = Command::new("python3")
        .arg(&driver)
        .args(["--converter", env!("CARGO_BIN_EXE_ort-compact")])
        .arg("--work")
        .arg(work.path())
        .arg("--json")
        .arg(&summary_path)
        .arg("--structure")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    let onnx_pass = summary["onnx_pass"].as_u64().unwrap();
    let ort_pass = summary["ort_pass"].as_u64().unwrap();
    let failures = summary["failures"].as_object().unwrap();
    let mut per_limit = vec![0usize; KNOWN_LIMITS.len()];
    let mut unexpected = Vec::new();
    for (name, why) in failures {
        let why = why.as_str().unwrap_or_default();
        match KNOWN_LIMITS.iter().position(|(_, text)| why.contains(text)) {
            Some(k) => per_limit[k] += 1,
            None => unexpected.push(format!("{name}: {why}")),
        }
    }
    eprintln!(
        "{} models: {onnx_pass} pass from .onnx, {ort_pass} pass from .ort",
        summary["total"]
    );
    for ((what, _), count) in KNOWN_LIMITS.iter().zip(&per_limit) {
        eprintln!("  not converted ({what}): {count}");
    }
    assert!(
        unexpected.is_empty(),
        "{} converted models do not match their .onnx:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert_eq!(onnx_pass - ort_pass, failures.len() as u64);
    let structure = summary["structure_differences"].as_object().unwrap();
    eprintln!(
        "structure: {} of {} converted models identical to onnxruntime's own .ort",
        summary["structure_identical"], summary["structure_compared"]
    );
    let unexplained: Vec<String> = structure
        .iter()
        .filter(|(name, _)| !STRUCTURE_EXEMPT.iter().any(|p| name.contains(p)))
        .map(|(name, what)| format!("{name}: {what}"))
        .collect();
    assert!(
        unexplained.is_empty(),
        "structure differs from onnxruntime's own .ort:\n{}",
        unexplained.join("\n")
    );
    assert!(onnx_pass > 0);
}
