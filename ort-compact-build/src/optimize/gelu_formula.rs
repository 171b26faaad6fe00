//! The Gelu formulas written out, fused into one kernel (level `extended`), as ONNX Runtime's
//! `GeluFusion` and `FastGeluFusion` take them:
//!
//! ```text
//! 0.5 · x · (1 + Erf(x / √2))                         →  Gelu(x)
//! 0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))  →  FastGelu(x)
//! ```
//!
//! for a float `x`, in any order of the products (`x³` as `Pow(x, 3)` or as products, the inner
//! factor as `x · (1 + 0.044715 · x²)`), each constant within ONNX Runtime's tolerance, and
//! every intermediate value read only inside the formula. `Gelu` is ONNX Runtime's contrib
//! kernel, or ONNX's own from opset 20 as ORT writes it; `FastGelu` is always the contrib kernel.

use super::fuse::MS_DOMAIN;
use super::node::is_onnx;
use super::product::{near, Product, Products};
use super::uses::{producer_index, reader_index, remove, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::GraphProto;
use std::collections::{HashMap, HashSet};

/// Which formula a pass fuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formula {
    /// `0.5 · x · (1 + Erf(x / √2))`.
    Erf,
    /// `0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))`.
    Tanh,
}

impl Formula {
    fn function(self) -> &'static str {
        match self {
            Formula::Erf => "Erf",
            Formula::Tanh => "Tanh",
        }
    }
}

/// `1/√2`, Erf's input scale (ORT also takes `x / 1.4142099…`, within its tolerance).
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `√(2/π)` as ONNX Runtime compares it.
const SQRT_2_OVER_PI: f64 = 0.797_884_583_473_205_6;
/// The cubic term's coefficient.
const CUBIC: f64 = 0.044_715;

/// One match: the node that becomes the fused one, its input `x`, every node of the formula
/// (the root included), whether a rank-1 constant took part.
struct Fusion<'g> {
    root: usize,
    x: &'g str,
    nodes: Vec<usize>,
    widens: bool,
}

/// Part of a match: `x`, the nodes read, whether a rank-1 constant took part.
type Part<'g> = (&'g str, Vec<usize>, bool);

/// What matching needs: products, and the node reading each value.
struct Cx<'g> {
    p: Products<'g>,
    readers: HashMap<&'g str, usize>,
}

/// `0.5 · x · (1 + Erf(x / √2))` of float `x` fused into `Gelu`; returns how many.
pub(super) fn gelu(model: &Model, g: &mut GraphProto) -> usize {
    fuse(model, g, Formula::Erf)
}

/// `0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))` of float `x` fused into `FastGelu`;
/// returns how many.
pub(super) fn fast_gelu(model: &Model, g: &mut GraphProto) -> usize {
    fuse(model, g, Formula::Tanh)
}

fn fuse(model: &Model, g: &mut GraphProto, formula: Formula) -> usize {
    if model.opset < 9 {
        return 0;
    }
    let (fusions, gone) = matches(model, g, formula);
    for (root, x) in &fusions {
        let n = &mut g.node[*root];
        let onnx_gelu = formula == Formula::Erf && model.opset >= 20;
        n.op_type = match formula {
            Formula::Erf => "Gelu",
            Formula::Tanh => "FastGelu",
        }
        .into();
        n.domain = if onnx_gelu { "" } else { MS_DOMAIN }.into();
        n.input = vec![x.clone()];
        n.attribute.clear();
    }
    remove(g, &gone);
    fusions.len()
}

/// The fusions of `formula` in `g` as (root, x), and the other nodes of all of them.
fn matches(model: &Model, g: &GraphProto, formula: Formula) -> (Vec<(usize, String)>, Vec<usize>) {
    let uses = Uses::of(g);
    let producer = producer_index(g);
    let cx = Cx {
        p: Products {
            model,
            g,
            uses: &uses,
            producer: &producer,
        },
        readers: reader_index(g),
    };
    let types = model.types(g);
    let shapes = model.shapes(g);
    let mut taken = HashSet::new();
    let (mut found, mut gone) = (Vec::new(), Vec::new());
    for k in 0..g.node.len() {
        let Some(f) = matched(&cx, formula, k) else {
            continue;
        };
        let float = types.get(f.x) == Some(&dtype::FLOAT);
        // A rank-1 constant broadcasts a rank-0 `x` up: fuse only when `x` has a rank.
        let ranked = shapes.get(f.x).is_some_and(|s| !s.is_empty());
        if !float || (f.widens && !ranked) || f.nodes.iter().any(|n| taken.contains(n)) {
            continue;
        }
        taken.extend(f.nodes.iter().copied());
        gone.extend(f.nodes.iter().copied().filter(|&n| n != f.root));
        found.push((f.root, f.x.to_string()));
    }
    (found, gone)
}

