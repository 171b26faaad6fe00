//! Multi-head self-attention as BERT's export writes it, fused into ONNX Runtime's contrib
//! `Attention` (level `extended`), as its `AttentionFusion` takes it:
//!
//! ```text
//! q = Transpose[0,2,1,3](Reshape(x·Wq + bq, [B, S, N, H]))    (k: Transpose[0,2,3,1]; v as q)
//! p = Softmax(MatMul(q, k) / c  +  (1 − Cast(Unsqueeze(Unsqueeze(mask, 1), 2))) · f)
//! y = Reshape(Transpose[0,2,1,3](MatMul(p, v)), [B, S, N·H])
//!   →  y = Attention(x, [Wq Wk Wv], [bq bk bv], mask as int32), num_heads = N
//! ```
//!
//! for float `x` of rank 3, constant weights `[D, N·H]` and biases `[N·H]`, a constant scalar
//! `c` (a `Div` by it, or a `Mul` by its inverse; written as `scale` unless it is √H) and a
//! softmax over the last axis. The padding mask is optional (ORT's fusion requires one); with
//! one it is a `[B, S]` integer or bool input, which the kernel reads as "attend where > 0"
//! and fills the others with `f` (`mask_filter_value`): the formula's value for masks of 0 and
//! 1, as tokenizers write them. Masks of another type (a float mask can hold fractions) and
//! masks that broadcast are left alone. The nodes of the mask formula stay while other readers
//! need them (one mask serves every layer of a model).

use super::fuse::MS_DOMAIN;
use super::infer::Shape;
use super::node::{attr_int, attr_ints, float_attr, int_attr, is_onnx};
use super::product::near;
use super::uses::{constant, disjoint, fresh, producer_index, remove, Uses};
use super::value::{dtype, Value};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::{HashMap, HashSet};

/// `perm` of the query's and value's `Transpose` (and of the context's, back).
const HEADS_FIRST: [i64; 4] = [0, 2, 1, 3];
/// `perm` of the key's `Transpose`: heads first, then the key transposed for the product.
const KEY_TRANSPOSED: [i64; 4] = [0, 2, 3, 1];

/// What matching needs of the graph.
struct Cx<'g> {
    model: &'g Model,
    g: &'g GraphProto,
    uses: Uses,
    producer: HashMap<&'g str, usize>,
    types: HashMap<String, i32>,
    shapes: HashMap<String, Shape>,
}

/// One query, key or value projection: `Transpose(Reshape(root · weight + bias))`.
struct Projection<'g> {
    root: &'g str,
    weight: Vec<f32>,
    bias: Vec<f32>,
    /// The weight's `[D, N·H]`.
    dims: [i64; 2],
    heads: i64,
    head_size: i64,
}

/// The padding mask: the `[B, S]` input and the value its masked positions get.
struct Mask {
    input: String,
    dtype: i32,
    filter: f32,
}

/// One match: the `Reshape` that becomes `Attention`, what it is given, and the nodes that go.
struct Fusion {
    at: usize,
    root: String,
    weight: Value,
    bias: Value,
    heads: i64,
    /// `scale` when it is not ONNX Runtime's default 1/√H.
    scale: Option<f32>,
    mask: Option<Mask>,
    gone: Vec<usize>,
}

impl<'g> Cx<'g> {
    /// The node writing `value` when it is `op`, only one node reads `value` and it is no graph
    /// output: (its index, the node).
    fn private(&self, value: &str, op: &str) -> Option<(usize, &'g NodeProto)> {
        let k = *self.producer.get(value)?;
        let n = &self.g.node[k];
        let only = self.uses.readers(value) == 1 && !self.uses.observed(value);
        (only && is_onnx(n, op)).then_some((k, n))
    }

