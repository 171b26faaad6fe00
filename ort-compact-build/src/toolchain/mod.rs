//! Find and check the tools the build needs: emcc (Emscripten ≥ 4), cmake (3.28 – 3.x),
//! ninja, protoc (3.21, the protobuf version ORT 1.21 compiles; built from the pinned sources
//! when none is found, see [`Toolchain::provide_protoc`]), node (≥ 18).
//!
//! emcc is looked up through `ORT_COMPACT_EMCC`, then `$EMSDK/upstream/emscripten/emcc`, then
//! `PATH`. Every failure says what to install or which variable to set.
//!
//! ```no_run
//! use ort_compact_build::tools::Toolchain;
//! let tools = Toolchain::detect()?;
//! println!("emcc {}", tools.emcc.version);
//! # Ok::<(), ort_compact_build::Error>(())
//! ```

mod protoc;

use crate::env::{self, Env};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::source::SourceTree;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Installing everything on the project's kind of machine.
const INSTALL_ALL: &str = "On Debian bookworm, scripts/install-toolchain.sh in the \
                           ort-compact-build repository installs every tool (README, Set-up, \
                           says what else it changes)";

/// A dotted version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Version {
    /// The first `a.b[.c]` number in `text`.
    pub fn find_in(text: &str) -> Option<Version> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|t| t.contains('.'))
            .find_map(|t| {
                let mut it = t
                    .split('.')
                    .filter(|p| !p.is_empty())
                    .map(str::parse::<u32>);
                let a = it.next()?.ok()?;
                let b = it.next()?.ok()?;
                let c = it.next().and_then(|r| r.ok()).unwrap_or(0);
                Some(Version(a, b, c))
            })
    }
}

/// A located tool and the version it reported.
#[derive(Debug, Clone)]
pub struct Tool {
    /// Path of the executable.
    pub path: PathBuf,
    /// Version it reported.
    pub version: Version,
}

/// Every tool the compact build needs.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// Emscripten's compiler driver.
    pub emcc: Tool,
    /// CMake.
    pub cmake: Tool,
    /// Ninja.
    pub ninja: Tool,
    /// Host protoc of the protobuf version ORT compiles; `None` when neither
    /// `ORT_COMPACT_PROTOC` nor `PATH` has a 3.21 release: [`Toolchain::provide_protoc`] then
    /// builds one from the pinned sources.
    pub protoc: Option<Tool>,
    /// Node.js (runs Emscripten's tools and the verification step).
    pub node: Tool,
    /// Closure compiler for `--closure 1` links, if one was found (`EM_CLOSURE_COMPILER`).
    pub closure_compiler: Option<PathBuf>,
    /// Binaryen's wasm-opt for the final size pass, if found (`ORT_COMPACT_WASM_OPT`, next to
    /// Emscripten as in emsdk, or `PATH`).
    pub wasm_opt: Option<PathBuf>,
}

struct Spec {
    tool: &'static str,
    min: Version,
    below: Option<Version>,
    version_arg: &'static str,
    hint: &'static str,
}

const EMCC: Spec = Spec {
    tool: "emcc",
    min: Version(4, 0, 0),
    below: None,
    version_arg: "--version",
    hint: "Install Emscripten >= 4 either way: emsdk (`./emsdk install latest && ./emsdk \
           activate latest && source ./emsdk_env.sh` in a clone of github.com/emscripten-core/emsdk, \
           which sets EMSDK), or your distribution's package when it is >= 4 (Debian sid: \
           `apt-get install -t sid emscripten`, which upgrades libc6 and more to sid; Homebrew: \
           `brew install emscripten`). Then put emcc on PATH, set EMSDK to the emsdk root, or set \
           ORT_COMPACT_EMCC to the emcc executable. Tested: Emscripten 6.0.5",
};
const CMAKE: Spec = Spec {
    tool: "cmake",
    min: Version(3, 28, 0),
    below: Some(Version(4, 0, 0)),
    version_arg: "--version",
    hint: "Install CMake 3.28 or newer but below 4 (`python3 -m pip install 'cmake>=3.28,<4'`) or \
           set ORT_COMPACT_CMAKE to such a cmake",
};
const NINJA: Spec = Spec {
    tool: "ninja",
    min: Version(1, 10, 0),
    below: None,
    version_arg: "--version",
    hint: "Install Ninja (Debian: `apt-get install ninja-build`)",
};
const PROTOC: Spec = Spec {
    tool: "protoc",
    min: Version(3, 21, 0),
    below: Some(Version(3, 22, 0)),
    version_arg: "--version",
    hint: "Install protoc 3.21.x, the protobuf ONNX Runtime 1.21 compiles (Debian bookworm: \
           `apt-get install protobuf-compiler`), or set ORT_COMPACT_PROTOC to one, or unset it \
           and one is built from the pinned sources",
};
const NODE: Spec = Spec {
    tool: "node",
    min: Version(18, 0, 0),
    below: None,
    version_arg: "--version",
    hint: "Install Node.js 18 or newer, or set ORT_COMPACT_NODE to a node executable",
};

