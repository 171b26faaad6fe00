//! Running the embedded JS driver under node and reading its one-line JSON result.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The driver script, written to a temporary directory for each run.
const DRIVER_JS: &str = include_str!("driver.mjs");
/// Prefix of the driver's result line on stdout.
const MARKER: &str = "ORT_COMPACT_VERIFY_RESULT ";
/// How long one driver run may take before it is killed.
pub const DRIVER_TIMEOUT: Duration = Duration::from_secs(300);

/// What the driver is told to do (serialised as its config file).
#[derive(Debug, Serialize)]
pub(crate) struct DriverConfig<'a> {
    pub mjs: &'a Path,
    pub wasm: &'a Path,
    pub model: &'a Path,
    pub max_values: usize,
    pub inputs: &'a [super::InputSpec],
}

/// The driver's result line.
#[derive(Debug, Deserialize)]
pub(crate) struct DriverResult {
    pub ok: bool,
    pub stage: String,
    #[serde(default)]
    pub timings_ms: BTreeMap<String, f64>,
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub outputs: Vec<DriverOutput>,
    pub error: Option<DriverError>,
}

/// An error the driver reported.
#[derive(Debug, Deserialize)]
pub(crate) struct DriverError {
    pub code: i64,
    pub message: String,
    #[serde(default)]
    pub kind: String,
}

/// One output as the driver reported it.
#[derive(Debug, Deserialize)]
pub(crate) struct DriverOutput {
    pub name: String,
    pub elem_type: Option<i32>,
    #[serde(default)]
    pub dims: Vec<i64>,
    pub count: Option<u64>,
    #[serde(default)]
    pub values: Vec<serde_json::Value>,
    pub error: Option<String>,
}

/// A finished driver run: its parsed result and what node wrote to stderr.
pub(crate) struct DriverRun {
    pub result: DriverResult,
    pub stderr: String,
    pub wall: Duration,
}

/// Runs the driver once; `Err` only when the driver itself could not report.
pub(crate) fn run_driver(node: &Path, config: &DriverConfig<'_>) -> Result<DriverRun> {
    let tmp = tempfile::Builder::new()
        .prefix("ort-compact-verify-")
        .tempdir()
        .map_err(|e| Error::io("creating a temporary directory in", std::env::temp_dir(), e))?;
    let script = tmp.path().join("driver.mjs");
    std::fs::write(&script, DRIVER_JS).map_err(|e| Error::io("writing", &script, e))?;
    let config_path = tmp.path().join("config.json");
    let json = serde_json::to_vec(config)
        .map_err(|e| Error::Config(format!("cannot serialise the verify config: {e}")))?;
    std::fs::write(&config_path, json).map_err(|e| Error::io("writing", &config_path, e))?;

    let started = Instant::now();
    let mut child = Command::new(node)
        .arg(&script)
        .arg(&config_path)
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::ToolMissing {
            tool: "node",
            searched: format!("{} ({e})", node.display()),
            hint: "install Node.js 18 or newer or set ORT_COMPACT_NODE".to_string(),
        })?;
    let stdout = reader_thread(child.stdout.take());
    let stderr = reader_thread(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > DRIVER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(Error::io("waiting for node running", &script, e)),
        }
    };
    let wall = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let model = config.model.to_path_buf();
    let Some(status) = status else {
        return Err(Error::Verification {
            model,
            reason: format!(
                "node did not finish within {} s; stderr:\n{}",
                DRIVER_TIMEOUT.as_secs(),
                tail(&stderr, 20)
            ),
        });
    };
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix(MARKER));
    let Some(line) = line else {
        return Err(Error::Verification {
            model,
            reason: format!(
                "the verify driver ended ({status}) without a result; output:\n{}{}",
                tail(&stdout, 10),
                tail(&stderr, 20)
            ),
        });
    };
    let result: DriverResult = serde_json::from_str(line).map_err(|e| Error::Verification {
        model: model.clone(),
        reason: format!("unreadable driver result ({e}): {}", truncate(line, 500)),
    })?;
    Ok(DriverRun {
        result,
        stderr,
        wall,
    })
}

fn reader_thread<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// The last `n` lines of `text`, each ending in a newline.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    lines
        .get(from..)
        .unwrap_or_default()
        .iter()
        .map(|l| format!("{l}\n"))
        .collect()
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// Paths of the runtime's `.mjs` and `.wasm` in `dir`: `ort-wasm.*` (our build), else the
/// names of stock onnxruntime-web builds (`ort-wasm-simd.*`, `ort-wasm-simd-threaded.*`).
pub fn runtime_files(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    for stem in ["ort-wasm", "ort-wasm-simd", "ort-wasm-simd-threaded"] {
        let mjs = dir.join(format!("{stem}.mjs"));
        let wasm = dir.join(format!("{stem}.wasm"));
        if mjs.is_file() && wasm.is_file() {
            return Ok((mjs, wasm));
        }
    }
    Err(Error::Verification {
        model: dir.to_path_buf(),
        reason: format!(
            "{} holds no runtime: expected ort-wasm.mjs + ort-wasm.wasm (or ort-wasm-simd[-threaded].*)",
            dir.display()
        ),
    })
}
