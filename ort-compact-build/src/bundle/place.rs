//! Where a bundle goes: the destination is checked before any work, the bundle is staged in a
//! temporary directory next to it and renamed into place.

use super::MANIFEST_FILE;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// What is at the destination now.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Nothing,
    EmptyDir,
    /// An earlier bundle: replaced whole.
    Bundle,
}

/// A checked destination.
#[derive(Debug)]
pub struct Destination {
    dir: PathBuf,
    parent: PathBuf,
    found: Found,
}

impl Destination {
    /// Check `dir`: it may be missing, empty, or an earlier bundle (a `manifest.json` with
    /// `bundle_format` listing every file there); anything else is refused.
    pub fn check(dir: &Path) -> Result<Destination> {
        let refuse = |reason: String| Error::Bundle {
            dir: dir.to_path_buf(),
            reason,
        };
        dir.file_name()
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .ok_or_else(|| {
                refuse("name a directory for the bundle (a path ending in a name)".into())
            })?;
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let found = match std::fs::symlink_metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Found::Nothing,
            Err(e) => return Err(Error::io("inspecting", dir, e)),
            Ok(m) if !m.is_dir() => {
                return Err(refuse(
                    "exists and is not a directory: choose another path or remove it".into(),
                ))
            }
            Ok(_) => classify(dir).map_err(refuse)?,
        };
        Ok(Destination {
            dir: dir.to_path_buf(),
            parent,
            found,
        })
    }

    /// A temporary directory next to the destination (same file system, so the final rename is
    /// atomic), readable by a web server.
    pub fn staging(&self) -> Result<tempfile::TempDir> {
        std::fs::create_dir_all(&self.parent)
            .map_err(|e| Error::io("creating", &self.parent, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-bundle-")
            .tempdir_in(&self.parent)
            .map_err(|e| Error::io("creating a temporary directory in", &self.parent, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io("setting permissions of", tmp.path(), e))?;
        }
        Ok(tmp)
    }

    /// Move the finished `staging` directory to the destination, replacing what was there.
    pub fn replace_with(self, staging: tempfile::TempDir) -> Result<()> {
        let rename = |from: &Path, to: &Path| {
            std::fs::rename(from, to).map_err(|e| Error::io("renaming into", to, e))
        };
        match self.found {
            Found::Nothing => rename(&staging.keep(), &self.dir),
            Found::EmptyDir => {
                std::fs::remove_dir(&self.dir)
                    .map_err(|e| Error::io("replacing the empty directory", &self.dir, e))?;
                rename(&staging.keep(), &self.dir)
            }
            Found::Bundle => {
                // The old bundle moves aside into a directory that is deleted afterwards.
                let old = tempfile::Builder::new()
                    .prefix(".tmp-bundle-old-")
                    .tempdir_in(&self.parent)
                    .map_err(|e| Error::io("creating a temporary directory in", &self.parent, e))?;
                let aside = old.path().join("bundle");
                rename(&self.dir, &aside)?;
                if let Err(e) = rename(staging.path(), &self.dir) {
                    let _ = std::fs::rename(&aside, &self.dir);
                    return Err(e);
                }
                let _ = staging.keep();
                drop(old);
                Ok(())
            }
        }
    }
}

/// What an existing directory holds, or why it cannot be a bundle destination.
fn classify(dir: &Path) -> std::result::Result<Found, String> {
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot be read ({e})"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(Found::EmptyDir);
    }
    let listed = listed_files(&dir.join(MANIFEST_FILE)).ok_or_else(|| {
        format!(
            "exists and holds other files ({}), not an ort-compact bundle: choose a new or empty \
             directory, or remove this one",
            sample(&entries)
        )
    })?;
    let foreign: Vec<String> = entries
        .into_iter()
        .filter(|e| e != MANIFEST_FILE && !listed.contains(e))
        .collect();
    if foreign.is_empty() {
        Ok(Found::Bundle)
    } else {
        Err(format!(
            "holds an ort-compact bundle plus other files ({}), which replacing it would delete: \
             move them elsewhere, or choose another directory",
            sample(&foreign)
        ))
    }
}

/// The files (and their precompressed siblings) a bundle manifest lists; `None` if the file is
/// not a bundle manifest.
fn listed_files(manifest: &Path) -> Option<Vec<String>> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(manifest).ok()?).ok()?;
    json.get("bundle_format")?.as_u64()?;
    let mut names = Vec::new();
    for f in json.get("files")?.as_array()? {
        for name in [&f["name"], &f["br"]["name"], &f["gzip"]["name"]] {
            names.push(name.as_str()?.to_string());
        }
    }
    Some(names)
}

fn sample(names: &[String]) -> String {
    let mut sorted = names.to_vec();
    sorted.sort();
    let shown: Vec<&str> = sorted.iter().take(3).map(String::as_str).collect();
    match sorted.len() {
        n if n > 3 => format!("{}, … {} in all", shown.join(", "), n),
        _ => shown.join(", "),
    }
}
