//! The pinned ONNX Runtime 1.21.0 source tree, provisioned (or found in the cache) the way the
//! product does it. Tests that need real ORT sources fail, not skip, when it cannot be had.

use std::path::PathBuf;

/// ORT's source directory; `ORT_COMPACT_TEST_ORT_SRC` may point at another 1.21.0 tree.
pub fn ort_src() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORT_COMPACT_TEST_ORT_SRC") {
        return PathBuf::from(dir);
    }
    let env = crate::env::Env::new();
    let tree = crate::source::Provisioner::from_env(&env)
        .provision()
        .expect("provisioning the pinned ONNX Runtime sources (run scripts/install-toolchain.sh)");
    tree.ort_dir().to_path_buf()
}
