//! Nodes that do nothing to their input, and nodes whose outputs nothing reads.
//!
//! No-ops: `Transpose` with the identity permutation, `Slice` over whole axes (every start 0,
//! every end past the end, every step 1), `Cast` to the type the input already has (as the
//! model states it or its operators fix it: `infer`), and `Squeeze` of an `Unsqueeze` over the same axes.

use super::eliminate::eliminate;
use super::infer::{broadcast, elem_types, Shape};
use super::node::{attr, in_onnx, is_onnx};
use super::uses::{constant, remove, Uses};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use crate::model::ModelLocation;
use std::collections::HashMap;

/// Ends at least this big slice to the end of any axis.
const TO_THE_END: i64 = i32::MAX as i64;

/// The integers of the constant `name` of `g` (int64 or int32).
fn constant_ints(g: &GraphProto, loc: &ModelLocation, name: &str) -> Option<Vec<i64>> {
    constant(g, loc, name)?.as_ints()
}

/// A node's integer list: from input `input` (opset ≥ `since`) or attribute `name`.
fn ints_of(
    model: &Model,
    g: &GraphProto,
    n: &NodeProto,
    name: &str,
    input: usize,
    since: i64,
) -> Option<Vec<i64>> {
    if model.opset >= since {
        let i = n.input.get(input).filter(|i| !i.is_empty())?;
        constant_ints(g, &model.loc, i)
    } else {
        attr(n, name).map(|a| a.ints.clone())
    }
}

fn is_noop(model: &Model, g: &GraphProto, types: &HashMap<String, i32>, n: &NodeProto) -> bool {
    match n.op_type.as_str() {
        "Transpose" if is_onnx(n, "Transpose") => {
            attr(n, "perm").is_some_and(|p| p.ints.iter().enumerate().all(|(k, &a)| a == k as i64))
        }
        "Slice" if is_onnx(n, "Slice") => {
            let list = |name, input| ints_of(model, g, n, name, input, 10);
            let (Some(starts), Some(ends)) = (list("starts", 1), list("ends", 2)) else {
                return false;
            };
            let steps_one = match n.input.get(4).filter(|s| !s.is_empty()) {
                None => true,
                Some(_) => list("steps", 4).is_some_and(|s| s.iter().all(|&s| s == 1)),
            };
            starts.iter().all(|&s| s == 0) && ends.iter().all(|&e| e >= TO_THE_END) && steps_one
        }
        "Cast" if is_onnx(n, "Cast") => {
            let to = attr(n, "to").map(|a| a.i as i32);
            let from = n.input.first().and_then(|i| types.get(i.as_str())).copied();
            to.is_some() && to == from
        }
        _ => false,
    }
}

/// Whether `n` is a `Reshape` or `Expand` that leaves its input's shape as it is (both shapes
/// fully known).
fn keeps_shape(
    model: &Model,
    g: &GraphProto,
    shapes: &HashMap<String, Shape>,
    n: &NodeProto,
) -> bool {
    let input = n.input.first().and_then(|i| shapes.get(i));
    let Some(input) = input.filter(|s| s.iter().all(Option::is_some)) else {
        return false;
    };
    match n.op_type.as_str() {
        "Reshape" if is_onnx(n, "Reshape") => n
            .output
            .first()
            .and_then(|o| shapes.get(o))
            .is_some_and(|out| out == input),
        "Expand" if is_onnx(n, "Expand") => {
            let Some(target) = n.input.get(1).and_then(|t| constant_ints(g, &model.loc, t)) else {
                return false;
            };
            let target: Shape = target.iter().map(|&d| Some(d)).collect();
            broadcast(&[input, &target]).is_some_and(|out| out == *input)
        }
        _ => false,
    }
}

/// The input an `Add`/`Sub`/`Mul`/`Div` passes through unchanged: the other operand is a
/// one-element constant of no higher rank (so nothing broadcasts), 0 for `Add` (either side) and
/// `Sub` (right), 1 for `Mul` (either side) and `Div` (right), as ONNX Runtime's own no-op
/// elimination takes them.
fn neutral_operand<'n>(
    model: &Model,
    g: &GraphProto,
    shapes: &HashMap<String, Shape>,
    n: &'n NodeProto,
) -> Option<&'n String> {
    let neutral = match n.op_type.as_str() {
        "Add" | "Sub" => 0.0,
        "Mul" | "Div" => 1.0,
        _ => return None,
    };
    if !in_onnx(n) || n.input.len() != 2 {
        return None;
    }
    let commutes = matches!(n.op_type.as_str(), "Add" | "Mul");
    let constant = |k: usize| constant(g, &model.loc, &n.input[k]).filter(|v| v.count() == 1);
    let (k, c) = match (constant(0), constant(1)) {
        (None, Some(c)) => (0, c),
        (Some(c), None) if commutes => (1, c),
        _ => return None,
    };
    let rank = shapes.get(&n.input[k])?.len();
    (c.dims.len() <= rank && c.as_f64()? == neutral).then(|| &n.input[k])
}

