//! Element types of a graph's values: what the model states (inputs, outputs, `value_info`,
//! initializers) and what follows from the operator that computes a value (a comparison is
//! bool, `Shape` is int64, `Cast` is its `to`, an element-wise operator keeps its input's
//! type). Unknown operators leave their outputs unknown; nothing is guessed.

use super::super::node::{attr, in_onnx};
use super::super::value::dtype;
use crate::model::onnx::{type_proto, GraphProto, NodeProto, ValueInfoProto};
use std::collections::{HashMap, HashSet};

/// How an operator's outputs get their element type.
enum Rule {
    /// Output 0 has the type of input `usize`.
    Input(usize),
    /// Every output has the type of input 0.
    AllAsInput,
    /// Output 0 has this type.
    Fixed(i32),
    /// Output 0 has the type the attribute `to` names.
    To,
    /// Output 0 has the type of the tensor attribute `value` (float when absent).
    ValueAttr,
}

/// Operators whose output 0 has their first input's element type.
const KEEPS_TYPE: &[&str] = &[
    "Abs",
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Ceil",
    "Clip",
    "Concat",
    "Conv",
    "ConvTranspose",
    "Cos",
    "CumSum",
    "DepthToSpace",
    "Div",
    "Dropout",
    "Einsum",
    "Elu",
    "Erf",
    "Exp",
    "Expand",
    "Flatten",
    "Floor",
    "Gather",
    "GatherElements",
    "GatherND",
    "Gelu",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "InstanceNormalization",
    "LayerNormalization",
    "LeakyRelu",
    "Log",
    "LogSoftmax",
    "LRN",
    "MatMul",
    "Max",
    "MaxPool",
    "Mean",
    "Min",
    "Mod",
    "Mul",
    "Neg",
    "Pad",
    "Pow",
    "PRelu",
    "Range",
    "Reciprocal",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSumExp",
    "ReduceMax",
    "ReduceMean",
    "ReduceMin",
    "ReduceProd",
    "ReduceSum",
    "ReduceSumSquare",
    "Relu",
    "Reshape",
    "Resize",
    "Round",
    "ScatterElements",
    "ScatterND",
    "Selu",
    "Sigmoid",
    "Sign",
    "Sin",
    "Slice",
    "Softmax",
    "Softplus",
    "Softsign",
    "SpaceToDepth",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Sum",
    "Tanh",
    "Tile",
    "Transpose",
    "Trilu",
    "Unsqueeze",
    "Upsample",
];

/// Operators whose output is bool.
const BOOLEAN: &[&str] = &[
    "And",
    "Equal",
    "Greater",
    "GreaterOrEqual",
    "IsInf",
    "IsNaN",
    "Less",
    "LessOrEqual",
    "Not",
    "Or",
    "Xor",
];

/// Operators whose output is int64.
const INT64: &[&str] = &["ArgMax", "ArgMin", "NonZero", "Shape", "Size"];

/// The contrib operators the optimizer's fusions write: each output as its first input.
const FUSED: &[&str] = &[
    "FusedConv",
    "FusedGemm",
    "FusedMatMul",
    "QuickGelu",
    "Gelu",
    "FastGelu",
    "BiasGelu",
    "SkipLayerNormalization",
    "Attention",
];

fn rule(n: &NodeProto) -> Option<Rule> {
    if n.domain == "com.microsoft" && FUSED.contains(&n.op_type.as_str()) {
        return Some(Rule::Input(0));
    }
    if !in_onnx(n) {
        return None;
    }
    let op = n.op_type.as_str();
    Some(match op {
        "Cast" => Rule::To,
        "CastLike" => Rule::Input(1),
        "Where" => Rule::Input(1),
        "ConstantOfShape" => Rule::ValueAttr,
        "Split" | "LSTM" | "GRU" | "RNN" => Rule::AllAsInput,
        _ if BOOLEAN.contains(&op) => Rule::Fixed(dtype::BOOL),
        _ if INT64.contains(&op) => Rule::Fixed(dtype::INT64),
        _ if KEEPS_TYPE.contains(&op) => Rule::Input(0),
        _ => return None,
    })
}

/// The element type `vi` states for a tensor (`None`: not a tensor, or 0, unknown).
fn stated_type(vi: &ValueInfoProto) -> Option<i32> {
    match vi.r#type.as_ref()?.value.as_ref()? {
        type_proto::Value::TensorType(t) if t.elem_type != 0 => Some(t.elem_type),
        _ => None,
    }
}

/// The types of an `If`'s outputs, from its branches (what a branch states for an output, else
/// what its operators fix), `outer` holding the types of the values the branches may read.
fn branch_output_types(n: &NodeProto, outer: &HashMap<String, i32>) -> Vec<Option<i32>> {
    let branches: Vec<&GraphProto> = ["then_branch", "else_branch"]
        .iter()
        .filter_map(|b| attr(n, b).and_then(|a| a.g.as_ref()))
        .collect();
    let mut types: Vec<Option<i32>> = vec![None; n.output.len()];
    for b in branches {
        if types.iter().all(Option::is_some) {
            break;
        }
        let known = elem_types(b, outer);
        for (t, vi) in types.iter_mut().zip(&b.output) {
            *t = t.or_else(|| known.get(&vi.name).copied().filter(|&t| t != 0));
        }
    }
    types
}

