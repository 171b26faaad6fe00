//! Fusions into ONNX Runtime's contrib kernels (level `extended`): a float `Conv` whose only
//! reader is an activation becomes one `com.microsoft` `FusedConv`, which applies the activation
//! to each block of output as MLAS writes it instead of in a second pass over the whole tensor
//! (the activations MLAS applies: Relu, Sigmoid, Tanh, LeakyRelu, HardSigmoid, Clip with
//! constant bounds), as ONNX Runtime's `ConvActivationFusion` does for its CPU provider; a
//! float `Gemm` and its activation become one `FusedGemm` (`GemmActivationFusion`).

use super::node::{attr, is_onnx};
use super::uses::{constant, reader_index, remove, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::{AttributeProto, GraphProto, NodeProto};

/// ONNX Runtime's contrib operator domain.
pub(super) const MS_DOMAIN: &str = "com.microsoft";

/// `AttributeProto.AttributeType` codes.
const FLOATS: i32 = 6;
const STRING: i32 = 3;

/// The parameters `FusedConv` takes for activation `act` (`None`: not one it applies).
fn activation_params(model: &Model, g: &GraphProto, act: &NodeProto) -> Option<Vec<f32>> {
    let float_attr = |name: &str, default: f32| attr(act, name).map_or(default, |a| a.f);
    match act.op_type.as_str() {
        "Relu" | "Sigmoid" | "Tanh" => Some(Vec::new()),
        "LeakyRelu" => Some(vec![float_attr("alpha", 0.01)]),
        "HardSigmoid" => Some(vec![float_attr("alpha", 0.2), float_attr("beta", 0.5)]),
        "Clip" if model.opset < 11 => Some(vec![
            float_attr("min", f32::MIN),
            float_attr("max", f32::MAX),
        ]),
        "Clip" => {
            let bound = |k: usize, default: f32| -> Option<f32> {
                let Some(name) = act.input.get(k).filter(|i| !i.is_empty()) else {
                    return Some(default);
                };
                let v = constant(g, &model.loc, name)?;
                (v.dtype == dtype::FLOAT && v.count() == 1).then(|| v.as_f64().map(|x| x as f32))?
            };
            Some(vec![bound(1, f32::MIN)?, bound(2, f32::MAX)?])
        }
        _ => None,
    }
}

/// The attributes `FusedConv` gets for activation `act` (`None`: not one it applies).
fn conv_activation_attributes(
    model: &Model,
    g: &GraphProto,
    act: &NodeProto,
) -> Option<Vec<AttributeProto>> {
    let params = activation_params(model, g, act)?;
    let mut attrs = vec![string_attr("activation", &act.op_type)];
    if !params.is_empty() {
        attrs.push(AttributeProto {
            name: "activation_params".into(),
            r#type: FLOATS,
            floats: params,
            ..Default::default()
        });
    }
    Some(attrs)
}

/// Activations `FusedGemm` applies (with the same element-wise functions as their own kernels).
const GEMM_ACTIVATIONS: &[&str] = &[
    "Elu",
    "HardSigmoid",
    "LeakyRelu",
    "Relu",
    "Selu",
    "Sigmoid",
    "Softplus",
    "Softsign",
    "Tanh",
    "ThresholdedRelu",
];

/// The attributes `FusedGemm` gets for activation `act`: its name, and its attributes renamed
/// `activation_<name>`.
fn gemm_activation_attributes(
    _: &Model,
    _: &GraphProto,
    act: &NodeProto,
) -> Option<Vec<AttributeProto>> {
    if !GEMM_ACTIVATIONS.contains(&act.op_type.as_str()) || act.input.len() != 1 {
        return None;
    }
    let mut attrs = vec![string_attr("activation", &act.op_type)];
    attrs.extend(act.attribute.iter().map(|a| AttributeProto {
        name: format!("activation_{}", a.name),
        ..a.clone()
    }));
    Some(attrs)
}

fn string_attr(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: STRING,
        s: value.as_bytes().to_vec(),
        ..Default::default()
    }
}

/// `Conv` + activation pairs of `g` fused into `FusedConv`; returns how many.
pub(super) fn conv_activation(model: &Model, g: &mut GraphProto) -> usize {
    with_activation(model, g, "Conv", "FusedConv", conv_activation_attributes)
}

