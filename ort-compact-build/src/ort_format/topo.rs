//! Dependency order of a graph's nodes, with cycle detection.

use super::graph::{display_name, Context};
use crate::error::Result;
use crate::model::onnx::NodeProto;
use std::collections::HashMap;

/// Kahn's algorithm, lowest model position first; a leftover node is on a cycle.
pub(crate) fn topo_order(
    cx: &Context,
    work: &[(usize, &NodeProto)],
    deps: &[Vec<usize>],
    producer: &HashMap<&str, (usize, usize)>,
) -> Result<Vec<usize>> {
    let n = work.len();
    let mut indegree = vec![0usize; n];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (w, ds) in deps.iter().enumerate() {
        for &d in ds {
            if let Some(c) = indegree.get_mut(w) {
                *c += 1;
            }
            if let Some(u) = users.get_mut(d) {
                u.push(w);
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|w| indegree.get(*w) == Some(&0)).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(w) = ready.pop_first() {
        order.push(w);
        for &u in users.get(w).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(c) = indegree.get_mut(u) {
                *c -= 1;
                if *c == 0 {
                    ready.insert(u);
                }
            }
        }
    }
    if order.len() < n {
        let stuck = (0..n).find(|w| indegree.get(*w).is_some_and(|c| *c > 0));
        if let Some((pos, node)) = stuck.and_then(|w| work.get(w)) {
            let on_cycle = |name: &&String| {
                producer
                    .get(name.as_str())
                    .is_some_and(|(p, _)| indegree.get(*p).is_some_and(|c| *c > 0))
            };
            let via = node
                .input
                .iter()
                .find(on_cycle)
                .cloned()
                .unwrap_or_default();
            return Err(cx.loc.invalid_node(
                &display_name(node, *pos),
                format!(
                    "the graph has a cycle: this node's input '{via}' depends on the node's own \
                     output"
                ),
            ));
        }
    }
    Ok(order)
}
