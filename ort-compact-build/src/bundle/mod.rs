//! The deploy bundle: the runtime pair and the models under content-hashed names (cacheable
//! forever), each with `.br` and `.gz` siblings for servers that send precompressed files, and
//! `manifest.json` (the entry point, not hashed) with sha256 and SRI (sha384) of every file.
//! Written into a temporary directory next to the destination and renamed into place, so a
//! failed or interrupted build leaves the destination as it was.

mod compress;
pub(crate) mod float16;
mod place;
mod planes;

pub use float16::WireWeights;

use crate::error::{Error, Result};
use crate::outputs;
use crate::pair::StampedPair;
use crate::progress::Progress;
use crate::signature::TensorSignature;
use crate::util::sha256_bytes;
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha384};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Name of the bundle's manifest.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Name of the bundle's ES module loader (an entry point: not hashed).
pub const LOADER_FILE: &str = "loader.mjs";
/// Name of the preload-hints snippet.
pub const PRELOAD_FILE: &str = "preload.html";

const LOADER: &str = include_str!("loader.mjs");
/// Format version of the bundle manifest (`bundle_format`).
pub const FORMAT: u32 = 1;

/// A model to bundle.
pub struct ModelInput<'a> {
    /// Stem for the file name.
    pub name: &'a str,
    /// The `.ort` bytes.
    pub ort: &'a [u8],
    /// Inputs.
    pub inputs: &'a [TensorSignature],
    /// Outputs.
    pub outputs: &'a [TensorSignature],
}

/// One precompressed sibling of a bundle file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Encoded {
    /// File name in the bundle.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// One file of a bundle (its precompressed siblings included).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BundleFile {
    /// File name: content-hashed, except the entry points `loader.mjs` and `preload.html`.
    pub name: String,
    /// sha256 of the content, hex.
    pub sha256: String,
    /// Subresource Integrity value (`sha384-<base64>`), for `<script integrity>`,
    /// `<link rel=preload integrity>` and `fetch(…, {integrity})`.
    pub integrity: String,
    /// Size in bytes.
    pub size: u64,
    /// The brotli sibling (quality 11; 10 for files over 1 MiB).
    pub br: Encoded,
    /// The gzip -9 sibling.
    pub gzip: Encoded,
}

/// A model in the bundle manifest.
#[derive(Debug, Clone, Serialize)]
pub struct BundleModel {
    /// Stem of the model.
    pub name: String,
    /// Its `.ort` file in the bundle.
    pub file: String,
    /// The same bytes split into byte planes (see `planes`), what the loader downloads when it
    /// compresses better than the `.ort` (`None`: it does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planes: Option<String>,
    /// With [`WireWeights::Float16`] (opt-in, lossy): the float16 transport the loader
    /// downloads instead of the `.ort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub float16: Option<Float16Model>,
    /// Inputs.
    pub inputs: Vec<TensorSignature>,
    /// Outputs.
    pub outputs: Vec<TensorSignature>,
}

/// A model's float16 transport ([`WireWeights::Float16`]).
#[derive(Debug, Clone, Serialize)]
pub struct Float16Model {
    /// The transport file in the bundle (format: `MAGIC`, region table, the other bytes, the
    /// float16 values' low and high bytes; see the `bundle::float16` module).
    pub file: String,
    /// How many float32 tensors travel as float16 (the others, and everything else, travel
    /// exactly).
    pub tensors: usize,
    /// How many values they hold.
    pub values: usize,
    /// sha256 of the `.ort` the loader rebuilds (the original with those values rounded to
    /// float16): what the session runs.
    pub model_sha256: String,
}

impl BundleModel {
    /// The file the loader downloads for this model.
    pub fn fetched(&self) -> &str {
        let half = self.float16.as_ref().map(|h| &h.file);
        half.or(self.planes.as_ref()).unwrap_or(&self.file)
    }
}

/// The runtime pair's file names.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeFiles {
    /// The `.wasm`.
    pub wasm: String,
    /// The `.mjs` (point onnxruntime-web's `env.wasm.wasmPaths` at both).
    pub mjs: String,
}

