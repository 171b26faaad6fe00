//! Converting the same model twice gives identical bytes, and `convert_file` writes exactly what
//! `convert` returns.

use ort_compact_build::tools as ort_format;
use ort_compact_test_support::sample_models;

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
