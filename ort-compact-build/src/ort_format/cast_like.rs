//! `CastLike` → `Cast`: ONNX Runtime has no `CastLike` kernel at any opset and expands it to a
//! `Cast` to the element type of its second input, which graph preparation does here.

use super::graph::Context;
use super::schema::OpSchema;
use crate::error::{Error, Result};
use crate::model::onnx::{attribute_proto::AttributeType, AttributeProto, NodeProto, TypeProto};
use std::borrow::Cow;

/// `CastLike(x, like)` is `Cast(x, to = element type of like)`, which is what ONNX Runtime's
/// expansion of its function body produces.
pub(crate) fn cast_like_to_cast<'a>(
    cx: &Context,
    n: &NodeProto,
    name: &str,
    input_types: &[Option<&TypeProto>],
    opset: i64,
) -> Result<(Cow<'a, NodeProto>, &'static OpSchema)> {
    let target = input_types
        .get(1)
        .copied()
        .flatten()
        .and_then(super::types::tensor_elem)
        .ok_or_else(|| Error::TypeInference {
            path: cx.loc.path.clone(),
            node: name.to_string(),
            value: n.input.get(1).cloned().unwrap_or_default(),
        })?;
    let schema = cx.table.resolve("", "Cast", opset).ok_or_else(|| {
        cx.loc
            .invalid_node(name, format!("Cast is unknown at opset {opset}"))
    })?;
    let mut attribute: Vec<AttributeProto> = n
        .attribute
        .iter()
        .filter(|a| a.name == "saturate")
        .cloned()
        .collect();
    attribute.insert(
        0,
        AttributeProto {
            name: "to".to_string(),
            r#type: AttributeType::Int as i32,
            i: i64::from(target),
            ..Default::default()
        },
    );
    let cast = NodeProto {
        input: n.input.iter().take(1).cloned().collect(),
        output: n.output.clone(),
        name: n.name.clone(),
        op_type: "Cast".to_string(),
        domain: String::new(),
        attribute,
        doc_string: n.doc_string.clone(),
        ..Default::default()
    };
    Ok((Cow::Owned(cast), schema))
}