/// No-op `Transpose`, `Slice`, `Cast`, `Reshape`, `Expand` and arithmetic nodes, and
/// `Squeeze` of an `Unsqueeze` over the same axes: their readers read their input.
pub(super) fn noops(model: &Model, g: &mut GraphProto) -> usize {
    noops_within(model, g, &HashMap::new())
}

/// [`noops`] in `g` and its subgraphs (innermost first), where `outer` holds the element types
/// of the enclosing graphs' values.
fn noops_within(model: &Model, g: &mut GraphProto, outer: &HashMap<String, i32>) -> usize {
    let types = elem_types(g, outer);
    let mut inner = 0;
    for n in &mut g.node {
        for a in &mut n.attribute {
            for sub in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                inner += noops_within(model, sub, &types);
            }
        }
    }
    let shapes = model.shapes(g);
    let producer: HashMap<String, usize> = g
        .node
        .iter()
        .enumerate()
        .flat_map(|(k, n)| n.output.iter().map(move |o| (o.clone(), k)))
        .collect();
    inner
        + eliminate(g, |g, _, n| {
            let through = |input: &String| Some((input.clone(), n.output.first()?.clone()));
            if n.output.len() != 1 || n.input.is_empty() {
                return None;
            }
            if is_noop(model, g, &types, n) || keeps_shape(model, g, &shapes, n) {
                return through(&n.input[0]);
            }
            if let Some(input) = neutral_operand(model, g, &shapes, n) {
                return through(input);
            }
            if !is_onnx(n, "Squeeze") {
                return None;
            }
            let u = &g.node[*producer.get(&n.input[0])?];
            let axes = |x: &NodeProto| ints_of(model, g, x, "axes", 1, 13);
            let same = is_onnx(u, "Unsqueeze")
                && axes(u)
                    .is_some_and(|a| a.iter().all(|&a| a >= 0) && Some(&a) == axes(n).as_ref());
            same.then(|| through(&u.input[0])).flatten()
        })
}

