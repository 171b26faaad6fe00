//! Layer normalization written out in elementary operators, fused into one
//! `LayerNormalization` (level `extended`), as ONNX Runtime's `LayerNormFusion` takes it:
//!
//! ```text
//! m = ReduceMean(x, [-1]);  d = Sub(x, m)          (or two Subs of x and m)
//! v = ReduceMean(Pow(d, 2), [-1]);  n = Div(d, Sqrt(Add(v, ε)))
//! y = Add(Mul(n, scale), bias)                      →  y = LayerNormalization(x, scale, bias)
//! ```
//!
//! over the last axis of a float `x`, with `scale` and `bias` of the last axis's length, a
//! constant ε, and every intermediate value read only inside the pattern. Stricter than ORT's
//! matcher where its looser reading could change a result: the exponent must be the constant 2,
//! ε must be a constant, `Sub` must take `x − m`, and the means must keep their dimensions.
//! Models below opset 17 get ONNX Runtime's own `LayerNormalization` of the ONNX domain
//! (version 1), which its CPU provider keeps for them.

use super::node::{attr_int, attr_ints, float_attr, int_attr, is_onnx};
use super::uses::{constant, remove, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::{HashMap, HashSet};

/// What the pass knows of the graph it matches in.
struct Graph<'g> {
    model: &'g Model,
    g: &'g GraphProto,
    uses: Uses,
    /// The nodes reading each value (indices).
    readers: HashMap<&'g str, Vec<usize>>,
}

impl<'g> Graph<'g> {
    fn new(model: &'g Model, g: &'g GraphProto) -> Self {
        let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (k, n) in g.node.iter().enumerate() {
            for i in n.input.iter().filter(|i| !i.is_empty()) {
                readers.entry(i.as_str()).or_default().push(k);
            }
        }
        Graph {
            model,
            g,
            uses: Uses::of(g),
            readers,
        }
    }

    /// The nodes reading `value`, when it is not observed and they are `count` inputs.
    fn readers_of(&self, value: &str, count: usize) -> Option<&[usize]> {
        let r = self.readers.get(value)?;
        (self.uses.readers(value) == count && !self.uses.observed(value) && r.len() == count)
            .then_some(r.as_slice())
    }

    /// The only node reading `value` (unobserved), if it is an `op` of the ONNX domain.
    fn only(&self, value: &str, op: &str) -> Option<usize> {
        let &[k] = self.readers_of(value, 1)? else {
            return None;
        };
        is_onnx(&self.g.node[k], op).then_some(k)
    }

    /// The one-element float constant `name`.
    fn scalar(&self, name: &str) -> Option<f32> {
        let v = constant(self.g, &self.model.loc, name)?;
        (v.dtype == dtype::FLOAT && v.count() == 1).then(|| v.as_f64().map(|x| x as f32))?
    }

    /// Whether `n` is a `ReduceMean` over the last axis only of a value of rank `rank`,
    /// keeping dimensions.
    fn mean_over_last_axis(&self, n: &NodeProto, rank: usize) -> bool {
        if !is_onnx(n, "ReduceMean") || attr_int(n, "keepdims").unwrap_or(1) != 1 {
            return false;
        }
        let axes = match n.input.get(1).filter(|a| !a.is_empty()) {
            Some(a) => constant(self.g, &self.model.loc, a).and_then(|v| v.as_ints()),
            None => attr_ints(n, "axes"),
        };
        matches!(axes.as_deref(), Some(&[a]) if a == -1 || a == rank as i64 - 1)
    }
}

/// One match: the node that becomes `LayerNormalization`, its inputs and ε, the nodes that go.
struct Fusion {
    last: usize,
    inputs: [String; 3],
    epsilon: f32,
    gone: Vec<usize>,
}

