//! Small builders for hand-made ONNX models in tests.

use crate::model::onnx::{
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TypeProto,
    ValueInfoProto,
};

/// A tensor value of element type `elem_type` (ONNX `TensorProto.DataType`), shape unknown.
pub fn tensor_vi(name: &str, elem_type: i32) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type,
                shape: None,
            })),
            denotation: String::new(),
        }),
        ..Default::default()
    }
}

/// A node `op` (in `domain`, `""` for ai.onnx) named `name`.
pub fn node(name: &str, op: &str, domain: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op.into(),
        domain: domain.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// A model at ai.onnx opset 17 whose graph runs `nodes` from the float input `x` to the float
/// output `y`.
pub fn float_model(nodes: Vec<NodeProto>) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(GraphProto {
            name: "g".into(),
            node: nodes,
            input: vec![tensor_vi("x", 1)],
            output: vec![tensor_vi("y", 1)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An `If` on `cond` producing `y`, with the branches `branch("t")` and `branch("e")`.
pub fn if_node(cond: &str, branch: impl Fn(&str) -> GraphProto) -> NodeProto {
    let mut n = node("if", "If", "", &[cond], &["y"]);
    for (attr, g) in [("then_branch", "t"), ("else_branch", "e")] {
        n.attribute.push(AttributeProto {
            name: attr.into(),
            r#type: 5,
            g: Some(branch(g)),
            ..Default::default()
        });
    }
    n
}