/// The formula matched from its `1 + Erf(…)` or `1 + Tanh(…)` at node `k`.
fn matched<'g>(cx: &Cx<'g>, formula: Formula, k: usize) -> Option<Fusion<'g>> {
    let (p, g) = (&cx.p, cx.p.g);
    let add = &g.node[k];
    if !is_onnx(add, "Add") {
        return None;
    }
    let a = add.output.first()?.as_str();
    let (one, t, add_k, w1) = p.plus_constant(a)?;
    let f = p.private(t)?;
    if add_k != k || !near(one, 1.0) || !is_onnx(&g.node[f], formula.function()) {
        return None;
    }
    let u = g.node[f].input.first()?.as_str();
    p.private(u)?;
    let (x, mut nodes, w2) = match formula {
        Formula::Erf => erf_argument(p, u)?,
        Formula::Tanh => tanh_argument(p, u)?,
    };
    let (root, outer) = outer_product(cx, a, x)?;
    nodes.extend(outer.nodes.iter().copied().chain([k, f]));
    nodes.sort_unstable();
    nodes.dedup();
    Some(Fusion {
        root,
        x,
        nodes,
        widens: w1 || w2 || outer.widens,
    })
}

/// `u = x / √2` (or `x · 1/√2`).
fn erf_argument<'g>(p: &Products<'g>, u: &'g str) -> Option<Part<'g>> {
    let prod = p.of(u);
    let &[x] = prod.factors.as_slice() else {
        return None;
    };
    near(prod.coefficient, FRAC_1_SQRT_2).then_some((x, prod.nodes, prod.widens))
}

/// `u = √(2/π) · (x + 0.044715 · x³)`, or `√(2/π) · x · (1 + 0.044715 · x²)`.
fn tanh_argument<'g>(p: &Products<'g>, u: &'g str) -> Option<Part<'g>> {
    let prod = p.of(u);
    if !near(prod.coefficient, SQRT_2_OVER_PI) {
        return None;
    }
    let (x, mut nodes, widens) = match *prod.factors.as_slice() {
        [s] => cubic_sum(p, s)?,
        [a, b] => cubic_product(p, a, b).or_else(|| cubic_product(p, b, a))?,
        _ => return None,
    };
    nodes.extend(prod.nodes);
    Some((x, nodes, widens || prod.widens))
}

/// `s = x + 0.044715 · x³` (either order).
fn cubic_sum<'g>(p: &Products<'g>, s: &str) -> Option<Part<'g>> {
    let k = p.private(s)?;
    let n = &p.g.node[k];
    if !is_onnx(n, "Add") || n.input.len() != 2 {
        return None;
    }
    (0..2).find_map(|i| {
        let (x, q) = (n.input[i].as_str(), n.input[1 - i].as_str());
        p.private(q)?;
        let cubic = p.of(q);
        let fits = near(cubic.coefficient, CUBIC) && cubic.factors_are(&[x, x, x]);
        fits.then(|| (x, [cubic.nodes, vec![k]].concat(), cubic.widens))
    })
}

/// `x · s` with `s = 1 + 0.044715 · x²`.
fn cubic_product<'g>(p: &Products<'g>, x: &'g str, s: &str) -> Option<Part<'g>> {
    let (one, q, k, widens) = p.plus_constant(s)?;
    p.private(q)?;
    let square = p.of(q);
    let fits = near(one, 1.0) && near(square.coefficient, CUBIC) && square.factors_are(&[x, x]);
    fits.then(|| (x, [square.nodes, vec![k]].concat(), widens || square.widens))
}

