//! Phase 4 of graph preparation, per node in dependency order: the operator schema and
//! since-version, the prepared subgraphs, and the types of the node's outputs.

use super::values::Known;
use super::{display_name, normalize_domain, prepare_graph, Context, PreparedGraph, PreparedNode};
use crate::error::{Error, Result};
use crate::model::onnx::{NodeProto, TypeProto};
use crate::ort_format::cast_like::cast_like_to_cast;
use crate::ort_format::infer::{infer_outputs, NodeTypes};
use crate::ort_format::schema::{FunctionBody, OpSchema};
use crate::ort_format::scope::subgraph_input_hints;
use crate::ort_format::types::is_complete;
use std::borrow::Cow;

/// Resolve node `n` (model position `pos`, work index `w`, implicit inputs `implicit`) and
/// record the types of its outputs in `known`.
pub(super) fn resolve_node<'a>(
    cx: &Context,
    (pos, n): (usize, &'a NodeProto),
    w: usize,
    implicit: Vec<String>,
    known: &mut Known<'_>,
) -> Result<PreparedNode<'a>> {
    let name = display_name(n, pos);
    let (table_domain, schema) = schema_of(cx, n, &name)?;
    let input_types: Vec<Option<&TypeProto>> = n
        .input
        .iter()
        .map(|i| {
            if i.is_empty() {
                None
            } else {
                known.types.get(i)
            }
        })
        .collect();
    let (node, schema) = expand(cx, n, &name, schema, &input_types)?;
    let mut subgraphs = Vec::new();
    let mut subgraph_outputs = Vec::new();
    for (ai, attr) in n.attribute.iter().enumerate() {
        if !attr.graphs.is_empty() {
            return Err(cx.loc.invalid_node(
                &name,
                format!(
                    "attribute '{}' is a list of graphs, which the ORT format cannot store",
                    attr.name
                ),
            ));
        }
        if let Some(sub) = &attr.g {
            let hints = subgraph_input_hints(n, &attr.name, &input_types);
            let pg: PreparedGraph<'a> = prepare_graph(cx, sub, &known.types, &hints)?;
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
        let t = known
            .declared
            .get(out.as_str())
            .map(|t| (*t).clone())
            .or_else(|| inferred.get(o).cloned().flatten().filter(is_complete))
            .ok_or_else(|| Error::TypeInference {
                path: cx.loc.path.clone(),
                node: name.clone(),
                value: out.clone(),
            })?;
        known.types.insert(out.clone(), t);
    }
    let input_arg_counts = input_arg_counts(schema, node.input.len());
    let default_attributes = schema
        .default_attributes
        .iter()
        .filter(|d| !node.attribute.iter().any(|a| a.name == d.name))
        .collect();
    Ok(PreparedNode {
        proto: node,
        domain: table_domain,
        schema,
        default_attributes,
        index: u32::try_from(w).unwrap_or(u32::MAX),
        subgraphs,
        input_arg_counts,
        implicit_inputs: implicit,
        input_edges: Vec::new(),
        output_edges: Vec::new(),
    })
}

/// The schema of `n` at the model's opset for its domain (`Cast`'s for `CastLike`), with the
/// domain as the schema table spells it.
fn schema_of(cx: &Context, n: &NodeProto, name: &str) -> Result<(&'static str, &'static OpSchema)> {
    let loc = &cx.loc;
    let domain = normalize_domain(&n.domain);
    let Some((&table_domain, _)) = cx.table.max_opset.get_key_value(domain) else {
        return Err(Error::UnknownDomain {
            path: loc.path.clone(),
            node: name.to_string(),
            domain: n.domain.clone(),
        });
    };
    let Some(&opset) = cx.opsets.get(domain) else {
        return Err(loc.invalid_node(
            name,
            format!(
                "uses domain '{}' but the model does not import an opset for it",
                n.domain
            ),
        ));
    };
    // CastLike has no CPU kernel at any opset (ORT always expands it to Cast); it is also
    // what the converter's own expansions use for typed constants, at any opset.
    let op_type = match is_cast_like(n) {
        true => "Cast",
        false => n.op_type.as_str(),
    };
    let schema = cx
        .table
        .resolve(table_domain, op_type, opset)
        .ok_or_else(|| Error::UnknownOperator {
            path: loc.path.clone(),
            node: name.to_string(),
            domain: if domain.is_empty() {
                "ai.onnx".to_string()
            } else {
                domain.to_string()
            },
            op_type: n.op_type.clone(),
            opset,
        })?;
    Ok((table_domain, schema))
}

fn is_cast_like(n: &NodeProto) -> bool {
    normalize_domain(&n.domain).is_empty() && n.op_type == "CastLike"
}

/// The node as stored: `CastLike` becomes `Cast`; an operator ORT only has as a
/// context-dependent function is refused.
fn expand<'a>(
    cx: &Context,
    n: &'a NodeProto,
    name: &str,
    schema: &'static OpSchema,
    input_types: &[Option<&TypeProto>],
) -> Result<(Cow<'a, NodeProto>, &'static OpSchema)> {
    if is_cast_like(n) {
        let opset = cx.opsets.get("").copied().unwrap_or_default();
        return cast_like_to_cast(cx, n, name, input_types, opset);
    }
    match cx.table.function(schema) {
        Some(FunctionBody::ContextDependent) => Err(cx.loc.invalid_node(
            name,
            format!(
                "operator {}-{} has no CPU kernel in ONNX Runtime 1.21.0, which expands it from a \
                 context-dependent ONNX function; this converter does not expand that function: \
                 export the model with the operator expanded (e.g. onnx.inliner or the \
                 exporter's decomposition)",
                n.op_type, schema.since_version
            ),
        )),
        _ => Ok((Cow::Borrowed(n), schema)),
    }
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
