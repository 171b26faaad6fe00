//! Fusions into ONNX Runtime's contrib `FusedMatMul` (level `extended`), which multiplies with
//! either operand transposed and scales the product by `alpha` in the same GEMM call:
//! - a `Transpose` that swaps the last two axes (or moves the first axis behind the batch axes)
//!   before a float `MatMul` operand becomes `transA`/`transB` (`transBatchA`/`transBatchB`), as
//!   ONNX Runtime's `MatmulTransposeFusion` takes it;
//! - a `Mul` or `Div` by a one-element constant on an operand, or on the product when it is the
//!   product's only reader, becomes a factor of `alpha` (`MatMulScaleFusion`), the factors
//!   multiplied in float32 as ONNX Runtime does.
//!
//! The `Transpose` or scaling node goes when nothing else reads it; graph outputs and values a
//! subgraph reads keep their names.

use super::fuse::MS_DOMAIN;
use super::infer::Shape;
use super::node::{attr, attr_ints, float_attr, int_attr, is_onnx};
use super::uses::{constant, producer_index, reader_index, remove, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::{HashMap, HashSet};

/// The operand and product options of a `FusedMatMul`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Options {
    /// `transA`, `transB`: the last two axes of the operand swapped.
    trans: [bool; 2],
    /// `transBatchA`, `transBatchB`: the operand's first axis moved behind its batch axes.
    trans_batch: [bool; 2],
    /// The product's scale.
    alpha: f32,
}

impl Options {
    /// The options of a float `MatMul` (none) or `FusedMatMul` node of `g` (`None`: another
    /// node, an older `MatMul`, or operands not known to be float).
    fn of(model: &Model, n: &NodeProto, types: &HashMap<String, i32>) -> Option<Options> {
        let matmul = (is_onnx(n, "MatMul") && model.opset >= 9)
            || (n.op_type == "FusedMatMul" && n.domain == MS_DOMAIN);
        let float = |i: usize| n.input.get(i).and_then(|x| types.get(x)) == Some(&dtype::FLOAT);
        if !matmul || n.input.len() != 2 || n.output.len() != 1 || !float(0) || !float(1) {
            return None;
        }
        let flag = |name: &str| attr(n, name).is_some_and(|a| a.i != 0);
        Some(Options {
            trans: [flag("transA"), flag("transB")],
            trans_batch: [flag("transBatchA"), flag("transBatchB")],
            alpha: attr(n, "alpha").map_or(1.0, |a| a.f),
        })
    }

    /// `n` made a `FusedMatMul` with these options.
    fn apply(&self, n: &mut NodeProto) {
        n.op_type = "FusedMatMul".into();
        n.domain = MS_DOMAIN.into();
        let int = |name: &str, on: bool| int_attr(name, i64::from(on));
        n.attribute = vec![
            float_attr("alpha", self.alpha),
            int("transA", self.trans[0]),
            int("transB", self.trans[1]),
            int("transBatchA", self.trans_batch[0]),
            int("transBatchB", self.trans_batch[1]),
        ];
    }
}

/// What a `Transpose` by `perm` is to a `MatMul` operand: (`trans`, `trans_batch`), or `None`
/// when the operand's last axis leaves the last two or the batch axes change order.
fn transposition(perm: &[i64]) -> Option<(bool, bool)> {
    let rank = perm.len();
    if rank < 2 {
        return None;
    }
    let last = rank as i64 - 1;
    let trans = match (perm[rank - 1] == last, perm[rank - 2] == last) {
        (true, _) => false,
        (false, true) => true,
        (false, false) => return None,
    };
    if rank >= 3 {
        let contiguous = perm[..rank - 2].windows(2).all(|w| w[0] + 1 == w[1]);
        if !matches!(perm[0], 0 | 1) || !contiguous {
            return None;
        }
    }
    let mut seen = vec![false; rank];
    for &p in perm {
        match usize::try_from(p).ok().and_then(|p| seen.get_mut(p)) {
            Some(s) if !*s => *s = true,
            _ => return None,
        }
    }
    Some((trans, rank >= 3 && perm[0] == 1))
}

