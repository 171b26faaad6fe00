//! Folding into weights: a `BatchNormalization`, an `Add` of a per-channel bias or a `Mul` by
//! a per-channel (or scalar) factor that only takes a `Conv`'s output, with constant
//! parameters, becomes part of the `Conv`'s weight and bias. The arithmetic is ONNX Runtime's
//! own, in float32 and in its order: for `BatchNormalization`, per output channel
//! `s = scale / sqrt(var + eps)`, `W' = W * s`, `B' = (B - mean) * s + bias` (or
//! `bias - mean * s` without a `Conv` bias); for `Add`, `B' = B + b`; for `Mul`, `W' = W * m`,
//! `B' = B * m`. The rounding of the fused weights is what stock onnxruntime-web computes when
//! it fuses the same pair at load, not what the unfused graph computes.

use super::node::is_onnx;
use super::uses::{fresh, remove, Uses};
use super::value::Value;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto, TensorProto};
use std::collections::{HashMap, HashSet};

/// A `Conv`'s constant weight (float32, rank > 2) and bias.
struct Conv {
    weight: Value,
    w: Vec<f32>,
    bias: Option<Vec<f32>>,
    /// Output channels (the weight's first dimension).
    channels: usize,
}

impl Conv {
    fn of(conv: &NodeProto, constant: &dyn Fn(&str) -> Option<Value>) -> Option<Conv> {
        let weight = constant(conv.input.get(1)?)?;
        let w = weight.floats()?;
        if weight.dims.len() <= 2 {
            return None;
        }
        let channels = usize::try_from(weight.dims[0]).ok()?;
        let bias = match conv.input.get(2).filter(|b| !b.is_empty()) {
            Some(name) => Some(
                constant(name)
                    .filter(|v| v.dims.len() == 1)
                    .as_ref()
                    .and_then(|v| v.floats())
                    .filter(|b| b.len() == channels)?,
            ),
            None => None,
        };
        Some(Conv {
            weight,
            w,
            bias,
            channels,
        })
    }

    /// The weight with output channel `c`'s block multiplied by `s[c]`.
    fn scaled(&self, s: &[f32]) -> Vec<f32> {
        let block = self.w.len() / self.channels.max(1);
        self.w
            .iter()
            .enumerate()
            .map(|(i, x)| x * s[i / block])
            .collect()
    }
}

/// What a fusion makes of the `Conv`'s weight and bias (`None`: unchanged).
type Fused = (Option<Vec<f32>>, Option<Vec<f32>>);

/// A node that may follow a `Conv` and fold into it: its constant parameters against `conv`.
type Follower = fn(&NodeProto, &Conv, &Uses, &dyn Fn(&str) -> Option<Value>) -> Option<Fused>;

/// `Conv` → `BatchNormalization` pairs folded; returns how many.
pub(super) fn conv_batch_norm(model: &Model, g: &mut GraphProto) -> usize {
    fold_into_conv(model, g, batch_norm)
}

/// `Conv` → `Add` of a constant per-channel (or `[C,1,1]`-shaped) bias, folded; returns how many.
pub(super) fn conv_add(model: &Model, g: &mut GraphProto) -> usize {
    fold_into_conv(model, g, add)
}

/// `Conv` → `Mul` by a constant per-channel factor or scalar, folded; returns how many.
pub(super) fn conv_mul(model: &Model, g: &mut GraphProto) -> usize {
    fold_into_conv(model, g, mul)
}

/// A fusion to apply: the `Conv` and follower node indices and the new weight and bias.
struct Fusion {
    conv: usize,
    next: usize,
    fused: Fused,
    dims: Vec<i64>,
    channels: usize,
}

