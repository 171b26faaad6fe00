//! target/bench-reports/runtime.md, rendered from the measured items (re-rendered after each
//! item, so a cut run leaves the rows it measured).

use crate::node::ROUNDS;
use ort_compact_build::FileInfo;
use ort_compact_test_support::verify::run_ok;
use serde_json::Value;
use std::fmt::Write as _;
use std::process::Command;

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
        .split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores, {mem}")
}

fn header(r: &mut String, stock: &FileInfo, cold: &str) {
    let date = run_ok(Command::new("date").arg("+%F"));
    let _ = writeln!(r, "# Compact runtime benchmark\n");
    let _ = writeln!(
        r,
        "Machine: {}. Date: {}.\n",
        machine(),
        String::from_utf8_lossy(&date).trim()
    );
    let _ = writeln!(
        r,
        "Method: `cargo bench -p ort-compact-build --bench runtime` (compute-heavy models: \
         `scripts/dev/bench-models.sh` first). Sizes from the output manifest (gzip -9, brotli \
         q11). Build times: wall clock of `Builder::try_build` (new op set: empty artifact store, \
         warm shared build dir; cache hit: second call). Node: onnxruntime-web 1.21.0, numThreads \
         1; each node process creates a session and times N runs after one warm-up run (N = 2000 \
         for the small models, 20 for the compute-heavy ones); four contenders — the compact \
         runtime with its unoptimized `.ort`, the compact runtime built for the graph our \
         converter optimized (`BENCH_GRAPH`, default `extended`) with that `.ort`, stock with the \
         original `.onnx` (what users run today; stock optimises the graph at load), stock with \
         the `.ort` ONNX Runtime's own optimizer writes at the same level (Python onnxruntime \
         1.21.0) — {ROUNDS} processes each, alternating; the tables give the \
         median over processes of their session-create time and median run time. Only ratios \
         within one run mean anything on a shared machine.\n"
    );
    let _ = writeln!(
        r,
        "Stock `ort-wasm-simd-threaded.wasm`: {} B raw, {} gzip, {} brotli. {cold}\n",
        stock.raw,
        stock.gzip.unwrap_or(0),
        stock.brotli.unwrap_or(0)
    );
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// The raw size of the same case's `size` build, to compare other modes against.
fn size_mode_raw(items: &[Value], id: &Value) -> Option<f64> {
    items
        .iter()
        .find(|i| &i["id"] == id && i["mode"] == "size")
        .and_then(|i| i["wasm"]["raw"].as_f64())
}

fn sizes_table(r: &mut String, items: &[Value], stock: &FileInfo) {
    let _ = writeln!(r, "## Sizes and build times\n");
    let _ = writeln!(r, "| model | mode | wasm raw | vs size mode | gzip | brotli | × smaller raw | × smaller brotli | .mjs raw | new op set build | cache hit |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|---|---|");
    for i in items {
        let raw = num(&i["wasm"]["raw"]);
        let brotli = num(&i["wasm"]["brotli"]);
        let vs = size_mode_raw(items, &i["id"]).map_or("—".into(), |s| {
            format!("{:+.1} %", (raw / s - 1.0) * 100.0)
        });
        let secs = |v: &Value| v.as_f64().map_or("—".into(), |s| format!("{s:.1} s"));
        let _ = writeln!(
            r,
            "| {} | {} | {raw} | {vs} | {} | {brotli} | {:.1} | {:.1} | {} | {} | {} |",
            i["name"].as_str().unwrap_or(""),
            i["mode"].as_str().unwrap_or(""),
            i["wasm"]["gzip"],
            stock.raw as f64 / raw,
            stock.brotli.unwrap_or(0) as f64 / brotli,
            i["mjs_raw"],
            secs(&i["build_new_s"]),
            secs(&i["build_hit_s"]),
        );
    }
}

fn speed_table(r: &mut String, items: &[Value]) {
    let _ = writeln!(r, "\n## Speed (node, 1 thread)\n");
    let _ = writeln!(r, "| model | kind | mode | graph | create ms: ours none / ours optimized / stock + .onnx | run ms: ours none | ours optimized | stock + .onnx | stock + ORT-optimized .ort | optimized ÷ stock + .onnx | wasm raw: optimized vs none |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|---|---|---|");
    for i in items {
        let run = |c: &str| num(&i[c]["median_run_ms"]);
        let create = |c: &str| num(&i[c]["create_session_ms"]);
        let _ = writeln!(
            r,
            "| {} | {} | {} | `{}` | {:.2} / {:.2} / {:.2} | {:.3} | {:.3} | {:.3} | {:.3} | **{:.2}×** | {:+.1} % |",
            i["name"].as_str().unwrap_or(""),
            i["kind"].as_str().unwrap_or(""),
            i["mode"].as_str().unwrap_or(""),
            i["graph_optimization"].as_str().unwrap_or("?"),
            create("compact"),
            create("compact_optimized"),
            create("stock_onnx"),
            run("compact"),
            run("compact_optimized"),
            run("stock_onnx"),
            run("stock_ort_optimized"),
            run("compact_optimized") / run("stock_onnx"),
            (num(&i["optimized_wasm_raw"]) / num(&i["wasm"]["raw"]) - 1.0) * 100.0,
        );
    }
}

/// The whole report for the items measured so far.
pub fn render(items: &[Value], stock: &FileInfo, cold: &str) -> String {
    let mut r = String::new();
    header(&mut r, stock, cold);
    sizes_table(&mut r, items, stock);
    speed_table(&mut r, items);
    r
}
