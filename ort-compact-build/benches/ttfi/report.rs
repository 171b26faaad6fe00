//! Medians of the stored items and the markdown report.

use crate::PROFILES;
use serde_json::Value;
use std::path::Path;

/// One contender under one profile: medians over the rounds.
pub struct Row {
    pub contender: String,
    pub rounds: usize,
    pub ready_ms: f64,
    pub first_ms: f64,
    pub bytes: f64,
    pub memory: f64,
    pub repeat_first_ms: f64,
    pub repeat_bytes: f64,
}

/// A case's rows per profile.
pub struct CaseRows {
    pub name: String,
    pub profiles: Vec<(&'static str, Vec<Row>)>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n % 2 {
        1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl CaseRows {
    /// Read the items of `case` (its config entry `config`) for rounds `0..rounds`.
    pub fn collect(items: &Path, id: &str, name: &str, config: &Value, rounds: usize) -> Self {
        let mut profiles = Vec::new();
        for p in PROFILES.iter().filter(|p| {
            config["profiles"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == p.id))
        }) {
            let mut rows = Vec::new();
            for k in config["contenders"].as_array().unwrap() {
                let (kid, fp) = (
                    k["id"].as_str().unwrap(),
                    k["fingerprint"].as_str().unwrap(),
                );
                let runs: Vec<Value> = (0..rounds)
                    .filter_map(|r| {
                        let f = items.join(format!("{id}--{kid}--{}--r{r}--{fp}.json", p.id));
                        serde_json::from_slice(&std::fs::read(f).ok()?).ok()
                    })
                    .collect();
                let pick = |visit: &str, field: &str| -> f64 {
                    median(
                        runs.iter()
                            .filter_map(|r| r[visit][field].as_f64())
                            .collect(),
                    )
                };
                rows.push(Row {
                    contender: kid.to_string(),
                    rounds: runs.len(),
                    ready_ms: pick("cold", "ready_ms"),
                    first_ms: pick("cold", "first_ms"),
                    bytes: pick("cold", "bytes"),
                    memory: pick("cold", "wasm_memory"),
                    repeat_first_ms: pick("repeat", "first_ms"),
                    repeat_bytes: pick("repeat", "bytes"),
                });
            }
            profiles.push((p.id, rows));
        }
        CaseRows {
            name: name.to_string(),
            profiles,
        }
    }
}

/// The markdown report.
pub fn render(cases: &[CaseRows], rounds: usize) -> String {
    let mut s = String::from("# Time to first inference (headless Chromium)\n\n");
    s.push_str(&format!(
        "Method: Debian's chromium driven by playwright-core; for every visit a fresh browser \
         profile (empty disk cache); onnxruntime-web 1.21.0 (`ort.wasm.min.mjs`), 1 thread; \
         every file served brotli-11-encoded by a static server on 127.0.0.1 with \
         `Cache-Control: immutable`; network conditions by CDP `Network.emulateNetworkConditions`; \
         times are `performance.now()` from navigation start; **compact** = our deploy bundle \
         (hashed runtime pair + `.ort`) through onnxruntime-web's `wasmPaths` and a session \
         created from the model's URL, **loader** = the same bundle through its `loader.mjs` \
         (runtime, compilation and model in parallel) with its preload hints in the page, \
         **loader-f16** = the same through a bundle with float16 weights on the wire (opt-in, \
         lossy: `--wire-weights float16`), **stock** = onnxruntime-web's own \
         `ort-wasm-simd-threaded.wasm/.mjs` + the original `.onnx`; the order of the contenders \
         is reversed every other round; medians of {rounds} round(s). Session ready = \
         `InferenceSession.create` resolved; first result = the first `run` resolved. Repeat = \
         the same page visited again in the same profile (warm HTTP cache). Bytes = response \
         bodies the server sent. Memory = the runtime's `WebAssembly.Memory` after the first \
         run. Machine: a shared 2-core VM; only ratios within one run mean much.\n\n"
    ));
    for c in cases {
        s.push_str(&format!("## {}\n\n", c.name));
        for (profile, rows) in &c.profiles {
            let label = PROFILES.iter().find(|p| p.id == *profile).unwrap().label;
            s.push_str(&format!(
                "{label}\n\n| | rounds | session ready ms | first result ms | bytes on the wire | wasm memory | repeat: first result ms | repeat: bytes |\n|---|---|---|---|---|---|---|---|\n"
            ));
            for r in rows {
                s.push_str(&format!(
                    "| {} | {} | {:.0} | {:.0} | {:.0} | {:.1} MiB | {:.0} | {:.0} |\n",
                    r.contender,
                    r.rounds,
                    r.ready_ms,
                    r.first_ms,
                    r.bytes,
                    r.memory / 1048576.0,
                    r.repeat_first_ms,
                    r.repeat_bytes
                ));
            }
            if let Some(stock) = rows.iter().find(|r| r.contender == "stock") {
                s.push('\n');
                for ours in rows.iter().filter(|r| r.contender != "stock") {
                    s.push_str(&format!(
                        "{}: first result {:.2}× sooner than stock ({:.2}× on the repeat visit), {:.1}× fewer bytes.\n",
                        ours.contender,
                        stock.first_ms / ours.first_ms,
                        stock.repeat_first_ms / ours.repeat_first_ms,
                        stock.bytes / ours.bytes
                    ));
                }
                s.push('\n');
            }
        }
    }
    s
}
