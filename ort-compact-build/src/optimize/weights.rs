//! Folding into weights: a `BatchNormalization` that only normalises a `Conv`'s output, with
//! constant parameters, becomes part of the `Conv`'s weight and bias. The arithmetic is ONNX
//! Runtime's own, in float32 and in its order: per output channel `s = scale / sqrt(var + eps)`,
//! `W' = W * s`, and `B' = (B - mean) * s + bias` (or `bias - mean * s` without a `Conv` bias).
//! The rounding of the fused weights is what stock onnxruntime-web computes when it fuses the
//! same pair at load, not what the unfused graph computes.

use super::eliminate::is_onnx;
use super::uses::{remove, Uses};
use super::value::{dtype, Value};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto, TensorProto};
use std::collections::{HashMap, HashSet};

/// Float32 elements of `v`.
fn floats(v: &Value) -> Option<Vec<f32>> {
    (v.dtype == dtype::FLOAT).then(|| {
        v.data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

fn float_value(dims: Vec<i64>, v: &[f32]) -> Option<Value> {
    Value::new(
        dtype::FLOAT,
        dims,
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    )
}

/// A fusion to apply: the `Conv` and `BatchNormalization` node indices and the new weight and
/// bias.
struct Fusion {
    conv: usize,
    bn: usize,
    weight: Value,
    bias: Value,
}

/// `Conv` → `BatchNormalization` pairs folded; returns how many.
pub(super) fn conv_batch_norm(model: &Model, g: &mut GraphProto) -> usize {
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
            let bn_index = *readers.get(y.as_str())?;
            fuse(conv, &g.node[bn_index], &uses, &constant).map(|(weight, bias)| Fusion {
                conv: k,
                bn: bn_index,
                weight,
                bias,
            })
        })
        .collect();
    let mut names: HashSet<String> = g.initializer.iter().map(|t| t.name.clone()).collect();
    let mut gone = Vec::new();
    for f in fusions {
        let bn_out = g.node[f.bn].output[0].clone();
        let [w, b] =
            ["weight", "bias"].map(|what| fresh(&mut names, &format!("{bn_out}.fused_{what}")));
        g.initializer.push(f.weight.to_proto(&w));
        g.initializer.push(f.bias.to_proto(&b));
        let conv = &mut g.node[f.conv];
        conv.input.truncate(1);
        conv.input.extend([w, b]);
        conv.output[0] = bn_out;
        gone.push(f.bn);
    }
    remove(g, &gone)
}

/// A name like `base` that no value of the graph has yet.
fn fresh(names: &mut HashSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut k = 1;
    while names.contains(&name) {
        k += 1;
        name = format!("{base}{k}");
    }
    names.insert(name.clone());
    name
}

/// The fused weight and bias of `conv` followed by `bn`, when every condition holds.
fn fuse(
    conv: &NodeProto,
    bn: &NodeProto,
    uses: &Uses,
    constant: &dyn Fn(&str) -> Option<Value>,
) -> Option<(Value, Value)> {
    let inference = bn.output.iter().skip(1).all(|o| !uses.used(o))
        && !bn
            .attribute
            .iter()
            .any(|a| a.name == "training_mode" && a.i != 0);
    let reads_conv = bn.input.first() == conv.output.first();
    if !is_onnx(bn, "BatchNormalization") || bn.input.len() != 5 || !reads_conv || !inference {
        return None;
    }
    let params: Vec<Vec<f32>> = bn.input[1..]
        .iter()
        .map(|i| {
            constant(i)
                .filter(|v| v.dims.len() == 1)
                .as_ref()
                .and_then(floats)
        })
        .collect::<Option<_>>()?;
    let (scale, bias, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
    let channels = scale.len();
    if [bias, mean, var].iter().any(|p| p.len() != channels) {
        return None;
    }
    let weight = constant(conv.input.get(1)?)?;
    let w = floats(&weight)?;
    if weight.dims.len() <= 2 || weight.dims[0] != channels as i64 {
        return None;
    }
    let conv_bias = match conv.input.get(2).filter(|b| !b.is_empty()) {
        Some(name) => Some(
            constant(name)
                .as_ref()
                .and_then(floats)
                .filter(|b| b.len() == channels)?,
        ),
        None => None,
    };
    let epsilon = bn
        .attribute
        .iter()
        .find(|a| a.name == "epsilon")
        .map_or(1e-5, |a| a.f);
    let s: Vec<f32> = (0..channels)
        .map(|c| scale[c] / (var[c] + epsilon).sqrt())
        .collect();
    let block = w.len() / channels;
    let fused_w: Vec<f32> = w
        .iter()
        .enumerate()
        .map(|(i, x)| x * s[i / block])
        .collect();
    let fused_b: Vec<f32> = (0..channels)
        .map(|c| match &conv_bias {
            Some(b) => (b[c] - mean[c]) * s[c] + bias[c],
            None => bias[c] - mean[c] * s[c],
        })
        .collect();
    Some((
        float_value(weight.dims.clone(), &fused_w)?,
        float_value(vec![channels as i64], &fused_b)?,
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::onnx::{AttributeProto, ModelProto};
    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{float_model, node, tensor_vi};
    use std::path::Path;

    fn tensor(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
        float_value(dims.to_vec(), v).unwrap().to_proto(name)
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
                floats(&Value::of(t, &crate::model::ModelLocation::new(Path::new("m"))).unwrap())
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
