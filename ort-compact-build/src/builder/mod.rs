//! [`Builder`]: the whole pipeline behind one call, for `build.rs` and the CLI.

use crate::artifacts::Artifacts;
use crate::build::{Flavor, Optimize, RuntimeOptions};
use crate::bundle::WireWeights;
use crate::cache;
use crate::env::{self, Env};
use crate::error::{Error, Result};
use crate::model::{ModelFile, OrtModel};
use crate::ops::{Collector, OpConfig, TypeFamilies};
use crate::optimize::{GraphOptimization, GraphOptimizer, Rewrite};
use crate::progress::{Progress, ProgressMode};
use crate::runtime::RuntimeCache;
use crate::signature::{self, Signature};
use crate::source::Provisioner;
use crate::toolchain::Toolchain;
use std::path::{Path, PathBuf};

mod finish;
use finish::{stamped_pair, verify_outputs, write_bundle, BuiltWith};

/// Builds a compact ONNX Runtime 1.21.0 WebAssembly runtime for one or more models.
///
/// ```no_run
/// // build.rs
/// let artifacts = ort_compact_build::Builder::new("model.onnx").build();
/// // artifacts.print_cargo_metadata() was already called: ORT_COMPACT_DIR etc. are set.
/// println!("runtime: {}", artifacts.dir().display());
/// ```
///
/// Environment overrides (each read also as `<TARGET>_NAME`, and announced with
/// `cargo:rerun-if-env-changed` in a build script): `ORT_COMPACT_CACHE_DIR`,
/// `ORT_COMPACT_ORT_SOURCE_DIR`, `ORT_COMPACT_OFFLINE`, `ORT_COMPACT_EMCC`, `EMSDK`,
/// `ORT_COMPACT_CMAKE`, `ORT_COMPACT_NODE`, `ORT_COMPACT_NO_VERIFY`, `ORT_COMPACT_OPTIMIZE`,
/// `DOCS_RS`.
#[derive(Debug, Clone)]
pub struct Builder {
    models: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    type_reduction: bool,
    simd: bool,
    threads: bool,
    flavor: Option<Flavor>,
    optimize: Option<Optimize>,
    verify: bool,
    offline: Option<bool>,
    mirrors: Vec<String>,
    progress: Option<ProgressMode>,
    cargo_metadata: Option<bool>,
    compressed_sizes: Option<bool>,
    bundle: Option<PathBuf>,
    wire_weights: WireWeights,
    graph_optimization: Option<GraphOptimization>,
    disabled_rewrites: Option<Vec<Rewrite>>,
}

/// The target Rust mode links ONNX Runtime into.
const EMSCRIPTEN: &str = "wasm32-unknown-emscripten";

/// Which runtime to build, if any. An explicit flavor wins (the static library only for
/// [`EMSCRIPTEN`]); in a build script cargo's target decides: the static library for
/// [`EMSCRIPTEN`], none for a host target (the typed modules alone serve `cargo check`, `test`
/// and `doc`; their calls return ort-compact-sys's "no runtime linked" error), an error for other
/// wasm targets, which cannot link it; outside a build script, the JS module.
fn runtime_flavor(explicit: Option<Flavor>, target: Option<&str>) -> Result<Option<Flavor>> {
    match (explicit, target) {
        (Some(Flavor::StaticLib), Some(t)) if t != EMSCRIPTEN => Err(Error::Config(format!(
            "Flavor::StaticLib links only into {EMSCRIPTEN} programs, but cargo is building for \
             {t}: build with `--target {EMSCRIPTEN}`, or drop Builder::flavor (host builds then \
             get the typed modules alone), or use Flavor::JsModule for onnxruntime-web"
        ))),
        (Some(f), _) => Ok(Some(f)),
        (None, None) => Ok(Some(Flavor::JsModule)),
        (None, Some(EMSCRIPTEN)) => Ok(Some(Flavor::StaticLib)),
        (None, Some(t)) if t.starts_with("wasm") => Err(Error::Config(format!(
            "target {t} cannot link ONNX Runtime: Rust programs use it on {EMSCRIPTEN} \
             (`cargo build --target {EMSCRIPTEN}`); for onnxruntime-web in JavaScript, set \
             Builder::flavor(Flavor::JsModule), which builds ort-wasm.wasm/.mjs from any target"
        ))),
        (None, Some(_)) => Ok(None),
    }
}

/// A model read and converted, ready for analysis and output.
struct Prepared {
    name: String,
    source: PathBuf,
    /// What an `.onnx` model's graph was optimized with (`None`: an `.ort` input).
    graph_optimization: Option<GraphOptimizer>,
    ort: OrtModel,
    signature: Signature,
}

