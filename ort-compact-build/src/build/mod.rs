//! CMake + Emscripten build of ONNX Runtime 1.21.0 as a minimal WebAssembly runtime.
//!
//! A build directory is kept warm per [`RuntimeOptions`] (under `<cache>/work/`), so a new
//! operator set only recompiles the regenerated kernel-registration files and relinks. The
//! directory is locked while in use; configure is re-run only when its command line changed.

pub mod cmake;

use crate::cache::DirLock;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::source::SourceTree;
use crate::toolchain::Toolchain;
use crate::util::{run_logged, sha256_bytes, tail_of};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the build produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// `ort-wasm.wasm` + `ort-wasm.mjs` for onnxruntime-web (JS mode).
    JsModule,
    /// `libonnxruntime_webassembly.a` (LLVM bitcode) for linking into a Rust program (Rust mode).
    StaticLib,
}

/// What the compiler optimises ORT's kernels and MLAS for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Optimize {
    /// `-Oz` everywhere: the smallest runtime, slower on compute-heavy models (up to 1.4× the
    /// run time of stock onnxruntime-web).
    Size,
    /// `-Oz`, except `-O2` for the few CPU kernel sources where compute-heavy models spend the
    /// time `-Oz` loses (element-wise arithmetic, activations, Clip: Eigen expression code that
    /// only pays off inlined). The default: as fast as stock on the benchmark's compute-heavy
    /// models for a few percent more bytes than `Size`, and only for the kernels the models use
    /// (docs/speed.md).
    #[default]
    Balanced,
    /// `-O2` for all CPU kernels and MLAS, `-Oz` for the rest: about 25 % more bytes than `Size`,
    /// and on the benchmark's compute-heavy models no faster than `Balanced` (docs/speed.md).
    Speed,
}

impl Optimize {
    /// Every mode, smallest first.
    pub const ALL: [Optimize; 3] = [Optimize::Size, Optimize::Balanced, Optimize::Speed];

    /// `"size"`, `"balanced"` or `"speed"` (the manifest's and the CLI's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Optimize::Size => "size",
            Optimize::Balanced => "balanced",
            Optimize::Speed => "speed",
        }
    }

    /// Parses `"size"`, `"balanced"` or `"speed"` (case and surrounding space ignored).
    pub fn parse(text: &str) -> Option<Optimize> {
        let text = text.trim().to_ascii_lowercase();
        Optimize::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// Options that select a build directory (changing one means another configure).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuntimeOptions {
    /// Output kind.
    pub flavor: Flavor,
    /// WebAssembly SIMD (default on; ORT 1.21's scalar SGEMM path is broken, see TOOLCHAIN).
    pub simd: bool,
    /// WebAssembly threads.
    pub threads: bool,
    /// Compile the com.microsoft contrib kernels (default on: the reduction registers only
    /// those a model uses, so a model without contrib operators pays about 100 bytes).
    pub contrib_ops: bool,
    /// Compile the ai.onnx.ml kernels.
    pub ml_ops: bool,
    /// Keep ORT's sparse-tensor types (only models with sparse initializers need them).
    pub sparse_tensors: bool,
    /// Keep ORT's optional type (only the `Optional*` operators need it).
    pub optional_type: bool,
    /// Keep ORT's float8 element types (only models with float8 values need them).
    pub float8_types: bool,
    /// Size or speed.
    pub optimize: Optimize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            flavor: Flavor::JsModule,
            simd: true,
            threads: false,
            contrib_ops: true,
            ml_ops: false,
            sparse_tensors: false,
            optional_type: false,
            float8_types: false,
            optimize: Optimize::default(),
        }
    }
}

impl RuntimeOptions {
    /// Short stable name for the build directory of these options. The flavor is not part of it:
    /// switching between the JS module and the static library only re-runs configure (no
    /// recompilation), so both share one warm directory. Nor is [`Optimize::Balanced`]: it
    /// differs from [`Optimize::Size`] in a few kernel sources, which a switch recompiles.
    pub fn dir_name(&self, sources_key: &str) -> String {
        let tags: Vec<&str> = [
            (self.simd, "simd"),
            (!self.simd, "scalar"),
            (self.threads, "threads"),
            (self.contrib_ops, "contrib"),
            (self.ml_ops, "ml"),
            (self.sparse_tensors, "sparse"),
            (self.optional_type, "optional"),
            (self.float8_types, "float8"),
            (self.optimize == Optimize::Speed, "speed"),
        ]
        .into_iter()
        .filter_map(|(on, tag)| on.then_some(tag))
        .collect();
        format!(
            "{}-{}",
            tags.join("-"),
            &sources_key[..sources_key.len().min(8)]
        )
    }
}

/// Files a finished build produced (inside the build directory).
#[derive(Debug, Clone)]
pub struct BuiltRuntime {
    /// `.wasm` (JS mode).
    pub wasm: Option<PathBuf>,
    /// `.mjs` (JS mode).
    pub mjs: Option<PathBuf>,
    /// Static library (Rust mode).
    pub static_lib: Option<PathBuf>,
    /// Ninja steps that ran (0 when everything was up to date).
    pub steps: usize,
    /// The build log.
    pub log: PathBuf,
}

