//! `ort-compact build` argument errors: refused by the parser before any work, with the reason.

use std::process::Command;

#[test]
fn an_unknown_optimize_value_is_refused_before_any_work() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let model = ort_compact_test_support::workspace().join("models/mlp-classifier.onnx");
    let run = Command::new(env!("CARGO_BIN_EXE_ort-compact"))
        .arg("build")
        .arg(&model)
        .args(["--optimize", "fast", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "clap's usage-error exit code");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("--optimize")
            && err.contains("`fast`: expected `size`, `balanced` or `speed`"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}

/// `--wire-weights`: only `exact` or `float16`, and only with `--bundle`.
#[test]
fn wire_weights_needs_a_bundle_and_a_known_value() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let model = ort_compact_test_support::workspace().join("models/mlp-classifier.onnx");
    let run = |args: &[&str]| {
        let r = Command::new(env!("CARGO_BIN_EXE_ort-compact"))
            .arg("build")
            .arg(&model)
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(2), "clap's usage-error exit code");
        String::from_utf8_lossy(&r.stderr).into_owned()
    };
    let err = run(&["--wire-weights", "float16"]);
    assert!(
        err.contains("--wire-weights") && err.contains("--bundle"),
        "{err}"
    );
    let err = run(&["--wire-weights", "half", "--bundle", "b"]);
    assert!(
        err.contains("`half`: expected `exact` or `float16`"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}

/// `--bundle DIR` without `--out`: the bundle alone, its files listed; a directory holding other
/// files is refused before any work and left as it was.
#[test]
fn bundle_without_out_and_a_foreign_directory_refused() {
    let t = tempfile::tempdir().unwrap();
    let model = ort_compact_test_support::workspace().join("models/mlp-classifier.onnx");
    let foreign = t.path().join("site");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("index.html"), "<!doctype html>").unwrap();
    let run = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_ort-compact"))
            .arg("build")
            .arg(&model)
            .arg("--bundle")
            .arg(dir)
            .output()
            .unwrap()
    };
    let refused = run(&foreign);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("index.html") && err.contains("not an ort-compact bundle"),
        "{err}"
    );
    assert!(!err.contains("reducing"), "refused before building: {err}");
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);

    let bundle = t.path().join("bundle");
    let ok = run(&bundle);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    for f in manifest["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        assert!(stdout.contains(name), "{name} not listed:\n{stdout}");
        for sibling in [name.to_string(), format!("{name}.br"), format!("{name}.gz")] {
            assert!(bundle.join(&sibling).is_file(), "{sibling}");
        }
    }
    assert!(stdout.contains("build id"), "{stdout}");
    let entries: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries.len(), 2, "site and bundle only: {entries:?}");
}
