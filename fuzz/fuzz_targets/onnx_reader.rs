//! Fuzz the ONNX reader and the operator extraction: any bytes give a model or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ort_compact_build::model::ModelFile;
use ort_compact_build::model::OnnxModel;
use ort_compact_build::ops::required_ops;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = OnnxModel::from_bytes(data, Path::new("fuzz.onnx")) {
        let file = ModelFile::Onnx(model);
        let _ = required_ops(&file, false);
        let _ = required_ops(&file, true);
    }
});
