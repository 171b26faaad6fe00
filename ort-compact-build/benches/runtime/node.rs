//! Timing a runtime + model in node (tests/js/bench-node.mjs: onnxruntime-web 1.21.0, 1 thread),
//! several contenders in alternating rounds so a burst of other load on the machine hits all.

use ort_compact_test_support::verify::{run_ok, workspace};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Node processes per contender.
pub const ROUNDS: usize = 4;

/// A runtime directory and the model it runs.
pub struct Contender {
    /// Directory with the `.mjs` + `.wasm` pair.
    pub runtime: PathBuf,
    /// `.onnx` or `.ort` file.
    pub model: PathBuf,
}

/// One node process: session creation and `runs` timed runs after one warm-up run.
fn node_bench(c: &Contender, inputs_path: &Path, runs: usize) -> Value {
    let out = run_ok(
        Command::new("node")
            .current_dir(workspace().join("tests/js"))
            .arg("bench-node.mjs")
            .arg(&c.runtime)
            .arg(&c.model)
            .arg(inputs_path)
            .arg(runs.to_string()),
    );
    serde_json::from_slice(&out).expect("bench-node.mjs prints JSON")
}

/// The contenders timed in [`ROUNDS`] alternating rounds; per contender the median over rounds
/// of its session-create time and of its median run time.
pub fn alternating(
    contenders: &[Contender],
    inputs: &Value,
    runs: usize,
    tmp: &Path,
) -> Vec<Value> {
    let inputs_path = tmp.join("bench-inputs.json");
    std::fs::write(&inputs_path, inputs.to_string()).expect("write bench inputs");
    let mut rounds: Vec<Vec<Value>> = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (c, r) in contenders.iter().zip(&mut rounds) {
            r.push(node_bench(c, &inputs_path, runs));
        }
    }
    rounds
        .iter()
        .map(|r| {
            json!({
                "create_session_ms": median(r, "create_session_ms"),
                "median_run_ms": median(r, "median_run_ms"),
            })
        })
        .collect()
}

fn median(rounds: &[Value], key: &str) -> f64 {
    let mut v: Vec<f64> = rounds.iter().filter_map(|x| x[key].as_f64()).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
