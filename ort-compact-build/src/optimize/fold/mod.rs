//! Constant folding: a node whose inputs are all constant (initializers of its graph or of an
//! enclosing one that are not also graph inputs, and earlier folds) is computed now and becomes
//! an initializer; so is `Shape` of a value whose shape the model fixes. `Constant` nodes are
//! lifted to initializers first (as ONNX Runtime does on load). Only what the evaluator (`eval`)
//! computes exactly is folded, and folding never makes the model's weights bigger: a folded
//! tensor over [`MAX_GROWTH_BYTES`] must be no bigger than its inputs, a fold of an enclosing
//! graph's tensor lives in that graph (`scope`), shared by the subgraphs that compute the same
//! one, and when the folds of a pass would still grow the weights read (a big tensor kept for
//! another reader besides its folded copy), the pass is redone keeping only the big folds that
//! replace inputs nothing else reads.

mod eval;
mod scope;

use super::node::{in_onnx, is_onnx};
use super::uses::{remove, Uses};
use super::value::{count, elem_size, Value};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use crate::model::{constant_to_initializer, subgraphs_of, ConstantValue};
use scope::Scope;
use std::collections::HashSet;

/// A folded tensor may be this big whatever its inputs; a bigger one must be no bigger than
/// its inputs and replace them (nothing else reads them).
pub(super) const MAX_GROWTH_BYTES: usize = 4 * 1024;

/// Which big folds a pass keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Growth {
    /// Any no bigger than its inputs, hoisted to where its big inputs live; the whole pass is
    /// kept only if the weights read do not grow.
    Shared,
    /// Only those that replace inputs of their own graph that nothing else reads.
    Local,
}

/// Fold what can be folded in `g` and its subgraphs (which see `g`'s constants); returns how
/// many nodes were folded.
pub(super) fn constants(model: &Model, g: &mut GraphProto) -> usize {
    let (before, weights) = (g.clone(), read_bytes(g));
    let n = fold_graph(model, g, None, Growth::Shared);
    drop_unread(g);
    if read_bytes(g) <= weights + MAX_GROWTH_BYTES {
        return n;
    }
    *g = before;
    let n = fold_graph(model, g, None, Growth::Local);
    drop_unread(g);
    n
}

/// Where a folded value goes.
enum Place {
    /// An initializer of the node's graph.
    Here,
    /// An initializer of the enclosing graph at this depth.
    Hoisted(usize),
}

fn fold_graph(
    model: &Model,
    g: &mut GraphProto,
    parent: Option<&Scope<'_>>,
    rule: Growth,
) -> usize {
    lift_constants(model, g);
    let uses = Uses::of(g);
    let mut scope = Scope::of(model, g, parent);
    let (mut folded, mut renames, mut inner) = (Vec::new(), Vec::new(), 0);
    for (k, n) in g.node.iter_mut().enumerate() {
        if n.attribute
            .iter()
            .any(|a| a.g.is_some() || !a.graphs.is_empty())
        {
            for a in &mut n.attribute {
                for sub in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                    inner += fold_graph(model, sub, Some(&scope), rule);
                }
            }
            continue;
        }
        let plain = in_onnx(n) && n.output.len() == 1;
        if !plain || n.output[0].is_empty() || uses.observed(&n.output[0]) {
            continue;
        }
        let Some((value, place)) = fold(model, n, &scope, &uses, rule) else {
            continue;
        };
        let name = &n.output[0];
        match place {
            Place::Here => scope.fold(name, value),
            Place::Hoisted(depth) => {
                let kept = scope.hoist(depth, name, value);
                if kept != *name {
                    renames.push((name.clone(), kept));
                }
            }
        }
        folded.push(k);
    }
    for &k in &folded {
        let name = &g.node[k].output[0];
        if let Some(v) = scope.folded_here(name) {
            g.initializer.push(v.to_proto(name));
        }
    }
    g.initializer.extend(
        scope
            .take_hoisted()
            .iter()
            .map(|(name, v)| v.to_proto(name)),
    );
    let n = inner + remove(g, &folded);
    rename_inputs(g, &renames);
    n
}

