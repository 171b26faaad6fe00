//! Safe Rust bindings to ONNX Runtime 1.21.0's C API for runtimes built by ort-compact-build.
//!
//! Placeholder: the bindgen-generated bindings and the safe layer (Rust mode) land here.
