//! The graph optimizer: rewrites of an ONNX graph that keep every output's value (folding
//! into weights rounds as ONNX Runtime's own fusion does), run on the model after its local
//! functions are inlined and before the `.ort` writer prepares it. A
//! minimal ONNX Runtime cannot optimize at load time, so what this stage leaves in the `.ort`
//! is what the browser runs on every inference; the ops stage reads the optimized graph, so the
//! runtime holds the kernels the `.ort` really uses.
//!
//! Levels follow ONNX Runtime's: [`GraphOptimization::None`] writes the graph as it is,
//! [`GraphOptimization::Basic`] runs the rewrites that need no new kernels (constant folding,
//! folding into `Conv` weights, `MatMul` + `Add` into `Gemm`, common subexpressions,
//! eliminations), [`GraphOptimization::Extended`] adds fusions into ORT's contrib kernels
//! (`FusedConv`, `FusedGemm`). Each pass is a small unit (`fold`, `weights`, `gemm`, `cse`, `eliminate`,
//! `noop`, `fuse`), with what it knows of types and shapes from `infer`; most run on every subgraph, innermost first, while
//! folding walks down so that subgraphs see their enclosing graphs' constants. A value a
//! subgraph reads from its enclosing graph, or a graph output, is never removed or renamed.

mod cse;
mod eliminate;
mod fold;
mod fuse;
mod gemm;
mod infer;
mod node;
mod noop;
mod uses;
mod value;
mod weights;
#[cfg(test)]
pub(crate) use weights::tests as weights_tests;

use crate::model::onnx::{GraphProto, ModelProto, OperatorSetIdProto};
use crate::model::ModelLocation;
use std::fmt;
use std::path::Path;

/// How much the converter optimizes a model's graph before writing the `.ort`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphOptimization {
    /// The graph as the model has it.
    #[default]
    None,
    /// Rewrites into standard operators: constant folding, `BatchNormalization`, per-channel
    /// `Add` and `Mul` folded into the `Conv` before them, `MatMul` + bias into `Gemm`, common
    /// subexpressions computed once, eliminations of `Identity`, inference-mode `Dropout` and
    /// no-op `Transpose`, `Slice`, `Cast`, `Reshape`, `Expand`, `Unsqueeze`/`Squeeze` pairs and
    /// arithmetic with a neutral constant, and removal of nodes nothing reads.
    Basic,
    /// `Basic`, plus fusions into ONNX Runtime's contrib kernels: a `Conv` or `Gemm` and the
    /// activation after it become one `FusedConv` or `FusedGemm`.
    Extended,
}

impl GraphOptimization {
    /// Parses `none`, `basic` or `extended`.
    pub fn parse(s: &str) -> Option<GraphOptimization> {
        match s {
            "none" => Some(GraphOptimization::None),
            "basic" => Some(GraphOptimization::Basic),
            "extended" => Some(GraphOptimization::Extended),
            _ => None,
        }
    }

    /// The level's name, as [`GraphOptimization::parse`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            GraphOptimization::None => "none",
            GraphOptimization::Basic => "basic",
            GraphOptimization::Extended => "extended",
        }
    }
}

impl fmt::Display for GraphOptimization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the optimizer needs to know of the model besides the graph.
pub(crate) struct Model {
    /// The model's ai.onnx opset.
    pub opset: i64,
    /// Where the model is (external data of initializers the folder reads).
    pub loc: ModelLocation,
}

/// One rewrite: applies itself to a graph wherever it can, returns how often it did.
struct Pass {
    name: &'static str,
    level: GraphOptimization,
    run: fn(&Model, &mut GraphProto) -> usize,
    /// Whether `run` visits the subgraphs itself (else it runs on each graph, innermost first).
    walks_subgraphs: bool,
}