/// Nodes (of ai.onnx, without subgraphs) whose outputs nothing reads, and then those only they
/// read, until none is left (a chain a fusion left behind goes at once).
pub(super) fn dead(_: &Model, g: &mut GraphProto) -> usize {
    let mut total = 0;
    loop {
        let uses = Uses::of(g);
        let gone: Vec<usize> = g
            .node
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                let plain = in_onnx(n)
                    && n.attribute
                        .iter()
                        .all(|a| a.g.is_none() && a.graphs.is_empty());
                plain && !n.output.is_empty() && n.output.iter().all(|o| !uses.used(o))
            })
            .map(|(k, _)| k)
            .collect();
        if gone.is_empty() {
            return total;
        }
        total += remove(g, &gone);
    }
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};

    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{
        filled as float, float_model, int64s as ints, node, shaped_vi, tensor_vi,
    };
    use std::path::Path;

    fn with(mut n: NodeProto, name: &str, i: i64, list: &[i64]) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: name.into(),
            i,
            ints: list.to_vec(),
            r#type: if list.is_empty() { 2 } else { 7 },
            ..Default::default()
        });
        n
    }

    /// The op types left after `basic`, with `initializers` added to the graph.
    fn left(nodes: Vec<NodeProto>, initializers: Vec<TensorProto>) -> Vec<String> {
        left_for(nodes, initializers, None)
    }

    /// [`left`], the input `x` of shape `x_dims` when given (negative: unknown size).
    fn left_for(
        nodes: Vec<NodeProto>,
        initializers: Vec<TensorProto>,
        x_dims: Option<&[i64]>,
    ) -> Vec<String> {
        let mut m: ModelProto = float_model(nodes);
        m.graph.as_mut().unwrap().initializer = initializers;
        if let Some(dims) = x_dims {
            m.graph.as_mut().unwrap().input = vec![shaped_vi("x", 1, dims)];
        }
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        let g: &GraphProto = m.graph.as_ref().unwrap();
        g.node.iter().map(|n| n.op_type.clone()).collect()
    }

    fn relu_after(n: NodeProto) -> Vec<NodeProto> {
        vec![n, node("r", "Relu", "", &["t"], &["y"])]
    }

    #[test]
    fn identity_permutations_and_whole_slices_go_others_stay() {
        let t = |perm: &[i64]| with(node("t", "Transpose", "", &["x"], &["t"]), "perm", 0, perm);
        assert_eq!(left(relu_after(t(&[0, 1, 2])), vec![]), ["Relu"]);
        assert_eq!(
            left(relu_after(t(&[0, 2, 1])), vec![]),
            ["Transpose", "Relu"]
        );
        let default = node("t", "Transpose", "", &["x"], &["t"]);
        assert_eq!(
            left(relu_after(default), vec![]),
            ["Transpose", "Relu"],
            "reverses"
        );

        let slice = || relu_after(node("s", "Slice", "", &["x", "b", "e"], &["t"]));
        let whole = vec![ints("b", &[0, 0]), ints("e", &[i64::MAX, i64::MAX])];
        assert_eq!(left(slice(), whole), ["Relu"]);
        let part = vec![ints("b", &[0, 1]), ints("e", &[i64::MAX, i64::MAX])];
        assert_eq!(left(slice(), part), ["Slice", "Relu"]);
        let mut fed = float_model(slice());
        let g = fed.graph.as_mut().unwrap();
        g.initializer = vec![ints("b", &[0, 0]), ints("e", &[i64::MAX, i64::MAX])];
        g.input.push(tensor_vi("b", 7));
        optimize(&mut fed, Path::new("m.onnx"), GraphOptimization::Basic);
        assert_eq!(fed.graph.unwrap().node.len(), 2, "starts fed at run time");
        let short = vec![ints("b", &[0]), ints("e", &[3])];
        assert_eq!(
            left(slice(), short),
            ["Slice", "Relu"],
            "an end that may cut"
        );
    }

    #[test]
    fn casts_to_the_type_the_input_has_go() {
        // x is float (1): a Cast to float does nothing, to int64 (7) it does.
        let cast = |to: i64| relu_after(with(node("c", "Cast", "", &["x"], &["t"]), "to", to, &[]));
        assert_eq!(left(cast(1), vec![]), ["Relu"]);
        assert_eq!(left(cast(7), vec![]), ["Cast", "Relu"]);
        // A Cast of a Cast's output to the same type.
        let twice = vec![
            with(node("a", "Cast", "", &["x"], &["a"]), "to", 7, &[]),
            with(node("b", "Cast", "", &["a"], &["b"]), "to", 7, &[]),
            with(node("c", "Cast", "", &["b"], &["y"]), "to", 1, &[]),
        ];
        assert_eq!(left(twice, vec![]), ["Cast", "Cast"]);
    }

    #[test]
    fn squeeze_of_unsqueeze_over_the_same_axes_goes_with_it() {
        let pair = |squeeze_axes: &str| {
            vec![
                node("u", "Unsqueeze", "", &["x", "axes"], &["u"]),
                node("s", "Squeeze", "", &["u", squeeze_axes], &["t"]),
                node("r", "Relu", "", &["t"], &["y"]),
            ]
        };
        let axes = || vec![ints("axes", &[0, 2]), ints("other", &[0])];
        assert_eq!(
            left(pair("axes"), axes()),
            ["Relu"],
            "the Unsqueeze is dead then"
        );
        assert_eq!(
            left(pair("other"), axes()),
            ["Unsqueeze", "Squeeze", "Relu"]
        );
        let mut read = pair("axes");
        read.push(node("k", "Relu", "", &["u"], &["k"]));
        let mut m = float_model(read);
        m.graph.as_mut().unwrap().initializer = axes();
        m.graph.as_mut().unwrap().output.push(tensor_vi("k", 1));
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        let ops: Vec<&str> = m
            .graph
            .as_ref()
            .unwrap()
            .node
            .iter()
            .map(|n| n.op_type.as_str())
            .collect();
        assert_eq!(
            ops,
            ["Unsqueeze", "Relu", "Relu"],
            "the Unsqueeze has another reader"
        );
    }

    #[test]
    fn nodes_nothing_reads_go() {
        let nodes = vec![
            node("a", "Relu", "", &["x"], &["unused"]),
            node("r", "Relu", "", &["x"], &["y"]),
        ];
        assert_eq!(left(nodes, vec![]), ["Relu"]);
    }

    #[test]
    fn arithmetic_with_a_neutral_constant_goes_when_nothing_broadcasts() {
        let op = |op: &str, a: &str, b: &str| relu_after(node("o", op, "", &[a, b], &["t"]));
        let x = Some(&[-1, 3, 4][..]);
        let one = || vec![float("c", &[1], 1.0)];
        let zero = || vec![float("c", &[], 0.0)];
        assert_eq!(left_for(op("Mul", "x", "c"), one(), x), ["Relu"]);
        assert_eq!(left_for(op("Mul", "c", "x"), one(), x), ["Relu"]);
        assert_eq!(left_for(op("Div", "x", "c"), one(), x), ["Relu"]);
        assert_eq!(left_for(op("Add", "c", "x"), zero(), x), ["Relu"]);
        assert_eq!(left_for(op("Sub", "x", "c"), zero(), x), ["Relu"]);
        // 1/x and 0-x are not x; 2·x is not x; rank unknown or a constant of higher rank
        // broadcasts; a constant that is also a graph input may be fed another value.
        assert_eq!(left_for(op("Div", "c", "x"), one(), x), ["Div", "Relu"]);
        assert_eq!(left_for(op("Sub", "c", "x"), zero(), x), ["Sub", "Relu"]);
        assert_eq!(
            left_for(op("Mul", "x", "c"), vec![float("c", &[1], 2.0)], x),
            ["Mul", "Relu"]
        );
        assert_eq!(left_for(op("Mul", "x", "c"), one(), None), ["Mul", "Relu"]);
        let high = vec![float("c", &[1, 1, 1, 1], 1.0)];
        assert_eq!(left_for(op("Mul", "x", "c"), high, x), ["Mul", "Relu"]);
        let mut m = float_model(op("Mul", "x", "c"));
        let g = m.graph.as_mut().unwrap();
        g.initializer = one();
        g.input = vec![shaped_vi("x", 1, &[2, 3]), shaped_vi("c", 1, &[1])];
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        assert_eq!(m.graph.unwrap().node.len(), 2, "c is an input");
    }

    #[test]
    fn reshapes_and_expands_to_the_shape_the_input_has_go() {
        let x = Some(&[2, 3, 4][..]);
        let reshape = || relu_after(node("r", "Reshape", "", &["x", "s"], &["t"]));
        assert_eq!(
            left_for(reshape(), vec![ints("s", &[0, 3, -1])], x),
            ["Relu"]
        );
        assert_eq!(
            left_for(reshape(), vec![ints("s", &[2, 12])], x),
            ["Reshape", "Relu"]
        );
        let unknown = Some(&[-1, 3, 4][..]);
        assert_eq!(
            left_for(reshape(), vec![ints("s", &[0, 3, 4])], unknown),
            ["Reshape", "Relu"],
            "the batch size is not known"
        );
        let expand = || relu_after(node("e", "Expand", "", &["x", "s"], &["t"]));
        assert_eq!(left_for(expand(), vec![ints("s", &[3, 1])], x), ["Relu"]);
        assert_eq!(
            left_for(expand(), vec![ints("s", &[2, 2, 3, 4])], x),
            ["Expand", "Relu"]
        );
        assert_eq!(
            left_for(expand(), vec![ints("s", &[3, 4])], unknown),
            ["Expand", "Relu"]
        );
    }

    #[test]
    fn a_subgraph_knows_the_types_of_what_it_reads_from_outside() {
        let branch = |name: &str| GraphProto {
            name: name.into(),
            node: vec![
                node("r", "Relu", "", &["x"], &["r"]),
                with(node("c", "Cast", "", &["r"], &["c"]), "to", 1, &[]),
                node("n", "Neg", "", &["c"], &[name]),
            ],
            output: vec![tensor_vi(name, 1)],
            ..Default::default()
        };
        let mut m = float_model(vec![
            node("o", "Relu", "", &["x"], &["outer"]),
            crate::tests::support::onnx_protos::if_node("cond", |name| {
                let mut b = branch(name);
                b.node[0].input = vec!["outer".into()];
                b
            }),
        ]);
        m.graph.as_mut().unwrap().input.push(tensor_vi("cond", 9));
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        let g = m.graph.unwrap();
        for a in &g.node[1].attribute {
            let ops: Vec<&str> =
                a.g.as_ref()
                    .unwrap()
                    .node
                    .iter()
                    .map(|n| n.op_type.as_str())
                    .collect();
            assert_eq!(ops, ["Relu", "Neg"], "Relu of the outer float is float");
        }
    }
}
