//! Runtime benchmark: for each corpus model set, the compact runtime's size (raw / gzip / brotli)
//! against stock onnxruntime-web 1.21.0's `ort-wasm-simd-threaded.wasm`; build times (new op set
//! with a warm build dir, cache hit; cold with `BENCH_COLD=1`); session creation and run time in
//! node (onnxruntime-web 1.21.0, 1 thread) for compact and stock, measured side by side.
//!
//! `cargo bench -p ort-compact-build --bench runtime` writes target/bench-reports/runtime.md.
//! Needs what the tests need (scripts/test.sh installs it).

use ort_compact_build::{Artifacts, Builder, FileInfo, Optimize, ProgressMode};
use ort_compact_test_support::verify::{
    located, partial_cache, run_ok, sklearn_models, tensor, workspace,
};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn floats(n: usize, f: impl Fn(usize) -> f64) -> Vec<Value> {
    (0..n).map(|i| json!(f(i) as f32 as f64)).collect()
}

struct Case {
    name: &'static str,
    models: Vec<PathBuf>,
    inputs: Value,
    optimize: Optimize,
}

fn cases(tmp: &Path) -> Vec<Case> {
    let silero = located("silero_vad");
    let skl = sklearn_models(&tmp.join("sklearn"));
    let tone = floats(512, |i| {
        0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 16000.0).sin()
    });
    let silero_inputs = json!({
        "input": tensor("float32", &[1, 512], tone),
        "state": tensor("float32", &[2, 1, 128], floats(256, |_| 0.0)),
        "sr": tensor("int64", &[], vec![json!(16000)]),
    });
    vec![
        Case {
            name: "mlp-classifier (bundled default)",
            models: vec![workspace().join("models/mlp-classifier.onnx")],
            inputs: json!({"features": tensor("float32", &[1, 16], floats(16, |i| (i as f64 - 8.0) / 8.0))}),
            optimize: Optimize::Size,
        },
        Case {
            name: "silero_vad (silero-vad 5.1.2)",
            models: vec![silero.clone()],
            inputs: silero_inputs.clone(),
            optimize: Optimize::Size,
        },
        Case {
            name: "silero_vad, `--optimize speed`",
            models: vec![silero],
            inputs: silero_inputs,
            optimize: Optimize::Speed,
        },
        Case {
            name: "scikit-learn iris: scaler+logreg, SVC",
            models: skl.into_iter().map(|(_, p)| p).collect(),
            inputs: json!({"input": tensor("float32", &[1, 4], floats(4, |i| [5.1, 3.5, 1.4, 0.2][i]))}),
            optimize: Optimize::Size,
        },
    ]
}

fn build(
    models: &[PathBuf],
    optimize: Optimize,
    out: &Path,
    cache: Option<&Path>,
) -> (Artifacts, f64) {
    let mut b = Builder::new(&models[0]);
    b.optimize(optimize);
    for m in &models[1..] {
        b.model(m);
    }
    b.out_dir(out)
        .cargo_metadata(false)
        .progress(ProgressMode::Silent);
    if let Some(c) = cache {
        b.cache_dir(c);
    }
    let t = Instant::now();
    let a = b.try_build().expect("build");
    (a, t.elapsed().as_secs_f64())
}

fn node_bench(runtime: &Path, model: &Path, inputs: &Value, tmp: &Path) -> Value {
    let inputs_path = tmp.join("bench-inputs.json");
    std::fs::write(&inputs_path, inputs.to_string()).unwrap();
    let out = run_ok(
        Command::new("node")
            .current_dir(workspace().join("tests/js"))
            .arg("bench-node.mjs")
            .arg(runtime)
            .arg(model)
            .arg(&inputs_path)
            .arg(RUNS.to_string()),
    );
    serde_json::from_slice(&out).unwrap()
}

/// Runs per node process (enough for µs-scale models to leave JIT warm-up behind), and processes
/// per runtime (alternating compact and stock).
const RUNS: usize = 2000;
const ROUNDS: usize = 3;

