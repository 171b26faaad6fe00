//! Expansions of `NegativeLogLikelihoodLoss` and `SoftmaxCrossEntropyLoss` (opset ≥ 13) into
//! primitive operators that have ONNX Runtime 1.21.0 CPU kernels.
//!
//! ONNX defines both with context-dependent function bodies and ORT has no CPU kernels for
//! them: it expands them when it loads an `.onnx`. These expansions compute the operators as
//! the ONNX specification defines them:
//!
//! `NLL(input[N,C,d…], target[N,d…], weight[C]?)`: per element `-input[n, t, d…] · w[t]`
//! (`w = 1` without weights), `0` where `t == ignore_index`; reduced by `none`, `sum`, or
//! `mean` = Σ loss / Σ w[t] over the non-ignored elements.
//! `SCE(scores, labels, weights?)` = `NLL(LogSoftmax(scores, axis = 1), labels, weights?)`,
//! with the log-probabilities as optional second output.
//!
//! Typed constants use `CastLike`, which graph preparation turns into `Cast`.

use crate::model::onnx::{attribute_proto::AttributeType, AttributeProto, NodeProto, TensorProto};

/// Builds nodes with unique value names under a prefix.
struct Builder<'p> {
    prefix: &'p str,
    nodes: Vec<NodeProto>,
}

impl Builder<'_> {
    fn value(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) {
        let k = self.nodes.len();
        self.nodes.push(NodeProto {
            name: format!("{}{k}_{op}", self.prefix),
            op_type: op.to_string(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            attribute: attrs,
            ..Default::default()
        });
    }

    /// A fresh value computed by `op`.
    fn op(&mut self, op: &str, inputs: &[&str], name: &str, attrs: Vec<AttributeProto>) -> String {
        let out = self.value(name);
        self.node(op, inputs, &out, attrs);
        out
    }

    fn int64_constant(&mut self, name: &str, values: &[i64], dims: Vec<i64>) -> String {
        let tensor = TensorProto {
            name: String::new(),
            data_type: 7,
            dims,
            int64_data: values.to_vec(),
            ..Default::default()
        };
        self.op("Constant", &[], name, vec![tensor_attr("value", tensor)])
    }

    fn float_constant(&mut self, name: &str, value: f32) -> String {
        let tensor = TensorProto {
            name: String::new(),
            data_type: 1,
            dims: vec![],
            float_data: vec![value],
            ..Default::default()
        };
        self.op("Constant", &[], name, vec![tensor_attr("value", tensor)])
    }
}

fn tensor_attr(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Tensor as i32,
        t: Some(t),
        ..Default::default()
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Int as i32,
        i,
        ..Default::default()
    }
}

