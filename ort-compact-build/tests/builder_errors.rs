//! Build-stage failures give typed errors and leave nothing half-written: a cmake that fails shows
//! the last lines of its log and where the full log is; unsupported options are refused up front.
//!
//! One test per file on purpose: it sets `ORT_COMPACT_CMAKE`, `ORT_COMPACT_OPTIMIZE` and
//! `ORT_COMPACT_GRAPH_OPTIMIZATION` for the whole process.

use ort_compact_build::{Builder, Error, Flavor, ProgressMode, WireWeights};
use ort_compact_test_support::verify::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn failing_cmake_reports_log_tail_and_path_and_writes_no_runtime() {
    let tmp = tempfile::tempdir().unwrap();
    // Real sources, a fresh work dir; a cmake that passes the version check but cannot configure.
    let cache = partial_cache(tmp.path(), "cache", &["downloads", "sources"]);
    let cmake = tmp.path().join("cmake");
    std::fs::write(
        &cmake,
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'cmake version 3.31.10'; exit 0; fi\n\
         echo 'CMake Error at CMakeLists.txt:1 (project): simulated configure failure' >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&cmake, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::env::set_var("ORT_COMPACT_CMAKE", &cmake);

    let out = tmp.path().join("out");
    let err = Builder::new(workspace().join("models/mlp-classifier.onnx"))
        .out_dir(&out)
        .cache_dir(&cache)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent)
        .try_build()
        .expect_err("a failing cmake must fail the build");
    let text = err.to_string();
    match &err {
        Error::CommandFailed { tail, log, .. } => {
            assert!(tail.contains("simulated configure failure"), "{text}");
            assert!(log.is_file(), "the full log must exist: {text}");
        }
        other => panic!("expected CommandFailed, got {other:?}"),
    }
    assert!(text.contains("full log: "), "{text}");
    // No runtime in the cache, none in the output directory.
    let artifacts: Vec<_> = std::fs::read_dir(cache.join("artifacts"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        artifacts
            .iter()
            .all(|n| n.to_string_lossy().starts_with(".lock")),
        "{artifacts:?}"
    );
    assert!(!out.join("ort-wasm.wasm").exists());
    assert!(!out.join("manifest.json").exists());

    // Threads are refused before any work.
    let err = Builder::new(workspace().join("models/mlp-classifier.onnx"))
        .out_dir(tmp.path().join("threads"))
        .threads(true)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent)
        .try_build()
        .expect_err("threads are not supported");
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("threads")),
        "{err}"
    );

    // A deploy bundle of a static library is refused before any work, and nothing is written.
    let bundle = tmp.path().join("bundle");
    let err = Builder::new(workspace().join("models/mlp-classifier.onnx"))
        .out_dir(tmp.path().join("static"))
        .flavor(Flavor::StaticLib)
        .bundle(&bundle)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent)
        .try_build()
        .expect_err("a bundle holds a JS-mode runtime");
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("Flavor::JsModule") && m.contains("Builder::bundle")),
        "{err}"
    );
    assert!(!bundle.exists() && !tmp.path().join("static").exists());

    // Float16 weights on the wire without a bundle (they only exist in its loader): refused.
    let err = Builder::new(workspace().join("models/mlp-classifier.onnx"))
        .out_dir(tmp.path().join("half"))
        .wire_weights(WireWeights::Float16)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent)
        .try_build()
        .expect_err("float16 on the wire needs a bundle");
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("Builder::bundle(dir)") && m.contains("--bundle")),
        "{err}"
    );
    assert!(!tmp.path().join("half").exists());

    // A misspelt ORT_COMPACT_OPTIMIZE is refused before any work (not read as `size`).
    std::env::set_var("ORT_COMPACT_OPTIMIZE", "fast");
    let err = Builder::new(workspace().join("models/mlp-classifier.onnx"))
        .out_dir(tmp.path().join("optimize"))
        .cache_dir(&cache)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent)
        .try_build()
        .expect_err("`fast` is not an optimisation goal");
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("ORT_COMPACT_OPTIMIZE") && m.contains("`speed`")),
        "{err}"
    );
    std::env::remove_var("ORT_COMPACT_OPTIMIZE");

    // A misspelt ORT_COMPACT_GRAPH_OPTIMIZATION likewise (not read as `none`), nothing written.
    std::env::set_var("ORT_COMPACT_GRAPH_OPTIMIZATION", "all");
    let err = Builder::new(workspace().join("models/mlp-classifier.onnx"))
        .out_dir(tmp.path().join("graph"))
        .cache_dir(&cache)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent)
        .try_build()
        .expect_err("`all` is not a graph optimization level");
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("ORT_COMPACT_GRAPH_OPTIMIZATION=\"all\"") && m.contains("`none`, `basic` or `extended`")),
        "{err}"
    );
    assert!(!tmp.path().join("graph").exists());
}
