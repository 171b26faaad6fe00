//! Which of ONNX Runtime's optional data-type families a set of models needs.
//!
//! ORT can be built without sparse tensors, the optional type and the float8 element types
//! (`onnxruntime_DISABLE_*`). Each costs code in the data-type registry and type dispatch even
//! when no model uses it, so the build keeps a family only when some model does.

use crate::model::ort::{Graph, TypeInfo, TypeValue};
use crate::model::{ElementType, OrtModel};

/// Operators whose kernels work on ORT's optional type.
const OPTIONAL_OPS: [&str; 3] = ["Optional", "OptionalHasElement", "OptionalGetElement"];

/// Data-type families the runtime must keep for a set of models.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeFamilies {
    /// Some graph has sparse initializers.
    pub sparse_tensors: bool,
    /// Some node is one of the `Optional*` operators.
    pub optional_type: bool,
    /// Some value or initializer has a float8 element type.
    pub float8_types: bool,
}

impl TypeFamilies {
    /// The families the given models need, subgraphs included.
    pub fn of_models(models: &[&OrtModel]) -> TypeFamilies {
        let mut found = TypeFamilies::default();
        for m in models {
            if let Some(g) = m.session().model().and_then(|m| m.graph()) {
                found.visit_graph(&g);
            }
        }
        found
    }

    fn visit_graph(&mut self, g: &Graph<'_>) {
        self.sparse_tensors |= g.sparse_initializer_count() > 0;
        for t in g.initializers() {
            self.float8_types |= is_float8(t.data_type());
        }
        for arg in g.node_args() {
            if let Some(t) = arg.type_info() {
                self.visit_type(&t);
            }
        }
        for n in g.nodes() {
            if let Some(op) = n.op_type() {
                self.optional_type |= n.domain().is_empty() && OPTIONAL_OPS.contains(&op);
            }
            for a in n.attributes() {
                if let Some(t) = a.t() {
                    self.float8_types |= is_float8(t.data_type());
                }
                for t in a.tensors() {
                    self.float8_types |= is_float8(t.data_type());
                }
                if let Some(sub) = a.g() {
                    self.visit_graph(&sub);
                }
                for sub in a.graphs() {
                    self.visit_graph(&sub);
                }
            }
        }
    }

    fn visit_type(&mut self, t: &TypeInfo<'_>) {
        match t.value() {
            TypeValue::Tensor(tt) => self.float8_types |= is_float8(tt.elem_type()),
            TypeValue::Sequence(seq) => {
                if let Some(e) = seq.elem_type() {
                    self.visit_type(&e);
                }
            }
            TypeValue::Map(map) => {
                if let Some(v) = map.value_type() {
                    self.visit_type(&v);
                }
            }
            TypeValue::None => {}
        }
    }
}

fn is_float8(code: i32) -> bool {
    matches!(
        ElementType::from_code(code),
        Some(
            ElementType::Float8E4M3FN
                | ElementType::Float8E4M3FNUZ
                | ElementType::Float8E5M2
                | ElementType::Float8E5M2FNUZ
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_models_need_no_family() {
        assert_eq!(TypeFamilies::of_models(&[]), TypeFamilies::default());
    }
}
