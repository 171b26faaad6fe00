//! Fetch pinned archives from Debian's archive by package name, then verify their sha256.
//!
//! apt itself says where a file lives (`apt-get source --print-uris`, `apt-get download
//! --print-uris`), so the mirror is whatever the machine's apt is configured with; `curl`
//! downloads it into a temporary file that is renamed into place only after its hash matched.

use super::pins::{DebianRef, PinnedSource};
use crate::error::{Error, Result};
use crate::util::sha256_file;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Make sure `downloads/<file>` exists and has the pinned hash; fetch it if allowed.
pub fn ensure_archive(pin: &PinnedSource, downloads: &Path, offline: bool) -> Result<PathBuf> {
    let (Some(file), Some(sha), Some(deb)) = (&pin.file, &pin.sha256, pin.debian_ref()) else {
        return Err(Error::Config(format!(
            "source '{}' has no archive",
            pin.name
        )));
    };
    let path = downloads.join(file);
    if !path.exists() {
        if offline {
            return Err(Error::MissingArchive {
                path,
                hint: format!(
                    "offline mode ({}) forbids downloading it; unset that variable or put {} \
                     into that directory",
                    crate::env::OFFLINE,
                    describe(&deb)
                ),
            });
        }
        download(&deb, file, &path)?;
    }
    verify(&path, sha)?;
    Ok(path)
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

fn describe(deb: &DebianRef) -> String {
    let kind = if deb.is_source { "source" } else { "binary" };
    format!(
        "Debian {} {kind} package {}={}",
        deb.suite, deb.package, deb.version
    )
}

fn download(deb: &DebianRef, file: &str, dest: &Path) -> Result<()> {
    let missing = |why: String| Error::MissingArchive {
        path: dest.to_path_buf(),
        hint: format!(
            "{why}. It is {}; on Debian/Ubuntu run scripts/install-toolchain.sh (adds Debian's \
             {} suite to apt with low priority), or download the file by hand into {}, or set {} \
             to an ONNX Runtime 1.21.0 checkout",
            describe(deb),
            deb.suite,
            dest.parent().unwrap_or(dest).display(),
            crate::env::ORT_SOURCE_DIR,
        ),
    };
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
        .map_err(|e| missing(format!("apt-get could not be run ({e})")))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let uri = listing
        .lines()
        .filter_map(parse_uri_line)
        .find(|(_, name)| name == file)
        .map(|(uri, _)| uri)
        .ok_or_else(|| {
            let stderr = String::from_utf8_lossy(&out.stderr);
            missing(format!(
                "apt does not know {file} ({})",
                stderr.trim().lines().last().unwrap_or("no match")
            ))
        })?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("creating a temporary file in", dir, e))?;
    let status = Command::new("curl")
        .args(["-fsSL", "--retry", "3", "-o"])
        .arg(tmp.path())
        .arg(&uri)
        .status()
        .map_err(|e| missing(format!("curl could not be run ({e}); install curl")))?;
    if !status.success() {
        return Err(missing(format!("downloading {uri} failed ({status})")));
    }
    tmp.persist(dest)
        .map_err(|e| Error::io("moving the download to", dest, e.error))?;
    Ok(())
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
