//! `ort-compact build MODEL... --out DIR`: the whole pipeline.

use ort_compact_build::tools::size_report;
use ort_compact_build::{Builder, Flavor, Optimize, ProgressMode, Result};
use std::path::PathBuf;

/// Arguments of `ort-compact build`.
#[derive(clap::Args)]
pub struct Args {
    /// Models (.onnx or .ort); the runtime covers all of their operators.
    #[arg(required = true)]
    models: Vec<PathBuf>,
    /// Output directory (created if missing).
    #[arg(short, long)]
    out: PathBuf,
    /// Keep kernels for every element type (default: only the types the models use)
    #[arg(long)]
    all_types: bool,
    /// Build without WebAssembly SIMD.
    #[arg(long)]
    no_simd: bool,
    /// Optimise the kernels for `balanced` (-O2 for the hot element-wise and activation kernels:
    /// as fast as stock for a few % more bytes), `size` (all -Oz: smallest, slower on
    /// compute-heavy models) or `speed` (-O2 for all kernels and MLAS: larger).
    /// Default: $ORT_COMPACT_OPTIMIZE, else balanced.
    #[arg(long, value_parser = parse_optimize)]
    optimize: Option<Optimize>,
    /// Build with WebAssembly threads (not supported yet: refused with an error)
    #[arg(long)]
    threads: bool,
    /// Build the static library for Rust mode instead of ort-wasm.wasm/.mjs.
    #[arg(long)]
    static_lib: bool,
    /// Skip running each model once in the built runtime.
    #[arg(long)]
    no_verify: bool,
    /// Cache root (default: $ORT_COMPACT_CACHE_DIR, else ~/.cache/ort-compact-build).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Never download sources.
    #[arg(long)]
    offline: bool,
    /// No progress messages.
    #[arg(short, long)]
    quiet: bool,
}

/// Build and print the size report.
pub fn run(args: Args) -> Result<()> {
    let mut models = args.models.into_iter();
    let first = models.next().expect("clap requires one model");
    let mut b = Builder::new(first);
    for m in models {
        b.model(m);
    }
    b.out_dir(&args.out)
        .type_reduction(!args.all_types)
        .simd(!args.no_simd)
        .threads(args.threads)
        .verify(!args.no_verify)
        .cargo_metadata(false)
        .progress(if args.quiet {
            ProgressMode::Silent
        } else {
            ProgressMode::Stderr
        })
        .flavor(if args.static_lib {
            Flavor::StaticLib
        } else {
            Flavor::JsModule
        });
    if let Some(dir) = args.cache_dir {
        b.cache_dir(dir);
    }
    if let Some(o) = args.optimize {
        b.optimize(o);
    }
    if args.offline {
        b.offline(true);
    }
    let artifacts = b.try_build()?;
    print!("{}", size_report(artifacts.files()));
    println!(
        "{} ({})",
        artifacts.dir().display(),
        if artifacts.cache_hit() {
            "runtime from cache"
        } else {
            "runtime built"
        }
    );
    Ok(())
}

fn parse_optimize(text: &str) -> std::result::Result<Optimize, String> {
    Optimize::parse(text).ok_or_else(|| format!("`{text}`: expected `size`, `balanced` or `speed`"))
}
