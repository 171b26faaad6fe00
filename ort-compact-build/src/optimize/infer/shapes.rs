//! Shapes of a graph's values, as far as they follow from the model: the shapes it states
//! (inputs, outputs, `value_info`, initializers) carried through the operators whose output
//! shape is a plain function of their inputs' shapes and constant operands. A shape's rank is
//! known when it is recorded at all; a dimension may still be unknown (`None`), such as a batch
//! size fed at run time.

use super::super::node::{attr, attr_int, attr_ints, in_onnx};
use super::super::value::{axis, Value};
use super::values::{partial, Partial};
use crate::model::onnx::{tensor_shape_proto::dimension, type_proto, GraphProto, NodeProto};
use crate::model::ModelLocation;
use std::collections::HashMap;

/// A value's shape: its dimensions, each known or not.
pub(in crate::optimize) type Shape = Vec<Option<i64>>;

/// Operators whose output 0 has the shape of their input 0.
const SAME_SHAPE: &[&str] = &[
    "Abs",
    "BatchNormalization",
    "Cast",
    "Ceil",
    "Clip",
    "Cos",
    "CumSum",
    "Dropout",
    "Elu",
    "Erf",
    "Exp",
    "Floor",
    "Gelu",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "InstanceNormalization",
    "IsInf",
    "IsNaN",
    "LayerNormalization",
    "LeakyRelu",
    "Log",
    "LogSoftmax",
    "LRN",
    "Neg",
    "Not",
    "Reciprocal",
    "Relu",
    "Round",
    "Selu",
    "Sigmoid",
    "Sign",
    "Sin",
    "Softmax",
    "Softplus",
    "Softsign",
    "Sqrt",
    "Tanh",
];

/// Operators whose output shape is their inputs' shapes broadcast together.
const BROADCAST: &[&str] = &[
    "Add",
    "And",
    "BitShift",
    "Div",
    "Equal",
    "Greater",
    "GreaterOrEqual",
    "Less",
    "LessOrEqual",
    "Max",
    "Mean",
    "Min",
    "Mod",
    "Mul",
    "Or",
    "Pow",
    "PRelu",
    "Sub",
    "Sum",
    "Where",
    "Xor",
];

/// The domain of ONNX Runtime's contrib operators.
const CONTRIB: &str = "com.microsoft";

/// The shapes of `g`'s values (model opset `opset`) that the model states or its operators
/// fix, with `outer`, the shapes of the enclosing graphs' values (which a subgraph may read);
/// values of unknown rank are not recorded.
pub(in crate::optimize) fn shapes(
    g: &GraphProto,
    loc: &ModelLocation,
    opset: i64,
    outer: &HashMap<String, Shape>,
) -> HashMap<String, Shape> {
    let mut out: HashMap<String, Shape> = outer.clone();
    for vi in g.input.iter().chain(&g.value_info).chain(&g.output) {
        if let Some(type_proto::Value::TensorType(t)) =
            vi.r#type.as_ref().and_then(|t| t.value.as_ref())
        {
            if let Some(s) = &t.shape {
                let dims = s.dim.iter().map(|d| match d.value {
                    Some(dimension::Value::DimValue(v)) if v >= 0 => Some(v),
                    _ => None,
                });
                out.insert(vi.name.clone(), dims.collect());
            }
        }
    }
    let initializers: HashMap<&str, _> =
        g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    for t in &g.initializer {
        out.insert(t.name.clone(), t.dims.iter().map(|&d| Some(d)).collect());
    }
    let constant =
        |name: &str| -> Option<Vec<i64>> { Value::of(initializers.get(name)?, loc)?.as_ints() };
    let mut values: HashMap<String, Partial> = HashMap::new();
    for t in g.initializer.iter().filter(|t| t.dims.len() <= 1) {
        if let Some(v) = constant(&t.name) {
            values.insert(t.name.clone(), v.into_iter().map(Some).collect());
        }
    }
    for n in &g.node {
        let Some(o) = n.output.first().filter(|o| !o.is_empty()) else {
            continue;
        };
        let input = |k: usize| n.input.get(k).and_then(|i| out.get(i));
        let computed = {
            let value = |k: usize| n.input.get(k).and_then(|i| values.get(i));
            partial(n, opset, loc, &input, &value)
        };
        if let Some(v) = computed {
            values.insert(o.clone(), v);
        }
        let value = |k: usize| n.input.get(k).and_then(|i| values.get(i));
        if let Some(s) = infer(n, opset, &input, &value, &constant) {
            let merged = match out.get(o) {
                Some(stated) if stated.len() == s.len() => {
                    stated.iter().zip(&s).map(|(a, b)| a.or(*b)).collect()
                }
                Some(stated) => stated.clone(),
                None => s,
            };
            out.insert(o.clone(), merged);
        }
    }
    out
}

