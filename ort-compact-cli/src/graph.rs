//! The `--graph-optimization LEVEL` argument that `build`, `convert` and `ops` share.

use ort_compact_build::GraphOptimization;

/// Parses `none`, `basic` or `extended`.
pub fn parse_graph_optimization(text: &str) -> Result<GraphOptimization, String> {
    GraphOptimization::parse(text)
        .ok_or_else(|| format!("`{text}`: expected `none`, `basic` or `extended`"))
}
