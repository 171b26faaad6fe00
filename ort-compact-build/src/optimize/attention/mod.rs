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

use super::facts::Facts;
use super::fuse::MS_DOMAIN;
use super::node::{attr_int, attr_ints, float_attr, int_attr, is_onnx};
use super::product::near;
use super::uses::{disjoint, fresh, remove};
use super::value::{dtype, Value};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};
use std::collections::{HashMap, HashSet};
use std::ops::Deref;

/// `perm` of the query's and value's `Transpose` (and of the context's, back).
const HEADS_FIRST: [i64; 4] = [0, 2, 1, 3];
/// `perm` of the key's `Transpose`: heads first, then the key transposed for the product.
const KEY_TRANSPOSED: [i64; 4] = [0, 2, 3, 1];

/// What matching needs of the graph, and the matchers of this fusion's parts.
struct Cx<'g>(Facts<'g>);

impl<'g> Deref for Cx<'g> {
    type Target = Facts<'g>;
    fn deref(&self) -> &Facts<'g> {
        &self.0
    }
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
    /// `name` as a float constant of one element and rank 0 or 1.
    fn scalar(&self, name: &str) -> Option<f64> {
        let v = self.constant(name)?;
        let fits = v.dtype == dtype::FLOAT && v.count() == 1 && v.dims.len() <= 1;
        fits.then(|| v.as_f64())?
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
        let cx = Cx(Facts::of(model, g));
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
pub(crate) mod tests;
