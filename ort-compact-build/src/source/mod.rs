//! Pinned, verified ONNX Runtime 1.21.0 sources and the third-party sources its build needs.
//!
//! [`Provisioner::provision`] assembles, once per pin set, a tree
//! `<cache>/sources/<key>/{onnxruntime,abseil,protobuf,…}`: each archive named in the pin file
//! (`vendor/pins.toml`) is fetched if missing (from the mirrors the user names, else through
//! apt; see `fetch`), checked against its sha256,
//! unpacked, patched, and the whole tree is renamed into place only when complete. Running it again
//! with everything present only computes the key and returns.
//!
//! ```no_run
//! use ort_compact_build::tools::Provisioner;
//! let tree = Provisioner::new("/tmp/ort-cache").offline(true).provision()?;
//! println!("ORT sources in {}", tree.ort_dir().display());
//! # Ok::<(), ort_compact_build::Error>(())
//! ```

mod download;
mod extract;
mod fetch;
mod mirror;
pub mod pins;
#[cfg(test)]
mod tests;

use fetch::Fetcher;
pub use mirror::Mirror;
pub use pins::Pins;

use crate::cache::{self, DirLock};
use crate::env::{self, Env};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::util::{run_logged, sha256_bytes};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the way trees are assembled changes (part of the cache key).
const LAYOUT_VERSION: &str = "1";

/// A complete, verified, patched source tree.
#[derive(Debug, Clone)]
pub struct SourceTree {
    root: PathBuf,
    key: String,
    dirs: BTreeMap<String, PathBuf>,
    fetchcontent: Vec<(String, PathBuf)>,
}

impl SourceTree {
    /// The tree's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The cache key of this tree (hash of pins, patches and overrides).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// ONNX Runtime's source directory.
    pub fn ort_dir(&self) -> &Path {
        &self.dirs["onnxruntime"]
    }

    /// The directory of the source named `name` in the pin file.
    pub fn dir(&self, name: &str) -> Option<&Path> {
        self.dirs.get(name).map(PathBuf::as_path)
    }

    /// `(FetchContent name, directory)` for every third-party source.
    pub fn fetchcontent_dirs(&self) -> &[(String, PathBuf)] {
        &self.fetchcontent
    }

    /// Directory holding `onnxruntime_c_api.h`.
    pub fn c_api_include_dir(&self) -> PathBuf {
        self.ort_dir().join("include/onnxruntime/core/session")
    }
}

/// Assembles [`SourceTree`]s in a cache directory.
#[derive(Debug, Clone)]
pub struct Provisioner {
    cache_dir: PathBuf,
    offline: bool,
    mirrors: Vec<String>,
    ort_source_dir: Option<PathBuf>,
    pins: Option<Pins>,
    progress: Progress,
}

