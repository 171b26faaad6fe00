//! `ort-compact provision`: check the toolchain and assemble the pinned sources.

use ort_compact_build::tools::{Pins, Progress, Provisioner, Toolchain};
use ort_compact_build::{ProgressMode, Result};
use std::path::PathBuf;

/// Arguments of `ort-compact provision`.
#[derive(clap::Args)]
pub struct Args {
    /// Cache root (default: $ORT_COMPACT_CACHE_DIR, else ~/.cache/ort-compact-build).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Never download: every archive must already be in `<cache>/downloads`.
    #[arg(long)]
    offline: bool,
    /// Also look for the pinned archives here, after $ORT_COMPACT_MIRROR and before apt
    /// (repeatable): an http(s):// base URL, a file:// URL or a directory, laid out as a Debian
    /// mirror (archives under pool/) or flat.
    #[arg(long, value_name = "URL|DIR")]
    mirror: Vec<String>,
    /// Use this pin file instead of the bundled vendor/pins.toml.
    #[arg(long)]
    pins: Option<PathBuf>,
    /// Only assemble sources; skip the toolchain check (and building protoc).
    #[arg(long)]
    skip_toolchain: bool,
}

/// Run the provisioning (toolchain check, sources, protoc when none was found) and print what
/// was found.
pub fn run(args: Args) -> Result<()> {
    let mut tools = match args.skip_toolchain {
        false => Some(Toolchain::detect()?),
        true => None,
    };
    let mut p = Provisioner::from_environment();
    if let Some(dir) = args.cache_dir {
        p.cache_root(dir);
    }
    if args.offline {
        p.offline(true);
    }
    for m in args.mirror {
        p.mirror(m);
    }
    if let Some(path) = args.pins {
        p.pins(Pins::load(&path)?);
    }
    let progress = Progress::new(ProgressMode::Stderr);
    p.progress(progress.clone());
    let tree = p.provision()?;
    if let Some(tools) = &mut tools {
        tools.provide_protoc(&tree, p.cache_dir(), &progress)?;
        print!("{}", tools.summary());
    }
    println!("sources {} {}", tree.key(), tree.root().display());
    println!("onnxruntime {}", tree.ort_dir().display());
    for (name, dir) in tree.fetchcontent_dirs() {
        println!("  {name:14} {}", dir.display());
    }
    Ok(())
}