/// Matches the pattern from the first `ReduceMean` at `k`.
fn matched(
    cx: &Graph,
    types: &HashMap<String, i32>,
    shapes: &HashMap<String, Vec<Option<i64>>>,
    k: usize,
) -> Option<Fusion> {
    let node = |i: usize| &cx.g.node[i];
    let rm = node(k);
    if !is_onnx(rm, "ReduceMean") {
        return None;
    }
    let x = rm.input.first()?;
    let shape = shapes.get(x)?;
    let width = (*shape.last()?)?;
    if types.get(x) != Some(&dtype::FLOAT) || !cx.mean_over_last_axis(rm, shape.len()) {
        return None;
    }
    // One Sub read by Pow and Div, or two Subs read by one each.
    let subs = cx.readers.get(rm.output.first()?.as_str())?;
    let is_sub =
        |&s: &usize| is_onnx(node(s), "Sub") && node(s).input == [x.clone(), rm.output[0].clone()];
    if cx.uses.observed(&rm.output[0])
        || subs.is_empty()
        || subs.len() > 2
        || !subs.iter().all(is_sub)
    {
        return None;
    }
    let diffs: Vec<usize> = subs
        .iter()
        .flat_map(|&s| {
            cx.readers_of(&node(s).output[0], 3 - subs.len())
                .unwrap_or(&[])
                .to_vec()
        })
        .collect();
    let of = |op: &str| diffs.iter().copied().find(|&d| is_onnx(node(d), op));
    let (pow, div) = (of("Pow")?, of("Div")?);
    if diffs.len() != 2 || node(pow).input.len() != 2 || cx.scalar(&node(pow).input[1]) != Some(2.0)
    {
        return None;
    }
    let rm2 = cx.only(&node(pow).output[0], "ReduceMean")?;
    let add_eps = cx.only(&node(rm2).output[0], "Add")?;
    let sqrt = cx.only(&node(add_eps).output[0], "Sqrt")?;
    if !cx.mean_over_last_axis(node(rm2), shape.len())
        || node(add_eps).input.first() != node(rm2).output.first()
        || cx.only(&node(sqrt).output[0], "Div") != Some(div)
        || node(div).input.get(1) != node(sqrt).output.first()
    {
        return None;
    }
    let epsilon = cx.scalar(node(add_eps).input.get(1)?)?;
    let mul = cx.only(&node(div).output[0], "Mul")?;
    let add = cx.only(&node(mul).output[0], "Add")?;
    let other = |n: &NodeProto, v: &str| -> Option<String> {
        let k = n.input.iter().position(|i| i == v)?;
        (n.input.len() == 2).then(|| n.input[1 - k].clone())
    };
    let scale = other(node(mul), &node(div).output[0])?;
    let bias = other(node(add), &node(mul).output[0])?;
    let vector = |v: &str| {
        shapes.get(v).is_some_and(|s| s.as_slice() == [Some(width)])
            && types.get(v) == Some(&dtype::FLOAT)
    };
    if !vector(&scale) || !vector(&bias) {
        return None;
    }
    let mut gone = vec![k, pow, rm2, add_eps, sqrt, div, mul];
    gone.extend(subs.iter().copied());
    Some(Fusion {
        last: add,
        inputs: [x.clone(), scale, bias],
        epsilon,
        gone,
    })
}

