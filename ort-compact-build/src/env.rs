//! Environment-variable overrides, read the way cc-rs and cmake-rs read them.
//!
//! Every variable is looked up first with the cargo target as prefix (`wasm32_unknown_emscripten_NAME`,
//! `WASM32_UNKNOWN_EMSCRIPTEN_NAME`), then plainly (`NAME`). In a build script each name read is
//! announced with `cargo:rerun-if-env-changed`, so changing an override reruns the build.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ffi::OsString;

/// Directory for caches (sources, warm build dirs, finished artifacts).
pub const CACHE_DIR: &str = "ORT_COMPACT_CACHE_DIR";
/// An existing ONNX Runtime 1.21.0 source checkout to use instead of Debian's source tarball.
pub const ORT_SOURCE_DIR: &str = "ORT_COMPACT_ORT_SOURCE_DIR";
/// Mirrors holding the pinned source archives, tried in order before apt: `http(s)://` base
/// URLs, `file://` URLs or directories, separated by spaces; each a Debian mirror (archives under
/// `pool/`) or flat (the files side by side).
pub const MIRROR: &str = "ORT_COMPACT_MIRROR";
/// Set to `1` to forbid all downloads (archives must already be in the cache).
pub const OFFLINE: &str = "ORT_COMPACT_OFFLINE";
/// Path of the `emcc` to use.
pub const EMCC: &str = "ORT_COMPACT_EMCC";
/// Path of the `cmake` to use.
pub const CMAKE: &str = "ORT_COMPACT_CMAKE";
/// Path of the `protoc` (3.21) to use; without it one from `PATH` or built from the pinned sources.
pub const PROTOC: &str = "ORT_COMPACT_PROTOC";
/// Path of the `node` to use.
pub const NODE: &str = "ORT_COMPACT_NODE";
/// `size`, `balanced` or `speed`: what to optimise the kernels for (see [`crate::build::Optimize`]).
pub const OPTIMIZE: &str = "ORT_COMPACT_OPTIMIZE";
/// Graph optimization level for `.onnx` models (`none`, `basic`, `extended`).
pub const GRAPH_OPTIMIZATION: &str = "ORT_COMPACT_GRAPH_OPTIMIZATION";
/// Rewrites of the graph optimization to turn off: comma-separated [`crate::Rewrite`] names.
pub const DISABLE_REWRITES: &str = "ORT_COMPACT_DISABLE_REWRITES";
/// Emscripten SDK root (as set by `emsdk_env.sh`); `$EMSDK/upstream/emscripten/emcc` is tried.
pub const EMSDK: &str = "EMSDK";

/// Reads environment variables and remembers which ones were read.
#[derive(Debug, Default)]
pub struct Env {
    target: Option<String>,
    cargo: bool,
    read: RefCell<BTreeSet<String>>,
}

impl Env {
    /// Plain environment, no cargo announcements (CLI use).
    pub fn new() -> Self {
        Self::default()
    }

    /// Environment of a build script: target-prefixed lookups and `rerun-if-env-changed` lines.
    pub fn for_build_script(target: Option<String>) -> Self {
        Env {
            target,
            cargo: true,
            read: RefCell::default(),
        }
    }

    /// The value of `name`, trying target-prefixed names first.
    pub fn get(&self, name: &str) -> Option<OsString> {
        for key in self.keys(name) {
            self.announce(&key);
            if let Some(v) = std::env::var_os(&key).filter(|v| !v.is_empty()) {
                return Some(v);
            }
        }
        None
    }

    /// True when `name` is set to something other than `0`, `false`, `no` or `off`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| {
            let v = v.to_string_lossy().to_ascii_lowercase();
            !matches!(v.as_str(), "0" | "false" | "no" | "off")
        })
    }

    fn keys(&self, name: &str) -> Vec<String> {
        let mut keys = Vec::with_capacity(3);
        if let Some(t) = &self.target {
            let t = t.replace('-', "_");
            keys.push(format!("{t}_{name}"));
            keys.push(format!("{}_{name}", t.to_ascii_uppercase()));
        }
        keys.push(name.to_string());
        keys
    }

    fn announce(&self, key: &str) {
        if self.read.borrow_mut().insert(key.to_string()) && self.cargo {
            println!("cargo:rerun-if-env-changed={key}");
        }
    }
}
