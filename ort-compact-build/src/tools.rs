//! The pipeline's stages one at a time, for tools that need more than [`crate::Builder`]'s
//! one call (the `ort-compact` command is one): convert a model, list the operators it needs,
//! check the toolchain, provision the pinned sources, verify an output directory, inspect and
//! prune the cache.
//!
//! ```no_run
//! use std::path::Path;
//! // ONNX -> ORT format, natively.
//! ort_compact_build::tools::convert_file(Path::new("model.onnx"), Path::new("model.ort"))?;
//! // ORT's required_operators.config for the models.
//! let config = ort_compact_build::tools::required_operators(
//!     &[Path::new("model.ort")],
//!     false,
//!     ort_compact_build::GraphOptimization::None,
//! )?;
//! print!("{config}");
//! # Ok::<(), ort_compact_build::Error>(())
//! ```

use crate::cache::prune::{self, Current};
use crate::error::{Error, Result};
use crate::model::{ModelFile, OrtModel};
use crate::ops::Collector;
use crate::optimize::GraphOptimizer;
use std::path::{Path, PathBuf};

pub use crate::cache::prune::{Area as CacheArea, Entry as CacheEntry, Outcome as PruneOutcome};
pub use crate::ort_format::{convert, convert_file, convert_file_with, convert_with};
pub use crate::outputs::size_report;
pub use crate::progress::Progress;
pub use crate::source::{Pins, Provisioner, SourceTree};
pub use crate::toolchain::{Tool, Toolchain, Version};
pub use crate::verify::{find_node, verify_dir, OutputSummary, VerifyReport};

/// ORT's `required_operators.config` text for `models` (`.onnx` or `.ort`; the union over all
/// of them), with per-operator types when `with_types` (`required_operators_and_types.config`).
/// `.onnx` models are analysed through the native `.ort` converter, as [`crate::Builder`] does,
/// their graphs optimized by `level` first (a [`crate::GraphOptimization`] or a
/// [`GraphOptimizer`]): opsets become each node's since-version and types are inferred.
pub fn required_operators(
    models: &[impl AsRef<Path>],
    with_types: bool,
    level: impl Into<GraphOptimizer>,
) -> Result<String> {
    collect_operators(models, with_types, Some(level.into()))
}

/// ORT's config text for `models` read as they are: an `.onnx` model's operators at its
/// imported opsets, without conversion (what ORT's Python tool reports for an `.onnx` file).
pub fn required_operators_unconverted(
    models: &[impl AsRef<Path>],
    with_types: bool,
) -> Result<String> {
    collect_operators(models, with_types, None)
}

/// The config of `models`, `.onnx` models converted at `level` (`None`: read as they are).
fn collect_operators(
    models: &[impl AsRef<Path>],
    with_types: bool,
    level: Option<GraphOptimizer>,
) -> Result<String> {
    let mut collector = Collector::new(with_types);
    for path in models {
        let path = path.as_ref();
        match (ModelFile::load(path)?, &level) {
            (ModelFile::Onnx(m), Some(level)) => {
                let bytes = crate::ort_format::convert_loaded(&m, level.clone())?;
                collector.add_ort(&OrtModel::from_bytes(bytes, path)?)?;
            }
            (model, _) => collector.add_model(&model)?,
        }
    }
    Ok(collector.finish().to_string())
}

/// What the cache holds, against the sources builds use now.
#[derive(Debug, Clone)]
pub struct CacheSurvey {
    /// The cache root.
    pub root: PathBuf,
    /// Key of the current source tree.
    pub source_key: String,
    /// Every top-level entry of every area; [`CacheEntry::current`] marks those in use.
    pub entries: Vec<CacheEntry>,
}

impl CacheSurvey {
    /// The entries the current sources do not use (older pins or patches, other checkouts).
    pub fn stale(&self) -> Vec<CacheEntry> {
        self.entries
            .iter()
            .filter(|e| !e.current)
            .cloned()
            .collect()
    }
}

/// Survey the cache at `cache_dir` (default: `ORT_COMPACT_CACHE_DIR`, else
/// `~/.cache/ort-compact-build`). A missing directory is an error, not an empty cache.
pub fn survey_cache(cache_dir: Option<PathBuf>) -> Result<CacheSurvey> {
    let mut provisioner = Provisioner::from_environment();
    if let Some(dir) = cache_dir {
        provisioner.cache_root(dir);
    }
    let root = provisioner.cache_dir().to_path_buf();
    if !root.is_dir() {
        return Err(Error::Config(format!(
            "cache directory {} does not exist (nothing has been built with it yet?)",
            root.display()
        )));
    }
    let source_key = provisioner.tree_key()?;
    let archives = provisioner.archive_names()?;
    let current = Current {
        source_key: &source_key,
        archives: &archives,
    };
    let entries = prune::survey(&root, &current)?;
    Ok(CacheSurvey {
        root,
        source_key,
        entries,
    })
}

/// Remove the stale entries of `survey`; entries a running build holds are kept
/// ([`PruneOutcome::InUse`]).
pub fn prune_cache(survey: &CacheSurvey) -> Result<Vec<(CacheEntry, PruneOutcome)>> {
    prune::prune(&survey.root, &survey.stale())
}