    /// The node writing `value` when it is `op`, however many read `value`.
    fn written_by(&self, value: &str, op: &str) -> Option<&'g NodeProto> {
        let n = &self.g.node[*self.producer.get(value)?];
        is_onnx(n, op).then_some(n)
    }

    fn constant(&self, name: &str) -> Option<Value> {
        constant(self.g, &self.model.loc, name)
    }

    /// `name` as a float constant of one element and rank 0 or 1.
    fn scalar(&self, name: &str) -> Option<f64> {
        let v = self.constant(name)?;
        let fits = v.dtype == dtype::FLOAT && v.count() == 1 && v.dims.len() <= 1;
        fits.then(|| v.as_f64())?
    }

    fn shape(&self, value: &str) -> Option<&[Option<i64>]> {
        self.shapes.get(value).map(Vec::as_slice)
    }

    /// The target shape of a `Reshape` that copies or keeps `x`'s first two dimensions
    /// (`0`, their known value, or `-1` for the second) and has `rank` dimensions.
    fn reshape_keeping_rows(&self, n: &NodeProto, x: &str, rank: usize) -> Option<Vec<i64>> {
        let target = self.constant(n.input.get(1)?)?.as_ints()?;
        let rows = self.shape(x).filter(|s| s.len() >= 2)?;
        let keeps = |d: i64, known: Option<i64>| d == 0 || Some(d) == known;
        let ok = target.len() == rank
            && attr_int(n, "allowzero").unwrap_or(0) == 0
            && keeps(target[0], rows[0])
            && (target[1] == -1 || keeps(target[1], rows[1]));
        ok.then_some(target)
    }

    /// `value` as `Transpose[perm](Reshape(root · W + b, [B, S, N, H]))` of constant float
    /// `W` `[D, N·H]` and `b` `[N·H]`; the four nodes join `gone`.
    fn projection(
        &self,
        value: &str,
        perm: [i64; 4],
        gone: &mut Vec<usize>,
    ) -> Option<Projection<'g>> {
        let (t, transpose) = self.private(value, "Transpose")?;
        let (r, reshape) = self.private(transpose.input.first()?, "Reshape")?;
        let (a, add) = self.private(reshape.input.first()?, "Add")?;
        let (m, matmul, bias) = (0..2).find_map(|i| {
            let (m, matmul) = self.private(add.input.get(i)?, "MatMul")?;
            Some((m, matmul, self.constant(add.input.get(1 - i)?)?))
        })?;
        let root = matmul.input.first()?.as_str();
        let weight = self.constant(matmul.input.get(1)?)?;
        let target = self.reshape_keeping_rows(reshape, root, 4)?;
        let [d, w] = weight.dims[..] else {
            return None;
        };
        let (heads, head_size) = (target[2], target[3]);
        let fits = attr_ints(transpose, "perm")? == perm
            && bias.dims == [w]
            && heads > 0
            && head_size > 0
            && heads.checked_mul(head_size) == Some(w)
            && self.types.get(root) == Some(&dtype::FLOAT)
            && self.shape(root).is_some_and(|s| s.len() == 3);
        gone.extend([t, r, a, m]);
        fits.then_some(Projection {
            root,
            weight: weight.floats()?,
            bias: bias.floats()?,
            dims: [d, w],
            heads,
            head_size,
        })
    }

    /// `value` as `Mul(Sub(1, Cast(Unsqueeze(Unsqueeze(mask, 1), 2))), f)` (either operand
    /// order of the `Mul`; one `Unsqueeze` of axes `[1, 2]` too) of an integer or bool
    /// `mask` `[B, S]` that fits `x`'s batch and sequence.
    fn mask(&self, value: &str, x: &str) -> Option<Mask> {
        let mul = self.written_by(value, "Mul")?;
        let (sub, filter) = (0..2).find_map(|i| {
            let sub = self.written_by(mul.input.get(i)?, "Sub")?;
            Some((sub, self.scalar(mul.input.get(1 - i)?)?))
        })?;
        let one = self
            .scalar(sub.input.first()?)
            .is_some_and(|c| near(c, 1.0));
        let cast = self.written_by(sub.input.get(1)?, "Cast")?;
        let input = self.unsqueezed_rows(cast.input.first()?)?;
        let dtype = *self.types.get(input)?;
        let integer = matches!(dtype, dtype::INT32 | dtype::INT64 | dtype::BOOL);
        let fits = match (self.shape(input), self.shape(x)) {
            (Some([b, s]), Some([xb, xs, _])) => same_extent(*b, *xb) && same_extent(*s, *xs),
            _ => false,
        };
        let to_float = attr_int(cast, "to") == Some(i64::from(dtype::FLOAT));
        (one && to_float && integer && fits && filter.is_finite()).then(|| Mask {
            input: input.to_string(),
            dtype,
            filter: filter as f32,
        })
    }

    /// The rank-2 value that `value` adds axes 1 and 2 to, with one `Unsqueeze` or two.
    fn unsqueezed_rows(&self, value: &str) -> Option<&'g str> {
        let outer = self.written_by(value, "Unsqueeze")?;
        let from = outer.input.first()?.as_str();
        if self.unsqueeze_axes(outer, 2)? == [1, 2] {
            return Some(from);
        }
        let inner = self.written_by(from, "Unsqueeze")?;
        let both = self.unsqueeze_axes(outer, 3)? == [2] && self.unsqueeze_axes(inner, 2)? == [1];
        both.then(|| inner.input.first().map(String::as_str))?
    }

    /// An `Unsqueeze`'s axes (attribute before opset 13, constant input after), made
    /// non-negative for an input of rank `rank`.
    fn unsqueeze_axes(&self, n: &NodeProto, rank: i64) -> Option<Vec<i64>> {
        let axes = match n.input.get(1) {
            Some(a) => self.constant(a)?.as_ints()?,
            None => attr_ints(n, "axes")?,
        };
        let out = rank + axes.len() as i64;
        Some(
            axes.iter()
                .map(|&a| if a < 0 { a + out } else { a })
                .collect(),
        )
    }
}

