//! Verify stage: run a model once in the freshly built runtime, under node.
//!
//! A small JS driver (embedded, written to a temporary directory per run) imports the built
//! `ort-wasm.mjs`, instantiates `ort-wasm.wasm` and calls ONNX Runtime's wasm C exports
//! directly: `OrtInit` → `OrtCreateSessionOptions` → `OrtCreateSession` (model bytes copied into
//! the heap) → `OrtCreateTensor` per input → `OrtRun` → `OrtGetTensorData` per output. It prints
//! one JSON line, which becomes a [`VerifyReport`] or an [`Error::Verification`].
//!
//! Input data is synthesised from each [`InputSpec`]: element `i` is `((7 i) mod 13 − 6) / 8`
//! for floating-point types, `i mod 2` for integers, `i mod 2 == 0` for bool and `"s<i mod 10>"`
//! for strings: small, deterministic values.
//!
//! What fails verification:
//! - the module cannot be loaded or lacks an export the driver needs;
//! - session creation fails: a node without kernel (ORT's "Could not find an implementation
//!   for Op(ver) node with name '…'", reported as "no kernel for Op(ver)") or a model the
//!   runtime cannot load;
//! - the run hits a missing kernel or type (status NOT_IMPLEMENTED), or traps (a
//!   `WebAssembly.RuntimeError`: the runtime itself is broken).
//!
//! A run that fails for any other reason (typically a shape check that the synthetic inputs do
//! not pass, e.g. a model needing 512 audio samples fed a dimension of 1) is not an error: the
//! session was created, so every kernel was found; the report carries the message in
//! [`VerifyReport::run_error`] so the caller can warn.

mod driver;
pub mod manifest;
pub mod message;
pub mod node;

pub use driver::runtime_files;
pub use manifest::verify_dir;
pub use message::parse_missing_kernel;
pub use node::{check_node, find_node};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many leading values of each output the report keeps.
pub const REPORT_VALUES: usize = 16;

/// ONNX `TensorProto.DataType` code of string tensors.
const STRING_TYPE: i32 = 8;

/// One model input: name, element type and concrete shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Input name as in the model.
    pub name: String,
    /// ONNX `TensorProto.DataType` code (1 = float, 7 = int64, 9 = bool, …).
    pub elem_type: i32,
    /// Shape; symbolic dimensions already replaced by concrete sizes (1 by default).
    pub dims: Vec<i64>,
}

/// Summary of one model output after the verification run.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSummary {
    /// Output name.
    pub name: String,
    /// ONNX element type code; `None` for non-tensor outputs (sequences, maps).
    pub elem_type: Option<i32>,
    /// Shape.
    pub dims: Vec<i64>,
    /// Number of elements.
    pub count: u64,
    /// The first values (16 at most) as f64 (bool as 0/1; NaN and infinities kept).
    pub values: Vec<f64>,
    /// The first values of a string tensor.
    pub strings: Vec<String>,
    /// Why the output could not be read (e.g. a sequence of maps is not a tensor).
    pub note: Option<String>,
}

/// What one verification run showed.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// The model that was run.
    pub model: PathBuf,
    /// Input names as the session reports them.
    pub inputs: Vec<String>,
    /// Outputs; empty when [`run_error`](Self::run_error) is set.
    pub outputs: Vec<OutputSummary>,
    /// The session was created but the run with synthetic inputs failed (not for a missing
    /// kernel): ORT's message.
    pub run_error: Option<String>,
    /// Driver-measured milliseconds per step (`load`, `init`, `session`, `inputs`, `run`, `outputs`).
    pub timings_ms: BTreeMap<String, f64>,
    /// Wall time of the whole node process.
    pub wall: Duration,
}

/// Runs `ort_model` once in the runtime in `runtime_dir` (see the module docs for what fails).
///
/// `inputs` must name every model input; `node` is checked to be at least version
/// 18.
pub fn verify_model(
    runtime_dir: &Path,
    ort_model: &Path,
    inputs: &[InputSpec],
    node: &Path,
) -> Result<VerifyReport> {
    check_node(node)?;
    let (mjs, wasm) = runtime_files(runtime_dir)?;
    if !ort_model.is_file() {
        return Err(Error::ModelNotFound {
            path: ort_model.to_path_buf(),
        });
    }
    let fail = |reason: String| Error::Verification {
        model: ort_model.to_path_buf(),
        reason,
    };
    for spec in inputs {
        if let Some(d) = spec.dims.iter().find(|d| **d < 0) {
            return Err(fail(format!(
                "input '{}' has dimension {d}; give concrete sizes (symbolic dims as 1)",
                spec.name
            )));
        }
    }
    let mjs = absolute(&mjs)?;
    let wasm = absolute(&wasm)?;
    let model = absolute(ort_model)?;
    let config = driver::DriverConfig {
        mjs: &mjs,
        wasm: &wasm,
        model: &model,
        max_values: REPORT_VALUES,
        inputs,
    };
    let run = driver::run_driver(node, &config)?;
    let result = run.result;
    let mut report = VerifyReport {
        model: ort_model.to_path_buf(),
        inputs: result.inputs,
        outputs: Vec::new(),
        run_error: None,
        timings_ms: result.timings_ms,
        wall: run.wall,
    };
    if result.ok {
        report.outputs = result.outputs.into_iter().map(summarise).collect();
        return Ok(report);
    }
    let error = result.error.unwrap_or(driver::DriverError {
        code: -1,
        message: "the driver reported failure without a message".to_string(),
        kind: "driver".to_string(),
    });
    match classify(&result.stage, &error) {
        Verdict::Fail(reason) => {
            let log = driver::tail(&run.stderr, 15);
            Err(fail(if log.is_empty() || error.kind == "status" {
                reason
            } else {
                format!("{reason}\nnode stderr (last lines):\n{log}")
            }))
        }
        Verdict::RunFailedOnSyntheticInputs(msg) => {
            report.run_error = Some(msg);
            Ok(report)
        }
    }
}

