//! Element-type inference for node outputs the model does not annotate.
//!
//! The general rule comes from the schema: an output whose type string is a type-constraint
//! parameter shares the type of an input bound to the same parameter; a constraint that allows
//! one type, or a literal type string, gives that type. Operators whose output type depends on an
//! attribute or a subgraph (`Cast`, `If`, `Loop`, `ZipMap`, …) have explicit rules here.

use super::schema::OpSchema;
use super::types::{
    elem_type_code, parse_type_str, sequence_elem, sequence_type, tensor_elem, tensor_type,
    without_shape,
};
use crate::model::onnx::{type_proto, AttributeProto, NodeProto, TypeProto};

/// What inference knows about one node.
pub(crate) struct NodeTypes<'a> {
    /// The node.
    pub node: &'a NodeProto,
    /// Its resolved schema.
    pub schema: &'a OpSchema,
    /// Types of its actual inputs (`None` when absent or unknown).
    pub inputs: Vec<Option<&'a TypeProto>>,
    /// Output types of its graph attributes, by attribute name.
    pub subgraph_outputs: Vec<(&'a str, Vec<Option<TypeProto>>)>,
}

impl<'a> NodeTypes<'a> {
    fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    fn attr_int(&self, name: &str) -> Option<i64> {
        self.attr(name).map(|a| a.i)
    }

    fn input(&self, i: usize) -> Option<&'a TypeProto> {
        self.inputs.get(i).copied().flatten()
    }

    fn subgraph(&self, name: &str) -> Option<&Vec<Option<TypeProto>>> {
        self.subgraph_outputs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    fn has_strings(&self, name: &str) -> bool {
        self.attr(name).is_some_and(|a| !a.strings.is_empty())
    }
}

/// Infer the types of the node's outputs (one entry per actual output).
pub(crate) fn infer_outputs(n: &NodeTypes<'_>) -> Vec<Option<TypeProto>> {
    let count = n.node.output.len();
    let special = special_rule(n);
    (0..count)
        .map(|i| {
            special
                .as_ref()
                .and_then(|s| s.get(i).and_then(Option::as_ref).map(without_shape))
                .or_else(|| generic_rule(n, i))
        })
        .collect()
}

/// The schema-driven rule for output `index`.
fn generic_rule(n: &NodeTypes<'_>, index: usize) -> Option<TypeProto> {
    let (_, formal) = OpSchema::formal_for(&n.schema.outputs, index)?;
    let type_str = formal.type_str;
    let Some(allowed) = n.schema.constraint(type_str) else {
        return parse_type_str(type_str);
    };
    for (i, t) in n.inputs.iter().enumerate() {
        let Some(t) = t else { continue };
        let Some((_, f)) = OpSchema::formal_for(&n.schema.inputs, i) else {
            continue;
        };
        if f.type_str == type_str {
            return Some(without_shape(t));
        }
    }
    match allowed {
        [only] => parse_type_str(only),
        _ => None,
    }
}

fn tensor_of(code: i64) -> Option<TypeProto> {
    i32::try_from(code).ok().filter(|c| *c > 0).map(tensor_type)
}

fn first(t: Option<TypeProto>) -> Option<Vec<Option<TypeProto>>> {
    Some(vec![t])
}

/// Rules for operators whose output types the schema alone does not determine.
fn special_rule(n: &NodeTypes<'_>) -> Option<Vec<Option<TypeProto>>> {
    let op = n.node.op_type.as_str();
    let input0 = || n.input(0).map(without_shape);
    match op {
        "Cast" => first(n.attr_int("to").and_then(tensor_of)),
        "CastLike" => first(n.input(1).map(without_shape)),
        "ConstantOfShape" => first(Some(tensor_type(
            n.attr("value")
                .and_then(|a| a.t.as_ref())
                .map(|t| t.data_type)
                .unwrap_or(1),
        ))),
        "RandomNormal" | "RandomUniform" => first(tensor_of(n.attr_int("dtype").unwrap_or(1))),
        "RandomNormalLike" | "RandomUniformLike" | "Bernoulli" | "EyeLike" => {
            first(n.attr_int("dtype").and_then(tensor_of).or_else(input0))
        }
        "Multinomial" => first(tensor_of(n.attr_int("dtype").unwrap_or(6))),
        "BlackmanWindow" | "HammingWindow" | "HannWindow" | "MelWeightMatrix" => {
            first(tensor_of(n.attr_int("output_datatype").unwrap_or(1)))
        }
        "LayerNormalization" => {
            // Mean and InvStdDev have the type `stash_type` names (float by default).
            let stash = tensor_of(n.attr_int("stash_type").unwrap_or(1));
            Some(vec![input0(), stash.clone(), stash])
        }
        "QuantizeLinear" if n.input(2).is_none() => {
            let dtype = n.attr_int("output_dtype").filter(|d| *d != 0).unwrap_or(2);
            first(tensor_of(dtype))
        }
        "If" => n.subgraph("then_branch").cloned(),
        "Loop" => n
            .subgraph("body")
            .map(|b| b.iter().skip(1).cloned().collect()),
        "Scan" => n.subgraph("body").cloned(),
        "SequenceConstruct" => first(input0().map(sequence_type)),
        "SplitToSequence" => first(input0().map(sequence_type)),
        "SequenceEmpty" => first(Some(sequence_type(tensor_type(
            n.attr_int("dtype")
                .and_then(|d| i32::try_from(d).ok())
                .unwrap_or(1),
        )))),
        "SequenceAt" | "ConcatFromSequence" => {
            first(n.input(0).and_then(sequence_elem).map(without_shape))
        }
        "LinearClassifier" | "SVMClassifier" | "TreeEnsembleClassifier" => {
            let label = if n.has_strings("classlabels_strings") {
                "string"
            } else {
                "int64"
            };
            first(elem_type_code(label).map(tensor_type))
        }
        "ZipMap" => {
            let key = if n.has_strings("classlabels_strings") {
                "string"
            } else {
                "int64"
            };
            first(parse_type_str(&format!("seq(map({key}, float))")))
        }
        "LabelEncoder" => first(label_encoder(n)),
        "CategoryMapper" => {
            let out = if n.input(0).and_then(tensor_elem) == Some(8) {
                7
            } else {
                8
            };
            first(Some(tensor_type(out)))
        }
        "DictVectorizer" => first(n.input(0).and_then(|t| match &t.value {
            Some(type_proto::Value::MapType(m)) => m.value_type.as_deref().map(without_shape),
            _ => None,
        })),
        "CastMap" => {
            let to = n
                .attr("cast_to")
                .map(|a| String::from_utf8_lossy(&a.s).into_owned())
                .unwrap_or_else(|| "TO_FLOAT".to_string());
            let code = match to.as_str() {
                "TO_STRING" => 8,
                "TO_INT64" => 7,
                _ => 1,
            };
            first(Some(tensor_type(code)))
        }
        _ => None,
    }
}

fn label_encoder(n: &NodeTypes<'_>) -> Option<TypeProto> {
    if let Some(t) = n.attr("values_tensor").and_then(|a| a.t.as_ref()) {
        return Some(tensor_type(t.data_type));
    }
    if n.has_strings("values_strings") {
        return Some(tensor_type(8));
    }
    if n.attr("values_int64s").is_some() {
        return Some(tensor_type(7));
    }
    if n.attr("values_floats").is_some() {
        return Some(tensor_type(1));
    }
    // LabelEncoder-1 maps strings to int64 and back.
    Some(tensor_type(
        if n.input(0).and_then(tensor_elem) == Some(8) {
            7
        } else {
            8
        },
    ))
}