/// Every `Conv` whose output only `follower` reads (and nothing observes) takes the follower in.
fn fold_into_conv(model: &Model, g: &mut GraphProto, follower: Follower) -> usize {
    if model.opset < 7 {
        return 0; // the followers' older versions broadcast and normalise differently
    }
    let uses = Uses::of(g);
    let fed: HashSet<&str> = g.input.iter().map(|i| i.name.as_str()).collect();
    let constants: HashMap<&str, &TensorProto> = g
        .initializer
        .iter()
        .filter(|t| !fed.contains(t.name.as_str()))
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut readers: HashMap<&str, usize> = HashMap::new();
    for (k, n) in g.node.iter().enumerate() {
        for i in &n.input {
            readers.insert(i.as_str(), k);
        }
    }
    let constant = |name: &str| Value::of(constants.get(name)?, &model.loc);
    let fusions: Vec<Fusion> = g
        .node
        .iter()
        .enumerate()
        .filter_map(|(k, conv)| {
            let y = conv.output.first()?;
            if !is_onnx(conv, "Conv") || uses.observed(y) || uses.readers(y) != 1 {
                return None;
            }
            let next_index = *readers.get(y.as_str())?;
            let next = &g.node[next_index];
            if next.input.first() != Some(y) || next.output.is_empty() {
                return None;
            }
            let params = Conv::of(conv, &constant)?;
            let fused = follower(next, &params, &uses, &constant)?;
            Some(Fusion {
                conv: k,
                next: next_index,
                fused,
                dims: params.weight.dims.clone(),
                channels: params.channels,
            })
        })
        .collect();
    let mut names: HashSet<String> = g.initializer.iter().map(|t| t.name.clone()).collect();
    let mut gone = Vec::new();
    for f in fusions {
        let out = g.node[f.next].output[0].clone();
        let conv = &mut g.node[f.conv];
        if let Some(w) = f
            .fused
            .0
            .as_deref()
            .and_then(|w| Value::from_floats(f.dims.clone(), w))
        {
            let name = fresh(&mut names, &format!("{out}.fused_weight"));
            g.initializer.push(w.to_proto(&name));
            conv.input[1] = name;
        }
        if let Some(b) = f
            .fused
            .1
            .as_deref()
            .and_then(|b| Value::from_floats(vec![f.channels as i64], b))
        {
            let name = fresh(&mut names, &format!("{out}.fused_bias"));
            g.initializer.push(b.to_proto(&name));
            conv.input.truncate(2);
            conv.input.push(name);
        }
        conv.output[0] = out;
        gone.push(f.next);
    }
    remove(g, &gone)
}

