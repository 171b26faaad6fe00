//! The bundle's precompressed siblings, kept by content hash: brotli-11 of a model of tens of
//! megabytes takes minutes, and a rebuild usually bundles the same runtime and model again.
//! Files over 1 MiB get brotli quality 10: measured on a 4.8 MB `.ort` (OCR detector) it took
//! 7.2 s instead of 13.7 s for 0.1 % more bytes (quality 9: 0.4 s, but 1.2 % more).

use crate::error::{Error, Result};
use crate::outputs;
use crate::progress::Progress;
use crate::util::sha256_bytes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files larger than this get brotli quality 10 instead of 11.
const QUALITY_10_ABOVE: usize = 1 << 20;

/// The brotli quality for `len` bytes.
pub fn quality(len: usize) -> i32 {
    if len > QUALITY_10_ABOVE {
        10
    } else {
        11
    }
}

/// Brotli and gzip encodings of one file.
pub struct Encodings {
    /// brotli, quality [`quality`].
    pub br: Vec<u8>,
    /// gzip -9.
    pub gzip: Vec<u8>,
    /// Both came from the cache.
    pub cached: bool,
}

/// Compresses, remembering results under `cache` (`<sha256>.br` / `.gz`) when there is one,
/// and the encodings of each file name it was given.
pub struct Compressor {
    cache: Option<PathBuf>,
    done: BTreeMap<String, Encodings>,
}

impl Compressor {
    /// A compressor that keeps its results in `cache` (`None`: nothing is kept).
    pub fn new(cache: Option<&Path>) -> Compressor {
        Compressor {
            cache: cache.map(Path::to_path_buf),
            done: BTreeMap::new(),
        }
    }

    /// The encodings of the bundle file `name` holding `bytes` (computed once per name), with
    /// a progress line when they are made.
    pub fn file(&mut self, name: &str, bytes: &[u8], progress: &Progress) -> Result<&Encodings> {
        if !self.done.contains_key(name) {
            let started = std::time::Instant::now();
            let e = self.encode(bytes)?;
            progress.say(format!(
                "bundle: {name} ({} KB; brotli-{} {} KB, gzip-9 {} KB, {})",
                bytes.len() / 1024,
                quality(bytes.len()),
                e.br.len() / 1024,
                e.gzip.len() / 1024,
                match e.cached {
                    true => "cached".to_string(),
                    false => format!("{:.1} s", started.elapsed().as_secs_f64()),
                }
            ));
            self.done.insert(name.to_string(), e);
        }
        Ok(&self.done[name])
    }

    /// The encodings of `bytes`, from the cache or computed (brotli and gzip in parallel).
    pub fn encode(&self, bytes: &[u8]) -> Result<Encodings> {
        let sha = sha256_bytes(bytes);
        let q = quality(bytes.len());
        let path = |ext: &str| self.cache.as_ref().map(|c| c.join(format!("{sha}.{ext}")));
        let br_ext = format!("q{q}.br");
        let known = |ext: &str| path(ext).and_then(|p| std::fs::read(p).ok());
        if let (Some(br), Some(gzip)) = (known(&br_ext), known("gz")) {
            // A hit renews the entries' date: `cache prune` removes those unused for 30 days.
            for ext in [br_ext.as_str(), "gz"] {
                if let Some(p) = path(ext) {
                    let now = std::time::SystemTime::now();
                    let _ = std::fs::File::options()
                        .write(true)
                        .open(p)
                        .and_then(|f| f.set_modified(now));
                }
            }
            return Ok(Encodings {
                br,
                gzip,
                cached: true,
            });
        }
        let (br, gzip) = std::thread::scope(|s| {
            let br = s.spawn(|| outputs::brotli_at(bytes, q));
            let gzip = outputs::gzip(bytes);
            (br.join().unwrap_or_default(), gzip)
        });
        if br.is_empty() || gzip.is_empty() {
            return Err(Error::Config(format!(
                "compressing {} bytes failed (out of memory?)",
                bytes.len()
            )));
        }
        if let Some(dir) = &self.cache {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
            for (ext, data) in [(br_ext.as_str(), &br), ("gz", &gzip)] {
                outputs::write_atomic(dir, &format!("{sha}.{ext}"), data)?;
            }
        }
        Ok(Encodings {
            br,
            gzip,
            cached: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_encode_comes_from_the_cache_and_decodes_to_the_input() {
        let tmp = tempfile::tempdir().unwrap();
        let c = Compressor::new(Some(tmp.path()));
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let first = c.encode(&data).unwrap();
        assert!(!first.cached);
        let again = c.encode(&data).unwrap();
        assert!(again.cached);
        assert_eq!((&first.br, &first.gzip), (&again.br, &again.gzip));
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &again.br[..], &mut out).unwrap();
        assert_eq!(out, data);
        assert!(!Compressor::new(None).encode(&data).unwrap().cached);
    }
}
