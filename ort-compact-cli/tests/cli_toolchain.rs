//! `ort-compact toolchain`: real detection, and missing / too-old emcc simulated with the
//! `ORT_COMPACT_EMCC` override pointing at a fake script.

use std::process::Command;

fn ort_compact() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ort-compact"))
}

#[cfg(unix)]
fn fake_emcc(dir: &std::path::Path, first_line: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("emcc");
    std::fs::write(&p, format!("#!/bin/sh\necho '{first_line}'\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn detects_the_installed_toolchain() {
    let out = ort_compact().arg("toolchain").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for tool in ["emcc", "cmake", "ninja", "protoc", "node"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(tool)),
            "{tool} missing in:\n{stdout}"
        );
    }
}

#[cfg(unix)]
#[test]
fn too_old_emcc_is_refused_with_install_hint() {
    let dir = tempfile::tempdir().unwrap();
    let emcc = fake_emcc(
        dir.path(),
        "emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 3.1.69 ()",
    );
    let out = ort_compact()
        .arg("toolchain")
        .env("ORT_COMPACT_EMCC", &emcc)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3.1.69") && err.contains(">= 4.0.0"), "{err}");
    assert!(err.contains("apt-get install -t sid emscripten"), "{err}");
    assert!(err.contains("ORT_COMPACT_EMCC"), "{err}");
}

#[cfg(unix)]
#[test]
fn unparsable_emcc_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let emcc = fake_emcc(dir.path(), "this is not emscripten");
    let out = ort_compact()
        .arg("toolchain")
        .env("ORT_COMPACT_EMCC", &emcc)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown") && err.contains("this is not emscripten"),
        "{err}"
    );
}

#[test]
fn absent_emcc_is_reported_with_install_hint() {
    let dir = tempfile::tempdir().unwrap();
    // Not via the override: an empty PATH and no EMSDK, so emcc cannot be found at all.
    let out = ort_compact()
        .arg("toolchain")
        .env("PATH", dir.path())
        .env_remove("EMSDK")
        .env_remove("ORT_COMPACT_EMCC")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("emcc not found"), "{err}");
    assert!(
        err.contains("not on PATH") && err.contains("EMSDK"),
        "{err}"
    );
    assert!(err.contains("scripts/install-toolchain.sh"), "{err}");
}

#[test]
fn emcc_override_to_a_missing_file_is_reported() {
    let out = ort_compact()
        .arg("toolchain")
        .env("ORT_COMPACT_EMCC", "/nonexistent/emcc")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/emcc") && err.contains("cannot be run"),
        "{err}"
    );
}
