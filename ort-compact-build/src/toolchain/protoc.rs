//! protoc, the compiler of the pinned protobuf, which ONNX Runtime's build runs on the host to
//! compile ONNX's `.proto` files. Taken from `ORT_COMPACT_PROTOC` or `PATH` when it is a 3.21
//! release; otherwise built once from the pinned protobuf sources with the host's C++ compiler
//! (CMake and Ninja, as the runtime is) into `<cache>/tools/protoc-3.21.12-<sources>/`.

use super::{check, which, Tool, Toolchain, PROTOC};
use crate::cache::{self, DirLock};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::source::SourceTree;
use crate::util::run_logged;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The protobuf release the pins hold.
const PINNED: &str = "3.21.12";

/// Where the protoc built from `tree` lives in the cache at `cache_root`.
fn home(cache_root: &Path, tree: &SourceTree) -> PathBuf {
    let key = tree.key().get(..8).unwrap_or(tree.key());
    cache_root
        .join("tools")
        .join(format!("protoc-{PINNED}-{key}"))
}

/// The protoc built earlier from `tree`'s protobuf, if the cache holds one that runs.
pub(super) fn cached(cache_root: &Path, tree: &SourceTree) -> Option<Tool> {
    let exe = home(cache_root, tree).join("protoc");
    exe.is_file()
        .then(|| check(&exe, &PROTOC, "the cache").ok())
        .flatten()
}

/// Builds protoc from `tree`'s protobuf sources into the cache (once; a later call finds it).
pub(super) fn build(
    tools: &Toolchain,
    tree: &SourceTree,
    cache_root: &Path,
    progress: &Progress,
) -> Result<Tool> {
    let dir = home(cache_root, tree);
    let parent = dir.parent().unwrap_or(cache_root).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("creating", &parent, e))?;
    let _lock = DirLock::acquire_named(&parent, ".lock-protoc")?;
    if let Some(t) = cached(cache_root, tree) {
        return Ok(t);
    }
    let source = tree.dir("protobuf").ok_or_else(|| {
        Error::Config("the pinned sources have no 'protobuf' to build protoc from".into())
    })?;
    host_compiler()?;
    cache::remove_stale_temps(&parent, ".tmp-protoc-");
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-protoc-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("creating a temporary directory in", &parent, e))?;
    let build = tmp.path().join("build");
    let log = parent.join(format!(
        "{}.log",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("protoc")
    ));
    let _ = std::fs::remove_file(&log);
    progress.say(format!(
        "no protoc 3.21 found: building protoc {PINNED} from the pinned sources (once; log {})",
        log.display()
    ));
    let mut configure = Command::new(&tools.cmake.path);
    configure
        .arg("-S")
        .arg(source)
        .arg("-B")
        .arg(&build)
        .args(["-G", "Ninja"])
        .arg(format!(
            "-DCMAKE_MAKE_PROGRAM={}",
            tools.ninja.path.display()
        ))
        .args([
            "-DCMAKE_BUILD_TYPE=Release",
            "-Dprotobuf_BUILD_TESTS=OFF",
            "-Dprotobuf_BUILD_SHARED_LIBS=OFF",
            "-Dprotobuf_WITH_ZLIB=OFF",
        ])
        // A host program: never the Emscripten toolchain a caller's environment may name.
        .env_remove("CMAKE_TOOLCHAIN_FILE");
    run_logged(&mut configure, "configuring protoc (cmake)", &log)?;
    let mut compile = Command::new(&tools.cmake.path);
    compile
        .arg("--build")
        .arg(&build)
        .args(["--target", "protoc"]);
    run_logged(&mut compile, "building protoc", &log)?;
    let exe = tmp.path().join("protoc");
    std::fs::copy(build.join("protoc"), &exe).map_err(|e| Error::io("copying", &exe, e))?;
    check(&exe, &PROTOC, "the build from the pinned sources")?;
    let kept = tmp.keep();
    std::fs::rename(&kept, &dir).map_err(|e| Error::io("moving protoc into", &dir, e))?;
    let _ = std::fs::remove_dir_all(dir.join("build"));
    progress.say(format!(
        "protoc {PINNED} built: {}",
        dir.join("protoc").display()
    ));
    check(&dir.join("protoc"), &PROTOC, "the cache")
}

/// A host C++ compiler for CMake to find (`CXX`, `c++`, `g++`, `clang++`).
fn host_compiler() -> Result<PathBuf> {
    let from_env = std::env::var_os("CXX")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    from_env
        .or_else(|| ["c++", "g++", "clang++"].into_iter().find_map(which))
        .ok_or_else(|| Error::ToolMissing {
            tool: "protoc",
            searched: "no protoc 3.21 on PATH or in ORT_COMPACT_PROTOC, and no host C++ compiler \
                       (CXX, c++, g++, clang++) to build it from the pinned sources"
                .into(),
            hint: format!(
                "Install a C++ compiler (Debian/Ubuntu: `apt-get install g++`; Fedora: `dnf \
                 install gcc-c++`; macOS: `xcode-select --install`) and it is built once, or \
                 install protoc {PINNED} and put it on PATH or in ORT_COMPACT_PROTOC"
            ),
        })
}
