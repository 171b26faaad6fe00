//! What the optimizer is asked to do: a level ([`GraphOptimization`]) and the rewrites turned
//! off at it ([`Rewrite`], [`GraphOptimizer`]).

use std::collections::BTreeSet;
use std::fmt;

/// How much the converter optimizes a model's graph before writing the `.ort`. The default is
/// [`GraphOptimization::Extended`], what stock ONNX Runtime does to a model when it loads it
/// (a minimal runtime cannot): outputs stay within float32 rounding of the graph as written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphOptimization {
    /// The graph as the model has it.
    None,
    /// Rewrites into standard operators: constant folding, `BatchNormalization`, per-channel
    /// `Add` and `Mul` folded into the `Conv` before them, `MatMul` + bias into `Gemm`, common
    /// subexpressions computed once, eliminations of `Identity`, inference-mode `Dropout` and
    /// no-op `Transpose`, `Slice`, `Cast`, `Reshape`, `Expand`, `Unsqueeze`/`Squeeze` pairs and
    /// arithmetic with a neutral constant, and removal of nodes nothing reads.
    Basic,
    /// `Basic`, plus fusions into ONNX Runtime's contrib kernels: a `Conv` or `Gemm` and the
    /// activation after it become one `FusedConv` or `FusedGemm`; a `MatMul` with a transposed
    /// or constant-scaled operand, or a constant-scaled product, becomes one `FusedMatMul`;
    /// `x · Sigmoid(α·x)` (Swish for α = 1) becomes one `QuickGelu`; the Gelu formulas written
    /// out become one `Gelu` (Erf) or `FastGelu` (Tanh), a bias `Add` before them goes into
    /// `BiasGelu` or `FastGelu`; and a layer normalization written out becomes one
    /// `LayerNormalization`, with a residual `Add` before it one `SkipLayerNormalization`;
    /// multi-head self-attention written out becomes one `Attention`; `Gather`s and `Slice`s
    /// cutting a value into pieces become one `Split`. The default.
    #[default]
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

/// One rewrite of the optimizer, which a user can turn off (as ONNX Runtime's
/// `disabled_optimizers` session option does): for a fusion whose contrib kernel costs more
/// bytes than it saves time for the model at hand, or to rule a rewrite out while chasing a
/// difference in outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rewrite {
    /// Constant folding, including shape subgraphs over static shapes.
    ConstantFolding,
    /// Common subexpressions computed once.
    CommonSubexpressions,
    /// `BatchNormalization` folded into the `Conv` before it.
    ConvBatchNorm,
    /// A per-channel `Add` folded into the `Conv` before it.
    ConvAdd,
    /// A per-channel `Mul` folded into the `Conv` before it.
    ConvMul,
    /// `MatMul` + bias `Add` into `Gemm`.
    MatmulAddGemm,
    /// `Identity` elimination.
    IdentityElimination,
    /// Inference-mode `Dropout` elimination.
    DropoutElimination,
    /// No-op `Transpose`, `Slice`, `Cast`, `Reshape`, `Expand`, `Unsqueeze`/`Squeeze` pairs and
    /// arithmetic with a neutral constant.
    NoopElimination,
    /// `Conv` + activation into `FusedConv` (com.microsoft).
    ConvActivation,
    /// `Gemm` + activation into `FusedGemm` (com.microsoft).
    GemmActivation,
    /// A `Mul` or `Div` by a one-element constant of a `MatMul` operand or product into
    /// `FusedMatMul`'s `alpha` (com.microsoft).
    MatmulScale,
    /// A `Transpose` of a `MatMul` operand into `FusedMatMul` (com.microsoft).
    MatmulTranspose,
    /// `x · Sigmoid(α·x)` and Swish `x · Sigmoid(x)` into `QuickGelu` (com.microsoft).
    QuickGelu,
    /// `0.5 · x · (1 + Erf(x / √2))` into `Gelu` (com.microsoft; ONNX's own from opset 20).
    Gelu,
    /// `0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))` into `FastGelu` (com.microsoft).
    FastGelu,
    /// A bias `Add` of the last axis before `Gelu` or `FastGelu` into `BiasGelu` or `FastGelu`'s
    /// bias input (com.microsoft).
    BiasGelu,
    /// Layer normalization written out (`ReduceMean`, `Sub`, `Pow`, `Sqrt`, `Div`, `Mul`, `Add`)
    /// into `LayerNormalization`.
    LayerNorm,
    /// Multi-head self-attention written out (query, key and value projections, scaled scores,
    /// an optional padding mask, `Softmax`) into `Attention` (com.microsoft).
    Attention,
    /// `Gather`s and `Slice`s cutting one value along one axis into pieces that cover it, into
    /// one `Split`.
    GatherSliceToSplit,
    /// A residual `Add` (and a bias `Add`) before `LayerNormalization` into
    /// `SkipLayerNormalization` (com.microsoft).
    SkipLayerNorm,
    /// Removal of nodes nothing reads.
    DeadNodes,
}

