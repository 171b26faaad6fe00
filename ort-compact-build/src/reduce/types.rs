//! Type reduction: which typed kernel registrations (`…_TYPED_KERNEL_CLASS_NAME(…, float, Op)`)
//! are needed, and the C++ lines for `op_kernel_type_control_overrides.inc`.
//!
//! The per-operator rules are those of ORT 1.21's type-usage processors: most operators track the
//! types of input 0; some track other inputs/outputs; `OneHot` tracks (input, output, depth)
//! triples (the `"custom"` form of the config). Operators without a rule keep all their typed
//! registrations and get no allowed-types line.

use crate::error::{Error, Result};
use crate::ops::TypeUsage;
use crate::reduce::registrations::constant_of_domain;
use std::collections::{BTreeMap, BTreeSet};

/// How an operator's typed registrations are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// The registration type is the type of input 0 (the common case).
    Input0,
    /// The registration type is the type of input 1 (`Where`).
    Input1,
    /// The registration type is the type of output 0 (`QuantizeLinear`, …).
    Output0,
    /// The registration type is `T1_T2_T3` from (input 0, output, depth) triples (`OneHot`).
    Triples,
}

/// The static description of one operator's type tracking.
#[derive(Debug, Clone, Copy)]
struct Spec {
    rule: Rule,
    /// Inputs tracked by default (what a config generated from a model may list).
    inputs: &'static [usize],
    /// Types of input 0 that are always enabled.
    required_input0: &'static [&'static str],
}

const INTS: &[&str] = &["int32_t", "int64_t"];
const DEQUANT: &[&str] = &["int8_t", "uint8_t", "int32_t"];

/// ai.onnx operators tracking input 0 only.
const ONNX_INPUT0: &[&str] = &[
    "Abs",
    "ArgMax",
    "ArgMin",
    "AveragePool",
    "BatchNormalization",
    "BitShift",
    "Ceil",
    "Clip",
    "Conv",
    "CumSum",
    "Exp",
    "Expand",
    "Floor",
    "Gemm",
    "IsNaN",
    "Log",
    "LogSoftmax",
    "LpNormalization",
    "MatMul",
    "Max",
    "MaxPool",
    "Mean",
    "Min",
    "NonZero",
    "Pad",
    "QLinearConv",
    "QLinearMatMul",
    "Range",
    "Reciprocal",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceMax",
    "ReduceMean",
    "ReduceMin",
    "ReduceProd",
    "ReduceSum",
    "ReduceSumSquare",
    "Relu",
    "Resize",
    "ReverseSequence",
    "RoiAlign",
    "Round",
    "Scatter",
    "ScatterElements",
    "ScatterND",
    "Shrink",
    "Sigmoid",
    "Sign",
    "Sin",
    "Softmax",
    "Split",
    "SplitToSequence",
    "Sqrt",
    "Sum",
    "Tanh",
    "TopK",
    "Transpose",
    "Unique",
];

/// ai.onnx operators tracking input 0 that always keep int32/int64 (shape arithmetic).
const ONNX_INPUT0_INTS: &[&str] = &[
    "Add", "Concat", "Div", "Equal", "Greater", "Less", "Mul", "Neg", "Sub",
];

/// com.microsoft operators tracking input 0.
const MS_INPUT0: &[&str] = &["QLinearAdd", "QLinearMul", "QLinearConv"];

/// ai.onnx operators tracking output 0 only (their registrations are untyped).
const ONNX_OUTPUT0_ONLY: &[&str] = &[
    "ConstantOfShape",
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
    "Multinomial",
];

/// The type-tracking rule of `domain:op`, if it has one.
fn spec(domain: &str, op: &str) -> Option<Spec> {
    let input0 = |required_input0| Spec {
        rule: Rule::Input0,
        inputs: &[0],
        required_input0,
    };
    match domain {
        "ai.onnx" => {
            if ONNX_INPUT0.contains(&op) {
                return Some(input0(&[]));
            }
            if ONNX_INPUT0_INTS.contains(&op) {
                return Some(input0(INTS));
            }
            if ONNX_OUTPUT0_ONLY.contains(&op) {
                return Some(Spec {
                    rule: Rule::Input0,
                    inputs: &[],
                    required_input0: &[],
                });
            }
            Some(match op {
                "Cast" => Spec { ..input0(&[]) },
                "Gather" | "GatherElements" | "Pow" | "Slice" => Spec {
                    inputs: &[0, 1],
                    ..input0(&[])
                },
                "Where" => Spec {
                    rule: Rule::Input1,
                    inputs: &[1],
                    required_input0: &[],
                },
                "QuantizeLinear" | "DynamicQuantizeLinear" => Spec {
                    rule: Rule::Output0,
                    inputs: &[],
                    required_input0: &[],
                },
                "DequantizeLinear" => input0(DEQUANT),
                "OneHot" => Spec {
                    rule: Rule::Triples,
                    inputs: &[],
                    required_input0: &[],
                },
                _ => return None,
            })
        }
        "com.microsoft" if MS_INPUT0.contains(&op) => Some(input0(&[])),
        _ => None,
    }
}

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

