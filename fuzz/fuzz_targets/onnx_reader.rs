//! Fuzz target: `ort_compact_build::fuzzing::onnx_reader` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ort_compact_build::fuzzing::onnx_reader(data));
