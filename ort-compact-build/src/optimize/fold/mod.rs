//! Constant folding: a node whose inputs are all constant (initializers of its graph or of an
//! enclosing one that are not also graph inputs, and earlier folds) is computed now and becomes
//! an initializer; so is `Shape` of a value whose shape the model fixes. `Constant` nodes are
//! lifted to initializers first (as ONNX Runtime does on load). Only what the evaluator (`eval`)
//! computes exactly is folded, and a folded tensor bigger than [`MAX_GROWTH_BYTES`] only
//! replaces inputs nothing else reads: folding never makes the model much bigger.

mod eval;

use super::uses::{remove, Uses};
use super::value::Value;
use super::Model;
use crate::model::onnx::{tensor_shape_proto::dimension, type_proto, GraphProto, NodeProto};
use crate::model::{constant_to_initializer, ConstantValue};
use std::collections::{HashMap, HashSet};

/// A folded tensor may be this big whatever its inputs; a bigger one must be no bigger than
/// its inputs and replace them (nothing else reads them).
pub(super) const MAX_GROWTH_BYTES: usize = 4 * 1024;

/// Fold what can be folded in `g` and its subgraphs (which see `g`'s constants); returns how
/// many nodes were folded.
pub(super) fn constants(model: &Model, g: &mut GraphProto) -> usize {
    fold_graph(model, g, None)
}

/// The constants visible in a graph: its own, then its enclosing graphs'.
struct Scope<'p> {
    /// Values of initializers (not fed as graph inputs) and of folded nodes.
    values: HashMap<String, Value>,
    /// Shapes the model fixes for other values.
    shapes: HashMap<String, Vec<i64>>,
    parent: Option<&'p Scope<'p>>,
}

impl<'p> Scope<'p> {
    fn of(model: &Model, g: &GraphProto, parent: Option<&'p Scope<'p>>) -> Scope<'p> {
        let fed: HashSet<&str> = g.input.iter().map(|i| i.name.as_str()).collect();
        let values = g
            .initializer
            .iter()
            .filter(|t| !fed.contains(t.name.as_str()))
            .filter_map(|t| Some((t.name.clone(), Value::of(t, &model.loc)?)))
            .collect();
        Scope {
            values,
            shapes: static_shapes(g),
            parent,
        }
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .get(name)
            .or_else(|| self.parent.and_then(|p| p.value(name)))
    }

    fn shape(&self, name: &str) -> Option<&[i64]> {
        match (self.value(name), self.shapes.get(name)) {
            (Some(v), _) => Some(&v.dims),
            (None, Some(dims)) => Some(dims),
            (None, None) => self.parent.and_then(|p| p.shape(name)),
        }
    }
}

fn fold_graph(model: &Model, g: &mut GraphProto, parent: Option<&Scope<'_>>) -> usize {
    lift_constants(model, g);
    let uses = Uses::of(g);
    let mut scope = Scope::of(model, g, parent);
    let (mut folded, mut inner) = (Vec::new(), 0);
    for (k, n) in g.node.iter_mut().enumerate() {
        if n.attribute
            .iter()
            .any(|a| a.g.is_some() || !a.graphs.is_empty())
        {
            for a in &mut n.attribute {
                for sub in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                    inner += fold_graph(model, sub, Some(&scope));
                }
            }
            continue;
        }
        let plain = (n.domain.is_empty() || n.domain == "ai.onnx") && n.output.len() == 1;
        if !plain || n.output[0].is_empty() || uses.observed(&n.output[0]) {
            continue;
        }
        let Some(value) = fold(model, n, &scope, &uses) else {
            continue;
        };
        scope.values.insert(n.output[0].clone(), value);
        folded.push(k);
    }
    for &k in &folded {
        let name = &g.node[k].output[0];
        g.initializer.push(scope.values[name].to_proto(name));
    }
    inner + remove(g, &folded)
}

