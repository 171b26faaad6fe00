//! The end of the pipeline: the output directory (runtime files, models, typed modules, config,
//! manifest), its verification under node and the deploy bundle.

use super::{Builder, Prepared};
use crate::artifacts::{Artifacts, ModelArtifact};
use crate::build::{Flavor, RuntimeOptions};
use crate::bundle::WireWeights;
use crate::error::{Error, Result};
use crate::ops::OpConfig;
use crate::outputs::{self, FileInfo, Manifest, ModelEntry};
use crate::pair::StampedPair;
use crate::progress::Progress;
use crate::toolchain::Toolchain;
use std::path::{Path, PathBuf};

/// The runtime an output directory is made from.
pub(super) struct BuiltWith<'a> {
    /// The cached runtime's directory.
    pub(super) dir: &'a Path,
    pub(super) tools: &'a Toolchain,
    pub(super) opts: &'a RuntimeOptions,
    /// Where compressed sizes are remembered by content hash.
    pub(super) sizes: &'a Path,
    /// The runtime came from the cache.
    pub(super) cache_hit: bool,
    /// The JS-mode pair, stamped with its build id (`None` for the static library).
    pub(super) pair: Option<&'a StampedPair>,
}

/// The cached JS-mode pair in `runtime_dir`, stamped with its build id (read and stamped once
/// per build: the output directory and the bundle both use it).
pub(super) fn stamped_pair(runtime_dir: &Path) -> Result<StampedPair> {
    let read = |name: &str| {
        let p = runtime_dir.join(name);
        std::fs::read(&p).map_err(|e| Error::io("reading", &p, e))
    };
    crate::pair::stamp(&read(outputs::WASM_FILE)?, &read(outputs::MJS_FILE)?)
}

impl Builder {
    /// Write the output directory: the runtime's files (copied from `runtime`, or empty
    /// `placeholders` of that flavor when there is none, for docs.rs), the models, the typed
    /// modules, config and manifest; in a build script (`cargo`) print the cargo metadata.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish(
        &self,
        out_dir: &Path,
        models: &[Prepared],
        config: &OpConfig,
        runtime: Option<BuiltWith<'_>>,
        placeholders: Option<Flavor>,
        key: &str,
        cargo: bool,
    ) -> Result<Artifacts> {
        let sizes = runtime.as_ref().map(|r| r.sizes);
        let hit = runtime.as_ref().is_some_and(|r| r.cache_hit);
        let compress = self.compressed_sizes.unwrap_or(!cargo);
        let measure = |name: &str, bytes: &[u8]| match compress {
            true => FileInfo::measure_cached(name, bytes, sizes),
            false => FileInfo::raw(name, bytes),
        };
        let mut files = Vec::new();
        let read = |p: PathBuf| std::fs::read(&p).map_err(|e| Error::io("reading", &p, e));
        let mut written = |name: &str, bytes: &[u8]| -> Result<Option<PathBuf>> {
            files.push(measure(name, bytes));
            outputs::write_atomic(out_dir, name, bytes).map(Some)
        };
        let (mut wasm, mut mjs, mut static_lib, mut build_id) = (None, None, None, None);
        match runtime {
            Some(BuiltWith { dir, opts, .. }) if opts.flavor == Flavor::StaticLib => {
                let lib = read(dir.join(outputs::STATIC_LIB_FILE))?;
                static_lib = written(outputs::STATIC_LIB_FILE, &lib)?;
            }
            Some(BuiltWith {
                pair: Some(pair), ..
            }) => {
                wasm = written(outputs::WASM_FILE, &pair.wasm)?;
                mjs = written(outputs::MJS_FILE, &pair.mjs(outputs::WASM_FILE))?;
                build_id = Some(pair.build_id.clone());
            }
            Some(BuiltWith { pair: None, .. }) => {
                return Err(Error::Config("a JS-mode runtime without its pair".into()));
            }
            None if placeholders == Some(Flavor::JsModule) => {
                wasm = written(outputs::WASM_FILE, &[])?;
                mjs = written(outputs::MJS_FILE, &[])?;
            }
            None => {}
        }
        let mut artifacts_models = Vec::new();
        let mut entries = Vec::new();
        for m in models {
            let entry = ModelEntry::new(
                &m.name,
                &m.source,
                m.graph_optimization.as_ref(),
                &m.signature,
            );
            let path = outputs::write_atomic(out_dir, &entry.ort, m.ort.bytes())?;
            files.push(measure(&entry.ort, m.ort.bytes()));
            let artifact = ModelArtifact {
                name: m.name.clone(),
                ort: path,
                signature: m.signature.clone(),
            };
            if cargo {
                crate::codegen::write_model_module(out_dir, &artifact)?;
            }
            artifacts_models.push(artifact);
            entries.push(entry);
        }
        let config_text = config.to_string();
        let config_path =
            outputs::write_atomic(out_dir, outputs::CONFIG_FILE, config_text.as_bytes())?;
        files.push(measure(outputs::CONFIG_FILE, config_text.as_bytes()));
        let (toolchain, flags) = match runtime {
            Some(BuiltWith { tools, opts, .. }) => (
                serde_json::json!({
                    "emcc": tools.emcc.version.to_string(),
                    "cmake": tools.cmake.version.to_string(),
                    "ninja": tools.ninja.version.to_string(),
                    "protoc": tools.protoc.as_ref().map(|t| t.version.to_string()),
                    "node": tools.node.version.to_string(),
                    "closure": tools.closure_compiler.is_some(),
                    "wasm_opt": tools.wasm_opt.is_some(),
                }),
                flags_json(opts, self.type_reduction),
            ),
            None => (serde_json::Value::Null, serde_json::Value::Null),
        };
        let manifest = Manifest {
            ort_version: crate::ORT_VERSION.into(),
            generator: format!("ort-compact-build {}", env!("CARGO_PKG_VERSION")),
            toolchain,
            flags,
            runtime_key: key.to_string(),
            build_id: build_id.clone(),
            operators: config_text.lines().map(str::to_string).collect(),
            models: entries,
            files: files.clone(),
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Config(format!("serialising the manifest: {e}")))?;
        let manifest_path = outputs::write_atomic(out_dir, outputs::MANIFEST_FILE, &json)?;
        let artifacts = Artifacts {
            dir: out_dir.to_path_buf(),
            wasm,
            mjs,
            static_lib,
            models: artifacts_models,
            config: config_path,
            manifest: manifest_path,
            files,
            cache_hit: hit,
            build_id,
            bundle: None,
        };
        Ok(artifacts)
    }
}