/// The value of node `n` from the constants in `scope`, if it folds, and where it goes (see
/// [`Growth`]).
fn fold(
    model: &Model,
    n: &NodeProto,
    scope: &Scope<'_>,
    uses: &Uses,
    rule: Growth,
) -> Option<(Value, Place)> {
    match n.op_type.as_str() {
        "Shape" => return Some((eval::shape(scope.shape(n.input.first()?)?, n), Place::Here)),
        "Size" => return Some((eval::size(scope.shape(n.input.first()?)?), Place::Here)),
        _ => {}
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
        return Some((out, Place::Here));
    }
    let size: usize = inputs.iter().flatten().map(|v| v.data.len()).sum();
    if out.data.len() > size {
        return None;
    }
    let big = |i: &&String| {
        !i.is_empty()
            && scope
                .value(i)
                .is_some_and(|v| v.data.len() > MAX_GROWTH_BYTES)
    };
    let mut big_inputs = n.input.iter().filter(big);
    match rule {
        Growth::Shared => {
            let home = big_inputs.filter_map(|i| scope.home(i)).max();
            let place = match home {
                Some(d) if d < scope.depth() => Place::Hoisted(d),
                _ => Place::Here,
            };
            Some((out, place))
        }
        Growth::Local => big_inputs
            .all(|i| {
                scope.home(i) == Some(scope.depth()) && uses.readers(i) == 1 && !uses.observed(i)
            })
            .then_some((out, Place::Here)),
    }
}
/// `Constant` nodes with a dense value become initializers of `g`.
fn lift_constants(model: &Model, g: &mut GraphProto) {
    let mut lifted = Vec::new();
    for (k, n) in g.node.iter().enumerate() {
        if !is_onnx(n, "Constant") {
            continue;
        }
        if let Ok(ConstantValue::Dense(t)) = constant_to_initializer(&model.loc, n, &n.name) {
            g.initializer.push(*t);
            lifted.push(k);
        }
    }
    remove(g, &lifted);
}

/// Bytes of the initializers something reads, in `g` and its subgraphs.
fn read_bytes(g: &GraphProto) -> usize {
    let uses = Uses::of(g);
    let own: usize = g
        .initializer
        .iter()
        .filter(|t| uses.used(&t.name))
        .map(|t| count(&t.dims).unwrap_or(0) * elem_size(t.data_type).unwrap_or(1))
        .sum();
    own + g
        .node
        .iter()
        .flat_map(subgraphs_of)
        .map(read_bytes)
        .sum::<usize>()
}

/// Initializers of `g` and its subgraphs that nothing reads and that are not graph inputs:
/// the steps of a chain of folds, folded duplicates, the tensors folds replaced.
fn drop_unread(g: &mut GraphProto) {
    for n in &mut g.node {
        for a in &mut n.attribute {
            for sub in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                drop_unread(sub);
            }
        }
    }
    let uses = Uses::of(g);
    let fed: HashSet<String> = g.input.iter().map(|i| i.name.clone()).collect();
    g.initializer
        .retain(|t| fed.contains(&t.name) || uses.used(&t.name));
}