/// `BatchNormalization` in inference mode with constant 1-D parameters over the `Conv`'s
/// output channels.
fn batch_norm(
    bn: &NodeProto,
    conv: &Conv,
    uses: &Uses,
    constant: &dyn Fn(&str) -> Option<Value>,
) -> Option<Fused> {
    let inference = bn.output.iter().skip(1).all(|o| !uses.used(o))
        && !bn
            .attribute
            .iter()
            .any(|a| a.name == "training_mode" && a.i != 0);
    if !is_onnx(bn, "BatchNormalization") || bn.input.len() != 5 || !inference {
        return None;
    }
    let params: Vec<Vec<f32>> = bn.input[1..]
        .iter()
        .map(|i| {
            constant(i)
                .filter(|v| v.dims.len() == 1)
                .as_ref()
                .and_then(|v| v.floats())
        })
        .collect::<Option<_>>()?;
    let (scale, bias, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
    let c = conv.channels;
    if [scale, bias, mean, var].iter().any(|p| p.len() != c) {
        return None;
    }
    let epsilon = bn
        .attribute
        .iter()
        .find(|a| a.name == "epsilon")
        .map_or(1e-5, |a| a.f);
    let s: Vec<f32> = (0..c)
        .map(|k| scale[k] / (var[k] + epsilon).sqrt())
        .collect();
    let fused_b = (0..c)
        .map(|k| match &conv.bias {
            Some(b) => (b[k] - mean[k]) * s[k] + bias[k],
            None => bias[k] - mean[k] * s[k],
        })
        .collect();
    Some((Some(conv.scaled(&s)), Some(fused_b)))
}

/// The per-output-channel values of a constant shaped `[C,1,…]` (one rank below the weight)
/// or `[1,C,1,…]` (the weight's rank), or a scalar when `scalar` allows it.
fn per_channel(v: &Value, conv: &Conv, scalar: bool) -> Option<Vec<f32>> {
    let values = v.floats()?;
    if v.dims.is_empty() {
        return scalar.then(|| vec![values[0]; conv.channels]);
    }
    let rank = conv.weight.dims.len();
    let axis = match v.dims.len() {
        r if r == rank => 1,
        r if r + 1 == rank => 0,
        _ => return None,
    };
    let shaped = v.dims[axis] == conv.channels as i64
        && v.dims.iter().enumerate().all(|(i, &d)| i == axis || d == 1);
    shaped.then_some(values)
}

/// `Add` of a constant per-channel bias (ai.onnx from opset 7).
fn add(
    n: &NodeProto,
    conv: &Conv,
    _: &Uses,
    constant: &dyn Fn(&str) -> Option<Value>,
) -> Option<Fused> {
    if !is_onnx(n, "Add") || n.input.len() != 2 {
        return None;
    }
    let b = per_channel(&constant(&n.input[1])?, conv, false)?;
    let fused = match &conv.bias {
        Some(cb) => cb.iter().zip(&b).map(|(x, y)| x + y).collect(),
        None => b,
    };
    Some((None, Some(fused)))
}

/// `Mul` by a constant per-channel factor or scalar (ai.onnx from opset 7).
fn mul(
    n: &NodeProto,
    conv: &Conv,
    _: &Uses,
    constant: &dyn Fn(&str) -> Option<Value>,
) -> Option<Fused> {
    if !is_onnx(n, "Mul") || n.input.len() != 2 {
        return None;
    }
    let m = per_channel(&constant(&n.input[1])?, conv, true)?;
    let bias = conv
        .bias
        .as_ref()
        .map(|b| b.iter().zip(&m).map(|(x, y)| x * y).collect());
    Some((Some(conv.scaled(&m)), bias))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::onnx::{AttributeProto, ModelProto};
    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{float_model, node, tensor_vi};
    use std::path::Path;

    pub(crate) fn tensor(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
        Value::from_floats(dims.to_vec(), v).unwrap().to_proto(name)
    }

    /// x (1×2×3×3) → Conv(W 3×2×1×1, B) → BatchNormalization(ε 1e-3) → Relu → y.
    pub(crate) fn conv_bn_model(with_bias: bool) -> ModelProto {
        let conv_inputs: &[&str] = if with_bias {
            &["x", "W", "B"]
        } else {
            &["x", "W"]
        };
        let mut bn = node(
            "bn",
            "BatchNormalization",
            "",
            &["c", "s", "b", "m", "v"],
            &["n"],
        );
        bn.attribute.push(AttributeProto {
            name: "epsilon".into(),
            r#type: 1,
            f: 1e-3,
            ..Default::default()
        });
        let mut m = float_model(vec![
            node("conv", "Conv", "", conv_inputs, &["c"]),
            bn,
            node("r", "Relu", "", &["n"], &["y"]),
        ]);
        let g = m.graph.as_mut().unwrap();
        g.initializer = vec![
            tensor("W", &[3, 2, 1, 1], &[0.5, -1.0, 0.25, 2.0, -0.75, 1.5]),
            tensor("B", &[3], &[0.1, -0.2, 0.3]),
            tensor("s", &[3], &[1.5, 0.5, -2.0]),
            tensor("b", &[3], &[0.05, 0.0, -0.1]),
            tensor("m", &[3], &[0.2, -0.4, 0.6]),
            tensor("v", &[3], &[0.9, 1.7, 0.3]),
        ];
        if !with_bias {
            g.initializer.remove(1);
        }
        m
    }

    fn ops(m: &ModelProto) -> Vec<&str> {
        m.graph
            .as_ref()
            .unwrap()
            .node
            .iter()
            .map(|n| n.op_type.as_str())
            .collect()
    }

    fn basic(mut m: ModelProto) -> ModelProto {
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        m
    }

    #[test]
    fn batch_normalization_folds_into_the_conv_in_onnx_runtimes_order() {
        for with_bias in [true, false] {
            let m = basic(conv_bn_model(with_bias));
            assert_eq!(ops(&m), ["Conv", "Relu"]);
            let g = m.graph.as_ref().unwrap();
            assert_eq!(g.node[0].output, ["n"], "the Conv produces what the BN did");
            let value = |name: &str| {
                let t = g.initializer.iter().find(|t| t.name == name).unwrap();
                Value::of(t, &crate::model::ModelLocation::new(Path::new("m")))
                    .unwrap()
                    .floats()
                    .unwrap()
            };
            let w = value(&g.node[0].input[1]);
            let b = value(&g.node[0].input[2]);
            let s0 = 1.5f32 / (0.9f32 + 1e-3f32).sqrt();
            assert_eq!(w[0], 0.5 * s0);
            assert_eq!(w[1], -s0);
            let expected_b0 = match with_bias {
                true => (0.1f32 - 0.2) * s0 + 0.05,
                false => 0.05f32 - 0.2 * s0,
            };
            assert_eq!(b[0], expected_b0);
        }
    }

    /// x → Conv(W 3×2×1×1, B) → `op`(c, k) → Relu → y, with the constant `k`.
    pub(crate) fn conv_then(op: &str, k: TensorProto) -> ModelProto {
        let mut m = conv_bn_model(true);
        let g = m.graph.as_mut().unwrap();
        g.node[1] = node("f", op, "", &["c", &k.name], &["n"]);
        g.initializer.push(k);
        m
    }

    #[test]
    fn per_channel_add_and_mul_fold_other_shapes_stay() {
        let conv = |m: &ModelProto, i: usize| {
            let g = m.graph.as_ref().unwrap();
            let name = &g.node[0].input[i];
            let t = g.initializer.iter().find(|t| &t.name == name).unwrap();
            Value::of(t, &crate::model::ModelLocation::new(Path::new("m")))
                .unwrap()
                .floats()
                .unwrap()
        };
        let m = basic(conv_then("Add", tensor("k", &[3, 1, 1], &[1.0, 2.0, 3.0])));
        assert_eq!(ops(&m), ["Conv", "Relu"]);
        assert_eq!(conv(&m, 2), [0.1f32 + 1.0, -0.2 + 2.0, 0.3 + 3.0]);
        let m = basic(conv_then(
            "Mul",
            tensor("k", &[1, 3, 1, 1], &[2.0, -1.0, 0.5]),
        ));
        assert_eq!(ops(&m), ["Conv", "Relu"]);
        assert_eq!(conv(&m, 1)[..2], [1.0, -2.0], "channel 0 doubled");
        assert_eq!(conv(&m, 2), [0.2f32, 0.2, 0.15]);
        let m = basic(conv_then("Mul", tensor("k", &[], &[3.0])));
        assert_eq!(ops(&m), ["Conv", "Relu"], "a scalar factor");

        let stays = |op: &str, k: TensorProto| ops(&basic(conv_then(op, k))).len() == 3;
        assert!(
            stays("Add", tensor("k", &[3], &[1.0, 2.0, 3.0])),
            "[C] broadcasts over W"
        );
        assert!(
            stays("Add", tensor("k", &[], &[1.0])),
            "a scalar Add is not a bias"
        );
        assert!(
            stays("Mul", tensor("k", &[1, 1, 1, 3], &[1.0, 2.0, 3.0])),
            "over width"
        );
        assert!(
            stays("Sub", tensor("k", &[3, 1, 1], &[1.0, 2.0, 3.0])),
            "not a fusion"
        );
    }

    #[test]
    fn pairs_that_almost_match_are_left_alone() {
        // The Conv's output is read twice.
        let mut shared = conv_bn_model(true);
        let g = shared.graph.as_mut().unwrap();
        g.node.push(node("k", "Relu", "", &["c"], &["k"]));
        g.output.push(tensor_vi("k", 1));
        assert_eq!(
            ops(&basic(shared)),
            ["Conv", "BatchNormalization", "Relu", "Relu"]
        );

        // A parameter fed at run time.
        let mut fed = conv_bn_model(true);
        fed.graph.as_mut().unwrap().input.push(tensor_vi("m", 1));
        assert_eq!(ops(&basic(fed)), ["Conv", "BatchNormalization", "Relu"]);

        // Training mode.
        let mut training = conv_bn_model(true);
        training.graph.as_mut().unwrap().node[1]
            .attribute
            .push(AttributeProto {
                name: "training_mode".into(),
                r#type: 2,
                i: 1,
                ..Default::default()
            });
        assert_eq!(
            ops(&basic(training)),
            ["Conv", "BatchNormalization", "Relu"]
        );

        // Per-channel parameters that do not match the weight's output channels.
        let mut channels = conv_bn_model(true);
        let g = channels.graph.as_mut().unwrap();
        let s = g.initializer.iter_mut().find(|t| t.name == "s").unwrap();
        *s = tensor("s", &[2], &[1.0, 1.0]);
        assert_eq!(
            ops(&basic(channels)),
            ["Conv", "BatchNormalization", "Relu"]
        );
    }
}