/// Run every model of a JS-mode output directory once in its runtime under node.
pub(super) fn verify_outputs(
    artifacts: &Artifacts,
    tools: &Toolchain,
    progress: &Progress,
) -> Result<()> {
    for m in &artifacts.models {
        progress.say(format!("verifying {} in the built runtime (node)", m.name));
        let inputs: Vec<_> = m
            .signature
            .inputs
            .iter()
            .map(|i| crate::verify::InputSpec {
                name: i.name.clone(),
                elem_type: i.elem_type,
                dims: i.concrete_dims(),
            })
            .collect();
        // Load and session creation (where a missing kernel shows) must succeed; a run that
        // fails on synthetic data (symbolic dims as 1) is only reported.
        let report =
            crate::verify::verify_model(&artifacts.dir, &m.ort, &inputs, &tools.node.path)?;
        if let Some(err) = report.run_error {
            progress.say(format!(
                "note: {} loaded, but a run on synthetic inputs failed: {err}",
                m.name
            ));
        }
    }
    Ok(())
}

/// The deploy bundle of `pair` and the models; compressed siblings are kept in the cache
/// directory `compressed`.
pub(super) fn write_bundle(
    dir: &Path,
    (pair, compressed, wire): (&StampedPair, &Path, WireWeights),
    models: &[Prepared],
    progress: &Progress,
) -> Result<crate::bundle::Bundle> {
    let inputs: Vec<_> = models
        .iter()
        .map(|m| crate::bundle::ModelInput {
            name: &m.name,
            ort: m.ort.bytes(),
            inputs: &m.signature.inputs,
            outputs: &m.signature.outputs,
        })
        .collect();
    let bundle = crate::bundle::write(dir, pair, &inputs, Some(compressed), wire, progress)?;
    progress.say(format!("bundle: {}", bundle.dir().display()));
    Ok(bundle)
}

fn flags_json(opts: &RuntimeOptions, type_reduction: bool) -> serde_json::Value {
    serde_json::json!({
        "flavor": match opts.flavor { Flavor::JsModule => "js", Flavor::StaticLib => "static-lib" },
        "build_type": "MinSizeRel",
        "minimal_build": true,
        "reduced_ops": true,
        "type_reduction": type_reduction,
        "simd": opts.simd,
        "threads": opts.threads,
        "contrib_ops": opts.contrib_ops,
        "ml_ops": opts.ml_ops,
        "sparse_tensors": opts.sparse_tensors,
        "optional_type": opts.optional_type,
        "float8_types": opts.float8_types,
        "optimize": opts.optimize.as_str(),
        "external_initializers": false,
        "c_api_table": match opts.flavor { Flavor::JsModule => "wasm-glue", Flavor::StaticLib => "full" },
        "rtti": false,
        "virtual_function_elimination": true,
        "exception_catching": false,
    })
}
