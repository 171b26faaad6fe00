//! The `rust-version` the library crates state is proven here: ort-compact-build,
//! ort-compact-sys and ort-compact-cli build with Debian trixie's rustc and cargo 1.85
//! (`/usr/bin`, installed by scripts/install-toolchain.sh), from the workspace's lock file.

use ort_compact_tests::{run_ok, workspace};
use std::process::Command;

/// The version the manifests state (`[workspace.package] rust-version`).
const MSRV: &str = "1.85";

#[test]
fn library_crates_build_with_the_stated_rust_version() {
    let manifest = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("rust-version = \"{MSRV}\"")),
        "Cargo.toml states another rust-version than the one this test proves ({MSRV})"
    );
    let rustc = Command::new("/usr/bin/rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        rustc.starts_with(&format!("rustc {MSRV}.")),
        "/usr/bin/rustc is not {MSRV} ({rustc:?}): run scripts/install-toolchain.sh, which \
         installs Debian trixie's rustc and cargo"
    );
    let home = std::env::var_os("CARGO_HOME")
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo").into())
        })
        .expect("CARGO_HOME or HOME");
    let mut cmd = Command::new("/usr/bin/cargo");
    cmd.current_dir(workspace())
        .args(["check", "--locked", "--offline"])
        .args([
            "-p",
            "ort-compact-build",
            "-p",
            "ort-compact-sys",
            "-p",
            "ort-compact-cli",
        ])
        // Only Debian's toolchain: no rustup proxies on PATH.
        .env("PATH", "/usr/bin:/bin")
        .env("RUSTC", "/usr/bin/rustc")
        .env("CARGO_HOME", home)
        .env("CARGO_TARGET_DIR", workspace().join("target/msrv"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WRAPPER");
    run_ok(
        &mut cmd,
        &format!("cargo {MSRV} check of the library crates"),
    );
}
