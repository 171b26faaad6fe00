//! [`Outputs`]: the named results of a run.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::{DynTensor, Tensor};

/// A run's outputs, in the order requested, looked up by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outputs {
    entries: Vec<(String, DynTensor)>,
}

impl Outputs {
    pub(crate) fn new(entries: Vec<(String, DynTensor)>) -> Self {
        Outputs { entries }
    }

    /// Number of outputs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The output names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `(name, tensor)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DynTensor)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// The output called `name`.
    pub fn get(&self, name: &str) -> Result<&DynTensor> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
            .ok_or_else(|| self.unknown(name))
    }

    /// The output called `name` as a tensor of `T`.
    pub fn tensor<T: Element>(&self, name: &str) -> Result<&Tensor<T>> {
        let t = self.get(name)?;
        t.as_tensor::<T>().ok_or_else(|| Error::ElementType {
            name: name.to_string(),
            expected: T::TYPE,
            actual: t.element_type(),
        })
    }

    /// Remove the output called `name` and return it as a tensor of `T` (no copy).
    pub fn take<T: Element>(&mut self, name: &str) -> Result<Tensor<T>> {
        let index = self
            .entries
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| self.unknown(name))?;
        let (n, t) = self.entries.remove(index);
        match t.into_tensor::<T>() {
            Ok(t) => Ok(t),
            Err(t) => {
                let actual = t.element_type();
                self.entries.insert(index, (n, t));
                Err(Error::ElementType {
                    name: name.to_string(),
                    expected: T::TYPE,
                    actual,
                })
            }
        }
    }

    fn unknown(&self, name: &str) -> Error {
        Error::UnknownOutput {
            name: name.to_string(),
            known: self.names().map(str::to_string).collect(),
        }
    }
}

impl IntoIterator for Outputs {
    type Item = (String, DynTensor);
    type IntoIter = std::vec::IntoIter<(String, DynTensor)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::ElementType;

    #[test]
    fn lookup_by_name_and_type() {
        let mut o = Outputs::new(vec![
            ("label".into(), Tensor::new([1], vec![2i64]).unwrap().into()),
            (
                "prob".into(),
                Tensor::new([1, 2], vec![0.25f32, 0.75]).unwrap().into(),
            ),
        ]);
        assert_eq!(o.names().collect::<Vec<_>>(), ["label", "prob"]);
        assert_eq!(o.tensor::<f32>("prob").unwrap().data(), &[0.25, 0.75]);
        let e = o.tensor::<f64>("prob").unwrap_err();
        assert_eq!(
            e,
            Error::ElementType {
                name: "prob".into(),
                expected: ElementType::F64,
                actual: ElementType::F32
            }
        );
        assert!(o.take::<f32>("label").is_err());
        assert_eq!(o.len(), 2, "a failed take keeps the output");
        assert_eq!(o.take::<i64>("label").unwrap().data(), &[2]);
        let e = o.get("label").unwrap_err();
        assert!(e.to_string().contains("[\"prob\"]"), "{e}");
    }
}
