//! Loading `.onnx` files into [`onnx::ModelProto`](super::onnx::ModelProto), with errors that
//! say what is wrong: not a protobuf, truncated, or a node's subgraph attribute that does not
//! parse (named by node and attribute).

use super::onnx::{GraphProto, ModelProto, NodeProto, TensorProto};
use crate::error::{Error, Result};
use prost::Message;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A decoded ONNX model and the file it came from.
#[derive(Debug, Clone)]
pub struct OnnxModel {
    path: PathBuf,
    /// The decoded model.
    pub proto: ModelProto,
}

impl OnnxModel {
    /// Decodes `bytes`; `path` names them in errors (and is where external data is looked
    /// up relative to).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<OnnxModel> {
        let invalid = |reason: String| Error::InvalidOnnx {
            path: path.to_owned(),
            reason,
        };
        if bytes.is_empty() {
            return Err(Error::EmptyModel {
                path: path.to_owned(),
            });
        }
        let proto = match ModelProto::decode(bytes) {
            Ok(p) => p,
            Err(e) => {
                if let Some((node, reason)) = diagnose_model(bytes) {
                    return Err(Error::InvalidNode {
                        path: path.to_owned(),
                        node,
                        reason,
                    });
                }
                return Err(invalid(format!(
                    "protobuf decoding failed (not an ONNX file, or truncated): {e}"
                )));
            }
        };
        if proto.graph.is_none() {
            return Err(invalid(
                "no graph found (not an ONNX model, or the file is truncated)".into(),
            ));
        }
        if proto.ir_version <= 0 {
            return Err(invalid(
                "ir_version is missing (not an ONNX model, or the file is truncated)".into(),
            ));
        }
        if proto.opset_import.is_empty() {
            return Err(invalid(
                "opset_import is missing (the file is truncated, or the model is invalid)".into(),
            ));
        }
        Ok(OnnxModel {
            path: path.to_owned(),
            proto,
        })
    }

    /// The file this model came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The main graph (checked present at load).
    pub fn graph(&self) -> Option<&GraphProto> {
        self.proto.graph.as_ref()
    }

    /// The external data files the model's tensors name (`location`, relative to the model's
    /// directory; subgraphs and functions included), sorted, each once. Not checked here: the
    /// converter validates and reads them.
    pub fn external_data_files(&self) -> Vec<PathBuf> {
        let mut found = BTreeSet::new();
        let graphs = self.proto.graph.iter();
        let function_nodes = self.proto.functions.iter().flat_map(|f| &f.node);
        graphs.for_each(|g| external_in_graph(g, &mut found));
        function_nodes.for_each(|n| external_in_node(n, &mut found));
        let dir = self.path.parent().unwrap_or(Path::new(""));
        found.into_iter().map(|l| dir.join(l)).collect()
    }
}

/// `TensorProto.data_location` value for external data.
const EXTERNAL: i32 = 1;

fn external_in_graph(g: &GraphProto, found: &mut BTreeSet<String>) {
    let sparse = g
        .sparse_initializer
        .iter()
        .flat_map(|s| s.values.iter().chain(&s.indices));
    g.initializer
        .iter()
        .chain(sparse)
        .for_each(|t| external_in_tensor(t, found));
    g.node.iter().for_each(|n| external_in_node(n, found));
}

fn external_in_node(n: &NodeProto, found: &mut BTreeSet<String>) {
    for a in &n.attribute {
        let sparse = a
            .sparse_tensor
            .iter()
            .chain(&a.sparse_tensors)
            .flat_map(|s| s.values.iter().chain(&s.indices));
        a.t.iter()
            .chain(&a.tensors)
            .chain(sparse)
            .for_each(|t| external_in_tensor(t, found));
        a.g.iter()
            .chain(&a.graphs)
            .for_each(|g| external_in_graph(g, found));
    }
}

fn external_in_tensor(t: &TensorProto, found: &mut BTreeSet<String>) {
    if t.data_location == EXTERNAL {
        let location = t.external_data.iter().find(|e| e.key == "location");
        found.extend(location.map(|e| e.value.clone()));
    }
}

/// A node name for diagnostics: its name, or `#index` when unnamed.
pub fn node_display_name(name: &str, index: usize) -> String {
    if name.is_empty() {
        format!("#{index}")
    } else {
        name.to_owned()
    }
}

// ---- diagnostics: which node's graph attribute fails to decode -------------------------------

#[derive(Clone, PartialEq, prost::Message)]
struct ShallowModel {
    #[prost(bytes = "vec", optional, tag = "7")]
    graph: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ShallowGraph {
    #[prost(message, repeated, tag = "1")]
    node: Vec<ShallowNode>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ShallowNode {
    #[prost(bytes = "vec", tag = "3")]
    name: Vec<u8>,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<ShallowAttribute>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ShallowAttribute {
    #[prost(bytes = "vec", tag = "1")]
    name: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "6")]
    g: Option<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "11")]
    graphs: Vec<Vec<u8>>,
}

fn diagnose_model(bytes: &[u8]) -> Option<(String, String)> {
    let shallow = ShallowModel::decode(bytes).ok()?;
    diagnose_graph(shallow.graph.as_deref()?, 0)
}

/// Finds the innermost node whose graph attribute does not decode.
fn diagnose_graph(bytes: &[u8], depth: usize) -> Option<(String, String)> {
    if depth > 64 {
        return None;
    }
    let graph = ShallowGraph::decode(bytes).ok()?;
    for (index, node) in graph.node.iter().enumerate() {
        for attr in &node.attribute {
            for sub in attr.g.iter().chain(attr.graphs.iter()) {
                if let Err(e) = GraphProto::decode(sub.as_slice()) {
                    if let Some(inner) = diagnose_graph(sub, depth + 1) {
                        return Some(inner);
                    }
                    let name = String::from_utf8_lossy(&node.name);
                    return Some((
                        node_display_name(&name, index),
                        format!(
                            "graph attribute '{}' does not parse: {e}",
                            String::from_utf8_lossy(&attr.name)
                        ),
                    ));
                }
            }
        }
    }
    None
}
