//! ORT's operator config text format (`required_operators.config` and
//! `required_operators_and_types.config`): types, parser and writer.
//!
//! The format, one entry per line:
//!
//! ```text
//! # comment
//! ai.onnx;13;Add,Cast{"inputs": {"0": ["float"]}, "outputs": {"0": ["int64_t"]}},Relu
//! ai.onnx;11,12;Gather
//! com.microsoft;1;FusedGemm
//! !globally_allowed_types;float,int64_t
//! !no_ops_specified_means_all_ops_are_required
//! ```
//!
//! A line is `domain;opset[,opset…];Op[,Op…]`; an operator may be followed directly by a JSON
//! object with the argument types it needs (type reduction). Entries accumulate over lines.
//! [`OpConfig`]'s [`Display`](std::fmt::Display) writes the lines exactly as ONNX Runtime
//! 1.21.0's `convert_onnx_models_to_ort` does (domains, opsets and operators sorted; one line
//! per domain and opset), without its comment header.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Argument element types an operator needs, for type reduction.
///
/// Type names are ORT's C++ names (`float`, `int64_t`, `std::string`, `MLFloat16`, …; see
/// [`crate::model::ElementType::ort_name`]); a sequence argument shows its element type, a map
/// `std::map<K,V>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TypeUsage {
    /// Input index → types seen at that input.
    pub inputs: BTreeMap<usize, BTreeSet<String>>,
    /// Output index → types seen at that output.
    pub outputs: BTreeMap<usize, BTreeSet<String>>,
    /// Operator-specific type tuples (ORT's `"custom"` key; OneHot uses
    /// `(input 0, input 2, input 1)` triples).
    pub custom: BTreeSet<Vec<String>>,
}

impl TypeUsage {
    /// True when no types are recorded (ORT writes no JSON for such an operator).
    pub fn is_empty(&self) -> bool {
        self.inputs.values().all(BTreeSet::is_empty)
            && self.outputs.values().all(BTreeSet::is_empty)
            && self.custom.is_empty()
    }
}

/// Writes `s` as a JSON string literal.
fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str(&serde_json::Value::String(s.to_owned()).to_string())
}

fn write_list<'a>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = &'a String>,
) -> fmt::Result {
    f.write_str("[")?;
    for (n, t) in items.enumerate() {
        if n > 0 {
            f.write_str(", ")?;
        }
        write_json_str(f, t)?;
    }
    f.write_str("]")
}

fn write_index_map(
    f: &mut fmt::Formatter<'_>,
    map: &BTreeMap<usize, BTreeSet<String>>,
) -> fmt::Result {
    f.write_str("{")?;
    for (n, (i, types)) in map.iter().filter(|(_, t)| !t.is_empty()).enumerate() {
        if n > 0 {
            f.write_str(", ")?;
        }
        write!(f, "\"{i}\": ")?;
        write_list(f, types.iter())?;
    }
    f.write_str("}")
}

impl fmt::Display for TypeUsage {
    /// The JSON object as Python's `json.dumps` writes it in ORT's tool (`", "`/`": "`
    /// separators; empty parts left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has_inputs = self.inputs.values().any(|t| !t.is_empty());
        let has_outputs = self.outputs.values().any(|t| !t.is_empty());
        let mut first = true;
        f.write_str("{")?;
        if has_inputs {
            f.write_str("\"inputs\": ")?;
            write_index_map(f, &self.inputs)?;
            first = false;
        }
        if has_outputs {
            if !first {
                f.write_str(", ")?;
            }
            f.write_str("\"outputs\": ")?;
            write_index_map(f, &self.outputs)?;
            first = false;
        }
        if !self.custom.is_empty() {
            if !first {
                f.write_str(", ")?;
            }
            f.write_str("\"custom\": [")?;
            for (n, tuple) in self.custom.iter().enumerate() {
                if n > 0 {
                    f.write_str(", ")?;
                }
                write_list(f, tuple.iter())?;
            }
            f.write_str("]")?;
        }
        f.write_str("}")
    }
}

/// A parsed or generated operator config.
///
/// `ops` maps domain → opset → operator → optional type usage. For a config generated from
/// `.ort` models the opset is each node's since-version (as ORT's tool writes); for `.onnx`
/// models it is the model's imported opset of the domain. Either selects the same kernel
/// registrations, as kernels are registered for since-version ranges.
///
/// Type usage is per (domain, operator), not per opset: ORT's tool writes the same JSON on
/// every opset line of an operator, and its parser keeps one entry per operator (the last one
/// read). [`OpConfig::type_usage`] returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpConfig {
    /// domain → opset → operator → type usage (`None`: no type information for it).
    pub ops: BTreeMap<String, BTreeMap<i64, BTreeMap<String, Option<TypeUsage>>>>,
    /// `!globally_allowed_types;T0,T1,…`: types allowed for every operator (exclusive with
    /// per-operator type usage).
    pub globally_allowed_types: Option<BTreeSet<String>>,
    /// `!no_ops_specified_means_all_ops_are_required`: an empty operator list means "keep all".
    pub no_ops_means_all: bool,
}

impl OpConfig {
    /// An empty config.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operator (without type information unless it already has some).
    pub fn add_op(&mut self, domain: &str, opset: i64, op: &str) {
        self.ops
            .entry(domain.to_owned())
            .or_default()
            .entry(opset)
            .or_default()
            .entry(op.to_owned())
            .or_insert(None);
    }

