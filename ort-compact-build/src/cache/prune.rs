//! Which cache entries the current source tree still uses, and removing the others.
//!
//! Every change of the pins or patches gives the source tree a new key, and with it new
//! `sources/<key>/`, `work/<tags>-<key8>/` and `artifacts/` entries; the old ones (about 0.5 GB
//! of sources, 0.1–0.3 GB per warm build dir) stay until pruned.
//!
//! The public entry points are [`crate::tools::survey_cache`] and [`crate::tools::prune_cache`]:
//!
//! ```no_run
//! use ort_compact_build::tools::{prune_cache, survey_cache};
//! let survey = survey_cache(None)?; // ORT_COMPACT_CACHE_DIR, else ~/.cache/ort-compact-build
//! for (entry, outcome) in prune_cache(&survey)? {
//!     println!("{} {outcome:?}", entry.path.display());
//! }
//! # Ok::<(), ort_compact_build::Error>(())
//! ```

use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Name of the file in an `artifacts/<key>/` entry that records what the runtime was built from
/// (one `name value` pair per line, among them `sources <source key>`).
pub const RUNTIME_KEY_FILE: &str = "runtime-key.txt";

/// The areas of the cache root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `downloads/`: verified source archives.
    Downloads,
    /// `sources/<key>/`: assembled, patched source trees.
    Sources,
    /// `work/<tags>-<key8>/`: warm build directories.
    Work,
    /// `artifacts/<key>/`: finished runtimes.
    Artifacts,
    /// `compressed/<sha256>.*`: a bundle's brotli / gzip siblings by content hash.
    Compressed,
}

/// Compressed siblings unused for longer than this are stale (a cache hit renews the date).
pub const COMPRESSED_KEPT: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

impl Area {
    /// Every area, in the order a survey lists them.
    pub const ALL: [Area; 5] = [
        Area::Downloads,
        Area::Sources,
        Area::Work,
        Area::Artifacts,
        Area::Compressed,
    ];

    /// The directory name of the area under the cache root.
    pub fn dir_name(self) -> &'static str {
        match self {
            Area::Downloads => "downloads",
            Area::Sources => "sources",
            Area::Work => "work",
            Area::Artifacts => "artifacts",
            Area::Compressed => "compressed",
        }
    }
}

/// What the current configuration uses.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    /// Key of the source tree builds use now ([`crate::source::Provisioner::tree_key`]).
    pub source_key: &'a str,
    /// File names of the pinned archives in `downloads/`.
    pub archives: &'a [String],
}

/// One top-level entry of a cache area.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its area.
    pub area: Area,
    /// Its path.
    pub path: PathBuf,
    /// Bytes of the files under it.
    pub bytes: u64,
    /// Whether the current configuration uses it.
    pub current: bool,
}

/// What pruning did with an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Removed.
    Removed,
    /// Left alone: a build holds its lock.
    InUse,
}

/// List the entries of every area under `root` (temporary and lock files excluded), marking
/// those `current` uses.
pub fn survey(root: &Path, current: &Current) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for area in Area::ALL {
        let dir = root.join(area.dir_name());
        let Ok(list) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = list
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name);
            entries.push(Entry {
                area,
                current: is_current(area, &name, &path, current),
                bytes: disk_bytes(&path),
                path,
            });
        }
    }
    Ok(entries)
}

fn is_current(area: Area, name: &str, path: &Path, current: &Current) -> bool {
    let key = current.source_key;
    match area {
        Area::Downloads => current.archives.iter().any(|a| a == name),
        // The tree and its provisioning log.
        Area::Sources => name.strip_suffix(".log").unwrap_or(name) == key,
        // `<tags>-<first 8 characters of the key>`.
        Area::Work => name
            .rsplit_once('-')
            .is_some_and(|(_, k)| k.len() >= 8 && key.starts_with(k)),
        // Entries written before runtime keys were recorded count as stale: rebuilding one in a
        // warm build dir is a short incremental build.
        Area::Artifacts => std::fs::read_to_string(path.join(RUNTIME_KEY_FILE))
            .is_ok_and(|text| text.lines().any(|l| l == format!("sources {key}"))),
        Area::Compressed => std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age < COMPRESSED_KEPT),
    }
}

fn disk_bytes(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|list| list.flatten().map(|e| disk_bytes(&e.path())).sum())
        .unwrap_or(0)
}

/// Remove `entries` (normally the non-current ones of [`survey`]). A warm build dir whose lock
/// a running build holds is left alone. Each entry is first renamed to a `.tmp-prune-*` sibling,
/// so an interrupted prune never leaves a half-deleted entry that looks complete; such leftovers
/// are removed by the next prune (or by the next build's cleanup of stale temporaries).
pub fn prune(root: &Path, entries: &[Entry]) -> Result<Vec<(Entry, Outcome)>> {
    let mut done = Vec::new();
    for area in Area::ALL {
        let dir = root.join(area.dir_name());
        crate::cache::remove_stale_temps(&dir, ".tmp-prune-");
    }
    for entry in entries {
        // Held while the entry is renamed away; dropped before the files go.
        let lock = match entry.area {
            Area::Work => match try_lock(&entry.path.join(".lock"))? {
                Some(lock) => Some(lock),
                None => {
                    done.push((entry.clone(), Outcome::InUse));
                    continue;
                }
            },
            _ => None,
        };
        let name = entry.path.file_name().unwrap_or_default().to_string_lossy();
        let doomed = entry.path.with_file_name(format!(".tmp-prune-{name}"));
        std::fs::rename(&entry.path, &doomed)
            .map_err(|e| Error::io("moving aside", &entry.path, e))?;
        drop(lock);
        let removed = if doomed.is_dir() {
            std::fs::remove_dir_all(&doomed)
        } else {
            std::fs::remove_file(&doomed)
        };
        removed.map_err(|e| Error::io("removing", &doomed, e))?;
        done.push((entry.clone(), Outcome::Removed));
    }
    Ok(done)
}

