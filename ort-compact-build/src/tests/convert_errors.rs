//! Bad input to the ONNX → ORT converter gives typed errors that name the node and value.

use super::support::onnx_protos::{node, tensor_vi};
use crate::model::onnx::{
    attribute_proto::AttributeType, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, ValueInfoProto,
};
use crate::{ort_format, Error};
use prost::Message;
use std::path::{Path, PathBuf};

fn model(opset: i64, nodes: Vec<NodeProto>, initializers: Vec<TensorProto>) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(GraphProto {
            name: "g".to_string(),
            node: nodes,
            initializer: initializers,
            input: vec![tensor_vi("x", 1)],
            output: vec![ValueInfoProto {
                name: "y".to_string(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn write(dir: &Path, m: &ModelProto) -> PathBuf {
    let path = dir.join("model.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    path
}

fn convert_err(m: &ModelProto) -> (Error, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), m);
    let out = dir.path().join("model.ort");
    let err = ort_format::convert_file(&path, &out).expect_err("conversion must fail");
    assert!(!out.exists(), "nothing may be written on failure");
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary files may be left behind");
    let text = err.to_string();
    (err, text)
}

#[test]
fn opset_too_new() {
    let (err, text) = convert_err(&model(
        23,
        vec![node("r", "Relu", "", &["x"], &["y"])],
        vec![],
    ));
    assert!(
        matches!(
            err,
            Error::OpsetTooNew {
                version: 23,
                max: 22,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        text.contains(
            "opset 23 of domain 'ai.onnx' is newer than ONNX Runtime 1.21.0 supports (at most 22)"
        ),
        "{text}"
    );
}

#[test]
fn unknown_operator() {
    let (err, text) = convert_err(&model(
        17,
        vec![node("frob", "Frobnicate", "", &["x"], &["y"])],
        vec![],
    ));
    assert!(matches!(err, Error::UnknownOperator { .. }), "{err:?}");
    assert!(
        text.contains("node 'frob': operator ai.onnx:Frobnicate is unknown at opset 17"),
        "{text}"
    );
    // An op that only exists in later opsets is unknown at an earlier one.
    let (_, text) = convert_err(&model(
        12,
        vec![node("g", "Gelu", "", &["x"], &["y"])],
        vec![],
    ));
    assert!(
        text.contains("operator ai.onnx:Gelu is unknown at opset 12"),
        "{text}"
    );
}

#[test]
fn unknown_domain() {
    let mut m = model(17, vec![node("c", "Custom", "", &["x"], &["y"])], vec![]);
    if let Some(g) = m.graph.as_mut() {
        g.node[0].domain = "my.custom".to_string();
    }
    let (err, text) = convert_err(&m);
    assert!(matches!(err, Error::UnknownDomain { .. }), "{err:?}");
    assert!(
        text.contains("node 'c' uses operator domain 'my.custom'"),
        "{text}"
    );
}

#[test]
fn type_inference_impossible() {
    // Cast without its `to` attribute: the output type cannot be known.
    let (err, text) = convert_err(&model(
        17,
        vec![node("cast", "Cast", "", &["x"], &["y"])],
        vec![],
    ));
    assert!(matches!(err, Error::TypeInference { .. }), "{err:?}");
    assert!(
        text.contains("node 'cast': cannot infer the element type of value 'y'"),
        "{text}"
    );
}

#[test]
fn missing_external_data() {
    let w = TensorProto {
        name: "w".to_string(),
        data_type: 1,
        dims: vec![1],
        data_location: 1,
        external_data: vec![StringStringEntryProto {
            key: "location".to_string(),
            value: "weights.bin".to_string(),
        }],
        ..Default::default()
    };
    let (err, text) = convert_err(&model(
        17,
        vec![node("mul", "Mul", "", &["x", "w"], &["y"])],
        vec![w],
    ));
    assert!(matches!(err, Error::ExternalData { .. }), "{err:?}");
    assert!(
        text.contains("tensor 'w' uses external data: cannot open data file"),
        "{text}"
    );
    assert!(text.contains("weights.bin"), "{text}");
}

#[test]
fn external_data_outside_model_dir() {
    let w = TensorProto {
        name: "w".to_string(),
        data_type: 1,
        dims: vec![1],
        data_location: 1,
        external_data: vec![StringStringEntryProto {
            key: "location".to_string(),
            value: "../../etc/passwd".to_string(),
        }],
        ..Default::default()
    };
    let (err, text) = convert_err(&model(
        17,
        vec![node("mul", "Mul", "", &["x", "w"], &["y"])],
        vec![w],
    ));
    assert!(matches!(err, Error::ExternalData { .. }), "{err:?}");
    assert!(text.contains("must be a relative path inside"), "{text}");
}

#[test]
fn cycle() {
    let nodes = vec![
        node("a", "Add", "", &["x", "b_out"], &["a_out"]),
        node("b", "Relu", "", &["a_out"], &["b_out"]),
        node("c", "Relu", "", &["a_out"], &["y"]),
    ];
    let (err, text) = convert_err(&model(17, nodes, vec![]));
    assert!(matches!(err, Error::InvalidNode { .. }), "{err:?}");
    assert!(text.contains("node 'a': the graph has a cycle"), "{text}");
    assert!(text.contains("'b_out'"), "{text}");
}

#[test]
fn undefined_input() {
    let (err, text) = convert_err(&model(
        17,
        vec![node("r", "Add", "", &["x", "nope"], &["y"])],
        vec![],
    ));
    assert!(matches!(err, Error::InvalidNode { .. }), "{err:?}");
    assert!(
        text.contains("node 'r': input 'nope' is not a graph input, an initializer or the output of another node"),
        "{text}"
    );
}

#[test]
fn value_defined_twice() {
    let nodes = vec![
        node("a", "Relu", "", &["x"], &["y"]),
        node("b", "Relu", "", &["x"], &["y"]),
    ];
    let (_, text) = convert_err(&model(17, nodes, vec![]));
    assert!(
        text.contains("node 'b': value 'y' is defined more than once"),
        "{text}"
    );
}

#[test]
fn missing_and_invalid_files() {
    let err = ort_format::convert(Path::new("/nonexistent/model.onnx")).unwrap_err();
    assert!(matches!(err, Error::ModelNotFound { .. }), "{err:?}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.onnx");
    std::fs::write(&bad, b"\xff\xff\xff\xff not protobuf").unwrap();
    let err = ort_format::convert(&bad).unwrap_err();
    assert!(matches!(err, Error::InvalidOnnx { .. }), "{err:?}");
}

#[test]
fn constant_lifting_and_inference_succeed() {
    // Constant -> initializer, and y's type (not annotated) inferred through Add.
    let c = NodeProto {
        name: "c".to_string(),
        op_type: "Constant".to_string(),
        output: vec!["k".to_string()],
        attribute: vec![crate::model::onnx::AttributeProto {
            name: "value_float".to_string(),
            r#type: AttributeType::Float as i32,
            f: 2.0,
            ..Default::default()
        }],
        ..Default::default()
    };
    let m = model(
        17,
        vec![c, node("add", "Add", "", &["x", "k"], &["y"])],
        vec![],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &m);
    let bytes = ort_format::convert(&path).unwrap();
    assert_eq!(bytes.get(4..8), Some(&b"ORTM"[..]));
    // The lifted constant is stored as an initializer named after the Constant's output, and
    // no Constant node remains.
    let hay = String::from_utf8_lossy(&bytes);
    assert!(!hay.contains("Constant"));
    assert!(hay.contains(":Add:14"));
}
