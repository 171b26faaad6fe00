//! The checked-in `src/bindings.rs` must equal bindgen's output for ONNX Runtime 1.21.0's
//! `onnxruntime_c_api.h`. `ORT_COMPACT_SYS_BLESS=1` rewrites the file instead (that is what
//! `scripts/gen-bindings.sh` does). The header comes from `ORT_COMPACT_C_API_HEADER` or the
//! sources `ort_compact_build` provisions. Needs libclang (Debian: libclang1-*, pulled in by
//! Emscripten's clang) and rustfmt.
#![cfg(not(target_os = "emscripten"))]

use std::path::{Path, PathBuf};

fn header() -> PathBuf {
    if let Some(h) = std::env::var_os("ORT_COMPACT_C_API_HEADER") {
        return PathBuf::from(h);
    }
    let tree = ort_compact_build::tools::Provisioner::from_environment()
        .provision()
        .unwrap_or_else(|e| panic!("provisioning the ONNX Runtime sources for the header: {e}"));
    tree.c_api_include_dir().join("onnxruntime_c_api.h")
}

/// The one place the bindgen options live.
fn generate(header: &Path) -> String {
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .allowlist_function("OrtGetApiBase")
        .allowlist_type("Ort.*")
        .allowlist_type("ONNX.*")
        .allowlist_var("ORT_.*")
        // Target-independent output: no layout tests (pointer sizes differ between the host
        // and wasm32), no copied header prose.
        .layout_tests(false)
        .generate_comments(false)
        .prepend_enum_name(false)
        .use_core()
        .raw_line("// ONNX Runtime 1.21.0 C API (onnxruntime_c_api.h). Regenerate with scripts/gen-bindings.sh;")
        .raw_line("// do not edit. Enums are plain integer constants: values unknown to this version stay valid.")
        .generate()
        .unwrap_or_else(|e| panic!("bindgen failed on {}: {e}", header.display()));
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("bindings.rs");
    bindings
        .write_to_file(&out)
        .expect("writing the generated bindings");
    std::fs::read_to_string(&out).expect("reading the generated bindings")
}

#[test]
fn checked_in_bindings_match_bindgen() {
    let header = header();
    assert!(header.is_file(), "no header at {}", header.display());
    let generated = generate(&header);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bindings.rs");
    if std::env::var_os("ORT_COMPACT_SYS_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("writing src/bindings.rs");
        eprintln!("wrote {}", path.display());
        return;
    }
    let current = std::fs::read_to_string(&path).expect("reading src/bindings.rs");
    assert!(
        current == generated,
        "src/bindings.rs differs from bindgen's output for {}; run scripts/gen-bindings.sh",
        header.display()
    );
    assert!(generated.contains("pub const ORT_API_VERSION: u32 = 21;"));
    assert!(generated.contains("pub fn OrtGetApiBase() -> *const OrtApiBase;"));
}
