//! Helpers of the in-crate tests.

pub mod onnx_protos;
pub mod ort_sources;
