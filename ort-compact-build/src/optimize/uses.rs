//! How a graph's values are used: the queries and the rewiring the passes share.

use super::value::Value;
use crate::model::onnx::{GraphProto, TensorProto};
use crate::model::{free_vars, subgraphs_of, ModelLocation};
use std::collections::{HashMap, HashSet};

/// What a pass must know of the graph it rewrites.
pub(super) struct Uses {
    /// Values that must keep their name and producer: the graph's outputs and what its nodes'
    /// subgraphs read from it.
    observed: HashSet<String>,
    /// How many node inputs read each value.
    readers: HashMap<String, usize>,
    /// Values a node of the graph produces.
    produced: HashSet<String>,
}

impl Uses {
    /// The uses of `g`'s values as it is now.
    pub fn of(g: &GraphProto) -> Uses {
        let mut observed: HashSet<String> = g.output.iter().map(|o| o.name.clone()).collect();
        let mut readers: HashMap<String, usize> = HashMap::new();
        let mut produced = HashSet::new();
        for n in &g.node {
            produced.extend(n.output.iter().filter(|o| !o.is_empty()).cloned());
            observed.extend(subgraphs_of(n).flat_map(free_vars));
            for i in n.input.iter().filter(|i| !i.is_empty()) {
                *readers.entry(i.clone()).or_default() += 1;
            }
        }
        Uses {
            observed,
            readers,
            produced,
        }
    }

    /// Whether `name` must keep its name and producer.
    pub fn observed(&self, name: &str) -> bool {
        self.observed.contains(name)
    }

    /// How many node inputs of the graph read `name`.
    pub fn readers(&self, name: &str) -> usize {
        self.readers.get(name).copied().unwrap_or(0)
    }

    /// Whether anything reads `name` (a node input, a subgraph, a graph output).
    pub fn used(&self, name: &str) -> bool {
        !name.is_empty() && (self.observed(name) || self.readers.contains_key(name))
    }
}

/// Join `input` and `output`, the input and output of a node that passes its input through,
/// so that the node can go: readers of `output` read `input` instead; or, when `output` must
/// keep its name (a graph output, read by a subgraph), the node producing `input` in this
/// graph produces it under the name `output` (and its readers follow) if `input` need not keep
/// its own. Refused (`false`, nothing changed) otherwise, or when either name is empty.
pub(super) fn bypass(g: &mut GraphProto, uses: &Uses, input: &str, output: &str) -> bool {
    if input.is_empty() || output.is_empty() {
        return false;
    }
    let (from, to) = if !uses.observed(output) {
        (output, input)
    } else if uses.produced.contains(input) && !uses.observed(input) {
        (input, output)
    } else {
        return false;
    };
    for n in &mut g.node {
        let names = n.input.iter_mut().chain(n.output.iter_mut());
        for name in names.filter(|name| *name == from) {
            *name = to.to_string();
        }
    }
    true
}

/// Remove the nodes at `indices` from `g`; returns how many.
pub(super) fn remove(g: &mut GraphProto, indices: &[usize]) -> usize {
    let gone: HashSet<usize> = indices.iter().copied().collect();
    let mut k = 0;
    g.node.retain(|_| {
        k += 1;
        !gone.contains(&(k - 1))
    });
    gone.len()
}

/// For each value of `g` a node reads, the index of a node reading it (the last one): where a
/// value with one reader goes.
pub(super) fn reader_index(g: &GraphProto) -> HashMap<&str, usize> {
    g.node
        .iter()
        .enumerate()
        .flat_map(|(k, n)| n.input.iter().map(move |i| (i.as_str(), k)))
        .collect()
}

/// For each value a node of `g` produces, the index of that node.
pub(super) fn producer_index(g: &GraphProto) -> HashMap<&str, usize> {
    let mut out = HashMap::new();
    for (k, n) in g.node.iter().enumerate() {
        for o in n.output.iter().filter(|o| !o.is_empty()) {
            out.insert(o.as_str(), k);
        }
    }
    out
}

/// The value of `name` when it is a constant of `g`: an initializer that is not also a graph
/// input (which a caller may feed another value at run time).
pub(super) fn constant(g: &GraphProto, loc: &ModelLocation, name: &str) -> Option<Value> {
    if g.input.iter().any(|i| i.name == name) {
        return None;
    }
    Value::of(initializer(g, name)?, loc)
}

/// The initializer of `g` named `name`.
pub(super) fn initializer<'g>(g: &'g GraphProto, name: &str) -> Option<&'g TensorProto> {
    g.initializer.iter().find(|t| t.name == name)
}

/// The matches of `found`, in order, that share no node with an earlier one (`nodes(m)`: the
/// nodes match `m` rewrites or removes).
pub(super) fn disjoint<M>(
    found: impl IntoIterator<Item = M>,
    nodes: impl Fn(&M) -> &[usize],
) -> Vec<M> {
    let mut taken = HashSet::new();
    let mut kept = Vec::new();
    for m in found {
        if nodes(&m).iter().any(|n| taken.contains(n)) {
            continue;
        }
        taken.extend(nodes(&m).iter().copied());
        kept.push(m);
    }
    kept
}

/// A name like `base` that no value of `names` has yet (added to `names`).
pub(super) fn fresh(names: &mut HashSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut k = 1;
    while names.contains(&name) {
        k += 1;
        name = format!("{base}{k}");
    }
    names.insert(name.clone());
    name
}
