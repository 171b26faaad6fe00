//! Helpers shared by the tests of ort-compact-build and ort-compact-cli. The crate depends on
//! neither (a dev-dependency of both, it must not pull a second copy of the library into their
//! tests): the oracle corpus made by Python onnxruntime 1.21.0 ([`oracle`]) and the real
//! models, reference outputs and node drivers of the verify tests ([`verify`]).

pub mod mirror;
pub mod oracle;
pub mod verify;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support/ is inside the workspace")
        .to_path_buf()
}

/// Real models for conversion checks: silero-vad's two models (the Python package the test
/// set-up installs) and the ONNX backend test `test_loop11` (Debian's libonnx-testdata), those
/// that are installed.
pub fn sample_models() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(o) = std::process::Command::new("python3")
        .args(["-c", "import importlib.util as u; print(list(u.find_spec('silero_vad').submodule_search_locations)[0])"])
        .output()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("data");
        for name in ["silero_vad.onnx", "silero_vad_half.onnx"] {
            if dir.join(name).exists() {
                out.push(dir.join(name));
            }
        }
    }
    let node = PathBuf::from("/usr/share/libonnx-testdata/data/node/test_loop11/model.onnx");
    if node.exists() {
        out.push(node);
    }
    out
}
