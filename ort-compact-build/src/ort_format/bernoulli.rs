//! Expansion of `Bernoulli` (no CPU kernel in ONNX Runtime 1.21.0, which expands it from a
//! context-dependent ONNX function): draw `u ~ U[0, 1)` shaped like the input (with the node's
//! `seed`), take `u < p`, and cast to `dtype` (default: the input's type).

use crate::model::onnx::{attribute_proto::AttributeType, AttributeProto, NodeProto};

fn node(name: String, op: &str, inputs: Vec<String>, output: String) -> NodeProto {
    NodeProto {
        name,
        op_type: op.to_string(),
        input: inputs,
        output: vec![output],
        ..Default::default()
    }
}

/// The nodes replacing a `Bernoulli` node (empty when it has no input or output).
pub(crate) fn expand(n: &NodeProto, prefix: &str) -> Vec<NodeProto> {
    let (Some(p), Some(out)) = (n.input.first(), n.output.first()) else {
        return Vec::new();
    };
    let v = |s: &str| format!("{prefix}{s}");
    let mut draw = node(v("draw"), "RandomUniformLike", vec![p.clone()], v("u"));
    draw.attribute
        .extend(n.attribute.iter().filter(|a| a.name == "seed").cloned());
    let less = node(v("less"), "Less", vec![v("u"), p.clone()], v("hit"));
    let cast = match n.attribute.iter().find(|a| a.name == "dtype") {
        Some(dtype) => {
            let mut c = node(v("cast"), "Cast", vec![v("hit")], out.clone());
            c.attribute.push(AttributeProto {
                name: "to".to_string(),
                r#type: AttributeType::Int as i32,
                i: dtype.i,
                ..Default::default()
            });
            c
        }
        None => node(
            v("cast"),
            "CastLike",
            vec![v("hit"), p.clone()],
            out.clone(),
        ),
    };
    vec![draw, less, cast]
}