/// Compact and stock timed in alternating rounds, so a burst of other load on the machine hits
/// both; per runtime, the median over rounds of each figure.
fn node_bench_pair(
    ours: &Path,
    stock: &Path,
    model: &Path,
    inputs: &Value,
    tmp: &Path,
) -> [Value; 2] {
    let mut rounds: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        rounds[0].push(node_bench(ours, model, inputs, tmp));
        rounds[1].push(node_bench(stock, model, inputs, tmp));
    }
    rounds.map(|r| {
        let median = |key: &str| {
            let mut v: Vec<f64> = r.iter().filter_map(|x| x[key].as_f64()).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        json!({
            "create_session_ms": median("create_session_ms"),
            "median_run_ms": median("median_run_ms"),
        })
    })
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cores} cores, {}",
        mem.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    )
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let stock_dir = workspace().join("tests/js/node_modules/onnxruntime-web/dist");
    let stock_wasm = stock_dir.join("ort-wasm-simd-threaded.wasm");
    let stock = FileInfo::measure(
        "stock",
        &std::fs::read(&stock_wasm).expect("run scripts/install-js-test-deps.sh"),
    );
    let mut r = String::new();
    let _ = writeln!(r, "# Compact runtime benchmark\n");
    let _ = writeln!(
        r,
        "Machine: {}. Date: {}.",
        machine(),
        String::from_utf8_lossy(&run_ok(Command::new("date").arg("+%F"))).trim()
    );
    let _ = writeln!(
        r,
        "Method: `cargo bench -p ort-compact-build --bench runtime`. Sizes from the output manifest \
         (gzip -9, brotli q11). Build times: wall clock of `Builder::try_build` (new op set: empty \
         artifact store, warm shared build dir; cache hit: second call). Node: onnxruntime-web \
         1.21.0, numThreads 1; each node process creates a session and times {RUNS} runs after one \
         warm-up run; {ROUNDS} processes per runtime, compact and stock alternating; the table \
         gives the median over processes of their session-create time and median run time.\n"
    );
    let _ = writeln!(
        r,
        "Stock `ort-wasm-simd-threaded.wasm`: {} B raw, {} gzip, {} brotli.\n",
        stock.raw,
        compressed(stock.gzip),
        compressed(stock.brotli)
    );
    let _ = writeln!(r, "| model | wasm raw | gzip | brotli | × smaller raw | × smaller brotli | .mjs raw | new op set build | cache hit | create ms (stock) | run ms (stock) |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, case) in cases(tmp.path()).into_iter().enumerate() {
        eprintln!("== {}", case.name);
        // Warm the real cache (may build), then measure a miss with warm build dirs and a hit.
        let (_, _) = build(
            &case.models,
            case.optimize,
            &tmp.path().join(format!("warm{i}")),
            None,
        );
        let fresh = partial_cache(
            tmp.path(),
            &format!("fresh{i}"),
            &["downloads", "sources", "work"],
        );
        let (a, t_new) = build(
            &case.models,
            case.optimize,
            &tmp.path().join(format!("new{i}")),
            Some(&fresh),
        );
        let (_, t_hit) = build(
            &case.models,
            case.optimize,
            &tmp.path().join(format!("hit{i}")),
            Some(&fresh),
        );
        let wasm = a
            .files()
            .iter()
            .find(|f| f.name == "ort-wasm.wasm")
            .unwrap()
            .clone();
        let mjs = a
            .files()
            .iter()
            .find(|f| f.name == "ort-wasm.mjs")
            .unwrap()
            .clone();
        let model = &a.models()[0].ort;
        let [ours, theirs] = node_bench_pair(a.dir(), &stock_dir, model, &case.inputs, tmp.path());
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} | {:.1} | {:.1} | {} | {:.1} s | {:.2} s | {} ({}) | {} ({}) |",
            case.name,
            wasm.raw,
            compressed(wasm.gzip),
            compressed(wasm.brotli),
            stock.raw as f64 / wasm.raw as f64,
            compressed(stock.brotli) as f64 / compressed(wasm.brotli) as f64,
            mjs.raw,
            t_new,
            t_hit,
            ours["create_session_ms"],
            theirs["create_session_ms"],
            ours["median_run_ms"],
            theirs["median_run_ms"],
        );
    }
    if std::env::var_os("BENCH_COLD").is_some() {
        eprintln!("== cold build (fresh build dir)");
        let cold = partial_cache(tmp.path(), "cold", &["downloads", "sources"]);
        let (_, t) = build(
            &[workspace().join("models/mlp-classifier.onnx")],
            Optimize::Size,
            &tmp.path().join("cold-out"),
            Some(&cold),
        );
        let _ = writeln!(r, "\nCold build (fresh build dir, sources already provisioned), default model: {:.1} min.", t / 60.0);
    } else {
        let _ = writeln!(
            r,
            "\nCold build: not measured in this run (set BENCH_COLD=1; about 15 min)."
        );
    }
    let dir = workspace().join("target/bench-reports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("runtime.md"), &r).unwrap();
    print!("{r}");
}

/// A compressed size the bench asked for (the builder measures them outside build scripts).
fn compressed(size: Option<u64>) -> u64 {
    size.expect("compressed sizes are measured outside build scripts")
}