/// Whether a mask dimension `m` fits the scores' `x`: equal where both are known; a mask
/// dimension of 1 that would broadcast is refused.
fn same_extent(m: Option<i64>, x: Option<i64>) -> bool {
    match (m, x) {
        (Some(m), Some(x)) => m == x,
        (Some(m), None) => m != 1,
        _ => true,
    }
}

/// Multi-head self-attention subgraphs of `g` into `Attention`; returns how many.
pub(super) fn attention(model: &Model, g: &mut GraphProto) -> usize {
    let fusions = {
        let cx = Cx {
            model,
            g,
            uses: Uses::of(g),
            producer: producer_index(g),
            types: model.types(g),
            shapes: model.shapes(g),
        };
        let found = (0..g.node.len()).filter_map(|k| matched(&cx, k));
        disjoint(found, |f| &f.gone)
    };
    let count = fusions.len();
    rewrite(g, fusions);
    count
}

/// The pattern ending at the `Reshape` at `k`.
fn matched(cx: &Cx, k: usize) -> Option<Fusion> {
    let out = &cx.g.node[k];
    if !is_onnx(out, "Reshape") {
        return None;
    }
    let mut gone = Vec::new();
    let (t, transpose) = cx.private(out.input.first()?, "Transpose")?;
    let (c, context) = cx.private(transpose.input.first()?, "MatMul")?;
    let (s, softmax) = cx.private(context.input.first()?, "Softmax")?;
    gone.extend([t, c, s]);
    let v = cx.projection(context.input.get(1)?, HEADS_FIRST, &mut gone)?;
    let (scores, mask) = masked(cx, softmax.input.first()?, v.root, &mut gone)?;
    let (scale, qk) = scaled(cx, scores, &mut gone)?;
    let (m, product) = cx.private(qk, "MatMul")?;
    gone.push(m);
    let q = cx.projection(product.input.first()?, HEADS_FIRST, &mut gone)?;
    let key = cx.projection(product.input.get(1)?, KEY_TRANSPOSED, &mut gone)?;
    let target = cx.reshape_keeping_rows(out, v.root, 3)?;
    let axis = attr_int(softmax, "axis").unwrap_or(if cx.model.opset >= 13 { -1 } else { 1 });
    let same = |p: &Projection| {
        p.root == v.root && p.dims == v.dims && (p.heads, p.head_size) == (v.heads, v.head_size)
    };
    let fits = attr_ints(transpose, "perm")? == HEADS_FIRST
        && (axis == -1 || axis == 3)
        && same(&q)
        && same(&key)
        && target[2] == v.dims[1]
        && scale != 0.0
        && scale.is_finite();
    if !fits {
        return None;
    }
    let default_scale = 1.0 / (v.head_size as f64).sqrt();
    gone.sort_unstable();
    Some(Fusion {
        at: k,
        root: v.root.to_string(),
        weight: merged_weights(&q, &key, &v)?,
        bias: Value::from_floats(vec![3 * v.dims[1]], &[q.bias, key.bias, v.bias].concat())?,
        heads: v.heads,
        scale: (!near(scale, default_scale)).then_some(scale as f32),
        mask,
        gone,
    })
}

