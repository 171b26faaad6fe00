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
