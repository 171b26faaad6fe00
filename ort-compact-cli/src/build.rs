//! `ort-compact build MODEL... --out DIR [--bundle DIR]`: the whole pipeline.

use crate::graph::{parse_graph_optimization, parse_rewrite};
use ort_compact_build::tools::size_report;
use ort_compact_build::{
    Builder, Flavor, GraphOptimization, Optimize, ProgressMode, Result, Rewrite, WireWeights,
};
use std::path::PathBuf;

/// Arguments of `ort-compact build`.
#[derive(clap::Args)]
pub struct Args {
    /// Models (.onnx or .ort); the runtime covers all of their operators.
    #[arg(required = true)]
    models: Vec<PathBuf>,
    /// Output directory (created if missing); optional with --bundle.
    #[arg(short, long, required_unless_present = "bundle")]
    out: Option<PathBuf>,
    /// Also write a deploy bundle there: content-hashed runtime pair and models, .br and .gz
    /// siblings, manifest.json with sha256 and SRI (sha384). The directory must be new, empty
    /// or an earlier bundle (replaced whole).
    #[arg(long, value_name = "DIR", conflicts_with = "static_lib")]
    bundle: Option<PathBuf>,
    /// How the bundle's models travel: `exact` (default) or `float16` (opt-in, LOSSY: float32
    /// weights travel rounded to float16, about half the bytes, and loader.mjs widens them back;
    /// predictions change slightly).
    #[arg(long, value_name = "HOW", requires = "bundle", value_parser = parse_wire_weights)]
    wire_weights: Option<WireWeights>,
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
    /// Optimize the graphs of .onnx models before converting them: `none`, `basic`
    /// (folding, eliminations) or `extended` (basic plus fusions into contrib kernels); the
    /// runtime is built for the optimized graphs' operators.
    /// Default: $ORT_COMPACT_GRAPH_OPTIMIZATION, else extended.
    #[arg(long, value_name = "LEVEL", value_parser = parse_graph_optimization)]
    graph_optimization: Option<GraphOptimization>,
    /// Turn one rewrite of the graph optimization off (repeat, or separate names with commas),
    /// e.g. `conv-activation` to keep Conv and its activation apart; an unknown name lists
    /// the rewrites. Default: $ORT_COMPACT_DISABLE_REWRITES (the same, comma-separated).
    #[arg(long = "disable-rewrite", value_name = "NAME", value_parser = parse_rewrite, value_delimiter = ',')]
    disable_rewrite: Vec<Rewrite>,
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
    /// Also look for the pinned source archives here, after $ORT_COMPACT_MIRROR and before apt
    /// (repeatable): an http(s):// base URL, a file:// URL or a directory, laid out as a Debian
    /// mirror (archives under pool/) or flat.
    #[arg(long, value_name = "URL|DIR")]
    mirror: Vec<String>,
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
    // Without --out the output directory (which verification runs on) is temporary.
    let scratch = match &args.out {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(|e| {
            ort_compact_build::Error::io("creating a directory in", std::env::temp_dir(), e)
        })?),
    };
    let out = match (&args.out, &scratch) {
        (Some(out), _) => out.clone(),
        (None, Some(tmp)) => tmp.path().to_path_buf(),
        (None, None) => unreachable!("scratch exists exactly when --out is missing"),
    };
    b.out_dir(&out)
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
    if let Some(level) = args.graph_optimization {
        b.graph_optimization(level);
    }
    for r in &args.disable_rewrite {
        b.disable_rewrite(*r);
    }
    if let Some(o) = args.optimize {
        b.optimize(o);
    }
    if args.offline {
        b.offline(true);
    }
    for m in &args.mirror {
        b.mirror(m);
    }
    if let Some(dir) = &args.bundle {
        b.bundle(dir);
    }
    if let Some(wire) = args.wire_weights {
        b.wire_weights(wire);
    }
    if scratch.is_some() {
        // Nobody sees the temporary output directory's size report: no brotli-11 for it (the
        // bundle reports the sizes it ships).
        b.compressed_sizes(false);
    }
    let artifacts = b.try_build()?;
    let origin = if artifacts.cache_hit() {
        "runtime from cache"
    } else {
        "runtime built"
    };
    if scratch.is_none() {
        print!("{}", size_report(artifacts.files()));
        println!("{} ({origin})", artifacts.dir().display());
    }
    if let Some(bundle) = artifacts.bundle() {
        print!("{}", bundle_report(bundle));
        println!("{} ({origin})", bundle.dir().display());
    }
    Ok(())
}

/// The bundle's files with their encoded sizes.
fn bundle_report(bundle: &ort_compact_build::Bundle) -> String {
    let mut s = format!(
        "{:<44} {:>10} {:>10} {:>10}\n",
        "bundle file", "raw", "gzip", "brotli"
    );
    for f in &bundle.manifest().files {
        s.push_str(&format!(
            "{:<44} {:>10} {:>10} {:>10}\n",
            f.name, f.size, f.gzip.size, f.br.size
        ));
    }
    for m in &bundle.manifest().models {
        if let Some(half) = &m.float16 {
            s.push_str(&format!(
                "{}: {} values of {} tensors travel as float16 in {} (lossy, opted in)\n",
                m.name, half.values, half.tensors, half.file
            ));
        }
    }
    s.push_str(&format!(
        "build id {}; manifest.json lists sha256 and SRI (sha384) of every file\n",
        bundle.manifest().build_id
    ));
    s
}

fn parse_optimize(text: &str) -> std::result::Result<Optimize, String> {
    Optimize::parse(text).ok_or_else(|| format!("`{text}`: expected `size`, `balanced` or `speed`"))
}

fn parse_wire_weights(text: &str) -> std::result::Result<WireWeights, String> {
    WireWeights::parse(text).ok_or_else(|| format!("`{text}`: expected `exact` or `float16`"))
}
