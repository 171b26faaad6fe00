//! A residual `Add` (and a bias `Add`) before a `LayerNormalization` fused into ONNX Runtime's
//! `SkipLayerNormalization` (level `extended`), as its `SkipLayerNormFusion` takes them:
//!
//! ```text
//! LayerNormalization((a + c) + s)  →  SkipLayerNormalization(a, s, γ, β, c)
//! LayerNormalization(a + (s + c))  →  SkipLayerNormalization(a, s, γ, β, c)
//! LayerNormalization(a + s)        →  SkipLayerNormalization(a, s, γ, β)
//! ```
//!
//! for float `a` and `s` of rank 3 and the same known shape, a constant bias `c` and scale and
//! shift `γ`, `β` of rank 1 as long as the last axis, a normalization over the last axis with
//! one output, and sums read only by the pattern. ε is always written out: ORT's fusion gives a
//! `LayerNormalization` without one SkipLayerNormalization's default 1e-12 instead of 1e-5.

use super::facts::Facts;
use super::fuse::MS_DOMAIN;
use super::node::{attr, attr_int, float_attr, is_onnx};
use super::uses::{disjoint, remove};
use super::value::dtype;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::ops::Deref;

/// `LayerNormalization`'s ε when the attribute is absent.
const DEFAULT_EPSILON: f32 = 1e-5;

/// What matching needs of the graph, and the matchers of this fusion's parts.
struct Cx<'g>(Facts<'g>);

impl<'g> Deref for Cx<'g> {
    type Target = Facts<'g>;
    fn deref(&self) -> &Facts<'g> {
        &self.0
    }
}

impl<'g> Cx<'g> {
    /// The `Add` of two inputs writing `value` when only one node reads `value` and it is no
    /// graph output.
    fn private_add(&self, value: &str) -> Option<usize> {
        let (k, n) = self.private(value, "Add")?;
        (n.input.len() == 2).then_some(k)
    }

    /// Whether `a` and `b` are float of rank 3 and the same fully known shape.
    fn residual_pair(&self, a: &str, b: &str) -> bool {
        let float = [a, b]
            .iter()
            .all(|v| self.types.get(*v) == Some(&dtype::FLOAT));
        let known = |v: &str| {
            self.shape(v)
                .filter(|s| s.len() == 3 && s.iter().all(|d| d.is_some()))
        };
        float && known(a).is_some() && known(a) == known(b)
    }

    /// Whether `v` is a float of shape `[width]`.
    fn last_axis_vector(&self, v: &str, width: Option<i64>) -> bool {
        let float = self.types.get(v) == Some(&dtype::FLOAT);
        float && width.is_some() && self.shape(v) == Some(&[width][..])
    }

    /// `value` as `Add(a, c)` (either order) of a constant bias `c` for `a` of rank 3:
    /// (`a`, `c`, the `Add`).
    fn biased(&self, value: &str, width: Option<i64>) -> Option<(&'g str, &'g str, usize)> {
        let k = self.private_add(value)?;
        let n = &self.g.node[k];
        (0..2).rev().find_map(|i| {
            let (a, c) = (n.input[1 - i].as_str(), n.input[i].as_str());
            let is_constant = self.constant(c).is_some();
            let rank3 = self.shape(a).is_some_and(|s| s.len() == 3);
            (is_constant && rank3 && self.last_axis_vector(c, width)).then_some((a, c, k))
        })
    }
}

/// One match: the `LayerNormalization` that becomes `SkipLayerNormalization`, its inputs, ε and
/// the `Add`s that go.
struct Fusion {
    ln: usize,
    inputs: Vec<String>,
    epsilon: f32,
    gone: Vec<usize>,
}

/// Residual (and bias) `Add`s before `LayerNormalization` into `SkipLayerNormalization`;
/// returns how many.
pub(super) fn skip_layer_norm(model: &Model, g: &mut GraphProto) -> usize {
    let fusions = {
        let cx = Cx(Facts::of(model, g));
        let found = (0..g.node.len()).filter_map(|k| matched(&cx, k));
        disjoint(found, |f| &f.gone)
    };
    for f in &fusions {
        let n = &mut g.node[f.ln];
        n.op_type = "SkipLayerNormalization".into();
        n.domain = MS_DOMAIN.into();
        n.input = f.inputs.clone();
        n.attribute = vec![float_attr("epsilon", f.epsilon)];
    }
    let gone: Vec<usize> = fusions
        .iter()
        .flat_map(|f| f.gone.iter().copied())
        .collect();
    remove(g, &gone);
    fusions.len()
}

