//! `Gather`s and `Slice`s that cut one value along one axis into pieces covering it exactly,
//! fused into one `Split` (level `extended`), as ONNX Runtime's `GatherSliceToSplitFusion`
//! takes them (opset 13 and later): one kernel, one pass over the value, instead of one per
//! piece. A `Gather` of a rank-0 index drops the axis: its piece gets a `Squeeze` after the
//! `Split`.

use super::node::{attr_int, int_attr, is_onnx};
use super::uses::{constant, fresh, producer_index};
use super::value::{dtype, Value};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::{HashMap, HashSet};

/// One piece: where it starts on the axis, its length, the node that cuts it, whether the axis
/// is dropped (`Gather` of a rank-0 index).
struct Piece {
    start: i64,
    len: i64,
    node: usize,
    squeeze: bool,
}

/// `name` as a one-element int64 constant (rank 0 or 1): (value, rank).
fn scalar(model: &Model, g: &GraphProto, name: &str) -> Option<(i64, usize)> {
    let v = constant(g, &model.loc, name)?;
    let fits = v.dtype == dtype::INT64 && v.count() == 1 && v.dims.len() <= 1;
    fits.then(|| Some((v.as_ints()?[0], v.dims.len())))?
}

/// The axis `n` (a `Gather` or a `Slice` of a value of rank `rank`) cuts along.
fn axis_of(model: &Model, g: &GraphProto, n: &NodeProto, rank: i64) -> Option<i64> {
    let axis = if is_onnx(n, "Gather") {
        attr_int(n, "axis").unwrap_or(0)
    } else {
        scalar(model, g, n.input.get(3)?)?.0
    };
    let axis = if axis < 0 { axis + rank } else { axis };
    (0..rank).contains(&axis).then_some(axis)
}

/// The piece node `k` cuts along `axis` of a dimension `dim`, marking its elements in `taken`.
fn piece(
    model: &Model,
    g: &GraphProto,
    k: usize,
    axis: i64,
    rank: i64,
    dim: i64,
    taken: &mut [bool],
) -> Option<Piece> {
    let n = &g.node[k];
    if axis_of(model, g, n, rank)? != axis || n.output.len() != 1 {
        return None;
    }
    let (start, end, squeeze) = if is_onnx(n, "Gather") {
        let (i, r) = scalar(model, g, n.input.get(1)?)?;
        let i = if i < 0 { i + dim } else { i };
        (i, i + 1, r == 0)
    } else {
        let step = match n.input.get(4).filter(|s| !s.is_empty()) {
            Some(s) => scalar(model, g, s)?.0,
            None => 1,
        };
        let clamp = |v: i64| (if v < 0 { v + dim } else { v }).clamp(0, dim);
        let start = clamp(scalar(model, g, &n.input[1])?.0);
        let end = clamp(scalar(model, g, &n.input[2])?.0);
        if step != 1 {
            return None;
        }
        (start, end, false)
    };
    if start < 0 || start >= end || end > dim {
        return None;
    }
    for t in &mut taken[start as usize..end as usize] {
        if *t {
            return None;
        }
        *t = true;
    }
    Some(Piece {
        start,
        len: end - start,
        node: k,
        squeeze,
    })
}

/// The pieces the `Gather`s and `Slice`s reading `value` cut, when they cover it exactly.
fn pieces(
    model: &Model,
    g: &GraphProto,
    value: &str,
    cutters: &[usize],
    shape: &[Option<i64>],
) -> Option<(i64, Vec<Piece>)> {
    let rank = shape.len() as i64;
    let axis = axis_of(model, g, &g.node[cutters[0]], rank)?;
    let dim = shape[axis as usize]?;
    let mut taken = vec![false; usize::try_from(dim).ok()?];
    let mut out = Vec::new();
    for &k in cutters {
        debug_assert_eq!(g.node[k].input[0], value);
        out.push(piece(model, g, k, axis, rank, dim, &mut taken)?);
    }
    if taken.iter().any(|t| !t) {
        return None;
    }
    out.sort_by_key(|p| p.start);
    Some((axis, out))
}