/// The softmax input as `Add(scores, mask)` (either order; the `Add` joins `gone`) or as the
/// scores alone: (scores, mask).
fn masked<'g>(
    cx: &Cx<'g>,
    value: &'g str,
    x: &str,
    gone: &mut Vec<usize>,
) -> Option<(&'g str, Option<Mask>)> {
    let Some((a, add)) = cx.private(value, "Add") else {
        return Some((value, None));
    };
    let (scores, mask) = (0..2).find_map(|i| {
        let mask = cx.mask(add.input.get(i)?, x)?;
        Some((add.input.get(1 - i)?.as_str(), mask))
    })?;
    gone.push(a);
    Some((scores, Some(mask)))
}

/// `value` as `Div(qk, c)` or `Mul(qk, c)` (either order) of a constant scalar: (the factor
/// the product is scaled by, `qk`); the node joins `gone`.
fn scaled<'g>(cx: &Cx<'g>, value: &str, gone: &mut Vec<usize>) -> Option<(f64, &'g str)> {
    if let Some((k, div)) = cx.private(value, "Div") {
        gone.push(k);
        return Some((1.0 / cx.scalar(div.input.get(1)?)?, div.input.first()?));
    }
    let (k, mul) = cx.private(value, "Mul")?;
    gone.push(k);
    (0..2).find_map(|i| {
        let c = cx.scalar(mul.input.get(1 - i)?)?;
        Some((c, mul.input.get(i)?.as_str()))
    })
}

/// The query, key and value weights side by side, `[D, 3 · N·H]`: row `i` is row `i` of each
/// in turn, as `Attention` reads them.
fn merged_weights(q: &Projection, k: &Projection, v: &Projection) -> Option<Value> {
    let [d, w] = v.dims;
    let width = usize::try_from(w).ok()?;
    let rows = q
        .weight
        .chunks_exact(width)
        .zip(k.weight.chunks_exact(width))
        .zip(v.weight.chunks_exact(width));
    let merged: Vec<f32> = rows.flat_map(|((a, b), c)| [a, b, c].concat()).collect();
    Value::from_floats(vec![d, 3 * w], &merged)
}

/// Each match's `Reshape` becomes its `Attention` (keeping its output's name), with the merged
/// weights as new initializers and a mask `Cast` to int32 (one per mask) before the first
/// `Attention` reading it; the matched nodes go.
fn rewrite(g: &mut GraphProto, fusions: Vec<Fusion>) {
    let mut names: HashSet<String> = g.initializer.iter().map(|t| t.name.clone()).collect();
    names.extend(g.node.iter().flat_map(|n| n.output.iter().cloned()));
    names.extend(g.input.iter().map(|i| i.name.clone()));
    let mut casts: HashMap<String, String> = HashMap::new();
    let mut new_casts: Vec<(String, NodeProto)> = Vec::new();
    for f in &fusions {
        let out = g.node[f.at].output.first().cloned().unwrap_or_default();
        let weight = fresh(&mut names, &format!("{out}.qkv_weight"));
        let bias = fresh(&mut names, &format!("{out}.qkv_bias"));
        g.initializer.push(f.weight.to_proto(&weight));
        g.initializer.push(f.bias.to_proto(&bias));
        let mut input = vec![f.root.clone(), weight, bias];
        let mut attribute = vec![int_attr("num_heads", f.heads)];
        if let Some(m) = &f.mask {
            let int32 = if m.dtype == dtype::INT32 {
                m.input.clone()
            } else {
                casts
                    .entry(m.input.clone())
                    .or_insert_with(|| {
                        let name = fresh(&mut names, &format!("{}.int32", m.input));
                        new_casts.push((out.clone(), cast_to_int32(&m.input, &name)));
                        name
                    })
                    .clone()
            };
            input.push(int32);
            attribute.push(float_attr("mask_filter_value", m.filter));
        }
        attribute.extend(f.scale.map(|s| float_attr("scale", s)));
        let n = &mut g.node[f.at];
        n.op_type = "Attention".into();
        n.domain = MS_DOMAIN.into();
        n.input = input;
        n.attribute = attribute;
    }
    let gone: Vec<usize> = fusions.iter().flat_map(|f| f.gone.clone()).collect();
    remove(g, &gone);
    for (reader, cast) in new_casts {
        let at = g
            .node
            .iter()
            .position(|n| n.output.first() == Some(&reader))
            .unwrap_or(0);
        g.node.insert(at, cast);
    }
}

