//! The kernel-type-string resolver table a minimal ONNX Runtime build uses to match kernels:
//! per operator id (`domain:op_type:since_version`), which inputs/outputs each kernel type
//! string (a type-constraint name, or a formal parameter name) refers to.

use super::graph::PreparedGraph;
use super::schema::OpSchema;
use std::collections::BTreeMap;

/// Whether an argument is an input or an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ArgKind {
    /// Node input.
    Input = 0,
    /// Node output.
    Output = 1,
}

/// Args per kernel type string, ordered by type string.
pub(crate) type TypeStrArgs = BTreeMap<String, Vec<(ArgKind, u32)>>;

/// The resolver: op id -> type string -> args, ordered by op id.
pub(crate) type Resolver = BTreeMap<String, TypeStrArgs>;

/// The op id string of a schema.
pub(crate) fn op_id(schema: &OpSchema) -> String {
    format!(
        "{}:{}:{}",
        schema.domain, schema.op_type, schema.since_version
    )
}

/// Kernel type strings of one schema.
pub(crate) fn schema_entry(schema: &OpSchema) -> TypeStrArgs {
    let mut map = TypeStrArgs::new();
    let params = [
        (ArgKind::Input, &schema.inputs),
        (ArgKind::Output, &schema.outputs),
    ];
    for (kind, formals) in params {
        for (i, p) in formals.iter().enumerate() {
            let key = if schema.constraint(p.type_str).is_some() {
                p.type_str
            } else {
                p.name
            };
            map.entry(key.to_string())
                .or_default()
                .push((kind, u32::try_from(i).unwrap_or(u32::MAX)));
        }
    }
    map
}

/// Register the schemas of all nodes of a graph and its subgraphs.
pub(crate) fn register_graph(resolver: &mut Resolver, g: &PreparedGraph<'_>) {
    for n in &g.nodes {
        resolver
            .entry(op_id(n.schema))
            .or_insert_with(|| schema_entry(n.schema));
        for (_, sub) in &n.subgraphs {
            register_graph(resolver, sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ort_format::schema::table;

    #[test]
    fn batchnorm_shares_names_and_constraints() {
        let s = table().resolve("", "BatchNormalization", 9).unwrap();
        let e = schema_entry(s);
        assert_eq!(op_id(s), ":BatchNormalization:9");
        assert!(e.contains_key("T"));
        let add = table().resolve("", "Add", 14).unwrap();
        let e = schema_entry(add);
        assert_eq!(
            e.get("T").unwrap(),
            &vec![
                (ArgKind::Input, 0),
                (ArgKind::Input, 1),
                (ArgKind::Output, 0)
            ]
        );
    }
}
