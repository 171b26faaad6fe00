//! Benchmark: time to convert the largest available `.onnx` model to the ORT format.
//!
//! The model is `$ORT_COMPACT_BENCH_MODEL` when set, else the largest of silero-vad's models
//! (found through python3's site-packages) and onnxruntime's datasets. Writes a JSON report to
//! `target/bench-reports/convert.json` (or under `$CARGO_TARGET_DIR`).

use ort_compact_build::tools as ort_format;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RUNS: usize = 15;

fn python_dir(code: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args(["-c", code])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then(|| PathBuf::from(text))
}

fn candidates() -> Vec<PathBuf> {
    if let Ok(p) = std::env::var("ORT_COMPACT_BENCH_MODEL") {
        return vec![PathBuf::from(p)];
    }
    let mut dirs = Vec::new();
    if let Some(d) = python_dir(
        "import importlib.util as u; print(list(u.find_spec('silero_vad').submodule_search_locations)[0])",
    ) {
        dirs.push(d.join("data"));
    }
    if let Some(d) = python_dir(
        "import importlib.util as u, os; print(os.path.dirname(u.find_spec('onnxruntime').origin))",
    ) {
        dirs.push(d.join("datasets"));
    }
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect()
}

fn report_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench-reports")
}

fn main() {
    let Some(model) = candidates()
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
    else {
        eprintln!("convert bench: no model found (set ORT_COMPACT_BENCH_MODEL)");
        return;
    };
    let input_bytes = std::fs::metadata(&model).map(|m| m.len()).unwrap_or(0);
    // Warm-up (also parses the schema table once).
    let output = match ort_format::convert(&model) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("convert bench: {}: {e}", model.display());
            std::process::exit(1);
        }
    };
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let bytes = ort_format::convert(&model).expect("converted once already");
        times.push(start.elapsed());
        assert_eq!(bytes.len(), output.len());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = times[RUNS / 2];
    let mean = times.iter().sum::<Duration>() / RUNS as u32;
    let mb_per_s = input_bytes as f64 / 1e6 / median.as_secs_f64();
    println!(
        "convert {} ({input_bytes} bytes -> {} bytes): min {:.2} ms, median {:.2} ms, mean {:.2} ms, max {:.2} ms over {RUNS} runs ({mb_per_s:.1} MB/s)",
        model.display(),
        output.len(),
        ms(times[0]),
        ms(median),
        ms(mean),
        ms(times[RUNS - 1]),
    );
    let report = serde_json::json!({
        "bench": "tools::convert",
        "model": model.display().to_string(),
        "input_bytes": input_bytes,
        "output_bytes": output.len(),
        "runs": RUNS,
        "min_ms": ms(times[0]),
        "median_ms": ms(median),
        "mean_ms": ms(mean),
        "max_ms": ms(times[RUNS - 1]),
        "input_mb_per_s": mb_per_s,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    });
    let dir = report_dir();
    let path = dir.join("convert.json");
    let written = std::fs::create_dir_all(&dir).and_then(|_| {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        )
    });
    match written {
        Ok(()) => println!("report: {}", path.display()),
        Err(e) => eprintln!("convert bench: cannot write {}: {e}", path.display()),
    }
}
