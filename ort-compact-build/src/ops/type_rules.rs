//! Which argument types matter per operator, for type reduction.
//!
//! These are the rules ONNX Runtime 1.21.0 applies (its `operator_type_usage_processors`):
//! only the operators listed here get per-operator type information; for each, the types of
//! certain inputs and/or outputs decide which typed kernel registrations are kept. The same
//! rules answer, for the kernel-reduction stage, whether one typed registration is needed
//! ([`typed_registration_needed`]) and which `ORT_SPECIFY_OP_KERNEL_*_ALLOWED_TYPES` lines the
//! generated `op_kernel_type_control_overrides.inc` gets ([`kernel_type_control_entries`]).

use super::config::{OpConfig, TypeUsage};

/// How an operator's type usage is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeRule {
    /// Record the types of these inputs and outputs. Typed registrations are keyed on
    /// `registration` (input 0 for most operators).
    Args {
        /// Inputs whose types are recorded.
        inputs: &'static [usize],
        /// Outputs whose types are recorded.
        outputs: &'static [usize],
        /// Types that input `registration`'s typed registrations always keep.
        required: &'static [&'static str],
        /// The argument typed registrations are keyed on.
        registration: ArgIndex,
    },
    /// OneHot: registrations are keyed on the triple (input 0, input 2, input 1), recorded
    /// under `"custom"`.
    OneHot,
}

/// An input or output index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgIndex {
    /// Input `n`.
    Input(usize),
    /// Output `n`.
    Output(usize),
}

const INPUT0_OPS: &[&str] = &[
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

/// Shape/index arithmetic: int32 and int64 kernels are always kept.
const INPUT0_WITH_INTS_OPS: &[&str] = &[
    "Add", "Concat", "Div", "Equal", "Greater", "Less", "Mul", "Neg", "Sub",
];

const MS_INPUT0_OPS: &[&str] = &["QLinearAdd", "QLinearMul", "QLinearConv"];

const fn input0(required: &'static [&'static str]) -> TypeRule {
    TypeRule::Args {
        inputs: &[0],
        outputs: &[],
        required,
        registration: ArgIndex::Input(0),
    }
}

const fn output0() -> TypeRule {
    TypeRule::Args {
        inputs: &[],
        outputs: &[0],
        required: &[],
        registration: ArgIndex::Output(0),
    }
}

/// The type rule of `domain:op` (`domain` normalised, e.g. `ai.onnx`), if it has one.
pub fn rule(domain: &str, op: &str) -> Option<TypeRule> {
    match domain {
        "ai.onnx" => onnx_rule(op),
        "com.microsoft" if MS_INPUT0_OPS.contains(&op) => Some(input0(&[])),
        _ => None,
    }
}

fn onnx_rule(op: &str) -> Option<TypeRule> {
    let inputs01 = TypeRule::Args {
        inputs: &[0, 1],
        outputs: &[],
        required: &[],
        registration: ArgIndex::Input(0),
    };
    Some(match op {
        "Cast" => TypeRule::Args {
            inputs: &[0],
            outputs: &[0],
            required: &[],
            registration: ArgIndex::Input(0),
        },
        "Gather" | "GatherElements" | "Pow" | "Slice" => inputs01,
        "ConstantOfShape"
        | "RandomNormal"
        | "RandomNormalLike"
        | "RandomUniform"
        | "RandomUniformLike"
        | "Multinomial"
        | "QuantizeLinear"
        | "DynamicQuantizeLinear" => output0(),
        "Where" => TypeRule::Args {
            inputs: &[1],
            outputs: &[],
            required: &[],
            registration: ArgIndex::Input(1),
        },
        "DequantizeLinear" => input0(&["int8_t", "uint8_t", "int32_t"]),
        "OneHot" => TypeRule::OneHot,
        _ if INPUT0_WITH_INTS_OPS.contains(&op) => input0(&["int32_t", "int64_t"]),
        _ if INPUT0_OPS.contains(&op) => input0(&[]),
        _ => return None,
    })
}

/// ORT's C++ name for a type as written in a kernel registration (`string` → `std::string`).
fn reg_type_to_cpp(reg: &str) -> &str {
    if reg == "string" {
        "std::string"
    } else {
        reg
    }
}

/// Splits a concatenated registration type (`float_int64_t_int64_t`) into its types.
fn split_reg_types(reg: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in reg.split('_') {
        match out.last_mut() {
            Some(last) if token == "t" => last.push_str("_t"),
            _ => out.push(token.to_owned()),
        }
    }
    out
}

/// Whether the typed kernel registration of `domain:op` for type `reg_type` (as it appears in
/// `BuildKernelCreateInfo<…, type, …>`, e.g. `float`, `int64_t`, `string`, or for OneHot
/// `float_int64_t_int64_t`) is needed under `config`. Follows ORT 1.21.0: with globally
/// allowed types, a registration is kept when its type is allowed; with per-operator type
/// information, when the recorded (or always-required) types include it; operators without
/// type information keep all registrations.
pub fn typed_registration_needed(
    config: &OpConfig,
    domain: &str,
    op: &str,
    reg_type: &str,
) -> bool {
    let cpp = reg_type_to_cpp(reg_type);
    if let Some(global) = &config.globally_allowed_types {
        return match rule(domain, op) {
            Some(TypeRule::OneHot) => split_reg_types(reg_type)
                .iter()
                .all(|t| global.contains(reg_type_to_cpp(t))),
            Some(TypeRule::Args {
                required,
                registration,
                ..
            }) => {
                let required: &[&str] = if registration == ArgIndex::Input(0) {
                    required
                } else {
                    &[]
                };
                required.contains(&cpp) || global.contains(cpp)
            }
            None => global.contains(cpp),
        };
    }
    let (Some(r), Some(usage)) = (rule(domain, op), config.type_usage(domain, op)) else {
        return true;
    };
    match r {
        TypeRule::OneHot => {
            let wanted: Vec<String> = split_reg_types(reg_type)
                .iter()
                .map(|t| reg_type_to_cpp(t).to_owned())
                .collect();
            usage.custom.contains(&wanted)
        }
        TypeRule::Args {
            required,
            registration,
            ..
        } => {
            let (allowed, required) = match registration {
                ArgIndex::Input(i) => (usage.inputs.get(&i), required),
                ArgIndex::Output(i) => (usage.outputs.get(&i), &[][..]),
            };
            required.contains(&cpp) || allowed.is_some_and(|a| a.contains(cpp))
        }
    }
}

