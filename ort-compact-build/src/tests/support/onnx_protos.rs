//! Small builders for hand-made ONNX models in tests.

use crate::model::onnx::{type_proto, TypeProto, ValueInfoProto};

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
