//! The cache directory and the lock that keeps two processes from writing the same entry.
//!
//! Layout under the root (`ORT_COMPACT_CACHE_DIR`, else `$XDG_CACHE_HOME/ort-compact-build`, else
//! `~/.cache/ort-compact-build`): `downloads/` (verified archives), `sources/<key>/` (assembled,
//! patched source trees), `work/` (warm build directories), `artifacts/<key>/` (finished outputs),
//! `sizes/` (compressed sizes by content hash).
//! Every entry is written to a temporary sibling and renamed into place, so an interrupted run
//! leaves nothing that looks complete. Entries of older source trees are found and removed by
//! [`prune`] (`ort-compact cache prune`).

use crate::env::{Env, CACHE_DIR};
use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

pub mod prune;

/// The cache root chosen from the environment.
pub fn root(env: &Env) -> PathBuf {
    if let Some(dir) = env.get(CACHE_DIR) {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("ort-compact-build");
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("ort-compact-build")
}

/// An exclusive lock on `<dir>/.lock`, released on drop.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Block until the lock on `dir` is ours (creating `dir` if needed).
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        Self::acquire_named(dir, ".lock")
    }

    /// Block until the lock file `dir/name` is ours: one lock per entry of a shared directory.
    pub fn acquire_named(dir: &Path, name: &str) -> Result<DirLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        let path = dir.join(name);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("opening lock file", &path, e))?;
        // fs4 rather than std's `File::lock` (Rust 1.89): the crate's MSRV is 1.85.
        fs4::FileExt::lock(&file).map_err(|e| Error::io("locking", &path, e))?;
        Ok(DirLock { _file: file })
    }
}

/// Remove leftovers of interrupted runs in `dir`: temporary entries starting with `own_prefix`
/// (the caller holds the lock of the entry they belong to, so no run is using them), and any
/// `.tmp-*` entry untouched for more than a day (no build takes that long).
pub fn remove_stale_temps(dir: &Path, own_prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = || {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > day)
        };
        if name.starts_with(own_prefix) || (name.starts_with(".tmp-") && old()) {
            let p = entry.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}