impl Provisioner {
    /// A provisioner using `cache_dir` as cache root, online, with the bundled pins.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Provisioner {
            cache_dir: cache_dir.into(),
            offline: false,
            mirrors: Vec::new(),
            ort_source_dir: None,
            pins: None,
            progress: Progress::default(),
        }
    }

    /// A provisioner configured from the environment (`ORT_COMPACT_CACHE_DIR`,
    /// `ORT_COMPACT_OFFLINE`, `ORT_COMPACT_MIRROR`, `ORT_COMPACT_ORT_SOURCE_DIR`).
    pub fn from_environment() -> Self {
        Self::from_env(&Env::new())
    }

    /// [`Provisioner::from_environment`] with the variables read through `env`.
    pub(crate) fn from_env(env: &Env) -> Self {
        let mut p = Provisioner::new(cache::root(env));
        p.offline = env.flag(env::OFFLINE);
        if let Some(list) = env.get(env::MIRROR) {
            let list = list.to_string_lossy();
            p.mirrors = list.split_whitespace().map(str::to_string).collect();
        }
        p.ort_source_dir = env.get(env::ORT_SOURCE_DIR).map(PathBuf::from);
        p
    }

    /// Use `dir` as cache root.
    pub fn cache_root(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.cache_dir = dir.into();
        self
    }

    /// Forbid downloads: every archive must already be in `<cache>/downloads`.
    pub fn offline(&mut self, offline: bool) -> &mut Self {
        self.offline = offline;
        self
    }

    /// Also look for the pinned archives at `mirror`, after the mirrors named before and before
    /// apt: an `http://` or `https://` base URL, a `file://` URL or a directory, laid out as a
    /// Debian mirror (each archive at its `pool/` path) or flat. A mirror that cannot be used
    /// is an [`Error::BadMirror`] when provisioning.
    pub fn mirror(&mut self, mirror: impl Into<String>) -> &mut Self {
        self.mirrors.push(mirror.into());
        self
    }

    /// Use an existing ONNX Runtime 1.21.0 checkout instead of the pinned tarball.
    pub fn ort_source_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.ort_source_dir = Some(dir.into());
        self
    }

    /// Use these pins instead of the bundled `vendor/pins.toml`.
    pub fn pins(&mut self, pins: Pins) -> &mut Self {
        self.pins = Some(pins);
        self
    }

    /// Report progress here.
    pub fn progress(&mut self, progress: Progress) -> &mut Self {
        self.progress = progress;
        self
    }

    /// The cache root.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// The key of the tree [`Provisioner::provision`] would return (hash of pins, patches,
    /// overlays and overrides), without assembling anything.
    pub fn tree_key(&self) -> Result<String> {
        self.key(&self.current_pins()?)
    }

    /// File names of the pinned archives (kept in `<cache>/downloads`).
    pub fn archive_names(&self) -> Result<Vec<String>> {
        Ok(self
            .current_pins()?
            .sources
            .into_iter()
            .filter_map(|s| s.file)
            .collect())
    }

    fn current_pins(&self) -> Result<Pins> {
        match &self.pins {
            Some(p) => Ok(p.clone()),
            None => Pins::bundled(),
        }
    }

    /// Assemble the tree if needed and return it.
    pub fn provision(&self) -> Result<SourceTree> {
        let mirrors = self
            .mirrors
            .iter()
            .map(|m| Mirror::parse(m))
            .collect::<Result<Vec<_>>>()?;
        let pins = self.current_pins()?;
        let key = self.key(&pins)?;
        let sources = self.cache_dir.join("sources");
        let final_dir = sources.join(&key);
        if !final_dir.is_dir() {
            let _lock = DirLock::acquire(&sources)?;
            if !final_dir.is_dir() {
                cache::remove_stale_temps(&sources, ".tmp-");
                self.assemble(&pins, &mirrors, &sources, &final_dir)?;
            }
        }
        // Build directories record source paths: always hand out the real path.
        let root =
            std::fs::canonicalize(&final_dir).map_err(|e| Error::io("resolving", &final_dir, e))?;
        Ok(tree(&pins, root, key))
    }

    /// Whether `s` comes from the user's checkout instead of its archive.
    fn overrides(&self, s: &pins::PinnedSource) -> bool {
        s.name == "onnxruntime" && self.ort_source_dir.is_some()
    }

    fn key(&self, pins: &Pins) -> Result<String> {
        let mut material = format!("layout {LAYOUT_VERSION}\n{}\n", pins.key_text());
        for p in &pins.patches {
            if let Some(file) = &p.file {
                let path = pins.resolve(file);
                let text =
                    std::fs::read(&path).map_err(|e| Error::io("reading patch", &path, e))?;
                material.push_str(&format!("patch {file} {}\n", sha256_bytes(&text)));
            }
        }
        for s in &pins.sources {
            if let Some(overlay) = &s.overlay {
                material.push_str(&format!(
                    "overlay {overlay} {}\n",
                    hash_tree(&pins.resolve(overlay))?
                ));
            }
        }
        if let Some(dir) = &self.ort_source_dir {
            material.push_str(&format!("ort override {}\n", dir.display()));
        }
        Ok(sha256_bytes(material.as_bytes())[..16].to_string())
    }

    fn assemble(
        &self,
        pins: &Pins,
        mirrors: &[Mirror],
        sources: &Path,
        final_dir: &Path,
    ) -> Result<()> {
        let downloads = self.cache_dir.join("downloads");
        std::fs::create_dir_all(&downloads).map_err(|e| Error::io("creating", &downloads, e))?;
        let archived: Vec<&pins::PinnedSource> = pins
            .sources
            .iter()
            .filter(|s| s.from.is_none() && !self.overrides(s))
            .collect();
        let fetcher = Fetcher::new(&downloads, self.offline, mirrors, &self.progress);
        let paths = fetcher.ensure_all(&archived)?;
        let archives: BTreeMap<&str, PathBuf> = archived
            .iter()
            .map(|s| s.name.as_str())
            .zip(paths)
            .collect();
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(sources)
            .map_err(|e| Error::io("creating a temporary directory in", sources, e))?;
        let log = sources.join(format!(
            "{}.log",
            final_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("provision")
        ));
        let _ = std::fs::remove_file(&log);
        for s in &pins.sources {
            let dest = tmp.path().join(&s.name);
            if s.name == "onnxruntime" {
                if let Some(user) = &self.ort_source_dir {
                    self.progress
                        .say(format!("copying ONNX Runtime checkout {}", user.display()));
                    check_user_checkout(user, &pins.ort_version)?;
                    extract::copy_tree(user, &dest)?;
                    continue;
                }
            }
            if let Some(from) = &s.from {
                let src = tmp.path().join(from);
                if !src.is_dir() {
                    return Err(Error::PinFile {
                        path: PathBuf::from(pins::BUNDLED_PINS_NAME),
                        reason: format!(
                            "source '{}': `from` directory {from} does not exist",
                            s.name
                        ),
                    });
                }
                extract::copy_tree(&src, &dest)?;
                continue;
            }
            let Some(archive) = archives.get(s.name.as_str()) else {
                continue;
            };
            self.progress
                .say(format!("unpacking {} {}", s.name, s.version));
            extract::unpack(archive, &dest, &s.include, s.root.as_deref(), &log)?;
            if let Some(overlay) = &s.overlay {
                extract::copy_tree(&pins.resolve(overlay), &dest)?;
            }
        }
        for p in &pins.patches {
            let file = match (&p.file, &p.ort_file) {
                (Some(f), _) => pins.resolve(f),
                (None, Some(f)) => tmp.path().join("onnxruntime").join(f),
                (None, None) => continue,
            };
            self.progress
                .say(format!("patching {}: {}", p.source, p.why));
            run_logged(
                Command::new("patch")
                    .args([
                        "-p1",
                        "--forward",
                        "--batch",
                        "--ignore-whitespace",
                        "-F3",
                        "-d",
                    ])
                    .arg(tmp.path().join(&p.source))
                    .arg("-i")
                    .arg(&file),
                &format!("applying patch {} to {}", file.display(), p.source),
                &log,
            )?;
        }
        let tmp_path = tmp.keep();
        std::fs::rename(&tmp_path, final_dir)
            .map_err(|e| Error::io("moving sources into", final_dir, e))?;
        self.progress
            .say(format!("sources ready in {}", final_dir.display()));
        Ok(())
    }
}

