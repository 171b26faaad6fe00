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
//! (`FusedConv`, `FusedGemm`, `FusedMatMul`, `QuickGelu`) and `LayerNormalization`. Each pass
//! is a small unit (`fold`, `weights`, `gemm`, `cse`, `eliminate`, `noop`, `fuse`, `matmul`,
//! `gelu`, `layer_norm`, `attention`), with what it knows of types and shapes from `infer`; most run on every subgraph, innermost first, while
//! folding walks down so that subgraphs see their enclosing graphs' constants. A value a
//! subgraph reads from its enclosing graph, or a graph output, is never removed or renamed.
//! Any rewrite can be turned off by name ([`Rewrite`], [`GraphOptimizer`]).

mod attention;
mod bias_gelu;
mod cse;
mod eliminate;
mod facts;
mod fold;
mod fuse;
mod gelu;
mod gelu_formula;
mod gemm;
mod infer;
mod layer_norm;
mod matmul;
mod node;
mod noop;
mod options;
mod product;
mod skip_layer_norm;
mod split;
mod uses;
mod value;
mod weights;
#[cfg(test)]
pub(crate) use attention::tests as attention_tests;
#[cfg(test)]
pub(crate) use weights::tests as weights_tests;

use crate::model::onnx::{GraphProto, ModelProto, OperatorSetIdProto};
use crate::model::ModelLocation;
use infer::Shape;
pub use options::{GraphOptimization, GraphOptimizer, Rewrite};
use std::collections::HashMap;
use std::path::Path;

/// What the optimizer needs to know of the model besides the graph.
pub(crate) struct Model {
    /// The model's ai.onnx opset.
    pub opset: i64,
    /// Where the model is (external data of initializers the folder reads).
    pub loc: ModelLocation,
    /// When a pass runs on a subgraph: what its enclosing graphs know of their values.
    outer: Outer,
}

/// The element types and shapes of the values of a subgraph's enclosing graphs.
#[derive(Default)]
struct Outer {
    types: HashMap<String, i32>,
    shapes: HashMap<String, Shape>,
}

impl Model {
    /// The element types of `g`'s values (and of the enclosing graphs' values it may read).
    fn types(&self, g: &GraphProto) -> HashMap<String, i32> {
        infer::elem_types(g, &self.outer.types)
    }

    /// The shapes of `g`'s values (and of the enclosing graphs' values it may read).
    fn shapes(&self, g: &GraphProto) -> HashMap<String, Shape> {
        infer::shapes(g, &self.loc, self.opset, &self.outer.shapes)
    }

    /// The model as a subgraph of `g` sees it.
    fn within(&self, g: &GraphProto) -> Model {
        Model {
            opset: self.opset,
            loc: self.loc.clone(),
            outer: Outer {
                types: self.types(g),
                shapes: self.shapes(g),
            },
        }
    }
}

/// One rewrite: applies itself to a graph wherever it can, returns how often it did.
struct Pass {
    rewrite: Rewrite,
    run: fn(&Model, &mut GraphProto) -> usize,
    /// Whether `run` visits the subgraphs itself (else it runs on each graph, innermost first).
    walks_subgraphs: bool,
}

/// The passes, the fusions in the order of ONNX Runtime's level-2 transformers (a fusion can
/// take another's nodes: `MatMulScaleFusion` comes after the Gelu and layer norm fusions there).
const PASSES: &[Pass] = &[
    Pass {
        rewrite: Rewrite::ConstantFolding,
        run: fold::constants,
        walks_subgraphs: true,
    },
    Pass {
        rewrite: Rewrite::CommonSubexpressions,
        run: cse::common_subexpressions,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::ConvBatchNorm,
        run: weights::conv_batch_norm,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::ConvAdd,
        run: weights::conv_add,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::ConvMul,
        run: weights::conv_mul,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::MatmulAddGemm,
        run: gemm::matmul_add,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::IdentityElimination,
        run: eliminate::identity,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::DropoutElimination,
        run: eliminate::dropout,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::NoopElimination,
        run: noop::noops,
        walks_subgraphs: true,
    },
    Pass {
        rewrite: Rewrite::GemmActivation,
        run: fuse::gemm_activation,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::ConvActivation,
        run: fuse::conv_activation,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::Gelu,
        run: gelu_formula::gelu,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::LayerNorm,
        run: layer_norm::layer_norm,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::Attention,
        run: attention::attention,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::GatherSliceToSplit,
        run: split::slice_to_split,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::MatmulTranspose,
        run: matmul::transpose,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::BiasGelu,
        run: bias_gelu::bias_gelu,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::SkipLayerNorm,
        run: skip_layer_norm::skip_layer_norm,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::FastGelu,
        run: gelu_formula::fast_gelu,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::QuickGelu,
        run: gelu::quick_gelu,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::MatmulScale,
        run: matmul::scale,
        walks_subgraphs: false,
    },
    Pass {
        rewrite: Rewrite::DeadNodes,
        run: noop::dead,
        walks_subgraphs: false,
    },
];

/// Rewrites per pass, in pass order (passes that did nothing included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// (rewrite, times it applied).
    pub passes: Vec<(Rewrite, usize)>,
}

/// Rounds of all passes at most: a rewrite can enable another (a fold after an elimination).
const MAX_ROUNDS: usize = 4;

/// Optimize `model` (the file `path`, for external data) in place with the rewrites `optimizer`
/// runs (a [`GraphOptimization`] level runs all of its own).
pub(crate) fn optimize(
    model: &mut ModelProto,
    path: &Path,
    optimizer: impl Into<GraphOptimizer>,
) -> Report {
    let optimizer = optimizer.into();
    let info = Model {
        opset: model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(0, |o| o.version),
        loc: ModelLocation::new(path),
        outer: Outer::default(),
    };
    let passes: Vec<&Pass> = PASSES
        .iter()
        .filter(|p| optimizer.runs(p.rewrite))
        .collect();
    let mut report = Report {
        passes: passes.iter().map(|p| (p.rewrite, 0)).collect(),
    };
    let Some(graph) = model.graph.as_mut() else {
        return report;
    };
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for (pass, (_, total)) in passes.iter().zip(&mut report.passes) {
            let n = match pass.walks_subgraphs {
                true => (pass.run)(&info, graph),
                false => everywhere(&info, graph, pass.run),
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

/// `run` over every subgraph of `g` (innermost first, each seeing what its enclosing graphs
/// know of their values' types and shapes), then over `g`; rewrites summed.
fn everywhere(
    model: &Model,
    g: &mut GraphProto,
    run: fn(&Model, &mut GraphProto) -> usize,
) -> usize {
    let mut n = 0;
    let has_subgraphs = g
        .node
        .iter()
        .flat_map(|n| &n.attribute)
        .any(|a| a.g.is_some() || !a.graphs.is_empty());
    if has_subgraphs {
        let inner = model.within(g);
        for node in &mut g.node {
            for attr in &mut node.attribute {
                for sub in attr.g.iter_mut().chain(attr.graphs.iter_mut()) {
                    n += everywhere(&inner, sub, run);
                }
            }
        }
    }
    n + run(model, g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_run_every_rewrite_once_in_the_documented_order() {
        let order: Vec<Rewrite> = PASSES.iter().map(|p| p.rewrite).collect();
        assert_eq!(order, Rewrite::ALL);
    }
}