/// The lock at `path`, or `None` if a build holds it.
fn try_lock(path: &Path) -> Result<Option<File>> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("opening lock file", path, e))?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(Some(file)),
        Err(fs4::TryLockError::WouldBlock) => Ok(None),
        Err(fs4::TryLockError::Error(e)) => Err(Error::io("locking", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::DirLock;

    const KEY: &str = "0123456789abcdef";

    fn put(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn fake_cache() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        put(r, "downloads/ort.tar.xz", "ort");
        put(r, "downloads/old.tar.xz", "old!");
        put(r, &format!("sources/{KEY}/onnxruntime/x.cc"), "x");
        put(r, &format!("sources/{KEY}.log"), "log");
        put(r, "sources/fedcba9876543210/onnxruntime/x.cc", "old");
        put(r, "sources/.lock", "");
        put(r, "work/simd-01234567/build.ninja", "b");
        put(r, "work/simd-ml-fedcba98/build.ninja", "old");
        put(r, "work/scalar-fedcba98/build.ninja", "old");
        put(
            r,
            "artifacts/aaaa/runtime-key.txt",
            &format!("recipe 2\nsources {KEY}\n"),
        );
        put(
            r,
            "artifacts/bbbb/runtime-key.txt",
            "recipe 2\nsources fedcba9876543210\n",
        );
        put(
            r,
            "artifacts/cccc/config.txt",
            "written before runtime keys",
        );
        put(r, "artifacts/.tmp-dddd-x/ort-wasm.wasm", "half-written");
        put(r, "compressed/0a1b.q11.br", "br");
        put(r, "compressed/9f8e.gz", "gz");
        let old = std::time::SystemTime::now() - COMPRESSED_KEPT - COMPRESSED_KEPT / 10;
        let f = File::options()
            .write(true)
            .open(r.join("compressed/9f8e.gz"))
            .unwrap();
        f.set_modified(old).unwrap();
        t
    }

    /// The fake cache surveyed with `KEY` current and only `ort.tar.xz` pinned.
    fn surveyed(root: &Path) -> Vec<Entry> {
        let archives = ["ort.tar.xz".to_string()];
        let current = Current {
            source_key: KEY,
            archives: &archives,
        };
        survey(root, &current).unwrap()
    }

    fn names(entries: &[Entry], current: bool) -> Vec<String> {
        entries
            .iter()
            .filter(|e| e.current == current)
            .map(|e| {
                let area = e.area.dir_name();
                format!("{area}/{}", e.path.file_name().unwrap().to_string_lossy())
            })
            .collect()
    }

    #[test]
    fn survey_marks_what_the_current_tree_uses() {
        let t = fake_cache();
        let entries = surveyed(t.path());
        assert_eq!(
            names(&entries, true),
            [
                "downloads/ort.tar.xz",
                &format!("sources/{KEY}"),
                &format!("sources/{KEY}.log"),
                "work/simd-01234567",
                "artifacts/aaaa",
                "compressed/0a1b.q11.br",
            ]
        );
        assert_eq!(
            names(&entries, false),
            [
                "downloads/old.tar.xz",
                "sources/fedcba9876543210",
                "work/scalar-fedcba98",
                "work/simd-ml-fedcba98",
                "artifacts/bbbb",
                "artifacts/cccc",
                "compressed/9f8e.gz",
            ]
        );
        let old = entries
            .iter()
            .find(|e| e.path.ends_with("old.tar.xz"))
            .unwrap();
        assert_eq!(old.bytes, 4);
    }

    #[test]
    fn prune_removes_stale_entries_but_not_a_build_dir_in_use() {
        let t = fake_cache();
        let stale: Vec<Entry> = surveyed(t.path())
            .into_iter()
            .filter(|e| !e.current)
            .collect();
        let busy = t.path().join("work/simd-ml-fedcba98");
        let held = DirLock::acquire(&busy).unwrap();
        let done = prune(t.path(), &stale).unwrap();
        drop(held);
        for (e, outcome) in &done {
            let expected = if e.path == busy {
                Outcome::InUse
            } else {
                Outcome::Removed
            };
            assert_eq!(*outcome, expected, "{}", e.path.display());
            assert_eq!(e.path.exists(), e.path == busy, "{}", e.path.display());
        }
        assert_eq!(done.len(), 7);
        let after = surveyed(t.path());
        assert_eq!(names(&after, false), ["work/simd-ml-fedcba98"]);
        assert_eq!(names(&after, true).len(), 6);
        // Nothing of the moved-aside entries is left behind.
        for area in Area::ALL {
            for e in std::fs::read_dir(t.path().join(area.dir_name()))
                .unwrap()
                .flatten()
            {
                let name = e.file_name().to_string_lossy().into_owned();
                assert!(!name.starts_with(".tmp-prune-"), "{name}");
            }
        }
    }
}
