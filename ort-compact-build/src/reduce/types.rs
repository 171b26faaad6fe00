//! Type reduction: which typed kernel registrations (`…_TYPED_KERNEL_CLASS_NAME(…, float, Op)`)
//! are needed, and the C++ lines for `op_kernel_type_control_overrides.inc`.
//!
//! The per-operator rules are those of ORT 1.21's type-usage processors, kept in
//! [`crate::ops::type_rules`]: most operators track the types of input 0; some track other
//! inputs/outputs; `OneHot` tracks (input, output, depth) triples (the `"custom"` form of the
//! config). Operators without a rule keep all their typed registrations and get no allowed-types
//! line.

use crate::error::{Error, Result};
use crate::ops::type_rules::{
    arg_allowed_types_lines, global_allowed_types_line, registration_needed, rule, AllowedTypes,
};
use crate::ops::TypeUsage;
use std::collections::{BTreeMap, BTreeSet};

/// The element type names a type list may contain (ORT's C++ spellings).
pub(crate) const VALID_TYPES: &[&str] = &[
    "float",
    "uint8_t",
    "int8_t",
    "uint16_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "std::string",
    "bool",
    "MLFloat16",
    "double",
    "uint32_t",
    "uint64_t",
    "BFloat16",
    "Float8E4M3FN",
    "Float8E4M3FNUZ",
    "Float8E5M2",
    "Float8E5M2FNUZ",
];

/// Decides typed registrations and writes the allowed-types C++ lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeFilter {
    /// Per-operator types from the config; keys are `domain:op` of operators that have a rule
    /// and were given type information.
    PerOp(BTreeMap<String, TypeUsage>),
    /// `!globally_allowed_types;…`: one type set for every operator.
    Global(BTreeSet<String>),
}

/// A type filter plus the operators whose typed registrations must always be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeReduction {
    /// The filter.
    pub filter: TypeFilter,
    /// `(domain, op)` pairs that keep every typed registration (extended minimal build).
    pub always_keep: BTreeSet<(String, String)>,
}

fn key(domain: &str, op: &str) -> String {
    format!("{domain}:{op}")
}

impl TypeFilter {
    /// Builds the per-operator filter. Entries are applied in order; a later entry for the same
    /// operator replaces an earlier one. Operators without a rule are ignored.
    pub fn per_op<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str, TypeUsage)>) -> Self {
        let mut map = BTreeMap::new();
        for (domain, op, types) in entries {
            if rule(domain, op).is_some() {
                map.insert(key(domain, op), types);
            }
        }
        TypeFilter::PerOp(map)
    }

    /// Builds the global filter, checking every type name.
    pub fn global(types: BTreeSet<String>) -> Result<Self> {
        let invalid: Vec<&str> = types
            .iter()
            .map(String::as_str)
            .filter(|t| !VALID_TYPES.contains(t))
            .collect();
        if !invalid.is_empty() {
            return Err(Error::Config(format!(
                "!globally_allowed_types lists unknown types {invalid:?}; valid: {}",
                VALID_TYPES.join(", ")
            )));
        }
        Ok(TypeFilter::Global(types))
    }

    /// Whether the registration of `domain:op` with type argument `reg_type` is needed (ORT
    /// 1.21's rules, [`registration_needed`]); an error where ORT fails.
    pub fn is_needed(&self, domain: &str, op: &str, reg_type: &str) -> Result<bool> {
        let allowed = match self {
            TypeFilter::PerOp(map) => match map.get(&key(domain, op)) {
                Some(types) => AllowedTypes::Recorded(types),
                None => return Ok(true),
            },
            TypeFilter::Global(allowed) => AllowedTypes::Global(allowed),
        };
        registration_needed(rule(domain, op), allowed, reg_type).map_err(|missing| {
            Error::Config(format!(
                "type information for {domain}:{op} lacks {missing}, which its typed kernel \
                 registrations are selected by"
            ))
        })
    }

    /// The C++ lines for the allowed-types section of `op_kernel_type_control_overrides.inc`.
    pub fn cpp_lines(&self) -> Vec<String> {
        match self {
            TypeFilter::Global(allowed) => vec![global_allowed_types_line(allowed)],
            TypeFilter::PerOp(map) => map
                .iter()
                .filter_map(|(k, types)| {
                    let (domain, op) = k.split_once(':')?;
                    Some(arg_allowed_types_lines(domain, op, types))
                })
                .flatten()
                .collect(),
        }
    }
}

impl TypeReduction {
    /// See [`TypeFilter::is_needed`]; operators in `always_keep` keep every registration.
    pub fn is_needed(&self, domain: &str, op: &str, reg_type: &str) -> Result<bool> {
        if self
            .always_keep
            .iter()
            .any(|(d, o)| d.as_str() == domain && o.as_str() == op)
        {
            return Ok(true);
        }
        self.filter.is_needed(domain, op, reg_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn per_op_rules() {
        let mut add = TypeUsage::default();
        add.inputs.insert(0, set(&["float"]));
        let mut cast = TypeUsage::default();
        cast.inputs.insert(0, set(&["int64_t", "float"]));
        cast.outputs.insert(0, set(&["float"]));
        let mut onehot = TypeUsage::default();
        onehot
            .custom
            .insert(vec!["int64_t".into(), "float".into(), "int64_t".into()]);
        let f = TypeFilter::per_op([
            ("ai.onnx", "Add", add.clone()),
            ("ai.onnx", "Cast", cast),
            ("ai.onnx", "OneHot", onehot),
            ("ai.onnx", "Reshape", add),
        ]);
        assert!(f.is_needed("ai.onnx", "Add", "float").unwrap());
        assert!(f.is_needed("ai.onnx", "Add", "int64_t").unwrap());
        assert!(!f.is_needed("ai.onnx", "Add", "double").unwrap());
        assert!(f.is_needed("ai.onnx", "Relu", "double").unwrap());
        assert!(f
            .is_needed("ai.onnx", "OneHot", "int64_t_float_int64_t")
            .unwrap());
        assert!(!f
            .is_needed("ai.onnx", "OneHot", "int64_t_string_int64_t")
            .unwrap());
        assert_eq!(
            f.cpp_lines(),
            vec![
                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(kOnnxDomain, Add, Input, 0, float);",
                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(kOnnxDomain, Cast, Input, 0, float, int64_t);",
                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(kOnnxDomain, Cast, Output, 0, float);",
            ]
        );
    }

    #[test]
    fn global_rules() {
        assert!(TypeFilter::global(set(&["float", "complex"])).is_err());
        let f = TypeFilter::global(set(&["float", "int64_t", "std::string"])).unwrap();
        assert!(f.is_needed("ai.onnx", "Where", "string").unwrap());
        assert!(!f.is_needed("ai.onnx", "Where", "double").unwrap());
        assert!(f
            .is_needed("ai.onnx", "DequantizeLinear", "int8_t")
            .unwrap());
        assert!(!f.is_needed("ai.onnx", "Foo", "float, uint8_t").unwrap());
        assert!(f
            .is_needed("ai.onnx", "OneHot", "int64_t_float_int64_t")
            .unwrap());
        assert!(f.is_needed("ai.onnx", "ConstantOfShape", "float").is_err());
        assert_eq!(
            f.cpp_lines(),
            vec!["ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES(float, int64_t, std::string);"]
        );
    }
}