/// Element types of `g`'s values that the model states or its operators fix (0: unknown, not
/// recorded), with `outer`, the types of the enclosing graphs' values, which `g` may read.
pub(in crate::optimize) fn elem_types(
    g: &GraphProto,
    outer: &HashMap<String, i32>,
) -> HashMap<String, i32> {
    let mut out = outer.clone();
    let mut stated = HashSet::new();
    for vi in g.input.iter().chain(&g.value_info).chain(&g.output) {
        if let Some(t) = stated_type(vi) {
            out.insert(vi.name.clone(), t);
            stated.insert(vi.name.as_str());
        }
    }
    for t in &g.initializer {
        out.insert(t.name.clone(), t.data_type);
    }
    for n in &g.node {
        if in_onnx(n) && n.op_type == "If" {
            let types = branch_output_types(n, &out);
            for (o, t) in n.output.iter().zip(types) {
                if let Some(t) = t.filter(|_| !stated.contains(o.as_str())) {
                    out.insert(o.clone(), t);
                }
            }
            continue;
        }
        let Some(rule) = rule(n) else { continue };
        let (outputs, ty) = match rule {
            Rule::Input(i) => (1, n.input.get(i).and_then(|i| out.get(i)).copied()),
            Rule::AllAsInput => (
                n.output.len(),
                n.input.first().and_then(|i| out.get(i)).copied(),
            ),
            Rule::Fixed(t) => (1, Some(t)),
            Rule::To => (1, attr(n, "to").map(|a| a.i as i32)),
            Rule::ValueAttr => (
                1,
                Some(
                    attr(n, "value")
                        .and_then(|a| a.t.as_ref())
                        .map_or(dtype::FLOAT, |t| t.data_type),
                ),
            ),
        };
        let Some(ty) = ty.filter(|&t| t != 0) else {
            continue;
        };
        for o in n.output.iter().take(outputs).filter(|o| !o.is_empty()) {
            if !stated.contains(o.as_str()) {
                out.insert(o.clone(), ty);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::support::onnx_protos::{float_model, node};

    #[test]
    fn types_follow_from_the_operators() {
        let mut m = float_model(vec![
            node("s", "Shape", "", &["x"], &["shape"]),
            node("e", "Equal", "", &["shape", "shape"], &["same"]),
            node("n", "Not", "", &["same"], &["differ"]),
            node("r", "Relu", "", &["x"], &["relu"]),
            node("p", "MaxPool", "", &["relu"], &["pooled", "indices"]),
            node("l", "LSTM", "", &["x", "w", "r"], &["y", "y_h", "y_c"]),
            node("u", "Unknown", "", &["x"], &["mystery"]),
            node("m", "Mystery", "com.example", &["x"], &["custom"]),
        ]);
        m.graph.as_mut().unwrap().node[0].input = vec!["x".into()];
        let types = elem_types(m.graph.as_ref().unwrap(), &HashMap::new());
        let ty = |name: &str| types.get(name).copied();
        assert_eq!(ty("x"), Some(dtype::FLOAT));
        assert_eq!(ty("shape"), Some(dtype::INT64));
        assert_eq!(ty("same"), Some(dtype::BOOL));
        assert_eq!(ty("differ"), Some(dtype::BOOL));
        assert_eq!(ty("pooled"), Some(dtype::FLOAT));
        assert_eq!(
            ty("indices"),
            None,
            "MaxPool's indices are not its input's type"
        );
        assert_eq!(ty("y_c"), Some(dtype::FLOAT));
        assert_eq!(ty("mystery"), None);
        assert_eq!(ty("custom"), None);
    }

    #[test]
    fn an_if_has_the_types_of_its_branches_outputs() {
        use crate::tests::support::onnx_protos::{if_node, tensor_vi};
        let branch = |b: &str| GraphProto {
            node: vec![node(b, "Shape", "", &["x"], &[b])],
            output: vec![tensor_vi(b, dtype::INT64)],
            ..Default::default()
        };
        let m = float_model(vec![if_node("cond", branch)]);
        let types = elem_types(m.graph.as_ref().unwrap(), &HashMap::new());
        assert_eq!(
            types.get("y"),
            Some(&dtype::FLOAT),
            "the graph output's stated type wins"
        );
        let mut m = m;
        m.graph.as_mut().unwrap().output.clear();
        let types = elem_types(m.graph.as_ref().unwrap(), &HashMap::new());
        assert_eq!(types.get("y"), Some(&dtype::INT64));
        // Not stated: what the branch's operators fix.
        let unstated = |b: &str| GraphProto {
            output: vec![tensor_vi(b, 0)],
            ..branch(b)
        };
        let mut m = float_model(vec![if_node("cond", unstated)]);
        m.graph.as_mut().unwrap().output.clear();
        let types = elem_types(m.graph.as_ref().unwrap(), &HashMap::new());
        assert_eq!(types.get("y"), Some(&dtype::INT64));
    }
}