/// `Gemm` + activation pairs of `g` fused into `FusedGemm`; returns how many.
pub(super) fn gemm_activation(model: &Model, g: &mut GraphProto) -> usize {
    with_activation(model, g, "Gemm", "FusedGemm", gemm_activation_attributes)
}

/// Each float `op` of `g` whose output only an activation reads (one `attributes` takes)
/// becomes `fused` with those attributes and the activation's output; returns how many.
fn with_activation(
    model: &Model,
    g: &mut GraphProto,
    op: &str,
    fused: &str,
    attributes: fn(&Model, &GraphProto, &NodeProto) -> Option<Vec<AttributeProto>>,
) -> usize {
    let uses = Uses::of(g);
    let types = model.types(g);
    let reader = reader_index(g);
    let mut pairs: Vec<(usize, usize, Vec<AttributeProto>)> = Vec::new();
    for (k, n) in g.node.iter().enumerate() {
        let Some(out) = n
            .output
            .first()
            .filter(|_| is_onnx(n, op) && n.output.len() == 1)
        else {
            continue;
        };
        let float = n.input.first().and_then(|x| types.get(x)) == Some(&dtype::FLOAT);
        if !float || uses.readers(out) != 1 || uses.observed(out) {
            continue;
        }
        let Some(&a) = reader.get(out.as_str()) else {
            continue;
        };
        let act = &g.node[a];
        if !is_onnx(act, &act.op_type) || act.input.first() != Some(out) || act.output.len() != 1 {
            continue;
        }
        if let Some(attrs) = attributes(model, g, act) {
            pairs.push((k, a, attrs));
        }
    }
    for (k, a, attrs) in &pairs {
        let output = g.node[*a].output.clone();
        let n = &mut g.node[*k];
        n.op_type = fused.into();
        n.domain = MS_DOMAIN.into();
        n.output = output;
        n.attribute.extend(attrs.iter().cloned());
    }
    let acts: Vec<usize> = pairs.iter().map(|&(_, a, _)| a).collect();
    remove(g, &acts)
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{AttributeProto, ModelProto, NodeProto};

    use crate::optimize::{optimize, GraphOptimization, GraphOptimizer, Rewrite};
    use crate::tests::support::onnx_protos::{
        filled as float, float_model, node, shaped_vi, tensor_vi,
    };
    use std::path::Path;

    /// Conv of `x` [1, 2, 4, 4] by `w` [3, 2, 1, 1], then `act`; optimized at `level`.
    fn conv_then(
        act: NodeProto,
        level: impl Into<GraphOptimizer>,
        edit: impl Fn(&mut ModelProto),
    ) -> ModelProto {
        let mut m = float_model(vec![node("c", "Conv", "", &["x", "w"], &["c"]), act]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[1, 2, 4, 4])];
        g.initializer = vec![
            float("w", &[3, 2, 1, 1], 0.5),
            float("lo", &[], 0.0),
            float("hi", &[], 6.0),
        ];
        edit(&mut m);
        optimize(&mut m, Path::new("m.onnx"), level);
        m
    }

    fn alpha(mut n: NodeProto, v: f32) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: "alpha".into(),
            r#type: 1,
            f: v,
            ..Default::default()
        });
        n
    }

    #[test]
    fn conv_and_its_activation_become_fused_conv() {
        let none = |_: &mut ModelProto| {};
        let cases: Vec<(NodeProto, Vec<f32>)> = vec![
            (node("a", "Relu", "", &["c"], &["y"]), vec![]),
            (node("a", "Sigmoid", "", &["c"], &["y"]), vec![]),
            (
                alpha(node("a", "LeakyRelu", "", &["c"], &["y"]), 0.1),
                vec![0.1],
            ),
            (node("a", "HardSigmoid", "", &["c"], &["y"]), vec![0.2, 0.5]),
            (
                node("a", "Clip", "", &["c", "lo", "hi"], &["y"]),
                vec![0.0, 6.0],
            ),
            (
                node("a", "Clip", "", &["c", "", "hi"], &["y"]),
                vec![f32::MIN, 6.0],
            ),
        ];
        for (act, params) in cases {
            let op = act.op_type.clone();
            let m = conv_then(act, GraphOptimization::Extended, none);
            let g = m.graph.as_ref().unwrap();
            assert_eq!(g.node.len(), 1, "{op}");
            let f = &g.node[0];
            assert_eq!(
                (f.op_type.as_str(), f.domain.as_str()),
                ("FusedConv", "com.microsoft")
            );
            assert_eq!(f.input, ["x", "w"]);
            assert_eq!(f.output, ["y"]);
            let attr = |name: &str| f.attribute.iter().find(|a| a.name == name);
            assert_eq!(attr("activation").unwrap().s, op.as_bytes());
            assert_eq!(
                attr("activation_params").map_or(vec![], |a| a.floats.clone()),
                params
            );
            assert!(m
                .opset_import
                .iter()
                .any(|o| o.domain == "com.microsoft" && o.version == 1));
        }
    }

    #[test]
    fn pairs_fused_conv_does_not_compute_stay() {
        let none = |_: &mut ModelProto| {};
        let ops = |m: &ModelProto| -> Vec<String> {
            m.graph
                .as_ref()
                .unwrap()
                .node
                .iter()
                .map(|n| n.op_type.clone())
                .collect()
        };
        let relu = || node("a", "Relu", "", &["c"], &["y"]);
        assert_eq!(
            ops(&conv_then(relu(), GraphOptimization::Basic, none)),
            ["Conv", "Relu"]
        );
        let mut off = GraphOptimizer::new(GraphOptimization::Extended);
        off.disable(Rewrite::ConvActivation);
        assert_eq!(
            ops(&conv_then(relu(), off, none)),
            ["Conv", "Relu"],
            "conv-activation turned off"
        );
        let softplus = node("a", "Softplus", "", &["c"], &["y"]);
        assert_eq!(
            ops(&conv_then(softplus, GraphOptimization::Extended, none)),
            ["Conv", "Softplus"]
        );
        let fed = |m: &mut ModelProto| {
            m.graph
                .as_mut()
                .unwrap()
                .input
                .push(shaped_vi("hi", 1, &[]))
        };
        let clip = node("a", "Clip", "", &["c", "lo", "hi"], &["y"]);
        assert_eq!(
            ops(&conv_then(clip, GraphOptimization::Extended, fed)),
            ["Conv", "Clip"],
            "a bound fed at run time"
        );
        let conv_out =
            |m: &mut ModelProto| m.graph.as_mut().unwrap().output.push(tensor_vi("c", 1));
        assert_eq!(
            ops(&conv_then(relu(), GraphOptimization::Extended, conv_out)),
            ["Conv", "Relu"],
            "Conv output observed"
        );
        let doubles = |m: &mut ModelProto| {
            m.graph.as_mut().unwrap().input = vec![shaped_vi("x", 11, &[1, 2, 4, 4])]
        };
        assert_eq!(
            ops(&conv_then(relu(), GraphOptimization::Extended, doubles)),
            ["Conv", "Relu"],
            "double"
        );
        let m = conv_then(relu(), GraphOptimization::Basic, none);
        assert!(!m.opset_import.iter().any(|o| o.domain == "com.microsoft"));
    }

    #[test]
    fn gemm_and_its_activation_become_fused_gemm() {
        let gemm = |act: NodeProto| {
            let mut m = float_model(vec![node("g", "Gemm", "", &["x", "w"], &["g"]), act]);
            let g = m.graph.as_mut().unwrap();
            g.input = vec![shaped_vi("x", 1, &[2, 3])];
            g.initializer = vec![float("w", &[3, 4], 0.5)];
            optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Extended);
            m.graph.unwrap().node
        };
        let nodes = gemm(alpha(node("a", "LeakyRelu", "", &["g"], &["y"]), 0.3));
        assert_eq!(nodes.len(), 1);
        assert_eq!(
            (nodes[0].op_type.as_str(), nodes[0].domain.as_str()),
            ("FusedGemm", "com.microsoft")
        );
        let attr = |name: &str| nodes[0].attribute.iter().find(|a| a.name == name).cloned();
        assert_eq!(attr("activation").unwrap().s, b"LeakyRelu");
        assert_eq!(attr("activation_alpha").unwrap().f, 0.3);
        let clip = gemm(node("a", "Clip", "", &["g"], &["y"]));
        assert_eq!(clip.len(), 2, "FusedGemm does not clip");
    }
}
