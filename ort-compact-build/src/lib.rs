//! # ort-compact-build
//!
//! Build an ONNX Runtime 1.21.0 WebAssembly runtime that contains exactly the operator kernels
//! your models need — from a `build.rs` or from the `ort-compact` command line.
//!
//! The modules read as the pipeline:
//!
//! | stage | module | job |
//! |---|---|---|
//! | model | [`model`] | read `.onnx` (protobuf) and `.ort` (flatbuffer) models |
//! | ops | [`ops`] | the operators (and optionally types) the models need; ORT's config format |
//! | source | [`source`] | pinned, sha256-verified ONNX Runtime 1.21.0 + third-party sources |
//! | toolchain | [`toolchain`] | find and check emcc, cmake, ninja, protoc, node |
//!
//! Shared pieces: [`env`](mod@env) (overrides, `rerun-if-env-changed`), [`cache`] (cache root, locks),
//! [`progress`] (stage messages).
//!
//! All fallible functions return [`Result`] with the crate's single [`Error`] type, whose
//! messages name the file, node or tool concerned and say what to do about it.
#![warn(missing_docs)]

pub mod build;
mod builder;
pub mod cache;
pub mod codegen;
pub mod env;
pub mod error;
pub mod model;
pub mod ops;
pub mod ort_format;
pub mod outputs;
pub mod progress;
pub mod reduce;
pub mod signature;
pub mod source;
pub mod toolchain;
pub(crate) mod util;
pub mod verify;

#[cfg(test)]
mod tests;

pub use build::{Flavor, Optimize};
pub use builder::{Artifacts, Builder, ModelArtifact};
pub use error::{Error, Result};
pub use outputs::FileInfo;
pub use progress::ProgressMode;
pub use signature::{Dimension, Signature, TensorSignature};

/// The ONNX Runtime version this crate builds.
pub const ORT_VERSION: &str = "1.21.0";
