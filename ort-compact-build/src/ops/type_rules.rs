//! Which argument types matter per operator, for type reduction.
//!
//! These are the rules ONNX Runtime 1.21.0 applies (its `operator_type_usage_processors`):
//! only the operators listed here get per-operator type information; for each, the types of
//! certain inputs and/or outputs decide which typed kernel registrations are kept. The
//! kernel-reduction stage (`crate::reduce`) applies them through `registration_needed`,
//! which fails where ORT fails; the tests check them through two lenient helpers
//! (`typed_registration_needed`, `kernel_type_control_entries`).

#[cfg(test)]
use super::config::OpConfig;
use super::config::TypeUsage;
use std::collections::BTreeSet;
use std::fmt;

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
        /// Types that typed registrations always keep (for the `registration` argument; only
        /// input-0 registrations have any).
        required: &'static [&'static str],
        /// The argument typed registrations are keyed on. ORT's default is input 0 even for
        /// operators that record only outputs (`ConstantOfShape`, the random operators):
        /// those have no typed registrations, and ORT fails when asked about one.
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

impl fmt::Display for ArgIndex {
    /// `input N` or `output N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgIndex::Input(i) => write!(f, "input {i}"),
            ArgIndex::Output(o) => write!(f, "output {o}"),
        }
    }
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

