//! `TypeFamilies`: which of ORT's optional data-type families (sparse tensors, the optional
//! type, float8) a model needs, read from its converted `.ort` form, subgraphs included.

use super::support::onnx_protos;

use crate::model::onnx::{
    attribute_proto::AttributeType, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, SparseTensorProto, TensorProto, ValueInfoProto,
};
use crate::model::OrtModel;
use crate::ops::TypeFamilies;
use crate::ort_format;
use onnx_protos::tensor_vi;
use std::path::Path;

const FLOAT: i32 = 1;
const BOOL: i32 = 9;
const INT64: i32 = 7;
const FLOAT8E4M3FN: i32 = 17;

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute,
        ..Default::default()
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i,
        ..Default::default()
    }
}

fn graph_attr(name: &str, g: GraphProto) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Graph as i32,
        g: Some(g),
        ..Default::default()
    }
}

fn graph(nodes: Vec<NodeProto>, input: Vec<ValueInfoProto>, output: ValueInfoProto) -> GraphProto {
    GraphProto {
        name: "g".into(),
        node: nodes,
        input,
        output: vec![output],
        ..Default::default()
    }
}

/// Converts the model to the ORT format natively and reads its families.
fn families(g: GraphProto, opset: i64) -> TypeFamilies {
    let model = ModelProto {
        ir_version: 9,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(g),
        ..Default::default()
    };
    let path = Path::new("families.onnx");
    let bytes = ort_format::convert_model(&model, path, 0, crate::GraphOptimization::None)
        .expect("converting the test model");
    let ort = OrtModel::from_bytes(bytes, "families.ort").expect("reading the converted model");
    TypeFamilies::of_models(&[&ort])
}

#[test]
fn plain_float_model_needs_no_family() {
    let g = graph(
        vec![node("Relu", &["x"], "y", vec![])],
        vec![tensor_vi("x", FLOAT)],
        tensor_vi("y", FLOAT),
    );
    assert_eq!(families(g, 17), TypeFamilies::default());
}

#[test]
fn sparse_initializer_needs_sparse_tensors() {
    let sparse = SparseTensorProto {
        values: Some(TensorProto {
            name: "s".into(),
            data_type: FLOAT,
            dims: vec![1],
            float_data: vec![1.0],
            ..Default::default()
        }),
        indices: Some(TensorProto {
            data_type: INT64,
            dims: vec![1],
            int64_data: vec![2],
            ..Default::default()
        }),
        dims: vec![4],
    };
    let mut g = graph(
        vec![node("Add", &["x", "s"], "y", vec![])],
        vec![tensor_vi("x", FLOAT)],
        tensor_vi("y", FLOAT),
    );
    g.sparse_initializer.push(sparse);
    let f = families(g, 17);
    assert!(f.sparse_tensors, "{f:?}");
    assert!(!f.optional_type && !f.float8_types, "{f:?}");
}

#[test]
fn float8_value_needs_float8_types() {
    let g = graph(
        vec![
            node(
                "Cast",
                &["x"],
                "x8",
                vec![int_attr("to", FLOAT8E4M3FN as i64)],
            ),
            node("Cast", &["x8"], "y", vec![int_attr("to", FLOAT as i64)]),
        ],
        vec![tensor_vi("x", FLOAT)],
        tensor_vi("y", FLOAT),
    );
    let f = families(g, 19);
    assert!(
        f.float8_types && !f.sparse_tensors && !f.optional_type,
        "{f:?}"
    );
}

#[test]
fn float8_inside_a_subgraph_is_found() {
    let branch = |out: &str, cast_to: Option<i32>| {
        let nodes = match cast_to {
            Some(t) => vec![
                node("Cast", &["x"], "mid", vec![int_attr("to", t as i64)]),
                node("Cast", &["mid"], out, vec![int_attr("to", FLOAT as i64)]),
            ],
            None => vec![node("Identity", &["x"], out, vec![])],
        };
        graph(nodes, vec![], tensor_vi(out, FLOAT))
    };
    let g = graph(
        vec![node(
            "If",
            &["c"],
            "y",
            vec![
                graph_attr("then_branch", branch("t", Some(FLOAT8E4M3FN))),
                graph_attr("else_branch", branch("e", None)),
            ],
        )],
        vec![tensor_vi("c", BOOL), tensor_vi("x", FLOAT)],
        tensor_vi("y", FLOAT),
    );
    let f = families(g, 19);
    assert!(f.float8_types, "{f:?}");
}

#[test]
fn optional_operator_needs_the_optional_type() {
    let g = graph(
        vec![node("OptionalHasElement", &["x"], "y", vec![])],
        vec![tensor_vi("x", FLOAT)],
        tensor_vi("y", BOOL),
    );
    let f = families(g, 18);
    assert!(
        f.optional_type && !f.float8_types && !f.sparse_tensors,
        "{f:?}"
    );
}
