//! Writing generated files so that unchanged files keep their bytes *and* their mtime (ninja then
//! recompiles nothing), and changed files are replaced atomically ([`crate::util::write_atomic`]).

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` unless the file already holds exactly these bytes.
/// Returns whether the file was (re)written.
pub(crate) fn write_if_changed(path: &Path, contents: &[u8]) -> Result<bool> {
    match std::fs::read(path) {
        Ok(existing) if existing == contents => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("reading", path, e)),
    }
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("creating directory", parent, e))?;
    crate::util::write_atomic(path, contents)?;
    Ok(true)
}

/// Removes every file under `root` that is not in `keep`; returns what was removed (sorted).
/// A missing `root` is fine.
pub(crate) fn remove_stale(root: &Path, keep: &BTreeSet<PathBuf>) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("listing", &dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("listing", &dir, e))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| Error::io("inspecting", &path, e))?;
            if kind.is_dir() {
                stack.push(path);
            } else if !keep.contains(&path) {
                std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
                removed.push(path);
            }
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_file_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.cc");
        assert!(write_if_changed(&path, b"x").unwrap());
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(&path, b"x").unwrap());
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        assert!(write_if_changed(&path, b"y").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"y");
        std::fs::write(dir.path().join("a/stale.cc"), "z").unwrap();
        let keep: BTreeSet<PathBuf> = [path.clone()].into();
        let removed = remove_stale(dir.path(), &keep).unwrap();
        assert_eq!(removed, vec![dir.path().join("a/stale.cc")]);
        assert!(path.exists());
    }
}
