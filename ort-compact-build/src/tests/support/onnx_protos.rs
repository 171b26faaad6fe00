//! Small builders for hand-made ONNX models in tests.

use crate::model::onnx::{
    tensor_shape_proto, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// A float32 initializer `name` of shape `dims`, every element `v`.
pub fn filled(name: &str, dims: &[i64], v: f32) -> TensorProto {
    let n = dims.iter().product::<i64>() as usize;
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        raw_data: std::iter::repeat_n(v.to_le_bytes(), n).flatten().collect(),
        ..Default::default()
    }
}

/// An int64 initializer `name` of shape `[v.len()]` holding `v`.
pub fn int64s(name: &str, v: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        data_type: 7,
        dims: vec![v.len() as i64],
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

/// A tensor value of element type `elem_type` (ONNX `TensorProto.DataType`), shape unknown.
pub fn tensor_vi(name: &str, elem_type: i32) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type,
                shape: None,
            })),
            denotation: String::new(),
        }),
        ..Default::default()
    }
}

/// A tensor value of element type `elem_type` and shape `dims` (a negative dimension is a named
/// one of unknown size).
pub fn shaped_vi(name: &str, elem_type: i32, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| tensor_shape_proto::Dimension {
            value: Some(match d {
                d if d >= 0 => tensor_shape_proto::dimension::Value::DimValue(d),
                _ => tensor_shape_proto::dimension::Value::DimParam("n".into()),
            }),
            denotation: String::new(),
        })
        .collect();
    let mut vi = tensor_vi(name, elem_type);
    if let Some(type_proto::Value::TensorType(t)) =
        vi.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.shape = Some(TensorShapeProto { dim });
    }
    vi
}

/// A node `op` (in `domain`, `""` for ai.onnx) named `name`.
pub fn node(name: &str, op: &str, domain: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op.into(),
        domain: domain.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// A model at ai.onnx opset 17 whose graph runs `nodes` from the float input `x` to the float
/// output `y`.
pub fn float_model(nodes: Vec<NodeProto>) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(GraphProto {
            name: "g".into(),
            node: nodes,
            input: vec![tensor_vi("x", 1)],
            output: vec![tensor_vi("y", 1)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An `If` on `cond` producing `y`, with the branches `branch("t")` and `branch("e")`.
pub fn if_node(cond: &str, branch: impl Fn(&str) -> GraphProto) -> NodeProto {
    let mut n = node("if", "If", "", &[cond], &["y"]);
    for (attr, g) in [("then_branch", "t"), ("else_branch", "e")] {
        n.attribute.push(AttributeProto {
            name: attr.into(),
            r#type: 5,
            g: Some(branch(g)),
            ..Default::default()
        });
    }
    n
}

/// The nodes of [`float_model`]`(nodes)` with `inputs` and `initializers`, changed by `edit`,
/// after the graph optimizer ran `level` on it.
pub fn optimized_nodes(
    nodes: Vec<NodeProto>,
    inputs: Vec<ValueInfoProto>,
    initializers: Vec<TensorProto>,
    level: impl Into<crate::optimize::GraphOptimizer>,
    edit: &dyn Fn(&mut ModelProto),
) -> Vec<NodeProto> {
    let mut m = float_model(nodes);
    let g = m.graph.as_mut().unwrap();
    g.input = inputs;
    g.initializer = initializers;
    edit(&mut m);
    crate::optimize::optimize(&mut m, std::path::Path::new("m.onnx"), level);
    m.graph.unwrap().node
}
