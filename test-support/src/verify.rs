//! Helpers of the verify tests: the runtime under test, real models converted by onnxruntime's
//! own tool, Python onnxruntime 1.21.0 as the reference (test oracle only).

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Environment variable pointing the tests at a built runtime directory.
pub const RUNTIME_DIR_ENV: &str = "ORT_COMPACT_TEST_RUNTIME_DIR";

pub use crate::workspace;

/// tests/js of the workspace.
pub fn js_dir() -> PathBuf {
    workspace().join("tests").join("js")
}

/// The runtime under test: `$ORT_COMPACT_TEST_RUNTIME_DIR`, else stock onnxruntime-web 1.21.0's
/// dist directory from tests/js/node_modules.
pub fn runtime_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(RUNTIME_DIR_ENV).filter(|v| !v.is_empty()) {
        let d = PathBuf::from(d);
        assert!(
            d.is_dir(),
            "{RUNTIME_DIR_ENV}={} is not a directory",
            d.display()
        );
        return d;
    }
    let d = js_dir().join("node_modules/onnxruntime-web/dist");
    assert!(
        d.join("ort-wasm-simd-threaded.wasm").is_file(),
        "stock onnxruntime-web is not installed in {}: run scripts/install-js-test-deps.sh \
         (or set {RUNTIME_DIR_ENV} to a runtime directory)",
        d.display()
    );
    d
}

