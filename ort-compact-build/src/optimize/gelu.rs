//! Fusions of the Gelu family into ONNX Runtime's contrib kernels (level `extended`):
//! `x · Sigmoid(α·x)`, and Swish / SiLU `x · Sigmoid(x)` (α = 1), become one `com.microsoft`
//! `QuickGelu` with `alpha`, as ONNX Runtime's `QuickGeluFusion` takes them: one pass over the
//! tensor instead of two or three.

use super::fuse::MS_DOMAIN;
use super::node::{float_attr, is_onnx};
use super::uses::{constant, producer_index, reader_index, remove, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::{HashMap, HashSet};

/// The factor of `n` when it is a `Mul` by a one-element float constant, with its other input.
fn scaling<'n>(model: &Model, g: &GraphProto, n: &'n NodeProto) -> Option<(f32, &'n str)> {
    if !is_onnx(n, "Mul") || n.input.len() != 2 || model.opset < 7 {
        return None;
    }
    (0..2).find_map(|k| {
        let v = constant(g, &model.loc, &n.input[k])?;
        let one = v.count() == 1 && v.dims.iter().all(|&d| d == 1);
        let float = matches!(v.dtype, dtype::FLOAT | dtype::DOUBLE);
        (one && float).then_some(())?;
        Some((v.as_f64()? as f32, n.input[1 - k].as_str()))
    })
}

/// A value of `g` read by exactly one node and not observed: that node's index.
fn only_reader(uses: &Uses, reader: &HashMap<&str, usize>, value: &str) -> Option<usize> {
    (uses.readers(value) == 1 && !uses.observed(value))
        .then(|| reader.get(value).copied())
        .flatten()
}

/// `x · Sigmoid(α·x)` and `x · Sigmoid(x)` of float `x` fused into `QuickGelu`; returns how many.
pub(super) fn quick_gelu(model: &Model, g: &mut GraphProto) -> usize {
    if model.opset < 7 {
        return 0;
    }
    let uses = Uses::of(g);
    let types = model.types(g);
    let reader = reader_index(g);
    let producer = producer_index(g);
    // (the final Mul, x, α, nodes that go)
    let mut fusions: Vec<(usize, String, f32, Vec<usize>)> = Vec::new();
    let mut taken = HashSet::new();
    for (s, sigmoid) in g.node.iter().enumerate() {
        if !is_onnx(sigmoid, "Sigmoid") || sigmoid.input.len() != 1 || sigmoid.output.len() != 1 {
            continue;
        }
        let Some(m) = only_reader(&uses, &reader, &sigmoid.output[0]) else {
            continue;
        };
        // A leading Mul by α, when the Sigmoid's input comes from one that nothing else reads.
        let leading = producer
            .get(sigmoid.input[0].as_str())
            .copied()
            .filter(|_| only_reader(&uses, &reader, &sigmoid.input[0]) == Some(s))
            .and_then(|k| Some((k, scaling(model, g, &g.node[k])?)));
        let (x, alpha, mut gone) = match leading {
            Some((k, (alpha, x))) => (x.to_string(), alpha, vec![k, s]),
            None => (sigmoid.input[0].clone(), 1.0, vec![s]),
        };
        let mul = &g.node[m];
        let other = mul
            .input
            .iter()
            .position(|i| *i == sigmoid.output[0])
            .map(|i| 1 - i);
        let fits = is_onnx(mul, "Mul")
            && mul.input.len() == 2
            && other.is_some_and(|o| mul.input[o] == x)
            && types.get(&x) == Some(&dtype::FLOAT);
        if !fits || gone.iter().chain([&m]).any(|k| taken.contains(k)) {
            continue;
        }
        taken.extend(gone.iter().copied().chain([m]));
        gone.sort_unstable();
        fusions.push((m, x, alpha, gone));
    }
    for (m, x, alpha, _) in &fusions {
        let n = &mut g.node[*m];
        n.op_type = "QuickGelu".into();
        n.domain = MS_DOMAIN.into();
        n.input = vec![x.clone()];
        n.attribute = vec![float_attr("alpha", *alpha)];
    }
    let gone: Vec<usize> = fusions.iter().flat_map(|f| f.3.iter().copied()).collect();
    remove(g, &gone);
    fusions.len()
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{ModelProto, NodeProto};

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
            vec![shaped_vi("x", 1, &[2, 3])],
            vec![float("a", &[], 1.702), float("v", &[3], 1.702)],
            level,
            edit,
        )
    }

    fn ops(nodes: &[NodeProto]) -> Vec<String> {
        nodes.iter().map(|n| n.op_type.clone()).collect()
    }

    fn swish() -> Vec<NodeProto> {
        vec![
            node("s", "Sigmoid", "", &["x"], &["s"]),
            node("m", "Mul", "", &["x", "s"], &["y"]),
        ]
    }

    fn scaled(a: &str) -> Vec<NodeProto> {
        vec![
            node("k", "Mul", "", &[a, "x"], &["ax"]),
            node("s", "Sigmoid", "", &["ax"], &["s"]),
            node("m", "Mul", "", &["s", "x"], &["y"]),
        ]
    }

    #[test]
    fn swish_and_scaled_sigmoid_gates_become_quick_gelu() {
        let none = |_: &mut ModelProto| {};
        let nodes = optimized(swish(), GraphOptimization::Extended, &none);
        assert_eq!(ops(&nodes), ["QuickGelu"]);
        assert_eq!(nodes[0].domain, "com.microsoft");
        assert_eq!(
            (nodes[0].input.as_slice(), nodes[0].attribute[0].f),
            (&["x".to_string()][..], 1.0)
        );
        let nodes = optimized(scaled("a"), GraphOptimization::Extended, &none);
        assert_eq!(ops(&nodes), ["QuickGelu"]);
        assert_eq!(
            (nodes[0].input[0].as_str(), nodes[0].attribute[0].f),
            ("x", 1.702)
        );
    }

    #[test]
    fn gates_quick_gelu_does_not_compute_stay() {
        let none = |_: &mut ModelProto| {};
        assert_eq!(
            ops(&optimized(swish(), GraphOptimization::Basic, &none)),
            ["Sigmoid", "Mul"]
        );
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::QuickGelu);
        assert_eq!(ops(&optimized(swish(), off, &none)), ["Sigmoid", "Mul"]);
        let other = vec![
            node("s", "Sigmoid", "", &["x"], &["s"]),
            node("m", "Mul", "", &["w", "s"], &["y"]),
        ];
        let w = |m: &mut ModelProto| {
            m.graph
                .as_mut()
                .unwrap()
                .input
                .push(shaped_vi("w", 1, &[2, 3]))
        };
        assert_eq!(
            ops(&optimized(other, GraphOptimization::Extended, &w)),
            ["Sigmoid", "Mul"]
        );
        let observed =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("s", 1));
        assert_eq!(
            ops(&optimized(swish(), GraphOptimization::Extended, &observed)),
            ["Sigmoid", "Mul"]
        );
        let doubles = |m: &mut ModelProto| {
            m.graph.as_mut().unwrap().input = vec![shaped_vi("x", 11, &[2, 3])]
        };
        assert_eq!(
            ops(&optimized(swish(), GraphOptimization::Extended, &doubles)),
            ["Sigmoid", "Mul"]
        );
        // A per-column α is not QuickGelu's alpha: nothing fuses.
        let nodes = optimized(scaled("v"), GraphOptimization::Extended, &none);
        assert_eq!(ops(&nodes), ["Mul", "Sigmoid", "Mul"]);
    }
}
