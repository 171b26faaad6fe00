//! Time to first inference in headless Chromium: our deploy bundle, loaded the plain way
//! (onnxruntime-web's `wasmPaths`, session from the model's URL) and through the bundle's
//! `loader.mjs` with its preload hints (also from a second bundle with float16 weights on the
//! wire, `loader-f16`: opt-in and lossy), against stock onnxruntime-web 1.21.0 (its own
//! `ort-wasm-simd-threaded.wasm/.mjs` and the original `.onnx`), all served
//! brotli-encoded with immutable caching by a static server on 127.0.0.1, cold HTTP cache, CDP
//! network throttling (10 Mbit/s + 40 ms RTT, DevTools' slow 3G, none), alternating rounds.
//! Measured per visit: time to session ready and to the first result from navigation start,
//! bytes on the wire, wasm memory after the first run; then a repeat visit (warm HTTP cache).
//!
//! `bash scripts/dev/bench-models.sh && cargo bench -p ort-compact-build --bench ttfi` writes
//! target/bench-reports/ttfi.md. Each visit pair is stored in target/bench-reports/ttfi-items/
//! as soon as it is measured (keyed by the files' hashes), so a cut run resumes.
//! `BENCH_ONLY=mlp,silero,ocr-det` picks cases, `BENCH_PROFILES=10mbit,slow3g,none` profiles,
//! `BENCH_ROUNDS=n` (default 3) sets the rounds.
//! The driver is tests/js/ttfi.mjs; scripts/test.sh installs what it needs.

mod report;

use ort_compact_build::WireWeights;
use ort_compact_test_support::verify::{located, node, real_cache, run_ok, workspace};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the driver's measurement changes (part of every item's key).
const DRIVER_VERSION: &str = "1";

/// A network profile (CDP `Network.emulateNetworkConditions`).
pub struct Profile {
    pub id: &'static str,
    pub label: &'static str,
    /// (RTT ms, down kbit/s, up kbit/s); `None`: no throttling.
    pub conditions: Option<(u32, u32, u32)>,
}

pub const PROFILES: [Profile; 3] = [
    Profile {
        id: "10mbit",
        label: "10 Mbit/s, 40 ms RTT",
        conditions: Some((40, 10_000, 10_000)),
    },
    Profile {
        id: "slow3g",
        label: "slow 3G (DevTools: 400 kbit/s, 2000 ms RTT)",
        conditions: Some((2000, 400, 400)),
    },
    Profile {
        id: "none",
        label: "no throttling (loopback)",
        conditions: None,
    },
];

/// A benchmark model.
struct Case {
    id: &'static str,
    name: &'static str,
    model: PathBuf,
    /// Input specs for the page: name, type, dims, optional fill value.
    inputs: Value,
    /// Profiles it is measured under (slow 3G only for the smaller ones: stock takes minutes).
    profiles: &'static [&'static str],
}

fn cases(wanted: impl Fn(&str) -> bool) -> Vec<Case> {
    let bench_models = real_cache().join("bench-models");
    let all: [(&str, &dyn Fn() -> Case); 3] = [
        ("mlp", &|| Case {
            id: "mlp",
            name: "mlp-classifier (bundled default, 6 KB)",
            model: workspace().join("models/mlp-classifier.onnx"),
            inputs: json!([{"name": "features", "type": "float32", "dims": [1, 16]}]),
            profiles: &["10mbit", "slow3g", "none"],
        }),
        ("silero", &|| Case {
            id: "silero",
            name: "silero_vad 5.1.2 (2.3 MB)",
            model: located("silero_vad"),
            inputs: json!([
                {"name": "input", "type": "float32", "dims": [1, 512]},
                {"name": "state", "type": "float32", "dims": [2, 1, 128]},
                {"name": "sr", "type": "int64", "dims": [], "fill": 16000},
            ]),
            profiles: &["10mbit", "slow3g", "none"],
        }),
        ("ocr-det", &|| Case {
            id: "ocr-det",
            name: "ch_PP-OCRv4_det (rapidocr-onnxruntime 1.4.4, 4.7 MB), 1×3×640×640",
            model: bench_models.join("ch_PP-OCRv4_det_infer.onnx"),
            inputs: json!([{"name": "x", "type": "float32", "dims": [1, 3, 640, 640]}]),
            profiles: &["10mbit", "none"],
        }),
    ];
    all.into_iter()
        .filter(|(id, _)| wanted(id))
        .map(|(_, case)| case())
        .inspect(|c| {
            assert!(
                c.model.is_file(),
                "{} is missing: run scripts/dev/bench-models.sh",
                c.model.display()
            )
        })
        .collect()
}

/// The bundle of case `c` in `dir`, as a loader contender: runtime pair, `.ort`, loader.mjs,
/// preload hints and the files the loader fetches besides (byte planes, a float16 transport).
fn bundle(c: &Case, dir: &Path, wire: WireWeights) -> Value {
    let bundle_dir = dir.join(format!("bundle-{wire:?}").to_lowercase());
    let a = ort_compact_build::Builder::new(&c.model)
        .out_dir(dir.join("out"))
        .bundle(&bundle_dir)
        .wire_weights(wire)
        .cargo_metadata(false)
        .progress(ort_compact_build::ProgressMode::Silent)
        .try_build()
        .unwrap_or_else(|e| panic!("{}: {e}", c.id));
    let m = a.bundle().unwrap().manifest();
    let model = &m.models[0];
    let extra: Vec<Value> = model
        .planes
        .iter()
        .chain(model.float16.as_ref().map(|h| &h.file))
        .map(|f| bundled(&bundle_dir, f))
        .collect();
    let prefix = bundle_dir.file_name().unwrap().to_string_lossy();
    json!({
        "wasm": bundled(&bundle_dir, &m.runtime.wasm),
        "mjs": bundled(&bundle_dir, &m.runtime.mjs),
        "model": bundled(&bundle_dir, &model.file),
        "loader": bundled(&bundle_dir, &m.loader),
        "preload": {"file": bundle_dir.join(&m.preload), "prefix": prefix},
        "extra": extra,
    })
}

