//! Benchmark of model analysis: parse (protobuf decode / flatbuffer verification) plus
//! operator extraction of the largest `.onnx` and `.ort` models of the oracle corpus.
//!
//! Run with `cargo bench -p ort-compact-build --bench analysis`. Writes a report to
//! `<target>/bench-reports/analysis.txt` with the machine, the method and the timings.

use ort_compact_build::tools::required_operators_unconverted;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Timings of repeated runs.
struct Stats {
    runs: usize,
    min: Duration,
    median: Duration,
    mean: Duration,
}

/// Times `run(setup())`; the setup (copying the input bytes) is not timed.
fn measure<T>(mut setup: impl FnMut() -> T, mut run: impl FnMut(T)) -> Stats {
    // Warm-up (page cache, allocator).
    run(setup());
    let mut times = Vec::new();
    let budget = Instant::now();
    while times.len() < 10 || (budget.elapsed() < Duration::from_secs(3) && times.len() < 200) {
        let input = setup();
        let t = Instant::now();
        run(input);
        times.push(t.elapsed());
    }
    times.sort();
    let total: Duration = times.iter().sum();
    Stats {
        runs: times.len(),
        min: times[0],
        median: times[times.len() / 2],
        mean: total / times.len() as u32,
    }
}

fn largest(ext: &str) -> PathBuf {
    ort_compact_test_support::oracle::oracle_models()
        .iter()
        .map(|m| m.dir.join(format!("model.{ext}")))
        .filter(|p| p.is_file())
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("oracle corpus has models")
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU")
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!(
        "{cpu}, {cores} cores available, {} {}, {rustc}, {profile} build",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn main() {
    let mut report = String::new();
    let _ = writeln!(report, "ort-compact-build model analysis benchmark");
    let _ = writeln!(report, "machine: {}", machine());
    let _ = writeln!(
        report,
        "method: each run reads the file (from the page cache), decodes/verifies it and extracts \
         the operators (tools::required_operators_unconverted), plain and with types; >= 10 runs and up to 3 s or 200 runs after one warm-up run; wall-clock \
         (std::time::Instant) min / median / mean."
    );
    for ext in ["ort", "onnx"] {
        let path = largest(ext);
        let bytes = std::fs::read(&path).unwrap();
        let mut ops = 0;
        for types in [false, true] {
            if ext == "onnx" && types {
                continue; // .onnx types need value_info the corpus models lack
            }
            let s = measure(
                || (),
                |()| {
                    let config = required_operators_unconverted(&[&path], types).unwrap();
                    ops = config.lines().map(|l| l.split(',').count()).sum::<usize>();
                },
            );
            let mb = bytes.len() as f64 / 1e6;
            let line = format!(
                "{} ({:.2} MB, {ops} op entries), types={types}: runs {}, min {:.3} ms, median \
                 {:.3} ms, mean {:.3} ms ({:.0} MB/s at the median)",
                path.display(),
                mb,
                s.runs,
                s.min.as_secs_f64() * 1e3,
                s.median.as_secs_f64() * 1e3,
                s.mean.as_secs_f64() * 1e3,
                mb / s.median.as_secs_f64()
            );
            println!("{line}");
            let _ = writeln!(report, "{line}");
        }
    }
    let dir = target_dir().join("bench-reports");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("analysis.txt");
    std::fs::write(&out, &report).unwrap();
    println!("report written to {}", out.display());
}
