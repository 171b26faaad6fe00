//! `ort-compact convert` in separate processes gives identical bytes, the same as the library's,
//! with and without graph optimization.

use ort_compact_build::GraphOptimization;
use ort_compact_test_support::sample_models;

#[test]
fn cli_runs_in_separate_processes_give_identical_bytes() {
    let model = sample_models()
        .into_iter()
        .next()
        .expect("no sample models: scripts/test.sh installs the silero-vad Python package");
    let dir = tempfile::tempdir().unwrap();
    for level in [GraphOptimization::None, GraphOptimization::Basic] {
        let mut outputs = Vec::new();
        for k in 0..2 {
            let out = dir.path().join(format!("{level}-run{k}.ort"));
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_ort-compact"))
                .arg("convert")
                .arg(&model)
                .arg("-o")
                .arg(&out)
                .args(["--graph-optimization", level.as_str()])
                .status()
                .unwrap();
            assert!(status.success());
            outputs.push(std::fs::read(&out).unwrap());
        }
        assert_eq!(outputs[0], outputs[1], "{level}");
        assert_eq!(
            outputs[0],
            ort_compact_build::tools::convert_with(&model, level).unwrap(),
            "{level}"
        );
    }
}
