//! `ort-compact cache`: what the cache holds, and removing what the current sources no longer use.

use ort_compact_build::tools::{self, CacheArea, PruneOutcome};
use ort_compact_build::Result;
use std::path::PathBuf;

/// Arguments of `ort-compact cache`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    /// Cache root (default: $ORT_COMPACT_CACHE_DIR, else ~/.cache/ort-compact-build).
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List the cache's entries with their sizes, marking those older source trees left behind.
    Info,
    /// Remove entries of other source trees (old pins or patches, other ORT_COMPACT_ORT_SOURCE_DIR
    /// checkouts) and bundle compressions unused for 30 days. Build dirs in use by a running
    /// build are skipped.
    Prune {
        /// Only print what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Survey the cache, then list or prune it.
pub fn run(args: Args) -> Result<()> {
    let survey = tools::survey_cache(args.cache_dir)?;
    let (root, key, entries) = (&survey.root, &survey.source_key, &survey.entries);
    let stale = survey.stale();
    match args.action {
        Action::Info => {
            println!("cache {} (current sources {key})", root.display());
            for area in CacheArea::ALL {
                let (mut used, mut old) = (0, 0);
                for e in entries.iter().filter(|e| e.area == area) {
                    *if e.current { &mut used } else { &mut old } += e.bytes;
                }
                println!(
                    "  {:10} {:>10} current {:>10} stale",
                    area.dir_name(),
                    human(used),
                    human(old)
                );
            }
            for e in entries {
                let state = if e.current { "current" } else { "stale" };
                println!("{state:8} {:>10}  {}", human(e.bytes), e.path.display());
            }
            if !stale.is_empty() {
                let total: u64 = stale.iter().map(|e| e.bytes).sum();
                println!(
                    "{} stale entries, {}: `ort-compact cache prune` removes them",
                    stale.len(),
                    human(total)
                );
            }
        }
        Action::Prune { dry_run: true } => {
            for e in &stale {
                println!("would remove {:>10}  {}", human(e.bytes), e.path.display());
            }
            println!("{} entries", stale.len());
        }
        Action::Prune { dry_run: false } => {
            let mut freed = 0;
            for (e, outcome) in tools::prune_cache(&survey)? {
                match outcome {
                    PruneOutcome::Removed => {
                        freed += e.bytes;
                        println!("removed {:>10}  {}", human(e.bytes), e.path.display());
                    }
                    PruneOutcome::InUse => println!("in use, kept       {}", e.path.display()),
                }
            }
            println!("freed {}", human(freed));
        }
    }
    Ok(())
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1u64 << 10) as f64),
        b => format!("{b} B"),
    }
}
