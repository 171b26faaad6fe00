//! `ort-compact verify DIR`: run every model of an output directory once in its runtime.

use ort_compact_build::tools::{find_node, verify_dir, VerifyReport};
use ort_compact_build::Result;
use std::path::PathBuf;

/// Arguments of `ort-compact verify`.
#[derive(clap::Args)]
pub struct Args {
    /// Output directory holding ort-wasm.wasm, ort-wasm.mjs, the .ort models and manifest.json.
    pub dir: PathBuf,
    /// The node executable (default: $ORT_COMPACT_NODE, else node on PATH).
    #[arg(long)]
    pub node: Option<PathBuf>,
}

/// Verify each model of the manifest; print one line per model.
pub fn run(args: Args) -> Result<()> {
    let node = match args.node {
        Some(n) => n,
        None => find_node()?,
    };
    for report in verify_dir(&args.dir, &node)? {
        println!("{}", describe(&report));
    }
    Ok(())
}

fn describe(r: &VerifyReport) -> String {
    let name = r
        .model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ms = |k: &str| r.timings_ms.get(k).copied().unwrap_or(0.0);
    let timing = format!(
        "session {:.0} ms, run {:.1} ms, node {:.2} s",
        ms("session"),
        ms("run"),
        r.wall.as_secs_f64()
    );
    if let Some(e) = &r.run_error {
        return format!(
            "{name}: session ok ({timing}); the run with synthetic inputs failed (not a missing \
             kernel): {e}"
        );
    }
    let outs: Vec<String> = r
        .outputs
        .iter()
        .map(|o| match &o.note {
            Some(n) => format!("{} ({n})", o.name),
            None => format!("{} {:?}", o.name, o.dims),
        })
        .collect();
    format!("{name}: ok ({timing}); outputs: {}", outs.join(", "))
}
