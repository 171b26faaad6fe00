//! Bad input to the model readers and the operator extraction: every case is a typed error that
//! names the file (and the node where there is one), never a panic.

use super::support::onnx_protos::{float_model, node, tensor_vi};
use crate::model::onnx::{
    attribute_proto::AttributeType, tensor_proto::DataLocation, AttributeProto, GraphProto,
    NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
};
use crate::model::{ort_schema as s, ModelFile, OnnxModel, OrtModel};
use crate::ops::{required_ops, required_ops_of_files};
use crate::Error;
use flatbuffers::FlatBufferBuilder;
use ort_compact_test_support::oracle::oracle_model;
use prost::Message;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn ops_err(path: &Path) -> Error {
    required_ops_of_files(&[path], true).expect_err("expected an error")
}

/// A minimal `.ort` file with one node, written with the schema constants.
fn ort_file(version: &str, op_type: Option<&str>, domain: &str) -> Vec<u8> {
    let mut b = FlatBufferBuilder::new();
    let name = b.create_string("n0");
    let dom = b.create_string(domain);
    let op = op_type.map(|o| b.create_string(o));
    let start = b.start_table();
    b.push_slot_always(s::node::NAME, name);
    b.push_slot_always(s::node::DOMAIN, dom);
    if let Some(op) = op {
        b.push_slot_always(s::node::OP_TYPE, op);
    }
    b.push_slot::<i32>(s::node::SINCE_VERSION, 13, 0);
    let node = b.end_table(start);
    let nodes = b.create_vector(&[node]);
    let start = b.start_table();
    b.push_slot_always(s::graph::NODES, nodes);
    let graph = b.end_table(start);
    let start = b.start_table();
    b.push_slot::<i64>(s::model::IR_VERSION, 8, 0);
    b.push_slot_always(s::model::GRAPH, graph);
    let model = b.end_table(start);
    let v = b.create_string(version);
    let start = b.start_table();
    b.push_slot_always(s::inference_session::ORT_VERSION, v);
    b.push_slot_always(s::inference_session::MODEL, model);
    let root = b.end_table(start);
    b.finish(root, Some(s::FILE_IDENTIFIER));
    b.finished_data().to_vec()
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["nope.onnx", "nope.ort"] {
        let p = dir.path().join(name);
        let e = ops_err(&p);
        assert!(matches!(e, Error::ModelNotFound { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("model file {} does not exist", p.display())
        );
    }
}

#[test]
fn directory_given() {
    let dir = tempfile::tempdir().unwrap();
    let e = ops_err(dir.path());
    assert!(matches!(e, Error::ModelIsDirectory { .. }), "{e:?}");
    assert!(
        e.to_string().contains("is a directory, not a model file"),
        "{e}"
    );
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.onnx", "empty.ort", "empty"] {
        let p = write(dir.path(), name, b"");
        let e = ops_err(&p);
        assert!(matches!(e, Error::EmptyModel { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("model file {} is empty", p.display())
        );
    }
}

#[test]
fn not_a_protobuf() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        (
            "text.onnx",
            b"this is a text file, not a model\n".as_slice(),
        ),
        ("binary.onnx", &[0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]),
        ("json.onnx", b"{\"graph\": []}"),
    ] {
        let p = write(dir.path(), name, bytes);
        let e = ops_err(&p);
        assert!(matches!(e, Error::InvalidOnnx { .. }), "{name}: {e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("{} is not a valid ONNX model", p.display())),
            "{msg}"
        );
    }
}

#[test]
fn not_a_flatbuffer() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "junk.ort", b"definitely not a flatbuffer");
    let e = ops_err(&p);
    assert!(matches!(e, Error::InvalidOrtFormat { .. }), "{e:?}");
    assert!(
        e.to_string().contains("file identifier 'ORTM' not found"),
        "{e}"
    );

    // The identifier alone is not enough: the buffer is verified.
    let mut bytes = vec![0xee; 64];
    bytes[4..8].copy_from_slice(b"ORTM");
    let p = write(dir.path(), "fake.ort", &bytes);
    let e = ops_err(&p);
    assert!(matches!(e, Error::InvalidOrtFormat { .. }), "{e:?}");
    assert!(
        e.to_string().contains("flatbuffer verification failed"),
        "{e}"
    );
}