    /// Sets the type usage of `domain:op` on every opset line where the operator appears
    /// (replacing what was there, as ORT's parser does).
    pub fn set_type_usage(&mut self, domain: &str, op: &str, usage: &TypeUsage) {
        if let Some(opsets) = self.ops.get_mut(domain) {
            for ops in opsets.values_mut() {
                if let Some(entry) = ops.get_mut(op) {
                    *entry = Some(usage.clone());
                }
            }
        }
    }

    /// The type usage of `domain:op`, if the config has any for it.
    pub fn type_usage(&self, domain: &str, op: &str) -> Option<&TypeUsage> {
        self.ops
            .get(domain)?
            .values()
            .rev()
            .find_map(|ops| ops.get(op).and_then(Option::as_ref))
    }

    /// True when any operator carries type information.
    pub fn has_type_usage(&self) -> bool {
        self.ops
            .values()
            .flat_map(BTreeMap::values)
            .flat_map(BTreeMap::values)
            .any(Option::is_some)
    }

    /// Number of (domain, opset, operator) entries.
    pub fn len(&self) -> usize {
        self.ops
            .values()
            .flat_map(BTreeMap::values)
            .map(BTreeMap::len)
            .sum()
    }

    /// True when no operator is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for OpConfig {
    /// One `domain;opset;Op1,Op2{json}` line per domain and opset, sorted, followed by the
    /// `!` directive lines when set. No comment header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (domain, opsets) in &self.ops {
            for (opset, ops) in opsets {
                if ops.is_empty() {
                    continue;
                }
                write!(f, "{domain};{opset};")?;
                for (n, (op, usage)) in ops.iter().enumerate() {
                    if n > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(op)?;
                    if let Some(u) = usage.as_ref().filter(|u| !u.is_empty()) {
                        write!(f, "{u}")?;
                    }
                }
                f.write_str("\n")?;
            }
        }
        if let Some(types) = &self.globally_allowed_types {
            let list: Vec<&str> = types.iter().map(String::as_str).collect();
            writeln!(f, "!globally_allowed_types;{}", list.join(","))?;
        }
        if self.no_ops_means_all {
            writeln!(f, "!no_ops_specified_means_all_ops_are_required")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Generated from model/s:\n# - x.ort\n\
ai.onnx;11;Gather{\"inputs\": {\"0\": [\"float\"], \"1\": [\"int64_t\"]}},Shape\n\
ai.onnx;13;Cast{\"inputs\": {\"0\": [\"float\"]}, \"outputs\": {\"0\": [\"int64_t\"]}},Relu\n\
ai.onnx;11;OneHot{\"custom\": [[\"int64_t\", \"int64_t\", \"float\"]]}\n\
com.microsoft;1;FusedGemm\n";

    #[test]
    fn round_trip() {
        let c = OpConfig::parse(SAMPLE).unwrap();
        assert_eq!(c.len(), 6);
        assert!(c.contains("ai.onnx", 11, "OneHot"));
        let cast = c.type_usage("ai.onnx", "Cast").unwrap();
        assert!(cast.outputs[&0].contains("int64_t"));
        let text = c.to_string();
        assert_eq!(
            text,
            "ai.onnx;11;Gather{\"inputs\": {\"0\": [\"float\"], \"1\": [\"int64_t\"]}},\
OneHot{\"custom\": [[\"int64_t\", \"int64_t\", \"float\"]]},Shape\n\
ai.onnx;13;Cast{\"inputs\": {\"0\": [\"float\"]}, \"outputs\": {\"0\": [\"int64_t\"]}},Relu\n\
com.microsoft;1;FusedGemm\n"
        );
        assert_eq!(OpConfig::parse(&text).unwrap(), c);
    }

    #[test]
    fn opset_lists_and_directives() {
        let c = OpConfig::parse(
            "ai.onnx;11,12;Add, Mul\n!globally_allowed_types;float, int64_t\n\
             !no_ops_specified_means_all_ops_are_required\n",
        )
        .unwrap();
        assert!(c.contains("ai.onnx", 12, "Mul"));
        assert!(c.no_ops_means_all);
        assert_eq!(c.globally_allowed_types.as_ref().unwrap().len(), 2);
        assert_eq!(OpConfig::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, needle) in [
            ("ai.onnx;Add", "line 1"),
            ("\nai.onnx;x;Add", "'x' is not a number"),
            ("ai.onnx;1;Add{\"inputs\": ", "unbalanced"),
            ("ai.onnx;1;Add{\"foo\": 1}", "unknown key"),
            ("ai.onnx;1;Add{\"inputs\": {\"a\": []}}", "not a number"),
            ("ai.onnx;1;Add,,Mul", "empty operator"),
            ("ai.onnx;1;Add{}x", "unexpected text"),
        ] {
            let e = OpConfig::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
        let e = OpConfig::parse(
            "ai.onnx;1;Add{\"inputs\": {\"0\": [\"float\"]}}\n!globally_allowed_types;float",
        )
        .unwrap_err();
        assert!(e.to_string().contains("cannot be used together"));
    }

    #[test]
    fn merge_unions_types() {
        let mut a = OpConfig::parse("ai.onnx;13;Relu{\"inputs\": {\"0\": [\"float\"]}}").unwrap();
        let b = OpConfig::parse("ai.onnx;14;Relu{\"inputs\": {\"0\": [\"double\"]}},Add").unwrap();
        a.merge(&b);
        assert_eq!(
            a.to_string(),
            "ai.onnx;13;Relu{\"inputs\": {\"0\": [\"double\", \"float\"]}}\n\
ai.onnx;14;Add,Relu{\"inputs\": {\"0\": [\"double\", \"float\"]}}\n"
        );
    }
}
