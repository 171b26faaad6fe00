//! Foundation: pinned source provisioning (real Debian archives, sha256-verified) and the
//! toolchain (real emcc compiling against the provisioned ORT headers, node running the result).

use ort_compact_build::tools::{Pins, Provisioner, Toolchain};
use ort_compact_build::{Error, ORT_VERSION};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A pin file with one fake "onnxruntime" archive, for exercising provisioning itself.
fn fake_pins(dir: &Path, sha: &str) -> Pins {
    let text = format!(
        r#"schema = 1
ort_version = "1.21.0"
[[source]]
name = "onnxruntime"
version = "1.21.0"
fetchcontent = ""
debian = "trixie/source/ort-compact-test-fake=1.0-1"
file = "fake-ort.tar.gz"
sha256 = "{sha}"
"#
    );
    let path = dir.join("pins.toml");
    std::fs::write(&path, text).unwrap();
    Pins::load(&path).unwrap()
}

/// Make `<cache>/downloads/fake-ort.tar.gz` holding `fake-ort-1.21.0/VERSION_NUMBER`; returns its sha256.
fn fake_archive(cache: &Path) -> String {
    let src = cache.join("src/fake-ort-1.21.0");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("VERSION_NUMBER"), "1.21.0\n").unwrap();
    let downloads = cache.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let archive = downloads.join("fake-ort.tar.gz");
    let ok = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(cache.join("src"))
        .arg("fake-ort-1.21.0")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar failed");
    let out = Command::new("sha256sum").arg(&archive).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// Entries of `<cache>/sources` that look like source trees (not locks, logs or temp dirs).
fn trees(cache: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(cache.join("sources")) else {
        return vec![];
    };
    rd.flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

#[test]
fn provisions_verified_archive_and_second_run_is_a_no_op() {
    let cache = tempfile::tempdir().unwrap();
    let sha = fake_archive(cache.path());
    let pins = fake_pins(cache.path(), &sha);
    let tree = Provisioner::new(cache.path())
        .offline(true)
        .pins(pins.clone())
        .provision()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(tree.ort_dir().join("VERSION_NUMBER")).unwrap(),
        "1.21.0\n"
    );
    let started = std::time::Instant::now();
    let again = Provisioner::new(cache.path())
        .offline(true)
        .pins(pins)
        .provision()
        .unwrap();
    assert_eq!(again.root(), tree.root());
    assert!(
        started.elapsed().as_secs() < 2,
        "second provisioning took {:?}",
        started.elapsed()
    );
    assert_eq!(trees(cache.path()).len(), 1);
}

#[test]
fn hash_mismatch_names_file_and_both_hashes_and_leaves_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let actual = fake_archive(cache.path());
    let wrong = "0".repeat(64);
    let pins = fake_pins(cache.path(), &wrong);
    let err = Provisioner::new(cache.path())
        .offline(true)
        .pins(pins)
        .provision()
        .unwrap_err();
    assert!(matches!(err, Error::HashMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("fake-ort.tar.gz"), "{msg}");
    assert!(msg.contains(&wrong) && msg.contains(&actual), "{msg}");
    assert!(msg.contains("delete it"), "{msg}");
    assert!(
        trees(cache.path()).is_empty(),
        "a source tree was left behind"
    );
}

#[test]
fn missing_archive_offline_says_how_to_fix() {
    let cache = tempfile::tempdir().unwrap();
    let pins = fake_pins(cache.path(), &"a".repeat(64));
    let err = Provisioner::new(cache.path())
        .offline(true)
        .pins(pins)
        .provision()
        .unwrap_err();
    assert!(matches!(err, Error::ArchivesUnavailable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("fake-ort.tar.gz"), "{msg}");
    assert!(msg.contains(&"a".repeat(64)), "{msg}");
    assert!(msg.contains("ORT_COMPACT_OFFLINE"), "{msg}");
    assert!(
        msg.contains("pool/main/o/ort-compact-test-fake/fake-ort.tar.gz"),
        "{msg}"
    );
    assert!(trees(cache.path()).is_empty());
}

#[test]
fn unreadable_or_invalid_pin_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let msg = Pins::load(&missing).unwrap_err().to_string();
    assert!(
        msg.contains("nope.toml") && msg.contains("cannot read"),
        "{msg}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "schema = 1\nort_version = 3\n").unwrap();
    let err = Pins::load(&bad).unwrap_err();
    assert!(matches!(err, Error::PinFile { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.toml"));

    let short = dir.path().join("short.toml");
    std::fs::write(
        &short,
        "schema = 1\nort_version = \"1.21.0\"\n[[source]]\nname = \"onnxruntime\"\nversion = \"1\"\nfetchcontent = \"\"\ndebian = \"trixie/source/x=1\"\nfile = \"x.tar.gz\"\nsha256 = \"abc\"\n",
    )
    .unwrap();
    let msg = Pins::load(&short).unwrap_err().to_string();
    assert!(msg.contains("64 hex digits"), "{msg}");
}

#[test]
fn bundled_pins_cover_every_source_the_build_uses() {
    let pins = Pins::bundled().unwrap();
    assert_eq!(pins.ort_version, ORT_VERSION);
    let names: Vec<&str> = pins
        .sources
        .iter()
        .map(|s| s.fetchcontent.as_str())
        .collect();
    for needed in [
        "",
        "abseil_cpp",
        "protobuf",
        "utf8_range",
        "onnx",
        "flatbuffers",
        "date",
        "eigen",
        "GSL",
        "nlohmann_json",
        "re2",
        "safeint",
        "mp11",
    ] {
        assert!(names.contains(&needed), "pin file lacks {needed:?}");
    }
}

/// The real thing: the bundled pins provisioned from Debian's archive (cached after the first
/// run), then emcc compiles a program against the provisioned ORT C API header and node runs it.
#[test]
fn real_sources_compile_with_emcc_and_run_in_node() {
    let tree = Provisioner::from_environment()
        .provision()
        .expect("provisioning the pinned sources");
    let version = std::fs::read_to_string(tree.ort_dir().join("VERSION_NUMBER")).unwrap();
    assert_eq!(version.trim(), ORT_VERSION);
    // Our patches are applied to the cached copy.
    let mlasi =
        std::fs::read_to_string(tree.ort_dir().join("onnxruntime/core/mlas/lib/mlasi.h")).unwrap();
    assert!(mlasi.contains("ort-compact-build"), "MLAS patch missing");

    let tools = Toolchain::detect().expect("toolchain");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("smoke.cc");
    std::fs::write(
        &src,
        r#"#include <cstdio>
#include "onnxruntime_c_api.h"
int main() {
  OrtErrorCode ok = ORT_OK;
  std::printf("ORT_API_VERSION=%d ORT_OK=%d\n", ORT_API_VERSION, static_cast<int>(ok));
  return 0;
}
"#,
    )
    .unwrap();
    let js = dir.path().join("smoke.js");
    let out = Command::new(&tools.emcc.path)
        .arg(&src)
        .arg("-I")
        .arg(tree.c_api_include_dir())
        .arg("-o")
        .arg(&js)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "emcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&tools.node.path).arg(&js).output().unwrap();
    assert!(run.status.success());
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "ORT_API_VERSION=21 ORT_OK=0"
    );
}
