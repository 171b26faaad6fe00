//! What folding sees in a graph: its constants and those of its enclosing graphs, the shapes
//! the model fixes, and the folded tensors its subgraphs place in it. A fold in a subgraph whose
//! big input comes from an enclosing graph is hoisted to that graph, so that sibling subgraphs
//! computing the same tensor (the two branches of an `If` that both reorder the same weights)
//! share one copy instead of each keeping its own.

use super::super::value::Value;
use super::super::Model;
use crate::model::onnx::{tensor_shape_proto::dimension, type_proto, GraphProto};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// The constants visible in a graph: its own, then its enclosing graphs'.
pub(super) struct Scope<'p> {
    /// Values of initializers (not fed as graph inputs) and of folded nodes.
    values: HashMap<String, Value>,
    /// Folded values of this graph that live in an enclosing graph (hoisted): that graph's depth.
    homes: HashMap<String, usize>,
    /// Shapes the model fixes for other values.
    shapes: HashMap<String, Vec<i64>>,
    /// How many graphs enclose this one.
    depth: usize,
    /// Tensors folded in subgraphs that this graph holds for them, by the name they keep.
    hoisted: RefCell<Vec<(String, Value)>>,
    parent: Option<&'p Scope<'p>>,
}

impl<'p> Scope<'p> {
    /// The scope of `g`, inside `parent`'s graph if any.
    pub fn of(model: &Model, g: &GraphProto, parent: Option<&'p Scope<'p>>) -> Scope<'p> {
        let fed: HashSet<&str> = g.input.iter().map(|i| i.name.as_str()).collect();
        let values = g
            .initializer
            .iter()
            .filter(|t| !fed.contains(t.name.as_str()))
            .filter_map(|t| Some((t.name.clone(), Value::of(t, &model.loc)?)))
            .collect();
        Scope {
            values,
            homes: HashMap::new(),
            shapes: static_shapes(g),
            depth: parent.map_or(0, |p| p.depth + 1),
            hoisted: RefCell::default(),
            parent,
        }
    }

    /// The constant `name`, if it is one here.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .get(name)
            .or_else(|| self.parent.and_then(|p| p.value(name)))
    }

    /// The depth of the graph the constant `name` lives in.
    pub fn home(&self, name: &str) -> Option<usize> {
        match self.values.contains_key(name) {
            true => Some(self.homes.get(name).copied().unwrap_or(self.depth)),
            false => self.parent.and_then(|p| p.home(name)),
        }
    }

    /// The shape of `name`, if a constant's or fixed by the model.
    pub fn shape(&self, name: &str) -> Option<&[i64]> {
        match (self.value(name), self.shapes.get(name)) {
            (Some(v), _) => Some(&v.dims),
            (None, Some(dims)) => Some(dims),
            (None, None) => self.parent.and_then(|p| p.shape(name)),
        }
    }

    /// How many graphs enclose this one.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// `name`, a node of this graph, folded to `value`.
    pub fn fold(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }

    /// `name`, a node of this graph, folded to `value`, which lives in the enclosing graph at
    /// `depth`: returns the name it has there (that of an equal tensor hoisted before, if any).
    pub fn hoist(&mut self, depth: usize, name: &str, value: Value) -> String {
        let kept = {
            let mut home = self.enclosing(depth).hoisted.borrow_mut();
            match home.iter().find(|(_, v)| *v == value) {
                Some((kept, _)) => kept.clone(),
                None => {
                    home.push((name.to_string(), value.clone()));
                    name.to_string()
                }
            }
        };
        self.values.insert(name.to_string(), value);
        self.homes.insert(name.to_string(), depth);
        kept
    }

    /// Whether `name` was folded in this graph and stays here (not hoisted).
    pub fn folded_here(&self, name: &str) -> Option<&Value> {
        self.values
            .get(name)
            .filter(|_| !self.homes.contains_key(name))
    }

    /// The tensors subgraphs hoisted into this graph.
    pub fn take_hoisted(&self) -> Vec<(String, Value)> {
        self.hoisted.take()
    }

    fn enclosing(&self, depth: usize) -> &Scope<'p> {
        match self.parent {
            Some(p) if self.depth > depth => p.enclosing(depth),
            _ => self,
        }
    }
}

/// Values of `g` whose shape the model fixes (graph inputs and `value_info` with every
/// dimension a number).
fn static_shapes(g: &GraphProto) -> HashMap<String, Vec<i64>> {
    let mut out = HashMap::new();
    for vi in g.input.iter().chain(&g.value_info) {
        let Some(type_proto::Value::TensorType(t)) =
            vi.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            continue;
        };
        let dims: Option<Vec<i64>> = t.shape.as_ref().and_then(|s| {
            s.dim
                .iter()
                .map(|d| match d.value {
                    Some(dimension::Value::DimValue(v)) if v >= 0 => Some(v),
                    _ => None,
                })
                .collect()
        });
        if let Some(dims) = dims {
            out.insert(vi.name.clone(), dims);
        }
    }
    out
}
