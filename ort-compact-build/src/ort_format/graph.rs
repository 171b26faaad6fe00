//! Graph preparation: everything the ORT format stores that an `.onnx` file leaves implicit.
//!
//! For each graph (and, recursively, each If/Loop/Scan body) this lifts `Constant` nodes to
//! initializers, checks that every input is defined and the graph is acyclic, resolves each
//! node's schema and since-version, infers the element type of every value, and computes
//! implicit inputs (values a node's subgraphs take from outer scopes), node edges and input
//! argument counts. Node order and indices follow the model (minus `Constant` nodes).

use super::cast_like::cast_like_to_cast;
use super::infer::{infer_outputs, NodeTypes};
use super::schema::{FunctionBody, OpSchema, SchemaTable};
use super::scope::{free_vars, shaped_tensor_type, subgraph_input_hints, subgraphs_of};
use super::tensor::{constant_to_initializer, ConstantValue, ModelLocation};
use super::topo::topo_order;
use super::types::is_complete;
use crate::error::{Error, Result};
use crate::model::onnx::{
    type_proto, AttributeProto, GraphProto, NodeProto, SparseTensorProto, TensorProto, TypeProto,
};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Edge end as stored: (other node index, source output index, destination input index).
pub(crate) type EdgeEnd = (u32, i32, i32);

/// A graph ready to be written.
pub(crate) struct PreparedGraph<'a> {
    /// Dense initializers (the model's and lifted `Constant`s), unused ones dropped.
    pub initializers: Vec<Cow<'a, TensorProto>>,
    /// Sparse initializers.
    pub sparse_initializers: Vec<Cow<'a, SparseTensorProto>>,
    /// Every value the graph's nodes and signature refer to, with its type (`None` only for
    /// the empty name of an omitted optional argument).
    pub node_args: Vec<(String, Option<TypeProto>)>,
    /// Nodes in model order; `nodes[i].index == i`.
    pub nodes: Vec<PreparedNode<'a>>,
    /// Graph input names (including initializers listed as inputs).
    pub inputs: Vec<String>,
    /// Graph output names.
    pub outputs: Vec<String>,
    /// Types of the graph outputs.
    pub output_types: Vec<Option<TypeProto>>,
}

/// A node ready to be written.
pub(crate) struct PreparedNode<'a> {
    /// The ONNX node (owned when the converter rewrote it, e.g. `CastLike` → `Cast`).
    pub proto: Cow<'a, NodeProto>,
    /// Normalised domain (`""` for ai.onnx).
    pub domain: &'static str,
    /// Resolved schema.
    pub schema: &'static OpSchema,
    /// Node index.
    pub index: u32,
    /// Schema default values of optional attributes the node does not set (ONNX Runtime's
    /// graph resolution adds them; kernels of a minimal build expect them).
    pub default_attributes: Vec<&'static AttributeProto>,
    /// Prepared subgraphs by attribute position.
    pub subgraphs: Vec<(usize, PreparedGraph<'a>)>,
    /// Actual argument count per formal input.
    pub input_arg_counts: Vec<i32>,
    /// Outer-scope values used by the node's subgraphs.
    pub implicit_inputs: Vec<String>,
    /// Incoming edges.
    pub input_edges: Vec<EdgeEnd>,
    /// Outgoing edges.
    pub output_edges: Vec<EdgeEnd>,
}

/// Shared, read-only conversion context.
pub(crate) struct Context {
    /// The model file (for errors and external data).
    pub loc: ModelLocation,
    /// Imported opset per normalised domain.
    pub opsets: HashMap<String, i64>,
    /// The schema table.
    pub table: &'static SchemaTable,
}

/// Normalise a node or opset domain: `ai.onnx` is the default domain `""`.
pub(crate) fn normalize_domain(domain: &str) -> &str {
    if domain == "ai.onnx" {
        ""
    } else {
        domain
    }
}

pub(crate) fn display_name(node: &NodeProto, position: usize) -> String {
    if node.name.is_empty() {
        format!("#{position} ({})", node.op_type)
    } else {
        node.name.clone()
    }
}

fn is_constant(node: &NodeProto) -> bool {
    node.op_type == "Constant" && normalize_domain(&node.domain).is_empty()
}

/// Input argument counts per formal input, as ONNX Runtime computes them.
fn input_arg_counts(schema: &OpSchema, n_inputs: usize) -> Vec<i32> {
    let formals = schema.inputs.len();
    let total = i32::try_from(n_inputs).unwrap_or(i32::MAX);
    if formals == n_inputs {
        return vec![1; n_inputs];
    }
    let mut counts = Vec::with_capacity(formals.max(1));
    let mut left = total;
    for _ in 0..formals.saturating_sub(1) {
        if left > 0 {
            counts.push(1);
            left -= 1;
        } else {
            counts.push(0);
        }
    }
    counts.push(left);
    counts
}