/// Registration type spelling → C++ type (`string` → `std::string`).
fn cpp_type(reg_type: &str) -> &str {
    if reg_type == "string" {
        "std::string"
    } else {
        reg_type
    }
}

/// Splits a `OneHot` registration type like `int64_t_float_int64_t` into its C++ types.
fn split_registration_types(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in text.split('_') {
        match out.last_mut() {
            Some(last) if token == "t" => last.push_str("_t"),
            _ => out.push(token.to_string()),
        }
    }
    out.into_iter().map(|t| cpp_type(&t).to_string()).collect()
}

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
            if spec(domain, op).is_some() {
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

    /// Whether the registration of `domain:op` with type argument `reg_type` is needed.
    pub fn is_needed(&self, domain: &str, op: &str, reg_type: &str) -> Result<bool> {
        let spec = spec(domain, op);
        let missing = |what: &str| {
            Error::Config(format!(
                "type information for {domain}:{op} lacks {what}, which its typed kernel \
                 registrations are selected by"
            ))
        };
        match self {
            TypeFilter::PerOp(map) => {
                let (Some(spec), Some(types)) = (spec, map.get(&key(domain, op))) else {
                    return Ok(true);
                };
                let ty = cpp_type(reg_type);
                Ok(match spec.rule {
                    Rule::Input0 => {
                        let set = types.inputs.get(&0).ok_or_else(|| missing("input 0"))?;
                        spec.required_input0.contains(&ty) || set.contains(ty)
                    }
                    Rule::Input1 => {
                        let set = types.inputs.get(&1).ok_or_else(|| missing("input 1"))?;
                        set.contains(ty)
                    }
                    Rule::Output0 => {
                        let set = types.outputs.get(&0).ok_or_else(|| missing("output 0"))?;
                        set.contains(ty)
                    }
                    Rule::Triples => types.custom.contains(&split_registration_types(reg_type)),
                })
            }
            TypeFilter::Global(allowed) => {
                let ty = cpp_type(reg_type);
                let Some(spec) = spec else {
                    return Ok(allowed.contains(ty));
                };
                Ok(match spec.rule {
                    Rule::Input0 => {
                        if !spec.inputs.contains(&0) {
                            return Err(missing("input 0"));
                        }
                        spec.required_input0.contains(&ty) || allowed.contains(ty)
                    }
                    Rule::Input1 | Rule::Output0 => allowed.contains(ty),
                    Rule::Triples => split_registration_types(reg_type)
                        .iter()
                        .all(|t| allowed.contains(t)),
                })
            }
        }
    }

    /// The C++ lines for the allowed-types section of `op_kernel_type_control_overrides.inc`.
    pub fn cpp_lines(&self) -> Vec<String> {
        match self {
            TypeFilter::Global(allowed) => vec![format!(
                "ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES({});",
                allowed
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )],
            TypeFilter::PerOp(map) => {
                let mut lines = Vec::new();
                for (k, types) in map {
                    let Some((domain, op)) = k.split_once(':') else {
                        continue;
                    };
                    let (Some(spec), Some(constant)) =
                        (spec(domain, op), constant_of_domain(domain))
                    else {
                        continue;
                    };
                    if spec.rule == Rule::Triples {
                        continue;
                    }
                    for (direction, args) in [("Input", &types.inputs), ("Output", &types.outputs)]
                    {
                        for (index, set) in args.iter().filter(|(_, set)| !set.is_empty()) {
                            let list: Vec<&str> = set.iter().map(String::as_str).collect();
                            lines.push(format!(
                                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES({constant}, {op}, {direction}, {index}, {});",
                                list.join(", ")
                            ));
                        }
                    }
                }
                lines
            }
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
