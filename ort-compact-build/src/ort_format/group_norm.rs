//! Expansion of `GroupNormalization` (versions 18 and 21; no CPU kernel in ONNX Runtime 1.21.0,
//! which expands it from a context-dependent ONNX function).
//!
//! `X[N, C, D…]` is viewed as `[N, G, C/G·D…]`; each group is normalised with its own mean and
//! variance (computed in `stash_type`, float by default, as version 21 specifies), the result
//! gets `X`'s shape back and is scaled and shifted: per channel (`scale`, `bias` of shape `[C]`,
//! version 21) or per group (shape `[G]`, version 18).

use crate::model::onnx::{attribute_proto::AttributeType, AttributeProto, NodeProto, TensorProto};

struct Builder<'p> {
    prefix: &'p str,
    nodes: Vec<NodeProto>,
}

impl Builder<'_> {
    fn op(&mut self, op: &str, inputs: &[&str], name: &str, attrs: Vec<AttributeProto>) -> String {
        let out = format!("{}{name}", self.prefix);
        self.nodes.push(NodeProto {
            name: format!("{}{}_{op}", self.prefix, self.nodes.len()),
            op_type: op.to_string(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.clone()],
            attribute: attrs,
            ..Default::default()
        });
        out
    }

    fn constant(&mut self, name: &str, t: TensorProto) -> String {
        let attr = AttributeProto {
            name: "value".to_string(),
            r#type: AttributeType::Tensor as i32,
            t: Some(t),
            ..Default::default()
        };
        self.op("Constant", &[], name, vec![attr])
    }

    fn ints(&mut self, name: &str, values: &[i64]) -> String {
        let t = TensorProto {
            data_type: 7,
            dims: vec![values.len() as i64],
            int64_data: values.to_vec(),
            ..Default::default()
        };
        self.constant(name, t)
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

fn attr<'n>(n: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

/// The nodes replacing a `GroupNormalization` node of schema version `since` (18 or 21), or
/// `None` when it lacks inputs or `num_groups`.
pub(crate) fn expand(n: &NodeProto, since: i32, prefix: &str) -> Option<Vec<NodeProto>> {
    let x = n.input.first().filter(|s| !s.is_empty())?;
    let scale = n.input.get(1).filter(|s| !s.is_empty())?;
    let bias = n.input.get(2).filter(|s| !s.is_empty())?;
    let out = n.output.first().filter(|s| !s.is_empty())?;
    let groups = attr(n, "num_groups")?.i;
    let epsilon = attr(n, "epsilon").map(|a| a.f).unwrap_or(1e-5);
    let stash = attr(n, "stash_type").map(|a| a.i).unwrap_or(1);
    let mut b = Builder {
        prefix,
        nodes: Vec::new(),
    };
    let shape = b.op("Shape", &[x], "shape", vec![]);
    let grouped_shape = b.ints("grouped_shape", &[0, groups, -1]);
    let grouped = b.op("Reshape", &[x, &grouped_shape], "grouped", vec![]);
    let grouped = b.op(
        "Cast",
        &[&grouped],
        "grouped_stash",
        vec![int_attr("to", stash)],
    );
    let axis2 = b.ints("axis2", &[2]);
    let mean = b.op("ReduceMean", &[&grouped, &axis2], "mean", vec![]);
    let centered = b.op("Sub", &[&grouped, &mean], "centered", vec![]);
    let squared = b.op("Mul", &[&centered, &centered], "squared", vec![]);
    let var = b.op("ReduceMean", &[&squared, &axis2], "var", vec![]);
    let eps = b.constant(
        "epsilon",
        TensorProto {
            data_type: 1,
            float_data: vec![epsilon],
            ..Default::default()
        },
    );
    let eps = b.op(
        "Cast",
        &[&eps],
        "epsilon_stash",
        vec![int_attr("to", stash)],
    );
    let var_eps = b.op("Add", &[&var, &eps], "var_eps", vec![]);
    let std = b.op("Sqrt", &[&var_eps], "std", vec![]);
    let normalized = b.op("Div", &[&centered, &std], "normalized", vec![]);
    let normalized = b.op("CastLike", &[&normalized, x], "normalized_x", vec![]);
    // Per-channel (v21) or per-group (v18) affine transform on a [N, K, rest] view.
    let axis1 = b.ints("axis1", &[1]);
    let scale_k1 = b.op("Unsqueeze", &[scale, &axis1], "scale_k1", vec![]);
    let bias_k1 = b.op("Unsqueeze", &[bias, &axis1], "bias_k1", vec![]);
    let view = if since >= 21 {
        let channels_shape = b.ints("channels_shape", &[0, 0, -1]);
        let restored = b.op("Reshape", &[&normalized, &shape], "restored", vec![]);
        b.op("Reshape", &[&restored, &channels_shape], "channels", vec![])
    } else {
        normalized
    };
    let scaled = b.op("Mul", &[&view, &scale_k1], "scaled", vec![]);
    let shifted = b.op("Add", &[&scaled, &bias_k1], "shifted", vec![]);
    b.nodes.push(NodeProto {
        name: format!("{prefix}restore"),
        op_type: "Reshape".to_string(),
        input: vec![shifted, shape],
        output: vec![out.clone()],
        ..Default::default()
    });
    Some(b.nodes)
}
