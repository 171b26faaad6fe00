//! Small builders for hand-made ONNX models in tests.

use crate::model::onnx::{type_proto, NodeProto, TypeProto, ValueInfoProto};

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
