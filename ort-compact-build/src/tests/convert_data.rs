//! Tensor data encodings: raw, typed (`float_data`, `int64_data`, ...), external data files
//! resolved relative to the model, sparse initializers and `Constant` nodes. The converted model
//! is checked byte-wise and by running it in Python onnxruntime 1.21.0 (the oracle).

use super::support::onnx_protos;

use crate::model::onnx::{
    attribute_proto::AttributeType, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, SparseTensorProto, StringStringEntryProto, TensorProto,
};
use crate::ort_format;
use onnx_protos::tensor_vi;
use prost::Message;
use std::path::Path;
use std::process::Command;

fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        op_type: op.to_string(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.to_string()],
        ..Default::default()
    }
}

/// y = ((x * w_ext) + w_typed + sparse) * c, with x: float[4].
fn model() -> ModelProto {
    let w_ext = TensorProto {
        name: "w_ext".to_string(),
        data_type: 1,
        dims: vec![4],
        data_location: 1,
        external_data: vec![
            StringStringEntryProto {
                key: "location".to_string(),
                value: "weights.bin".to_string(),
            },
            StringStringEntryProto {
                key: "offset".to_string(),
                value: "8".to_string(),
            },
            StringStringEntryProto {
                key: "length".to_string(),
                value: "16".to_string(),
            },
        ],
        ..Default::default()
    };
    let w_typed = TensorProto {
        name: "w_typed".to_string(),
        data_type: 1,
        dims: vec![4],
        float_data: vec![10.0, 20.0, 30.0, 40.0],
        ..Default::default()
    };
    let sparse = SparseTensorProto {
        values: Some(TensorProto {
            name: "sparse".to_string(),
            data_type: 1,
            dims: vec![1],
            float_data: vec![100.0],
            ..Default::default()
        }),
        indices: Some(TensorProto {
            data_type: 7,
            dims: vec![1],
            int64_data: vec![2],
            ..Default::default()
        }),
        dims: vec![4],
    };
    let c = NodeProto {
        op_type: "Constant".to_string(),
        output: vec!["c".to_string()],
        attribute: vec![AttributeProto {
            name: "value_floats".to_string(),
            r#type: AttributeType::Floats as i32,
            floats: vec![1.0, 2.0, 3.0, 4.0],
            ..Default::default()
        }],
        ..Default::default()
    };
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(GraphProto {
            name: "data".to_string(),
            node: vec![
                c,
                node("Mul", &["x", "w_ext"], "a"),
                node("Add", &["a", "w_typed"], "b"),
                node("Add", &["b", "sparse"], "d"),
                node("Mul", &["d", "c"], "y"),
            ],
            initializer: vec![w_ext, w_typed],
            sparse_initializer: vec![sparse],
            input: vec![tensor_vi("x", 1)],
            output: vec![tensor_vi("y", 1)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn write_model(dir: &Path) -> std::path::PathBuf {
    let mut data = vec![0xAAu8; 8];
    data.extend(le_bytes(&[0.5, 1.5, 2.5, 3.5]));
    data.extend([0xBB; 8]);
    std::fs::write(dir.join("weights.bin"), data).unwrap();
    let path = dir.join("model.onnx");
    std::fs::write(&path, model().encode_to_vec()).unwrap();
    path
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn external_typed_sparse_and_constant_data_are_stored_raw() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_model(dir.path());
    let bytes = ort_format::convert(&path).unwrap();
    // External data (bytes 8..24 of weights.bin), typed float_data and the Constant's floats all
    // appear as little-endian raw data.
    assert!(contains(&bytes, &le_bytes(&[0.5, 1.5, 2.5, 3.5])));
    assert!(contains(&bytes, &le_bytes(&[10.0, 20.0, 30.0, 40.0])));
    assert!(contains(&bytes, &le_bytes(&[1.0, 2.0, 3.0, 4.0])));
    assert!(contains(&bytes, &100f32.to_le_bytes()));
    assert!(
        !contains(&bytes, &[0xAA; 8]),
        "bytes outside offset/length were read"
    );
}

/// Run a converted `.ort` with input `x` (float[4]) in Python onnxruntime (the test oracle,
/// installed by scripts/test.sh; the test fails without it) and return its output.
fn run_in_python(ort_path: &Path, x: [f32; 4]) -> Vec<f32> {
    let probe = Command::new("python3")
        .args(["-c", "import onnxruntime, numpy"])
        .status();
    assert!(
        probe.map(|s| s.success()).unwrap_or(false),
        "python3 with onnxruntime is needed: run scripts/test.sh (it installs the test oracle)"
    );
    let script = "import sys, numpy as np, onnxruntime as ort\n\
        o = ort.SessionOptions(); o.add_session_config_entry('session.load_model_format', 'ORT')\n\
        s = ort.InferenceSession(sys.argv[1], o, providers=['CPUExecutionProvider'])\n\
        x = np.array([float(v) for v in sys.argv[2:]], np.float32)\n\
        y = s.run(None, {'x': x})[0]\n\
        print(' '.join(str(float(v)) for v in y))";
    let run = Command::new("python3")
        .args(["-c", script])
        .arg(ort_path)
        .args(x.iter().map(|v| v.to_string()))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout)
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

#[test]
fn bernoulli_is_expanded_and_runs() {
    let m = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 15,
        }],
        graph: Some(GraphProto {
            name: "bernoulli".to_string(),
            node: vec![node("Bernoulli", &["x"], "y")],
            input: vec![tensor_vi("x", 1)],
            output: vec![tensor_vi("y", 1)],
            ..Default::default()
        }),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    let out = dir.path().join("b.ort");
    ort_format::convert_file(&path, &out).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert!(contains(&bytes, b":RandomUniformLike:"));
    assert!(
        !contains(&bytes, b":Bernoulli:"),
        "no Bernoulli kernel is needed"
    );
    // Probabilities 0 and 1 give certain outcomes.
    let y = run_in_python(&out, [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(y, [0.0, 1.0, 1.0, 0.0]);
}

#[test]
fn converted_model_runs_in_python_onnxruntime() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_model(dir.path());
    let out = dir.path().join("model.ort");
    ort_format::convert_file(&path, &out).unwrap();
    let got = run_in_python(&out, [1.0, 2.0, 3.0, 4.0]);
    // ((x * w_ext) + w_typed + sparse) * c
    let expected = [
        (1.0 * 0.5 + 10.0) * 1.0,
        (2.0 * 1.5 + 20.0) * 2.0,
        (3.0 * 2.5 + 30.0 + 100.0) * 3.0,
        (4.0 * 3.5 + 40.0) * 4.0,
    ];
    assert_eq!(got, expected);
}

#[test]
fn string_tensors_are_kept_byte_for_byte() {
    let raw = b"\xff\xfe not utf-8".to_vec();
    let m = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(GraphProto {
            name: "strings".to_string(),
            node: vec![node("Identity", &["s"], "y")],
            initializer: vec![TensorProto {
                name: "s".to_string(),
                data_type: 8,
                dims: vec![1],
                string_data: vec![raw.clone()],
                ..Default::default()
            }],
            output: vec![tensor_vi("y", 8)],
            ..Default::default()
        }),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    let bytes = ort_format::convert(&path).unwrap();
    let mut stored = (raw.len() as u32).to_le_bytes().to_vec();
    stored.extend(&raw);
    stored.push(0);
    assert!(contains(&bytes, &stored));
}

#[test]
fn converting_a_loaded_model_gives_the_same_bytes_as_converting_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_model(dir.path());
    let loaded =
        crate::model::OnnxModel::from_bytes(&std::fs::read(&path).unwrap(), &path).unwrap();
    assert_eq!(
        ort_format::convert_loaded(&loaded, crate::GraphOptimization::None).unwrap(),
        ort_format::convert(&path).unwrap()
    );
}