/// The shortest chain of `Mul`s from `a` (the `1 + f(…)` factor) that reads as `0.5 · x · a`:
/// its last node and the product.
fn outer_product<'g>(cx: &Cx<'g>, a: &'g str, x: &'g str) -> Option<(usize, Product<'g>)> {
    let mut value = a;
    loop {
        // `value` is private to the chain: one reader, no graph output.
        cx.p.private(value)?;
        let &m = cx.readers.get(value)?;
        let mul = &cx.p.g.node[m];
        if !is_onnx(mul, "Mul") {
            return None;
        }
        let out = mul.output.first()?.as_str();
        let prod = cx.p.of(out);
        if near(prod.coefficient, 0.5) && prod.factors_are(&[x, a]) {
            return Some((m, prod));
        }
        value = out;
    }
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{ModelProto, NodeProto, OperatorSetIdProto};
    use crate::optimize::{GraphOptimization, GraphOptimizer, Rewrite};
    use crate::tests::support::onnx_protos::{
        filled as float, node, optimized_nodes, shaped_vi, tensor_vi,
    };

    /// The constants the formulas read, by name.
    fn constants() -> Vec<crate::model::onnx::TensorProto> {
        vec![
            float("half", &[], 0.5),
            float("one", &[], 1.0),
            float("sqrt2", &[], std::f32::consts::SQRT_2),
            float("bert_sqrt2", &[], 1.414_209_9),
            float("c", &[], 0.797_884_6),
            float("k", &[], 0.044_715),
            float("three", &[], 3.0),
            float("wrong", &[], 0.6),
            float("half_1d", &[1], 0.5),
        ]
    }

    fn optimized(
        nodes: Vec<NodeProto>,
        level: impl Into<GraphOptimizer>,
        edit: &dyn Fn(&mut ModelProto),
    ) -> Vec<NodeProto> {
        optimized_nodes(
            nodes,
            vec![shaped_vi("x", 1, &[2, 3])],
            constants(),
            level,
            edit,
        )
    }

    fn ops(nodes: &[NodeProto]) -> Vec<String> {
        nodes.iter().map(|n| n.op_type.clone()).collect()
    }

    fn extended(nodes: Vec<NodeProto>) -> Vec<String> {
        ops(&optimized(nodes, GraphOptimization::Extended, &|_| {}))
    }

    /// `0.5 · x · (1 + Erf(x / s))`, the half taken first (ORT's pattern 1) or last (pattern 2).
    fn erf(s: &str, half_first: bool) -> Vec<NodeProto> {
        let mut nodes = vec![
            node("d", "Div", "", &["x", s], &["u"]),
            node("e", "Erf", "", &["u"], &["t"]),
            node("a", "Add", "", &["t", "one"], &["a"]),
        ];
        if half_first {
            nodes.push(node("h", "Mul", "", &["x", "half"], &["hx"]));
            nodes.push(node("m", "Mul", "", &["hx", "a"], &["y"]));
        } else {
            nodes.push(node("m", "Mul", "", &["x", "a"], &["xa"]));
            nodes.push(node("h", "Mul", "", &["xa", "half"], &["y"]));
        }
        nodes
    }

    /// The Tanh formula as ORT's first pattern writes it: `√(2/π)·x · (1 + 0.044715·x·x)`.
    fn tanh_factored() -> Vec<NodeProto> {
        vec![
            node("m1", "Mul", "", &["x", "k"], &["m1"]),
            node("m2", "Mul", "", &["m1", "x"], &["m2"]),
            node("a1", "Add", "", &["m2", "one"], &["a1"]),
            node("m4", "Mul", "", &["x", "c"], &["m4"]),
            node("m3", "Mul", "", &["a1", "m4"], &["u"]),
            node("t", "Tanh", "", &["u"], &["t"]),
            node("a2", "Add", "", &["t", "one"], &["a2"]),
            node("m6", "Mul", "", &["x", "half"], &["m6"]),
            node("m5", "Mul", "", &["a2", "m6"], &["y"]),
        ]
    }

    /// The Tanh formula as a JAX export writes it (magika's model): `x + 0.044715·x·x·x`.
    fn tanh_expanded(cube: &[NodeProto]) -> Vec<NodeProto> {
        let mut nodes = cube.to_vec();
        nodes.extend([
            node("s", "Add", "", &["x", "q"], &["s"]),
            node("mc", "Mul", "", &["c", "s"], &["u"]),
            node("t", "Tanh", "", &["u"], &["t"]),
            node("a2", "Add", "", &["one", "t"], &["a2"]),
            node("h", "Mul", "", &["half", "a2"], &["h"]),
            node("m", "Mul", "", &["x", "h"], &["y"]),
        ]);
        nodes
    }

    fn jax_cube() -> Vec<NodeProto> {
        vec![
            node("c1", "Mul", "", &["k", "x"], &["c1"]),
            node("c2", "Mul", "", &["x", "c1"], &["c2"]),
            node("c3", "Mul", "", &["x", "c2"], &["q"]),
        ]
    }

    fn pow_cube() -> Vec<NodeProto> {
        vec![
            node("p", "Pow", "", &["x", "three"], &["p"]),
            node("c1", "Mul", "", &["p", "k"], &["q"]),
        ]
    }

    #[test]
    fn the_erf_formula_in_either_order_becomes_gelu() {
        for half_first in [true, false] {
            for s in ["sqrt2", "bert_sqrt2"] {
                let nodes = optimized(erf(s, half_first), GraphOptimization::Extended, &|_| {});
                assert_eq!(ops(&nodes), ["Gelu"], "{s} {half_first}");
                assert_eq!(
                    (nodes[0].domain.as_str(), nodes[0].input.as_slice()),
                    ("com.microsoft", &["x".to_string()][..])
                );
                assert_eq!(nodes[0].output, ["y"]);
            }
        }
        // From opset 20 on, ONNX's own Gelu.
        let opset20 = |m: &mut ModelProto| {
            m.opset_import = vec![OperatorSetIdProto {
                domain: String::new(),
                version: 20,
            }]
        };
        let nodes = optimized(erf("sqrt2", true), GraphOptimization::Extended, &opset20);
        assert_eq!(
            (ops(&nodes), nodes[0].domain.as_str()),
            (vec!["Gelu".into()], "")
        );
    }

    #[test]
    fn the_tanh_formula_as_ort_and_exporters_write_it_becomes_fast_gelu() {
        for (name, nodes) in [
            ("factored", tanh_factored()),
            ("jax", tanh_expanded(&jax_cube())),
            ("pow", tanh_expanded(&pow_cube())),
        ] {
            let nodes = optimized(nodes, GraphOptimization::Extended, &|_| {});
            assert_eq!(ops(&nodes), ["FastGelu"], "{name}");
            assert_eq!(nodes[0].domain, "com.microsoft");
            assert_eq!(
                (nodes[0].input.as_slice(), nodes[0].output.as_slice()),
                (&["x".to_string()][..], &["y".to_string()][..])
            );
        }
    }

    #[test]
    fn near_misses_of_the_gelu_formulas_stay() {
        // Basic, or the rewrite turned off.
        let basic = optimized(erf("sqrt2", true), GraphOptimization::Basic, &|_| {});
        assert_eq!(ops(&basic), ["Div", "Erf", "Add", "Mul", "Mul"]);
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::FastGelu);
        assert_eq!(optimized(tanh_factored(), off, &|_| {}).len(), 9);
        // Another constant: 0.6 for the half, for √2, for the cubic term.
        assert_eq!(
            extended(swap_to(erf("sqrt2", true), "half", "wrong")).len(),
            5
        );
        assert_eq!(extended(erf("wrong", false)).len(), 5);
        assert_eq!(extended(swap_to(tanh_factored(), "k", "wrong")).len(), 9);
        // x², not x³.
        let square = vec![
            node("c1", "Mul", "", &["k", "x"], &["c1"]),
            node("c2", "Mul", "", &["x", "c1"], &["q"]),
        ];
        assert_eq!(extended(tanh_expanded(&square)).len(), 8);
        // Another value than x in the outer product.
        let mut other = erf("sqrt2", true);
        other[3].input[0] = "w".into();
        let w = |m: &mut ModelProto| {
            m.graph
                .as_mut()
                .unwrap()
                .input
                .push(shaped_vi("w", 1, &[2, 3]))
        };
        assert_eq!(optimized(other, GraphOptimization::Extended, &w).len(), 5);
        // An intermediate value the graph returns, or another node reads.
        let observed =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("t", 1));
        let nodes = optimized(erf("sqrt2", true), GraphOptimization::Extended, &observed);
        assert_eq!(nodes.len(), 5);
        let mut shared = tanh_factored();
        shared.push(node("n", "Neg", "", &["m4"], &["z"]));
        let z = |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("z", 1));
        assert_eq!(optimized(shared, GraphOptimization::Extended, &z).len(), 10);
        // Doubles: the kernels are float only.
        let doubles = |m: &mut ModelProto| {
            let g = m.graph.as_mut().unwrap();
            g.input = vec![shaped_vi("x", 11, &[2, 3])];
            g.initializer.iter_mut().for_each(|t| {
                t.data_type = 11;
                t.double_data = t.float_data.iter().map(|&v| v as f64).collect();
                t.float_data.clear();
            });
        };
        let nodes = optimized(erf("sqrt2", true), GraphOptimization::Extended, &doubles);
        assert_eq!(nodes.len(), 5);
        // A rank-1 half would broadcast a scalar x up to rank 1: Gelu(x) would keep rank 0.
        let scalar = |m: &mut ModelProto| {
            m.graph.as_mut().unwrap().input = vec![shaped_vi("x", 1, &[])];
        };
        let nodes = optimized(
            swap_to(erf("sqrt2", true), "half", "half_1d"),
            GraphOptimization::Extended,
            &scalar,
        );
        assert_eq!(nodes.len(), 5);
        let nodes = optimized(
            swap_to(erf("sqrt2", true), "half", "half_1d"),
            GraphOptimization::Extended,
            &|_| {},
        );
        assert_eq!(ops(&nodes), ["Gelu"]);
    }

    fn swap_to(nodes: Vec<NodeProto>, from: &str, to: &str) -> Vec<NodeProto> {
        nodes
            .into_iter()
            .map(|mut n| {
                n.input
                    .iter_mut()
                    .filter(|i| *i == from)
                    .for_each(|i| *i = to.into());
                n
            })
            .collect()
    }
}