impl Rewrite {
    /// Every rewrite, in the order the optimizer runs them.
    pub const ALL: [Rewrite; 22] = [
        Rewrite::ConstantFolding,
        Rewrite::CommonSubexpressions,
        Rewrite::ConvBatchNorm,
        Rewrite::ConvAdd,
        Rewrite::ConvMul,
        Rewrite::MatmulAddGemm,
        Rewrite::IdentityElimination,
        Rewrite::DropoutElimination,
        Rewrite::NoopElimination,
        Rewrite::GemmActivation,
        Rewrite::ConvActivation,
        Rewrite::Gelu,
        Rewrite::LayerNorm,
        Rewrite::Attention,
        Rewrite::GatherSliceToSplit,
        Rewrite::MatmulTranspose,
        Rewrite::BiasGelu,
        Rewrite::SkipLayerNorm,
        Rewrite::FastGelu,
        Rewrite::QuickGelu,
        Rewrite::MatmulScale,
        Rewrite::DeadNodes,
    ];

    /// The rewrite's name, as `--disable-rewrite` and [`Rewrite::parse`] take it.
    pub fn name(self) -> &'static str {
        match self {
            Rewrite::ConstantFolding => "constant-folding",
            Rewrite::CommonSubexpressions => "common-subexpressions",
            Rewrite::ConvBatchNorm => "conv-batch-norm",
            Rewrite::ConvAdd => "conv-add",
            Rewrite::ConvMul => "conv-mul",
            Rewrite::MatmulAddGemm => "matmul-add-gemm",
            Rewrite::IdentityElimination => "identity-elimination",
            Rewrite::DropoutElimination => "dropout-elimination",
            Rewrite::NoopElimination => "noop-elimination",
            Rewrite::ConvActivation => "conv-activation",
            Rewrite::GemmActivation => "gemm-activation",
            Rewrite::MatmulTranspose => "matmul-transpose",
            Rewrite::MatmulScale => "matmul-scale",
            Rewrite::QuickGelu => "quick-gelu",
            Rewrite::Gelu => "gelu",
            Rewrite::FastGelu => "fast-gelu",
            Rewrite::BiasGelu => "bias-gelu",
            Rewrite::LayerNorm => "layer-norm",
            Rewrite::SkipLayerNorm => "skip-layer-norm",
            Rewrite::Attention => "attention",
            Rewrite::GatherSliceToSplit => "gather-slice-to-split",
            Rewrite::DeadNodes => "dead-nodes",
        }
    }

    /// The lowest level that runs the rewrite.
    pub fn level(self) -> GraphOptimization {
        match self {
            Rewrite::ConvActivation
            | Rewrite::GemmActivation
            | Rewrite::MatmulTranspose
            | Rewrite::MatmulScale
            | Rewrite::QuickGelu
            | Rewrite::Gelu
            | Rewrite::FastGelu
            | Rewrite::BiasGelu
            | Rewrite::LayerNorm
            | Rewrite::SkipLayerNorm
            | Rewrite::Attention
            | Rewrite::GatherSliceToSplit => GraphOptimization::Extended,
            _ => GraphOptimization::Basic,
        }
    }

    /// Parses a rewrite's name (case and surrounding space ignored).
    pub fn parse(text: &str) -> Option<Rewrite> {
        let text = text.trim().to_ascii_lowercase();
        Rewrite::ALL.into_iter().find(|r| r.name() == text)
    }

    /// Parses a comma-separated list of names (empty items ignored); an unknown name is the
    /// error, with the names there are.
    pub fn parse_list(text: &str) -> Result<Vec<Rewrite>, String> {
        text.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| Rewrite::parse(s).ok_or_else(|| Rewrite::unknown(s)))
            .collect()
    }

    /// The message for a name that is not a rewrite's.
    pub fn unknown(text: &str) -> String {
        let names: Vec<&str> = Rewrite::ALL.iter().map(|r| r.name()).collect();
        format!(
            "`{}` is not a rewrite; the rewrites are: {}",
            text.trim(),
            names.join(", ")
        )
    }
}

