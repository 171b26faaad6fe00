//! The output directory: runtime files, `.ort` models, the operator config and `manifest.json`
//! with sha256 and raw / gzip / brotli sizes of every file.

use crate::error::Result;
use crate::signature::Signature;
use crate::util::sha256_bytes;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the runtime's WebAssembly file in an output directory.
pub const WASM_FILE: &str = "ort-wasm.wasm";
/// Name of the runtime's ES module in an output directory.
pub const MJS_FILE: &str = "ort-wasm.mjs";
/// Name of the static library in an output directory.
pub const STATIC_LIB_FILE: &str = "libonnxruntime_webassembly.a";
/// Name of the operator config in an output directory.
pub const CONFIG_FILE: &str = "required_operators.config";
/// Name of the manifest in an output directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Sizes and hash of one output file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileInfo {
    /// File name inside the output directory.
    pub name: String,
    /// sha256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub raw: u64,
    /// Size after `gzip -9` (`None`: not measured).
    pub gzip: Option<u64>,
    /// Size after brotli quality 11 (`None`: not measured).
    pub brotli: Option<u64>,
}

impl FileInfo {
    /// Hash and raw size of `bytes` stored as `name`; compressed sizes not measured.
    pub fn raw(name: &str, bytes: &[u8]) -> FileInfo {
        FileInfo {
            name: name.to_string(),
            sha256: sha256_bytes(bytes),
            raw: bytes.len() as u64,
            gzip: None,
            brotli: None,
        }
    }

    /// Measure `bytes` stored as `name`, compressed sizes included, except for the static
    /// library (tens of MB of LLVM bitcode that is never shipped as is; brotli-11 on it takes
    /// minutes).
    pub fn measure(name: &str, bytes: &[u8]) -> FileInfo {
        Self::measure_cached(name, bytes, None)
    }

    /// Like [`FileInfo::measure`], reusing sizes recorded under `cache` (a directory of
    /// `<sha256>.json` files): compressed sizes depend only on the content, and brotli -11 of a
    /// megabyte takes about a second, which would dominate a cache hit.
    pub fn measure_cached(name: &str, bytes: &[u8], cache: Option<&Path>) -> FileInfo {
        let sha256 = sha256_bytes(bytes);
        let record = cache.map(|dir| dir.join(format!("{sha256}.json")));
        let known = record
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<(u64, u64)>(&b).ok());
        if name == STATIC_LIB_FILE {
            return FileInfo::raw(name, bytes);
        }
        let (gzip, brotli) = known.unwrap_or_else(|| (gzip_size(bytes), brotli_size(bytes)));
        if let (Some(path), None) = (&record, known) {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = crate::util::write_atomic(path, format!("[{gzip},{brotli}]").as_bytes());
        }
        FileInfo {
            name: name.to_string(),
            sha256,
            raw: bytes.len() as u64,
            gzip: Some(gzip),
            brotli: Some(brotli),
        }
    }
}

fn gzip_size(bytes: &[u8]) -> u64 {
    gzip(bytes).len() as u64
}

fn brotli_size(bytes: &[u8]) -> u64 {
    brotli(bytes).len() as u64
}

/// `bytes` compressed with gzip -9 (empty if the encoder fails).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// `bytes` compressed with brotli quality 11, 16 MiB window (empty if the encoder fails).
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    brotli_at(bytes, 11)
}

/// `bytes` compressed with brotli at `quality` (0-11), 16 MiB window (empty if it fails).
pub fn brotli_at(bytes: &[u8], quality: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin: 24,
        ..Default::default()
    };
    match brotli::BrotliCompress(&mut std::io::Cursor::new(bytes), &mut out, &params) {
        Ok(_) => out,
        Err(_) => Vec::new(),
    }
}

/// One model of the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    /// Stem used for file names and generated code.
    pub name: String,
    /// The `.ort` file in the output directory.
    pub ort: String,
    /// The model file it came from.
    pub source: PathBuf,
    /// The graph optimization level it was converted at (absent for an `.ort` input, written
    /// as given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_optimization: Option<crate::optimize::GraphOptimization>,
    /// Rewrites of that level turned off (absent when none were).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disabled_rewrites: Vec<crate::optimize::Rewrite>,
    /// Inputs.
    pub inputs: Vec<crate::signature::TensorSignature>,
    /// Outputs.
    pub outputs: Vec<crate::signature::TensorSignature>,
}

