//! Expansion of function-defined operators that ONNX Runtime 1.21.0 has no CPU kernel for, and
//! of calls to model-local functions (`ModelProto.functions`), which ORT also inlines on load.
//!
//! ORT inlines such nodes when it loads an `.onnx` (a minimal build, reading `.ort`, cannot), so
//! the converter does the same for operators whose ONNX function body is fixed (`HardSwish`,
//! `Mish`): the node is replaced by the body's nodes, with the body's formal inputs/outputs
//! bound to the node's arguments, internal values renamed uniquely, and attribute references
//! resolved from the node. Context-dependent bodies are written here as rules:
//! `NegativeLogLikelihoodLoss` and `SoftmaxCrossEntropyLoss` in [`losses`], `SequenceMap` in
//! [`sequence_map`], `Bernoulli` in [`bernoulli`], `GroupNormalization` in [`group_norm`];
//! `CastLike` becomes `Cast` during graph preparation; `CenterCropPad` is reported as
//! unsupported there.

use super::bernoulli;
use super::graph::normalize_domain;
use super::group_norm;
use super::losses;
use super::schema::{FunctionBody, SchemaTable};
use super::sequence_map;
use crate::error::{Error, Result};
use crate::model::onnx::{FunctionProto, GraphProto, ModelProto, NodeProto};
use prost::Message;
use std::collections::HashMap;
use std::path::Path;

/// Whether each known value is a sequence (`true`) or a tensor (`false`), from declarations.
type Kinds = HashMap<String, bool>;

fn is_onnx_op(n: &NodeProto, op_type: &str) -> bool {
    n.op_type == op_type && normalize_domain(&n.domain).is_empty()
}

fn is_sequence_map(n: &NodeProto) -> bool {
    is_onnx_op(n, "SequenceMap")
}

/// Nesting limit for bodies that use other function-defined operators.
const MAX_DEPTH: usize = 8;

/// Inliner state.
struct Inliner<'t> {
    table: &'t SchemaTable,
    /// Model-local functions by (domain, name).
    local: HashMap<(&'t str, &'t str), &'t FunctionProto>,
    opsets: &'t HashMap<String, i64>,
    path: &'t Path,
    counter: usize,
}

