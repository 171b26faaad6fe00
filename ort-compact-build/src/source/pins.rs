//! The pin file (`vendor/pins.toml` inside this crate's package): which archives make up the
//! source tree, and their hashes.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The pin file shipped with this crate. It and the files it names (patches, shims) live in the
/// crate's own `vendor/` directory, so they are part of the published package; the repository's
/// top-level `vendor` is a link to it.
pub const BUNDLED_PINS: &str = include_str!("../../vendor/pins.toml");
/// Where the bundled pin file lives in the crate (for messages).
pub const BUNDLED_PINS_NAME: &str = "vendor/pins.toml";

/// Parsed pin file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pins {
    /// Format version of the pin file (1).
    pub schema: u32,
    /// The ONNX Runtime version the sources make up.
    pub ort_version: String,
    /// The sources, ONNX Runtime first.
    #[serde(rename = "source")]
    pub sources: Vec<PinnedSource>,
    /// Patches applied after extraction, in order.
    #[serde(rename = "patch", default)]
    pub patches: Vec<Patch>,
    /// The text the pins were parsed from (part of the cache key).
    #[serde(skip)]
    pub text: String,
    /// The directory relative paths (overlays, our patches) resolve against.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// One pinned source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedSource {
    /// Directory name in the assembled tree.
    pub name: String,
    /// Upstream version.
    pub version: String,
    /// FetchContent name in ORT's cmake ("" for ORT itself).
    pub fetchcontent: String,
    /// `suite/source|binary/package=version` in Debian's archive.
    #[serde(default)]
    pub debian: Option<String>,
    /// Archive file name.
    #[serde(default)]
    pub file: Option<String>,
    /// sha256 of the archive.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The archive's path below a Debian mirror's base (`pool/main/o/onnxruntime/<file>`).
    /// Derived from `debian` when absent, which works for source packages; a binary package's
    /// pool directory is named after its source package, so its pin states the path. Where an
    /// archive comes from does not change it (its sha256 is pinned): not part of the tree key.
    #[serde(default)]
    pub pool: Option<String>,
    /// For binary packages: paths inside the package to keep.
    #[serde(default)]
    pub include: Vec<String>,
    /// For binary packages: the directory inside the package that becomes the source dir.
    #[serde(default)]
    pub root: Option<String>,
    /// Instead of an archive: `othersource/path/inside`.
    #[serde(default)]
    pub from: Option<String>,
    /// Files of ours copied into the extracted source (relative to the pin file's directory).
    #[serde(default)]
    pub overlay: Option<String>,
}

/// A patch applied to one source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// Name of the source it applies to.
    pub source: String,
    /// A patch of ours, relative to the pin file's directory.
    #[serde(default)]
    pub file: Option<String>,
    /// A patch shipped inside ORT's own tree (e.g. `cmake/patches/onnx/onnx.patch`).
    #[serde(default)]
    pub ort_file: Option<String>,
    /// Why the patch exists.
    pub why: String,
}

/// How a source is obtained from Debian's archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianRef {
    /// Suite, e.g. `trixie`.
    pub suite: String,
    /// True for a source package (orig tarball), false for a binary `.deb`.
    pub is_source: bool,
    /// Package name.
    pub package: String,
    /// Debian version.
    pub version: String,
}

impl Pins {
    /// The pin file bundled with the crate; its patches and shims are read from the crate's
    /// source directory (as openssl-src reads its sources), which cargo keeps for as long as the
    /// crate is a dependency.
    pub fn bundled() -> Result<Pins> {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor");
        Self::parse(BUNDLED_PINS, Path::new(BUNDLED_PINS_NAME), Some(base))
    }