/// `{"file", "br"}` for a file: its brotli-11 sibling is made once and kept in `cache` by hash.
fn precompressed(path: &Path, cache: &Path) -> Value {
    let sha = sha256_of(path);
    let br = cache.join(format!("{}.br", &sha[..24]));
    if !br.is_file() {
        let bytes = std::fs::read(path).unwrap();
        eprintln!("== brotli-11 of {} (once)", path.display());
        let mut out = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
        std::fs::write(&br, out).unwrap();
    }
    json!({"file": path, "br": br})
}

/// The bundle's file with its `.br` sibling.
fn bundled(dir: &Path, name: &str) -> Value {
    json!({"file": dir.join(name), "br": dir.join(format!("{name}.br"))})
}

fn sha256_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ort_compact_build::FileInfo::raw("x", &bytes).sha256
}

/// Key of a contender's items: the driver version, the inputs and every file it serves.
fn fingerprint(files: &Value, inputs: &Value, ort_js: &Value) -> String {
    let mut key = format!("{DRIVER_VERSION}\n{inputs}\n");
    let extra = files["extra"].as_array().into_iter().flatten();
    for f in ["wasm", "mjs", "model", "loader"]
        .map(|k| &files[k])
        .into_iter()
        .filter(|f| !f.is_null())
        .chain(extra)
        .chain([ort_js])
    {
        key.push_str(&sha256_of(Path::new(f["file"].as_str().unwrap())));
    }
    ort_compact_build::FileInfo::raw("x", key.as_bytes()).sha256[..12].to_string()
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = workspace().join("target/bench-reports");
    let items = reports.join("ttfi-items");
    let compressed = reports.join("ttfi-brotli");
    std::fs::create_dir_all(&items).unwrap();
    std::fs::create_dir_all(&compressed).unwrap();
    let only = std::env::var("BENCH_ONLY").ok();
    let wanted = |id: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == id))
    };
    let profiles_env = std::env::var("BENCH_PROFILES").ok();
    let wanted_profile = |id: &str| {
        profiles_env
            .as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == id))
    };
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dist = workspace().join("tests/js/node_modules/onnxruntime-web/dist");
    let stock_wasm = precompressed(&dist.join("ort-wasm-simd-threaded.wasm"), &compressed);
    let stock_mjs = precompressed(&dist.join("ort-wasm-simd-threaded.mjs"), &compressed);
    let ort_js = precompressed(&dist.join("ort.wasm.min.mjs"), &compressed);

    let cases = cases(wanted);
    let mut config_cases = Vec::new();
    for c in &cases {
        eprintln!("== {}: bundles", c.id);
        let exact = bundle(c, &tmp.path().join(c.id), WireWeights::Exact);
        let half = bundle(c, &tmp.path().join(c.id), WireWeights::Float16);
        let stock = json!({
            "wasm": stock_wasm, "mjs": stock_mjs,
            "model": precompressed(&c.model, &compressed),
        });
        let mut ours = exact.clone();
        for k in ["loader", "preload", "extra"] {
            ours.as_object_mut().unwrap().remove(k);
        }
        let mut contenders = Vec::new();
        let all = [
            ("compact", ours),
            ("loader", exact),
            ("loader-f16", half),
            ("stock", stock),
        ];
        for (id, files) in all {
            let mut k = files.clone();
            k["id"] = json!(id);
            k["fingerprint"] = json!(fingerprint(&files, &c.inputs, &ort_js));
            contenders.push(k);
        }
        let profiles: Vec<&str> = c
            .profiles
            .iter()
            .copied()
            .filter(|p| wanted_profile(p))
            .collect();
        config_cases.push(json!({
            "id": c.id, "profiles": profiles, "inputs": c.inputs, "contenders": contenders,
        }));
    }
    let profiles: Vec<Value> = PROFILES
        .iter()
        .map(|p| match p.conditions {
            Some((rtt, down, up)) => {
                json!({"id": p.id, "latency_ms": rtt, "down_kbps": down, "up_kbps": up})
            }
            None => json!({"id": p.id}),
        })
        .collect();
    let config = json!({
        "rounds": rounds, "out_dir": items, "ort_js": ort_js,
        "profiles": profiles, "cases": config_cases,
    });
    let config_path = tmp.path().join("ttfi.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    eprintln!("== headless Chromium: {rounds} round(s)");
    run_ok(
        Command::new(node())
            .current_dir(workspace().join("tests/js"))
            .arg("ttfi.mjs")
            .arg(&config_path)
            .stderr(std::process::Stdio::inherit()),
    );
    let rows: Vec<report::CaseRows> = cases
        .iter()
        .zip(&config_cases)
        .map(|(c, cc)| report::CaseRows::collect(&items, c.id, c.name, cc, rounds))
        .collect();
    let text = report::render(&rows, rounds);
    let out = reports.join("ttfi.md");
    std::fs::write(&out, &text).unwrap();
    println!("{text}");
    eprintln!("report: {}", out.display());
}
