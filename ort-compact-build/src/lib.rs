//! # ort-compact-build
//!
//! Build an ONNX Runtime 1.21.0 WebAssembly runtime that contains exactly the operator kernels
//! your models need, from one call in `build.rs`.
//!
//! ```no_run
//! // build.rs (its `main`) of a crate built with `cargo build --target wasm32-unknown-emscripten`
//! ort_compact_build::Builder::new("model.onnx").build();
//! ```
//!
//! That call reads the model, converts it to ORT format (natively, no Python), works out the
//! operator kernels it needs, builds ONNX Runtime 1.21.0 with only those (CMake + Emscripten,
//! cached in `~/.cache/ort-compact-build`) and tells cargo about the result:
//!
//! | cargo's target | what [`Builder::build`] produces |
//! |---|---|
//! | `wasm32-unknown-emscripten` | the static library, linked into your program, and a typed module per model, `$OUT_DIR/ort-compact/<model>.rs` (include it with `include!`; it runs on `ort-compact-sys`) |
//! | the host (`cargo check`, `clippy`, `test`, `doc`) | the typed modules alone, in milliseconds and with no toolchain; their calls return "no ONNX Runtime is linked for this target" |
//! | any, with [`Builder::flavor`]`(`[`Flavor::JsModule`]`)` | `ort-wasm.wasm` + `ort-wasm.mjs` for onnxruntime-web 1.21.0 (`env.wasm.wasmPaths`), verified under node |
//!
//! The paths come back as [`Artifacts`] and as `cargo:rustc-env` variables (`ORT_COMPACT_DIR`,
//! `ORT_COMPACT_WASM`, `ORT_COMPACT_MJS`, `ORT_COMPACT_MANIFEST`, `ORT_COMPACT_MODEL_<STEM>`).
//! Options are [`Builder`] setters: [`Optimize`], SIMD, type reduction, [`ProgressMode`],
//! cache and output directories. Environment overrides (`ORT_COMPACT_CACHE_DIR`,
//! `ORT_COMPACT_EMCC`, `EMSDK`, `ORT_COMPACT_OFFLINE`, `ORT_COMPACT_OPTIMIZE`, `DOCS_RS`, …) are
//! listed on [`Builder`]; a build script announces each one it reads to cargo.
//!
//! Tools that need the stages one at a time (convert a model, list its operators, provision
//! the sources, verify an output directory) find them in [`tools`]; the `ort-compact` command
//! (crate `ort-compact-cli`) is built on them.
//!
//! Every fallible function returns [`Result`] with the crate's single [`Error`] type, whose
//! messages name the file, node or tool concerned and say what to do about it.
#![warn(missing_docs)]

mod artifacts;
mod build;
mod builder;
mod bundle;
mod cache;
mod codegen;
mod env;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod model;
mod ops;
mod optimize;
mod ort_format;
mod outputs;
mod pair;
mod progress;
mod reduce;
mod runtime;
mod signature;
mod source;
mod toolchain;
pub mod tools;
mod util;
mod verify;

#[cfg(test)]
mod tests;

pub use artifacts::{Artifacts, ModelArtifact};
pub use build::{Flavor, Optimize};
pub use builder::Builder;
pub use bundle::{
    Bundle, BundleFile, BundleManifest, BundleModel, Encoded, Float16Model, RuntimeFiles,
    WireWeights,
};
pub use error::{Error, Result};
pub use optimize::{GraphOptimization, GraphOptimizer, Rewrite};
pub use outputs::FileInfo;
pub use progress::ProgressMode;
pub use signature::{Dimension, Signature, TensorSignature};

/// The ONNX Runtime version this crate builds.
pub const ORT_VERSION: &str = "1.21.0";