fn tree(pins: &Pins, root: PathBuf, key: String) -> SourceTree {
    let dirs: BTreeMap<String, PathBuf> = pins
        .sources
        .iter()
        .map(|s| (s.name.clone(), root.join(&s.name)))
        .collect();
    let fetchcontent = pins
        .sources
        .iter()
        .filter(|s| !s.fetchcontent.is_empty())
        .map(|s| (s.fetchcontent.clone(), root.join(&s.name)))
        .collect();
    SourceTree {
        root,
        key,
        dirs,
        fetchcontent,
    }
}

fn check_user_checkout(dir: &Path, version: &str) -> Result<()> {
    let bad = |reason: String| Error::BadSourceDir {
        path: dir.to_path_buf(),
        var: env::ORT_SOURCE_DIR,
        reason,
    };
    let vfile = dir.join("VERSION_NUMBER");
    let found = std::fs::read_to_string(&vfile).map_err(|e| {
        bad(format!(
            "no readable VERSION_NUMBER ({e}); is this an ONNX Runtime checkout?"
        ))
    })?;
    if found.trim() != version {
        return Err(bad(format!(
            "it is version {}, but {version} is required",
            found.trim()
        )));
    }
    if !dir.join("cmake/CMakeLists.txt").is_file() {
        return Err(bad("cmake/CMakeLists.txt is missing".into()));
    }
    Ok(())
}

/// Hash of every file's relative path and content below `dir`, in sorted order.
fn hash_tree(dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort();
    let mut material = String::new();
    for rel in files {
        let bytes =
            std::fs::read(dir.join(&rel)).map_err(|e| Error::io("reading", dir.join(&rel), e))?;
        material.push_str(&format!("{} {}\n", rel.display(), sha256_bytes(&bytes)));
    }
    Ok(sha256_bytes(material.as_bytes()))
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("reading", dir, e))? {
        let entry = entry.map_err(|e| Error::io("reading", dir, e))?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_path_buf());
        }
    }
    Ok(())
}
