//! Find each pinned archive and check its sha256. Places are tried in order: the downloads
//! cache, the mirrors the user names (`ORT_COMPACT_MIRROR`, [`super::Provisioner::mirror`]),
//! then apt where apt exists (`apt-get source|download --print-uris` says where its configured
//! archive holds the file). Each failure is kept for the report. A download lands in
//! `<file>.partial` (a later run resumes it) and enters the cache by a rename only after its
//! hash matched: no host name is built in.

use super::download::{Http, READ_TIMEOUT};
use super::mirror::{Mirror, Place};
use super::pins::{DebianRef, PinnedSource};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::util::sha256_file;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Finds archives for one provisioning run.
pub(super) struct Fetcher<'a> {
    downloads: &'a Path,
    offline: bool,
    mirrors: &'a [Mirror],
    apt: bool,
    read_timeout: Duration,
    progress: &'a Progress,
    http: OnceCell<Http>,
}

/// An archive that could not be had, and what was tried.
struct Missing {
    file: String,
    sha256: String,
    pool: Option<String>,
    tried: Vec<String>,
}

impl<'a> Fetcher<'a> {
    /// A fetcher filling `downloads`.
    pub fn new(
        downloads: &'a Path,
        offline: bool,
        mirrors: &'a [Mirror],
        progress: &'a Progress,
    ) -> Fetcher<'a> {
        Fetcher {
            downloads,
            offline,
            mirrors,
            apt: true,
            read_timeout: READ_TIMEOUT,
            progress,
            http: OnceCell::new(),
        }
    }

    /// Give up on a server silent for this long (tests use a short one).
    #[cfg(test)]
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = t;
        self
    }

    /// Leave apt out (tests: asking apt takes seconds).
    #[cfg(test)]
    pub fn without_apt(mut self) -> Self {
        self.apt = false;
        self
    }

    /// The verified archive of every pin that has one (in `pins` order), fetching what is
    /// missing. One error names every archive that could not be had, with its sha256 and what
    /// was tried; nothing unverified enters the cache.
    pub fn ensure_all(&self, pins: &[&PinnedSource]) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(self.downloads)
            .map_err(|e| Error::io("creating", self.downloads, e))?;
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for pin in pins {
            match self.ensure(pin)? {
                Ok(path) => found.push(path),
                Err(m) => missing.push(m),
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(self.unavailable(&missing))
        }
    }

    /// `Ok(Ok(path))`: the archive is in the cache. `Ok(Err(..))`: it could not be had.
    /// `Err`: a cached copy is corrupt, or the pin names no archive.
    fn ensure(&self, pin: &PinnedSource) -> Result<std::result::Result<PathBuf, Missing>> {
        let (Some(file), Some(sha)) = (&pin.file, &pin.sha256) else {
            return Ok(Err(Missing::of(pin, vec![])));
        };
        let path = self.downloads.join(file);
        if path.exists() {
            verify(&path, sha)?;
            return Ok(Ok(path));
        }
        let partial = self.downloads.join(format!("{file}.partial"));
        let mut tried = Vec::new();
        let mut places = self.mirror_places(pin, file, &mut tried).into_iter();
        // apt is asked (seconds) only when no mirror had the file.
        let found = places
            .find_map(|place| self.attempt(place, &partial, sha, &mut tried))
            .or_else(|| {
                let place = self.apt_place(pin, file, &mut tried)?;
                self.attempt(place, &partial, sha, &mut tried)
            });
        match found {
            Some(place) => self.keep(&partial, &path, &place, &tried).map(Ok),
            None => Ok(Err(Missing::of(pin, tried))),
        }
    }

    /// `place` when it gave the file with hash `sha` (now in `partial`); else why not goes into
    /// `tried`.
    fn attempt(
        &self,
        place: Place,
        partial: &Path,
        sha: &str,
        tried: &mut Vec<String>,
    ) -> Option<Place> {
        match self.fetch(&place, partial, sha) {
            Ok(()) => Some(place),
            Err(why) => {
                tried.push(format!("{place}: {why}"));
                None
            }
        }
    }

    /// The places of the mirrors that may hold `file` (URLs only when online; the others go
    /// into `tried`).
    fn mirror_places(&self, pin: &PinnedSource, file: &str, tried: &mut Vec<String>) -> Vec<Place> {
        let pool = pin.pool_path();
        let places: Vec<Place> = self
            .mirrors
            .iter()
            .flat_map(|m| m.places(pool.as_deref(), file))
            .collect();
        if !self.offline {
            return places;
        }
        let (files, urls): (Vec<Place>, Vec<Place>) = places
            .into_iter()
            .partition(|p| matches!(p, Place::File(_)));
        for place in urls {
            tried.push(format!(
                "{place}: not downloaded, {} is set",
                crate::env::OFFLINE
            ));
        }
        files
    }

    /// Where apt's configured archive holds `file`, if apt may be asked and knows it; else why
    /// not goes into `tried`.
    fn apt_place(&self, pin: &PinnedSource, file: &str, tried: &mut Vec<String>) -> Option<Place> {
        if self.offline {
            tried.push(format!("apt: not asked, {} is set", crate::env::OFFLINE));
            return None;
        }
        if !self.apt {
            return None;
        }
        match pin.debian_ref().map(|deb| apt_uri(&deb, file)) {
            None => tried.push("apt: the pin names no Debian package".into()),
            Some(Err(why)) => tried.push(format!("apt: {why}")),
            Some(Ok(uri)) => return Some(Place::Url(uri)),
        }
        None
    }

    /// Gets `place` into `partial` with the pinned hash; `Err` says why not (a wrong file is
    /// deleted, a broken download kept for resuming).
    fn fetch(&self, place: &Place, partial: &Path, sha: &str) -> std::result::Result<(), String> {
        match place {
            Place::File(src) => {
                if !src.is_file() {
                    return Err("no such file".into());
                }
                std::fs::copy(src, partial).map_err(|e| format!("cannot copy it: {e}"))?;
                self.checked(partial, sha)
            }
            Place::Url(url) => {
                let resumed = partial.exists();
                self.http().fetch(url, partial, self.progress)?;
                match self.checked(partial, sha) {
                    // The earlier part may have come from elsewhere: once more from the start.
                    Err(_) if resumed => {
                        self.http().fetch(url, partial, self.progress)?;
                        self.checked(partial, sha)
                    }
                    r => r,
                }
            }
        }
    }

    /// Whether `partial` has hash `sha`; a file with another hash is deleted.
    fn checked(&self, partial: &Path, sha: &str) -> std::result::Result<(), String> {
        let actual = sha256_file(partial).map_err(|e| e.to_string())?;
        if actual.eq_ignore_ascii_case(sha) {
            return Ok(());
        }
        let _ = std::fs::remove_file(partial);
        Err(format!(
            "wrong bytes: sha256 {actual}, pinned {sha} (not kept)"
        ))
    }

    /// Moves the verified `partial` into the cache as `path`.
    fn keep(&self, partial: &Path, path: &Path, from: &Place, tried: &[String]) -> Result<PathBuf> {
        std::fs::rename(partial, path).map_err(|e| Error::io("moving the download to", path, e))?;
        for t in tried {
            self.progress.say(format!("  not from {t}"));
        }
        self.progress.say(format!("fetched {from}"));
        Ok(path.to_path_buf())
    }

    fn http(&self) -> &Http {
        self.http.get_or_init(|| Http::new(self.read_timeout))
    }

    fn unavailable(&self, missing: &[Missing]) -> Error {
        let mut listing = String::new();
        for m in missing {
            listing.push_str(&format!("  {}  sha256 {}\n", m.file, m.sha256));
            if let Some(pool) = &m.pool {
                listing.push_str(&format!("    at <Debian mirror>/{pool}\n"));
            }
            for t in &m.tried {
                listing.push_str(&format!("    tried {t}\n"));
            }
        }
        let downloads = self.downloads.display();
        let hint = if self.offline {
            format!(
                "Offline mode ({}) forbids downloads: unset it, or put the files into \
                 {downloads} or into a directory mirror ({})",
                crate::env::OFFLINE,
                crate::env::MIRROR
            )
        } else {
            format!(
                "Provide them either way: set {} to mirrors to try in order, separated by \
                 spaces (the base URL or directory of any Debian mirror, the one holding \
                 `pool/`, or a URL or directory holding the files side by side); or put the \
                 files into {downloads}. On Debian, scripts/install-toolchain.sh lets \
                 apt find them instead",
                crate::env::MIRROR
            )
        };
        Error::ArchivesUnavailable {
            files: missing.iter().map(|m| m.file.clone()).collect(),
            listing,
            hint,
        }
    }
}

