//! The runtime stage: a reduced ONNX Runtime built for an op set and options, kept in the cache
//! under a key of everything its bytes depend on (sources, operators, options, tool versions).

use crate::build::{BuildDir, Flavor, RuntimeOptions};
use crate::cache::{self, DirLock};
use crate::error::{Error, Result};
use crate::ops::OpConfig;
use crate::outputs;
use crate::progress::Progress;
use crate::source::Provisioner;
use crate::toolchain::Toolchain;
use crate::util::sha256_bytes;
use std::path::PathBuf;

/// Bump when the artifact layout or build recipe changes (part of the runtime cache key).
const RECIPE_VERSION: &str = "3";

/// Finished runtimes keyed by what they were built from.
pub(crate) struct RuntimeCache {
    /// `<cache>/artifacts`: one directory per key.
    pub root: PathBuf,
    /// `<cache>/work`: the warm build directories.
    pub work: PathBuf,
}

impl RuntimeCache {
    /// The cached runtime for this op set and options, building it if needed.
    pub fn get_or_build(
        &self,
        tools: &Toolchain,
        provisioner: &Provisioner,
        config: &OpConfig,
        opts: &RuntimeOptions,
        type_reduction: bool,
        progress: &Progress,
    ) -> Result<(PathBuf, String, bool)> {
        let (key, material) = runtime_key(tools, provisioner, config, opts, type_reduction)?;
        let dir = self.root.join(&key);
        if dir.is_dir() {
            progress.say(format!("runtime cache hit ({key})"));
            return Ok((dir, key, true));
        }
        let _lock = DirLock::acquire_named(&self.root, &format!(".lock-{key}"))?;
        if dir.is_dir() {
            progress.say(format!("runtime cache hit after waiting ({key})"));
            return Ok((dir, key, true));
        }
        cache::remove_stale_temps(&self.root, &format!(".tmp-{key}-"));
        let sources = provisioner.provision()?;
        let mut tools = tools.clone();
        tools.provide_protoc(&sources, provisioner.cache_dir(), progress)?;
        let tools = &tools;
        let build_dir = BuildDir::open(&self.work, &sources, opts)?;
        progress.say("reducing kernel registrations");
        crate::reduce::write_reduced_sources(
            sources.ort_dir(),
            build_dir.path(),
            config,
            &crate::reduce::ReduceOptions {
                type_reduction,
                extended_minimal_build: false,
            },
        )?;
        // The JS module's only caller of the C API table is ORT's wasm glue; Rust code linking
        // the static library may call any entry.
        let table = match opts.flavor {
            Flavor::JsModule => crate::reduce::CApiTable::WasmGlue,
            Flavor::StaticLib => crate::reduce::CApiTable::Full,
        };
        crate::reduce::write_c_api_source(sources.ort_dir(), build_dir.path(), table)?;
        let built = build_dir.build(tools, &sources, opts, progress)?;
        progress.say(format!("build finished ({} ninja steps)", built.steps));
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&self.root)
            .map_err(|e| Error::io("creating a temporary directory in", &self.root, e))?;
        let copy = |from: &Option<PathBuf>, name: &str| -> Result<()> {
            if let Some(p) = from {
                let to = tmp.path().join(name);
                std::fs::copy(p, &to).map_err(|e| Error::io("copying to", &to, e))?;
            }
            Ok(())
        };
        match (&built.wasm, &tools.wasm_opt) {
            (Some(wasm), Some(wasm_opt)) => {
                progress.say("wasm-opt -Oz size pass");
                crate::build::optimize_wasm(
                    wasm_opt,
                    wasm,
                    &tmp.path().join(outputs::WASM_FILE),
                    &built.log,
                )?;
            }
            _ => copy(&built.wasm, outputs::WASM_FILE)?,
        }
        copy(&built.mjs, outputs::MJS_FILE)?;
        copy(&built.static_lib, outputs::STATIC_LIB_FILE)?;
        for (name, text) in [
            ("config.txt", config.to_string()),
            (cache::prune::RUNTIME_KEY_FILE, material),
        ] {
            std::fs::write(tmp.path().join(name), text)
                .map_err(|e| Error::io("writing", tmp.path().join(name), e))?;
        }
        let kept = tmp.keep();
        std::fs::rename(&kept, &dir).map_err(|e| Error::io("moving the runtime into", &dir, e))?;
        Ok((dir, key, false))
    }
}

/// The cache key of a runtime and the text it hashes: everything the runtime's bytes depend on.
fn runtime_key(
    tools: &Toolchain,
    provisioner: &Provisioner,
    config: &OpConfig,
    opts: &RuntimeOptions,
    type_reduction: bool,
) -> Result<(String, String)> {
    let material = format!(
        "recipe {RECIPE_VERSION} {}\nsources {}\nconfig {}\nopts {:?}\ntypes {type_reduction}\nemcc {}\ncmake {}\nclosure {}\nwasm-opt {}\n",
        crate::build::cmake::recipe_flags(opts),
        provisioner.tree_key()?,
        config,
        opts,
        tools.emcc.version,
        tools.cmake.version,
        tools.closure_compiler.is_some(),
        tools.wasm_opt.is_some(),
    );
    Ok((
        sha256_bytes(material.as_bytes())[..20].to_string(),
        material,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolchain::{Tool, Version};

    fn tools() -> Toolchain {
        let tool = |v| Tool {
            path: PathBuf::from("/x"),
            version: v,
        };
        Toolchain {
            emcc: tool(Version(6, 0, 5)),
            cmake: tool(Version(3, 31, 10)),
            ninja: tool(Version(1, 11, 1)),
            protoc: Some(tool(Version(3, 21, 12))),
            node: tool(Version(20, 0, 0)),
            closure_compiler: None,
            wasm_opt: None,
        }
    }

    #[test]
    fn runtime_key_follows_sources_ops_and_options() {
        let mut config = OpConfig::new();
        config.add_op("ai.onnx", 13, "Relu");
        let opts = RuntimeOptions::default();
        let plain = Provisioner::new("/cache");
        let key = |p: &Provisioner, c: &OpConfig, o: &RuntimeOptions| {
            runtime_key(&tools(), p, c, o, false).unwrap().0
        };
        let base = key(&plain, &config, &opts);
        assert_eq!(base, key(&plain, &config, &opts));
        let mut user_ort = Provisioner::new("/cache");
        user_ort.ort_source_dir("/src/onnxruntime");
        assert_ne!(base, key(&user_ort, &config, &opts), "other ORT sources");
        let mut more = config.clone();
        more.add_op("ai.onnx", 13, "Add");
        assert_ne!(base, key(&plain, &more, &opts), "other operators");
        let no_simd = RuntimeOptions {
            simd: false,
            ..RuntimeOptions::default()
        };
        assert_ne!(base, key(&plain, &config, &no_simd), "other options");
    }
}