/// `Cast(input, to = int32)` writing `output`.
fn cast_to_int32(input: &str, output: &str) -> NodeProto {
    NodeProto {
        name: format!("{output}.cast"),
        op_type: "Cast".into(),
        input: vec![input.to_string()],
        output: vec![output.to_string()],
        attribute: vec![int_attr("to", i64::from(dtype::INT32))],
        ..Default::default()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::Value;
    use crate::model::onnx::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
    use crate::model::ModelLocation;
    use crate::optimize::weights_tests::tensor;
    use crate::optimize::{GraphOptimization, GraphOptimizer, Rewrite};
    use crate::tests::support::onnx_protos::{float_model, int64s as ints, node, shaped_vi};
    use std::path::Path;

    fn ints_attr(name: &str, ints: &[i64]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: 7,
            ints: ints.to_vec(),
            ..Default::default()
        }
    }

    fn with(mut n: NodeProto, a: AttributeProto) -> NodeProto {
        n.attribute.push(a);
        n
    }

    /// Weights `[8, 8]` or a bias `[8]` with values from `seed`.
    fn values(name: &str, dims: &[i64], seed: usize) -> TensorProto {
        let n = dims.iter().product::<i64>() as usize;
        let v: Vec<f32> = (0..n)
            .map(|i| (((i * 7 + seed * 5) % 13) as f32 - 6.0) * 0.05)
            .collect();
        tensor(name, dims, &v)
    }

    /// `(1 − Cast(Unsqueeze(Unsqueeze(mask, 1), 2))) · −10000` as BERT's export writes it at
    /// opset 13 and later (axes as inputs): the additive mask `mask_add`.
    pub(crate) fn mask_formula() -> (Vec<NodeProto>, Vec<TensorProto>) {
        let cast = node("mask_cast", "Cast", "", &["mask_u2"], &["mask_f"]);
        let nodes = vec![
            node("mask_u1", "Unsqueeze", "", &["mask", "axis1"], &["mask_u1"]),
            node(
                "mask_u2",
                "Unsqueeze",
                "",
                &["mask_u1", "axis2"],
                &["mask_u2"],
            ),
            with(cast, int("to", 1)),
            node("mask_sub", "Sub", "", &["one", "mask_f"], &["mask_inv"]),
            node(
                "mask_mul",
                "Mul",
                "",
                &["mask_inv", "filter"],
                &["mask_add"],
            ),
        ];
        let inits = vec![
            ints("axis1", &[1]),
            ints("axis2", &[2]),
            tensor("one", &[], &[1.0]),
            tensor("filter", &[], &[-10000.0]),
        ];
        (nodes, inits)
    }

    fn int(name: &str, i: i64) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: 2,
            i,
            ..Default::default()
        }
    }

    /// One self-attention block as BERT's export writes it, on `root` `[1, 4, 8]` (2 heads of
    /// 4), adding the additive mask `mask` to the scores when given, writing `out`; its own
    /// names start with `p`.
    pub(crate) fn block(
        p: &str,
        root: &str,
        mask: Option<&str>,
        out: &str,
    ) -> (Vec<NodeProto>, Vec<TensorProto>) {
        let n = |name: &str| format!("{p}.{name}");
        let mut nodes = Vec::new();
        let mut inits = vec![
            ints(&n("heads"), &[0, 0, 2, 4]),
            ints(&n("hidden"), &[0, 0, 8]),
            tensor(&n("root_h"), &[], &[2.0]),
        ];
        for (i, (x, perm)) in [
            ("q", [0, 2, 1, 3]),
            ("k", [0, 2, 3, 1]),
            ("v", [0, 2, 1, 3]),
        ]
        .into_iter()
        .enumerate()
        {
            let (w, b, m, a, r, t) = (
                n(&format!("{x}_w")),
                n(&format!("{x}_b")),
                n(&format!("{x}_m")),
                n(&format!("{x}_a")),
                n(&format!("{x}_r")),
                n(&format!("{x}_t")),
            );
            inits.push(values(&w, &[8, 8], i + 1));
            inits.push(values(&b, &[8], i + 4));
            nodes.push(node(&m, "MatMul", "", &[root, &w], &[&m]));
            nodes.push(node(&a, "Add", "", &[&m, &b], &[&a]));
            nodes.push(node(&r, "Reshape", "", &[&a, &n("heads")], &[&r]));
            let transpose = node(&t, "Transpose", "", &[&r], &[&t]);
            nodes.push(with(transpose, ints_attr("perm", &perm)));
        }
        nodes.push(node(
            &n("qk"),
            "MatMul",
            "",
            &[&n("q_t"), &n("k_t")],
            &[&n("qk")],
        ));
        nodes.push(node(
            &n("sc"),
            "Div",
            "",
            &[&n("qk"), &n("root_h")],
            &[&n("sc")],
        ));
        let scores = match mask {
            Some(mask) => {
                nodes.push(node(&n("scm"), "Add", "", &[&n("sc"), mask], &[&n("scm")]));
                n("scm")
            }
            None => n("sc"),
        };
        let softmax = node(&n("p"), "Softmax", "", &[&scores], &[&n("p")]);
        nodes.push(with(softmax, int("axis", 3)));
        nodes.push(node(
            &n("ctx"),
            "MatMul",
            "",
            &[&n("p"), &n("v_t")],
            &[&n("ctx")],
        ));
        let back = node(&n("ctx_t"), "Transpose", "", &[&n("ctx")], &[&n("ctx_t")]);
        nodes.push(with(back, ints_attr("perm", &[0, 2, 1, 3])));
        nodes.push(node(
            &n("att"),
            "Reshape",
            "",
            &[&n("ctx_t"), &n("hidden")],
            &[out],
        ));
        (nodes, inits)
    }

    /// One masked block from `x` to `y`.
    fn masked_block() -> (Vec<NodeProto>, Vec<TensorProto>) {
        let (mut nodes, mut inits) = mask_formula();
        let (b, w) = block("a", "x", Some("mask_add"), "y");
        nodes.extend(b);
        inits.extend(w);
        (nodes, inits)
    }

    /// The graph of `nodes` and `inits` on `x` `[1, 4, 8]` and the int64 `mask` `[1, 4]`,
    /// changed by `edit`, after the optimizer ran `level`.
    fn optimized_graph(
        (nodes, inits): (Vec<NodeProto>, Vec<TensorProto>),
        level: impl Into<GraphOptimizer>,
        edit: &dyn Fn(&mut ModelProto),
    ) -> GraphProto {
        let mut m = float_model(nodes);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[1, 4, 8]), shaped_vi("mask", 7, &[1, 4])];
        g.initializer = inits;
        edit(&mut m);
        crate::optimize::optimize(&mut m, Path::new("m.onnx"), level);
        m.graph.unwrap()
    }

    fn optimized(
        graph: (Vec<NodeProto>, Vec<TensorProto>),
        level: impl Into<GraphOptimizer>,
        edit: &dyn Fn(&mut ModelProto),
    ) -> Vec<NodeProto> {
        optimized_graph(graph, level, edit).node
    }

    fn extended(graph: (Vec<NodeProto>, Vec<TensorProto>)) -> Vec<NodeProto> {
        optimized(graph, GraphOptimization::Extended, &|_| {})
    }

    fn ops(nodes: &[NodeProto]) -> Vec<&str> {
        nodes.iter().map(|n| n.op_type.as_str()).collect()
    }

    fn attrs(n: &NodeProto) -> Vec<(&str, f32, i64)> {
        n.attribute
            .iter()
            .map(|a| (a.name.as_str(), a.f, a.i))
            .collect()
    }

    #[test]
    fn bert_self_attention_with_its_mask_becomes_one_attention() {
        let nodes = extended(masked_block());
        assert_eq!(ops(&nodes), ["Cast", "Attention"], "{nodes:#?}");
        let (cast, att) = (&nodes[0], &nodes[1]);
        assert_eq!(cast.input, ["mask"]);
        assert_eq!(attrs(cast), [("to", 0.0, 6)]);
        assert_eq!(att.domain, "com.microsoft");
        assert_eq!(att.output, ["y"]);
        assert_eq!(att.input[0], "x");
        assert_eq!(att.input[3], cast.output[0]);
        assert_eq!(
            attrs(att),
            [("num_heads", 0.0, 2), ("mask_filter_value", -10000.0, 0)]
        );
        // The merged weights: row i is row i of Wq, Wk and Wv in turn; the biases one after
        // the other.
        let g = optimized_graph(masked_block(), GraphOptimization::Extended, &|_| {});
        let value = |name: &str| {
            let t = g.initializer.iter().find(|t| t.name == name).unwrap();
            let v = Value::of(t, &ModelLocation::new(Path::new("m.onnx"))).unwrap();
            (v.dims.clone(), v.floats().unwrap())
        };
        let (dims, w) = value(&g.node[1].input[1]);
        assert_eq!(dims, [8, 24]);
        let row = |seed: usize, r: usize| -> Vec<f32> {
            (0..8)
                .map(|c| ((((r * 8 + c) * 7 + seed * 5) % 13) as f32 - 6.0) * 0.05)
                .collect()
        };
        for r in [0, 5] {
            assert_eq!(
                w[r * 24..r * 24 + 24],
                [row(1, r), row(2, r), row(3, r)].concat()
            );
        }
        let (dims, b) = value(&g.node[1].input[2]);
        assert_eq!(dims, [24]);
        assert_eq!(b[..8], row(4, 0)[..]);
        assert_eq!(b[16..], row(6, 0)[..]);
    }

    #[test]
    fn unmasked_and_rescaled_attention_and_layers_sharing_a_mask() {
        // No mask: three inputs, no filter value.
        let nodes = extended(block("a", "x", None, "y"));
        assert_eq!(ops(&nodes), ["Attention"]);
        assert_eq!(nodes[0].input.len(), 3);
        assert_eq!(attrs(&nodes[0]), [("num_heads", 0.0, 2)]);
        // A Mul by 1/√H is the default scale; a Div by 3 is written out.
        let rescaled = |op: &str, c: f32| {
            let (mut nodes, mut inits) = block("a", "x", None, "y");
            let sc = nodes.iter_mut().find(|n| n.op_type == "Div").unwrap();
            sc.op_type = op.into();
            inits.retain(|t| t.name != "a.root_h");
            inits.push(tensor("a.root_h", &[1], &[c]));
            extended((nodes, inits))
        };
        let nodes = rescaled("Mul", 0.5);
        assert_eq!(attrs(&nodes[0]), [("num_heads", 0.0, 2)]);
        let nodes = rescaled("Div", 3.0);
        assert_eq!(
            attrs(&nodes[0]),
            [("num_heads", 0.0, 2), ("scale", 1.0 / 3.0, 0)]
        );
        // Two layers reading one mask: one Cast, two Attentions.
        let (mut nodes, mut inits) = masked_block();
        nodes.last_mut().unwrap().output = vec!["h".into()];
        let (b, w) = block("b", "h", Some("mask_add"), "y");
        nodes.extend(b);
        inits.extend(w);
        let nodes = extended((nodes, inits));
        assert_eq!(ops(&nodes), ["Cast", "Attention", "Attention"]);
        assert_eq!(nodes[1].input[3], nodes[2].input[3]);
        assert_eq!(nodes[2].input[0], "h");
    }

    #[test]
    fn the_mask_formula_before_opset_13_and_with_one_unsqueeze() {
        // Opset 11: the Unsqueezes' axes are attributes.
        let (mut nodes, mut inits) = masked_block();
        for n in nodes.iter_mut().filter(|n| n.op_type == "Unsqueeze") {
            let axis = if n.input[1] == "axis1" { 1 } else { -2 };
            n.input.truncate(1);
            n.attribute.push(ints_attr("axes", &[axis]));
        }
        inits.retain(|t| !t.name.starts_with("axis"));
        let opset_11 = |m: &mut ModelProto| m.opset_import[0].version = 11;
        let nodes = optimized((nodes, inits), GraphOptimization::Extended, &opset_11);
        assert_eq!(ops(&nodes), ["Cast", "Attention"]);
        // One Unsqueeze of axes [1, 2]; a bool mask.
        let (mut nodes, mut inits) = masked_block();
        nodes.retain(|n| n.name != "mask_u1");
        nodes[0].input = vec!["mask".into(), "axes".into()];
        inits.push(ints("axes", &[1, -2]));
        let bool_mask = |m: &mut ModelProto| {
            m.graph.as_mut().unwrap().input[1] = shaped_vi("mask", 9, &[1, 4]);
        };
        let nodes = optimized((nodes, inits), GraphOptimization::Extended, &bool_mask);
        assert_eq!(ops(&nodes), ["Cast", "Attention"]);
    }

    #[test]
    fn attention_that_almost_matches_is_left_alone() {
        let unfused = |nodes: &[NodeProto]| !ops(nodes).contains(&"Attention");
        let edited_with = |edit: &dyn Fn(&mut Vec<NodeProto>, &mut Vec<TensorProto>),
                           model: &dyn Fn(&mut ModelProto)| {
            let (mut nodes, mut inits) = masked_block();
            edit(&mut nodes, &mut inits);
            optimized((nodes, inits), GraphOptimization::Extended, model)
        };
        let edited =
            |edit: &dyn Fn(&mut Vec<NodeProto>, &mut Vec<TensorProto>)| edited_with(edit, &|_| {});
        let node = |nodes: &mut Vec<NodeProto>, name: &str| -> usize {
            nodes.iter().position(|n| n.name == name).unwrap()
        };
        // The key not transposed for the product.
        let nodes = edited(&|nodes, _| {
            let k = node(nodes, "a.k_t");
            nodes[k].attribute = vec![ints_attr("perm", &[0, 2, 1, 3])];
        });
        assert!(unfused(&nodes));
        // Queries split into other heads than keys and values.
        let nodes = edited(&|nodes, inits| {
            let q = node(nodes, "a.q_r");
            nodes[q].input[1] = "other_heads".into();
            inits.push(ints("other_heads", &[0, 0, 4, 2]));
        });
        assert!(unfused(&nodes));
        // Rows of the batch merged by the head split.
        let nodes = edited(&|_, inits| {
            let heads = inits.iter_mut().find(|t| t.name == "a.heads").unwrap();
            heads.int64_data = vec![2, -1, 2, 4];
        });
        assert!(unfused(&nodes));
        // A softmax over another axis.
        let nodes = edited(&|nodes, _| {
            let p = node(nodes, "a.p");
            nodes[p].attribute = vec![int("axis", 2)];
        });
        assert!(unfused(&nodes));
        // The scores a graph output too.
        let nodes = edited_with(&|nodes, _| nodes.push(node_reading("a.sc")), &|m| {
            m.graph
                .as_mut()
                .unwrap()
                .output
                .push(shaped_vi("y2", 1, &[]))
        });
        assert!(unfused(&nodes));
        // A mask of 1 that broadcasts over the sequence; a mask of something else than 1 − m.
        let broadcast = |m: &mut ModelProto| {
            m.graph.as_mut().unwrap().input[1] = shaped_vi("mask", 7, &[1, 1]);
        };
        let nodes = optimized(masked_block(), GraphOptimization::Extended, &broadcast);
        assert!(unfused(&nodes));
        let nodes = edited(&|_, inits| {
            let one = inits.iter_mut().find(|t| t.name == "one").unwrap();
            *one = tensor("one", &[], &[2.0]);
        });
        assert!(unfused(&nodes));
        // A float mask (it can hold fractions the kernel would read as "attend").
        let float_mask = |m: &mut ModelProto| {
            m.graph.as_mut().unwrap().input[1] = shaped_vi("mask", 1, &[1, 4]);
        };
        let nodes = edited_with(
            &|nodes, _| {
                nodes.retain(|n| n.name != "mask_cast");
                let sub = node(nodes, "mask_sub");
                nodes[sub].input[1] = "mask_u2".into();
            },
            &float_mask,
        );
        assert!(unfused(&nodes));
        // Turned off by name, and at `basic`.
        let mut off = GraphOptimizer::from(GraphOptimization::Extended);
        off.disable(Rewrite::Attention);
        assert!(unfused(&optimized(masked_block(), off, &|_| {})));
        let basic = optimized(masked_block(), GraphOptimization::Basic, &|_| {});
        assert!(unfused(&basic));
    }

    /// A node reading `value` into the graph's output `y2`.
    fn node_reading(value: &str) -> NodeProto {
        node("reader", "Relu", "", &[value], &["y2"])
    }
}