/// How a driver failure is judged.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// A verification error with this reason.
    Fail(String),
    /// Session fine, run failed for a reason unrelated to missing kernels.
    RunFailedOnSyntheticInputs(String),
}

fn classify(stage: &str, error: &driver::DriverError) -> Verdict {
    let msg = error.message.trim();
    if let Some(missing) = parse_missing_kernel(msg) {
        return Verdict::Fail(format!(
            "the runtime has no kernel for {missing}: the operator set the runtime was built \
             for does not cover this model; rebuild with this model included (ORT: {msg})"
        ));
    }
    let stage_text = match stage {
        "load" => "loading the runtime module",
        "init" => "OrtInit",
        "session" => "creating the session",
        "inputs" => "creating the input tensors",
        "run" => "running the model",
        "outputs" => "reading the outputs",
        _ => "the verify driver",
    };
    let at_run = matches!(stage, "run" | "outputs");
    if !at_run || error.kind == "trap" || error.kind == "driver" || error.kind == "load" {
        return Verdict::Fail(format!("{stage_text} failed: {msg}"));
    }
    if error.code == message::ORT_NOT_IMPLEMENTED || message::is_unsupported_type(msg) {
        return Verdict::Fail(format!(
            "{stage_text} failed: the runtime lacks a kernel or element type this model needs \
             (was it built with type reduction for other models?): {msg}"
        ));
    }
    Verdict::RunFailedOnSyntheticInputs(msg.to_string())
}

fn summarise(o: driver::DriverOutput) -> OutputSummary {
    let is_string = o.elem_type == Some(STRING_TYPE);
    let mut values = Vec::new();
    let mut strings = Vec::new();
    for v in &o.values {
        match v {
            serde_json::Value::String(s) if is_string => strings.push(s.clone()),
            serde_json::Value::Number(n) => values.push(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::Bool(b) => values.push(if *b { 1.0 } else { 0.0 }),
            serde_json::Value::String(s) => values.push(parse_special(s)),
            _ => values.push(f64::NAN),
        }
    }
    OutputSummary {
        count: o.count.unwrap_or(0),
        name: o.name,
        elem_type: o.elem_type,
        dims: o.dims,
        values,
        strings,
        note: o.error,
    }
}

/// Non-finite floats and out-of-range 64-bit integers arrive as strings.
fn parse_special(s: &str) -> f64 {
    match s {
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or(f64::NAN),
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io("resolving", p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: i64, kind: &str, message: &str) -> driver::DriverError {
        driver::DriverError {
            code,
            message: message.to_string(),
            kind: kind.to_string(),
        }
    }

    #[test]
    fn missing_kernel_at_session_names_the_op() {
        let v = classify(
            "session",
            &err(
                9,
                "status",
                "Could not find an implementation for Relu(14) node with name 'r'",
            ),
        );
        let Verdict::Fail(reason) = v else {
            panic!("{v:?}")
        };
        assert!(
            reason.contains("no kernel for Relu(14) (node 'r')"),
            "{reason}"
        );
    }

    #[test]
    fn load_failures_fail() {
        let v = classify(
            "session",
            &err(1, "status", "ORT model verification failed."),
        );
        assert!(matches!(v, Verdict::Fail(r) if r.contains("creating the session failed")));
        let v = classify(
            "load",
            &err(-1, "load", "the runtime module does not export: HEAPU8"),
        );
        assert!(matches!(v, Verdict::Fail(_)));
    }

    #[test]
    fn run_failures_on_synthetic_shapes_are_reported_not_fatal() {
        let v = classify(
            "run",
            &err(2, "status", "Input X must have 3 dimensions only."),
        );
        assert_eq!(
            v,
            Verdict::RunFailedOnSyntheticInputs("Input X must have 3 dimensions only.".into())
        );
    }

    #[test]
    fn run_traps_and_not_implemented_fail() {
        let v = classify("run", &err(-1, "trap", "the runtime trapped: unreachable"));
        assert!(matches!(v, Verdict::Fail(_)));
        let v = classify("run", &err(9, "status", "something not implemented"));
        assert!(matches!(v, Verdict::Fail(_)));
        let v = classify("run", &err(1, "status", "Unsupported data type: 11"));
        assert!(matches!(v, Verdict::Fail(_)));
    }

    #[test]
    fn special_values() {
        assert_eq!(parse_special("Infinity"), f64::INFINITY);
        assert_eq!(parse_special("-Infinity"), f64::NEG_INFINITY);
        assert!(parse_special("NaN").is_nan());
        assert_eq!(parse_special("9007199254740993"), 9007199254740992.0);
    }
}
