//! Nothing to build: the ONNX Runtime library is produced by `ort_compact_build::Builder` in the
//! consuming crate's build script, which also prints the link flags. This script exists because
//! the package declares `links = "ort_compact"` (one native runtime per dependency graph).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