    /// Read a pin file from disk.
    pub fn load(path: &Path) -> Result<Pins> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::PinFile {
            path: path.to_path_buf(),
            reason: format!("cannot read it: {e}"),
        })?;
        Self::parse(&text, path, path.parent().map(Path::to_path_buf))
    }

    /// Parse pin-file text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path, base_dir: Option<PathBuf>) -> Result<Pins> {
        let bad = |reason: String| Error::PinFile {
            path: path.to_path_buf(),
            reason,
        };
        let mut pins: Pins = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if pins.schema != 1 {
            return Err(bad(format!(
                "unsupported schema {} (expected 1)",
                pins.schema
            )));
        }
        if pins.sources.first().map(|s| s.name.as_str()) != Some("onnxruntime") {
            return Err(bad("the first [[source]] must be 'onnxruntime'".into()));
        }
        for s in &pins.sources {
            let names = pins.sources.iter().filter(|o| o.name == s.name).count();
            if names > 1 || s.name.is_empty() || s.name.contains(['/', '\\', '.']) {
                return Err(bad(format!(
                    "source name '{}' is empty, repeated or not a plain name",
                    s.name
                )));
            }
            match (&s.from, &s.file, &s.sha256, &s.debian) {
                (Some(_), None, None, None) => {}
                (None, Some(_), Some(h), Some(d)) => {
                    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(bad(format!(
                            "source '{}': sha256 '{h}' is not 64 hex digits",
                            s.name
                        )));
                    }
                    s.debian_ref_from(d)
                        .map_err(|r| bad(format!("source '{}': {r}", s.name)))?;
                    if let Some(pool) = &s.pool {
                        check_pool_path(pool, s.file.as_deref().unwrap_or_default())
                            .map_err(|r| bad(format!("source '{}': {r}", s.name)))?;
                    }
                }
                _ => {
                    return Err(bad(format!(
                        "source '{}' needs either `from` alone or `file`, `sha256` and `debian`",
                        s.name
                    )))
                }
            }
        }
        for p in &pins.patches {
            if !pins.sources.iter().any(|s| s.name == p.source) {
                return Err(bad(format!("patch for unknown source '{}'", p.source)));
            }
            if p.file.is_some() == p.ort_file.is_some() {
                return Err(bad(format!(
                    "a patch of '{}' needs exactly one of `file`, `ort_file`",
                    p.source
                )));
            }
        }
        pins.text = text.to_string();
        pins.base_dir = base_dir;
        Ok(pins)
    }

    /// The pin file's text as far as it decides the source tree: without `pool` lines, which
    /// only say where an archive can be found.
    pub fn key_text(&self) -> String {
        let is_pool = |line: &str| {
            let rest = line.trim_start().strip_prefix("pool");
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        };
        self.text
            .split_inclusive('\n')
            .filter(|l| !is_pool(l))
            .collect()
    }

    /// Resolve a path relative to the pin file's directory.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        match &self.base_dir {
            Some(b) => b.join(rel),
            None => PathBuf::from(rel),
        }
    }
}

impl PinnedSource {
    /// The Debian reference of an archive-backed source.
    pub fn debian_ref(&self) -> Option<DebianRef> {
        self.debian
            .as_deref()
            .and_then(|d| self.debian_ref_from(d).ok())
    }

    /// The archive's path below a Debian mirror's base (`pool/…/<file>`): the pinned `pool`,
    /// else derived from the source package's name (Debian files a package `foo` under
    /// `pool/main/f/foo/`, a `libfoo` under `pool/main/libf/libfoo/`). `None` for a binary
    /// package without `pool`, or a source without an archive.
    pub fn pool_path(&self) -> Option<String> {
        if let Some(p) = &self.pool {
            return Some(p.clone());
        }
        let (deb, file) = (self.debian_ref()?, self.file.as_deref()?);
        let package = &deb.package;
        let prefix = if package.starts_with("lib") && package.len() > 3 {
            &package[..4]
        } else {
            package.get(..1)?
        };
        deb.is_source
            .then(|| format!("pool/main/{prefix}/{package}/{file}"))
    }

    fn debian_ref_from(&self, d: &str) -> std::result::Result<DebianRef, String> {
        let err = || format!("debian = '{d}' is not '<suite>/<source|binary>/<package>=<version>'");
        let mut parts = d.splitn(3, '/');
        let (suite, kind, pkg) = (parts.next(), parts.next(), parts.next());
        let (Some(suite), Some(kind), Some(pkg)) = (suite, kind, pkg) else {
            return Err(err());
        };
        let (package, version) = pkg.split_once('=').ok_or_else(err)?;
        let is_source = match kind {
            "source" => true,
            "binary" => false,
            _ => return Err(err()),
        };
        if suite.is_empty() || package.is_empty() || version.is_empty() {
            return Err(err());
        }
        Ok(DebianRef {
            suite: suite.into(),
            is_source,
            package: package.into(),
            version: version.into(),
        })
    }
}

/// Checks a pinned `pool` path: relative, below `pool/`, no `..`, ending in the archive's name.
fn check_pool_path(pool: &str, file: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = pool.split('/').collect();
    let plain = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != "..");
    if parts.first() != Some(&"pool") || !plain || parts.last() != Some(&file) {
        return Err(format!(
            "pool = '{pool}' is not 'pool/<section>/<dir>/<package>/{file}'"
        ));
    }
    Ok(())
}
