//! Helpers shared by the tests of ort-compact-build and ort-compact-cli. The crate depends on
//! neither (a dev-dependency of both, it must not pull a second copy of the library into their
//! tests): the oracle corpus made by Python onnxruntime 1.21.0 ([`oracle`]) and the real
//! models, reference outputs and node drivers of the verify tests ([`verify`]).

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