#[test]
fn truncated_onnx() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(oracle_model("silero-vad/silero_vad").onnx()).unwrap();
    let mut errors = 0;
    for k in 1..64 {
        let cut = full.len() * k / 64;
        let p = write(dir.path(), "cut.onnx", &full[..cut]);
        match ModelFile::load(&p) {
            Err(Error::InvalidOnnx { reason, .. }) => {
                assert!(reason.contains("truncated"), "{reason}");
                errors += 1;
            }
            Err(Error::InvalidNode { reason, .. }) => {
                assert!(reason.contains("does not parse"), "{reason}");
                errors += 1;
            }
            Err(e) => panic!("cut at {cut}: unexpected {e:?}"),
            Ok(_) => panic!("cut at {cut} of {} was accepted", full.len()),
        }
    }
    assert_eq!(errors, 63);
}

#[test]
fn truncated_ort() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(oracle_model("silero-vad/silero_vad").ort()).unwrap();
    for k in 1..64 {
        let cut = (full.len() * k / 64).max(8);
        let p = write(dir.path(), "cut.ort", &full[..cut]);
        match OrtModel::load(&p) {
            Err(e @ (Error::InvalidOrtFormat { .. } | Error::InvalidNode { .. })) => {
                let msg = e.to_string();
                assert!(msg.contains(&p.display().to_string()), "{msg}");
            }
            Err(e) => panic!("cut at {cut}: unexpected {e:?}"),
            Ok(_) => panic!("cut at {cut} of {} was accepted", full.len()),
        }
    }
    // A flipped byte anywhere never panics.
    for pos in (0..full.len()).step_by(full.len() / 997 + 1) {
        let mut bytes = full.clone();
        bytes[pos] ^= 0x5a;
        if let Ok(m) = OrtModel::from_bytes(bytes, "flipped.ort") {
            let _ = required_ops(&ModelFile::Ort(m), true);
        }
    }
}

