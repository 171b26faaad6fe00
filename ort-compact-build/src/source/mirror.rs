//! Mirrors: places besides apt that hold the pinned archives. A mirror is a directory or an
//! HTTP(S) base URL, laid out either as a Debian mirror (each archive at its `pool/` path below
//! the base, as on every Debian mirror and on snapshot.debian.org) or flat (the files side by
//! side). Both layouts are tried, pool first.

use crate::error::{Error, Result};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::fmt;
use std::path::PathBuf;

/// Characters of an archive path that stay as they are in a URL (RFC 3986's unreserved ones
/// and `/`): `+`, which Debian's file names often hold, is escaped as apt escapes it.
const PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// One mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirror {
    /// A local directory (`/srv/debian`, `file:///srv/debian`, `./archives`).
    Dir(PathBuf),
    /// An `http://` or `https://` base URL, without a trailing `/`.
    Url(String),
}

/// One place a mirror may hold an archive at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A file.
    File(PathBuf),
    /// A URL.
    Url(String),
}

impl Mirror {
    /// Parses one mirror: an `http://` or `https://` URL, a `file://` URL or a path. Any other
    /// `scheme://` is an error.
    pub fn parse(spec: &str) -> Result<Mirror> {
        let spec = spec.trim();
        let bad = |reason: &str| Error::BadMirror {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        if spec.is_empty() {
            return Err(bad("it is empty"));
        }
        let Some((scheme, rest)) = spec.split_once("://") else {
            return Ok(Mirror::Dir(PathBuf::from(spec)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" if !rest.trim_matches('/').is_empty() => {
                Ok(Mirror::Url(spec.trim_end_matches('/').to_string()))
            }
            "http" | "https" => Err(bad("the URL names no host")),
            "file" if rest.starts_with('/') => Ok(Mirror::Dir(PathBuf::from(rest))),
            "file" => Err(bad(
                "a file URL needs an absolute path (file:///srv/mirror)",
            )),
            _ => Err(bad(&format!("unknown scheme '{scheme}'"))),
        }
    }

    /// Where this mirror may hold `file`: at `pool` (its path below a Debian mirror's base),
    /// then flat.
    pub fn places(&self, pool: Option<&str>, file: &str) -> Vec<Place> {
        let rels = pool.into_iter().chain([file]);
        match self {
            Mirror::Dir(dir) => rels.map(|r| Place::File(dir.join(r))).collect(),
            Mirror::Url(base) => rels
                .map(|r| Place::Url(format!("{base}/{}", utf8_percent_encode(r, PATH_KEEP))))
                .collect(),
        }
    }
}

impl fmt::Display for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mirror::Dir(d) => write!(f, "{}", d.display()),
            Mirror::Url(u) => f.write_str(u),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File(p) => write!(f, "{}", p.display()),
            Place::Url(u) => f.write_str(u),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_directories_and_refuses_other_schemes() {
        assert_eq!(
            Mirror::parse("https://mirror.example/debian/").unwrap(),
            Mirror::Url("https://mirror.example/debian".into())
        );
        assert_eq!(
            Mirror::parse("file:///srv/debian").unwrap(),
            Mirror::Dir("/srv/debian".into())
        );
        assert_eq!(
            Mirror::parse("./archives").unwrap(),
            Mirror::Dir("./archives".into())
        );
        for bad in [
            "ftp://mirror.example/debian",
            "http://",
            "file://relative",
            " ",
        ] {
            let err = Mirror::parse(bad).unwrap_err();
            assert!(matches!(err, Error::BadMirror { .. }), "{bad}: {err:?}");
        }
        let msg = Mirror::parse("ftp://m/debian").unwrap_err().to_string();
        assert!(msg.contains("unknown scheme 'ftp'"), "{msg}");
    }

    #[test]
    fn places_are_the_pool_path_then_flat_with_plus_escaped() {
        let m = Mirror::Url("http://h/debian".into());
        let places = m.places(Some("pool/main/o/onnx/a+b.tar.xz"), "a+b.tar.xz");
        assert_eq!(
            places,
            [
                Place::Url("http://h/debian/pool/main/o/onnx/a%2Bb.tar.xz".into()),
                Place::Url("http://h/debian/a%2Bb.tar.xz".into()),
            ]
        );
        let d = Mirror::Dir("/m".into());
        assert_eq!(d.places(None, "f.deb"), [Place::File("/m/f.deb".into())]);
    }
}
