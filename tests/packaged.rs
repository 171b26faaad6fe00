//! The published packages, used the way a user would: `cargo package` makes the `.crate` files
//! of ort-compact-build and ort-compact-sys, they are unpacked outside the workspace, and
//! consumer crates there (tests/outside-consumer: one `Builder` call in build.rs) build against
//! them with no network:
//! - Rust mode for wasm32-unknown-emscripten, run under node and compared with Python
//!   onnxruntime 1.21.0;
//! - host `cargo check` and `cargo test` of the same crate with no emcc and an empty cache: the
//!   typed module compiles and says that no runtime is linked;
//! - JS mode from a build script: the `.wasm`/`.mjs` pair;
//! - a missing model: the build fails naming it, and succeeds once it is there;
//! - `DOCS_RS=1` docs of the library and of a JS-mode consumer, with no toolchain.
//!
//! The runtimes are those of example-mlp-classifier and the main job, so the builds reuse the
//! cache instead of compiling ONNX Runtime again.

use ort_compact_tests::{
    assert_close, cargo_wasm_build, floats, mlp_oracle, run_node, run_ok, workspace,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CRATES: [&str; 2] = ["ort-compact-build", "ort-compact-sys"];

/// The unpacked `.crate` files (ort-compact-build, ort-compact-sys), made once per run in a
/// directory outside the workspace.
fn unpacked() -> &'static [PathBuf; 2] {
    static DIRS: OnceLock<(tempfile::TempDir, [PathBuf; 2])> = OnceLock::new();
    let (_, dirs) = DIRS.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        assert!(
            !tmp.path().starts_with(workspace()),
            "the consumers must live outside the workspace"
        );
        let crates = package(&target_dir());
        let dirs = [0, 1].map(|i| unpack(&crates[i], tmp.path()));
        assert!(
            dirs[0].join("vendor/pins.toml").is_file(),
            "the pin file is in the package"
        );
        (tmp, dirs)
    });
    dirs
}