/// The `Transpose` producing `operand` that a `MatMul` can take, and how it takes it (see
/// [`transposition`]).
fn transposed(
    g: &GraphProto,
    producer: &HashMap<&str, usize>,
    uses: &Uses,
    rank: &dyn Fn(&str) -> Option<usize>,
    operand: &str,
) -> Option<(usize, (bool, bool))> {
    let t = *producer.get(operand)?;
    let n = &g.node[t];
    if !is_onnx(n, "Transpose") || n.input.len() != 1 || uses.observed(&n.output[0]) {
        return None;
    }
    let perm = match attr_ints(n, "perm") {
        Some(perm) => perm,
        None => (0..rank(&n.input[0])? as i64).rev().collect(),
    };
    Some((t, transposition(&perm)?))
}

/// `Transpose`s before float `MatMul` operands fused into `FusedMatMul`; returns how many.
pub(super) fn transpose(model: &Model, g: &mut GraphProto) -> usize {
    let uses = Uses::of(g);
    let types = model.types(g);
    let shapes = model.shapes(g);
    let rank = |name: &str| shapes.get(name).map(Shape::len);
    let producer = producer_index(g);
    let mut edits: Vec<(usize, [String; 2], Options)> = Vec::new();
    let mut transposes = HashSet::new();
    for (k, n) in g.node.iter().enumerate() {
        let Some(mut opts) = Options::of(model, n, &types) else {
            continue;
        };
        let mut inputs = [n.input[0].clone(), n.input[1].clone()];
        let mut fused = [0, 1].map(|side| {
            let free = !opts.trans[side] && !opts.trans_batch[side];
            free.then(|| transposed(g, &producer, &uses, &rank, &n.input[side]))
                .flatten()
        });
        // A batch transposition needs both operands of one rank (no broadcast padding).
        let same_rank = rank(&n.input[0]).is_some() && rank(&n.input[0]) == rank(&n.input[1]);
        for f in &mut fused {
            if f.is_some_and(|(_, (_, batch))| batch) && !same_rank {
                *f = None;
            }
        }
        if fused.iter().all(Option::is_none) {
            continue;
        }
        for (side, f) in fused.iter().enumerate() {
            if let Some((t, (trans, batch))) = *f {
                inputs[side] = g.node[t].input[0].clone();
                opts.trans[side] = trans;
                opts.trans_batch[side] = batch;
                transposes.insert(t);
            }
        }
        edits.push((k, inputs, opts));
    }
    for (k, inputs, opts) in &edits {
        let n = &mut g.node[*k];
        n.input = inputs.to_vec();
        opts.apply(n);
    }
    remove_unused(g, transposes);
    edits.len()
}

/// A `Mul` or `Div` by a one-element constant: its factor, the index of its other input, and
/// the constant's rank.
type Scale = (f32, usize, usize);

/// The [`Scale`] of `n` (`None`: another node, or a constant that is not one element of a
/// number type).
fn scaling(model: &Model, g: &GraphProto, n: &NodeProto) -> Option<Scale> {
    if n.input.len() != 2 || n.output.len() != 1 || model.opset < 7 {
        return None;
    }
    let factor = |k: usize| -> Option<Scale> {
        let v = constant(g, &model.loc, &n.input[k])?;
        let number = matches!(
            v.dtype,
            dtype::FLOAT | dtype::DOUBLE | dtype::INT32 | dtype::INT64
        );
        (number && v.count() == 1).then_some(())?;
        Some((v.as_f64()? as f32, 1 - k, v.dims.len()))
    };
    if is_onnx(n, "Div") {
        factor(1).map(|(d, x, r)| (1.0 / d, x, r))
    } else if is_onnx(n, "Mul") {
        factor(0).or_else(|| factor(1))
    } else {
        None
    }
}