impl Builder {
    /// A builder for one model (`.onnx` or `.ort`); add more with [`Builder::model`].
    pub fn new(model: impl Into<PathBuf>) -> Self {
        Builder {
            models: vec![model.into()],
            out_dir: None,
            cache_dir: None,
            type_reduction: true,
            simd: true,
            threads: false,
            flavor: None,
            optimize: None,
            verify: true,
            offline: None,
            mirrors: Vec::new(),
            progress: None,
            cargo_metadata: None,
            compressed_sizes: None,
            bundle: None,
            wire_weights: WireWeights::Exact,
            graph_optimization: None,
            disabled_rewrites: None,
        }
    }

    /// Add a model; the runtime covers the union of all models' operators.
    pub fn model(&mut self, model: impl Into<PathBuf>) -> &mut Self {
        self.models.push(model.into());
        self
    }

    /// Output directory (default in a build script: `$OUT_DIR/ort-compact`).
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Cache root (default: `ORT_COMPACT_CACHE_DIR`, else `~/.cache/ort-compact-build`).
    pub fn cache_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Compile kernels only for the element types the models use (default on: about 5 % smaller
    /// for small models); off keeps every type each kernel supports.
    pub fn type_reduction(&mut self, on: bool) -> &mut Self {
        self.type_reduction = on;
        self
    }

    /// WebAssembly SIMD (default on).
    pub fn simd(&mut self, on: bool) -> &mut Self {
        self.simd = on;
        self
    }

    /// WebAssembly threads (default off). Not supported yet: `try_build` refuses `true` with
    /// [`Error::Config`] rather than produce an untested threaded runtime.
    pub fn threads(&mut self, on: bool) -> &mut Self {
        self.threads = on;
        self
    }

    /// Output kind. Default in a build script: the static library when cargo's target is
    /// `wasm32-unknown-emscripten`, and no runtime at all for a host target (`cargo check`,
    /// `test`, `doc`: the `.ort` files and typed modules are still written); set
    /// [`Flavor::JsModule`] to build `ort-wasm.wasm`/`.mjs` for onnxruntime-web from a build
    /// script. Default elsewhere (the CLI): the JS module.
    pub fn flavor(&mut self, flavor: Flavor) -> &mut Self {
        self.flavor = Some(flavor);
        self
    }

    /// What to optimise the kernels for (default: `ORT_COMPACT_OPTIMIZE`, else
    /// [`Optimize::Balanced`]: `-O2` for the hot element-wise and activation kernels, as fast as
    /// stock on compute-heavy models for a few percent more bytes). [`Optimize::Size`] is all
    /// `-Oz`; [`Optimize::Speed`] compiles all CPU kernels and MLAS with `-O2`.
    pub fn optimize(&mut self, optimize: Optimize) -> &mut Self {
        self.optimize = Some(optimize);
        self
    }

    /// Run each model once in the built runtime under node before returning (default on;
    /// `ORT_COMPACT_NO_VERIFY=1` also turns it off).
    pub fn verify(&mut self, on: bool) -> &mut Self {
        self.verify = on;
        self
    }

    /// Forbid downloads (default: `ORT_COMPACT_OFFLINE`).
    pub fn offline(&mut self, on: bool) -> &mut Self {
        self.offline = Some(on);
        self
    }

    /// Also look for the pinned source archives at `mirror` (after those of
    /// `ORT_COMPACT_MIRROR`, before apt): an `http://` or `https://` base URL, a `file://` URL or a
    /// directory, laid out as a Debian mirror (archives under `pool/`) or flat. Repeatable.
    pub fn mirror(&mut self, mirror: impl Into<String>) -> &mut Self {
        self.mirrors.push(mirror.into());
        self
    }

    /// Where progress goes (default: `cargo:warning` lines in a build script, else stderr).
    pub fn progress(&mut self, mode: ProgressMode) -> &mut Self {
        self.progress = Some(mode);
        self
    }

    /// Print cargo metadata (default: when running inside a build script).
    pub fn cargo_metadata(&mut self, on: bool) -> &mut Self {
        self.cargo_metadata = Some(on);
        self
    }

    /// Measure the gzip -9 and brotli-11 sizes of the output files, for the manifest and
    /// [`Artifacts::files`] (default: on outside a build script, where the CLI reports them; off
    /// in a build script, which cargo compiles at opt-level 0, where brotli-11 costs seconds per
    /// megabyte of model). Sizes are remembered by content hash in the cache.
    pub fn compressed_sizes(&mut self, on: bool) -> &mut Self {
        self.compressed_sizes = Some(on);
        self
    }

    /// Also write a deploy bundle of the JS-mode runtime and the models to `dir`: content-hashed
    /// file names, `.br` and `.gz` siblings, and `manifest.json` with sha256 and SRI (sha384) per
    /// file. `dir` must be new, empty or an earlier bundle (replaced whole); the bundle is staged
    /// next to it and renamed into place. Needs [`Flavor::JsModule`].
    pub fn bundle(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.bundle = Some(dir.into());
        self
    }

    /// How the bundle's models travel (default [`WireWeights::Exact`]). With
    /// [`WireWeights::Float16`] (opt-in, **lossy**) the float32 weights travel as float16, about
    /// half the bytes of a weight-dominated model, and the bundle's `loader.mjs` widens them back
    /// to float32: the model then computes with rounded weights and its predictions change
    /// slightly. The `.ort` in the bundle stays exact. Needs [`Builder::bundle`].
    pub fn wire_weights(&mut self, wire: WireWeights) -> &mut Self {
        self.wire_weights = wire;
        self
    }

    /// How much `.onnx` models' graphs are optimized before they are written as `.ort`
    /// (default: `$ORT_COMPACT_GRAPH_OPTIMIZATION`, else [`GraphOptimization::Extended`]). A
    /// minimal ONNX Runtime cannot optimize at load time: the `.ort` runs as written. The
    /// runtime is built for the operators of the optimized graph. `.ort` inputs are used as
    /// given.
    pub fn graph_optimization(&mut self, level: GraphOptimization) -> &mut Self {
        self.graph_optimization = Some(level);
        self
    }

    /// Turn one rewrite of the graph optimization off (call again for more; default:
    /// `$ORT_COMPACT_DISABLE_REWRITES`, a comma-separated list of [`Rewrite`] names, else
    /// none): for a fusion whose contrib kernel costs the runtime more bytes than it saves
    /// time for these models (README's Graph optimization section has what the fusions cost), or to rule a
    /// rewrite out. Recorded per model in `manifest.json`.
    pub fn disable_rewrite(&mut self, rewrite: Rewrite) -> &mut Self {
        self.disabled_rewrites
            .get_or_insert_with(Vec::new)
            .push(rewrite);
        self
    }

    /// Run the pipeline; on error print it and panic (the build-script convention of cc-rs).
    pub fn build(&mut self) -> Artifacts {
        match self.try_build() {
            Ok(a) => a,
            Err(e) => {
                let mut msg = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    msg.push_str(&format!("\n  caused by: {s}"));
                    source = s.source();
                }
                panic!("\n\nort-compact-build failed:\n{msg}\n\n");
            }
        }
    }

