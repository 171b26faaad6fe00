//! Common subexpression elimination (as ONNX Runtime's basic level does): a node that computes
//! what an earlier node of the same graph computes (same operator, attributes and inputs) is
//! removed and its readers read the earlier node's outputs. Operators that draw random numbers
//! and nodes with subgraphs are never merged; neither is a node whose output must keep its name
//! (a graph output, read by a subgraph).

use super::node::in_onnx;
use super::uses::{remove, Uses};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use prost::Message;
use std::collections::HashMap;

/// Operators whose every run may give another result.
const RANDOM: &[&str] = &[
    "Bernoulli",
    "Multinomial",
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
];

/// What makes two nodes compute the same: operator, attributes (by name), inputs, outputs used.
fn key(n: &NodeProto) -> Option<Vec<u8>> {
    let subgraphs = n
        .attribute
        .iter()
        .any(|a| a.g.is_some() || !a.graphs.is_empty());
    if !in_onnx(n) || RANDOM.contains(&n.op_type.as_str()) || subgraphs || n.output.is_empty() {
        return None;
    }
    let mut attributes: Vec<_> = n.attribute.iter().collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut k = Vec::new();
    let mut field = |bytes: &[u8]| {
        k.extend((bytes.len() as u64).to_le_bytes());
        k.extend_from_slice(bytes);
    };
    field(n.op_type.as_bytes());
    for a in attributes {
        field(&a.encode_to_vec());
    }
    field(b"inputs");
    for i in &n.input {
        field(i.as_bytes());
    }
    field(b"outputs");
    for o in &n.output {
        field(&[u8::from(o.is_empty())]);
    }
    Some(k)
}

/// Nodes of `g` that repeat an earlier node, removed; returns how many.
pub(super) fn common_subexpressions(_: &Model, g: &mut GraphProto) -> usize {
    let uses = Uses::of(g);
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut gone = Vec::new();
    for k in 0..g.node.len() {
        for input in &mut g.node[k].input {
            if let Some(to) = renamed.get(input.as_str()) {
                *input = to.clone();
            }
        }
        let n = &g.node[k];
        let Some(key) = key(n) else { continue };
        let Some(&first) = seen.get(&key) else {
            seen.insert(key, k);
            continue;
        };
        if n.output.iter().any(|o| uses.observed(o)) {
            continue;
        }
        for (o, kept) in n.output.iter().zip(&g.node[first].output) {
            if !o.is_empty() {
                renamed.insert(o.clone(), kept.clone());
            }
        }
        gone.push(k);
    }
    remove(g, &gone)
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{AttributeProto, NodeProto};
    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{float_model, node, tensor_vi};
    use std::path::Path;

    fn with_axis(mut n: NodeProto, axis: i64) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: "axis".into(),
            r#type: 2,
            i: axis,
            ..Default::default()
        });
        n
    }

    #[test]
    fn repeated_computations_run_once() {
        let mut m = float_model(vec![
            node("a", "Relu", "", &["x"], &["a"]),
            node("b", "Relu", "", &["x"], &["b"]),
            node("k", "Relu", "", &["x"], &["kept"]),
            with_axis(node("sa", "Softmax", "", &["a"], &["sa"]), 1),
            with_axis(node("sb", "Softmax", "", &["b"], &["sb"]), 1),
            with_axis(node("sc", "Softmax", "", &["b"], &["sc"]), 0),
            node("r", "RandomUniformLike", "", &["x"], &["r1"]),
            node("s", "RandomUniformLike", "", &["x"], &["r2"]),
            node(
                "o",
                "Sum",
                "",
                &["sa", "sb", "sc", "r1", "r2", "kept"],
                &["y"],
            ),
        ]);
        m.graph.as_mut().unwrap().output.push(tensor_vi("kept", 1));
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        let g = m.graph.unwrap();
        let names: Vec<&str> = g.node.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "k", "sa", "sc", "r", "s", "o"]);
        assert_eq!(g.node[6].input, ["sa", "sa", "sc", "r1", "r2", "kept"]);
    }
}