/// Scalings of float `MatMul` operands and products fused into `FusedMatMul`'s `alpha`;
/// returns how many `MatMul`s took some.
pub(super) fn scale(model: &Model, g: &mut GraphProto) -> usize {
    let uses = Uses::of(g);
    let types = model.types(g);
    let shapes = model.shapes(g);
    // Scaling by the constant keeps the shape of a value of at least its rank (and at least 1).
    let keeps = |name: &str, rank: usize| shapes.get(name).is_some_and(|s| s.len() >= rank.max(1));
    let producer = producer_index(g);
    let reader = reader_index(g);
    // A scaling node merges either as one product's scale (and goes) or into operands.
    let (mut products, mut operands) = (HashSet::new(), HashSet::new());
    let mut edits: Vec<(usize, [String; 2], String, Options)> = Vec::new();
    for (k, n) in g.node.iter().enumerate() {
        let Some(mut opts) = Options::of(model, n, &types) else {
            continue;
        };
        let mut inputs = [n.input[0].clone(), n.input[1].clone()];
        let mut factors = Vec::new();
        for (side, input) in inputs.iter_mut().enumerate() {
            let Some(&p) = producer.get(n.input[side].as_str()) else {
                continue;
            };
            let Some((factor, x, rank)) = scaling(model, g, &g.node[p]) else {
                continue;
            };
            if products.contains(&p) || !keeps(&g.node[p].input[x], rank) {
                continue;
            }
            *input = g.node[p].input[x].clone();
            operands.insert(p);
            factors.push(factor);
        }
        let out = &n.output[0];
        let mut output = out.clone();
        if let Some(&r) = reader.get(out.as_str()) {
            let product = uses.readers(out) == 1 && !uses.observed(out);
            let fits = |&(_, x, rank): &Scale| g.node[r].input[x] == *out && keeps(out, rank);
            if let Some((factor, _, _)) = scaling(model, g, &g.node[r]).filter(fits) {
                if product && !operands.contains(&r) {
                    output = g.node[r].output[0].clone();
                    products.insert(r);
                    factors.push(factor);
                }
            }
        }
        if factors.is_empty() {
            continue;
        }
        for f in factors {
            opts.alpha *= f;
        }
        edits.push((k, inputs, output, opts));
    }
    for (k, inputs, output, opts) in &edits {
        let n = &mut g.node[*k];
        n.input = inputs.to_vec();
        n.output = vec![output.clone()];
        opts.apply(n);
    }
    // A product's scaling goes (the FusedMatMul produces its output now); an operand's when
    // nothing else reads it.
    let uses = Uses::of(g);
    let unused = operands
        .into_iter()
        .filter(|&p| !g.node[p].output.iter().any(|o| uses.used(o)));
    let gone: Vec<usize> = products.into_iter().chain(unused).collect();
    remove(g, &gone);
    edits.len()
}

/// Removes the nodes at `candidates` whose outputs nothing uses any more.
fn remove_unused(g: &mut GraphProto, candidates: HashSet<usize>) {
    let uses = Uses::of(g);
    let mut unused: Vec<usize> = candidates
        .into_iter()
        .filter(|&k| !g.node[k].output.iter().any(|o| uses.used(o)))
        .collect();
    unused.sort_unstable();
    remove(g, &unused);
}

#[cfg(test)]
mod tests {
    use super::transposition;
    use crate::model::onnx::{AttributeProto, ModelProto, NodeProto, TensorProto};

    use crate::optimize::{optimize, GraphOptimization, GraphOptimizer, Rewrite};
    use crate::tests::support::onnx_protos::{
        filled as float, float_model, node, shaped_vi, tensor_vi,
    };
    use std::path::Path;

