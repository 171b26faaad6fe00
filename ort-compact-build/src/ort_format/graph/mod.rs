//! Graph preparation: everything the ORT format stores that an `.onnx` file leaves implicit.
//!
//! For each graph (and, recursively, each If/Loop/Scan body) this lifts `Constant` nodes to
//! initializers, checks that every input is defined and the graph is acyclic, resolves each
//! node's schema and since-version, infers the element type of every value, and computes
//! implicit inputs (values a node's subgraphs take from outer scopes), node edges and input
//! argument counts. Node order and indices follow the model (minus `Constant` nodes).
//!
//! [`prepare_graph`] runs the phases in order: `values` (1. `Constant`s lifted, 2. the types
//! known up front, 3. dependency order), `resolve` (4. per node: schema, subgraphs, output
//! types) and `link` (5. edges, 6. the node-arg table, 7. unused initializers dropped).

mod link;
mod resolve;
mod values;

use super::schema::{OpSchema, SchemaTable};
use crate::error::Result;
use crate::model::onnx::{
    type_proto, AttributeProto, GraphProto, NodeProto, SparseTensorProto, TensorProto, TypeProto,
};
use crate::model::ModelLocation;
use std::borrow::Cow;
use std::collections::HashMap;

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

/// Prepare one graph. `outer` holds the types of all values visible from enclosing graphs;
/// `input_hints` types the graph's inputs where the graph does not.
pub(crate) fn prepare_graph<'a>(
    cx: &Context,
    g: &'a GraphProto,
    outer: &HashMap<String, TypeProto>,
    input_hints: &[Option<TypeProto>],
) -> Result<PreparedGraph<'a>> {
    let lifted = values::lift_constants(&cx.loc, g)?;
    let mut known = values::known_types(&cx.loc, g, &lifted, outer, input_hints)?;
    let values::Lifted {
        mut initializers,
        mut sparse,
        work,
    } = lifted;
    let deps = values::dependencies(cx, &work, &known.local, outer)?;
    let mut prepared: Vec<Option<PreparedNode<'a>>> = (0..work.len()).map(|_| None).collect();
    for &w in &deps.order {
        let implicit = deps.implicit[w].clone();
        prepared[w] = Some(resolve::resolve_node(cx, work[w], w, implicit, &mut known)?);
    }
    let mut nodes: Vec<PreparedNode<'a>> = prepared.into_iter().flatten().collect();
    link::connect(&mut nodes, &deps.producer);
    let node_args = link::node_args(&cx.loc, g, &nodes, &known.types, &known.local)?;
    link::drop_unused(g, &nodes, &mut initializers, &mut sparse);
    let output_types = g
        .output
        .iter()
        .map(|vi| known.types.get(&vi.name).cloned())
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
