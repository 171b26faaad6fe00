//! A bias `Add` before a Gelu fused into it (level `extended`), as ONNX Runtime's
//! `BiasGeluFusion` takes it: `Gelu(x + b)` becomes `BiasGelu(x, b)` and `FastGelu(x + b)`
//! becomes `FastGelu(x, b)`, for a float `b` of rank 1 as long as `x`'s last axis.

use super::fuse::MS_DOMAIN;
use super::node::{attr, in_onnx, is_onnx};
use super::uses::{producer_index, remove, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::HashSet;

/// What `n` becomes with a bias: `BiasGelu` for an exact Gelu, `FastGelu` for the Tanh one.
fn with_bias(n: &NodeProto) -> Option<&'static str> {
    let contrib = n.domain == MS_DOMAIN;
    match n.op_type.as_str() {
        "Gelu" if contrib => Some("BiasGelu"),
        "FastGelu" if contrib && n.input.len() == 1 => Some("FastGelu"),
        "Gelu" if in_onnx(n) => match attr(n, "approximate").map(|a| a.s.as_slice()) {
            None | Some(b"none") => Some("BiasGelu"),
            Some(b"tanh") => Some("FastGelu"),
            Some(_) => None,
        },
        _ => None,
    }
}

/// `Gelu(x + b)` into `BiasGelu(x, b)` and `FastGelu(x + b)` into `FastGelu(x, b)`; returns
/// how many.
pub(super) fn bias_gelu(model: &Model, g: &mut GraphProto) -> usize {
    let uses = Uses::of(g);
    let producer = producer_index(g);
    let types = model.types(g);
    let shapes = model.shapes(g);
    let last = |v: &str| shapes.get(v).and_then(|s| *s.last()?);
    let rank = |v: &str| shapes.get(v).map(|s| s.len());
    let mut fusions: Vec<(usize, &'static str, [String; 2], usize)> = Vec::new();
    let mut taken = HashSet::new();
    for (k, n) in g.node.iter().enumerate() {
        let (Some(op), Some(v)) = (with_bias(n), n.input.first()) else {
            continue;
        };
        let Some(&a) = producer.get(v.as_str()) else {
            continue;
        };
        let add = &g.node[a];
        if !is_onnx(add, "Add") || add.input.len() != 2 || uses.readers(v) != 1 || uses.observed(v)
        {
            continue;
        }
        // The bias is the rank-1 operand; the other keeps the shape (rank ≥ 1, same last axis).
        let bias = (0..2).rev().find(|&i| {
            let (b, x) = (&add.input[i], &add.input[1 - i]);
            let ranked = rank(b) == Some(1) && rank(x).is_some_and(|r| r >= 1);
            ranked && last(b).is_some() && last(b) == last(x)
        });
        let Some(i) = bias else {
            continue;
        };
        let float = add
            .input
            .iter()
            .all(|x| types.get(x) == Some(&dtype::FLOAT));
        if !float || taken.contains(&a) {
            continue;
        }
        taken.insert(a);
        let inputs = [add.input[1 - i].clone(), add.input[i].clone()];
        fusions.push((k, op, inputs, a));
    }
    for (k, op, inputs, _) in &fusions {
        let n = &mut g.node[*k];
        n.op_type = (*op).into();
        n.domain = MS_DOMAIN.into();
        n.input = inputs.to_vec();
        n.attribute.clear();
    }
    let gone: Vec<usize> = fusions.iter().map(|f| f.3).collect();
    remove(g, &gone);
    fusions.len()
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
            vec![shaped_vi("x", 1, &[2, 3])],
            vec![float("b", &[3], 0.25), float("b2", &[2], 0.25)],
            level,
            edit,
        )
    }

    fn biased(op: &str, domain: &str, bias: &str) -> Vec<NodeProto> {
        vec![
            node("a", "Add", "", &[bias, "x"], &["xb"]),
            node("g", op, domain, &["xb"], &["y"]),
        ]
    }

    fn summary(nodes: &[NodeProto]) -> Vec<(String, Vec<String>)> {
        nodes
            .iter()
            .map(|n| (n.op_type.clone(), n.input.clone()))
            .collect()
    }

    #[test]
    fn a_bias_add_goes_into_the_gelu_after_it() {
        let nodes = optimized(
            biased("Gelu", "com.microsoft", "b"),
            GraphOptimization::Extended,
            &|_| {},
        );
        assert_eq!(
            summary(&nodes),
            [("BiasGelu".into(), vec!["x".into(), "b".into()])]
        );
        assert_eq!(
            (nodes[0].domain.as_str(), nodes[0].output[0].as_str()),
            ("com.microsoft", "y")
        );
        let nodes = optimized(
            biased("FastGelu", "com.microsoft", "b"),
            GraphOptimization::Extended,
            &|_| {},
        );
        assert_eq!(
            summary(&nodes),
            [("FastGelu".into(), vec!["x".into(), "b".into()])]
        );
        // ONNX's Gelu (opset 20): its approximation picks the kernel.
        let mut tanh = biased("Gelu", "", "b");
        tanh[1].attribute.push(AttributeProto {
            name: "approximate".into(),
            r#type: 3,
            s: b"tanh".to_vec(),
            ..Default::default()
        });
        let opset20 = |m: &mut ModelProto| m.opset_import[0].version = 20;
        let nodes = optimized(tanh, GraphOptimization::Extended, &opset20);
        assert_eq!(
            summary(&nodes),
            [("FastGelu".into(), vec!["x".into(), "b".into()])]
        );
        assert!(nodes[0].attribute.is_empty());
        let nodes = optimized(
            biased("Gelu", "", "b"),
            GraphOptimization::Extended,
            &opset20,
        );
        assert_eq!(nodes[0].op_type, "BiasGelu");
    }

    #[test]
    fn adds_that_are_no_last_axis_bias_stay() {
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::BiasGelu);
        assert_eq!(
            optimized(biased("Gelu", "com.microsoft", "b"), off, &|_| {}).len(),
            2
        );
        // A bias of the first axis broadcasts differently.
        let first_axis = |m: &mut ModelProto| {
            m.graph.as_mut().unwrap().initializer[1] = float("b2", &[2, 1], 0.25);
        };
        let nodes = optimized(
            biased("Gelu", "com.microsoft", "b2"),
            GraphOptimization::Extended,
            &first_axis,
        );
        assert_eq!(nodes.len(), 2);
        // The sum is returned too, or FastGelu has a bias already.
        let observed =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("xb", 1));
        let nodes = optimized(
            biased("Gelu", "com.microsoft", "b"),
            GraphOptimization::Extended,
            &observed,
        );
        assert_eq!(nodes.len(), 2);
        let mut two = biased("FastGelu", "com.microsoft", "b");
        two[1].input.push("b".into());
        assert_eq!(
            optimized(two, GraphOptimization::Extended, &|_| {}).len(),
            2
        );
        // An input of unknown shape.
        let unknown =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().input = vec![tensor_vi("x", 1)];
        let nodes = optimized(
            biased("Gelu", "com.microsoft", "b"),
            GraphOptimization::Extended,
            &unknown,
        );
        assert_eq!(nodes.len(), 2);
    }
}