/// Node inputs of `g` renamed by `renames` (from, to): each folded duplicate read under the
/// name of the tensor it equals.
fn rename_inputs(g: &mut GraphProto, renames: &[(String, String)]) {
    if renames.is_empty() {
        return;
    }
    for input in g.node.iter_mut().flat_map(|n| n.input.iter_mut()) {
        if let Some((_, to)) = renames.iter().find(|(from, _)| from == input) {
            *input = to.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::onnx::{AttributeProto, ModelProto, TensorProto, ValueInfoProto};
    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{float_model, if_node, node, shaped_vi};
    use std::path::Path;

    fn shaped(name: &str, dims: &[i64]) -> ValueInfoProto {
        shaped_vi(name, 1, dims)
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
    fn the_size_of_a_fixed_shape_folds() {
        // x · Cast(Size(x)) for x [1, 3, 4]: one Mul by the constant 12.
        let mut m = float_model(vec![
            node("n", "Size", "", &["x"], &["n"]),
            node("c", "Cast", "", &["n"], &["nf"]),
            node("m", "Mul", "", &["x", "nf"], &["y"]),
        ]);
        m.graph.as_mut().unwrap().node[1]
            .attribute
            .push(AttributeProto {
                name: "to".into(),
                r#type: 2,
                i: 1,
                ..Default::default()
            });
        m.graph.as_mut().unwrap().input = vec![shaped("x", &[1, 3, 4])];
        let m = basic(m);
        let g = m.graph.as_ref().unwrap();
        assert_eq!(g.node.len(), 1, "{:?}", g.node);
        assert_eq!(g.node[0].op_type, "Mul");
        let factor = Value::of(
            initializer(&m, &g.node[0].input[1]).unwrap(),
            &crate::model::ModelLocation::new(Path::new("m")),
        );
        assert_eq!(factor.unwrap().as_f64(), Some(12.0));
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

    /// A 64×64 float weight (16 KiB) named `name`, its elements 0, 1, 2, …
    fn big_weight(name: &str) -> TensorProto {
        let data = (0..4096u32)
            .flat_map(|i| (i as f32).to_le_bytes())
            .collect();
        Value::new(crate::optimize::value::dtype::FLOAT, vec![64, 64], data)
            .unwrap()
            .to_proto(name)
    }

    /// Both branches of an `If` transpose the enclosing graph's weight `w` and multiply by it.
    fn branches_transposing_w(extra_outer_reader: bool) -> ModelProto {
        let branch = |name: &str| crate::model::onnx::GraphProto {
            name: name.into(),
            node: vec![
                node("t", "Transpose", "", &["w"], &[&format!("{name}_wt")]),
                node("m", "MatMul", "", &["x", &format!("{name}_wt")], &[name]),
            ],
            output: vec![shaped(name, &[64, 64])],
            ..Default::default()
        };
        let mut nodes = vec![if_node("cond", branch)];
        if extra_outer_reader {
            nodes[0].output[0] = "branch".into();
            nodes.push(node("a", "Add", "", &["branch", "w"], &["y"]));
        }
        let mut m = float_model(nodes);
        m.graph.as_mut().unwrap().initializer = vec![big_weight("w")];
        m
    }

    #[test]
    fn branches_folding_the_same_big_tensor_share_one_copy_in_the_enclosing_graph() {
        let m = basic(branches_transposing_w(false));
        let g = m.graph.as_ref().unwrap();
        let names: Vec<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["t_wt"],
            "the weight is replaced by its one transposed copy"
        );
        let loc = crate::model::ModelLocation::new(Path::new("m"));
        let wt = Value::of(&g.initializer[0], &loc).unwrap();
        let w = Value::of(&big_weight("w"), &loc).unwrap();
        assert_eq!(wt.element(1), w.element(64), "transposed");
        for branch in &g.node[0].attribute {
            let b = branch.g.as_ref().unwrap();
            assert_eq!(b.node.len(), 1, "{b:?}");
            assert_eq!(b.node[0].input, ["x", "t_wt"]);
            assert!(b.initializer.is_empty());
        }
    }

    #[test]
    fn a_hoisted_fold_that_would_keep_two_copies_is_undone() {
        let m = basic(branches_transposing_w(true));
        let g = m.graph.as_ref().unwrap();
        assert_eq!(g.initializer.len(), 1);
        assert_eq!(g.initializer[0].name, "w");
        for branch in &g.node[0].attribute {
            assert_eq!(branch.g.as_ref().unwrap().node.len(), 2);
        }
    }
}