/// The bundle's `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct BundleManifest {
    /// Format version of this manifest (1).
    pub bundle_format: u32,
    /// This crate and its version.
    pub generator: String,
    /// ONNX Runtime version.
    pub ort_version: String,
    /// The build id both runtime files carry.
    pub build_id: String,
    /// The runtime pair.
    pub runtime: RuntimeFiles,
    /// The ES module that loads runtime and model in parallel (`createSession(ort)`).
    pub loader: String,
    /// `<link>` preload hints for a page that uses the loader.
    pub preload: String,
    /// The models.
    pub models: Vec<BundleModel>,
    /// Every file except the manifest and the precompressed siblings (listed with their file).
    pub files: Vec<BundleFile>,
}

/// A bundle written to disk.
#[derive(Debug, Clone)]
pub struct Bundle {
    dir: PathBuf,
    manifest: BundleManifest,
}

impl Bundle {
    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Its `manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST_FILE)
    }
    /// What the manifest says.
    pub fn manifest(&self) -> &BundleManifest {
        &self.manifest
    }
}

/// Refuse a destination a bundle cannot be written to (before the build's long work).
pub fn check_destination(dir: &Path) -> Result<()> {
    place::Destination::check(dir).map(drop)
}

/// Write the bundle of `pair` and `models` to `dir`. `dir` must not exist, be empty, or hold an
/// earlier bundle (which is replaced whole); anything else is refused before any work.
/// Compressed siblings are kept by content hash in `compressed` (a cache directory) when given.
pub fn write(
    dir: &Path,
    pair: &StampedPair,
    models: &[ModelInput<'_>],
    compressed: Option<&Path>,
    wire: WireWeights,
    progress: &Progress,
) -> Result<Bundle> {
    let destination = place::Destination::check(dir)?;
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let wasm = add(&mut contents, dir, "ort-wasm", "wasm", pair.wasm.clone())?;
    let mjs = add(&mut contents, dir, "ort-wasm", "mjs", pair.mjs(&wasm))?;
    let mut bundle_models = Vec::new();
    for m in models {
        let file = add(&mut contents, dir, m.name, "ort", m.ort.to_vec())?;
        let float16 = match wire {
            WireWeights::Float16 => narrowed(&mut contents, dir, m, progress)?,
            WireWeights::Exact => None,
        };
        let split = planes::split(m.ort);
        let planes = match float16.is_none() && planes::pays_off(m.ort, &split) {
            true => Some(add(&mut contents, dir, m.name, "planes", split)?),
            false => None,
        };
        bundle_models.push(BundleModel {
            name: m.name.to_string(),
            file,
            planes,
            float16,
            inputs: m.inputs.to_vec(),
            outputs: m.outputs.to_vec(),
        });
    }
    let layout = Layout {
        build_id: &pair.build_id,
        contents: &contents,
        wasm: &wasm,
        mjs: &mjs,
        models: &bundle_models,
    };
    let (loader, preload) = (layout.loader_module(), layout.preload_hints(dir));
    contents.insert(LOADER_FILE.into(), loader.into_bytes());
    contents.insert(PRELOAD_FILE.into(), preload.into_bytes());
    let staging = destination.staging()?;
    let mut compressor = compress::Compressor::new(compressed);
    let mut files = Vec::new();
    for (name, bytes) in &contents {
        let encodings = compressor.file(name, bytes, progress)?;
        files.push(write_file(staging.path(), name, bytes, encodings)?);
    }
    let manifest = BundleManifest {
        bundle_format: FORMAT,
        generator: format!("ort-compact-build {}", env!("CARGO_PKG_VERSION")),
        ort_version: crate::ORT_VERSION.into(),
        build_id: pair.build_id.clone(),
        runtime: RuntimeFiles { wasm, mjs },
        loader: LOADER_FILE.into(),
        preload: PRELOAD_FILE.into(),
        models: bundle_models,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Config(format!("serialising the bundle manifest: {e}")))?;
    outputs::write_atomic(staging.path(), MANIFEST_FILE, &json)?;
    destination.replace_with(staging)?;
    Ok(Bundle {
        dir: dir.to_path_buf(),
        manifest,
    })
}

/// The float16 transport of model `m`, added to `contents` (`None`, said, when no tensor
/// qualifies).
fn narrowed(
    contents: &mut BTreeMap<String, Vec<u8>>,
    dir: &Path,
    m: &ModelInput<'_>,
    progress: &Progress,
) -> Result<Option<Float16Model>> {
    let Some(n) = float16::narrow(m.ort, m.name)? else {
        progress.say(format!(
            "bundle: {} has no float32 weights to send as float16; it travels exactly",
            m.name
        ));
        return Ok(None);
    };
    progress.say(format!(
        "bundle: {}: {} values of {} tensors travel as float16 (lossy, opted in)",
        m.name, n.floats, n.tensors
    ));
    Ok(Some(Float16Model {
        file: add(contents, dir, m.name, "f16", n.transport)?,
        tensors: n.tensors,
        values: n.floats,
        model_sha256: sha256_bytes(&n.widened),
    }))
}

/// Add `bytes` as `<stem>.<hash>.<ext>`; returns the name. Two contents under one name (a
/// truncated-hash collision) are refused.
fn add(
    contents: &mut BTreeMap<String, Vec<u8>>,
    dir: &Path,
    stem: &str,
    ext: &str,
    bytes: Vec<u8>,
) -> Result<String> {
    let name = hashed_name(stem, ext, &bytes);
    match contents.get(&name) {
        Some(existing) if *existing != bytes => Err(Error::Bundle {
            dir: dir.to_path_buf(),
            reason: format!(
                "two different files would both be named {name} (a content-hash collision); \
                 rename one of the models"
            ),
        }),
        _ => {
            contents.insert(name.clone(), bytes);
            Ok(name)
        }
    }
}

/// What the generated entry points name: the bundle's files, with their contents for SRI.
struct Layout<'a> {
    build_id: &'a str,
    contents: &'a BTreeMap<String, Vec<u8>>,
    wasm: &'a str,
    mjs: &'a str,
    models: &'a [BundleModel],
}

impl Layout<'_> {
    fn sri(&self, name: &str) -> String {
        integrity(&self.contents[name])
    }

    /// The loader: the template with the bundle's files and their SRI values.
    fn loader_module(&self) -> String {
        let file = |name: &str| serde_json::json!({"name": name, "integrity": self.sri(name)});
        let mut model_files = Vec::new();
        for m in self.models {
            let mut f = file(&m.file);
            f["model"] = m.name.clone().into();
            if let Some(planes) = &m.planes {
                f["planes"] = file(planes);
            }
            if let Some(half) = &m.float16 {
                f["float16"] = file(&half.file);
            }
            model_files.push(f);
        }
        let bundle = serde_json::json!({"wasm": file(self.wasm), "mjs": file(self.mjs), "models": model_files});
        LOADER
            .replace("@BUNDLE@", &bundle.to_string())
            .replace("@BUILD_ID@", self.build_id)
    }

    /// `<link>` hints that start the loader's downloads with the page; hrefs relative to the
    /// directory holding the bundle directory `dir`.
    fn preload_hints(&self, dir: &Path) -> String {
        let prefix = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let href = |name: &str| format!("{prefix}/{name}");
        let (build_id, mjs, wasm) = (self.build_id, self.mjs, self.wasm);
        let mut s = format!(
            "<!-- ort-compact-build bundle, build {build_id}: preload hints for a page that imports \
             {prefix}/{LOADER_FILE}. The hrefs assume the page is served from the directory that \
             holds \"{prefix}/\"; change the prefix otherwise. -->\n\
             <link rel=\"modulepreload\" href=\"{}\">\n\
             <link rel=\"modulepreload\" href=\"{}\" integrity=\"{}\">\n\
             <link rel=\"preload\" href=\"{}\" as=\"fetch\" type=\"application/wasm\" crossorigin integrity=\"{}\">\n",
            href(LOADER_FILE),
            href(mjs),
            self.sri(mjs),
            href(wasm),
            self.sri(wasm),
        );
        for m in self.models {
            let fetched = m.fetched();
            s.push_str(&format!(
                "<link rel=\"preload\" href=\"{}\" as=\"fetch\" crossorigin integrity=\"{}\">\n",
                href(fetched),
                self.sri(fetched)
            ));
        }
        s
    }
}

/// `<stem>.<first 16 hex digits of sha256>.<ext>`.
pub fn hashed_name(stem: &str, ext: &str, bytes: &[u8]) -> String {
    format!("{stem}.{}.{ext}", &sha256_bytes(bytes)[..16])
}

/// The SRI value of `bytes`.
pub fn integrity(bytes: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

fn write_file(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    encodings: &compress::Encodings,
) -> Result<BundleFile> {
    let sibling = |ext: &str, encoded: &[u8]| -> Result<Encoded> {
        let sibling = format!("{name}.{ext}");
        outputs::write_atomic(dir, &sibling, encoded)?;
        Ok(Encoded {
            name: sibling,
            size: encoded.len() as u64,
        })
    };
    let br = sibling("br", &encodings.br)?;
    let gzip = sibling("gz", &encodings.gzip)?;
    outputs::write_atomic(dir, name, bytes)?;
    Ok(BundleFile {
        name: name.to_string(),
        sha256: sha256_bytes(bytes),
        integrity: integrity(bytes),
        size: bytes.len() as u64,
        br,
        gzip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::ProgressMode;

    #[test]
    fn integrity_is_sri_sha384() {
        // `printf abc | openssl dgst -sha384 -binary | base64`
        assert_eq!(
            integrity(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
        assert_eq!(
            hashed_name("m", "ort", b"abc"),
            "m.ba7816bf8f01cfea.ort",
            "sha256(abc) starts ba7816bf8f01cfea"
        );
    }

    fn pair() -> StampedPair {
        let wasm = [0x00, b'a', b's', b'm', 1, 0, 0, 0];
        crate::pair::stamp(&wasm, b"async function f(a){return a}export default f;").unwrap()
    }

    fn write_models(dir: &Path, names: &[&str]) -> Result<Bundle> {
        let models: Vec<ModelInput> = names
            .iter()
            .map(|n| ModelInput {
                name: n,
                ort: n.as_bytes(),
                inputs: &[],
                outputs: &[],
            })
            .collect();
        write(
            dir,
            &pair(),
            &models,
            None,
            WireWeights::Exact,
            &Progress::new(ProgressMode::Silent),
        )
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn files_siblings_and_manifest_agree() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site/bundle");
        let b = write_models(&dir, &["a", "b"]).unwrap();
        let m = b.manifest();
        assert_eq!(
            m.files.len(),
            6,
            "wasm, mjs, two models, loader, preload hints"
        );
        assert_eq!(m.models[1].file, hashed_name("b", "ort", b"b"));
        let mjs = std::fs::read(dir.join(&m.runtime.mjs)).unwrap();
        assert!(String::from_utf8_lossy(&mjs).contains(&format!("\"{}\"", m.runtime.wasm)));
        for f in &m.files {
            let bytes = std::fs::read(dir.join(&f.name)).unwrap();
            assert_eq!(
                (f.size, &f.sha256),
                (bytes.len() as u64, &sha256_bytes(&bytes))
            );
            let entry = [LOADER_FILE, PRELOAD_FILE].contains(&f.name.as_str());
            assert!(entry || f.name.contains(&f.sha256[..16]), "{}", f.name);
            assert_eq!(f.integrity, integrity(&bytes));
            let mut unbr = Vec::new();
            let br = std::fs::read(dir.join(&f.br.name)).unwrap();
            brotli::BrotliDecompress(&mut &br[..], &mut unbr).unwrap();
            assert_eq!(unbr, bytes);
            let mut ungz = Vec::new();
            let gz = std::fs::read(dir.join(&f.gzip.name)).unwrap();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut ungz)
                .unwrap();
            assert_eq!(ungz, bytes);
        }
        assert_eq!(
            listing(&dir).len(),
            19,
            "6 files, 12 siblings, the manifest"
        );
        let loader = std::fs::read_to_string(dir.join(LOADER_FILE)).unwrap();
        let preload = std::fs::read_to_string(dir.join(PRELOAD_FILE)).unwrap();
        for f in m
            .files
            .iter()
            .filter(|f| f.name.ends_with(".ort") || f.name.starts_with("ort-wasm."))
        {
            let sri = format!("\"integrity\":\"{}\"", f.integrity);
            let name = format!("\"name\":\"{}\"", f.name);
            assert!(loader.contains(&sri) && loader.contains(&name), "{loader}");
            assert!(
                preload.contains(&format!("href=\"bundle/{}\"", f.name)),
                "{preload}"
            );
            assert!(preload.contains(&f.integrity), "{preload}");
        }
        assert!(
            loader.contains("\"model\":\"b\"") && !loader.contains('@'),
            "{loader}"
        );
        assert_eq!(
            listing(&tmp.path().join("site")),
            ["bundle"],
            "no staging left"
        );
    }

    #[test]
    fn an_earlier_bundle_is_replaced_whole_and_foreign_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        write_models(&dir, &["a"]).unwrap();
        let second = write_models(&dir, &["c"]).unwrap();
        let names = listing(&dir);
        assert!(names.contains(&second.manifest().models[0].file));
        assert!(!names.iter().any(|n| n.starts_with("a.")), "{names:?}");

        std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
        let before = listing(&dir);
        let err = write_models(&dir, &["d"]).unwrap_err().to_string();
        assert!(
            err.contains("index.html") && err.contains("would delete"),
            "{err}"
        );
        assert_eq!(listing(&dir), before, "untouched");
        assert_eq!(listing(tmp.path()), ["bundle"], "no staging left");

        let other = tmp.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "mine").unwrap();
        let err = write_models(&other, &["a"]).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && err.contains("not an ort-compact bundle"),
            "{err}"
        );
        let err = write_models(&other.join("notes.txt"), &["a"]).unwrap_err();
        assert!(err.to_string().contains("is not a directory"), "{err}");

        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        write_models(&empty, &["a"]).unwrap();
        assert_eq!(listing(&empty).len(), 16);
    }

    #[test]
    fn float_weights_travel_as_byte_planes_when_that_compresses_better() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        let weights: Vec<u8> = (0..40_000)
            .flat_map(|i| ((i as f32 * 0.37).sin() * 0.05).to_le_bytes())
            .collect();
        let models = [ModelInput {
            name: "w",
            ort: &weights,
            inputs: &[],
            outputs: &[],
        }];
        let b = write(
            &dir,
            &pair(),
            &models,
            None,
            WireWeights::Exact,
            &Progress::new(ProgressMode::Silent),
        )
        .unwrap();
        let m = &b.manifest().models[0];
        let planes = m.planes.as_ref().expect("planes kept");
        let on_disk = std::fs::read(dir.join(planes)).unwrap();
        assert_eq!(planes::join(&on_disk), weights);
        let size = |name: &str| {
            b.manifest()
                .files
                .iter()
                .find(|f| f.name == name)
                .unwrap()
                .br
                .size
        };
        assert!(size(planes) * 100 < size(&m.file) * 99);
        let loader = std::fs::read_to_string(dir.join(LOADER_FILE)).unwrap();
        assert!(loader.contains("\"planes\":{\"integrity\""), "{loader}");
        let preload = std::fs::read_to_string(dir.join(PRELOAD_FILE)).unwrap();
        assert!(
            preload.contains(planes) && !preload.contains(&m.file),
            "{preload}"
        );
    }

    #[test]
    fn a_name_collision_is_refused() {
        let mut contents = BTreeMap::new();
        contents.insert(hashed_name("m", "ort", b"x"), b"y".to_vec());
        let err = add(&mut contents, Path::new("b"), "m", "ort", b"x".to_vec()).unwrap_err();
        assert!(err.to_string().contains("collision"), "{err}");
        assert!(add(&mut contents, Path::new("b"), "m", "ort", b"y".to_vec()).is_ok());
    }
}