/// `Gather`s and `Slice`s covering a value of `g` (an input, an initializer or a node's
/// output, not an enclosing graph's value) along one axis into one `Split`; returns how many
/// values were split.
pub(super) fn slice_to_split(model: &Model, g: &mut GraphProto) -> usize {
    if model.opset < 13 {
        return 0;
    }
    let shapes = model.shapes(g);
    let producer = producer_index(g);
    let mut cutters: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, n) in g.node.iter().enumerate() {
        let cuts = (is_onnx(n, "Gather") || is_onnx(n, "Slice")) && !n.input.is_empty();
        if cuts {
            cutters.entry(n.input[0].as_str()).or_default().push(k);
        }
    }
    let mut found: Vec<(String, i64, Vec<Piece>)> = Vec::new();
    let mut values: Vec<&str> = cutters.keys().copied().collect();
    values.sort_unstable();
    for v in values {
        let ks = &cutters[v];
        // Shape's Gathers are cheap, and ORT leaves them.
        let from_shape = producer
            .get(v)
            .is_some_and(|&p| is_onnx(&g.node[p], "Shape"));
        // As ORT: values of this graph only (an enclosing graph's weight is folding's).
        let here = producer.contains_key(v)
            || g.input.iter().any(|i| i.name == v)
            || g.initializer.iter().any(|t| t.name == v);
        let Some(shape) = shapes.get(v) else {
            continue;
        };
        if ks.len() < 2 || from_shape || !here {
            continue;
        }
        if let Some((axis, p)) = pieces(model, g, v, ks, shape) {
            found.push((v.to_string(), axis, p));
        }
    }
    let count = found.len();
    rewrite(g, found);
    count
}

