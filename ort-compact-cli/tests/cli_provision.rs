//! `ort-compact provision` on a host without apt: every pinned archive comes from a mirror (a
//! loopback server in Debian's pool layout, 127.0.0.1 only) into a fresh cache, and the
//! assembled tree is the one the apt path assembled, file for file. Without protoc: the pinned
//! one is built and compiles ONNX's schema as Debian's protoc 3.21.12 does.

use ort_compact_test_support::mirror::MirrorServer;
use ort_compact_test_support::verify::{real_cache, workspace};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ort-compact"));
    for var in [
        "ORT_COMPACT_MIRROR",
        "ORT_COMPACT_OFFLINE",
        "ORT_COMPACT_ORT_SOURCE_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The tree root `ort-compact provision` printed (`sources KEY ROOT`).
fn tree_root(stdout: &str) -> PathBuf {
    let line = stdout.lines().find(|l| l.starts_with("sources ")).unwrap();
    PathBuf::from(line.splitn(3, ' ').nth(2).unwrap())
}

/// A directory of links to every program on this PATH except those whose names start with one
/// of `left_out` (`apt` leaves out `apt`, `apt-get`, …).
fn path_without(dir: &Path, left_out: &[&str]) -> OsString {
    std::fs::create_dir_all(dir).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path) {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let link = dir.join(&name);
            let name_text = name.to_string_lossy();
            if !left_out.iter().any(|p| name_text.starts_with(p)) && !link.exists() {
                std::os::unix::fs::symlink(entry.path(), link).unwrap();
            }
        }
    }
    dir.as_os_str().to_os_string()
}

/// The `pool` paths of the bundled pin file.
fn pool_paths() -> Vec<String> {
    let pins = workspace().join("ort-compact-build/vendor/pins.toml");
    std::fs::read_to_string(pins)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("pool = \""))
        .map(|p| p.trim_end_matches('"').to_string())
        .collect()
}

/// Every file below `root`: relative path → content.
fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, target.into_os_string().into_encoded_bytes());
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn provisions_from_a_mirror_without_apt_into_the_same_tree_as_apt() {
    // The apt path's tree, in the real cache (assembled by the main job, else now).
    let stdout = ok(
        cli()
            .args(["provision", "--skip-toolchain"])
            .output()
            .unwrap(),
        "provision with apt",
    );
    let apt_tree = tree_root(&stdout);

    let server = MirrorServer::start();
    let downloads = real_cache().join("downloads");
    let pools = pool_paths();
    assert_eq!(pools.len(), 12, "{pools:?}");
    for pool in &pools {
        let file = pool.rsplit('/').next().unwrap();
        server.serve(&format!("/debian/{pool}"), downloads.join(file));
    }

    let tmp = tempfile::tempdir().unwrap();
    let path = path_without(&tmp.path().join("bin"), &["apt"]);
    let which = Command::new("sh")
        .args(["-c", "command -v apt-get"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(!which.status.success(), "apt-get is still on PATH");
    let cache = tmp.path().join("cache");
    let out = cli()
        .args(["provision", "--skip-toolchain", "--cache-dir"])
        .arg(&cache)
        .arg("--mirror")
        .arg(format!("{}/debian", server.base()))
        .env("PATH", &path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mirror_tree = tree_root(&ok(out, "provision from the mirror"));
    assert!(stderr.contains("fetched http://127.0.0.1"), "{stderr}");
    let log = server.log();
    assert_eq!(log.len(), 12, "{log:?}");
    assert!(
        log.iter().all(|l| l.starts_with("GET /debian/pool/")),
        "{log:?}"
    );

    assert_eq!(
        mirror_tree.file_name(),
        apt_tree.file_name(),
        "the tree key differs"
    );
    let (ours, apts) = (files(&mirror_tree), files(&apt_tree));
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&apts), "the trees hold other files");
    let differ: Vec<&PathBuf> = ours
        .iter()
        .filter(|(p, bytes)| apts.get(*p) != Some(*bytes))
        .map(|(p, _)| p)
        .collect();
    assert!(differ.is_empty(), "files differ: {differ:?}");
}

/// `protoc --cpp_out` of `proto` (in `dir`): generated file name → content.
fn generated(protoc: &Path, dir: &Path, proto: &str, out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::create_dir_all(out).unwrap();
    let status = Command::new(protoc)
        .arg(format!("-I{}", dir.display()))
        .arg(format!("--cpp_out={}", out.display()))
        .arg(dir.join(proto))
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", protoc.display());
    files(out)
}

#[test]
fn without_protoc_provision_builds_the_pinned_one_once() {
    let tmp = tempfile::tempdir().unwrap();
    let path = path_without(&tmp.path().join("bin"), &["apt", "protoc"]);
    let cache = tmp.path().join("cache");
    let provision = || {
        cli()
            .args(["provision", "--offline", "--cache-dir"])
            .arg(&cache)
            .env("ORT_COMPACT_MIRROR", real_cache().join("downloads"))
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let out = provision();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = ok(out, "provision without protoc");
    assert!(stderr.contains("building protoc 3.21.12"), "{stderr}");
    let line = stdout.lines().find(|l| l.starts_with("protoc ")).unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[1], "3.21.12", "{line}");
    let built = PathBuf::from(fields[2]);
    assert!(built.starts_with(cache.join("tools")), "{line}");

    // It compiles ONNX's schema as Debian's protoc 3.21.12 (the test command installs it) does.
    let onnx = tree_root(&stdout).join("onnx/onnx");
    let ours = generated(&built, &onnx, "onnx-ml.proto", &tmp.path().join("ours"));
    let debians = generated(
        Path::new("protoc"),
        &onnx,
        "onnx-ml.proto",
        &tmp.path().join("deb"),
    );
    assert!(!ours.is_empty());
    assert!(ours == debians, "generated code differs");

    // Built once: the next run finds it.
    let out = provision();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let again = ok(out, "second provision");
    assert!(!stderr.contains("building protoc"), "{stderr}");
    assert!(again.contains(&built.display().to_string()), "{again}");
}

/// Neither protoc nor a C++ compiler: a typed error that names both ways out, and no protoc is
/// left half-built in the cache.
#[test]
fn without_protoc_or_a_compiler_provision_says_what_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    let path = path_without(
        &tmp.path().join("bin"),
        &["apt", "protoc", "c++", "g++", "clang++"],
    );
    let cache = tmp.path().join("cache");
    let out = cli()
        .args(["provision", "--offline", "--cache-dir"])
        .arg(&cache)
        .env("ORT_COMPACT_MIRROR", real_cache().join("downloads"))
        .env("PATH", &path)
        .env_remove("CXX")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("no host C++ compiler"), "{stderr}");
    assert!(stderr.contains("install protoc 3.21.12"), "{stderr}");
    assert!(stderr.contains("apt-get install g++"), "{stderr}");
    let tools = cache.join("tools");
    let leftovers: Vec<_> = std::fs::read_dir(&tools)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name())
                .filter(|n| !n.to_string_lossy().starts_with(".lock"))
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
