//! Which (domain, opset, operator) kernels are required, and the ops an extended minimal build
//! always needs.

use crate::error::{Error, Result};
use crate::reduce::registrations::domain_of_constant;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The required operators: domain → opset → operator types. `all` means every op is required
/// (a config with `!no_ops_specified_means_all_ops_are_required` and no op lines).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Requirements {
    /// domain → opset → operator types.
    pub ops: BTreeMap<String, BTreeMap<i64, BTreeSet<String>>>,
    /// Every operator is required.
    pub all: bool,
}

impl Requirements {
    /// Adds one required operator.
    pub fn add(&mut self, domain: &str, opset: i64, op_type: &str) {
        self.ops
            .entry(domain.to_string())
            .or_default()
            .entry(opset)
            .or_default()
            .insert(op_type.to_string());
    }

    /// Whether a kernel of `op_type` in `domain` for opsets `since..=end` is needed: some opset
    /// required for the domain lies in the range and requires the operator.
    pub fn is_required(&self, domain: &str, op_type: &str, since: i64, end: Option<i64>) -> bool {
        if self.all {
            return true;
        }
        self.ops.get(domain).is_some_and(|opsets| {
            opsets.iter().any(|(opset, ops)| {
                *opset >= since && end.is_none_or(|end| *opset <= end) && ops.contains(op_type)
            })
        })
    }

    /// Every (domain, opset, op) triple, sorted.
    pub fn triples(&self) -> impl Iterator<Item = (&str, i64, &str)> {
        self.ops.iter().flat_map(|(domain, opsets)| {
            opsets.iter().flat_map(move |(opset, ops)| {
                ops.iter()
                    .map(move |op| (domain.as_str(), *opset, op.as_str()))
            })
        })
    }

    /// Whether any operator of `domain` is required (always true when all ops are).
    pub fn needs_domain(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.all
            || self
                .ops
                .iter()
                .any(|(domain, opsets)| pred(domain) && opsets.values().any(|ops| !ops.is_empty()))
    }
}

/// Relative path of the header listing the kernels that graph transformations of an extended
/// minimal build may insert.
pub(crate) const LAYOUT_OPS_HEADER: &str =
    "onnxruntime/core/optimizer/layout_transformation/layout_transformation_potentially_added_ops.h";

/// Reads the `(domain, op, opset)` identifiers between the
/// `@@region_begin(extended_minimal_build_required_kernels)@@` / `…end…` markers of
/// [`LAYOUT_OPS_HEADER`].
pub(crate) fn extended_minimal_build_ops(
    ort_source_dir: &Path,
) -> Result<Vec<(String, String, i64)>> {
    let path = ort_source_dir.join(LAYOUT_OPS_HEADER);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
    const REGION: &str = "extended_minimal_build_required_kernels)@@";
    const ITEM: &str = "OpIdentifierWithStringViews{";
    let mut inside = false;
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.contains(&format!("@@region_begin({REGION}")) {
            inside = true;
            continue;
        }
        if line.contains(&format!("@@region_end({REGION}")) {
            inside = false;
            continue;
        }
        let Some(at) = line.find(ITEM).filter(|_| inside) else {
            continue;
        };
        let rest = line.get(at + ITEM.len()..).unwrap_or("");
        let body = rest.split('}').next().unwrap_or("");
        let parts: Vec<&str> = body.split(',').map(str::trim).collect();
        let bad = |reason: &str| Error::RegistrationSource {
            path: path.clone(),
            line: number + 1,
            reason: reason.to_string(),
        };
        let [constant, op, opset] = parts.as_slice() else {
            return Err(bad(
                "expected `OpIdentifierWithStringViews{domain, \"Op\", opset}`",
            ));
        };
        let domain = domain_of_constant(constant)
            .ok_or_else(|| bad(&format!("unknown domain constant `{constant}`")))?;
        let op = op.trim_matches('"');
        let opset = opset
            .parse()
            .map_err(|_| bad(&format!("opset `{opset}` is not a number")))?;
        found.push((domain.to_string(), op.to_string(), opset));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_domains() {
        let mut r = Requirements::default();
        r.add("ai.onnx", 13, "Add");
        assert!(r.is_required("ai.onnx", "Add", 13, None));
        assert!(r.is_required("ai.onnx", "Add", 7, Some(13)));
        assert!(!r.is_required("ai.onnx", "Add", 7, Some(12)));
        assert!(!r.is_required("ai.onnx", "Add", 14, None));
        assert!(!r.is_required("ai.onnx", "Mul", 13, None));
        assert!(!r.is_required("com.microsoft", "Add", 1, None));
        assert!(!r.needs_domain(|d| d == "com.microsoft"));
        assert!(r.needs_domain(|d| d == "ai.onnx"));
        let all = Requirements {
            all: true,
            ..Default::default()
        };
        assert!(all.is_required("x", "y", 1, Some(1)) && all.needs_domain(|_| false));
    }
}
