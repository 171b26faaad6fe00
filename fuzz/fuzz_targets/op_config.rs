//! Fuzz target: `ort_compact_build::fuzzing::op_config` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ort_compact_build::fuzzing::op_config(data));