/// The shape of `n`'s output 0 from its inputs' shapes (`input(k)`), what is known of their
/// values (`value(k)`) and constant integer operands (`constant(name)`).
fn infer<'s>(
    n: &NodeProto,
    opset: i64,
    input: &dyn Fn(usize) -> Option<&'s Shape>,
    value: &dyn Fn(usize) -> Option<&'s Partial>,
    constant: &dyn Fn(&str) -> Option<Vec<i64>>,
) -> Option<Shape> {
    let op = match (in_onnx(n), n.op_type.as_str()) {
        (true, op) => op,
        // The contrib kernels the optimizer fuses into, shaped as what they fuse.
        (false, "FusedConv") if n.domain == CONTRIB => "Conv",
        (false, "FusedGemm") if n.domain == CONTRIB => "Gemm",
        (false, "QuickGelu" | "Gelu" | "FastGelu" | "BiasGelu" | "SkipLayerNormalization")
            if n.domain == CONTRIB =>
        {
            "Relu"
        }
        (false, "FusedMatMul") if n.domain == CONTRIB => "FusedMatMul",
        (false, "Attention") if n.domain == CONTRIB => "Attention",
        _ => return None,
    };
    let operand = |k: usize| {
        n.input
            .get(k)
            .filter(|i| !i.is_empty())
            .and_then(|i| constant(i))
    };
    match op {
        _ if SAME_SHAPE.contains(&op) => input(0).cloned(),
        "Constant" => {
            let t = attr(n, "value")?.t.as_ref()?;
            Some(t.dims.iter().map(|&d| Some(d)).collect())
        }
        _ if BROADCAST.contains(&op) => {
            let shapes: Option<Vec<&Shape>> = (0..n.input.len()).map(input).collect();
            broadcast(&shapes?)
        }
        "MatMul" => matmul(input(0)?, input(1)?),
        // [batch, sequence, hidden] from the input and the merged weights' [input hidden, 3 · hidden].
        "Attention" => match (input(0)?.as_slice(), input(1)?.as_slice()) {
            ([b, s, _], [_, w]) => Some(vec![*b, *s, w.map(|w| w / 3)]),
            _ => None,
        },
        "FusedMatMul" => {
            let flag = |name: &str| attr_int(n, name).unwrap_or(0) != 0;
            if flag("transBatchA") || flag("transBatchB") {
                return None;
            }
            let operand = |k: usize, trans: bool| -> Option<Shape> {
                let mut s = input(k)?.clone();
                let r = s.len();
                if trans && r >= 2 {
                    s.swap(r - 2, r - 1);
                }
                Some(s)
            };
            matmul(&operand(0, flag("transA"))?, &operand(1, flag("transB"))?)
        }
        "Gemm" => {
            let (a, b) = (input(0)?, input(1)?);
            let pick =
                |s: &Shape, transposed: bool, k: usize| s.get(k ^ usize::from(transposed)).copied();
            let m = pick(a, attr_int(n, "transA") == Some(1), 0)?;
            let nn = pick(b, attr_int(n, "transB") == Some(1), 1)?;
            (a.len() == 2 && b.len() == 2).then(|| vec![m, nn])
        }
        "Flatten" => {
            let s = input(0)?;
            let rank = s.len() as i64;
            let k = attr_int(n, "axis").unwrap_or(1);
            let k = usize::try_from(if k < 0 { k + rank } else { k })
                .ok()
                .filter(|&k| k <= s.len())?;
            let product = |d: &[Option<i64>]| d.iter().try_fold(1i64, |p, d| p.checked_mul((*d)?));
            Some(vec![product(&s[..k]), product(&s[k..])])
        }
        "Transpose" => {
            let s = input(0)?;
            match attr_ints(n, "perm") {
                Some(p) => p
                    .iter()
                    .map(|&k| s.get(usize::try_from(k).ok()?).copied())
                    .collect(),
                None => Some(s.iter().rev().copied().collect()),
            }
        }
        "Shape" => {
            let rank = input(0)?.len() as i64;
            let clamp = |v: i64| if v < 0 { v + rank } else { v }.clamp(0, rank);
            let start = clamp(attr_int(n, "start").unwrap_or(0));
            let end = clamp(attr_int(n, "end").unwrap_or(rank));
            Some(vec![Some((end - start).max(0))])
        }
        "Size" => Some(Vec::new()),
        "Reshape" => match value(1) {
            Some(target) => reshape(input(0), target, attr_int(n, "allowzero") == Some(1)),
            None => match input(1)?.as_slice() {
                [Some(rank)] => Some(vec![None; usize::try_from(*rank).ok()?]),
                _ => None,
            },
        },
        "Unsqueeze" => {
            let axes = if opset >= 13 {
                operand(1)?
            } else {
                attr_ints(n, "axes")?
            };
            let mut s = input(0)?.clone();
            let rank = s.len() + axes.len();
            let mut axes: Vec<usize> =
                axes.iter().map(|&a| axis(a, rank)).collect::<Option<_>>()?;
            axes.sort_unstable();
            for a in axes {
                (a <= s.len()).then(|| s.insert(a, Some(1)))?;
            }
            Some(s)
        }
        "Squeeze" => {
            let s = input(0)?;
            let axes = match opset >= 13 {
                true => n.input.get(1).filter(|i| !i.is_empty()).map(|_| operand(1)),
                false => attr_ints(n, "axes").map(Some),
            };
            let axes: Vec<usize> = match axes {
                Some(a) => a?
                    .iter()
                    .map(|&a| axis(a, s.len()))
                    .collect::<Option<_>>()?,
                None if s.iter().all(Option::is_some) => {
                    (0..s.len()).filter(|&k| s[k] == Some(1)).collect()
                }
                None => return None,
            };
            Some(
                (0..s.len())
                    .filter(|k| !axes.contains(k))
                    .map(|k| s[k])
                    .collect(),
            )
        }
        "Concat" => {
            let shapes: Vec<&Shape> = (0..n.input.len()).map(input).collect::<Option<_>>()?;
            let first = shapes.first()?;
            let a = axis(attr_int(n, "axis")?, first.len())?;
            let mut s = (*first).clone();
            s[a] = shapes
                .iter()
                .try_fold(0i64, |t, s| t.checked_add((*s.get(a)?)?));
            shapes.iter().all(|x| x.len() == s.len()).then_some(s)
        }
        "Conv" | "ConvTranspose" | "AveragePool" | "MaxPool" | "LpPool" => {
            let x = input(0)?;
            let channels = match op {
                "Conv" => input(1).and_then(|w| w.first().copied().flatten()),
                "ConvTranspose" => {
                    let group = attr_int(n, "group").unwrap_or(1);
                    input(1)
                        .and_then(|w| w.get(1).copied().flatten())
                        .and_then(|c| c.checked_mul(group))
                }
                _ => x.get(1).copied().flatten(),
            };
            (x.len() >= 3).then(|| {
                let mut s = vec![x[0], channels];
                s.extend(std::iter::repeat_n(None, x.len() - 2));
                s
            })
        }
        "GlobalAveragePool" | "GlobalMaxPool" => {
            let x = input(0)?;
            (x.len() >= 3).then(|| {
                let mut s = x[..2].to_vec();
                s.extend(std::iter::repeat_n(Some(1), x.len() - 2));
                s
            })
        }
        _ if op.starts_with("Reduce") => {
            let x = input(0)?;
            let axes = match (op, opset) {
                ("ReduceSum", 13..) | (_, 18..) => match n.input.get(1).filter(|i| !i.is_empty()) {
                    Some(_) => Some(operand(1)?),
                    None => None,
                },
                _ => attr_ints(n, "axes"),
            };
            let axes: Vec<usize> = match axes.filter(|a| !a.is_empty()) {
                Some(a) => a.iter().map(|&a| axis(a, x.len())).collect::<Option<_>>()?,
                None if attr_int(n, "noop_with_empty_axes") == Some(1) => return Some(x.clone()),
                None => (0..x.len()).collect(),
            };
            let keep = attr_int(n, "keepdims").unwrap_or(1) == 1;
            Some(
                (0..x.len())
                    .filter_map(|k| match (axes.contains(&k), keep) {
                        (true, true) => Some(Some(1)),
                        (true, false) => None,
                        (false, _) => Some(x[k]),
                    })
                    .collect(),
            )
        }
        "Slice" => {
            let x = input(0)?;
            let list = |k: usize, name: &str| match opset >= 10 {
                true => n.input.get(k).filter(|i| !i.is_empty()).map(|_| operand(k)),
                false => attr_ints(n, name).map(Some),
            };
            let (starts, ends) = (list(1, "starts")??, list(2, "ends")??);
            let axes: Vec<usize> = match list(3, "axes") {
                Some(a) => a?
                    .iter()
                    .map(|&a| axis(a, x.len()))
                    .collect::<Option<_>>()?,
                None => (0..starts.len()).collect(),
            };
            let steps = match list(4, "steps") {
                Some(s) => s?,
                None => vec![1; starts.len()],
            };
            let mut s = x.clone();
            for (k, &a) in axes.iter().enumerate() {
                let (start, end, step) = (*starts.get(k)?, *ends.get(k)?, *steps.get(k)?);
                s[a] = x[a].and_then(|d| slice_len(d, start, end, step));
            }
            Some(s)
        }
        "Pad" | "Resize" | "Tile" | "Upsample" => Some(vec![None; input(0)?.len()]),
        "Expand" => {
            let target: Shape = operand(1)?.iter().map(|&d| Some(d)).collect();
            broadcast(&[input(0)?, &target])
        }
        "Gather" => {
            let (x, idx) = (input(0)?, input(1)?);
            let a = axis(attr_int(n, "axis").unwrap_or(0), x.len())?;
            Some([&x[..a], idx.as_slice(), &x[a + 1..]].concat())
        }
        _ => None,
    }
}