/// node to run drivers with: `$ORT_COMPACT_NODE`, else `node` on PATH.
pub fn node() -> PathBuf {
    std::env::var_os("ORT_COMPACT_NODE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node"))
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Runs `oracle.py ARGS`, returns stdout; panics with stderr on failure.
pub fn oracle(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("oracle.py");
    let out = Command::new(python())
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 (with onnxruntime 1.21.0) is needed by the verify tests");
    assert!(
        out.status.success(),
        "oracle.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The real models of the tests, converted to ORT format into `dir`.
pub struct Models {
    /// onnxruntime's datasets/sigmoid.onnx as .ort (input x: float [3,4,5]).
    pub sigmoid: PathBuf,
    /// silero-vad's silero_vad.onnx as .ort (input [b, n] f32, state [2, b, 128] f32, sr i64).
    pub silero: PathBuf,
}

/// Locates and converts the models (onnxruntime's own converter).
pub fn models(dir: &Path) -> Models {
    let located: Value = serde_json::from_str(&oracle(&["locate"])).expect("locate JSON");
    assert_eq!(
        located["onnxruntime_version"], "1.21.0",
        "Python onnxruntime must be 1.21.0"
    );
    let convert = |key: &str| -> PathBuf {
        let onnx = located[key]
            .as_str()
            .unwrap_or_else(|| panic!("model {key} not found (is silero-vad installed?)"));
        PathBuf::from(oracle(&[
            "convert",
            onnx,
            dir.to_str().expect("utf-8 temp dir"),
        ]))
    };
    Models {
        sigmoid: convert("sigmoid"),
        silero: convert("silero_vad"),
    }
}

/// A harness-format tensor.
pub fn tensor(ty: &str, dims: &[i64], data: Vec<Value>) -> Value {
    serde_json::json!({"type": ty, "dims": dims, "data": data})
}

/// The verify driver's synthetic float pattern: `((7 i) mod 13 − 6) / 8`.
pub fn synth_float(count: usize) -> Vec<f64> {
    (0..count)
        .map(|i| (((i * 7) % 13) as f64 - 6.0) / 8.0)
        .collect()
}

/// Python onnxruntime's outputs for `inputs` (harness format) on `model`.
pub fn reference(model: &Path, inputs: &Value, dir: &Path) -> Value {
    let stem = model.file_stem().unwrap().to_string_lossy().into_owned();
    let inputs_path = dir.join(format!("{stem}.ref-inputs.json"));
    let out_path = dir.join(format!("{stem}.ref-outputs.json"));
    std::fs::write(&inputs_path, serde_json::to_vec(inputs).unwrap()).unwrap();
    oracle(&[
        "reference",
        model.to_str().unwrap(),
        inputs_path.to_str().unwrap(),
        out_path.to_str().unwrap(),
    ]);
    serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap()
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => match s.as_str() {
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => s.parse().unwrap_or(f64::NAN),
        },
        _ => f64::NAN,
    }
}

/// Asserts `actual` outputs equal `expected` ({name: tensor}): same names, types, dims, and
/// values within `tol` (absolute). Returns the largest difference seen.
pub fn assert_outputs_close(actual: &Value, expected: &Value, tol: f64, what: &str) -> f64 {
    let a = actual.as_object().expect("outputs object");
    let e = expected.as_object().expect("expected outputs object");
    let mut names_a: Vec<_> = a.keys().collect();
    let mut names_e: Vec<_> = e.keys().collect();
    names_a.sort();
    names_e.sort();
    assert_eq!(names_a, names_e, "{what}: output names");
    let mut worst = 0.0f64;
    for (name, et) in e {
        let at = &a[name];
        assert_eq!(at["type"], et["type"], "{what}: type of {name}");
        assert_eq!(at["dims"], et["dims"], "{what}: dims of {name}");
        let av = at["data"].as_array().expect("data");
        let ev = et["data"].as_array().expect("data");
        assert_eq!(av.len(), ev.len(), "{what}: element count of {name}");
        for (i, (x, y)) in av.iter().zip(ev).enumerate() {
            let (x, y) = (number(x), number(y));
            if x.is_nan() && y.is_nan() || x == y {
                continue;
            }
            let d = (x - y).abs();
            assert!(
                d <= tol,
                "{what}: {name}[{i}] = {x}, Python says {y} (diff {d})"
            );
            worst = worst.max(d);
        }
    }
    worst
}

/// `node tests/js/<script> RUNTIME MODEL INPUTS`, the inputs written into `tmp`.
fn driver_command(
    script: &str,
    runtime: &Path,
    model: &Path,
    inputs: &Value,
    tmp: &Path,
) -> Command {
    let inputs_path = tmp.join(format!(
        "{}.{script}.inputs.json",
        model.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(&inputs_path, serde_json::to_vec(inputs).unwrap()).unwrap();
    let mut cmd = Command::new(node());
    cmd.current_dir(js_dir())
        .arg(script)
        .arg(runtime)
        .arg(model)
        .arg(&inputs_path);
    cmd
}

/// Runs `node tests/js/<script> RUNTIME MODEL INPUTS`; returns its JSON result.
pub fn run_driver_in(
    script: &str,
    runtime: &Path,
    model: &Path,
    inputs: &Value,
    tmp: &Path,
) -> Value {
    let started = Instant::now();
    let out = driver_command(script, runtime, model, inputs, tmp)
        .output()
        .expect("node runs");
    let wall = started.elapsed();
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    eprintln!(
        "{script} {}: wall {:.2} s, timings {}",
        model.file_name().unwrap().to_string_lossy(),
        wall.as_secs_f64(),
        result["timings_ms"]
    );
    result
}

/// Runs a driver that must fail; returns its stderr.
pub fn run_driver_failing(
    script: &str,
    runtime: &Path,
    model: &Path,
    inputs: &Value,
    tmp: &Path,
) -> String {
    let out = driver_command(script, runtime, model, inputs, tmp)
        .output()
        .expect("node runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{script} must fail, printed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    err
}

/// JSON numbers of `v` rounded to f32.
pub fn f32_values(v: impl IntoIterator<Item = f64>) -> Vec<Value> {
    v.into_iter().map(|x| json!(x as f32 as f64)).collect()
}

/// 32 ms of a 440 Hz tone at 16 kHz, a non-zero recurrent state, sr = 16000.
pub fn silero_inputs() -> Value {
    let audio = (0..512).map(|i| {
        let t = i as f64 / 16000.0;
        0.5 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
    });
    let state = synth_float(256).into_iter().map(|x| x * 0.1);
    json!({
        "input": tensor("float32", &[1, 512], f32_values(audio)),
        "state": tensor("float32", &[2, 1, 128], f32_values(state)),
        "sr": tensor("int64", &[], vec![json!(16000)]),
    })
}

/// Runs `cmd`, asserts it succeeded (showing its stderr), returns its stdout.
pub fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Path of a real model the oracle knows (`sigmoid`, `silero_vad`).
pub fn located(key: &str) -> PathBuf {
    let v: Value = serde_json::from_str(&oracle(&["locate"])).expect("locate JSON");
    PathBuf::from(
        v[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} not installed")),
    )
}

/// The scikit-learn models of scripts/oracle/sklearn_models.py, written into `dir`.
pub fn sklearn_models(dir: &Path) -> Vec<(String, PathBuf)> {
    let script = workspace().join("scripts/oracle/sklearn_models.py");
    let out = run_ok(Command::new("python3").arg(script).arg(dir));
    serde_json::from_slice(&out).expect("sklearn_models.py prints JSON")
}

/// The cache the builds use (the library's rule): `$ORT_COMPACT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/ort-compact-build`, else `~/.cache/ort-compact-build`.
pub fn real_cache() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var("ORT_COMPACT_CACHE_DIR") {
        return d;
    }
    if let Some(x) = var("XDG_CACHE_HOME") {
        return x.join("ort-compact-build");
    }
    var("HOME")
        .expect("HOME is set")
        .join(".cache/ort-compact-build")
}

/// A cache root `tmp/name` whose `shared` entries link to the real cache; the rest starts
/// empty (e.g. an artifact store of its own, so every build in it is a real miss).
pub fn partial_cache(tmp: &Path, name: &str, shared: &[&str]) -> PathBuf {
    let real = real_cache();
    let root = tmp.join(name);
    std::fs::create_dir_all(&root).unwrap();
    for s in shared {
        std::fs::create_dir_all(real.join(s)).unwrap();
        std::os::unix::fs::symlink(real.join(s), root.join(s)).unwrap();
    }
    root
}