impl Inliner<'_> {
    /// The fixed body a node expands to, if any: a model-local function, or the ONNX function
    /// of an operator without a CPU kernel.
    fn body_for(&self, node: &NodeProto) -> Result<Option<FunctionProto>> {
        if let Some(f) = self
            .local
            .get(&(node.domain.as_str(), node.op_type.as_str()))
        {
            return Ok(Some((*f).clone()));
        }
        let domain = normalize_domain(&node.domain);
        let Some(&opset) = self.opsets.get(domain) else {
            return Ok(None);
        };
        let Some(schema) = self.table.resolve(domain, &node.op_type, opset) else {
            return Ok(None);
        };
        match self.table.function(schema) {
            Some(FunctionBody::Fixed(bytes)) => FunctionProto::decode(bytes.as_slice())
                .map(Some)
                .map_err(|e| Error::InvalidNode {
                    path: self.path.to_path_buf(),
                    node: node.name.clone(),
                    reason: format!("function body of {} is unreadable: {e}", node.op_type),
                }),
            _ => Ok(None),
        }
    }

    fn any_to_inline(&self, g: &GraphProto) -> Result<bool> {
        for n in &g.node {
            if self.body_for(n)?.is_some()
                || self.is_loss(n)
                || is_sequence_map(n)
                || is_onnx_op(n, "Bernoulli")
                || self.group_norm_version(n).is_some()
            {
                return Ok(true);
            }
            for a in &n.attribute {
                for sub in a.g.iter().chain(a.graphs.iter()) {
                    if self.any_to_inline(sub)? {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// The schema version of a `GroupNormalization` node, if it is one.
    fn group_norm_version(&self, n: &NodeProto) -> Option<i32> {
        if !is_onnx_op(n, "GroupNormalization") {
            return None;
        }
        let opset = self.opsets.get("").copied()?;
        let schema = self.table.resolve("", "GroupNormalization", opset)?;
        Some(schema.since_version)
    }

    fn is_loss(&self, n: &NodeProto) -> bool {
        let opset = self.opsets.get("").copied().unwrap_or(0);
        normalize_domain(&n.domain).is_empty() && losses::handles(n, opset)
    }

    fn inline_graph(&mut self, g: &mut GraphProto, outer: &Kinds) -> Result<()> {
        let mut kinds = outer.clone();
        let declared = g.input.iter().chain(&g.value_info).chain(&g.output);
        for vi in declared {
            if let Some(t) = &vi.r#type {
                kinds.insert(vi.name.clone(), sequence_map::is_sequence_type(t));
            }
        }
        for t in &g.initializer {
            kinds.insert(t.name.clone(), false);
        }
        let nodes = std::mem::take(&mut g.node);
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            self.expand_into(n, &mut out, 0, &kinds)?;
        }
        g.node = out;
        Ok(())
    }

    fn prefix_for(&mut self, n: &NodeProto) -> String {
        self.counter += 1;
        let base = if n.name.is_empty() {
            n.op_type.as_str()
        } else {
            n.name.as_str()
        };
        format!("{base}_inlined{}_", self.counter)
    }

    /// The nodes replacing `n`, or `None` to keep it.
    fn expansion(&mut self, n: &NodeProto, kinds: &Kinds) -> Result<Option<Vec<NodeProto>>> {
        if is_sequence_map(n) {
            let mut is_seq = Vec::with_capacity(n.input.len());
            for i in &n.input {
                let kind = kinds.get(i).copied().ok_or_else(|| Error::InvalidNode {
                    path: self.path.to_path_buf(),
                    node: n.name.clone(),
                    reason: format!(
                        "cannot expand SequenceMap: whether input '{i}' is a sequence or a tensor \
                         is not declared; add value_info for it"
                    ),
                })?;
                is_seq.push(kind);
            }
            let prefix = self.prefix_for(n);
            return sequence_map::expand(n, &prefix, &is_seq)
                .map(Some)
                .map_err(|reason| Error::InvalidNode {
                    path: self.path.to_path_buf(),
                    node: n.name.clone(),
                    reason: format!("cannot expand SequenceMap: {reason}"),
                });
        }
        if let Some(since) = self.group_norm_version(n) {
            let prefix = self.prefix_for(n);
            if let Some(nodes) = group_norm::expand(n, since, &prefix) {
                return Ok(Some(nodes));
            }
        }
        if is_onnx_op(n, "Bernoulli") {
            let prefix = self.prefix_for(n);
            return Ok(Some(bernoulli::expand(n, &prefix)));
        }
        if self.is_loss(n) {
            let prefix = self.prefix_for(n);
            return Ok(Some(losses::expand(n, &prefix)));
        }
        let Some(body) = self.body_for(n)? else {
            return Ok(None);
        };
        let prefix = self.prefix_for(n);
        let mut rename: HashMap<&str, String> = HashMap::new();
        for (i, formal) in body.input.iter().enumerate() {
            rename.insert(formal, n.input.get(i).cloned().unwrap_or_default());
        }
        for (i, formal) in body.output.iter().enumerate() {
            rename.insert(formal, n.output.get(i).cloned().unwrap_or_default());
        }
        let map = |name: &String| -> String {
            if name.is_empty() {
                return String::new();
            }
            rename
                .get(name.as_str())
                .cloned()
                .unwrap_or_else(|| format!("{prefix}{name}"))
        };
        let mut nodes = Vec::with_capacity(body.node.len());
        for (k, bn) in body.node.iter().enumerate() {
            let mut inner = bn.clone();
            inner.name = if bn.name.is_empty() {
                format!("{prefix}{k}")
            } else {
                format!("{prefix}{}", bn.name)
            };
            inner.input = bn.input.iter().map(map).collect();
            inner.output = bn.output.iter().map(map).collect();
            inner.attribute = bn
                .attribute
                .iter()
                .filter_map(|a| {
                    if a.ref_attr_name.is_empty() {
                        return Some(a.clone());
                    }
                    let from_node = n
                        .attribute
                        .iter()
                        .chain(body.attribute_proto.iter())
                        .find(|x| x.name == a.ref_attr_name)?;
                    let mut resolved = from_node.clone();
                    resolved.name = a.name.clone();
                    Some(resolved)
                })
                .collect();
            nodes.push(inner);
        }
        Ok(Some(nodes))
    }

    fn expand_into(
        &mut self,
        mut n: NodeProto,
        out: &mut Vec<NodeProto>,
        depth: usize,
        kinds: &Kinds,
    ) -> Result<()> {
        if depth >= MAX_DEPTH {
            out.push(n);
            return Ok(());
        }
        match self.expansion(&n, kinds)? {
            Some(nodes) => {
                for inner in nodes {
                    self.expand_into(inner, out, depth + 1, kinds)?;
                }
            }
            None => {
                for a in &mut n.attribute {
                    if let Some(sub) = a.g.as_mut() {
                        self.inline_graph(sub, kinds)?;
                    }
                    for sub in &mut a.graphs {
                        self.inline_graph(sub, kinds)?;
                    }
                }
                out.push(n);
            }
        }
        Ok(())
    }
}

/// The model with fixed-body function operators expanded, or `None` when it has none.
pub(crate) fn inline_functions(
    model: &ModelProto,
    table: &SchemaTable,
    opsets: &HashMap<String, i64>,
    path: &Path,
) -> Result<Option<ModelProto>> {
    let local = model
        .functions
        .iter()
        .map(|f| ((f.domain.as_str(), f.name.as_str()), f))
        .collect();
    let mut inliner = Inliner {
        table,
        local,
        opsets,
        path,
        counter: 0,
    };
    let Some(g) = model.graph.as_ref() else {
        return Ok(None);
    };
    if !inliner.any_to_inline(g)? {
        return Ok(None);
    }
    let mut model = model.clone();
    if let Some(g) = model.graph.as_mut() {
        inliner.inline_graph(g, &Kinds::new())?;
    }
    Ok(Some(model))
}
