//! [`Artifacts`]: what a build produced, and the cargo metadata that tells a crate about it.

use crate::outputs::FileInfo;
use crate::signature::Signature;
use std::path::{Path, PathBuf};

/// One model in the results.
#[derive(Debug, Clone)]
pub struct ModelArtifact {
    /// Stem used for the file names (`<name>.ort`) and environment variables.
    pub name: String,
    /// The `.ort` file in the output directory.
    pub ort: PathBuf,
    /// Inputs and outputs.
    pub signature: Signature,
}

/// What a build produced, in its output directory.
#[derive(Debug, Clone)]
pub struct Artifacts {
    pub(crate) dir: PathBuf,
    pub(crate) wasm: Option<PathBuf>,
    pub(crate) mjs: Option<PathBuf>,
    pub(crate) static_lib: Option<PathBuf>,
    pub(crate) models: Vec<ModelArtifact>,
    pub(crate) config: PathBuf,
    pub(crate) manifest: PathBuf,
    pub(crate) files: Vec<FileInfo>,
    pub(crate) cache_hit: bool,
    pub(crate) build_id: Option<String>,
    pub(crate) bundle: Option<crate::bundle::Bundle>,
}

impl Artifacts {
    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// `ort-wasm.wasm` (JS mode).
    pub fn wasm(&self) -> Option<&Path> {
        self.wasm.as_deref()
    }
    /// `ort-wasm.mjs` (JS mode).
    pub fn mjs(&self) -> Option<&Path> {
        self.mjs.as_deref()
    }
    /// `libonnxruntime_webassembly.a` (Rust mode).
    pub fn static_lib(&self) -> Option<&Path> {
        self.static_lib.as_deref()
    }
    /// The models, in the order given.
    pub fn models(&self) -> &[ModelArtifact] {
        &self.models
    }
    /// `required_operators.config`.
    pub fn config(&self) -> &Path {
        &self.config
    }
    /// `manifest.json`.
    pub fn manifest(&self) -> &Path {
        &self.manifest
    }
    /// Sizes and hashes of the output files.
    pub fn files(&self) -> &[FileInfo] {
        &self.files
    }
    /// The build id of the JS-mode pair: `ort-wasm.mjs` refuses to load a `.wasm` without it.
    pub fn build_id(&self) -> Option<&str> {
        self.build_id.as_deref()
    }
    /// The deploy bundle, when [`crate::Builder::bundle`] asked for one.
    pub fn bundle(&self) -> Option<&crate::bundle::Bundle> {
        self.bundle.as_ref()
    }
    /// True when the runtime came from the cache without building.
    pub fn cache_hit(&self) -> bool {
        self.cache_hit
    }

    /// Print `cargo:rustc-env=…` for every path (and link flags for the static library):
    /// `ORT_COMPACT_DIR`, `ORT_COMPACT_WASM`, `ORT_COMPACT_MJS`, `ORT_COMPACT_MANIFEST`,
    /// `ORT_COMPACT_MODEL_<NAME>` (upper-case stem) for each `.ort`.
    pub fn print_cargo_metadata(&self) {
        println!("cargo:rustc-env=ORT_COMPACT_DIR={}", self.dir.display());
        println!(
            "cargo:rustc-env=ORT_COMPACT_MANIFEST={}",
            self.manifest.display()
        );
        if let Some(w) = &self.wasm {
            println!("cargo:rustc-env=ORT_COMPACT_WASM={}", w.display());
        }
        if let Some(m) = &self.mjs {
            println!("cargo:rustc-env=ORT_COMPACT_MJS={}", m.display());
        }
        if let Some(b) = &self.bundle {
            println!("cargo:rustc-env=ORT_COMPACT_BUNDLE={}", b.dir().display());
        }
        if self.static_lib.is_some() {
            println!("cargo:rustc-link-search=native={}", self.dir.display());
            println!("cargo:rustc-link-lib=static=onnxruntime_webassembly");
            println!("cargo:rustc-link-arg=-Wl,-u,__cxa_increment_exception_refcount");
            // What a program linking ONNX Runtime needs from Emscripten: a heap that grows and
            // the stack size ONNX Runtime's own wasm builds use.
            println!("cargo:rustc-link-arg=-sALLOW_MEMORY_GROWTH=1");
            println!("cargo:rustc-link-arg=-sSTACK_SIZE=5242880");
        }
        for m in &self.models {
            println!(
                "cargo:rustc-env=ORT_COMPACT_MODEL_{}={}",
                m.name.to_ascii_uppercase(),
                m.ort.display()
            );
        }
    }
}
