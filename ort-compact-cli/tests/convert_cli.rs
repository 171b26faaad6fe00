//! `ort-compact convert` in separate processes gives identical bytes, the same as the library's.

use std::path::PathBuf;

/// The larger silero-vad model when Python's site-packages has it, else a model built here.
fn sample_models() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(o) = std::process::Command::new("python3")
        .args(["-c", "import importlib.util as u; print(list(u.find_spec('silero_vad').submodule_search_locations)[0])"])
        .output()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("data");
        for name in ["silero_vad.onnx", "silero_vad_half.onnx"] {
            if dir.join(name).exists() {
                out.push(dir.join(name));
            }
        }
    }
    let node = PathBuf::from("/usr/share/libonnx-testdata/data/node/test_loop11/model.onnx");
    if node.exists() {
        out.push(node);
    }
    out
}

#[test]
fn cli_runs_in_separate_processes_give_identical_bytes() {
    let model = sample_models()
        .into_iter()
        .next()
        .expect("no sample models: scripts/test.sh installs the silero-vad Python package");
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for k in 0..2 {
        let out = dir.path().join(format!("run{k}.ort"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_ort-compact"))
            .arg("convert")
            .arg(&model)
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(
        outputs[0],
        ort_compact_build::tools::convert(&model).unwrap()
    );
}