impl ModelEntry {
    /// Entry for a model named `name` with `signature`, its graph optimized by `optimizer`
    /// (`None`: an `.ort` input, written as given).
    pub fn new(
        name: &str,
        source: &Path,
        optimizer: Option<&crate::optimize::GraphOptimizer>,
        signature: &Signature,
    ) -> ModelEntry {
        ModelEntry {
            name: name.to_string(),
            ort: format!("{name}.ort"),
            source: source.to_path_buf(),
            graph_optimization: optimizer.map(|o| o.level()),
            disabled_rewrites: optimizer.map(|o| o.disabled()).unwrap_or_default(),
            inputs: signature.inputs.clone(),
            outputs: signature.outputs.clone(),
        }
    }
}

/// `manifest.json` of an output directory.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// ONNX Runtime version.
    pub ort_version: String,
    /// This crate and its version.
    pub generator: String,
    /// Tool versions used for the runtime.
    pub toolchain: serde_json::Value,
    /// Build flags of the runtime.
    pub flags: serde_json::Value,
    /// Cache key of the runtime.
    pub runtime_key: String,
    /// Build id of the JS-mode pair (in the `.wasm`'s custom section and the `.mjs` guard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// The operator config lines.
    pub operators: Vec<String>,
    /// The models.
    pub models: Vec<ModelEntry>,
    /// Every file of the directory except the manifest.
    pub files: Vec<FileInfo>,
}

/// Write `bytes` to `dir/name` atomically (temporary file in `dir`, then rename); returns the path.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let dest = dir.join(name);
    crate::util::write_atomic(&dest, bytes)?;
    Ok(dest)
}

/// Human-readable size table of `files` against stock onnxruntime-web 1.21.0's wasm.
pub fn size_report(files: &[FileInfo]) -> String {
    const STOCK_RAW: u64 = 12_666_427;
    const STOCK_BROTLI: u64 = 2_021_160;
    let mut s = format!(
        "{:<28} {:>10} {:>10} {:>10}\n",
        "file", "raw", "gzip", "brotli"
    );
    let size = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    for f in files {
        s.push_str(&format!(
            "{:<28} {:>10} {:>10} {:>10}\n",
            f.name,
            f.raw,
            size(f.gzip),
            size(f.brotli)
        ));
    }
    if let Some((w, brotli)) = files
        .iter()
        .find(|f| f.name == WASM_FILE)
        .and_then(|w| Some((w, w.brotli?)))
    {
        s.push_str(&format!(
            "stock onnxruntime-web 1.21.0 ort-wasm-simd-threaded.wasm: {STOCK_RAW} raw, {STOCK_BROTLI} brotli\n\
             {WASM_FILE} is {:.1}x smaller raw and {:.1}x smaller brotli than stock\n",
            STOCK_RAW as f64 / w.raw.max(1) as f64,
            STOCK_BROTLI as f64 / brotli.max(1) as f64
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_sizes_are_measured_only_when_asked_and_never_for_the_static_lib() {
        let bytes = vec![7u8; 4096];
        let raw = FileInfo::raw(WASM_FILE, &bytes);
        assert_eq!((raw.raw, raw.gzip, raw.brotli), (4096, None, None));
        let measured = FileInfo::measure(WASM_FILE, &bytes);
        assert_eq!(measured.sha256, raw.sha256);
        assert!(measured.brotli.unwrap() < 100 && measured.gzip.unwrap() < 100);
        let lib = FileInfo::measure(STATIC_LIB_FILE, &bytes);
        assert_eq!((lib.gzip, lib.brotli), (None, None));
        let report = size_report(&[raw]);
        assert!(
            report.contains("ort-wasm.wasm") && report.contains(" -"),
            "{report}"
        );
        assert!(
            !report.contains("smaller"),
            "no ratio without a brotli size"
        );
        let report = size_report(&[measured]);
        assert!(report.contains("smaller brotli than stock"), "{report}");
    }

    #[test]
    fn remembered_sizes_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"some model bytes".repeat(100);
        let first = FileInfo::measure_cached("m.ort", &bytes, Some(dir.path()));
        let record = dir.path().join(format!("{}.json", first.sha256));
        assert!(record.is_file());
        std::fs::write(&record, "[1,2]").unwrap();
        let again = FileInfo::measure_cached("m.ort", &bytes, Some(dir.path()));
        assert_eq!((again.gzip, again.brotli), (Some(1), Some(2)));
    }
}
