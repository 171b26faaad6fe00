//! Scopes: what a subgraph takes from enclosing graphs, and the types its inputs get when it does
//! not declare them (If/Loop/Scan/SequenceMap bodies).

use super::types::{sequence_elem, tensor_elem, tensor_type};
use crate::model::onnx::{tensor_shape_proto, type_proto, NodeProto, TensorShapeProto, TypeProto};
pub(crate) use crate::model::{free_vars, subgraphs_of};

/// A tensor type with fixed dimensions.
pub(crate) fn shaped_tensor_type(elem_type: i32, dims: &[i64]) -> TypeProto {
    let mut t = tensor_type(elem_type);
    if let Some(type_proto::Value::TensorType(tt)) = &mut t.value {
        tt.shape = Some(TensorShapeProto {
            dim: dims
                .iter()
                .map(|d| tensor_shape_proto::Dimension {
                    value: Some(tensor_shape_proto::dimension::Value::DimValue(*d)),
                    denotation: String::new(),
                })
                .collect(),
        });
    }
    t
}

/// Type hints for a subgraph's inputs when the subgraph does not declare them.
pub(crate) fn subgraph_input_hints(
    node: &NodeProto,
    attr_name: &str,
    input_types: &[Option<&TypeProto>],
) -> Vec<Option<TypeProto>> {
    let ty = |i: usize| input_types.get(i).copied().flatten().cloned();
    match (node.op_type.as_str(), attr_name) {
        ("Loop", "body") => {
            let mut v = vec![
                Some(shaped_tensor_type(7, &[])),
                Some(shaped_tensor_type(9, &[])),
            ];
            v.extend((2..node.input.len()).map(ty));
            v
        }
        ("Scan", "body") => {
            let m = node
                .attribute
                .iter()
                .find(|a| a.name == "num_scan_inputs")
                .map(|a| a.i)
                .unwrap_or(0);
            let m = usize::try_from(m).unwrap_or(0);
            let n_state = node.input.len().saturating_sub(m);
            (0..node.input.len())
                .map(|i| {
                    let t = ty(i)?;
                    if i < n_state {
                        Some(t)
                    } else {
                        tensor_elem(&t).map(tensor_type)
                    }
                })
                .collect()
        }
        ("SequenceMap", _) => (0..node.input.len())
            .map(|i| {
                let t = ty(i)?;
                Some(sequence_elem(&t).cloned().unwrap_or(t))
            })
            .collect(),
        _ => Vec::new(),
    }
}
