//! Value types: ONNX type strings (`tensor(float)`, `seq(tensor(int64))`, `map(string, float)`)
//! to [`TypeProto`], and small helpers on element types.

use crate::model::onnx::{type_proto, TypeProto};

/// ONNX element type codes by name (`TensorProto.DataType`).
const ELEM_TYPES: &[(&str, i32)] = &[
    ("float", 1),
    ("uint8", 2),
    ("int8", 3),
    ("uint16", 4),
    ("int16", 5),
    ("int32", 6),
    ("int64", 7),
    ("string", 8),
    ("bool", 9),
    ("float16", 10),
    ("double", 11),
    ("uint32", 12),
    ("uint64", 13),
    ("complex64", 14),
    ("complex128", 15),
    ("bfloat16", 16),
    ("float8e4m3fn", 17),
    ("float8e4m3fnuz", 18),
    ("float8e5m2", 19),
    ("float8e5m2fnuz", 20),
    ("uint4", 21),
    ("int4", 22),
];

/// Element type code for a name such as `float`.
pub(crate) fn elem_type_code(name: &str) -> Option<i32> {
    ELEM_TYPES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
}

/// A tensor type without shape.
pub(crate) fn tensor_type(elem_type: i32) -> TypeProto {
    TypeProto {
        value: Some(type_proto::Value::TensorType(type_proto::Tensor {
            elem_type,
            shape: None,
        })),
        denotation: String::new(),
    }
}

/// A sequence type.
pub(crate) fn sequence_type(elem: TypeProto) -> TypeProto {
    TypeProto {
        value: Some(type_proto::Value::SequenceType(Box::new(
            type_proto::Sequence {
                elem_type: Some(Box::new(elem)),
            },
        ))),
        denotation: String::new(),
    }
}

/// The element type code of a tensor type, if it is one with a known element type.
pub(crate) fn tensor_elem(t: &TypeProto) -> Option<i32> {
    match &t.value {
        Some(type_proto::Value::TensorType(tt)) if tt.elem_type != 0 => Some(tt.elem_type),
        _ => None,
    }
}

/// The element type of a sequence type.
pub(crate) fn sequence_elem(t: &TypeProto) -> Option<&TypeProto> {
    match &t.value {
        Some(type_proto::Value::SequenceType(s)) => s.elem_type.as_deref(),
        _ => None,
    }
}

/// Whether a type is complete enough to be written: tensors need an element type, sequences
/// and maps complete element types.
pub(crate) fn is_complete(t: &TypeProto) -> bool {
    match &t.value {
        Some(type_proto::Value::TensorType(tt)) => tt.elem_type != 0,
        Some(type_proto::Value::SequenceType(s)) => s.elem_type.as_deref().is_some_and(is_complete),
        Some(type_proto::Value::MapType(m)) => {
            m.key_type != 0 && m.value_type.as_deref().is_some_and(is_complete)
        }
        Some(type_proto::Value::OptionalType(o)) => o.elem_type.as_deref().is_some_and(is_complete),
        Some(type_proto::Value::SparseTensorType(s)) => s.elem_type != 0,
        Some(type_proto::Value::OpaqueType(_)) => true,
        None => false,
    }
}

/// The same type without shape information (used to compare types).
pub(crate) fn without_shape(t: &TypeProto) -> TypeProto {
    match &t.value {
        Some(type_proto::Value::TensorType(tt)) => tensor_type(tt.elem_type),
        _ => t.clone(),
    }
}

/// Parse an ONNX type string. A bare element name (used for map values) is a tensor type.
pub(crate) fn parse_type_str(s: &str) -> Option<TypeProto> {
    let s = s.trim();
    if let Some(inner) = strip_call(s, "tensor") {
        return Some(tensor_type(elem_type_code(inner)?));
    }
    if let Some(inner) = strip_call(s, "seq") {
        return Some(sequence_type(parse_type_str(inner)?));
    }
    if let Some(inner) = strip_call(s, "optional") {
        return Some(TypeProto {
            value: Some(type_proto::Value::OptionalType(Box::new(
                type_proto::Optional {
                    elem_type: Some(Box::new(parse_type_str(inner)?)),
                },
            ))),
            denotation: String::new(),
        });
    }
    if let Some(inner) = strip_call(s, "map") {
        let (key, value) = inner.split_once(',')?;
        return Some(TypeProto {
            value: Some(type_proto::Value::MapType(Box::new(type_proto::Map {
                key_type: elem_type_code(key.trim())?,
                value_type: Some(Box::new(parse_type_str(value)?)),
            }))),
            denotation: String::new(),
        });
    }
    if let Some(inner) = strip_call(s, "sparse_tensor") {
        return Some(TypeProto {
            value: Some(type_proto::Value::SparseTensorType(
                type_proto::SparseTensor {
                    elem_type: elem_type_code(inner)?,
                    shape: None,
                },
            )),
            denotation: String::new(),
        });
    }
    elem_type_code(s).map(tensor_type)
}

fn strip_call<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    s.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_strings() {
        assert_eq!(
            tensor_elem(&parse_type_str("tensor(int64)").unwrap()),
            Some(7)
        );
        let seq = parse_type_str("seq(map(string, float))").unwrap();
        let map = sequence_elem(&seq).unwrap();
        match &map.value {
            Some(type_proto::Value::MapType(m)) => {
                assert_eq!(m.key_type, 8);
                assert_eq!(tensor_elem(m.value_type.as_deref().unwrap()), Some(1));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_type_str("tensor(nonsense)").is_none());
        assert_eq!(elem_type_code("bfloat16"), Some(16));
    }
}
