//! `reduce::write_reduced_sources` on the real ORT 1.21.0 sources: errors for operators without
//! kernels, idempotence (second run rewrites nothing, mtimes stay), contrib/ML flags, stale files,
//! and speed.
//!
//! Needs an ONNX Runtime 1.21.0 source tree (the provisioned pinned tree, or `ORT_COMPACT_TEST_ORT_SRC`):
//! provisioning it is part of the test, and a failure to get it fails the test.

use crate::ops::OpConfig;
use crate::reduce::{
    write_reduced_sources, ReduceOptions, CPU_CONTRIB_FILE, CPU_PROVIDER_FILE, OP_REDUCTION_DIR,
    TYPE_CONTROL_FILE,
};
use crate::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::support::ort_sources;

use ort_sources::ort_src;

fn reduce(
    config: &str,
    build: &std::path::Path,
    options: ReduceOptions,
) -> crate::Result<crate::reduce::ReduceReport> {
    let src = ort_src();
    write_reduced_sources(&src, build, &OpConfig::parse(config).unwrap(), &options)
}

#[test]
fn unknown_operator_is_an_error_naming_it() {
    let build = tempfile::tempdir().unwrap();
    let err = reduce(
        "ai.onnx;13;Add,NoSuchOp\n",
        build.path(),
        ReduceOptions::default(),
    )
    .unwrap_err();
    match &err {
        Error::NoKernel {
            domain,
            op_type,
            opset,
            available,
        } => {
            assert_eq!(
                (domain.as_str(), op_type.as_str(), *opset),
                ("ai.onnx", "NoSuchOp", 13)
            );
            assert!(available.contains("no kernel"), "{available}");
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(err.to_string().contains("ai.onnx:NoSuchOp"), "{err}");
    // Relu has kernels since opset 6 only.
    let err = reduce("ai.onnx;5;Relu\n", build.path(), ReduceOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Relu") && text.contains("6-12") && text.contains("14+"),
        "{text}"
    );
    // A contrib op is looked up in the contrib registrations; an unknown one fails.
    assert!(reduce(
        "com.microsoft;1;FusedGemm\n",
        build.path(),
        ReduceOptions::default()
    )
    .is_ok());
    let err = reduce(
        "com.microsoft;1;NotAContribOp\n",
        build.path(),
        ReduceOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("com.microsoft:NotAContribOp"),
        "{err}"
    );
    // Constant needs no kernel (ORT turns it into an initializer).
    assert!(reduce(
        "ai.onnx;13;Constant,Add\n",
        build.path(),
        ReduceOptions::default()
    )
    .is_ok());
}

#[test]
fn contrib_and_ml_flags() {
    let build = tempfile::tempdir().unwrap();
    let r = reduce(
        "ai.onnx;13;Add,Relu,MatMul\n",
        build.path(),
        ReduceOptions::default(),
    )
    .unwrap();
    assert!(!r.contrib_ops_needed && !r.ml_ops_needed);
    assert_eq!(r.file(CPU_CONTRIB_FILE).unwrap().kept, 0);
    let r = reduce(
        "ai.onnx;13;Add\ncom.microsoft;1;FusedGemm\n",
        build.path(),
        ReduceOptions::default(),
    )
    .unwrap();
    assert!(r.contrib_ops_needed && !r.ml_ops_needed);
    assert!(r.file(CPU_CONTRIB_FILE).unwrap().kept > 0);
    let r = reduce(
        "ai.onnx.ml;3;LinearClassifier\n",
        build.path(),
        ReduceOptions::default(),
    )
    .unwrap();
    assert!(!r.contrib_ops_needed && r.ml_ops_needed);
    assert!(r.file(CPU_PROVIDER_FILE).unwrap().kept > 0);
}

fn mtimes(root: &std::path::Path) -> Vec<(PathBuf, SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), e.metadata().unwrap().modified().unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn second_run_rewrites_nothing_and_changes_touch_only_changed_files() {
    let build = tempfile::tempdir().unwrap();
    let root = build.path().join(OP_REDUCTION_DIR);
    let config = "ai.onnx;13;Add{\"inputs\": {\"0\": [\"float\"]}},Relu\n";
    let typed = ReduceOptions {
        type_reduction: true,
        ..Default::default()
    };
    let first = reduce(config, build.path(), typed).unwrap();
    assert!(first.files.iter().all(|f| f.rewritten) && first.type_control_rewritten);
    let before = mtimes(&root);
    let bytes_before: Vec<Vec<u8>> = before
        .iter()
        .map(|(p, _)| std::fs::read(p).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(30));
    let second = reduce(config, build.path(), typed).unwrap();
    assert!(second.files.iter().all(|f| !f.rewritten) && !second.type_control_rewritten);
    assert_eq!(
        mtimes(&root),
        before,
        "mtimes changed on an identical re-run"
    );
    let bytes_after: Vec<Vec<u8>> = before
        .iter()
        .map(|(p, _)| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(bytes_before, bytes_after);
    assert_eq!(second.files, {
        let mut f = first.files.clone();
        f.iter_mut().for_each(|f| f.rewritten = false);
        f
    });

    // A new op changes the CPU file only; type control keeps its bytes and mtime.
    let third = reduce(
        "ai.onnx;13;Add{\"inputs\": {\"0\": [\"float\"]}},Relu,Sigmoid\n",
        build.path(),
        typed,
    )
    .unwrap();
    assert!(third.file(CPU_PROVIDER_FILE).unwrap().rewritten);
    assert!(!third.file(CPU_CONTRIB_FILE).unwrap().rewritten);
    assert!(!third.type_control_rewritten);
    let inc = root.join(TYPE_CONTROL_FILE);
    let inc_before = before.iter().find(|(p, _)| *p == inc).unwrap().1;
    assert_eq!(
        std::fs::metadata(&inc).unwrap().modified().unwrap(),
        inc_before
    );

    // Switching type reduction off restores the original overrides file.
    let fourth = reduce(config, build.path(), ReduceOptions::default()).unwrap();
    assert!(fourth.type_control_rewritten && fourth.type_control_lines == 0);
    let original = std::fs::read(ort_src().join(TYPE_CONTROL_FILE)).unwrap();
    assert_eq!(std::fs::read(&inc).unwrap(), original);
}

#[test]
fn stale_generated_files_are_removed() {
    let build = tempfile::tempdir().unwrap();
    let stale = build
        .path()
        .join(OP_REDUCTION_DIR)
        .join("onnxruntime/core/providers/cuda/cuda_execution_provider.cc");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, "old").unwrap();
    let r = reduce("ai.onnx;13;Add\n", build.path(), ReduceOptions::default()).unwrap();
    assert_eq!(r.removed_stale, vec![stale.clone()]);
    assert!(!stale.exists());
}

#[test]
fn type_information_conflicts_and_reduced_away_ops_are_reported() {
    let build = tempfile::tempdir().unwrap();
    let typed = ReduceOptions {
        type_reduction: true,
        ..Default::default()
    };
    // Relu has no bool kernel: with type reduction no Relu(13) registration survives.
    let r = reduce(
        "ai.onnx;13;Relu{\"inputs\": {\"0\": [\"bool\"]}}\n",
        build.path(),
        typed,
    )
    .unwrap();
    assert_eq!(r.type_reduced_away, vec!["ai.onnx:Relu(13)".to_string()]);
    let err = reduce(
        "ai.onnx;13;Add\n!globally_allowed_types;float,complex64\n",
        build.path(),
        typed,
    )
    .unwrap_err();
    assert!(err.to_string().contains("complex64"), "{err}");
}

#[test]
fn full_reduction_is_fast() {
    let build = tempfile::tempdir().unwrap();
    let config =
        "ai.onnx;13;Add{\"inputs\": {\"0\": [\"float\"]}},Relu,MatMul,Softmax,Gemm,Reshape\n\
                  com.microsoft;1;FusedGemm\n";
    let typed = ReduceOptions {
        type_reduction: true,
        ..Default::default()
    };
    let start = Instant::now();
    reduce(config, build.path(), typed).unwrap();
    let cold = start.elapsed();
    let start = Instant::now();
    reduce(config, build.path(), typed).unwrap();
    let warm = start.elapsed();
    eprintln!("full reduction: first run {cold:?}, unchanged re-run {warm:?}");
    assert!(cold < Duration::from_secs(2), "{cold:?}");
}

#[test]
fn kernels_only_under_preprocessor_conditions_are_reported() {
    let build = tempfile::tempdir().unwrap();
    let r = reduce(
        "ai.onnx;13;Relu\nai.onnx.ml;3;LinearClassifier\ncom.microsoft;1;FusedGemm,MatMulFpQ4\n",
        build.path(),
        ReduceOptions::default(),
    )
    .unwrap();
    assert_eq!(
        r.conditional_kernels,
        vec!["com.microsoft:MatMulFpQ4(1): #ifndef ORT_MINIMAL_BUILD".to_string()]
    );
}
