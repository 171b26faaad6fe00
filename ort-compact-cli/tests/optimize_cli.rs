//! `--graph-optimization` on `convert` and `ops`: the optimized graph is what gets written and
//! what the operators are listed for; a level that does not exist is refused by the parser.

use ort_compact_test_support::oracle::oracle_model;
use std::process::{Command, Output};

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ort-compact"))
        .args(args)
        .output()
        .unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// `ort-compact ops FLAGS MODEL`'s output (which must succeed).
fn ops(model: &std::path::Path, flags: &[&str]) -> String {
    let mut args: Vec<&std::ffi::OsStr> = vec![os("ops")];
    args.extend(flags.iter().map(|f| os(f)));
    args.push(model.as_os_str());
    let r = run(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    String::from_utf8(r.stdout).unwrap()
}

#[test]
fn convert_and_ops_work_on_the_optimized_graph() {
    let t = tempfile::tempdir().unwrap();
    let onnx = oracle_model("silero-vad/silero_vad").onnx();
    let mut sizes = Vec::new();
    for level in ["none", "basic"] {
        let out = t.path().join(format!("{level}.ort"));
        let r = run(&[
            os("convert"),
            onnx.as_os_str(),
            os("-o"),
            out.as_os_str(),
            os("--graph-optimization"),
            os(level),
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        sizes.push(std::fs::metadata(&out).unwrap().len());
    }
    assert!(sizes[1] < sizes[0], "{sizes:?}");

    let ops = |flags: &[&str]| ops(&onnx, flags);
    let (plain, optimized) = (
        ops(&["--graph-optimization", "none"]),
        ops(&["--graph-optimization", "basic"]),
    );
    assert!(plain.contains("Transpose"), "{plain}");
    assert!(!optimized.contains("Transpose"), "{optimized}");
}

/// `convert`, `ops` and `build` with `flag value` exit with clap's usage error naming `message`
/// and write nothing.
fn refused_by_every_subcommand(flag: &str, value: &str, message: &str) {
    let t = tempfile::tempdir().unwrap();
    let onnx = oracle_model("silero-vad/silero_vad").onnx();
    let out = t.path().join("m.ort");
    for sub in ["convert", "ops", "build"] {
        let r = run(&[
            os(sub),
            onnx.as_os_str(),
            os(flag),
            os(value),
            os(if sub == "build" { "--out" } else { "-o" }),
            out.as_os_str(),
        ]);
        assert_eq!(
            r.status.code(),
            Some(2),
            "{sub}: clap's usage-error exit code"
        );
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(message), "{sub}: {err}");
        assert!(!out.exists(), "{sub}: nothing written");
    }
}

#[test]
fn an_unknown_level_is_refused() {
    refused_by_every_subcommand(
        "--graph-optimization",
        "all",
        "`all`: expected `none`, `basic` or `extended`",
    );
}

#[test]
fn a_disabled_rewrite_is_left_out_of_the_graph() {
    let onnx = oracle_model("silero-vad/silero_vad").onnx();
    let ops = |flags: &[&str]| ops(&onnx, flags);
    let fused = ops(&["--graph-optimization", "extended"]);
    assert!(fused.contains("FusedConv"), "{fused}");
    for off in [
        &["--disable-rewrite", "conv-activation"][..],
        &["--disable-rewrite", "gemm-activation,conv-activation"],
        &[
            "--disable-rewrite",
            "gemm-activation",
            "--disable-rewrite",
            "Conv-Activation",
        ],
    ] {
        let mut flags = vec!["--graph-optimization", "extended"];
        flags.extend(off);
        let apart = ops(&flags);
        assert!(!apart.contains("FusedConv"), "{off:?}: {apart}");
        assert!(apart.contains("Conv") && apart.contains("Relu"), "{apart}");
    }
}

#[test]
fn an_unknown_rewrite_is_refused_with_the_names_there_are() {
    refused_by_every_subcommand(
        "--disable-rewrite",
        "conv-relu",
        "`conv-relu` is not a rewrite; the rewrites are: constant-folding,",
    );
    let t = tempfile::tempdir().unwrap();
    let onnx = oracle_model("silero-vad/silero_vad").onnx();
    let out = t.path().join("m.ort");
    // The build's environment override is checked before anything is read or built.
    let r = Command::new(env!("CARGO_BIN_EXE_ort-compact"))
        .args([os("build"), onnx.as_os_str(), os("--out"), out.as_os_str()])
        .env("ORT_COMPACT_DISABLE_REWRITES", "conv-activation,fusedconv")
        .output()
        .unwrap();
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("ORT_COMPACT_DISABLE_REWRITES: `fusedconv` is not a rewrite"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}