    fn perm(mut n: NodeProto, perm: &[i64]) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: "perm".into(),
            r#type: 7,
            ints: perm.to_vec(),
            ..Default::default()
        });
        n
    }

    /// `nodes` over float inputs `x` and `w` of the given shapes and the constants `c`.
    fn model(nodes: Vec<NodeProto>, x: &[i64], w: &[i64], c: Vec<TensorProto>) -> ModelProto {
        let mut m = float_model(nodes);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, x), shaped_vi("w", 1, w)];
        g.initializer = c;
        m
    }

    fn optimized(mut m: ModelProto, level: impl Into<GraphOptimizer>) -> Vec<NodeProto> {
        optimize(&mut m, Path::new("m.onnx"), level);
        m.graph.unwrap().node
    }

    fn ops(nodes: &[NodeProto]) -> Vec<&str> {
        nodes.iter().map(|n| n.op_type.as_str()).collect()
    }

    /// (alpha, transA, transB, transBatchA, transBatchB) of a `FusedMatMul`.
    fn options(n: &NodeProto) -> (f32, [i64; 4]) {
        assert_eq!(
            (n.op_type.as_str(), n.domain.as_str()),
            ("FusedMatMul", "com.microsoft")
        );
        let a = |name: &str| n.attribute.iter().find(|a| a.name == name).unwrap();
        let flags = ["transA", "transB", "transBatchA", "transBatchB"].map(|f| a(f).i);
        (a("alpha").f, flags)
    }

    #[test]
    fn transpositions_matmul_can_take() {
        assert_eq!(transposition(&[1, 0]), Some((true, false)));
        assert_eq!(transposition(&[0, 1, 3, 2]), Some((true, false)));
        assert_eq!(transposition(&[1, 0, 2]), Some((false, true)));
        assert_eq!(transposition(&[1, 2, 0]), Some((true, true)));
        assert_eq!(transposition(&[1, 2, 3, 0]), Some((true, true)));
        for no in [
            &[0][..],
            &[2, 0, 1],
            &[0, 2, 1, 3],
            &[2, 1, 0],
            &[1, 1, 0],
            &[0, 5, 1],
        ] {
            assert_eq!(transposition(no), None, "{no:?}");
        }
    }

    #[test]
    fn a_transposed_operand_becomes_a_fused_matmul_option() {
        let t = perm(node("t", "Transpose", "", &["x"], &["xt"]), &[1, 0]);
        let mm = node("m", "MatMul", "", &["xt", "w"], &["y"]);
        let nodes = optimized(
            model(vec![t, mm], &[3, 2], &[3, 4], vec![]),
            GraphOptimization::Extended,
        );
        assert_eq!(ops(&nodes), ["FusedMatMul"]);
        assert_eq!(nodes[0].input, ["x", "w"]);
        assert_eq!(options(&nodes[0]), (1.0, [1, 0, 0, 0]));

        // Attention's K transposed over the last two axes, the Transpose also read elsewhere.
        let t = perm(node("t", "Transpose", "", &["w"], &["wt"]), &[0, 1, 3, 2]);
        let mm = node("m", "MatMul", "", &["x", "wt"], &["y"]);
        let other = node("o", "Relu", "", &["wt"], &["r"]);
        let mut m = model(vec![t, mm, other], &[1, 2, 3, 4], &[1, 2, 5, 4], vec![]);
        m.graph.as_mut().unwrap().output.push(tensor_vi("r", 1));
        let nodes = optimized(m, GraphOptimization::Extended);
        assert_eq!(ops(&nodes), ["Transpose", "FusedMatMul", "Relu"]);
        assert_eq!(nodes[1].input, ["x", "w"]);
        assert_eq!(options(&nodes[1]), (1.0, [0, 1, 0, 0]));

        // The first axis behind the batch axes, with operands of one rank.
        let t = perm(node("t", "Transpose", "", &["x"], &["xt"]), &[1, 0, 2]);
        let mm = node("m", "MatMul", "", &["xt", "w"], &["y"]);
        let nodes = optimized(
            model(vec![t, mm], &[3, 2, 4], &[2, 4, 5], vec![]),
            GraphOptimization::Extended,
        );
        assert_eq!(options(&nodes[0]), (1.0, [0, 0, 1, 0]));
    }

    #[test]
    fn transposes_matmul_cannot_take_stay() {
        let case = |p: &[i64], x: &[i64], w: &[i64], edit: &dyn Fn(&mut ModelProto)| {
            let t = perm(node("t", "Transpose", "", &["x"], &["xt"]), p);
            let mm = node("m", "MatMul", "", &["xt", "w"], &["y"]);
            let mut m = model(vec![t, mm], x, w, vec![]);
            edit(&mut m);
            ops(&optimized(m, GraphOptimization::Extended))
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        let none = |_: &mut ModelProto| {};
        let apart = ["Transpose", "MatMul"];
        assert_eq!(
            case(&[0, 2, 1, 3], &[1, 2, 3, 4], &[1, 3, 4, 5], &none),
            apart
        );
        assert_eq!(
            case(&[1, 0, 2], &[3, 2, 4], &[4, 5], &none),
            apart,
            "ranks differ"
        );
        let observed =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("xt", 1));
        assert_eq!(
            case(&[1, 0], &[3, 2], &[3, 4], &observed),
            apart,
            "graph output"
        );
        let doubles = |m: &mut ModelProto| {
            let g = m.graph.as_mut().unwrap();
            g.input = vec![shaped_vi("x", 11, &[3, 2]), shaped_vi("w", 11, &[3, 4])];
        };
        assert_eq!(case(&[1, 0], &[3, 2], &[3, 4], &doubles), apart, "double");
        let t = perm(node("t", "Transpose", "", &["x"], &["xt"]), &[1, 0]);
        let mm = node("m", "MatMul", "", &["xt", "w"], &["y"]);
        let m = model(vec![t, mm], &[3, 2], &[3, 4], vec![]);
        assert_eq!(ops(&optimized(m.clone(), GraphOptimization::Basic)), apart);
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::MatmulTranspose);
        assert_eq!(ops(&optimized(m, off)), apart, "turned off");
    }

    #[test]
    fn constant_scalings_become_alpha() {
        // Attention's scores: Div(MatMul(q, Transpose(k)), 8), with q pre-scaled by 0.5.
        let nodes = vec![
            node("s", "Mul", "", &["half", "x"], &["q"]),
            perm(node("t", "Transpose", "", &["w"], &["kt"]), &[0, 2, 1]),
            node("m", "MatMul", "", &["q", "kt"], &["p"]),
            node("d", "Div", "", &["p", "eight"], &["y"]),
        ];
        let c = vec![float("half", &[], 0.5), float("eight", &[1], 8.0)];
        let nodes = optimized(
            model(nodes, &[2, 3, 4], &[2, 5, 4], c),
            GraphOptimization::Extended,
        );
        assert_eq!(ops(&nodes), ["FusedMatMul"]);
        assert_eq!(nodes[0].input, ["x", "w"]);
        assert_eq!(nodes[0].output, ["y"]);
        assert_eq!(options(&nodes[0]), (0.0625, [0, 1, 0, 0]));
    }

    #[test]
    fn scalings_matmul_cannot_take_stay() {
        let case = |scale: NodeProto, c: TensorProto, edit: &dyn Fn(&mut ModelProto)| {
            let mm = node("m", "MatMul", "", &["x", "w"], &["p"]);
            let mut m = model(vec![mm, scale], &[2, 3], &[3, 4], vec![c]);
            edit(&mut m);
            let nodes = optimized(m, GraphOptimization::Extended);
            ops(&nodes)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        let none = |_: &mut ModelProto| {};
        let apart = ["MatMul", "Mul"];
        let mul = || node("s", "Mul", "", &["p", "c"], &["y"]);
        assert_eq!(
            case(mul(), float("c", &[4], 2.0), &none),
            apart,
            "per column"
        );
        assert_eq!(
            case(mul(), float("c", &[1, 1, 1], 2.0), &none),
            apart,
            "raises the rank"
        );
        let fed = |m: &mut ModelProto| m.graph.as_mut().unwrap().input.push(shaped_vi("c", 1, &[]));
        assert_eq!(
            case(mul(), float("c", &[], 2.0), &fed),
            apart,
            "fed at run time"
        );
        let observed =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("p", 1));
        assert_eq!(
            case(mul(), float("c", &[], 2.0), &observed),
            apart,
            "product observed"
        );
        let div = node("s", "Div", "", &["c", "p"], &["y"]);
        assert_eq!(
            case(div, float("c", &[], 2.0), &none),
            ["MatMul", "Div"],
            "c / p"
        );
        assert_eq!(case(mul(), float("c", &[], 2.0), &none), ["FusedMatMul"]);
    }

    #[test]
    fn a_scaling_between_two_matmuls_goes_into_the_first() {
        let nodes = vec![
            node("m1", "MatMul", "", &["x", "w"], &["p"]),
            node("s", "Mul", "", &["p", "c"], &["ps"]),
            node("m2", "MatMul", "", &["ps", "w2"], &["y"]),
        ];
        let mut m = model(nodes, &[2, 3], &[3, 3], vec![float("c", &[], 3.0)]);
        m.graph
            .as_mut()
            .unwrap()
            .input
            .push(shaped_vi("w2", 1, &[3, 4]));
        let nodes = optimized(m, GraphOptimization::Extended);
        assert_eq!(ops(&nodes), ["FusedMatMul", "MatMul"]);
        assert_eq!(nodes[0].output, ["ps"]);
        assert_eq!(nodes[1].input, ["ps", "w2"]);
        assert_eq!(options(&nodes[0]).0, 3.0);
    }
}