/// Layer normalizations of `g` written out fused into `LayerNormalization`; returns how many.
pub(super) fn layer_norm(model: &Model, g: &mut GraphProto) -> usize {
    let fusions: Vec<Fusion> = {
        let cx = Graph::new(model, g);
        let types = model.types(g);
        let shapes = model.shapes(g);
        let mut taken = HashSet::new();
        let mut out = Vec::new();
        for k in 0..g.node.len() {
            let Some(f) = matched(&cx, &types, &shapes, k) else {
                continue;
            };
            let nodes: Vec<usize> = f.gone.iter().copied().chain([f.last]).collect();
            if nodes.iter().any(|n| taken.contains(n)) {
                continue;
            }
            taken.extend(nodes);
            out.push(f);
        }
        out
    };
    for f in &fusions {
        let n = &mut g.node[f.last];
        n.op_type = "LayerNormalization".into();
        n.domain = String::new();
        n.input = f.inputs.to_vec();
        n.attribute = vec![int_attr("axis", -1), float_attr("epsilon", f.epsilon)];
    }
    let gone: Vec<usize> = fusions
        .iter()
        .flat_map(|f| f.gone.iter().copied())
        .collect();
    remove(g, &gone);
    fusions.len()
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{AttributeProto, ModelProto, NodeProto};

    use crate::optimize::{optimize, GraphOptimization, GraphOptimizer, Rewrite};
    use crate::tests::support::onnx_protos::{
        filled as float, float_model, node, shaped_vi, tensor_vi,
    };
    use std::path::Path;

    fn mean(name: &str, input: &str, out: &str, axis: i64) -> NodeProto {
        let mut n = node(name, "ReduceMean", "", &[input], &[out]);
        n.attribute.push(AttributeProto {
            name: "axes".into(),
            r#type: 7,
            ints: vec![axis],
            ..Default::default()
        });
        n
    }

    /// Layer normalization of x [2, 3, 4] written out, as a PaddlePaddle export writes it.
    fn written_out(axis: i64, two: f32) -> ModelProto {
        let mut m = float_model(vec![
            mean("m", "x", "m", axis),
            node("d", "Sub", "", &["x", "m"], &["d"]),
            node("p", "Pow", "", &["d", "two"], &["p"]),
            mean("v", "p", "v", axis),
            node("e", "Add", "", &["v", "eps"], &["e"]),
            node("s", "Sqrt", "", &["e"], &["s"]),
            node("n", "Div", "", &["d", "s"], &["n"]),
            node("w", "Mul", "", &["n", "scale"], &["w"]),
            node("y", "Add", "", &["w", "bias"], &["y"]),
        ]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[2, 3, 4])];
        g.initializer = vec![
            float("two", &[], two),
            float("eps", &[], 1e-6),
            float("scale", &[4], 1.5),
            float("bias", &[4], 0.25),
        ];
        m
    }

    fn optimized(mut m: ModelProto, level: impl Into<GraphOptimizer>) -> Vec<NodeProto> {
        optimize(&mut m, Path::new("m.onnx"), level);
        m.graph.unwrap().node
    }

    fn ops(nodes: &[NodeProto]) -> Vec<&str> {
        nodes.iter().map(|n| n.op_type.as_str()).collect()
    }

    #[test]
    fn a_written_out_layer_normalization_becomes_one() {
        for axis in [-1, 2] {
            let nodes = optimized(written_out(axis, 2.0), GraphOptimization::Extended);
            assert_eq!(ops(&nodes), ["LayerNormalization"], "axis {axis}");
            let n = &nodes[0];
            assert_eq!(
                (n.domain.as_str(), n.input.as_slice()),
                ("", &["x", "scale", "bias"].map(String::from)[..])
            );
            assert_eq!(n.output, ["y"]);
            let attr = |name: &str| n.attribute.iter().find(|a| a.name == name).unwrap().clone();
            assert_eq!((attr("axis").i, attr("epsilon").f), (-1, 1e-6));
        }
    }

    #[test]
    fn near_misses_stay_written_out() {
        let apart = 9;
        let count = |m: ModelProto| optimized(m, GraphOptimization::Extended).len();
        assert_eq!(count(written_out(1, 2.0)), apart, "not the last axis");
        assert_eq!(count(written_out(-1, 3.0)), apart, "cube, not square");
        let mut m = written_out(-1, 2.0);
        m.graph.as_mut().unwrap().output.push(tensor_vi("v", 1));
        assert_eq!(count(m), apart, "variance observed");
        let mut m = written_out(-1, 2.0);
        m.graph.as_mut().unwrap().node[1].input.reverse();
        assert_eq!(count(m), apart, "m − x");
        let mut m = written_out(-1, 2.0);
        m.graph
            .as_mut()
            .unwrap()
            .input
            .push(shaped_vi("eps", 1, &[]));
        assert_eq!(count(m), apart, "ε fed at run time");
        let mut m = written_out(-1, 2.0);
        m.graph.as_mut().unwrap().initializer[2] = float("scale", &[1], 1.5);
        assert_eq!(count(m), apart, "a scale that broadcasts");
        assert_eq!(
            optimized(written_out(-1, 2.0), GraphOptimization::Basic).len(),
            apart
        );
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::LayerNorm);
        assert_eq!(optimized(written_out(-1, 2.0), off).len(), apart);
    }
}
