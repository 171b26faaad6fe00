//! Phases 1–3 of graph preparation: `Constant` nodes lifted to initializers, the types known
//! before any node is resolved, and the order the nodes resolve in.

use super::{display_name, is_constant, Context};
use crate::error::{Error, Result};
use crate::model::onnx::{GraphProto, NodeProto, SparseTensorProto, TensorProto, TypeProto};
use crate::model::{constant_to_initializer, ConstantValue, ModelLocation};
use crate::ort_format::scope::{free_vars, shaped_tensor_type, subgraphs_of};
use crate::ort_format::topo::topo_order;
use crate::ort_format::types::is_complete;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// A graph's values after phase 1.
pub(super) struct Lifted<'a> {
    /// Dense initializers: the model's, then the lifted `Constant`s.
    pub initializers: Vec<Cow<'a, TensorProto>>,
    /// Sparse initializers, likewise.
    pub sparse: Vec<Cow<'a, SparseTensorProto>>,
    /// The other nodes with their position in the model.
    pub work: Vec<(usize, &'a NodeProto)>,
}

/// Phase 1: `Constant` nodes become initializers (as ONNX Runtime does on load).
pub(super) fn lift_constants<'a>(loc: &ModelLocation, g: &'a GraphProto) -> Result<Lifted<'a>> {
    let mut lifted = Lifted {
        initializers: g.initializer.iter().map(Cow::Borrowed).collect(),
        sparse: g.sparse_initializer.iter().map(Cow::Borrowed).collect(),
        work: Vec::new(),
    };
    for (pos, n) in g.node.iter().enumerate() {
        if !is_constant(n) {
            lifted.work.push((pos, n));
            continue;
        }
        match constant_to_initializer(loc, n, &display_name(n, pos))? {
            ConstantValue::Dense(t) => lifted.initializers.push(Cow::Owned(*t)),
            ConstantValue::Sparse(s) => lifted.sparse.push(Cow::Owned(*s)),
        }
    }
    Ok(lifted)
}

/// What is known of a graph's values before its nodes resolve.
pub(super) struct Known<'g> {
    /// The type of every value visible so far: outer scopes, graph inputs, initializers (node
    /// outputs are added as the nodes resolve).
    pub types: HashMap<String, TypeProto>,
    /// Values this graph defines without a node: its inputs and initializers.
    pub local: HashSet<String>,
    /// Complete types the model annotates (`value_info` and graph outputs).
    pub declared: HashMap<&'g str, &'g TypeProto>,
}

/// Phase 2: the types of graph inputs (declared, else `input_hints`), initializers and
/// annotated values.
pub(super) fn known_types<'g>(
    loc: &ModelLocation,
    g: &'g GraphProto,
    lifted: &Lifted<'_>,
    outer: &HashMap<String, TypeProto>,
    input_hints: &[Option<TypeProto>],
) -> Result<Known<'g>> {
    let mut types = outer.clone();
    let mut local = HashSet::new();
    for t in &lifted.initializers {
        types.insert(t.name.clone(), shaped_tensor_type(t.data_type, &t.dims));
        local.insert(t.name.clone());
    }
    for s in &lifted.sparse {
        let Some(values) = s.values.as_ref() else {
            return Err(loc.invalid_node("sparse initializer", "sparse tensor has no values"));
        };
        types.insert(
            values.name.clone(),
            shaped_tensor_type(values.data_type, &s.dims),
        );
        local.insert(values.name.clone());
    }
    for (k, vi) in g.input.iter().enumerate() {
        let declared = vi.r#type.as_ref().filter(|t| is_complete(t)).cloned();
        let hinted = input_hints.get(k).cloned().flatten();
        match declared.or(hinted) {
            Some(t) => {
                types.insert(vi.name.clone(), t);
            }
            None if local.contains(&vi.name) => {}
            None => {
                return Err(Error::TypeInference {
                    path: loc.path.clone(),
                    node: "graph input".to_string(),
                    value: vi.name.clone(),
                })
            }
        }
        local.insert(vi.name.clone());
    }
    let declared = g
        .value_info
        .iter()
        .chain(g.output.iter())
        .filter_map(|vi| {
            vi.r#type
                .as_ref()
                .filter(|t| is_complete(t))
                .map(|t| (vi.name.as_str(), t))
        })
        .collect();
    Ok(Known {
        types,
        local,
        declared,
    })
}

/// How a graph's nodes depend on each other.
pub(super) struct Dependencies<'a> {
    /// The producing node (index into the work list) and output slot of each node output.
    pub producer: HashMap<&'a str, (usize, usize)>,
    /// Per node, the outer values its subgraphs use (its implicit inputs), first use first.
    pub implicit: Vec<Vec<String>>,
    /// Indices into the work list in dependency order (lowest model position first).
    pub order: Vec<usize>,
}

/// Phase 3: producers, definedness of every input, dependency order (cycles refused).
pub(super) fn dependencies<'a>(
    cx: &Context,
    work: &[(usize, &'a NodeProto)],
    local: &HashSet<String>,
    outer: &HashMap<String, TypeProto>,
) -> Result<Dependencies<'a>> {
    let loc = &cx.loc;
    let mut producer: HashMap<&str, (usize, usize)> = HashMap::new();
    for (w, (pos, n)) in work.iter().enumerate() {
        for (o, name) in n.output.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            if local.contains(name) || producer.insert(name, (w, o)).is_some() {
                return Err(loc.invalid_node(
                    &display_name(n, *pos),
                    format!("value '{name}' is defined more than once"),
                ));
            }
        }
    }
    let implicit: Vec<Vec<String>> = work
        .iter()
        .map(|(_, n)| {
            let mut seen = HashSet::new();
            subgraphs_of(n)
                .flat_map(free_vars)
                .filter(|v| seen.insert(v.clone()))
                .collect()
        })
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); work.len()];
    for (w, (pos, n)) in work.iter().enumerate() {
        let names = n
            .input
            .iter()
            .filter(|i| !i.is_empty())
            .chain(implicit[w].iter());
        for name in names {
            if let Some((p, _)) = producer.get(name.as_str()) {
                deps[w].push(*p);
            } else if !local.contains(name) && !outer.contains_key(name) {
                return Err(loc.invalid_node(
                    &display_name(n, *pos),
                    format!(
                        "input '{name}' is not a graph input, an initializer or the output of \
                         another node"
                    ),
                ));
            }
        }
    }
    let order = topo_order(cx, work, &deps, &producer)?;
    Ok(Dependencies {
        producer,
        implicit,
        order,
    })
}
