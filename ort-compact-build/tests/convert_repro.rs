//! Converting the same model twice gives identical bytes, and `convert_file` writes exactly what
//! `convert` returns.

use ort_compact_build::ort_format;
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
fn conversion_is_byte_reproducible() {
    let models = sample_models();
    if models.is_empty() {
        eprintln!("skipping: no sample models (silero-vad / libonnx-testdata) installed");
        return;
    }
    for model in models {
        let a = ort_format::convert(&model).unwrap();
        let b = ort_format::convert(&model).unwrap();
        assert_eq!(a, b, "{} converts to different bytes", model.display());
        assert_eq!(a.get(4..8), Some(&b"ORTM"[..]));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m.ort");
        ort_format::convert_file(&model, &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), a);
    }
}

#[test]
fn cli_runs_in_separate_processes_give_identical_bytes() {
    let Some(model) = sample_models().into_iter().next() else {
        eprintln!("skipping: no sample models installed");
        return;
    };
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
    assert_eq!(outputs[0], ort_format::convert(&model).unwrap());
}