/// Replaces each value's cutting nodes with a `Split` (and `Squeeze`s) where the first of them was.
fn rewrite(g: &mut GraphProto, found: Vec<(String, i64, Vec<Piece>)>) {
    let mut names: HashSet<String> = g.initializer.iter().map(|t| t.name.clone()).collect();
    names.extend(g.node.iter().flat_map(|n| n.output.iter().cloned()));
    names.extend(g.input.iter().map(|i| i.name.clone()));
    let mut at: Vec<(usize, Vec<NodeProto>)> = Vec::new();
    let mut gone = HashSet::new();
    for (value, axis, pieces) in found {
        let sizes = fresh(&mut names, &format!("{value}.split_sizes"));
        let lens: Vec<i64> = pieces.iter().map(|p| p.len).collect();
        g.initializer
            .push(Value::ints(vec![lens.len() as i64], &lens).to_proto(&sizes));
        let mut squeezes = Vec::new();
        let mut outputs = Vec::new();
        for p in &pieces {
            let out = g.node[p.node].output[0].clone();
            if !p.squeeze {
                outputs.push(out);
                continue;
            }
            let piece = fresh(&mut names, &format!("{out}.piece"));
            let axes = fresh(&mut names, &format!("{out}.axes"));
            g.initializer
                .push(Value::ints(vec![1], &[axis]).to_proto(&axes));
            squeezes.push(NodeProto {
                name: format!("{out}.squeeze"),
                op_type: "Squeeze".into(),
                input: vec![piece.clone(), axes],
                output: vec![out],
                ..Default::default()
            });
            outputs.push(piece);
        }
        let first = pieces
            .iter()
            .map(|p| p.node)
            .min()
            .expect("two pieces or more");
        let split = NodeProto {
            name: format!("{value}.split"),
            op_type: "Split".into(),
            input: vec![value.clone(), sizes],
            output: outputs,
            attribute: vec![int_attr("axis", axis)],
            ..Default::default()
        };
        gone.extend(pieces.iter().map(|p| p.node));
        at.push((first, [vec![split], squeezes].concat()));
    }
    let inserted: HashMap<usize, Vec<NodeProto>> = at.into_iter().collect();
    let nodes = std::mem::take(&mut g.node);
    for (k, n) in nodes.into_iter().enumerate() {
        if let Some(new) = inserted.get(&k) {
            g.node.extend(new.iter().cloned());
        }
        if !gone.contains(&k) {
            g.node.push(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::GraphProto;
    use crate::model::onnx::{AttributeProto, ModelProto, NodeProto, TensorProto};
    use crate::optimize::value::Value;
    use crate::optimize::{optimize, GraphOptimization, GraphOptimizer, Rewrite};
    use crate::tests::support::onnx_protos::{float_model, if_node, node, shaped_vi, tensor_vi};
    use std::path::Path;

    fn ints(name: &str, dims: Vec<i64>, v: &[i64]) -> TensorProto {
        Value::ints(dims, v).to_proto(name)
    }

    /// x [2, 6]: Slice 0..2, Slice 2..5, Gather 5 (rank-0 index) along axis 1, each an output.
    fn cuts() -> Vec<NodeProto> {
        let mut gather = node("g", "Gather", "", &["x", "five"], &["c"]);
        gather.attribute.push(AttributeProto {
            name: "axis".into(),
            r#type: 2,
            i: 1,
            ..Default::default()
        });
        vec![
            node("s1", "Slice", "", &["x", "zero", "two", "one"], &["a"]),
            node("n", "Neg", "", &["x"], &["y"]),
            node("s2", "Slice", "", &["x", "two", "minus1", "one"], &["b"]),
            gather,
        ]
    }

    fn optimized(
        nodes: Vec<NodeProto>,
        level: impl Into<GraphOptimizer>,
        edit: &dyn Fn(&mut ModelProto),
    ) -> ModelProto {
        let mut m = float_model(nodes);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[2, 6])];
        g.output.extend(["a", "b", "c"].map(|o| tensor_vi(o, 1)));
        g.initializer = vec![
            ints("zero", vec![1], &[0]),
            ints("one", vec![1], &[1]),
            ints("two", vec![1], &[2]),
            ints("minus1", vec![1], &[-1]),
            ints("five", vec![], &[5]),
            ints("three", vec![1], &[3]),
        ];
        edit(&mut m);
        optimize(&mut m, Path::new("m.onnx"), level);
        m
    }

    fn ops(m: &ModelProto) -> Vec<String> {
        let g = m.graph.as_ref().unwrap();
        g.node.iter().map(|n| n.op_type.clone()).collect()
    }

    #[test]
    fn pieces_covering_an_axis_become_one_split() {
        let m = optimized(cuts(), GraphOptimization::Extended, &|_| {});
        assert_eq!(ops(&m), ["Split", "Squeeze", "Neg"]);
        let g = m.graph.as_ref().unwrap();
        let (split, squeeze) = (&g.node[0], &g.node[1]);
        assert_eq!(
            (split.attribute[0].name.as_str(), split.attribute[0].i),
            ("axis", 1)
        );
        assert_eq!(split.output[..2], ["a".to_string(), "b".to_string()]);
        assert_eq!(squeeze.input[0], split.output[2]);
        assert_eq!(squeeze.output, ["c"]);
        let sizes = g
            .initializer
            .iter()
            .find(|t| t.name == split.input[1])
            .unwrap();
        let sizes = Value::of(
            sizes,
            &crate::model::ModelLocation::new(Path::new("m.onnx")),
        );
        assert_eq!(sizes.unwrap().as_ints().unwrap(), [2, 3, 1]);
        let axes = g
            .initializer
            .iter()
            .find(|t| t.name == squeeze.input[1])
            .unwrap();
        assert_eq!(axes.dims, [1]);
    }

    #[test]
    fn pieces_that_overlap_or_leave_a_gap_stay() {
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::GatherSliceToSplit);
        assert_eq!(
            ops(&optimized(cuts(), off, &|_| {})),
            ["Slice", "Neg", "Slice", "Gather"]
        );
        let kept = |nodes: Vec<NodeProto>, edit: &dyn Fn(&mut ModelProto)| {
            ops(&optimized(nodes, GraphOptimization::Extended, edit)).contains(&"Split".into())
        };
        // A gap (2..3 instead of 2..5), an overlap (Gather 1), a step of 2, opset 12.
        let mut gap = cuts();
        gap[2].input[2] = "three".into();
        assert!(!kept(gap, &|_| {}));
        let mut overlap = cuts();
        overlap[3].input[1] = "one".into();
        assert!(!kept(overlap, &|_| {}));
        let mut step = cuts();
        step[0].input.push("two".into());
        assert!(!kept(step, &|_| {}));
        let opset12 = |m: &mut ModelProto| m.opset_import[0].version = 12;
        assert!(!kept(cuts(), &opset12));
        // Another axis for one of them (axis 0 of x [2, 6]).
        let mut axis0 = cuts();
        axis0[0].input[3] = "zero".into();
        assert!(!kept(axis0, &|_| {}));
        // The axis's length not known.
        let unknown = |m: &mut ModelProto| m.graph.as_mut().unwrap().input[0] = tensor_vi("x", 1);
        assert!(!kept(cuts(), &unknown));
    }

    /// The branches of an `If` on `x` [2, 6] of the enclosing graph: each cuts `cut(x)` into
    /// 0..2 and 2..6 along axis 1 and joins the pieces the other way round; the ops each
    /// branch has after `extended`.
    fn branch_ops(cut: &dyn Fn(&str) -> Vec<NodeProto>) -> Vec<Vec<String>> {
        let branch = |b: &str| {
            let n = |s: &str| format!("{b}.{s}");
            let mut join = node(&n("j"), "Concat", "", &[&n("b"), &n("a")], &[&n("y")]);
            join.attribute.push(AttributeProto {
                name: "axis".into(),
                r#type: 2,
                i: 1,
                ..Default::default()
            });
            let mut nodes = cut(b);
            let v = nodes
                .last()
                .map_or("x".to_string(), |c| c.output[0].clone());
            let (zero, one, two, six) = (n("zero"), n("one"), n("two"), n("six"));
            nodes.push(node(
                &n("s1"),
                "Slice",
                "",
                &[&v, &zero, &two, &one],
                &[&n("a")],
            ));
            nodes.push(node(
                &n("s2"),
                "Slice",
                "",
                &[&v, &two, &six, &one],
                &[&n("b")],
            ));
            nodes.push(join);
            GraphProto {
                node: nodes,
                initializer: vec![
                    ints(&zero, vec![1], &[0]),
                    ints(&one, vec![1], &[1]),
                    ints(&two, vec![1], &[2]),
                    ints(&six, vec![1], &[6]),
                ],
                output: vec![tensor_vi(&n("y"), 1)],
                ..Default::default()
            }
        };
        let mut m = float_model(vec![if_node("cond", branch)]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[2, 6]), shaped_vi("cond", 9, &[])];
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Extended);
        let g = m.graph.unwrap();
        let ops = |g: &GraphProto| g.node.iter().map(|n| n.op_type.clone()).collect();
        g.node[0]
            .attribute
            .iter()
            .map(|a| ops(a.g.as_ref().unwrap()))
            .collect()
    }

    #[test]
    fn a_branch_cuts_its_own_value_by_a_shape_only_the_enclosing_graph_knows() {
        // -x, computed in the branch: cut.
        let neg = |b: &str| {
            vec![node(
                &format!("{b}.neg"),
                "Neg",
                "",
                &["x"],
                &[&format!("{b}.x")],
            )]
        };
        for ops in branch_ops(&neg) {
            assert_eq!(ops, ["Neg", "Split", "Concat"]);
        }
        // x itself, the enclosing graph's value: left (as ORT; an enclosing graph's weight is
        // for folding).
        for ops in branch_ops(&|_| Vec::new()) {
            assert_eq!(ops, ["Slice", "Slice", "Concat"]);
        }
    }
}
