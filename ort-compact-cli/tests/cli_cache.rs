//! `ort-compact cache info | prune`: entries of other source trees are listed and removed; the
//! current tree's entries are kept.

use std::path::Path;
use std::process::Command;

fn run(root: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ort-compact"))
        .arg("cache")
        .args(args)
        .arg("--cache-dir")
        .arg(root)
        .env_remove("ORT_COMPACT_ORT_SOURCE_DIR")
        .env_remove("ORT_COMPACT_CACHE_DIR")
        .output()
        .unwrap()
}

fn cache(root: &Path, args: &[&str]) -> String {
    let out = run(root, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn put(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, "x").unwrap();
}

#[test]
fn info_lists_and_prune_removes_only_other_source_trees() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let empty = cache(root, &["info"]);
    let key = empty
        .split("current sources ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no current source key in:\n{empty}"))
        .to_string();
    put(root, &format!("sources/{key}/onnxruntime/VERSION_NUMBER"));
    put(root, "sources/00000000feedbeef/onnxruntime/VERSION_NUMBER");
    put(root, &format!("work/simd-{}/build.ninja", &key[..8]));
    put(root, "work/simd-00000000/build.ninja");

    let info = cache(root, &["info"]);
    assert!(info.contains(&format!("current sources {key}")), "{info}");
    assert!(info.contains("2 stale entries"), "{info}");
    assert!(
        info.contains("`ort-compact cache prune` removes them"),
        "{info}"
    );

    let dry = cache(root, &["prune", "--dry-run"]);
    assert!(
        dry.contains("would remove") && dry.contains("simd-00000000"),
        "{dry}"
    );
    assert!(root.join("work/simd-00000000").exists());

    let pruned = cache(root, &["prune"]);
    assert!(pruned.contains("removed"), "{pruned}");
    assert!(!root.join("sources/00000000feedbeef").exists());
    assert!(!root.join("work/simd-00000000").exists());
    assert!(root.join(format!("sources/{key}")).exists());
    assert!(root.join(format!("work/simd-{}", &key[..8])).exists());
    assert!(!cache(root, &["info"]).contains("stale entries"));
}

#[test]
fn a_missing_cache_dir_is_an_error_not_an_empty_cache() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("typo");
    for args in [&["info"][..], &["prune"][..]] {
        let out = run(&missing, args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cache directory") && err.contains("does not exist"),
            "{err}"
        );
    }
    assert!(!missing.exists());
}
