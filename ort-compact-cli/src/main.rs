//! `ort-compact`: the ort-compact-build pipeline from the command line.
//!
//! One file per subcommand; each exposes `Args` (clap) and `run(args) -> Result<()>`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod build;
mod cache;
mod convert;
mod graph;
mod ops;
mod provision;
mod toolchain;
mod verify;

/// Build a minimal ONNX Runtime 1.21.0 WebAssembly runtime for your models.
#[derive(Parser)]
#[command(name = "ort-compact", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a compact runtime for MODEL(s): ort-wasm.wasm/.mjs, .ort models, config, manifest.
    Build(build::Args),
    /// Show what the cache holds; remove entries of older source trees.
    Cache(cache::Args),
    /// Convert an .onnx model to an ORT-format (.ort) model loadable by ONNX Runtime 1.21.0.
    Convert(convert::Args),
    /// Print the operators (and with --types, argument types) the models need, in ORT's
    /// required_operators.config format.
    Ops(ops::Args),
    /// Check the toolchain and assemble the pinned, verified ONNX Runtime sources in the cache.
    Provision(provision::Args),
    /// Locate emcc, cmake, ninja, protoc and node and check their versions.
    Toolchain(toolchain::Args),
    /// Run every model of an output directory once in its runtime (under node).
    Verify(verify::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Cache(args) => cache::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Ops(args) => ops::run(args),
        Command::Provision(args) => provision::run(args),
        Command::Toolchain(args) => toolchain::run(args),
        Command::Verify(args) => verify::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