const PASSES: &[Pass] = &[
    Pass {
        name: "constant folding",
        level: GraphOptimization::Basic,
        run: fold::constants,
        walks_subgraphs: true,
    },
    Pass {
        name: "common subexpression elimination",
        level: GraphOptimization::Basic,
        run: cse::common_subexpressions,
        walks_subgraphs: false,
    },
    Pass {
        name: "Conv + BatchNormalization folding",
        level: GraphOptimization::Basic,
        run: weights::conv_batch_norm,
        walks_subgraphs: false,
    },
    Pass {
        name: "Conv + Add folding",
        level: GraphOptimization::Basic,
        run: weights::conv_add,
        walks_subgraphs: false,
    },
    Pass {
        name: "Conv + Mul folding",
        level: GraphOptimization::Basic,
        run: weights::conv_mul,
        walks_subgraphs: false,
    },
    Pass {
        name: "MatMul + Add fusion into Gemm",
        level: GraphOptimization::Basic,
        run: gemm::matmul_add,
        walks_subgraphs: false,
    },
    Pass {
        name: "Identity elimination",
        level: GraphOptimization::Basic,
        run: eliminate::identity,
        walks_subgraphs: false,
    },
    Pass {
        name: "Dropout elimination",
        level: GraphOptimization::Basic,
        run: eliminate::dropout,
        walks_subgraphs: false,
    },
    Pass {
        name: "no-op elimination",
        level: GraphOptimization::Basic,
        run: noop::noops,
        walks_subgraphs: true,
    },
    Pass {
        name: "Conv + activation fusion into FusedConv",
        level: GraphOptimization::Extended,
        run: fuse::conv_activation,
        walks_subgraphs: false,
    },
    Pass {
        name: "Gemm + activation fusion into FusedGemm",
        level: GraphOptimization::Extended,
        run: fuse::gemm_activation,
        walks_subgraphs: false,
    },
    Pass {
        name: "dead node removal",
        level: GraphOptimization::Basic,
        run: noop::dead,
        walks_subgraphs: false,
    },
];

/// Rewrites per pass, in pass order (passes that did nothing included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// (pass name, rewrites made).
    pub passes: Vec<(&'static str, usize)>,
}

/// Rounds of all passes at most: a rewrite can enable another (a fold after an elimination).
const MAX_ROUNDS: usize = 4;

/// Optimize `model` (the file `path`, for external data) in place at `level`.
pub(crate) fn optimize(model: &mut ModelProto, path: &Path, level: GraphOptimization) -> Report {
    let info = Model {
        opset: model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(0, |o| o.version),
        loc: ModelLocation::new(path),
    };
    let passes: Vec<&Pass> = PASSES.iter().filter(|p| p.level <= level).collect();
    let mut report = Report {
        passes: passes.iter().map(|p| (p.name, 0)).collect(),
    };
    let Some(graph) = model.graph.as_mut() else {
        return report;
    };
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for (pass, (_, total)) in passes.iter().zip(&mut report.passes) {
            let n = match pass.walks_subgraphs {
                true => (pass.run)(&info, graph),
                false => everywhere(graph, &|g| (pass.run)(&info, g)),
            };
            *total += n;
            changed |= n > 0;
        }
        if !changed {
            break;
        }
    }
    import_contrib_domain(model);
    report
}

/// The `com.microsoft` opset import a model needs once fusions put contrib operators in it.
fn import_contrib_domain(model: &mut ModelProto) {
    fn uses_contrib(g: &GraphProto) -> bool {
        g.node.iter().any(|n| {
            n.domain == fuse::MS_DOMAIN
                || n.attribute
                    .iter()
                    .any(|a| a.g.iter().chain(&a.graphs).any(uses_contrib))
        })
    }
    let imported = model
        .opset_import
        .iter()
        .any(|o| o.domain == fuse::MS_DOMAIN);
    if !imported && model.graph.as_ref().is_some_and(uses_contrib) {
        model.opset_import.push(OperatorSetIdProto {
            domain: fuse::MS_DOMAIN.into(),
            version: 1,
        });
    }
}

/// `run` over every subgraph of `g` (innermost first), then over `g`; rewrites summed.
fn everywhere(g: &mut GraphProto, run: &dyn Fn(&mut GraphProto) -> usize) -> usize {
    let mut n = 0;
    for node in &mut g.node {
        for attr in &mut node.attribute {
            for sub in attr.g.iter_mut().chain(attr.graphs.iter_mut()) {
                n += everywhere(sub, run);
            }
        }
    }
    n + run(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_print_and_order() {
        for level in [
            GraphOptimization::None,
            GraphOptimization::Basic,
            GraphOptimization::Extended,
        ] {
            assert_eq!(GraphOptimization::parse(level.as_str()), Some(level));
            assert_eq!(level.to_string(), level.as_str());
        }
        assert_eq!(GraphOptimization::parse("all"), None);
        assert!(GraphOptimization::None < GraphOptimization::Basic);
        assert!(GraphOptimization::Basic < GraphOptimization::Extended);
        assert_eq!(GraphOptimization::default(), GraphOptimization::None);
    }
}