/// Records output 0; typed registrations are keyed on `registration`.
const fn output0(registration: ArgIndex) -> TypeRule {
    TypeRule::Args {
        inputs: &[],
        outputs: &[0],
        required: &[],
        registration,
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
        // ORT's default processor: registrations (none exist) would be keyed on input 0.
        "ConstantOfShape" | "RandomNormal" | "RandomNormalLike" | "RandomUniform"
        | "RandomUniformLike" | "Multinomial" => output0(ArgIndex::Input(0)),
        "QuantizeLinear" | "DynamicQuantizeLinear" => output0(ArgIndex::Output(0)),
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
pub(crate) fn reg_type_to_cpp(reg: &str) -> &str {
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

/// The C++ types of a concatenated registration type (`int64_t_string_int64_t` →
/// `int64_t`, `std::string`, `int64_t`).
fn registration_cpp_types(reg: &str) -> Vec<String> {
    split_reg_types(reg)
        .iter()
        .map(|t| reg_type_to_cpp(t).to_owned())
        .collect()
}

/// The type information a typed registration is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AllowedTypes<'a> {
    /// `!globally_allowed_types`: one set of C++ types for every operator.
    Global(&'a BTreeSet<String>),
    /// The types recorded for the operator.
    Recorded(&'a TypeUsage),
}

/// Whether a typed kernel registration (type `reg_type` as written in
/// `BuildKernelCreateInfo<…>`, see [`typed_registration_needed`]) of an operator with type rule
/// `rule` is needed under `allowed`, exactly as ORT 1.21.0 decides. Operators without a rule
/// keep every registration unless a global type set excludes its type. `Err(arg)`: the
/// registration is keyed on `arg`, but `arg`'s types are not recorded (with globally allowed
/// types: not tracked by the rule) — ORT fails there.
pub(crate) fn registration_needed(
    rule: Option<TypeRule>,
    allowed: AllowedTypes<'_>,
    reg_type: &str,
) -> Result<bool, ArgIndex> {
    let cpp = reg_type_to_cpp(reg_type);
    match rule {
        None => Ok(match allowed {
            AllowedTypes::Global(global) => global.contains(cpp),
            AllowedTypes::Recorded(_) => true,
        }),
        Some(TypeRule::OneHot) => {
            let types = registration_cpp_types(reg_type);
            Ok(match allowed {
                AllowedTypes::Global(global) => types.iter().all(|t| global.contains(t)),
                AllowedTypes::Recorded(usage) => usage.custom.contains(&types),
            })
        }
        Some(TypeRule::Args {
            inputs,
            outputs,
            required,
            registration,
        }) => {
            let set = match (allowed, registration) {
                (AllowedTypes::Global(global), ArgIndex::Input(i)) => {
                    inputs.contains(&i).then_some(global)
                }
                (AllowedTypes::Global(global), ArgIndex::Output(o)) => {
                    outputs.contains(&o).then_some(global)
                }
                (AllowedTypes::Recorded(usage), ArgIndex::Input(i)) => usage.inputs.get(&i),
                (AllowedTypes::Recorded(usage), ArgIndex::Output(o)) => usage.outputs.get(&o),
            };
            let set = set.ok_or(registration)?;
            Ok(required.contains(&cpp) || set.contains(cpp))
        }
    }
}

/// Whether the typed kernel registration of `domain:op` for type `reg_type` (as it appears in
/// `BuildKernelCreateInfo<…, type, …>`, e.g. `float`, `int64_t`, `string`, or for OneHot
/// `float_int64_t_int64_t`) is needed under `config`. Follows ORT 1.21.0: with globally
/// allowed types, a registration is kept when its type is allowed; with per-operator type
/// information, when the recorded (or always-required) types include it; operators without
/// type information keep all registrations. Where ORT would fail (the registration's argument
/// has no recorded types), only the always-required types (and globally allowed types) count.
#[cfg(test)]
pub fn typed_registration_needed(
    config: &OpConfig,
    domain: &str,
    op: &str,
    reg_type: &str,
) -> bool {
    let r = rule(domain, op);
    let allowed = match (&config.globally_allowed_types, r) {
        (Some(global), _) => AllowedTypes::Global(global),
        (None, Some(_)) => match config.type_usage(domain, op) {
            Some(usage) => AllowedTypes::Recorded(usage),
            None => return true,
        },
        (None, None) => return true,
    };
    registration_needed(r, allowed, reg_type).unwrap_or_else(|_| {
        let required: &[&str] = match r {
            Some(TypeRule::Args { required, .. }) => required,
            _ => &[],
        };
        let cpp = reg_type_to_cpp(reg_type);
        required.contains(&cpp)
            || matches!(allowed, AllowedTypes::Global(global) if global.contains(cpp))
    })
}

/// ORT's constant for the domains that have type rules (`ai.onnx` → `kOnnxDomain`).
fn ort_domain_constant(domain: &str) -> Option<&'static str> {
    match domain {
        "ai.onnx" => Some("kOnnxDomain"),
        "ai.onnx.ml" => Some("kMLDomain"),
        "com.microsoft" => Some("kMSDomain"),
        _ => None,
    }
}

/// The `ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES(…);` line for globally allowed `types`.
pub(crate) fn global_allowed_types_line(types: &BTreeSet<String>) -> String {
    let types: Vec<&str> = types.iter().map(String::as_str).collect();
    format!(
        "ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES({});",
        types.join(", ")
    )
}

/// The `ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(…);` lines for the types recorded for
/// `domain:op` (inputs, then outputs, by index; empty sets skipped). None for operators
/// without an argument rule (OneHot, no rule) or in a domain without an ORT constant.
pub(crate) fn arg_allowed_types_lines(domain: &str, op: &str, usage: &TypeUsage) -> Vec<String> {
    let (Some(TypeRule::Args { .. }), Some(constant)) =
        (rule(domain, op), ort_domain_constant(domain))
    else {
        return Vec::new();
    };
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

/// The lines ORT puts in the allowed-types section of `op_kernel_type_control_overrides.inc`
/// for `config`: one `ORT_SPECIFY_OP_KERNEL_GLOBAL_ALLOWED_TYPES(…);` line for globally
/// allowed types, otherwise one `ORT_SPECIFY_OP_KERNEL_ARG_ALLOWED_TYPES(domain, Op,
/// Input|Output, index, types…);` line per recorded argument of an operator with a type rule
/// (sorted by `domain:op`; OneHot has none).
#[cfg(test)]
pub fn kernel_type_control_entries(config: &OpConfig) -> Vec<String> {
    if let Some(global) = &config.globally_allowed_types {
        return vec![global_allowed_types_line(global)];
    }
    let mut keyed: Vec<(String, Vec<String>)> = Vec::new();
    for (domain, opsets) in &config.ops {
        let mut seen = BTreeSet::new();
        for op in opsets.values().flat_map(|ops| ops.keys()) {
            if !seen.insert(op.clone()) {
                continue;
            }
            let Some(usage) = config.type_usage(domain, op) else {
                continue;
            };
            let lines = arg_allowed_types_lines(domain, op, usage);
            if !lines.is_empty() {
                keyed.push((format!("{domain}:{op}"), lines));
            }
        }
    }
    keyed.sort();
    keyed.into_iter().flat_map(|(_, lines)| lines).collect()
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

    #[test]
    fn strict_where_ort_fails() {
        let global: BTreeSet<String> = ["float".to_owned()].into();
        let c = OpConfig::parse("ai.onnx;13;ConstantOfShape{\"outputs\": {\"0\": [\"float\"]}}\n")
            .unwrap();
        let usage = c.type_usage("ai.onnx", "ConstantOfShape").unwrap();
        let r = rule("ai.onnx", "ConstantOfShape");
        assert_eq!(
            registration_needed(r, AllowedTypes::Global(&global), "float"),
            Err(ArgIndex::Input(0))
        );
        assert_eq!(
            registration_needed(r, AllowedTypes::Recorded(usage), "float"),
            Err(ArgIndex::Input(0))
        );
        assert!(!typed_registration_needed(
            &c,
            "ai.onnx",
            "ConstantOfShape",
            "float"
        ));
        let where_rule = rule("ai.onnx", "Where");
        assert_eq!(
            registration_needed(where_rule, AllowedTypes::Recorded(usage), "float"),
            Err(ArgIndex::Input(1))
        );
        assert_eq!(ArgIndex::Output(2).to_string(), "output 2");
    }
}