/// The value of node `n` from the constants in `scope`, if it folds: bigger than
/// [`MAX_GROWTH_BYTES`] only when it is no bigger than its inputs and every big input is read
/// by this node alone (so the model does not keep both).
fn fold(model: &Model, n: &NodeProto, scope: &Scope<'_>, uses: &Uses) -> Option<Value> {
    if n.op_type == "Shape" {
        return Some(eval::shape(scope.shape(n.input.first()?)?, n));
    }
    let inputs: Vec<Option<&Value>> = n
        .input
        .iter()
        .map(|i| match i.is_empty() {
            true => Some(None),
            false => scope.value(i).map(Some),
        })
        .collect::<Option<_>>()?;
    let out = eval::eval(n, model.opset, &inputs, &model.loc)?;
    if out.data.len() <= MAX_GROWTH_BYTES {
        return Some(out);
    }
    let size: usize = inputs.iter().flatten().map(|v| v.data.len()).sum();
    let consumed = n.input.iter().filter(|i| !i.is_empty()).all(|i| {
        let own = scope.values.contains_key(i);
        let small = scope
            .value(i)
            .is_some_and(|v| v.data.len() <= MAX_GROWTH_BYTES);
        small || (own && uses.readers(i) == 1 && !uses.observed(i))
    });
    (out.data.len() <= size && consumed).then_some(out)
}