impl fmt::Display for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the optimizer does to a graph: the rewrites of a level, less those turned off.
/// A [`GraphOptimization`] converts into one with nothing turned off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GraphOptimizer {
    level: GraphOptimization,
    disabled: BTreeSet<Rewrite>,
}

impl GraphOptimizer {
    /// Every rewrite of `level`.
    pub fn new(level: GraphOptimization) -> Self {
        GraphOptimizer {
            level,
            disabled: BTreeSet::new(),
        }
    }

    /// Turn `rewrite` off.
    pub fn disable(&mut self, rewrite: Rewrite) -> &mut Self {
        self.disabled.insert(rewrite);
        self
    }

    /// The level.
    pub fn level(&self) -> GraphOptimization {
        self.level
    }

    /// The rewrites turned off, in run order (also those the level would not run anyway).
    pub fn disabled(&self) -> Vec<Rewrite> {
        self.disabled.iter().copied().collect()
    }

    /// Whether `rewrite` runs.
    pub fn runs(&self, rewrite: Rewrite) -> bool {
        rewrite.level() <= self.level && !self.disabled.contains(&rewrite)
    }

    /// Whether anything runs at all.
    pub fn is_none(&self) -> bool {
        !Rewrite::ALL.into_iter().any(|r| self.runs(r))
    }
}

impl From<GraphOptimization> for GraphOptimizer {
    fn from(level: GraphOptimization) -> Self {
        GraphOptimizer::new(level)
    }
}

impl fmt::Display for GraphOptimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.level)?;
        if !self.disabled.is_empty() {
            let names: Vec<&str> = self.disabled.iter().map(|r| r.name()).collect();
            write!(f, " without {}", names.join(", "))?;
        }
        Ok(())
    }
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
        assert_eq!(GraphOptimization::default(), GraphOptimization::Extended);
    }

    #[test]
    fn rewrites_parse_by_name_and_unknown_names_list_the_known_ones() {
        for r in Rewrite::ALL {
            assert_eq!(Rewrite::parse(r.name()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.name())
            );
        }
        assert_eq!(
            Rewrite::parse_list(" Conv-Activation,,gemm-activation "),
            Ok(vec![Rewrite::ConvActivation, Rewrite::GemmActivation])
        );
        let err = Rewrite::parse_list("conv-activation,fusedconv").unwrap_err();
        assert!(err.starts_with("`fusedconv` is not a rewrite"), "{err}");
        assert!(err.contains("constant-folding") && err.contains("dead-nodes"));
    }

    #[test]
    fn a_disabled_rewrite_does_not_run_and_levels_bound_the_rest() {
        let mut o = GraphOptimizer::new(GraphOptimization::Extended);
        assert!(o.runs(Rewrite::ConvActivation) && !o.is_none());
        o.disable(Rewrite::ConvActivation);
        assert!(!o.runs(Rewrite::ConvActivation) && o.runs(Rewrite::GemmActivation));
        assert_eq!(o.to_string(), "extended without conv-activation");
        let basic = GraphOptimizer::from(GraphOptimization::Basic);
        assert!(!basic.runs(Rewrite::GemmActivation) && basic.runs(Rewrite::ConstantFolding));
        assert_eq!(
            GraphOptimizer::default(),
            GraphOptimization::Extended.into()
        );
        assert!(GraphOptimizer::from(GraphOptimization::None).is_none());
        let mut all_off = basic.clone();
        for r in Rewrite::ALL {
            all_off.disable(r);
        }
        assert!(all_off.is_none());
    }
}