/// Shapes broadcast together (numpy rules): the longest rank; per dimension, a known size
/// other than 1 where any has one, else 1 where all are 1, else unknown.
pub(in crate::optimize) fn broadcast(shapes: &[&Shape]) -> Option<Shape> {
    let rank = shapes.iter().map(|s| s.len()).max()?;
    let mut out = vec![Some(1); rank];
    for (k, d) in out.iter_mut().enumerate() {
        let dims = shapes
            .iter()
            .filter_map(|s| (k + s.len()).checked_sub(rank).map(|i| s[i]));
        let mut all_one = true;
        let mut known = None;
        for x in dims {
            match x {
                Some(1) => {}
                Some(v) => known = Some(v),
                None => all_one = false,
            }
        }
        *d = match (known, all_one) {
            (Some(v), _) => Some(v),
            (None, true) => Some(1),
            (None, false) => None,
        };
    }
    Some(out)
}

/// How many elements `Slice` takes from an axis of size `d` (ONNX's clamping rules).
fn slice_len(d: i64, start: i64, end: i64, step: i64) -> Option<i64> {
    let wrap = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
    let (start, end) = (wrap(start), wrap(end));
    let len = match step {
        0 => return None,
        s if s > 0 => {
            let (b, e) = (start.clamp(0, d), end.clamp(0, d));
            (e - b + s - 1).div_euclid(s)
        }
        s => {
            let (b, e) = (start.clamp(0, d - 1), end.clamp(-1, d - 1));
            (b - e - s - 1).div_euclid(-s)
        }
    };
    Some(len.max(0))
}