/// Prepare one graph. `outer` holds the types of all values visible from enclosing graphs;
/// `input_hints` types the graph's inputs where the graph does not.
pub(crate) fn prepare_graph<'a>(
    cx: &Context,
    g: &'a GraphProto,
    outer: &HashMap<String, TypeProto>,
    input_hints: &[Option<TypeProto>],
) -> Result<PreparedGraph<'a>> {
    let loc = &cx.loc;
    // 1. Constant nodes become initializers.
    let mut initializers: Vec<Cow<'a, TensorProto>> =
        g.initializer.iter().map(Cow::Borrowed).collect();
    let mut sparse: Vec<Cow<'a, SparseTensorProto>> =
        g.sparse_initializer.iter().map(Cow::Borrowed).collect();
    let mut work: Vec<(usize, &'a NodeProto)> = Vec::new();
    for (pos, n) in g.node.iter().enumerate() {
        if is_constant(n) {
            match constant_to_initializer(loc, n, &display_name(n, pos))? {
                ConstantValue::Dense(t) => initializers.push(Cow::Owned(*t)),
                ConstantValue::Sparse(s) => sparse.push(Cow::Owned(*s)),
            }
        } else {
            work.push((pos, n));
        }
    }

    // 2. Types of graph inputs, initializers and annotated values.
    let mut types: HashMap<String, TypeProto> = outer.clone();
    let mut local: HashSet<&str> = HashSet::new();
    for t in &initializers {
        types.insert(t.name.clone(), shaped_tensor_type(t.data_type, &t.dims));
        local.insert(t.name.as_str());
    }
    for s in &sparse {
        let Some(values) = s.values.as_ref() else {
            return Err(loc.invalid_node("sparse initializer", "sparse tensor has no values"));
        };
        types.insert(
            values.name.clone(),
            shaped_tensor_type(values.data_type, &s.dims),
        );
        local.insert(values.name.as_str());
    }
    for (k, vi) in g.input.iter().enumerate() {
        let declared = vi.r#type.as_ref().filter(|t| is_complete(t)).cloned();
        let hinted = input_hints.get(k).cloned().flatten();
        match declared.or(hinted) {
            Some(t) => {
                types.insert(vi.name.clone(), t);
            }
            None if local.contains(vi.name.as_str()) => {}
            None => {
                return Err(Error::TypeInference {
                    path: loc.path.clone(),
                    node: "graph input".to_string(),
                    value: vi.name.clone(),
                })
            }
        }
        local.insert(vi.name.as_str());
    }
    let declared: HashMap<&str, &TypeProto> = g
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

    // 3. Producers, dependencies, definedness.
    let mut producer: HashMap<&str, (usize, usize)> = HashMap::new();
    for (w, (pos, n)) in work.iter().enumerate() {
        for (o, name) in n.output.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            if local.contains(name.as_str()) || producer.insert(name, (w, o)).is_some() {
                return Err(loc.invalid_node(
                    &display_name(n, *pos),
                    format!("value '{name}' is defined more than once"),
                ));
            }
        }
    }
    let node_free: Vec<Vec<String>> = work
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
            .chain(node_free[w].iter());
        for name in names {
            if let Some((p, _)) = producer.get(name.as_str()) {
                deps[w].push(*p);
            } else if !local.contains(name.as_str()) && !outer.contains_key(name) {
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
    let order = topo_order(cx, &work, &deps, &producer)?;

    // 4. Per node, in dependency order: schema, subgraphs, output types.
    let mut prepared: Vec<Option<PreparedNode<'a>>> = (0..work.len()).map(|_| None).collect();
    for w in order {
        let Some(&(pos, n)) = work.get(w) else {
            continue;
        };
        let name = display_name(n, pos);
        let domain = normalize_domain(&n.domain);
        let Some((&table_domain, _)) = cx.table.max_opset.get_key_value(domain) else {
            return Err(Error::UnknownDomain {
                path: loc.path.clone(),
                node: name,
                domain: n.domain.clone(),
            });
        };
        let Some(&opset) = cx.opsets.get(domain) else {
            return Err(loc.invalid_node(
                &name,
                format!(
                    "uses domain '{}' but the model does not import an opset for it",
                    n.domain
                ),
            ));
        };
        // CastLike has no CPU kernel at any opset (ORT always expands it to Cast); it is also
        // what the converter's own expansions use for typed constants, at any opset.
        let cast_like = domain.is_empty() && n.op_type == "CastLike";
        let resolved = if cast_like {
            cx.table.resolve(table_domain, "Cast", opset)
        } else {
            cx.table.resolve(table_domain, &n.op_type, opset)
        };
        let schema = resolved.ok_or_else(|| Error::UnknownOperator {
            path: loc.path.clone(),
            node: name.clone(),
            domain: if domain.is_empty() {
                "ai.onnx".to_string()
            } else {
                domain.to_string()
            },
            op_type: n.op_type.clone(),
            opset,
        })?;
        let input_types: Vec<Option<&TypeProto>> = n
            .input
            .iter()
            .map(|i| if i.is_empty() { None } else { types.get(i) })
            .collect();
        let (node, schema): (Cow<'a, NodeProto>, &'static OpSchema) =
            match cx.table.function(schema) {
                _ if cast_like => cast_like_to_cast(cx, n, &name, &input_types, opset)?,
                Some(FunctionBody::ContextDependent) => {
                    return Err(loc.invalid_node(
                        &name,
                        format!(
                        "operator {}-{} has no CPU kernel in ONNX Runtime 1.21.0, which expands \
                             it from a context-dependent ONNX function; this converter does not \
                             expand that function: export the model with the operator expanded \
                             (e.g. onnx.inliner or the exporter's decomposition)",
                        n.op_type, schema.since_version
                    ),
                    ))
                }
                _ => (Cow::Borrowed(n), schema),
            };
        let mut subgraphs = Vec::new();
        let mut subgraph_outputs = Vec::new();
        for (ai, attr) in n.attribute.iter().enumerate() {
            if !attr.graphs.is_empty() {
                return Err(loc.invalid_node(
                    &name,
                    format!(
                        "attribute '{}' is a list of graphs, which the ORT format cannot store",
                        attr.name
                    ),
                ));
            }
            if let Some(sub) = &attr.g {
                let hints = subgraph_input_hints(n, &attr.name, &input_types);
                let pg = prepare_graph(cx, sub, &types, &hints)?;
                subgraph_outputs.push((attr.name.as_str(), pg.output_types.clone()));
                subgraphs.push((ai, pg));
            }
        }
        let inferred = infer_outputs(&NodeTypes {
            node: &node,
            schema,
            inputs: input_types,
            subgraph_outputs,
        });
        for (o, out) in node.output.iter().enumerate() {
            if out.is_empty() {
                continue;
            }
            let t = declared
                .get(out.as_str())
                .map(|t| (*t).clone())
                .or_else(|| inferred.get(o).cloned().flatten().filter(is_complete))
                .ok_or_else(|| Error::TypeInference {
                    path: loc.path.clone(),
                    node: name.clone(),
                    value: out.clone(),
                })?;
            types.insert(out.clone(), t);
        }
        let input_arg_counts = input_arg_counts(schema, node.input.len());
        let default_attributes = schema
            .default_attributes
            .iter()
            .filter(|d| !node.attribute.iter().any(|a| a.name == d.name))
            .collect();
        prepared[w] = Some(PreparedNode {
            proto: node,
            domain: table_domain,
            schema,
            default_attributes,
            index: u32::try_from(w).unwrap_or(u32::MAX),
            subgraphs,
            input_arg_counts,
            implicit_inputs: node_free.get(w).cloned().unwrap_or_default(),
            input_edges: Vec::new(),
            output_edges: Vec::new(),
        });
    }
    let mut nodes: Vec<PreparedNode<'a>> = prepared.into_iter().flatten().collect();

    // 5. Edges.
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
    for n in &mut nodes {
        n.input_edges.sort_unstable();
        n.output_edges.sort_unstable();
    }

    // 6. Node args, in first-reference order.
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
    for n in &nodes {
        let user = display_name(&n.proto, n.index as usize);
        for name in n.proto.input.iter().chain(n.proto.output.iter()) {
            add(name, &user)?;
        }
        // Values of this graph that only nested subgraphs use (ONNX Runtime looks implicit
        // inputs up through the enclosing graphs, so only local ones belong here).
        for name in &n.implicit_inputs {
            if local.contains(name.as_str()) {
                add(name, &user)?;
            }
        }
    }
    for vi in &g.output {
        add(&vi.name, "graph output")?;
    }

    // 7. Drop initializers nothing uses.
    let mut used: HashSet<&str> = HashSet::new();
    used.extend(g.input.iter().map(|v| v.name.as_str()));
    used.extend(g.output.iter().map(|v| v.name.as_str()));
    for n in &nodes {
        used.extend(n.proto.input.iter().map(String::as_str));
        used.extend(n.implicit_inputs.iter().map(String::as_str));
    }
    initializers.retain(|t| used.contains(t.name.as_str()));
    sparse.retain(|s| {
        s.values
            .as_ref()
            .is_some_and(|v| used.contains(v.name.as_str()))
    });

    let output_types = g
        .output
        .iter()
        .map(|vi| types.get(&vi.name).cloned())
        .collect();
    Ok(PreparedGraph {
        initializers,
        sparse_initializers: sparse,
        node_args,
        nodes,
        inputs: g.input.iter().map(|v| v.name.clone()).collect(),
        outputs: g.output.iter().map(|v| v.name.clone()).collect(),
        output_types,
    })
}

/// Whether the ORT format can store a type (tensors, and sequences/maps of storable types).
fn storable(t: &TypeProto) -> bool {
    match &t.value {
        Some(type_proto::Value::TensorType(_)) => true,
        Some(type_proto::Value::SequenceType(s)) => s.elem_type.as_deref().is_some_and(storable),
        Some(type_proto::Value::MapType(m)) => m.value_type.as_deref().is_some_and(storable),
        _ => false,
    }
}
