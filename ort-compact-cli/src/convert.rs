//! `ort-compact convert`: turn an `.onnx` model into an ORT-format (`.ort`) model natively.

use crate::graph::{optimizer, parse_graph_optimization, parse_rewrite};
use ort_compact_build::{tools, GraphOptimization, Result, Rewrite};
use std::path::PathBuf;

/// Arguments of `ort-compact convert`.
#[derive(clap::Args)]
pub struct Args {
    /// The `.onnx` model to convert.
    model: PathBuf,
    /// Where to write the `.ort` model (default: the model path with extension `.ort`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Optimize the graph first: `none`, `basic` (folding, eliminations) or `extended` (default:
    /// basic plus fusions into ONNX Runtime's contrib kernels).
    #[arg(long, value_name = "LEVEL", value_parser = parse_graph_optimization, default_value = "extended")]
    graph_optimization: GraphOptimization,
    /// Turn one rewrite of the graph optimization off (repeat, or separate names with commas),
    /// e.g. `conv-activation` to keep Conv and its activation apart; an unknown name lists
    /// the rewrites.
    #[arg(long = "disable-rewrite", value_name = "NAME", value_parser = parse_rewrite, value_delimiter = ',')]
    disable_rewrite: Vec<Rewrite>,
}

/// Convert the model and report where it went.
pub fn run(args: Args) -> Result<()> {
    let output = args
        .output
        .unwrap_or_else(|| args.model.with_extension("ort"));
    let optimizer = optimizer(args.graph_optimization, &args.disable_rewrite);
    tools::convert_file_with(&args.model, &output, optimizer)?;
    let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    println!("wrote {} ({size} bytes)", output.display());
    Ok(())
}