/// `MatMul`'s output shape for operands of rank 2 or more.
fn matmul(a: &Shape, b: &Shape) -> Option<Shape> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ab, bb) = (a[..a.len() - 2].to_vec(), b[..b.len() - 2].to_vec());
    let mut s = broadcast(&[&ab, &bb])?;
    s.extend([a[a.len() - 2], b[b.len() - 1]]);
    Some(s)
}

/// `Reshape`'s output shape: `0` copies the input's dimension (unless `allowzero`), `-1` is
/// what the other dimensions leave of the input's size.
fn reshape(input: Option<&Shape>, target: &[Option<i64>], allowzero: bool) -> Option<Shape> {
    let mut s: Shape = target
        .iter()
        .enumerate()
        .map(|(k, &d)| match d? {
            0 if !allowzero => input.and_then(|s| s.get(k).copied().flatten()),
            -1 => None,
            d => Some(d),
        })
        .collect();
    if let Some(free) = target.iter().position(|&d| d == Some(-1)) {
        let size = input.and_then(|s| s.iter().try_fold(1i64, |p, d| p.checked_mul((*d)?)));
        let rest = s
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != free)
            .try_fold(1i64, |p, (_, d)| p.checked_mul((*d)?));
        if let (Some(size), Some(rest)) = (size, rest.filter(|&r| r > 0)) {
            s[free] = Some(size / rest);
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::onnx::AttributeProto;
    use crate::tests::support::onnx_protos::{float_model, int64s as ints, node, shaped_vi};
    use std::path::Path;

    fn with_int(mut n: NodeProto, name: &str, i: i64) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: name.into(),
            r#type: 2,
            i,
            ..Default::default()
        });
        n
    }

    #[test]
    fn fused_contrib_kernels_are_shaped_as_what_they_fuse() {
        let fused = |op: &str, inputs: &[&str], out: &str| {
            let mut n = node(out, op, "com.microsoft", inputs, &[out]);
            n.domain = "com.microsoft".into();
            n
        };
        let mut m = float_model(vec![
            with_int(fused("FusedMatMul", &["a", "b"], "ab"), "transB", 1),
            with_int(fused("FusedMatMul", &["a", "b"], "batch"), "transBatchA", 1),
            fused("QuickGelu", &["a"], "gated"),
            fused("Mystery", &["a"], "unknown"),
        ]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![
            shaped_vi("a", 1, &[-1, 4, 8]),
            shaped_vi("b", 1, &[-1, 5, 8]),
        ];
        let s = shapes(g, &ModelLocation::new(Path::new("m")), 17, &HashMap::new());
        assert_eq!(s.get("ab"), Some(&vec![None, Some(4), Some(5)]));
        assert_eq!(s.get("gated"), Some(&vec![None, Some(4), Some(8)]));
        assert_eq!(s.get("batch"), None);
        assert_eq!(s.get("unknown"), None);
    }

    #[test]
    fn shapes_follow_through_the_operators() {
        let mut m = float_model(vec![
            node("r", "Relu", "", &["x"], &["relu"]),
            node("a", "Add", "", &["relu", "bias"], &["biased"]),
            node("m", "MatMul", "", &["biased", "w"], &["product"]),
            with_int(node("f", "Flatten", "", &["x"], &["flat"]), "axis", 2),
            node("t", "Transpose", "", &["x"], &["reversed"]),
            node("s", "Shape", "", &["x"], &["shape"]),
            node("re", "Reshape", "", &["x", "target"], &["reshaped"]),
            node("u", "Unsqueeze", "", &["x", "axes"], &["unsqueezed"]),
            node("q", "Squeeze", "", &["unsqueezed", "axes"], &["squeezed"]),
            with_int(
                node("c", "Concat", "", &["x", "x"], &["joined"]),
                "axis",
                -1,
            ),
            node("g", "GlobalAveragePool", "", &["x"], &["pooled"]),
            node("z", "Mystery", "", &["x"], &["unknown"]),
        ]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[-1, 3, 4])];
        g.initializer = vec![
            Value::new(1, vec![4], vec![0; 16])
                .unwrap()
                .to_proto("bias"),
            Value::new(1, vec![4, 5], vec![0; 80])
                .unwrap()
                .to_proto("w"),
            ints("target", &[0, -1]),
            ints("axes", &[1]),
        ];
        let s = shapes(g, &ModelLocation::new(Path::new("m")), 17, &HashMap::new());
        let get = |name: &str| s.get(name).cloned();
        assert_eq!(get("biased"), Some(vec![None, Some(3), Some(4)]));
        assert_eq!(get("product"), Some(vec![None, Some(3), Some(5)]));
        assert_eq!(get("flat"), Some(vec![None, Some(4)]));
        assert_eq!(get("reversed"), Some(vec![Some(4), Some(3), None]));
        assert_eq!(get("shape"), Some(vec![Some(3)]));
        assert_eq!(
            get("reshaped"),
            Some(vec![None, None]),
            "-1 of an unknown size"
        );
        assert_eq!(
            get("unsqueezed"),
            Some(vec![None, Some(1), Some(3), Some(4)])
        );
        assert_eq!(get("squeezed"), Some(vec![None, Some(3), Some(4)]));
        assert_eq!(get("joined"), Some(vec![None, Some(3), Some(8)]));
        assert_eq!(get("pooled"), Some(vec![None, Some(3), Some(1)]));
        assert_eq!(get("unknown"), None);
    }

    #[test]
    fn broadcasting_keeps_what_is_known() {
        let s = |d: &[Option<i64>]| d.to_vec();
        assert_eq!(
            broadcast(&[&s(&[None, Some(1), Some(4)]), &s(&[Some(3), Some(1)])]),
            Some(s(&[None, Some(3), Some(4)]))
        );
        assert_eq!(
            broadcast(&[&s(&[Some(1)]), &s(&[None])]),
            Some(s(&[None])),
            "1 against an unknown size"
        );
        assert_eq!(
            reshape(Some(&s(&[Some(2), Some(6)])), &[Some(3), Some(-1)], false),
            Some(s(&[Some(3), Some(4)]))
        );
    }
}
