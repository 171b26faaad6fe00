//! Expansion of `SequenceMap` (no CPU kernel in ONNX Runtime 1.21.0, which expands it from a
//! context-dependent ONNX function) into a `Loop`.
//!
//! `SequenceMap(seq, extra…)` applies its `body` graph to the i-th element of every sequence
//! input (tensor inputs are passed whole) and collects each body output into an output sequence.
//! As a loop over `SequenceLength(seq)`: the body's inputs are bound with `SequenceAt` /
//! `Identity`, the body's nodes run unchanged, and each output is appended with
//! `SequenceInsert` to a loop-carried sequence that starts as `SequenceEmpty` of the body
//! output's declared element type.

use super::types::tensor_elem;
use crate::model::onnx::{
    attribute_proto::AttributeType, AttributeProto, GraphProto, NodeProto, TypeProto,
    ValueInfoProto,
};

fn node(name: String, op: &str, inputs: Vec<String>, outputs: Vec<String>) -> NodeProto {
    NodeProto {
        name,
        op_type: op.to_string(),
        input: inputs,
        output: outputs,
        ..Default::default()
    }
}

fn untyped(name: &str) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        ..Default::default()
    }
}

/// The nodes replacing a `SequenceMap` node. `is_sequence[i]` tells whether input `i` is a
/// sequence. `None` when the node cannot be expanded (no body, or a body output without a
/// declared tensor element type); the reason is returned as text.
pub(crate) fn expand(
    n: &NodeProto,
    prefix: &str,
    is_sequence: &[bool],
) -> Result<Vec<NodeProto>, String> {
    let body = n
        .attribute
        .iter()
        .find(|a| a.name == "body")
        .and_then(|a| a.g.as_ref())
        .ok_or("SequenceMap has no body graph")?;
    let seq0 = n
        .input
        .first()
        .filter(|s| !s.is_empty())
        .ok_or("SequenceMap has no input sequence")?;
    let v = |s: &str| format!("{prefix}{s}");
    let mut out = Vec::new();
    let len = v("len");
    out.push(node(
        v("length"),
        "SequenceLength",
        vec![seq0.clone()],
        vec![len.clone()],
    ));
    let mut loop_inputs = vec![len, String::new()];
    let mut body_inputs = vec![untyped(&v("iter")), untyped(&v("cond_in"))];
    let mut body_nodes = Vec::new();
    let mut body_outputs = vec![untyped(&v("cond_out"))];
    body_nodes.push(node(
        v("cond"),
        "Identity",
        vec![v("cond_in")],
        vec![v("cond_out")],
    ));
    // Bind the body's inputs to the current elements.
    for (i, formal) in body.input.iter().enumerate() {
        let actual = n.input.get(i).cloned().unwrap_or_default();
        let op = if is_sequence.get(i).copied().unwrap_or(false) {
            "SequenceAt"
        } else {
            "Identity"
        };
        let inputs = if op == "SequenceAt" {
            vec![actual, v("iter")]
        } else {
            vec![actual]
        };
        body_nodes.push(node(
            v(&format!("bind{i}")),
            op,
            inputs,
            vec![formal.name.clone()],
        ));
    }
    body_nodes.extend(body.node.iter().cloned());
    // One loop-carried output sequence per body output.
    for (j, o) in body.output.iter().enumerate() {
        let elem = o
            .r#type
            .as_ref()
            .and_then(tensor_elem)
            .ok_or_else(|| format!("body output '{}' has no declared tensor type", o.name))?;
        let empty = v(&format!("empty{j}"));
        let mut init = node(
            v(&format!("init{j}")),
            "SequenceEmpty",
            vec![],
            vec![empty.clone()],
        );
        init.attribute.push(AttributeProto {
            name: "dtype".to_string(),
            r#type: AttributeType::Int as i32,
            i: i64::from(elem),
            ..Default::default()
        });
        out.push(init);
        loop_inputs.push(empty);
        let acc_in = v(&format!("acc{j}_in"));
        let acc_out = v(&format!("acc{j}_out"));
        body_inputs.push(untyped(&acc_in));
        body_nodes.push(node(
            v(&format!("insert{j}")),
            "SequenceInsert",
            vec![acc_in, o.name.clone()],
            vec![acc_out.clone()],
        ));
        body_outputs.push(untyped(&acc_out));
    }
    let loop_body = GraphProto {
        name: v("body"),
        node: body_nodes,
        initializer: body.initializer.clone(),
        sparse_initializer: body.sparse_initializer.clone(),
        input: body_inputs,
        output: body_outputs,
        value_info: body.value_info.clone(),
        ..Default::default()
    };
    let mut lp = node(v("loop"), "Loop", loop_inputs, n.output.clone());
    lp.attribute.push(AttributeProto {
        name: "body".to_string(),
        r#type: AttributeType::Graph as i32,
        g: Some(loop_body),
        ..Default::default()
    });
    out.push(lp);
    Ok(out)
}

/// Whether a declared type is a sequence.
pub(crate) fn is_sequence_type(t: &TypeProto) -> bool {
    matches!(
        t.value,
        Some(crate::model::onnx::type_proto::Value::SequenceType(_))
    )
}
