//! The `--graph-optimization LEVEL` and `--disable-rewrite NAME` arguments that `build`,
//! `convert` and `ops` share.

use ort_compact_build::{GraphOptimization, GraphOptimizer, Rewrite};

/// Parses `none`, `basic` or `extended`.
pub fn parse_graph_optimization(text: &str) -> Result<GraphOptimization, String> {
    GraphOptimization::parse(text)
        .ok_or_else(|| format!("`{text}`: expected `none`, `basic` or `extended`"))
}

/// Parses a rewrite's name; an unknown name's error lists the rewrites there are.
pub fn parse_rewrite(text: &str) -> Result<Rewrite, String> {
    Rewrite::parse(text).ok_or_else(|| Rewrite::unknown(text))
}

/// `level` less the rewrites in `disabled`.
pub fn optimizer(level: GraphOptimization, disabled: &[Rewrite]) -> GraphOptimizer {
    let mut optimizer = GraphOptimizer::new(level);
    for r in disabled {
        optimizer.disable(*r);
    }
    optimizer
}
