//! A model's inputs and outputs (names, element types, dimensions), read from its `.ort` form.
//! Used for synthesised verification inputs, the manifest and generated Rust code.

use crate::error::{Error, Result};
use crate::model::ort::{Dim, TypeValue};
use crate::model::OrtModel;
use serde::Serialize;
use std::collections::HashSet;

/// One dimension: a fixed size or a symbolic name (`None` name and size: unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Dimension {
    /// Fixed size.
    Fixed(i64),
    /// Symbolic (e.g. `"N"`), or `""` when unknown.
    Symbolic(String),
}

/// A tensor input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorSignature {
    /// Name in the graph.
    pub name: String,
    /// ONNX element type code (`TensorProto.DataType`).
    pub elem_type: i32,
    /// Dimensions (empty for a scalar).
    pub dims: Vec<Dimension>,
}

impl TensorSignature {
    /// Concrete dimensions, symbolic and unknown ones as 1.
    pub fn concrete_dims(&self) -> Vec<i64> {
        self.dims
            .iter()
            .map(|d| match d {
                Dimension::Fixed(v) if *v >= 0 => *v,
                _ => 1,
            })
            .collect()
    }
}

/// Inputs (initializers excluded) and outputs of a model's main graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// Graph inputs that are not initializers.
    pub inputs: Vec<TensorSignature>,
    /// Graph outputs.
    pub outputs: Vec<TensorSignature>,
}

/// The signature of an ORT-format model.
pub fn of_ort(model: &OrtModel) -> Result<Signature> {
    let bad = |reason: &str| Error::InvalidOrtFormat {
        path: model.path().to_path_buf(),
        reason: reason.to_string(),
    };
    let graph = model
        .model()
        .and_then(|m| m.graph())
        .ok_or_else(|| bad("the model has no graph"))?;
    let initializers: HashSet<&str> = graph.initializers().map(|t| t.name()).collect();
    let args: Vec<_> = graph.node_args().collect();
    let describe = |name: &str| -> Result<TensorSignature> {
        let arg = args.iter().find(|a| a.name() == name).ok_or_else(|| {
            bad(&format!(
                "graph input/output '{name}' has no type information"
            ))
        })?;
        let TypeValue::Tensor(t) = arg.type_info().map_or(TypeValue::None, |t| t.value()) else {
            return Err(bad(&format!(
                "graph input/output '{name}' is not a tensor; only tensor inputs and outputs are supported"
            )));
        };
        let dims = t
            .shape()
            .map(|s| {
                s.dims()
                    .into_iter()
                    .map(|d| match d {
                        Dim::Value(v) => Dimension::Fixed(v),
                        Dim::Param(p) => Dimension::Symbolic(p.to_string()),
                        Dim::Unknown => Dimension::Symbolic(String::new()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(TensorSignature {
            name: name.to_string(),
            elem_type: t.elem_type(),
            dims,
        })
    };
    let inputs = graph
        .inputs()
        .into_iter()
        .filter(|n| !initializers.contains(n))
        .map(describe)
        .collect::<Result<Vec<_>>>()?;
    let outputs = graph
        .outputs()
        .into_iter()
        .map(describe)
        .collect::<Result<Vec<_>>>()?;
    Ok(Signature { inputs, outputs })
}