/// A warm, locked build directory.
pub struct BuildDir {
    dir: PathBuf,
    _lock: DirLock,
}

impl BuildDir {
    /// Lock (waiting for other builds) and return the build directory for `opts`.
    pub fn open(work_root: &Path, sources: &SourceTree, opts: &RuntimeOptions) -> Result<BuildDir> {
        let dir = work_root.join(opts.dir_name(sources.key()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        // cmake ties a build dir to the path it was configured at: reach it by its real path
        // whatever links lead to it, or a re-configure would rebuild everything.
        let dir = std::fs::canonicalize(&dir).map_err(|e| Error::io("resolving", &dir, e))?;
        let lock = DirLock::acquire(&dir)?;
        Ok(BuildDir { dir, _lock: lock })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Configure (if the command line changed since last time) and build.
    pub fn build(
        &self,
        tools: &Toolchain,
        sources: &SourceTree,
        opts: &RuntimeOptions,
        progress: &Progress,
    ) -> Result<BuiltRuntime> {
        let log = self.dir.join("ort-compact-build.log");
        let _ = std::fs::remove_file(&log);
        self.configure(tools, sources, opts, &log, progress)?;
        // Static-lib mode: `onnxruntime_webassembly` is an IMPORTED target; `bundling_target` builds it.
        let target = match opts.flavor {
            Flavor::JsModule => "onnxruntime_webassembly",
            Flavor::StaticLib => "bundling_target",
        };
        if opts.flavor == Flavor::StaticLib {
            // The bundling command (`ar -M`) has no file dependencies on the libraries it
            // bundles, so ninja never redoes it once the archive exists: remove it to force a
            // fresh bundle of this op set's libraries (about a second).
            let _ = std::fs::remove_file(self.dir.join("libonnxruntime_webassembly.a"));
        }
        progress.say(format!("compiling ({})", self.dir.display()));
        let steps = run_ninja(tools, &self.dir, target, &log, progress)?;
        let found = |name: &str| {
            let p = self.dir.join(name);
            p.is_file().then_some(p)
        };
        let stem = match (opts.simd, opts.threads) {
            (false, false) => "ort-wasm",
            (true, false) => "ort-wasm-simd",
            (false, true) => "ort-wasm-threaded",
            (true, true) => "ort-wasm-simd-threaded",
        };
        // The build dir is shared by both flavors: only this flavor's outputs are current.
        let js = opts.flavor == Flavor::JsModule;
        let built = BuiltRuntime {
            wasm: found(&format!("{stem}.wasm")).filter(|_| js),
            mjs: found(&format!("{stem}.mjs")).filter(|_| js),
            static_lib: found("libonnxruntime_webassembly.a").filter(|_| !js),
            steps,
            log: log.clone(),
        };
        let complete = match opts.flavor {
            Flavor::JsModule => built.wasm.is_some() && built.mjs.is_some(),
            Flavor::StaticLib => built.static_lib.is_some(),
        };
        if !complete {
            return Err(Error::CommandFailed {
                what: "the ONNX Runtime build".into(),
                status: format!("finished without producing its outputs ({stem}.wasm/.mjs or the static library)"),
                tail: tail_of(&log, 20),
                log,
            });
        }
        Ok(built)
    }

    fn configure(
        &self,
        tools: &Toolchain,
        sources: &SourceTree,
        opts: &RuntimeOptions,
        log: &Path,
        progress: &Progress,
    ) -> Result<()> {
        let args = cmake::configure_args(tools, sources, opts, &self.dir)?;
        let hook = cmake::optimize_hook(opts);
        let mut stamp_text = format!("{:?}\ncmake {}\n", args, tools.cmake.version);
        stamp_text.push_str(&hook);
        let stamp = self.dir.join(".ort-compact-configured");
        let current = std::fs::read_to_string(&stamp).unwrap_or_default();
        if self.dir.join("build.ninja").is_file() && current == sha256_bytes(stamp_text.as_bytes())
        {
            return Ok(());
        }
        let _ = std::fs::remove_file(&stamp);
        let file = self.dir.join(cmake::OPTIMIZE_HOOK_FILE);
        std::fs::write(&file, hook).map_err(|e| Error::io("writing", &file, e))?;
        progress.say("configuring ONNX Runtime with cmake (about 2 minutes)");
        let mut cmd = Command::new(&tools.cmake.path);
        cmd.args(&args).current_dir(&self.dir);
        set_build_env(&mut cmd, tools);
        run_logged(&mut cmd, "cmake configure of ONNX Runtime", log)?;
        std::fs::write(&stamp, sha256_bytes(stamp_text.as_bytes()))
            .map_err(|e| Error::io("writing", &stamp, e))
    }
}

/// WebAssembly features the runtime uses (what emcc targets with `-msimd128`); wasm-opt must
/// be told, as Emscripten strips the features section from its output.
const WASM_FEATURES: &[&str] = &[
    "--enable-simd",
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-call-indirect-overlong",
];

/// The final size pass: `wasm-opt -Oz --converge` from `input` to `output`.
pub fn optimize_wasm(wasm_opt: &Path, input: &Path, output: &Path, log: &Path) -> Result<()> {
    run_logged(
        Command::new(wasm_opt)
            .arg("-Oz")
            .arg("--converge")
            .args(WASM_FEATURES)
            .arg(input)
            .arg("-o")
            .arg(output),
        "wasm-opt size pass",
        log,
    )
}

/// Environment every emcc invocation of the build needs.
fn set_build_env(cmd: &mut Command, tools: &Toolchain) {
    if let Some(closure) = &tools.closure_compiler {
        cmd.env("EM_CLOSURE_COMPILER", closure);
    }
    if let Some(dir) = tools.node.path.parent() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![dir.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            cmd.env("PATH", joined);
        }
    }
}

/// Run ninja for `target`, logging everything and reporting progress every ~10 %.
fn run_ninja(
    tools: &Toolchain,
    dir: &Path,
    target: &str,
    log: &Path,
    progress: &Progress,
) -> Result<usize> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io("opening log", log, e))?;
    let mut cmd = Command::new(&tools.ninja.path);
    cmd.arg("-C")
        .arg(dir)
        .arg(target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    set_build_env(&mut cmd, tools);
    let _ = writeln!(file, "$ {cmd:?}");
    let mut child = cmd.spawn().map_err(|e| Error::CommandFailed {
        what: "ninja".into(),
        status: format!("could not start {}: {e}", tools.ninja.path.display()),
        tail: String::new(),
        log: log.to_path_buf(),
    })?;
    let stderr = child.stderr.take();
    let err_log = file
        .try_clone()
        .map_err(|e| Error::io("opening log", log, e))?;
    let err_thread = std::thread::spawn(move || {
        let mut err_log = err_log;
        if let Some(s) = stderr {
            for line in BufReader::new(s).lines().map_while(|l| l.ok()) {
                let _ = writeln!(err_log, "{line}");
            }
        }
    });
    let mut steps = 0usize;
    let mut last_decile = None;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            let _ = writeln!(file, "{line}");
            if let Some((done, total)) = ninja_step(&line) {
                steps = steps.max(done);
                let decile = done * 10 / total.max(1);
                if total >= 20 && last_decile != Some(decile) {
                    last_decile = Some(decile);
                    progress.say(format!("compiling: step {done}/{total}"));
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::io("waiting for ninja in", dir, e))?;
    let _ = err_thread.join();
    if !status.success() {
        return Err(Error::CommandFailed {
            what: "ninja build of ONNX Runtime".into(),
            status: status.to_string(),
            tail: tail_of(log, 40),
            log: log.to_path_buf(),
        });
    }
    Ok(steps)
}

/// Parse ninja's `[done/total] …` status prefix.
fn ninja_step(line: &str) -> Option<(usize, usize)> {
    let inner = line.strip_prefix('[')?.split_once(']')?.0;
    let (a, b) = inner.split_once('/')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimize_parses_its_own_spelling() {
        for o in Optimize::ALL {
            assert_eq!(Optimize::parse(o.as_str()), Some(o));
        }
        assert_eq!(Optimize::parse(" Speed "), Some(Optimize::Speed));
        assert_eq!(Optimize::parse("fast"), None);
    }

    #[test]
    fn parses_ninja_status() {
        assert_eq!(
            ninja_step("[12/641] Building CXX object x.o"),
            Some((12, 641))
        );
        assert_eq!(ninja_step("ninja: no work to do."), None);
    }

    #[test]
    fn build_dir_names_differ_by_options() {
        let a = RuntimeOptions::default();
        let b = RuntimeOptions {
            ml_ops: true,
            ..RuntimeOptions::default()
        };
        let lib = RuntimeOptions {
            flavor: Flavor::StaticLib,
            ..RuntimeOptions::default()
        };
        let speed = RuntimeOptions {
            optimize: Optimize::Speed,
            ..RuntimeOptions::default()
        };
        let balanced = RuntimeOptions {
            optimize: Optimize::Balanced,
            ..RuntimeOptions::default()
        };
        let plain = RuntimeOptions {
            contrib_ops: false,
            ..RuntimeOptions::default()
        };
        assert_eq!(
            speed.dir_name("0123456789abcdef"),
            "simd-contrib-speed-01234567"
        );
        assert_eq!(
            balanced.dir_name("0123456789abcdef"),
            "simd-contrib-01234567"
        );
        assert_eq!(a.dir_name("0123456789abcdef"), "simd-contrib-01234567");
        assert_eq!(b.dir_name("0123456789abcdef"), "simd-contrib-ml-01234567");
        assert_eq!(plain.dir_name("0123456789abcdef"), "simd-01234567");
        assert_eq!(
            lib.dir_name("0123456789abcdef"),
            a.dir_name("0123456789abcdef")
        );
    }
}