    /// Run the pipeline: models → ops → ORT format → reduce → build → verify → outputs
    /// (→ bundle).
    pub fn try_build(&mut self) -> Result<Artifacts> {
        let in_build_script = std::env::var_os("OUT_DIR").is_some()
            && std::env::var_os("CARGO_MANIFEST_DIR").is_some()
            && std::env::var_os("TARGET").is_some();
        let cargo = self.cargo_metadata.unwrap_or(in_build_script);
        let artifacts = self.pipeline(in_build_script, cargo)?;
        if cargo {
            artifacts.print_cargo_metadata();
        }
        Ok(artifacts)
    }

    fn pipeline(&self, in_build_script: bool, cargo: bool) -> Result<Artifacts> {
        let target = std::env::var("TARGET").ok().filter(|_| in_build_script);
        let env = if cargo {
            Env::for_build_script(target.clone())
        } else {
            Env::new()
        };
        let flavor = runtime_flavor(self.flavor, target.as_deref());
        // A host build of a Rust-mode crate only writes small files: no progress to report.
        let mode = self.progress.unwrap_or(match (cargo, &flavor) {
            (true, Ok(None)) => ProgressMode::Silent,
            (true, _) => ProgressMode::Cargo,
            (false, _) => ProgressMode::Stderr,
        });
        let progress = Progress::new(mode);
        let out_dir = self.resolve_out_dir()?;
        if self.models.is_empty() {
            return Err(Error::Config("no model given".into()));
        }
        if self.threads {
            return Err(Error::Config(
                "WebAssembly threads are not supported yet: this version builds and tests \
                 single-threaded runtimes only (remove --threads / Builder::threads(true))"
                    .into(),
            ));
        }
        if cargo {
            for m in &self.models {
                println!("cargo:rerun-if-changed={}", m.display());
            }
        }
        let flavor = flavor?;
        if let Some(dir) = &self.bundle {
            if flavor != Some(Flavor::JsModule) {
                return Err(Error::Config(
                    "a deploy bundle holds a JS-mode runtime for onnxruntime-web: set \
                     Builder::flavor(Flavor::JsModule), or drop Builder::bundle"
                        .into(),
                ));
            }
            crate::bundle::check_destination(dir)?;
        } else if self.wire_weights != WireWeights::Exact {
            return Err(Error::Config(
                "float16 weights on the wire apply to a deploy bundle's loader: set \
                 Builder::bundle(dir) too (CLI: --bundle DIR), or drop Builder::wire_weights"
                    .into(),
            ));
        }
        // A variable is read (and announced to cargo) only when its setter was not used.
        let optimize = choice(
            &env,
            self.optimize,
            (env::OPTIMIZE, Optimize::parse),
            "`size`, `balanced` or `speed`",
        )?;
        let level = choice(
            &env,
            self.graph_optimization,
            (env::GRAPH_OPTIMIZATION, GraphOptimization::parse),
            "`none`, `basic` or `extended`",
        )?;
        let level = self.optimizer(&env, level)?;

        progress.say(format!(
            "reading {} model(s) (graph optimization: {level})",
            self.models.len()
        ));
        let prepared = self.prepare_models(cargo, &level)?;
        let config = self.op_config(&prepared)?;
        let Some(flavor) = flavor else {
            std::fs::create_dir_all(&out_dir).map_err(|e| Error::io("creating", &out_dir, e))?;
            progress.say(format!(
                "target {}: typed modules only, no ONNX Runtime (Rust mode runs on {EMSCRIPTEN})",
                target.as_deref().unwrap_or("host")
            ));
            return self.finish(&out_dir, &prepared, &config, None, None, "none", cargo);
        };
        let models: Vec<&OrtModel> = prepared.iter().map(|p| &p.ort).collect();
        let families = TypeFamilies::of_models(&models);
        let opts = RuntimeOptions {
            flavor,
            simd: self.simd,
            threads: self.threads,
            // Always: the reduction registers only the contrib kernels the models use, so
            // compiling them costs nothing a model does not need (107 B on the default MLP),
            // and every graph optimization level shares one warm directory.
            contrib_ops: true,
            ml_ops: config.ops.contains_key("ai.onnx.ml"),
            sparse_tensors: families.sparse_tensors,
            optional_type: families.optional_type,
            float8_types: families.float8_types,
            optimize,
        };
        std::fs::create_dir_all(&out_dir).map_err(|e| Error::io("creating", &out_dir, e))?;

        if env.get("DOCS_RS").is_some() {
            progress.say("DOCS_RS is set: skipping the ONNX Runtime build");
            let placeholders = Some(flavor);
            return self.finish(
                &out_dir,
                &prepared,
                &config,
                None,
                placeholders,
                "docs-rs",
                cargo,
            );
        }

        let tools = Toolchain::detect_with(&env)?;
        let cache_root = self.cache_dir.clone().unwrap_or_else(|| cache::root(&env));
        let mut provisioner = Provisioner::from_env(&env);
        provisioner.cache_root(&cache_root);
        provisioner.offline(self.offline.unwrap_or_else(|| env.flag(env::OFFLINE)));
        for m in &self.mirrors {
            provisioner.mirror(m);
        }
        provisioner.progress(progress.clone());

        let runtime = RuntimeCache {
            root: cache_root.join("artifacts"),
            work: cache_root.join("work"),
        };
        let (runtime_dir, key, hit) = runtime.get_or_build(
            &tools,
            &provisioner,
            &config,
            &opts,
            self.type_reduction,
            &progress,
        )?;
        let pair = match flavor {
            Flavor::JsModule => Some(stamped_pair(&runtime_dir)?),
            Flavor::StaticLib => None,
        };
        let mut artifacts = self.finish(
            &out_dir,
            &prepared,
            &config,
            Some(BuiltWith {
                dir: &runtime_dir,
                tools: &tools,
                opts: &opts,
                sizes: &cache_root.join("sizes"),
                cache_hit: hit,
                pair: pair.as_ref(),
            }),
            None,
            &key,
            cargo,
        )?;

        if flavor == Flavor::JsModule && self.verify && !env.flag("ORT_COMPACT_NO_VERIFY") {
            verify_outputs(&artifacts, &tools, &progress)?;
        }
        if let (Some(dir), Some(pair)) = (&self.bundle, &pair) {
            let compressed = cache_root.join("compressed");
            let with = (pair, compressed.as_path(), self.wire_weights);
            artifacts.bundle = Some(write_bundle(dir, with, &prepared, &progress)?);
        }
        progress.say(format!("done: {}", artifacts.dir.display()));
        Ok(artifacts)
    }

