//! Checks of the required operators against the registrations found: missing kernels (an
//! error), kernels removed by type reduction, kernels that exist only under preprocessor
//! conditions.

use crate::error::{Error, Result};
use crate::reduce::registrations::Registration;
use crate::reduce::required::Requirements;
use std::collections::BTreeSet;

/// One registration entry of the CPU or contrib file and whether it was kept.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Domain name ("ai.onnx", …).
    pub domain: String,
    /// The registration.
    pub registration: Registration,
    /// Kept active in the generated file.
    pub kept: bool,
}

/// Conditions the build handles itself through the contrib/ML switches.
const HANDLED_CONDITIONS: [&str; 2] = ["#ifndef DISABLE_ML_OPS", "#ifndef DISABLE_CONTRIB_OPS"];

fn covering<'a>(
    entries: &'a [Entry],
    domain: &'a str,
    op: &'a str,
    opset: i64,
) -> impl Iterator<Item = &'a Entry> + 'a {
    entries.iter().filter(move |e| {
        e.domain == domain && e.registration.op_type == op && e.registration.covers(opset)
    })
}

/// Fails with [`Error::NoKernel`] for the first required operator that no registration covers.
pub(crate) fn kernels_exist(
    requirements: &Requirements,
    entries: &[Entry],
    exempt: &[(&str, &str)],
) -> Result<()> {
    for (domain, opset, op) in requirements.triples() {
        if exempt.contains(&(domain, op)) || covering(entries, domain, op, opset).next().is_some() {
            continue;
        }
        let ranges: BTreeSet<(i64, Option<i64>)> = entries
            .iter()
            .filter(|e| e.domain == domain && e.registration.op_type == op)
            .map(|e| (e.registration.since, e.registration.end))
            .collect();
        let available = if ranges.is_empty() {
            "no kernel for this operator at all".to_string()
        } else {
            let list: Vec<String> = ranges
                .iter()
                .map(|(since, end)| match end {
                    Some(end) => format!("{since}-{end}"),
                    None => format!("{since}+"),
                })
                .collect();
            format!("kernels exist for opsets {}", list.join(", "))
        };
        return Err(Error::NoKernel {
            domain: domain.to_string(),
            op_type: op.to_string(),
            opset,
            available,
        });
    }
    Ok(())
}

/// Required `domain:Op(opset)` that have registrations but kept none of them.
pub(crate) fn reduced_away(requirements: &Requirements, entries: &[Entry]) -> Vec<String> {
    requirements
        .triples()
        .filter(|(domain, opset, op)| {
            let mut any = false;
            for e in covering(entries, domain, op, *opset) {
                if e.kept {
                    return false;
                }
                any = true;
            }
            any
        })
        .map(|(domain, opset, op)| format!("{domain}:{op}({opset})"))
        .collect()
}

/// Required `domain:Op(opset): conditions` whose kept registrations are all conditional.
pub(crate) fn conditional(requirements: &Requirements, entries: &[Entry]) -> Vec<String> {
    let mut out = Vec::new();
    for (domain, opset, op) in requirements.triples() {
        let mut first: Option<Vec<&str>> = None;
        let mut all_conditional = true;
        for e in covering(entries, domain, op, opset).filter(|e| e.kept) {
            let conditions: Vec<&str> = e
                .registration
                .conditions
                .iter()
                .map(String::as_str)
                .filter(|c| !HANDLED_CONDITIONS.contains(c))
                .collect();
            all_conditional &= !conditions.is_empty();
            first.get_or_insert(conditions);
        }
        if let (true, Some(conditions)) = (all_conditional, first) {
            out.push(format!(
                "{domain}:{op}({opset}): {}",
                conditions.join(" && ")
            ));
        }
    }
    out
}