impl Toolchain {
    /// Locate and check every tool, reading the overrides (`ORT_COMPACT_EMCC`, `EMSDK`,
    /// `ORT_COMPACT_CMAKE`, `ORT_COMPACT_PROTOC`, `ORT_COMPACT_NODE`, …) from the environment.
    pub fn detect() -> Result<Toolchain> {
        Self::detect_with(&Env::new())
    }

    /// [`Toolchain::detect`] with the overrides read through `env`.
    pub(crate) fn detect_with(env: &Env) -> Result<Toolchain> {
        Ok(Toolchain {
            emcc: find_emcc(env)?,
            cmake: find(env, &CMAKE, Some(env::CMAKE))?,
            ninja: find(env, &NINJA, None)?,
            protoc: find_protoc(env)?,
            node: find_node(env)?,
            closure_compiler: find_closure(env),
            wasm_opt: None,
        }
        .with_wasm_opt(env))
    }

    /// The protoc to build with; an error when there is none yet (see
    /// [`Toolchain::provide_protoc`]).
    pub fn protoc(&self) -> Result<&Tool> {
        self.protoc
            .as_ref()
            .ok_or_else(|| missing(&PROTOC, "not provided yet".into()))
    }

    /// Make sure there is a protoc: the one found, else one built earlier from `tree`'s pinned
    /// protobuf into the cache at `cache_root`, else build it now (a few minutes, once).
    pub fn provide_protoc(
        &mut self,
        tree: &SourceTree,
        cache_root: &Path,
        progress: &Progress,
    ) -> Result<&Tool> {
        if self.protoc.is_none() {
            let built = match protoc::cached(cache_root, tree) {
                Some(t) => t,
                None => protoc::build(self, tree, cache_root, progress)?,
            };
            self.protoc = Some(built);
        }
        self.protoc()
    }