    fn resolve_out_dir(&self) -> Result<PathBuf> {
        if let Some(d) = &self.out_dir {
            return Ok(d.clone());
        }
        match std::env::var_os("OUT_DIR") {
            Some(d) => Ok(PathBuf::from(d).join("ort-compact")),
            None => Err(Error::Config(
                "no output directory: call Builder::out_dir() or run from a build script (OUT_DIR)"
                    .into(),
            )),
        }
    }

    /// Read and convert every model; in a build script (`cargo`) also announce the external
    /// data files of `.onnx` models to cargo, before reading them.
    fn prepare_models(&self, cargo: bool, level: &GraphOptimizer) -> Result<Vec<Prepared>> {
        let mut out: Vec<Prepared> = Vec::new();
        for path in &self.models {
            let file = ModelFile::load(path)?;
            let (ort, graph_optimization) = match file {
                ModelFile::Ort(m) => (m, None),
                ModelFile::Onnx(m) => {
                    if cargo {
                        for data in m.external_data_files() {
                            println!("cargo:rerun-if-changed={}", data.display());
                        }
                    }
                    let bytes = crate::ort_format::convert_loaded(&m, level.clone())?;
                    (
                        OrtModel::from_bytes(bytes, path.clone())?,
                        Some(level.clone()),
                    )
                }
            };
            let signature = signature::of_ort(&ort)?;
            let mut name = model_name(path);
            let base = name.clone();
            let mut n = 2;
            while out.iter().any(|p| p.name == name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            out.push(Prepared {
                name,
                source: path.clone(),
                graph_optimization,
                ort,
                signature,
            });
        }
        Ok(out)
    }

    /// The optimizer for `level`, less the rewrites turned off by [`Builder::disable_rewrite`],
    /// else by `$ORT_COMPACT_DISABLE_REWRITES`.
    fn optimizer(&self, env: &Env, level: GraphOptimization) -> Result<GraphOptimizer> {
        let mut optimizer = GraphOptimizer::new(level);
        let disabled = match (&self.disabled_rewrites, env.get(env::DISABLE_REWRITES)) {
            (Some(set), _) => set.clone(),
            (None, None) => Vec::new(),
            (None, Some(text)) => Rewrite::parse_list(&text.to_string_lossy())
                .map_err(|e| Error::Config(format!("{}: {e}", env::DISABLE_REWRITES)))?,
        };
        for r in disabled {
            optimizer.disable(r);
        }
        Ok(optimizer)
    }

    fn op_config(&self, models: &[Prepared]) -> Result<OpConfig> {
        let mut collector = Collector::new(self.type_reduction);
        for m in models {
            collector.add_ort(&m.ort)?;
        }
        Ok(collector.finish())
    }
}

/// The setter's value `set`, else the variable `name` read with `parse` (`expected` says what
/// it accepts when it does not parse), else the default.
fn choice<T: Default>(
    env: &Env,
    set: Option<T>,
    (name, parse): (&str, fn(&str) -> Option<T>),
    expected: &str,
) -> Result<T> {
    if let Some(v) = set {
        return Ok(v);
    }
    match env.get(name) {
        None => Ok(T::default()),
        Some(v) => parse(&v.to_string_lossy())
            .ok_or_else(|| Error::Config(format!("{name}={v:?}: expected {expected}"))),
    }
}

/// A file stem usable as a file name and an identifier.
pub(crate) fn model_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let mut name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "model_");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_decides_the_runtime() {
        use Flavor::{JsModule, StaticLib};
        let host = Some("x86_64-unknown-linux-gnu");
        assert_eq!(runtime_flavor(None, None).unwrap(), Some(JsModule));
        assert_eq!(
            runtime_flavor(None, Some(EMSCRIPTEN)).unwrap(),
            Some(StaticLib)
        );
        assert_eq!(runtime_flavor(None, host).unwrap(), None);
        assert_eq!(
            runtime_flavor(Some(JsModule), host).unwrap(),
            Some(JsModule)
        );
        assert_eq!(
            runtime_flavor(Some(StaticLib), None).unwrap(),
            Some(StaticLib)
        );
        let err = runtime_flavor(None, Some("wasm32-unknown-unknown")).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("wasm32-unknown-unknown")
                && m.contains("--target wasm32-unknown-emscripten")
                && m.contains("Flavor::JsModule")),
            "{err}"
        );
        let err = runtime_flavor(Some(StaticLib), host).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("x86_64-unknown-linux-gnu")
                && m.contains("--target wasm32-unknown-emscripten")),
            "{err}"
        );
    }
}