fn target_dir() -> PathBuf {
    workspace().join("target/outside-consumer")
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo package` both library crates (no verification build: the consumer builds are the
/// check) and return the `.crate` files.
fn package(target_dir: &Path) -> Vec<PathBuf> {
    let mut cmd = cargo();
    cmd.current_dir(workspace())
        .args(["package", "--no-verify", "--allow-dirty", "--offline"])
        .arg("--target-dir")
        .arg(target_dir);
    for c in CRATES {
        cmd.args(["-p", c]);
    }
    run_ok(&mut cmd, "cargo package");
    let version = env!("CARGO_PKG_VERSION");
    CRATES
        .iter()
        .map(|c| target_dir.join(format!("package/{c}-{version}.crate")))
        .inspect(|p| assert!(p.is_file(), "no {}", p.display()))
        .collect()
}

/// Unpack a `.crate` (a gzipped tar of `<name>-<version>/…`) into `dir`; returns the crate's dir.
fn unpack(krate: &Path, dir: &Path) -> PathBuf {
    run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(krate)
            .arg("-C")
            .arg(dir),
        "tar -xzf",
    );
    let crate_dir = dir.join(krate.file_stem().expect("crate file name"));
    assert!(
        crate_dir.join("Cargo.toml").is_file(),
        "{}",
        crate_dir.display()
    );
    crate_dir
}

/// A consumer crate in a new temp dir outside the workspace, from the fixture with `build_rs`
/// and `main_rs` (fixture file names), pointing at the unpacked crates.
fn consumer(build_rs: &str, main_rs: &str) -> tempfile::TempDir {
    let [build, sys] = unpacked();
    let fixture = workspace().join("tests/outside-consumer");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = std::fs::read_to_string(fixture.join("Cargo.toml.in"))
        .unwrap()
        .replace("@BUILD@", &build.display().to_string())
        .replace("@SYS@", &sys.display().to_string());
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(fixture.join(build_rs), dir.join("build.rs")).unwrap();
    std::fs::copy(fixture.join(main_rs), dir.join("src/main.rs")).unwrap();
    let model = workspace().join("models/mlp-classifier.onnx");
    std::fs::copy(model, dir.join("mlp-classifier.onnx")).unwrap();
    // The workspace's lock file pins the dependency versions already downloaded (no network).
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    tmp
}

/// Make emcc unavailable and the cache empty for `cmd`: whatever it builds, it cannot have
/// used a toolchain or a cached runtime.
fn without_toolchain<'a>(cmd: &'a mut Command, empty_cache: &Path) -> &'a mut Command {
    cmd.env("ORT_COMPACT_EMCC", "/nonexistent/emcc")
        .env("ORT_COMPACT_CACHE_DIR", empty_cache)
        .env_remove("EMSDK")
}

#[test]
fn rust_mode_consumer_runs_in_node_and_matches_onnxruntime() {
    let c = consumer("build.rs", "src/main.rs");
    run_ok(
        cargo_wasm_build(c.path(), &target_dir().join("build")).arg("--offline"),
        "cargo build --target wasm32-unknown-emscripten of the outside consumer",
    );
    let js = target_dir().join("build/wasm32-unknown-emscripten/release/outside-consumer.js");
    let got = run_node(&js);
    let expected = mlp_oracle(&got["features"]);
    let p = &got["probabilities"];
    assert_eq!(p["shape"], expected["shape"]);
    let worst = assert_close(
        "probabilities",
        &floats(&p["data"]),
        &floats(&expected["data"]),
    );
    eprintln!("outside consumer: max |diff| vs Python onnxruntime = {worst:e}");
}

#[test]
fn host_check_and_test_need_no_toolchain() {
    let c = consumer("build.rs", "src/main.rs");
    let empty = tempfile::tempdir().unwrap();
    for sub in ["check", "test"] {
        let mut cmd = cargo();
        cmd.current_dir(c.path())
            .args([sub, "--offline"])
            .env("CARGO_TARGET_DIR", target_dir().join("build"))
            .env_remove("CARGO_BUILD_TARGET");
        run_ok(
            without_toolchain(&mut cmd, empty.path()),
            &format!("host cargo {sub} of the outside consumer"),
        );
    }
    assert_eq!(
        std::fs::read_dir(empty.path()).unwrap().count(),
        0,
        "nothing was cached"
    );
}

#[test]
fn a_missing_model_is_named_and_the_next_build_picks_it_up() {
    let c = consumer("build.rs", "src/main.rs");
    let model = c.path().join("mlp-classifier.onnx");
    let saved = c.path().join("saved.onnx");
    std::fs::rename(&model, &saved).unwrap();
    let check = || {
        let mut cmd = cargo();
        cmd.current_dir(c.path())
            .args(["check", "--offline"])
            .env("CARGO_TARGET_DIR", target_dir().join("build"))
            .env_remove("CARGO_BUILD_TARGET");
        cmd.output().expect("cargo check")
    };
    let out = check();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a missing model must fail the build");
    assert!(
        stderr.contains("ort-compact-build failed")
            && stderr.contains(&format!("{} does not exist", "mlp-classifier.onnx"))
            && stderr.contains(&model.display().to_string())
            && stderr.contains("which in a build script is the crate's directory"),
        "{stderr}"
    );
    std::fs::rename(&saved, &model).unwrap();
    let out = check();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn js_mode_consumer_gets_the_runtime_pair() {
    let c = consumer("build-js.rs", "src-js-main.rs");
    let mut cmd = cargo();
    cmd.current_dir(c.path())
        .args(["run", "--release", "--offline", "-q"])
        .env("CARGO_TARGET_DIR", target_dir().join("build-js"))
        .env_remove("CARGO_BUILD_TARGET");
    let out = cmd.output().expect("cargo run");
    assert!(
        out.status.success(),
        "JS-mode consumer failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let paths: Vec<&str> = stdout.lines().collect();
    assert_eq!(paths.len(), 2, "{stdout}");
    let wasm = std::fs::read(paths[0]).expect("ORT_COMPACT_WASM names a file");
    assert_eq!(wasm.get(..4), Some(&b"\0asm"[..]), "{}", paths[0]);
    assert!(paths[0].ends_with("ort-wasm.wasm") && paths[1].ends_with("ort-wasm.mjs"));
    // The .mjs is the module factory onnxruntime-web imports.
    let node = std::env::var_os("ORT_COMPACT_NODE").unwrap_or_else(|| "node".into());
    let script = "const m = await import(process.argv[1]); \
                  if (typeof m.default !== 'function') { process.exit(3); }";
    run_ok(
        Command::new(node)
            .args(["--input-type=module", "-e", script])
            .arg(paths[1]),
        "importing ORT_COMPACT_MJS in node",
    );
}

#[test]
fn docs_build_without_a_toolchain() {
    let empty = tempfile::tempdir().unwrap();
    let c = consumer("build-js.rs", "src-js-main.rs");
    let build_crate = &unpacked()[0];
    for dir in [build_crate.as_path(), c.path()] {
        let mut cmd = cargo();
        cmd.current_dir(dir)
            .args(["doc", "--no-deps", "--offline"])
            .env("DOCS_RS", "1")
            .env("CARGO_TARGET_DIR", target_dir().join("docs"))
            .env_remove("CARGO_BUILD_TARGET");
        run_ok(
            without_toolchain(&mut cmd, empty.path()),
            &format!("DOCS_RS=1 cargo doc in {}", dir.display()),
        );
    }
    let docs = target_dir().join("docs/doc");
    assert!(docs.join("ort_compact_build/index.html").is_file());
    assert!(docs.join("outside_consumer/index.html").is_file());
}
