//! One benchmark item — a case built in one mode — measured, or taken from its result file when
//! an earlier (cut) run already measured exactly this runtime, model and input.

use crate::cases::Case;
use crate::node::{alternating, Contender, ROUNDS};
use ort_compact_build::{Artifacts, Builder, FileInfo, GraphOptimization, Optimize, ProgressMode};
use ort_compact_test_support::verify::{oracle, partial_cache};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Builds `models` in `mode`, their graphs optimized at `level`, into `out` (in `cache`, else
/// the real cache); returns the artifacts and the wall-clock seconds it took.
fn build(
    models: &[PathBuf],
    (mode, level): (Optimize, GraphOptimization),
    out: &Path,
    cache: Option<&Path>,
) -> (Artifacts, f64) {
    let mut b = Builder::new(&models[0]);
    b.optimize(mode).graph_optimization(level);
    for m in &models[1..] {
        b.model(m);
    }
    b.out_dir(out)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent);
    if let Some(c) = cache {
        b.cache_dir(c);
    }
    let t = Instant::now();
    let a = b.try_build().expect("build");
    (a, t.elapsed().as_secs_f64())
}

/// A file of the runtime's output directory.
pub fn output_file<'a>(a: &'a Artifacts, name: &str) -> &'a FileInfo {
    a.files()
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} missing from the build output"))
}

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    format!("{:x}", Sha256::digest(bytes))
}

/// What the item's timings depend on: the runtime pairs, the timed models, the inputs, the
/// method.
fn item_key(case: &Case, builds: [&Artifacts; 2], runs: usize, theirs: &Path) -> String {
    let mut h = Sha256::new();
    for a in builds {
        for name in ["ort-wasm.wasm", "ort-wasm.mjs"] {
            h.update(output_file(a, name).sha256.as_bytes());
        }
        h.update(sha256_file(&a.models()[0].ort));
    }
    h.update(sha256_file(&case.models[0]));
    h.update(sha256_file(theirs));
    h.update(case.inputs.to_string());
    h.update(format!(
        "{runs} runs × {ROUNDS} rounds, 4 contenders (ORT-optimized .ort)"
    ));
    format!("{:x}", h.finalize())
}

/// The result stored at `path`, if it was measured for `key`.
fn stored(path: &Path, key: &str) -> Option<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    (v["key"] == key).then_some(v)
}

/// Seconds for a new op set in the warm shared build dir (empty artifact store) and for a
/// cache hit right after it.
fn build_times(case: &Case, mode: Optimize, tmp: &Path) -> (f64, f64) {
    let name = format!("fresh-{}-{}", case.id, mode.as_str());
    let fresh = partial_cache(tmp, &name, &["downloads", "sources", "work"]);
    let (_, t_new) = build(
        &case.models,
        (mode, GraphOptimization::None),
        &tmp.join(format!("{name}-new")),
        Some(&fresh),
    );
    let (_, t_hit) = build(
        &case.models,
        (mode, GraphOptimization::None),
        &tmp.join(format!("{name}-hit")),
        Some(&fresh),
    );
    (t_new, t_hit)
}

/// The graph optimization level the second contender's runtime is built at: `BENCH_GRAPH`
/// (`basic` or `extended`), else `extended`.
pub fn graph_level() -> GraphOptimization {
    let level = std::env::var("BENCH_GRAPH").unwrap_or_else(|_| "extended".into());
    GraphOptimization::parse(&level).expect("BENCH_GRAPH: none, basic or extended")
}

/// ONNX Runtime's own `.ort` of `onnx`, optimized at `level` by Python onnxruntime 1.21.0.
fn ort_optimized(onnx: &Path, level: GraphOptimization, out: &Path) -> PathBuf {
    let ort = out.join(format!("ort-{level}.ort"));
    std::fs::create_dir_all(out).expect("create dir");
    oracle(&[
        "optimize",
        &onnx.to_string_lossy(),
        level.as_str(),
        &ort.to_string_lossy(),
    ]);
    ort
}

/// Measures `case` in `mode` (or reuses the stored result) and stores it in `items_dir`.
pub fn measure(
    case: &Case,
    mode: Optimize,
    stock_dir: &Path,
    items_dir: &Path,
    tmp: &Path,
) -> Value {
    let label = format!("{} [{}]", case.name, mode.as_str());
    let level = graph_level();
    let (a, _) = build(
        &case.models,
        (mode, GraphOptimization::None),
        &tmp.join(format!("{}-{}", case.id, mode.as_str())),
        None,
    );
    let (optimized, _) = build(
        &case.models,
        (mode, level),
        &tmp.join(format!("{}-{}-{level}", case.id, mode.as_str())),
        None,
    );
    let theirs = ort_optimized(
        &case.models[0],
        level,
        &tmp.join(format!("{}-ort", case.id)),
    );
    let key = item_key(case, [&a, &optimized], case.runs, &theirs);
    let path = items_dir.join(format!("{}-{}.json", case.id, mode.as_str()));
    if let Some(v) = stored(&path, &key) {
        eprintln!("== {label}: measured before ({}), reused", path.display());
        return v;
    }
    eprintln!("== {label}");
    // Build times hardly depend on the mode: measured in the default one.
    let builds =
        (case.measure_builds && mode == Optimize::default()).then(|| build_times(case, mode, tmp));
    let contenders = [
        Contender {
            runtime: a.dir().to_path_buf(),
            model: a.models()[0].ort.clone(),
        },
        Contender {
            runtime: optimized.dir().to_path_buf(),
            model: optimized.models()[0].ort.clone(),
        },
        Contender {
            runtime: stock_dir.to_path_buf(),
            model: case.models[0].clone(),
        },
        Contender {
            runtime: stock_dir.to_path_buf(),
            model: theirs,
        },
    ];
    let t = alternating(&contenders, &case.inputs, case.runs, tmp);
    let wasm = output_file(&a, "ort-wasm.wasm");
    let item = json!({
        "key": key,
        "id": case.id,
        "name": case.name,
        "kind": case.kind,
        "mode": mode.as_str(),
        "wasm": {"raw": wasm.raw, "gzip": wasm.gzip, "brotli": wasm.brotli},
        "mjs_raw": output_file(&a, "ort-wasm.mjs").raw,
        "build_new_s": builds.map(|b| b.0),
        "build_hit_s": builds.map(|b| b.1),
        "compact": t[0],
        "graph_optimization": level.as_str(),
        "optimized_wasm_raw": output_file(&optimized, "ort-wasm.wasm").raw,
        "compact_optimized": t[1],
        "stock_onnx": t[2],
        "stock_ort_optimized": t[3],
    });
    let part = path.with_extension("json.part");
    std::fs::write(&part, serde_json::to_vec_pretty(&item).unwrap()).expect("write item");
    std::fs::rename(&part, &path).expect("store item");
    item
}