fn ort_domain_constant(domain: &str) -> Option<&'static str> {
    match domain {
        "ai.onnx" => Some("kOnnxDomain"),
        "ai.onnx.ml" => Some("kMLDomain"),
        "com.microsoft" => Some("kMSDomain"),
        _ => None,
    }
}

/// The lines ORT puts in the allowed-types section of `op_kernel_type_control_overrides.inc`
/// for `config`: one `ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES(…);` line for globally
/// allowed types, otherwise one `ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(domain, Op,
/// Input|Output, index, types…);` line per recorded argument of an operator with a type rule
/// (sorted by `domain:op`; OneHot has none).
pub fn kernel_type_control_entries(config: &OpConfig) -> Vec<String> {
    if let Some(global) = &config.globally_allowed_types {
        let types: Vec<&str> = global.iter().map(String::as_str).collect();
        return vec![format!(
            "ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES({});",
            types.join(", ")
        )];
    }
    let mut keyed: Vec<(String, Vec<String>)> = Vec::new();
    for (domain, opsets) in &config.ops {
        let mut seen = std::collections::BTreeSet::new();
        for op in opsets.values().flat_map(|ops| ops.keys()) {
            if !seen.insert(op.clone()) {
                continue;
            }
            let (Some(TypeRule::Args { .. }), Some(usage), Some(constant)) = (
                rule(domain, op),
                config.type_usage(domain, op),
                ort_domain_constant(domain),
            ) else {
                continue;
            };
            keyed.push((format!("{domain}:{op}"), arg_lines(constant, op, usage)));
        }
    }
    keyed.sort();
    keyed.into_iter().flat_map(|(_, lines)| lines).collect()
}

fn arg_lines(constant: &str, op: &str, usage: &TypeUsage) -> Vec<String> {
    let mut lines = Vec::new();
    for (kind, map) in [("Input", &usage.inputs), ("Output", &usage.outputs)] {
        for (i, types) in map {
            if types.is_empty() {
                continue;
            }
            let types: Vec<&str> = types.iter().map(String::as_str).collect();
            lines.push(format!(
                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES({constant}, {op}, {kind}, {i}, {});",
                types.join(", ")
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(matches!(
            rule("ai.onnx", "Where"),
            Some(TypeRule::Args { inputs: &[1], .. })
        ));
        assert!(matches!(rule("ai.onnx", "OneHot"), Some(TypeRule::OneHot)));
        assert!(rule("ai.onnx", "Reshape").is_none());
        assert!(rule("com.microsoft", "QLinearAdd").is_some());
        assert!(rule("com.microsoft", "FusedGemm").is_none());
        assert_eq!(
            split_reg_types("float_int64_t_int32_t"),
            ["float", "int64_t", "int32_t"]
        );
    }

    #[test]
    fn registration_filter() {
        let c = OpConfig::parse(
            "ai.onnx;13;Add{\"inputs\": {\"0\": [\"float\"]}},Relu,\
             Cast{\"inputs\": {\"0\": [\"float\"]}, \"outputs\": {\"0\": [\"int64_t\"]}},\
             OneHot{\"custom\": [[\"int64_t\", \"float\", \"int64_t\"]]}\n",
        )
        .unwrap();
        assert!(typed_registration_needed(&c, "ai.onnx", "Add", "float"));
        assert!(typed_registration_needed(&c, "ai.onnx", "Add", "int64_t"));
        assert!(!typed_registration_needed(&c, "ai.onnx", "Add", "double"));
        assert!(typed_registration_needed(&c, "ai.onnx", "Relu", "double"));
        assert!(!typed_registration_needed(&c, "ai.onnx", "Cast", "int64_t"));
        assert!(typed_registration_needed(
            &c,
            "ai.onnx",
            "OneHot",
            "int64_t_float_int64_t"
        ));
        assert!(!typed_registration_needed(
            &c,
            "ai.onnx",
            "OneHot",
            "float_float_float"
        ));
        assert_eq!(
            kernel_type_control_entries(&c),
            [
                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(kOnnxDomain, Add, Input, 0, float);",
                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(kOnnxDomain, Cast, Input, 0, float);",
                "ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(kOnnxDomain, Cast, Output, 0, int64_t);",
            ]
        );
        let g = OpConfig::parse("ai.onnx;13;Add\n!globally_allowed_types;float").unwrap();
        assert!(typed_registration_needed(&g, "ai.onnx", "Add", "int32_t"));
        assert!(!typed_registration_needed(&g, "ai.onnx", "Relu", "double"));
        assert_eq!(
            kernel_type_control_entries(&g),
            ["ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES(float);"]
        );
    }
}