/// `Constant` nodes with a dense value become initializers of `g`.
fn lift_constants(model: &Model, g: &mut GraphProto) {
    let mut lifted = Vec::new();
    for (k, n) in g.node.iter().enumerate() {
        if n.op_type != "Constant" || !(n.domain.is_empty() || n.domain == "ai.onnx") {
            continue;
        }
        if let Ok(ConstantValue::Dense(t)) = constant_to_initializer(&model.loc, n, &n.name) {
            g.initializer.push(*t);
            lifted.push(k);
        }
    }
    remove(g, &lifted);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::onnx::{
        tensor_shape_proto, AttributeProto, ModelProto, TensorProto, TensorShapeProto, TypeProto,
        ValueInfoProto,
    };
    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{float_model, if_node, node};
    use std::path::Path;

    fn shaped(name: &str, dims: &[i64]) -> ValueInfoProto {
        let dim = dims
            .iter()
            .map(|&d| tensor_shape_proto::Dimension {
                value: Some(dimension::Value::DimValue(d)),
                denotation: String::new(),
            })
            .collect();
        ValueInfoProto {
            name: name.into(),
            r#type: Some(TypeProto {
                value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                    elem_type: 1,
                    shape: Some(TensorShapeProto { dim }),
                })),
                denotation: String::new(),
            }),
            ..Default::default()
        }
    }

    fn int_tensor(name: &str, v: &[i64]) -> TensorProto {
        Value::ints(vec![v.len() as i64], v).to_proto(name)
    }

    fn constant(name: &str, v: &[i64]) -> NodeProto {
        let mut n = node(name, "Constant", "", &[], &[name]);
        n.attribute.push(AttributeProto {
            name: "value".into(),
            r#type: 4,
            t: Some(int_tensor("", v)),
            ..Default::default()
        });
        n
    }

    fn scalar(name: &str, v: i64) -> NodeProto {
        let mut n = constant(name, &[v]);
        n.attribute[0].t.as_mut().unwrap().dims.clear();
        n
    }

    fn basic(mut m: ModelProto) -> ModelProto {
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        m
    }

    fn initializer<'m>(m: &'m ModelProto, name: &str) -> Option<&'m TensorProto> {
        m.graph
            .as_ref()?
            .initializer
            .iter()
            .find(|t| t.name == name)
    }

    #[test]
    fn a_shape_computation_over_a_fixed_shape_becomes_one_initializer() {
        let mut m = float_model(vec![
            node("s", "Shape", "", &["x"], &["shape"]),
            scalar("two", 2),
            node("g", "Gather", "", &["shape", "two"], &["last"]),
            constant("zero", &[0]),
            node("u", "Unsqueeze", "", &["last", "zero"], &["last1"]),
            constant("minus_one", &[-1]),
            node("c", "Concat", "", &["minus_one", "last1"], &["target"]),
            node("r", "Reshape", "", &["x", "target"], &["y"]),
        ]);
        m.graph.as_mut().unwrap().node[6]
            .attribute
            .push(AttributeProto {
                name: "axis".into(),
                r#type: 2,
                i: 0,
                ..Default::default()
            });
        m.graph.as_mut().unwrap().input = vec![shaped("x", &[1, 3, 4])];
        let m = basic(m);
        let g = m.graph.as_ref().unwrap();
        assert_eq!(g.node.len(), 1, "{:?}", g.node);
        assert_eq!(g.node[0].input, ["x", "target"]);
        let target = Value::of(
            initializer(&m, "target").unwrap(),
            &crate::model::ModelLocation::new(Path::new("m")),
        );
        assert_eq!(target.unwrap(), Value::ints(vec![2], &[-1, 4]));
    }

    #[test]
    fn inputs_that_may_change_and_outputs_stay() {
        // An initializer that is also a graph input can be fed at run time.
        let mut fed = float_model(vec![
            node("u", "Unsqueeze", "", &["w", "axes"], &["u"]),
            node("r", "Reshape", "", &["x", "u"], &["y"]),
        ]);
        let g = fed.graph.as_mut().unwrap();
        g.initializer = vec![int_tensor("w", &[4]), int_tensor("axes", &[0])];
        g.input.push(shaped("w", &[1]));
        assert_eq!(basic(fed).graph.unwrap().node.len(), 2);

        // A graph output keeps its producer.
        let mut out = float_model(vec![node("c", "Cast", "", &["w"], &["y"])]);
        let g = out.graph.as_mut().unwrap();
        g.initializer = vec![int_tensor("w", &[4])];
        g.node[0].attribute.push(AttributeProto {
            name: "to".into(),
            r#type: 2,
            i: 1,
            ..Default::default()
        });
        assert_eq!(basic(out).graph.unwrap().node.len(), 1);
    }

    #[test]
    fn folding_does_not_grow_the_model() {
        // 64×64 float zeros (16 KiB) from a 16-byte shape: left to run.
        let mut m = float_model(vec![
            node("c", "ConstantOfShape", "", &["shape"], &["zeros"]),
            node("a", "Add", "", &["x", "zeros"], &["y"]),
        ]);
        m.graph.as_mut().unwrap().initializer = vec![int_tensor("shape", &[64, 64])];
        assert_eq!(basic(m).graph.unwrap().node.len(), 2);

        // A transposed 16 KiB weight replaces the weight when nothing else reads it, and is
        // left alone when something does.
        let weight = || {
            let v = Value::new(
                crate::optimize::value::dtype::FLOAT,
                vec![64, 64],
                vec![0u8; 16384],
            )
            .unwrap();
            v.to_proto("w")
        };
        let mut alone = float_model(vec![
            node("t", "Transpose", "", &["w"], &["wt"]),
            node("m", "MatMul", "", &["x", "wt"], &["y"]),
        ]);
        alone.graph.as_mut().unwrap().initializer = vec![weight()];
        let alone = basic(alone);
        assert_eq!(alone.graph.as_ref().unwrap().node.len(), 1);
        let mut shared = float_model(vec![
            node("t", "Transpose", "", &["w"], &["wt"]),
            node("m", "MatMul", "", &["x", "wt"], &["m"]),
            node("a", "Add", "", &["m", "w"], &["y"]),
        ]);
        shared.graph.as_mut().unwrap().initializer = vec![weight()];
        assert_eq!(basic(shared).graph.unwrap().node.len(), 3);
    }

    #[test]
    fn a_subgraph_folds_with_its_enclosing_graphs_constants() {
        let branch = |name: &str| crate::model::onnx::GraphProto {
            name: name.into(),
            node: vec![
                node("u", "Unsqueeze", "", &["outer", "outer_axes"], &["v"]),
                node("r", "Reshape", "", &["x", "v"], &[name]),
            ],
            output: vec![shaped(name, &[1, 1])],
            ..Default::default()
        };
        let mut m = float_model(vec![if_node("cond", branch)]);
        let g = m.graph.as_mut().unwrap();
        g.initializer = vec![int_tensor("outer", &[7]), int_tensor("outer_axes", &[0])];
        let m = basic(m);
        let then = m.graph.as_ref().unwrap().node[0].attribute[0]
            .g
            .as_ref()
            .unwrap();
        assert_eq!(then.node.len(), 1, "{:?}", then);
        assert_eq!(then.initializer.len(), 1, "{:?}", then);
        assert_eq!(then.initializer[0].name, "v");
        assert_eq!(then.initializer[0].dims, [1, 1]);
    }
}
