//! What a fusion pass knows of the graph it matches in: who writes and reads each value, the
//! values' element types and shapes, and its constants. Taken once per pass, before rewriting.

use super::infer::Shape;
use super::node::is_onnx;
use super::uses::{constant, producer_index, Uses};
use super::value::Value;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::HashMap;

/// The facts of one graph of a model, as it is now.
pub(super) struct Facts<'g> {
    pub model: &'g Model,
    pub g: &'g GraphProto,
    pub uses: Uses,
    /// For each value a node writes, that node's index.
    pub producer: HashMap<&'g str, usize>,
    /// Element types, known or inferred (also of enclosing graphs' values).
    pub types: HashMap<String, i32>,
    /// Shapes, known or inferred (also of enclosing graphs' values).
    pub shapes: HashMap<String, Shape>,
}

impl<'g> Facts<'g> {
    /// The facts of `g`, a graph of `model`.
    pub fn of(model: &'g Model, g: &'g GraphProto) -> Facts<'g> {
        Facts {
            model,
            g,
            uses: Uses::of(g),
            producer: producer_index(g),
            types: model.types(g),
            shapes: model.shapes(g),
        }
    }

    /// The node writing `value` when it is `op`, only one node reads `value` and it is no graph
    /// output: (its index, the node).
    pub fn private(&self, value: &str, op: &str) -> Option<(usize, &'g NodeProto)> {
        let k = *self.producer.get(value)?;
        let n = &self.g.node[k];
        let only = self.uses.readers(value) == 1 && !self.uses.observed(value);
        (only && is_onnx(n, op)).then_some((k, n))
    }

    /// The node writing `value` when it is `op`, however many read `value`.
    pub fn written_by(&self, value: &str, op: &str) -> Option<&'g NodeProto> {
        let n = &self.g.node[*self.producer.get(value)?];
        is_onnx(n, op).then_some(n)
    }

    /// The value of `name` when it is a constant of the graph.
    pub fn constant(&self, name: &str) -> Option<Value> {
        constant(self.g, &self.model.loc, name)
    }

    /// The shape of `value`, when known.
    pub fn shape(&self, value: &str) -> Option<&[Option<i64>]> {
        self.shapes.get(value).map(Vec::as_slice)
    }
}