/// Whether `n` is a `LayerNormalization` over the last axis of a rank-3 input, with one output.
fn over_last_axis(cx: &Cx, n: &NodeProto) -> bool {
    let rank3 = n
        .input
        .first()
        .and_then(|x| cx.shape(x))
        .is_some_and(|s| s.len() == 3);
    let axis = attr_int(n, "axis").unwrap_or(-1);
    let one_output = n.output.iter().skip(1).all(|o| o.is_empty());
    is_onnx(n, "LayerNormalization") && rank3 && (axis == -1 || axis == 2) && one_output
}

/// The pattern matched from the `LayerNormalization` at `k`.
fn matched(cx: &Cx, k: usize) -> Option<Fusion> {
    let ln = &cx.g.node[k];
    if !over_last_axis(cx, ln) || ln.input.len() < 2 {
        return None;
    }
    let width = *cx.shape(&ln.input[0])?.last()?;
    let (scale, shift) = (&ln.input[1], ln.input.get(2).filter(|b| !b.is_empty()));
    let vectors = cx.last_axis_vector(scale, width)
        && shift.is_none_or(|b| cx.last_axis_vector(b, width))
        && cx.types.get(&ln.output[0]) == Some(&dtype::FLOAT);
    let sum = cx.private_add(&ln.input[0])?;
    if !vectors {
        return None;
    }
    let (l, r) = (
        cx.g.node[sum].input[0].as_str(),
        cx.g.node[sum].input[1].as_str(),
    );
    // (a + c) + s, then a + (s + c), then a + s.
    let first = cx
        .biased(l, width)
        .map(|(a, c, b)| (a, r, Some(c), vec![sum, b]));
    let second = cx
        .biased(r, width)
        .map(|(s, c, b)| (l, s, Some(c), vec![sum, b]));
    let (a, s, bias, mut gone) = [first, second, Some((l, r, None, vec![sum]))]
        .into_iter()
        .flatten()
        .find(|(a, s, _, _)| cx.residual_pair(a, s))?;
    gone.sort_unstable();
    let epsilon = attr(ln, "epsilon").map_or(DEFAULT_EPSILON, |e| e.f);
    let mut inputs = vec![a.to_string(), s.to_string(), scale.clone()];
    inputs.push(shift.cloned().unwrap_or_default());
    inputs.extend(bias.map(String::from));
    if bias.is_none() && shift.is_none() {
        inputs.pop();
    }
    Some(Fusion {
        ln: k,
        inputs,
        epsilon,
        gone,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{AttributeProto, ModelProto, NodeProto};
    use crate::optimize::{GraphOptimization, GraphOptimizer, Rewrite};
    use crate::tests::support::onnx_protos::{
        filled as float, node, optimized_nodes, shaped_vi, tensor_vi,
    };

    fn optimized(
        nodes: Vec<NodeProto>,
        level: impl Into<GraphOptimizer>,
        edit: &dyn Fn(&mut ModelProto),
    ) -> Vec<NodeProto> {
        optimized_nodes(
            nodes,
            vec![shaped_vi("x", 1, &[1, 2, 4]), shaped_vi("s", 1, &[1, 2, 4])],
            vec![
                float("gamma", &[4], 1.5),
                float("beta", &[4], 0.5),
                float("c", &[4], 0.25),
            ],
            level,
            edit,
        )
    }

    fn ln(input: &str) -> NodeProto {
        let mut n = node(
            "ln",
            "LayerNormalization",
            "",
            &[input, "gamma", "beta"],
            &["y"],
        );
        n.attribute.push(AttributeProto {
            name: "epsilon".into(),
            r#type: 1,
            f: 1e-6,
            ..Default::default()
        });
        n
    }

    fn inputs(nodes: &[NodeProto]) -> Vec<String> {
        nodes[0].input.clone()
    }

    #[test]
    fn residual_and_bias_adds_go_into_skip_layer_normalization() {
        let extended =
            |nodes: Vec<NodeProto>| optimized(nodes, GraphOptimization::Extended, &|_| {});
        // (x + c) + s
        let nodes = extended(vec![
            node("b", "Add", "", &["x", "c"], &["xc"]),
            node("r", "Add", "", &["xc", "s"], &["sum"]),
            ln("sum"),
        ]);
        assert_eq!(nodes.len(), 1);
        assert_eq!(
            (nodes[0].op_type.as_str(), nodes[0].domain.as_str()),
            ("SkipLayerNormalization", "com.microsoft")
        );
        assert_eq!(inputs(&nodes), ["x", "s", "gamma", "beta", "c"]);
        assert_eq!(
            (nodes[0].attribute[0].name.as_str(), nodes[0].attribute[0].f),
            ("epsilon", 1e-6)
        );
        // x + (s + c)
        let nodes = extended(vec![
            node("b", "Add", "", &["c", "s"], &["sc"]),
            node("r", "Add", "", &["x", "sc"], &["sum"]),
            ln("sum"),
        ]);
        assert_eq!(inputs(&nodes), ["x", "s", "gamma", "beta", "c"]);
        // x + s, no shift, no ε: LayerNormalization's ε is written out.
        let mut bare = ln("sum");
        bare.input.pop();
        bare.attribute.clear();
        let nodes = extended(vec![node("r", "Add", "", &["x", "s"], &["sum"]), bare]);
        assert_eq!(inputs(&nodes), ["x", "s", "gamma"]);
        assert_eq!(nodes[0].attribute[0].f, 1e-5);
    }

    #[test]
    fn adds_that_are_no_residual_stay() {
        let residual = || vec![node("r", "Add", "", &["x", "s"], &["sum"]), ln("sum")];
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::SkipLayerNorm);
        assert_eq!(optimized(residual(), off, &|_| {}).len(), 2);
        // A skip that broadcasts (another shape), or shapes not known.
        let broadcast =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().input[1] = shaped_vi("s", 1, &[1, 1, 4]);
        assert_eq!(
            optimized(residual(), GraphOptimization::Extended, &broadcast).len(),
            2
        );
        let unknown = |m: &mut ModelProto| m.graph.as_mut().unwrap().input[1] = tensor_vi("s", 1);
        assert_eq!(
            optimized(residual(), GraphOptimization::Extended, &unknown).len(),
            2
        );
        // The sum is returned too.
        let observed =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("sum", 1));
        assert_eq!(
            optimized(residual(), GraphOptimization::Extended, &observed).len(),
            2
        );
        // Normalized over another axis than the last.
        let mut axis1 = residual();
        axis1[1].attribute.push(AttributeProto {
            name: "axis".into(),
            r#type: 2,
            i: 1,
            ..Default::default()
        });
        assert_eq!(
            optimized(axis1, GraphOptimization::Extended, &|_| {}).len(),
            2
        );
        // Rank 2: the kernel wants rank 3.
        let rank2 = |m: &mut ModelProto| {
            let g = m.graph.as_mut().unwrap();
            g.input = vec![shaped_vi("x", 1, &[2, 4]), shaped_vi("s", 1, &[2, 4])];
        };
        assert_eq!(
            optimized(residual(), GraphOptimization::Extended, &rank2).len(),
            2
        );
        // A bias that is no constant stays an Add before the fused node.
        let variable_bias = vec![
            node("b", "Add", "", &["x", "v"], &["xv"]),
            node("r", "Add", "", &["xv", "s"], &["sum"]),
            ln("sum"),
        ];
        let v = |m: &mut ModelProto| {
            m.graph
                .as_mut()
                .unwrap()
                .input
                .push(shaped_vi("v", 1, &[4]))
        };
        let nodes = optimized(variable_bias, GraphOptimization::Extended, &v);
        let ops: Vec<&str> = nodes.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Add", "SkipLayerNormalization"]);
        assert_eq!(inputs(&nodes[1..]), ["xv", "s", "gamma", "beta"]);
    }
}
