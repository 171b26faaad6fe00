//! Scopes: what a subgraph takes from enclosing graphs, and the types its inputs get when it does
//! not declare them (If/Loop/Scan/SequenceMap bodies).

use super::types::{sequence_elem, tensor_elem, tensor_type};
use crate::model::onnx::{
    tensor_shape_proto, type_proto, GraphProto, NodeProto, TensorShapeProto, TypeProto,
};
use std::collections::HashSet;

/// A tensor type with fixed dimensions.
pub(crate) fn shaped_tensor_type(elem_type: i32, dims: &[i64]) -> TypeProto {
    let mut t = tensor_type(elem_type);
    if let Some(type_proto::Value::TensorType(tt)) = &mut t.value {
        tt.shape = Some(TensorShapeProto {
            dim: dims
                .iter()
                .map(|d| tensor_shape_proto::Dimension {
                    value: Some(tensor_shape_proto::dimension::Value::DimValue(*d)),
                    denotation: String::new(),
                })
                .collect(),
        });
    }
    t
}

/// Names a graph uses but does not define (its outer-scope dependencies), in first-use order.
pub(crate) fn free_vars(g: &GraphProto) -> Vec<String> {
    let mut defined: HashSet<&str> = HashSet::new();
    defined.extend(g.input.iter().map(|v| v.name.as_str()));
    defined.extend(g.initializer.iter().map(|t| t.name.as_str()));
    defined.extend(
        g.sparse_initializer
            .iter()
            .filter_map(|s| s.values.as_ref())
            .map(|t| t.name.as_str()),
    );
    defined.extend(
        g.node
            .iter()
            .flat_map(|n| n.output.iter().map(String::as_str)),
    );
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |name: &str, out: &mut Vec<String>| {
        if !name.is_empty() && !defined.contains(name) && seen.insert(name.to_string()) {
            out.push(name.to_string());
        }
    };
    for n in &g.node {
        for i in &n.input {
            add(i, &mut out);
        }
        for sub in subgraphs_of(n) {
            for v in free_vars(sub) {
                add(&v, &mut out);
            }
        }
    }
    for o in &g.output {
        add(&o.name, &mut out);
    }
    out
}

/// The graphs held by a node's attributes.
pub(crate) fn subgraphs_of(n: &NodeProto) -> impl Iterator<Item = &GraphProto> {
    n.attribute
        .iter()
        .flat_map(|a| a.g.iter().chain(a.graphs.iter()))
}

/// Type hints for a subgraph's inputs when the subgraph does not declare them.
pub(crate) fn subgraph_input_hints(
    node: &NodeProto,
    attr_name: &str,
    input_types: &[Option<&TypeProto>],
) -> Vec<Option<TypeProto>> {
    let ty = |i: usize| input_types.get(i).copied().flatten().cloned();
    match (node.op_type.as_str(), attr_name) {
        ("Loop", "body") => {
            let mut v = vec![
                Some(shaped_tensor_type(7, &[])),
                Some(shaped_tensor_type(9, &[])),
            ];
            v.extend((2..node.input.len()).map(ty));
            v
        }
        ("Scan", "body") => {
            let m = node
                .attribute
                .iter()
                .find(|a| a.name == "num_scan_inputs")
                .map(|a| a.i)
                .unwrap_or(0);
            let m = usize::try_from(m).unwrap_or(0);
            let n_state = node.input.len().saturating_sub(m);
            (0..node.input.len())
                .map(|i| {
                    let t = ty(i)?;
                    if i < n_state {
                        Some(t)
                    } else {
                        tensor_elem(&t).map(tensor_type)
                    }
                })
                .collect()
        }
        ("SequenceMap", _) => (0..node.input.len())
            .map(|i| {
                let t = ty(i)?;
                Some(sequence_elem(&t).cloned().unwrap_or(t))
            })
            .collect(),
        _ => Vec::new(),
    }
}