impl Missing {
    fn of(pin: &PinnedSource, tried: Vec<String>) -> Missing {
        Missing {
            file: pin.file.clone().unwrap_or_else(|| pin.name.clone()),
            sha256: pin.sha256.clone().unwrap_or_default(),
            pool: pin.pool_path(),
            tried,
        }
    }
}

/// Check a file against an expected sha256.
pub fn verify(path: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(path)?;
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(Error::HashMismatch {
            path: path.to_path_buf(),
            expected: expected.to_string(),
            actual,
        });
    }
    Ok(())
}

/// Where apt's configured archive holds `file` of `deb`.
fn apt_uri(deb: &DebianRef, file: &str) -> std::result::Result<String, String> {
    let spec = format!("{}={}", deb.package, deb.version);
    let mut cmd = Command::new("apt-get");
    cmd.args(["-q", "-o", "Acquire::Check-Valid-Until=false"]);
    if deb.is_source {
        cmd.args(["source", "--print-uris", &spec]);
    } else {
        cmd.args(["download", "--print-uris", &spec]);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("apt-get could not be run ({e})"))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    listing
        .lines()
        .filter_map(parse_uri_line)
        .find(|(_, name)| name == file)
        .map(|(uri, _)| uri)
        .ok_or_else(|| {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr
                .trim()
                .lines()
                .last()
                .unwrap_or("no match")
                .to_string();
            format!(
                "apt does not know {} {}={} ({last})",
                if deb.is_source { "source" } else { "package" },
                deb.package,
                deb.version
            )
        })
}

/// Parse one line of apt's `--print-uris` output: `'URI' FILE SIZE HASH`.
fn parse_uri_line(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('\'')?;
    let (uri, rest) = rest.split_once('\'')?;
    let name = rest.split_whitespace().next()?;
    Some((uri.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_uri_line;

    #[test]
    fn parses_apt_uri_lines() {
        let line = "'http://mirror/pool/main/r/re2/re2_20240702.orig.tar.gz' re2_20240702.orig.tar.gz 390672 SHA256:eb2d";
        let (uri, name) = parse_uri_line(line).expect("parsed");
        assert_eq!(
            uri,
            "http://mirror/pool/main/r/re2/re2_20240702.orig.tar.gz"
        );
        assert_eq!(name, "re2_20240702.orig.tar.gz");
        assert!(parse_uri_line("Need to get 38.0 MB of source archives.").is_none());
    }
}
