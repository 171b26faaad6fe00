//! Deriving the required kernels and the type filter from an [`OpConfig`] (the same derivation
//! ORT's config parser makes).

use crate::error::{Error, Result};
use crate::ops::OpConfig;
use crate::reduce::required::Requirements;
use crate::reduce::types::TypeFilter;

/// The required kernels. A config without operators but with
/// `!no_ops_specified_means_all_ops_are_required` requires all of them.
pub(crate) fn requirements(config: &OpConfig) -> Requirements {
    let mut req = Requirements {
        all: config.no_ops_means_all && config.is_empty(),
        ..Default::default()
    };
    for (domain, opsets) in &config.ops {
        for (opset, ops) in opsets {
            for op in ops.keys() {
                req.add(domain, *opset, op);
            }
        }
    }
    req
}

/// The type filter (`None`: every typed registration of a required op is kept and the overrides
/// file is copied unchanged).
pub(crate) fn type_filter(config: &OpConfig, type_reduction: bool) -> Result<Option<TypeFilter>> {
    if !type_reduction {
        return Ok(None);
    }
    match (&config.globally_allowed_types, config.has_type_usage()) {
        (Some(_), true) => Err(Error::Config(
            "the op config has both `!globally_allowed_types` and per-operator type information; \
             use one or the other"
                .into(),
        )),
        (Some(global), false) => TypeFilter::global(global.clone()).map(Some),
        (None, true) => {
            let mut entries = Vec::new();
            for (domain, opsets) in &config.ops {
                for ops in opsets.values() {
                    for op in ops.keys() {
                        if let Some(usage) = config.type_usage(domain, op) {
                            entries.push((domain.as_str(), op.as_str(), usage.clone()));
                        }
                    }
                }
            }
            Ok(Some(TypeFilter::per_op(entries)))
        }
        (None, false) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation() {
        let c = OpConfig::parse("ai.onnx;13;Add{\"inputs\": {\"0\": [\"float\"]}},Relu\n").unwrap();
        let r = requirements(&c);
        assert!(r.is_required("ai.onnx", "Relu", 13, None) && !r.all);
        assert!(type_filter(&c, false).unwrap().is_none());
        let f = type_filter(&c, true).unwrap().unwrap();
        assert!(!f.is_needed("ai.onnx", "Add", "double").unwrap());
        let all = OpConfig::parse("!no_ops_specified_means_all_ops_are_required\n").unwrap();
        assert!(requirements(&all).all);
        let g = OpConfig::parse("ai.onnx;13;Add\n!globally_allowed_types;float\n").unwrap();
        assert!(matches!(
            type_filter(&g, true).unwrap(),
            Some(TypeFilter::Global(_))
        ));
    }
}
