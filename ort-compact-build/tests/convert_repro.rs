//! Converting the same model twice gives identical bytes, and `convert_file` writes exactly what
//! `convert` returns.

use ort_compact_build::tools as ort_format;
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
    assert!(
        !models.is_empty(),
        "no sample models: scripts/test.sh installs the silero-vad Python package"
    );
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
