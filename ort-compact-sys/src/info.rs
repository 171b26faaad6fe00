//! [`ValueInfo`]: what a model says about one of its inputs or outputs, and the checks of run
//! arguments against it (pure Rust, so they are tested without a runtime).

use crate::element::ElementType;
use crate::error::{Error, Result};
use crate::tensor::Input;

/// One dimension of a declared shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// Decided at run time; the symbolic name if the model has one (e.g. `"N"`).
    Dynamic(Option<String>),
}

/// A model input or output as declared by the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueInfo {
    pub(crate) name: String,
    pub(crate) is_tensor: bool,
    pub(crate) element_type: ElementType,
    pub(crate) dims: Vec<Dim>,
}

impl ValueInfo {
    /// A tensor description (mainly for tests and generated code).
    pub fn tensor(name: impl Into<String>, element_type: ElementType, dims: Vec<Dim>) -> Self {
        ValueInfo {
            name: name.into(),
            is_tensor: true,
            element_type,
            dims,
        }
    }

    /// The name in the graph.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// False for sequences, maps and optional values.
    pub fn is_tensor(&self) -> bool {
        self.is_tensor
    }

    /// The element type (for tensors).
    pub fn element_type(&self) -> ElementType {
        self.element_type
    }

    /// The declared dimensions (empty for a scalar or an undeclared shape).
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// Check a run argument against this input: tensor kind, element type, rank and fixed
    /// dimensions. A declared rank of 0 is not enforced here (ONNX Runtime cannot tell a scalar
    /// from an undeclared shape in its C API; it checks scalars itself during the run).
    pub fn check(&self, input: &Input<'_>) -> Result<()> {
        if !self.is_tensor {
            return Err(Error::NotATensor(self.name.clone()));
        }
        if input.element_type != self.element_type {
            return Err(Error::ElementType {
                name: self.name.clone(),
                expected: self.element_type,
                actual: input.element_type,
            });
        }
        if self.dims.is_empty() {
            return Ok(());
        }
        if input.shape.len() != self.dims.len() {
            return Err(Error::Rank {
                name: self.name.clone(),
                expected: self.dims.len(),
                shape: input.shape.to_vec(),
            });
        }
        for (axis, (dim, &given)) in self.dims.iter().zip(input.shape).enumerate() {
            if let Dim::Fixed(expected) = *dim {
                if expected >= 0 && expected != given {
                    return Err(Error::Dimension {
                        name: self.name.clone(),
                        axis,
                        expected,
                        shape: input.shape.to_vec(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Match run arguments to the model's inputs: every name known and given once, every input
/// given, each argument checked. Returns, per argument, the index of its model input.
pub(crate) fn match_inputs(model: &[ValueInfo], given: &[(&str, Input<'_>)]) -> Result<Vec<usize>> {
    let mut seen = vec![false; model.len()];
    let mut order = Vec::with_capacity(given.len());
    for (name, input) in given {
        let index =
            model
                .iter()
                .position(|i| i.name == *name)
                .ok_or_else(|| Error::UnknownInput {
                    name: name.to_string(),
                    known: model.iter().map(|i| i.name.clone()).collect(),
                })?;
        if std::mem::replace(&mut seen[index], true) {
            return Err(Error::DuplicateInput(name.to_string()));
        }
        model[index].check(input)?;
        order.push(index);
    }
    let missing: Vec<String> = model
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingInputs {
            given: given.len(),
            expected: model.len(),
            missing,
        });
    }
    Ok(order)
}

/// Indices of the requested outputs (all of them for `None`).
pub(crate) fn match_outputs(model: &[ValueInfo], requested: Option<&[&str]>) -> Result<Vec<usize>> {
    let Some(requested) = requested else {
        return Ok((0..model.len()).collect());
    };
    requested
        .iter()
        .map(|name| {
            model
                .iter()
                .position(|o| o.name == *name)
                .ok_or_else(|| Error::UnknownOutput {
                    name: name.to_string(),
                    known: model.iter().map(|o| o.name.clone()).collect(),
                })
        })
        .collect()
}

/// Check that `bytes` are an ORT-format model (flatbuffer file identifier `ORTM`).
pub fn check_ort_format(bytes: &[u8]) -> Result<()> {
    let reason = if bytes.is_empty() {
        "they are empty".to_string()
    } else if bytes.len() < 8 {
        format!("only {} byte(s)", bytes.len())
    } else if bytes.get(4..8) == Some(b"ORTM".as_slice()) {
        return Ok(());
    } else if bytes.first() == Some(&0x08) {
        "they look like an ONNX protobuf model (.onnx), which this minimal runtime cannot load"
            .to_string()
    } else {
        "the flatbuffer file identifier 'ORTM' is missing".to_string()
    };
    Err(Error::NotOrtFormat { reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::TensorRef;

    fn model() -> Vec<ValueInfo> {
        vec![
            ValueInfo::tensor(
                "input",
                ElementType::F32,
                vec![Dim::Dynamic(Some("N".into())), Dim::Fixed(4)],
            ),
            ValueInfo::tensor("sr", ElementType::I64, vec![]),
        ]
    }

    #[test]
    fn good_inputs_match_in_any_order() {
        let x = [0f32; 8];
        let x = TensorRef::new(&[2, 4], &x).unwrap();
        let sr = [16000i64];
        let sr = TensorRef::new(&[], &sr).unwrap();
        let order = match_inputs(&model(), &[("sr", sr.into()), ("input", x.into())]).unwrap();
        assert_eq!(order, vec![1, 0]);
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let m = model();
        let x = [0f32; 8];
        let good = TensorRef::new(&[2, 4], &x).unwrap().input();
        let sr = [16000i64];
        let sr = TensorRef::new(&[], &sr).unwrap().input();

        let e = match_inputs(&m, &[("inputs", good), ("sr", sr)]).unwrap_err();
        assert!(matches!(e, Error::UnknownInput { .. }), "{e}");
        assert!(e.to_string().contains("\"inputs\""), "{e}");
        assert!(e.to_string().contains("[\"input\", \"sr\"]"), "{e}");

        let e = match_inputs(&m, &[("input", good)]).unwrap_err();
        assert!(e.to_string().contains("2 input(s) but 1 were given"), "{e}");
        assert!(e.to_string().contains("sr"), "{e}");

        let e = match_inputs(&m, &[("input", good), ("input", good)]).unwrap_err();
        assert_eq!(e, Error::DuplicateInput("input".into()));

        let xi = [0i32; 8];
        let wrong_type = TensorRef::new(&[2, 4], &xi).unwrap().input();
        let e = match_inputs(&m, &[("input", wrong_type), ("sr", sr)]).unwrap_err();
        assert!(e.to_string().contains("element type i32, but f32"), "{e}");

        let wrong_rank = TensorRef::new(&[8], &x).unwrap().input();
        let e = match_inputs(&m, &[("input", wrong_rank), ("sr", sr)]).unwrap_err();
        assert!(matches!(e, Error::Rank { expected: 2, .. }), "{e}");

        let wrong_dim = TensorRef::new(&[4, 2], &x).unwrap().input();
        let e = match_inputs(&m, &[("input", wrong_dim), ("sr", sr)]).unwrap_err();
        assert!(e.to_string().contains("fixes axis 1 to 4"), "{e}");
    }

    #[test]
    fn outputs_are_matched_by_name() {
        let m = model();
        assert_eq!(match_outputs(&m, None).unwrap(), vec![0, 1]);
        assert_eq!(match_outputs(&m, Some(&["sr"])).unwrap(), vec![1]);
        let e = match_outputs(&m, Some(&["nope"])).unwrap_err();
        assert!(matches!(e, Error::UnknownOutput { .. }), "{e}");
    }

    #[test]
    fn model_bytes_must_be_ort_format() {
        let mut ort = vec![0x10, 0, 0, 0];
        ort.extend_from_slice(b"ORTM");
        assert!(check_ort_format(&ort).is_ok());
        for (bytes, text) in [
            (&b""[..], "empty"),
            (&b"ORT"[..], "3 byte(s)"),
            (&[0x08, 0x07, 0x12, 0x04, 0, 0, 0, 0][..], "ONNX protobuf"),
            (&b"not a model at all"[..], "'ORTM' is missing"),
        ] {
            let e = check_ort_format(bytes).unwrap_err();
            assert!(e.to_string().contains(text), "{e}");
            assert!(e.to_string().contains("not an ORT-format model"), "{e}");
        }
    }
}
