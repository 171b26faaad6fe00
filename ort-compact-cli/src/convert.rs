//! `ort-compact convert`: turn an `.onnx` model into an ORT-format (`.ort`) model natively.

use crate::graph::parse_graph_optimization;
use ort_compact_build::{tools, GraphOptimization, Result};
use std::path::PathBuf;

/// Arguments of `ort-compact convert`.
#[derive(clap::Args)]
pub struct Args {
    /// The `.onnx` model to convert.
    model: PathBuf,
    /// Where to write the `.ort` model (default: the model path with extension `.ort`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Optimize the graph first: `none` (default), `basic` (eliminations) or `extended`.
    #[arg(long, value_name = "LEVEL", value_parser = parse_graph_optimization, default_value = "none")]
    graph_optimization: GraphOptimization,
}

/// Convert the model and report where it went.
pub fn run(args: Args) -> Result<()> {
    let output = args
        .output
        .unwrap_or_else(|| args.model.with_extension("ort"));
    tools::convert_file_with(&args.model, &output, args.graph_optimization)?;
    let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    println!("wrote {} ({size} bytes)", output.display());
    Ok(())
}
