//! Reading ORT's operator config text format back (the writer is [`OpConfig`]'s `Display`):
//! the round-trip checks of the tests and the config fuzz target use it; the pipeline itself
//! only writes configs.

use super::config::{OpConfig, TypeUsage};
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

impl TypeUsage {
    /// Adds every type of `other` to `self`.
    #[cfg(test)]
    pub fn merge(&mut self, other: &TypeUsage) {
        for (i, types) in &other.inputs {
            self.inputs
                .entry(*i)
                .or_default()
                .extend(types.iter().cloned());
        }
        for (i, types) in &other.outputs {
            self.outputs
                .entry(*i)
                .or_default()
                .extend(types.iter().cloned());
        }
        self.custom.extend(other.custom.iter().cloned());
    }

    /// Parses the JSON object that follows an operator name.
    pub fn parse_json(json: &str) -> Result<TypeUsage> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::Config(format!("type usage {json}: invalid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::Config(format!(
                "type usage {json}: not a JSON object"
            )));
        };
        let mut usage = TypeUsage::default();
        for (key, value) in &map {
            match key.as_str() {
                "inputs" => usage.inputs = parse_index_map(json, key, value)?,
                "outputs" => usage.outputs = parse_index_map(json, key, value)?,
                "custom" => {
                    let Value::Array(tuples) = value else {
                        return Err(bad_json(json, "\"custom\" must be a list of type lists"));
                    };
                    for tuple in tuples {
                        usage
                            .custom
                            .insert(string_list(json, tuple)?.into_iter().collect());
                    }
                }
                other => {
                    return Err(bad_json(json, &format!("unknown key \"{other}\"")));
                }
            }
        }
        Ok(usage)
    }
}

fn bad_json(json: &str, reason: &str) -> Error {
    Error::Config(format!("type usage {json}: {reason}"))
}

fn string_list(json: &str, value: &Value) -> Result<Vec<String>> {
    let Value::Array(items) = value else {
        return Err(bad_json(json, "expected a list of type names"));
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(bad_json(json, "type names must be strings")),
        })
        .collect()
}

fn parse_index_map(
    json: &str,
    key: &str,
    value: &Value,
) -> Result<BTreeMap<usize, BTreeSet<String>>> {
    let Value::Object(map) = value else {
        return Err(bad_json(json, &format!("\"{key}\" must be an object")));
    };
    let mut out = BTreeMap::new();
    for (index, types) in map {
        let index: usize = index.parse().map_err(|_| {
            bad_json(
                json,
                &format!("\"{key}\" index \"{index}\" is not a number"),
            )
        })?;
        out.insert(index, string_list(json, types)?.into_iter().collect());
    }
    Ok(out)
}

impl OpConfig {
    /// Whether `domain:op` at `opset` is listed.
    #[cfg(test)]
    pub fn contains(&self, domain: &str, opset: i64, op: &str) -> bool {
        self.ops
            .get(domain)
            .and_then(|o| o.get(&opset))
            .is_some_and(|ops| ops.contains_key(op))
    }

    /// Adds every entry of `other` (operators, and type usage merged type by type).
    #[cfg(test)]
    pub fn merge(&mut self, other: &OpConfig) {
        for (domain, opsets) in &other.ops {
            for (opset, ops) in opsets {
                for op in ops.keys() {
                    self.add_op(domain, *opset, op);
                }
            }
        }
        let mut usages: BTreeMap<(String, String), TypeUsage> = BTreeMap::new();
        for (domain, opsets) in &other.ops {
            for ops in opsets.values() {
                for op in ops.keys() {
                    if let Some(u) = other.type_usage(domain, op) {
                        let mut merged = self.type_usage(domain, op).cloned().unwrap_or_default();
                        merged.merge(u);
                        usages.insert((domain.clone(), op.clone()), merged);
                    }
                }
            }
        }
        for ((domain, op), usage) in usages {
            self.set_type_usage(&domain, &op, &usage);
        }
        if let Some(types) = &other.globally_allowed_types {
            self.globally_allowed_types
                .get_or_insert_with(BTreeSet::new)
                .extend(types.iter().cloned());
        }
        self.no_ops_means_all |= other.no_ops_means_all;
    }

    /// Parses the text format. Blank lines and `#` comments are skipped; opset lists,
    /// repeated lines and per-operator JSON are accepted as ORT 1.21.0's parser accepts them.
    /// Errors name the line.
    pub fn parse(text: &str) -> Result<OpConfig> {
        let mut config = OpConfig::new();
        let mut usages: Vec<(String, String, TypeUsage)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let lineno = n + 1;
            let err = |reason: String| {
                Error::Config(format!(
                    "operator config line {lineno} ('{line}'): {reason}"
                ))
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(types) = line.strip_prefix("!globally_allowed_types;") {
                if config.globally_allowed_types.is_some() {
                    return Err(err("globally allowed types were already specified".into()));
                }
                config.globally_allowed_types = Some(
                    types
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect(),
                );
                continue;
            }
            if line == "!no_ops_specified_means_all_ops_are_required" {
                config.no_ops_means_all = true;
                continue;
            }
            let parts: Vec<&str> = line.splitn(3, ';').map(str::trim).collect();
            let [domain, opsets, ops] = parts[..] else {
                return Err(err("expected 'domain;opset;Op1,Op2,…'".into()));
            };
            if domain.is_empty() {
                return Err(err("empty domain".into()));
            }
            let opsets = opsets
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<i64>()
                        .map_err(|_| err(format!("opset '{}' is not a number", s.trim())))
                })
                .collect::<Result<Vec<i64>>>()?;
            for (op, json) in split_ops(ops).map_err(&err)? {
                if op.is_empty() {
                    return Err(err("empty operator name".into()));
                }
                for opset in &opsets {
                    config.add_op(domain, *opset, op);
                }
                if let Some(json) = json {
                    let usage = TypeUsage::parse_json(json).map_err(|e| err(e.to_string()))?;
                    usages.push((domain.to_owned(), op.to_owned(), usage));
                }
            }
        }
        if config.globally_allowed_types.is_some() && !usages.is_empty() {
            return Err(Error::Config(
                "operator config: globally allowed types and per-operator type information \
                 cannot be used together"
                    .into(),
            ));
        }
        // Last entry wins, as in ORT's parser.
        for (domain, op, usage) in usages {
            config.set_type_usage(&domain, &op, &usage);
        }
        Ok(config)
    }
}

/// Splits `Op1,Op2{json},Op3` into names and optional JSON (braces balanced).
fn split_ops(s: &str) -> std::result::Result<Vec<(&str, Option<&str>)>, String> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut cur = 0;
    while cur < bytes.len() {
        let next_comma = s[cur..].find(',').map_or(bytes.len(), |i| cur + i);
        let next_brace = s[cur..].find('{').map(|i| cur + i);
        match next_brace {
            Some(open) if open < next_comma => {
                let mut depth = 0usize;
                let mut end = None;
                for (i, b) in bytes.iter().enumerate().skip(open) {
                    match b {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| format!("unbalanced '{{' in '{}'", &s[open..]))?;
                out.push((s[cur..open].trim(), Some(&s[open..end])));
                let rest = s[end..].trim_start();
                if !(rest.is_empty() || rest.starts_with(',')) {
                    return Err(format!("unexpected text after type information: '{rest}'"));
                }
                cur = end + (s.len() - end - rest.len()) + 1;
            }
            _ => {
                out.push((s[cur..next_comma].trim(), None));
                cur = next_comma + 1;
            }
        }
    }
    Ok(out)
}
