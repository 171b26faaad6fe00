//! Phases 5–7 of graph preparation: node edges, the node-arg table and unused initializers.

use super::{display_name, storable, PreparedNode};
use crate::error::{Error, Result};
use crate::model::onnx::{GraphProto, SparseTensorProto, TensorProto, TypeProto};
use crate::model::ModelLocation;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Phase 5: every node's incoming and outgoing edges (explicit inputs, then implicit ones),
/// from `producer` (node index and output slot per value).
pub(super) fn connect(nodes: &mut [PreparedNode<'_>], producer: &HashMap<&str, (usize, usize)>) {
    let mut edges: Vec<(usize, usize, i32, i32)> = Vec::new(); // (src node, dst node, src arg, dst arg)
    for (w, node) in nodes.iter().enumerate() {
        let explicit = node.proto.input.iter();
        let slots = explicit.chain(node.implicit_inputs.iter()).enumerate();
        for (slot, name) in slots {
            if let Some((p, o)) = producer.get(name.as_str()) {
                edges.push((*p, w, *o as i32, slot as i32));
            }
        }
    }
    for (src, dst, so, di) in edges {
        if let Some(n) = nodes.get_mut(dst) {
            n.input_edges.push((src as u32, so, di));
        }
        if let Some(n) = nodes.get_mut(src) {
            n.output_edges.push((dst as u32, so, di));
        }
    }
    for n in nodes {
        n.input_edges.sort_unstable();
        n.output_edges.sort_unstable();
    }
}

/// Phase 6: every value the graph's signature and nodes refer to, in first-reference order,
/// with its type (`None` only for the empty name of an omitted optional argument).
pub(super) fn node_args(
    loc: &ModelLocation,
    g: &GraphProto,
    nodes: &[PreparedNode<'_>],
    types: &HashMap<String, TypeProto>,
    local: &HashSet<String>,
) -> Result<Vec<(String, Option<TypeProto>)>> {
    let mut node_args: Vec<(String, Option<TypeProto>)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut add = |name: &str, user: &str| -> Result<()> {
        if !seen.insert(name.to_string()) {
            return Ok(());
        }
        if name.is_empty() {
            node_args.push((String::new(), None));
            return Ok(());
        }
        let t = types
            .get(name)
            .cloned()
            .ok_or_else(|| Error::TypeInference {
                path: loc.path.clone(),
                node: user.to_string(),
                value: name.to_string(),
            })?;
        if !storable(&t) {
            return Err(loc.invalid_node(
                user,
                format!(
                    "value '{name}' has an optional, sparse-tensor or opaque type, which the ORT \
                     format (and so a minimal ONNX Runtime build) cannot represent"
                ),
            ));
        }
        node_args.push((name.to_string(), Some(t)));
        Ok(())
    };
    for vi in &g.input {
        add(&vi.name, "graph input")?;
    }
    for n in nodes {
        let user = display_name(&n.proto, n.index as usize);
        for name in n.proto.input.iter().chain(n.proto.output.iter()) {
            add(name, &user)?;
        }
        // Values of this graph that only nested subgraphs use (ONNX Runtime looks implicit
        // inputs up through the enclosing graphs, so only local ones belong here).
        for name in &n.implicit_inputs {
            if local.contains(name) {
                add(name, &user)?;
            }
        }
    }
    for vi in &g.output {
        add(&vi.name, "graph output")?;
    }
    Ok(node_args)
}

/// Phase 7: drop the initializers nothing in the graph uses.
pub(super) fn drop_unused(
    g: &GraphProto,
    nodes: &[PreparedNode<'_>],
    initializers: &mut Vec<Cow<'_, TensorProto>>,
    sparse: &mut Vec<Cow<'_, SparseTensorProto>>,
) {
    let mut used: HashSet<&str> = HashSet::new();
    used.extend(g.input.iter().map(|v| v.name.as_str()));
    used.extend(g.output.iter().map(|v| v.name.as_str()));
    for n in nodes {
        used.extend(n.proto.input.iter().map(String::as_str));
        used.extend(n.implicit_inputs.iter().map(String::as_str));
    }
    initializers.retain(|t| used.contains(t.name.as_str()));
    sparse.retain(|s| {
        s.values
            .as_ref()
            .is_some_and(|v| used.contains(v.name.as_str()))
    });
}
