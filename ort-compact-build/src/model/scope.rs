//! Scopes of ONNX graphs: the subgraphs a node holds and what a graph takes from the graphs
//! that enclose it.

use super::onnx::{GraphProto, NodeProto};
use std::collections::HashSet;

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
