//! Reading a node as the passes need it (its operator and its attributes), and writing the
//! attributes a fusion gives it.

use crate::model::onnx::{AttributeProto, NodeProto};

/// Whether `n` is in the default (ai.onnx) domain.
pub(super) fn in_onnx(n: &NodeProto) -> bool {
    n.domain.is_empty() || n.domain == "ai.onnx"
}

/// Whether `n` is the ai.onnx operator `op_type`.
pub(super) fn is_onnx(n: &NodeProto, op_type: &str) -> bool {
    n.op_type == op_type && in_onnx(n)
}

/// The attribute `name` of `n`.
pub(super) fn attr<'n>(n: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

/// The integer attribute `name` of `n`.
pub(super) fn attr_int(n: &NodeProto, name: &str) -> Option<i64> {
    attr(n, name).map(|a| a.i)
}

/// The integer list attribute `name` of `n`.
pub(super) fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

/// `AttributeProto.AttributeType` codes.
const FLOAT: i32 = 1;
const INT: i32 = 2;

/// A float attribute `name` = `f`.
pub(super) fn float_attr(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: FLOAT,
        f,
        ..Default::default()
    }
}

/// An integer attribute `name` = `i`.
pub(super) fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: INT,
        i,
        ..Default::default()
    }
}