fn string_attr(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::String as i32,
        s: s.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn reduction(n: &NodeProto) -> String {
    n.attribute
        .iter()
        .find(|a| a.name == "reduction")
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_else(|| "mean".to_string())
}

fn ignore_index(n: &NodeProto) -> Option<i64> {
    n.attribute
        .iter()
        .find(|a| a.name == "ignore_index")
        .map(|a| a.i)
}

fn input(n: &NodeProto, i: usize) -> Option<&str> {
    n.input.get(i).map(String::as_str).filter(|s| !s.is_empty())
}

/// Whether this expansion handles the node at the model's ai.onnx `opset`.
pub(crate) fn handles(n: &NodeProto, opset: i64) -> bool {
    matches!(
        n.op_type.as_str(),
        "NegativeLogLikelihoodLoss" | "SoftmaxCrossEntropyLoss"
    ) && opset >= 13
        && matches!(reduction(n).as_str(), "none" | "sum" | "mean")
        && input(n, 0).is_some()
        && input(n, 1).is_some()
}

/// The nodes replacing `n` (which [`handles`] accepted); value names start with `prefix`.
pub(crate) fn expand(n: &NodeProto, prefix: &str) -> Vec<NodeProto> {
    let mut b = Builder {
        prefix,
        nodes: Vec::new(),
    };
    let (Some(x), Some(target)) = (input(n, 0), input(n, 1)) else {
        return Vec::new();
    };
    let loss_out = n.output.first().cloned().unwrap_or_default();
    if n.op_type == "SoftmaxCrossEntropyLoss" {
        let log_prob = match n.output.get(1).filter(|s| !s.is_empty()) {
            Some(name) => name.clone(),
            None => b.value("log_prob"),
        };
        b.node("LogSoftmax", &[x], &log_prob, vec![int_attr("axis", 1)]);
        let mut attrs = vec![string_attr("reduction", &reduction(n))];
        if let Some(ii) = ignore_index(n) {
            attrs.push(int_attr("ignore_index", ii));
        }
        let mut inputs = vec![log_prob, target.to_string()];
        if let Some(w) = input(n, 2) {
            inputs.push(w.to_string());
        }
        b.nodes.push(NodeProto {
            name: format!("{prefix}nll"),
            op_type: "NegativeLogLikelihoodLoss".to_string(),
            input: inputs,
            output: vec![loss_out],
            attribute: attrs,
            ..Default::default()
        });
        return b.nodes;
    }
    nll(
        &mut b,
        x,
        target,
        input(n, 2),
        ignore_index(n),
        &reduction(n),
        &loss_out,
    );
    b.nodes
}

fn nll(
    b: &mut Builder<'_>,
    x: &str,
    target: &str,
    weight: Option<&str>,
    ignore: Option<i64>,
    reduction: &str,
    out: &str,
) {
    let axis1 = b.int64_constant("axis1", &[1], vec![1]);
    let t1 = b.op("Unsqueeze", &[target, &axis1], "target_n1", vec![]);
    // Ignored positions: mask, and a safe class index (0) to gather with.
    let (mask, safe_t1) = match ignore {
        Some(ii) => {
            let ii64 = b.int64_constant("ignore_index_i64", &[ii], vec![]);
            let ii_t = b.op("CastLike", &[&ii64, target], "ignore_index", vec![]);
            let mask = b.op("Equal", &[&t1, &ii_t], "mask_n1", vec![]);
            let zeros = b.op("Sub", &[&t1, &t1], "zero_target", vec![]);
            let safe = b.op("Where", &[&mask, &zeros, &t1], "safe_target_n1", vec![]);
            (Some(mask), safe)
        }
        None => (None, t1),
    };
    let picked = b.op(
        "GatherElements",
        &[x, &safe_t1],
        "picked_n1",
        vec![int_attr("axis", 1)],
    );
    let neg = b.op("Neg", &[&picked], "neg_n1", vec![]);
    let loss = b.op("Squeeze", &[&neg, &axis1], "loss_unweighted", vec![]);
    let mask = mask.map(|m| b.op("Squeeze", &[&m, &axis1], "mask", vec![]));
    // Per-element weights (None when all are 1).
    let w = match (weight, &mask) {
        (Some(weight), _) => {
            let safe_t = b.op("Squeeze", &[&safe_t1, &axis1], "safe_target", vec![]);
            let wg = b.op("Gather", &[weight, &safe_t], "weight_gathered", vec![]);
            Some(match &mask {
                Some(m) => {
                    let zero = b.float_constant("zero_f", 0.0);
                    let zero = b.op("CastLike", &[&zero, x], "zero", vec![]);
                    b.op("Where", &[m, &zero, &wg], "weight_masked", vec![])
                }
                None => wg,
            })
        }
        (None, Some(m)) => {
            let zero = b.float_constant("zero_f", 0.0);
            let zero = b.op("CastLike", &[&zero, x], "zero", vec![]);
            let one = b.float_constant("one_f", 1.0);
            let one = b.op("CastLike", &[&one, x], "one", vec![]);
            Some(b.op("Where", &[m, &zero, &one], "weight_mask", vec![]))
        }
        (None, None) => None,
    };
    let keep0 = || vec![int_attr("keepdims", 0)];
    match (reduction, &w) {
        ("none", None) => b.node("Identity", &[&loss], out, vec![]),
        ("none", Some(w)) => b.node("Mul", &[&loss, w], out, vec![]),
        ("sum", None) => b.node("ReduceSum", &[&loss], out, keep0()),
        ("sum", Some(w)) => {
            let weighted = b.op("Mul", &[&loss, w], "loss_weighted", vec![]);
            b.node("ReduceSum", &[&weighted], out, keep0());
        }
        (_, None) => b.node("ReduceMean", &[&loss], out, keep0()),
        (_, Some(w)) => {
            let weighted = b.op("Mul", &[&loss, w], "loss_weighted", vec![]);
            let num = b.op("ReduceSum", &[&weighted], "loss_sum", keep0());
            let den = b.op("ReduceSum", &[w], "weight_sum", keep0());
            b.node("Div", &[&num, &den], out, vec![]);
        }
    }
}