#[test]
fn wrong_ort_format_version() {
    let dir = tempfile::tempdir().unwrap();
    for version in ["4", "7", "x"] {
        let p = write(dir.path(), "v.ort", &ort_file(version, Some("Relu"), ""));
        let e = ops_err(&p);
        assert!(matches!(e, Error::OrtFormatVersion { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(&format!(
                "{} uses ORT format version {version}; ONNX Runtime 1.21.0 reads version 5 or 6",
                p.display()
            )),
            "{e}"
        );
    }
    // Versions 5 and 6 are read; the since-version is the opset.
    for version in ["5", "6"] {
        let p = write(dir.path(), "ok.ort", &ort_file(version, Some("Relu"), ""));
        let cfg = required_ops_of_files(&[&p], false).unwrap();
        assert_eq!(cfg.to_string(), "ai.onnx;13;Relu\n");
    }
}

#[test]
fn unknown_domain() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = float_model(vec![node(
        "custom0",
        "Frobnicate",
        "com.example",
        &["x"],
        &["y"],
    )]);
    model.opset_import.push(OperatorSetIdProto {
        domain: "com.example".into(),
        version: 1,
    });
    let p = write(dir.path(), "custom.onnx", &model.encode_to_vec());
    let e = ops_err(&p);
    assert!(matches!(e, Error::UnknownDomain { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(&format!(
            "{}: node 'custom0' uses operator domain 'com.example'",
            p.display()
        )),
        "{e}"
    );
    let p = write(
        dir.path(),
        "custom.ort",
        &ort_file("6", Some("Frobnicate"), "com.example"),
    );
    let e = ops_err(&p);
    assert!(
        e.to_string()
            .contains("node 'n0' uses operator domain 'com.example'"),
        "{e}"
    );
}

#[test]
fn domain_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let model = float_model(vec![node("z", "ZipMap", "ai.onnx.ml", &["x"], &["y"])]);
    let p = write(dir.path(), "noimport.onnx", &model.encode_to_vec());
    let e = ops_err(&p);
    assert!(
        e.to_string()
            .contains("node 'z': ai.onnx.ml:ZipMap: the model does not import an opset of domain"),
        "{e}"
    );
}

#[test]
fn node_without_op_type() {
    let dir = tempfile::tempdir().unwrap();
    let model = float_model(vec![
        node("", "Relu", "", &["x"], &["t"]),
        node("", "", "", &["t"], &["y"]),
    ]);
    let p = write(dir.path(), "noop.onnx", &model.encode_to_vec());
    let e = ops_err(&p);
    assert!(matches!(e, Error::InvalidNode { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("{}: node '#1': the node has no op_type", p.display())
    );
    let p = write(dir.path(), "noop.ort", &ort_file("6", None, ""));
    let e = ops_err(&p);
    assert_eq!(
        e.to_string(),
        format!("{}: node 'n0': the node has no op_type", p.display())
    );
}

/// Encodes a model whose If node's `then_branch` holds `graph_bytes` verbatim.
fn model_with_raw_subgraph(graph_bytes: &[u8]) -> Vec<u8> {
    #[derive(Clone, PartialEq, prost::Message)]
    struct RawAttr {
        #[prost(string, tag = "1")]
        name: String,
        #[prost(bytes = "vec", tag = "6")]
        g: Vec<u8>,
        #[prost(int32, tag = "20")]
        r#type: i32,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct RawNode {
        #[prost(string, repeated, tag = "1")]
        input: Vec<String>,
        #[prost(string, repeated, tag = "2")]
        output: Vec<String>,
        #[prost(string, tag = "3")]
        name: String,
        #[prost(string, tag = "4")]
        op_type: String,
        #[prost(message, repeated, tag = "5")]
        attribute: Vec<RawAttr>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct RawGraph {
        #[prost(message, repeated, tag = "1")]
        node: Vec<RawNode>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct RawModel {
        #[prost(int64, tag = "1")]
        ir_version: i64,
        #[prost(message, optional, tag = "7")]
        graph: Option<RawGraph>,
        #[prost(message, repeated, tag = "8")]
        opset_import: Vec<OperatorSetIdProto>,
    }
    RawModel {
        ir_version: 8,
        graph: Some(RawGraph {
            node: vec![RawNode {
                input: vec!["c".into()],
                output: vec!["y".into()],
                name: "if_node".into(),
                op_type: "If".into(),
                attribute: vec![RawAttr {
                    name: "then_branch".into(),
                    g: graph_bytes.to_vec(),
                    r#type: AttributeType::Graph as i32,
                }],
            }],
        }),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
    }
    .encode_to_vec()
}

#[test]
fn graph_attribute_that_fails_to_parse() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "badsub.onnx",
        &model_with_raw_subgraph(&[0x0a, 0x50, 0x01]),
    );
    let e = ops_err(&p);
    assert!(matches!(e, Error::InvalidNode { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: node 'if_node': graph attribute 'then_branch' does not parse",
            p.display()
        )),
        "{msg}"
    );
    // A good subgraph is followed into.
    let sub = GraphProto {
        node: vec![node("inner", "Relu", "", &["x"], &["y"])],
        ..Default::default()
    };
    let p = write(
        dir.path(),
        "goodsub.onnx",
        &model_with_raw_subgraph(&sub.encode_to_vec()),
    );
    let cfg = required_ops_of_files(&[&p], false).unwrap();
    assert_eq!(cfg.to_string(), "ai.onnx;17;If,Relu\n");
}

#[test]
fn nested_subgraphs_and_functions_in_onnx() {
    let dir = tempfile::tempdir().unwrap();
    let inner = GraphProto {
        node: vec![node("", "Sigmoid", "", &["x"], &["s"])],
        ..Default::default()
    };
    let middle = GraphProto {
        node: vec![NodeProto {
            attribute: vec![AttributeProto {
                name: "body".into(),
                r#type: AttributeType::Graph as i32,
                g: Some(inner),
                ..Default::default()
            }],
            ..node("loop", "Loop", "", &["", "", "x"], &["z"])
        }],
        ..Default::default()
    };
    let mut model = float_model(vec![
        NodeProto {
            attribute: vec![AttributeProto {
                name: "else_branch".into(),
                r#type: AttributeType::Graph as i32,
                g: Some(middle),
                ..Default::default()
            }],
            ..node("if", "If", "", &["c"], &["y"])
        },
        node("call", "MyFn", "local", &["x"], &["w"]),
    ]);
    model.functions.push(crate::model::onnx::FunctionProto {
        name: "MyFn".into(),
        domain: "local".into(),
        node: vec![node("", "Softmax", "", &["x"], &["w"])],
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        ..Default::default()
    });
    let p = write(dir.path(), "nested.onnx", &model.encode_to_vec());
    let cfg = required_ops_of_files(&[&p], false).unwrap();
    assert_eq!(
        cfg.to_string(),
        "ai.onnx;13;Softmax\nai.onnx;17;If,Loop,Sigmoid\n"
    );
}

#[test]
fn onnx_types_need_value_info() {
    let dir = tempfile::tempdir().unwrap();
    let model = float_model(vec![
        node("a", "Relu", "", &["x"], &["t"]),
        node("b", "Sigmoid", "", &["t"], &["y"]),
    ]);
    let p = write(dir.path(), "notypes.onnx", &model.encode_to_vec());
    let e = ops_err(&p);
    assert!(matches!(e, Error::TypeInference { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("node 'b': cannot infer the element type of value 't'"),
        "{e}"
    );
    let mut model = model;
    model
        .graph
        .as_mut()
        .unwrap()
        .value_info
        .push(tensor_vi("t", 1));
    let p = write(dir.path(), "types.onnx", &model.encode_to_vec());
    let cfg = required_ops_of_files(&[&p], true).unwrap();
    assert_eq!(
        cfg.to_string(),
        "ai.onnx;17;Relu{\"inputs\": {\"0\": [\"float\"]}},Sigmoid{\"inputs\": {\"0\": [\"float\"]}}\n"
    );
}

#[test]
fn external_data_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let weights = TensorProto {
        name: "w".into(),
        dims: vec![2],
        data_type: 1,
        data_location: DataLocation::External as i32,
        external_data: vec![
            StringStringEntryProto {
                key: "location".into(),
                value: "weights.bin".into(),
            },
            StringStringEntryProto {
                key: "offset".into(),
                value: "4".into(),
            },
            StringStringEntryProto {
                key: "length".into(),
                value: "8".into(),
            },
        ],
        ..Default::default()
    };
    let mut model = float_model(vec![node("add", "Add", "", &["x", "w"], &["y"])]);
    model
        .graph
        .as_mut()
        .unwrap()
        .initializer
        .push(weights.clone());
    let p = write(dir.path(), "ext.onnx", &model.encode_to_vec());
    // Operator analysis does not need the data (and the types come from the initializer).
    let cfg = required_ops_of_files(&[&p], true).unwrap();
    assert_eq!(
        cfg.to_string(),
        "ai.onnx;17;Add{\"inputs\": {\"0\": [\"float\"]}}\n"
    );
    // Reading the data itself (offset, length, paths inside the model's directory) is the
    // converter's job: see convert_errors and convert_data. The files it names, subgraph
    // attributes included, are what a build script announces to cargo.
    let mut in_subgraph = weights.clone();
    in_subgraph.external_data[0].value = "sub/const.bin".into();
    let mut constant = node("c", "Constant", "", &[], &["k"]);
    constant.attribute.push(AttributeProto {
        name: "value".into(),
        r#type: AttributeType::Tensor as i32,
        t: Some(in_subgraph),
        ..Default::default()
    });
    let mut branch = node("if", "If", "", &["cond"], &["k"]);
    branch.attribute.push(AttributeProto {
        name: "then_branch".into(),
        r#type: AttributeType::Graph as i32,
        g: Some(GraphProto {
            node: vec![constant],
            ..Default::default()
        }),
        ..Default::default()
    });
    model.graph.as_mut().unwrap().node.push(branch);
    let loaded = OnnxModel::from_bytes(&model.encode_to_vec(), &p).unwrap();
    assert_eq!(
        loaded.external_data_files(),
        [
            dir.path().join("sub/const.bin"),
            dir.path().join("weights.bin")
        ]
    );
}

#[test]
fn ort_graph_attribute_that_fails_to_verify() {
    let m = oracle_model("testdata-node/test_if");
    let bytes = std::fs::read(m.ort()).unwrap();
    let model = OrtModel::from_bytes(bytes.clone(), m.ort()).unwrap();
    let graph = model.graph().unwrap();
    let (node, attr, pos) = graph
        .nodes()
        .find_map(|n| {
            n.attributes().find_map(|a| {
                a.g()
                    .map(|g| (n.display_name(), a.name().to_owned(), g.position()))
            })
        })
        .expect("test_if has a subgraph");
    // Point the subgraph's vtable offset outside the buffer.
    let mut bad = bytes;
    bad[pos..pos + 4].copy_from_slice(&0x7fff_fff0_i32.to_le_bytes());
    let e = OrtModel::from_bytes(bad, m.ort()).unwrap_err();
    assert!(matches!(e, Error::InvalidNode { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: node '{node}': graph attribute '{attr}' is not a valid ORT-format graph",
            m.ort().display()
        )),
        "{msg}"
    );
}