    /// One line per tool, for reports.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for (name, t) in [
            ("emcc", &self.emcc),
            ("cmake", &self.cmake),
            ("ninja", &self.ninja),
            ("node", &self.node),
        ] {
            s.push_str(&format!(
                "{name:7} {:9} {}\n",
                t.version.to_string(),
                t.path.display()
            ));
        }
        match &self.protoc {
            Some(t) => s.push_str(&format!(
                "protoc  {:9} {}\n",
                t.version.to_string(),
                t.path.display()
            )),
            None => s.push_str(
                "protoc  (none 3.21: built from the pinned protobuf sources when first needed)\n",
            ),
        }
        match &self.closure_compiler {
            Some(c) => s.push_str(&format!("closure {:9} {}\n", "", c.display())),
            None => s.push_str("closure (none: the .mjs is not closure-minified)\n"),
        }
        match &self.wasm_opt {
            Some(w) => s.push_str(&format!("wasm-opt{:9} {}\n", "", w.display())),
            None => s.push_str("wasm-opt (none: no final size pass)\n"),
        }
        s
    }

    fn with_wasm_opt(mut self, env: &Env) -> Self {
        self.wasm_opt = env
            .get("ORT_COMPACT_WASM_OPT")
            .map(PathBuf::from)
            .or_else(|| {
                // emsdk: upstream/emscripten/emcc next to upstream/bin/wasm-opt.
                let p = self.emscripten_root().join("../bin/wasm-opt");
                p.is_file().then_some(p)
            })
            .or_else(|| which("wasm-opt"));
        self
    }

    /// Directory holding emcc (Emscripten's root), whose `cmake/Modules/Platform` has the
    /// toolchain file.
    pub fn emscripten_root(&self) -> PathBuf {
        let real =
            std::fs::canonicalize(&self.emcc.path).unwrap_or_else(|_| self.emcc.path.clone());
        real.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// protoc from `ORT_COMPACT_PROTOC` (which must be a 3.21 release), else a 3.21 protoc on
/// `PATH`, else `None` (another release on `PATH` is passed over: one is built instead).
fn find_protoc(env: &Env) -> Result<Option<Tool>> {
    if let Some(p) = env.get(env::PROTOC) {
        let p = PathBuf::from(p);
        return check(&p, &PROTOC, &format!("{}={}", env::PROTOC, p.display())).map(Some);
    }
    Ok(which("protoc").and_then(|p| check(&p, &PROTOC, "PATH").ok()))
}

/// Locate emcc alone (also used by Rust-mode links).
pub fn find_emcc(env: &Env) -> Result<Tool> {
    if let Some(p) = env.get(env::EMCC) {
        return check(
            Path::new(&p),
            &EMCC,
            &format!("{}={}", env::EMCC, Path::new(&p).display()),
        );
    }
    let mut searched = vec![format!("{} unset", env::EMCC)];
    if let Some(sdk) = env.get(env::EMSDK) {
        let p = PathBuf::from(sdk).join("upstream/emscripten/emcc");
        if p.is_file() {
            return check(&p, &EMCC, "EMSDK");
        }
        searched.push(format!("not in EMSDK ({})", p.display()));
    }
    match which("emcc") {
        Some(p) => check(&p, &EMCC, "PATH"),
        None => {
            searched.push("not on PATH".into());
            Err(missing(&EMCC, searched.join(", ")))
        }
    }
}

/// Locate node (`ORT_COMPACT_NODE`, else `PATH`) and check it is at least 18.
pub fn find_node(env: &Env) -> Result<Tool> {
    find(env, &NODE, Some(env::NODE))
}

/// Check that the node at `path` is at least 18.
pub fn check_node(path: &Path) -> Result<Tool> {
    check(path, &NODE, "the given path")
}

fn find(env: &Env, spec: &Spec, var: Option<&'static str>) -> Result<Tool> {
    if let Some(var) = var {
        if let Some(p) = env.get(var) {
            let p = PathBuf::from(p);
            return check(&p, spec, &format!("{var}={}", p.display()));
        }
    }
    match which(spec.tool) {
        Some(p) => check(&p, spec, "PATH"),
        None => Err(missing(spec, "not on PATH".into())),
    }
}

fn find_closure(env: &Env) -> Option<PathBuf> {
    if let Some(p) = env.get("EM_CLOSURE_COMPILER") {
        return Some(PathBuf::from(p));
    }
    let tools = env
        .get("ORT_COMPACT_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/ort-compact-build"));
    let p = tools.join("node_modules/.bin/google-closure-compiler");
    p.is_file().then_some(p)
}

fn missing(spec: &Spec, searched: String) -> Error {
    Error::ToolMissing {
        tool: spec.tool,
        searched,
        hint: format!("{}. {INSTALL_ALL}.", spec.hint),
    }
}

fn check(path: &Path, spec: &Spec, origin: &str) -> Result<Tool> {
    let out = Command::new(path)
        .arg(spec.version_arg)
        .output()
        .map_err(|e| Error::ToolMissing {
            tool: spec.tool,
            searched: format!("{} from {origin} cannot be run: {e}", path.display()),
            hint: format!("{}. {INSTALL_ALL}.", spec.hint),
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let first = text.lines().next().unwrap_or("").trim().to_string();
    let required = match spec.below {
        Some(b) => format!(">= {} and < {b}", spec.min),
        None => format!(">= {}", spec.min),
    };
    let too_old = |found: String| Error::ToolTooOld {
        tool: spec.tool,
        path: path.to_path_buf(),
        found,
        required: required.clone(),
        hint: format!("{}. {INSTALL_ALL}.", spec.hint),
    };
    // emcc's first line ends with its version; others print it first.
    let version = if spec.tool == "emcc" {
        first.split_whitespace().rev().find_map(Version::find_in)
    } else {
        Version::find_in(&first)
    };
    let version = match version {
        Some(v) if out.status.success() => v,
        _ => return Err(too_old(format!("unknown (it printed '{first}')"))),
    };
    if version < spec.min || spec.below.is_some_and(|b| version >= b) {
        return Err(too_old(version.to_string()));
    }
    Ok(Tool {
        path: path.to_path_buf(),
        version,
    })
}

/// Search `PATH` for an executable.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn finds_versions_in_tool_output() {
        assert_eq!(
            Version::find_in("cmake version 3.31.10"),
            Some(Version(3, 31, 10))
        );
        assert_eq!(Version::find_in("v20.20.2"), Some(Version(20, 20, 2)));
        assert_eq!(
            Version::find_in("libprotoc 3.21.12"),
            Some(Version(3, 21, 12))
        );
        assert_eq!(Version::find_in("1.11.1"), Some(Version(1, 11, 1)));
        assert_eq!(Version::find_in("no digits"), None);
    }
}
