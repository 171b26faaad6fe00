//! Runtime benchmark: for each benchmark model (the small ones and compute-heavy real models from
//! PyPI packages) and each optimisation mode, the compact runtime's size (raw / gzip / brotli)
//! against stock onnxruntime-web 1.21.0's `ort-wasm-simd-threaded.wasm`; build times for the
//! small ones (new op set with a warm build dir, cache hit; cold with `BENCH_COLD=1`); session
//! creation and run time in node (onnxruntime-web 1.21.0, 1 thread) for the compact runtime,
//! the compact runtime built for the graph optimized at `extended` (`BENCH_GRAPH=basic` for
//! `basic`), stock with the original `.onnx` and stock with ONNX Runtime's own optimized `.ort`
//! at that level, side by side.
//!
//! `bash scripts/dev/bench-models.sh && cargo bench -p ort-compact-build --bench runtime` writes
//! target/bench-reports/runtime.md. Each item (model × mode) is stored in
//! target/bench-reports/runtime-items/ as soon as it is measured; a later run reuses an item
//! whose runtime, model and inputs are unchanged, so a cut run resumes where it stopped.
//! `BENCH_ONLY=id,id` limits the run to some cases (ids: the items' file names),
//! `BENCH_MODES=balanced,…` to some optimisation modes. Needs what the
//! tests need (scripts/test.sh installs it).

mod cases;
mod items;
mod node;
mod report;

use ort_compact_build::{FileInfo, Optimize};
use ort_compact_test_support::verify::{partial_cache, workspace};
use std::path::Path;

/// `BENCH_COLD=1`: minutes of a cold build of the default model (fresh build dir).
fn cold_build(tmp: &Path) -> String {
    if std::env::var_os("BENCH_COLD").is_none() {
        return "Cold build: not measured in this run (set BENCH_COLD=1; about 15 min).".into();
    }
    eprintln!("== cold build (fresh build dir)");
    let cold = partial_cache(tmp, "cold", &["downloads", "sources"]);
    let t = std::time::Instant::now();
    let mut b = ort_compact_build::Builder::new(workspace().join("models/mlp-classifier.onnx"));
    b.optimize(Optimize::Size)
        .out_dir(tmp.join("cold-out"))
        .cache_dir(&cold)
        .cargo_metadata(false)
        .progress(ort_compact_build::ProgressMode::Silent);
    b.try_build().expect("cold build");
    format!(
        "Cold build (fresh build dir, sources already provisioned), default model: {:.1} min.",
        t.elapsed().as_secs_f64() / 60.0
    )
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let stock_dir = workspace().join("tests/js/node_modules/onnxruntime-web/dist");
    let stock = FileInfo::measure(
        "stock",
        &std::fs::read(stock_dir.join("ort-wasm-simd-threaded.wasm"))
            .expect("run scripts/install-js-test-deps.sh"),
    );
    let reports = workspace().join("target/bench-reports");
    let items_dir = reports.join("runtime-items");
    std::fs::create_dir_all(&items_dir).unwrap();
    let only = std::env::var("BENCH_ONLY").ok();
    let wanted = |id: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == id))
    };
    let mut cases = cases::small(tmp.path(), wanted);
    cases.extend(cases::heavy(wanted));
    let cold = cold_build(tmp.path());
    // Mode by mode: the size and balanced modes share a warm dir, and each switch between them
    // re-runs configure.
    let mut measured = Vec::new();
    let modes = std::env::var("BENCH_MODES").ok();
    let wanted_mode = |m: Optimize| {
        modes
            .as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == m.as_str()))
    };
    for mode in Optimize::ALL.into_iter().filter(|m| wanted_mode(*m)) {
        for case in cases.iter().filter(|c| c.modes.contains(&mode)) {
            let item = items::measure(case, mode, &stock_dir, &items_dir, tmp.path());
            measured.push(((case.id, mode), item));
            measured.sort_by_key(|((id, mode), _)| {
                (cases.iter().position(|c| c.id == *id), *mode as usize)
            });
            let rows: Vec<_> = measured.iter().map(|(_, v)| v.clone()).collect();
            let r = report::render(&rows, &stock, &cold);
            std::fs::write(reports.join("runtime.md"), &r).unwrap();
        }
    }
    let rows: Vec<_> = measured.into_iter().map(|(_, v)| v).collect();
    print!("{}", report::render(&rows, &stock, &cold));
}
