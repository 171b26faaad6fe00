//! `reduce::write_reduced_sources` against ORT 1.21.0's own `tools/ci_build/reduce_op_kernels.py`
//! (the oracle) on the real ORT sources: the generated files must be byte-identical.
//!
//! Needs an ONNX Runtime 1.21.0 source tree (the provisioned pinned tree, or `ORT_COMPACT_TEST_ORT_SRC`)
//! and python3 with the `flatbuffers` module; a test without them fails.

use crate::ops::OpConfig;
use crate::reduce::{
    write_reduced_sources, ReduceOptions, ReduceReport, CPU_CONTRIB_FILE, CPU_PROVIDER_FILE,
    CPU_TRAINING_FILE, OP_REDUCTION_DIR, TYPE_CONTROL_FILE,
};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::ort_sources;

use ort_sources::ort_src;

/// The oracle needs python3 with `flatbuffers` (installed by scripts/install-toolchain.sh).
fn require_python() {
    let ok = Command::new("python3")
        .args(["-c", "import flatbuffers"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python3 with flatbuffers (the oracle) is not available: run scripts/install-toolchain.sh"
    );
}

/// Runs ORT's script; returns its build dir. The script only reads the source tree
/// (no byte-code is written into it).
fn oracle(src: &Path, work: &Path, config: &str, options: &ReduceOptions) -> PathBuf {
    let config_path = work.join("oracle.config");
    std::fs::write(&config_path, config).unwrap();
    let build = work.join("oracle-build");
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(src.join("tools/ci_build/reduce_op_kernels.py"))
        .arg(&config_path)
        .arg("--cmake_build_dir")
        .arg(&build);
    if options.type_reduction {
        cmd.arg("--enable_type_reduction");
    }
    if options.extended_minimal_build {
        cmd.arg("--is_extended_minimal_build_or_higher");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    build
}

/// Runs both and asserts identical output files; returns our report and the oracle's build dir.
fn compare(config: &str, options: ReduceOptions) -> (ReduceReport, PathBuf, tempfile::TempDir) {
    let src = ort_src();
    require_python();
    let work = tempfile::tempdir().unwrap();
    let theirs = oracle(&src, work.path(), config, &options);
    let ours = work.path().join("our-build");
    let parsed = OpConfig::parse(config).unwrap();
    let report = write_reduced_sources(&src, &ours, &parsed, &options).unwrap();
    for rel in [
        CPU_PROVIDER_FILE,
        CPU_CONTRIB_FILE,
        CPU_TRAINING_FILE,
        TYPE_CONTROL_FILE,
    ] {
        let a = std::fs::read(ours.join(OP_REDUCTION_DIR).join(rel)).unwrap();
        let b = std::fs::read(theirs.join(OP_REDUCTION_DIR).join(rel)).unwrap();
        if a != b {
            let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
            let first = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(a.lines().count().min(b.lines().count()));
            panic!(
                "{rel} differs from the oracle at line {}:\n ours:   {:?}\n theirs: {:?}",
                first + 1,
                a.lines().nth(first),
                b.lines().nth(first)
            );
        }
    }
    (report, theirs, work)
}

/// Active (not commented out) registration entries of a generated file, as their joined text.
fn active_entries(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut entries = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("BuildKernelCreateInfo<ONNX") {
            current = Some(String::new());
        }
        if let Some(c) = current.as_mut() {
            c.push_str(t);
            if t.ends_with(")>,") || t.ends_with(")>") || t.ends_with(")>};") {
                entries.push(current.take().unwrap());
            }
        }
    }
    entries
}

fn op_of(entry: &str) -> String {
    let inner = entry.rsplit_once(')').unwrap().0;
    inner.rsplit(',').next().unwrap().trim().to_string()
}

#[test]
fn add_relu_matmul_matches_oracle() {
    let (report, theirs, _w) = compare("ai.onnx;13;Add,Relu,MatMul\n", ReduceOptions::default());
    let cpu = theirs.join(OP_REDUCTION_DIR).join(CPU_PROVIDER_FILE);
    let entries = active_entries(&cpu);
    // Expected from the 1.21 source: MatMul(13+) and Add/Relu(13..13) typed kernels.
    let mut kept: Vec<String> = entries
        .iter()
        .map(|e| {
            let args: Vec<&str> = e
                .rsplit_once(')')
                .unwrap()
                .0
                .split(',')
                .map(str::trim)
                .collect();
            args[args.len() - 2..].join(" ")
        })
        .collect();
    kept.sort();
    let mut expected: Vec<String> = [
        "float MatMul",
        "double MatMul",
        "int32_t MatMul",
        "int64_t MatMul",
        "float Add",
        "double Add",
        "int32_t Add",
        "int64_t Add",
        "uint32_t Add",
        "uint64_t Add",
        "float Relu",
        "double Relu",
        "MLFloat16 Relu",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.sort();
    assert_eq!(kept, expected);
    let file = report.file(CPU_PROVIDER_FILE).unwrap();
    assert_eq!(file.kept, 13);
    assert_eq!(
        file.kept + file.removed,
        1158,
        "every entry of the 1.21 file was seen"
    );
    let contrib = report.file(CPU_CONTRIB_FILE).unwrap();
    assert_eq!(contrib.kept, 0);
    assert!(!report.contrib_ops_needed && !report.ml_ops_needed);
    assert_eq!(report.type_control_lines, 0);
    eprintln!(
        "Add/Relu/MatMul@13: kept {} of {}",
        file.kept,
        file.kept + file.removed
    );
}

const TYPED: &str = r#"ai.onnx;11;Gather{"inputs": {"0": ["float"], "1": ["int64_t"]}},OneHot{"custom": [["int64_t", "int64_t", "float"]]},Shape
ai.onnx;13;Add{"inputs": {"0": ["float"]}},Cast{"inputs": {"0": ["float"]}, "outputs": {"0": ["int64_t"]}},MatMul{"inputs": {"0": ["float"]}},Relu{"inputs": {"0": ["float"]}},Transpose{"inputs": {"0": ["float"]}}
ai.onnx;16;Where{"inputs": {"1": ["float"]}}
ai.onnx;19;DequantizeLinear{"inputs": {"0": ["uint8_t"]}},QuantizeLinear{"outputs": {"0": ["uint8_t"]}}
com.microsoft;1;FusedGemm,QLinearAdd{"inputs": {"0": ["uint8_t"]}}
"#;

#[test]
fn type_reduction_matches_oracle() {
    let options = ReduceOptions {
        type_reduction: true,
        ..Default::default()
    };
    let (report, _theirs, _w) = compare(TYPED, options);
    assert!(report.type_control_lines >= 8, "{report:?}");
    assert!(report.contrib_ops_needed);
    let cpu = report.file(CPU_PROVIDER_FILE).unwrap();
    assert!(cpu.kept > 0);
    // Without type reduction more registrations survive.
    let (untyped, _, _w2) = compare(TYPED, ReduceOptions::default());
    assert!(untyped.file(CPU_PROVIDER_FILE).unwrap().kept > cpu.kept);
    assert_eq!(untyped.type_control_lines, 0);
}

#[test]
fn global_types_match_oracle() {
    let config = "ai.onnx;13;Add,Cast,Relu,MatMul,Gather,Where\nai.onnx;11;OneHot\n\
                  !globally_allowed_types;float,int64_t,bool\n";
    let options = ReduceOptions {
        type_reduction: true,
        ..Default::default()
    };
    let (report, _, _w) = compare(config, options);
    assert_eq!(report.type_control_lines, 1);
}

#[test]
fn contrib_and_ml_domains_match_oracle() {
    let config = "ai.onnx;17;LayerNormalization,Softmax\ncom.microsoft;1;FusedGemm,Gelu,QuickGelu,\
                  MatMulNBits,FusedConv\nai.onnx.ml;3;TreeEnsembleClassifier,ZipMap\n";
    let (report, theirs, _w) = compare(config, ReduceOptions::default());
    assert!(report.contrib_ops_needed && report.ml_ops_needed);
    let contrib = theirs.join(OP_REDUCTION_DIR).join(CPU_CONTRIB_FILE);
    let mut ops: Vec<String> = active_entries(&contrib).iter().map(|e| op_of(e)).collect();
    ops.sort();
    ops.dedup();
    assert_eq!(
        ops,
        ["FusedConv", "FusedGemm", "Gelu", "MatMulNBits", "QuickGelu"]
    );
    assert_eq!(
        report.file(CPU_CONTRIB_FILE).unwrap().kept,
        active_entries(&contrib).len()
    );
}

#[test]
fn many_ops_several_opsets_match_oracle() {
    let config = "ai.onnx;7;Add,Mul,Sub,Div,Relu,Conv,MaxPool,BatchNormalization,Gemm,Reshape,Concat\n\
                  ai.onnx;11;Resize,Pad,Clip,Gather,Slice,Squeeze,Unsqueeze,Range,TopK,NonMaxSuppression,If,Loop\n\
                  ai.onnx;18;ReduceMean,Split,Resize,Pad,ScatterElements,LpPool,Col2Im,BitwiseAnd\n\
                  ai.onnx;21;Cast,Reshape,Transpose,QuantizeLinear,DequantizeLinear,Identity,Flatten\n";
    compare(config, ReduceOptions::default());
}

#[test]
fn all_ops_and_extended_build_match_oracle() {
    let (report, _, _w) = compare(
        "!no_ops_specified_means_all_ops_are_required\n",
        ReduceOptions::default(),
    );
    assert_eq!(report.file(CPU_PROVIDER_FILE).unwrap().removed, 0);
    assert!(report.contrib_ops_needed && report.ml_ops_needed);
    let options = ReduceOptions {
        type_reduction: true,
        extended_minimal_build: true,
    };
    compare(TYPED, options);
    compare(
        "ai.onnx;13;Add,Relu\n",
        ReduceOptions {
            type_reduction: false,
            extended_minimal_build: true,
        },
    );
}

/// Every operator of the 1.21 files, at several opsets, with type information for every
/// operator that has a type rule: exercises every entry and every type rule against the oracle.
#[test]
fn every_operator_with_types_matches_oracle() {
    let src = ort_src();
    let mut onnx = std::collections::BTreeSet::new();
    let mut ml = std::collections::BTreeSet::new();
    let mut ms = std::collections::BTreeSet::new();
    for rel in [CPU_PROVIDER_FILE, CPU_CONTRIB_FILE] {
        for entry in active_entries(&src.join(rel)) {
            let op = op_of(&entry);
            if entry.contains("kOnnxDomain") {
                onnx.insert(op);
            } else if entry.contains("kMLDomain") {
                ml.insert(op);
            } else if entry.contains("kMSDomain") {
                ms.insert(op);
            }
        }
    }
    assert!(
        onnx.len() > 150 && ml.len() > 15 && ms.len() > 50,
        "{} {} {}",
        onnx.len(),
        ml.len(),
        ms.len()
    );
    let typed = |op: &str| -> String {
        let json = match op {
            "Cast" => {
                r#"{"inputs": {"0": ["float", "int64_t"]}, "outputs": {"0": ["bool", "float"]}}"#
            }
            "Gather" | "GatherElements" | "Pow" | "Slice" => {
                r#"{"inputs": {"0": ["float", "int8_t"], "1": ["int32_t"]}}"#
            }
            "Where" => r#"{"inputs": {"1": ["float", "std::string"]}}"#,
            "QuantizeLinear"
            | "DynamicQuantizeLinear"
            | "ConstantOfShape"
            | "RandomNormal"
            | "RandomNormalLike"
            | "RandomUniform"
            | "RandomUniformLike"
            | "Multinomial" => r#"{"outputs": {"0": ["int8_t"]}}"#,
            "OneHot" => {
                r#"{"custom": [["int64_t", "std::string", "int64_t"], ["float", "float", "float"]]}"#
            }
            _ => r#"{"inputs": {"0": ["double", "int64_t"]}}"#,
        };
        format!("{op}{json}")
    };
    let list = |ops: &std::collections::BTreeSet<String>, with_types: bool| -> String {
        ops.iter()
            .map(|op| if with_types { typed(op) } else { op.clone() })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut config = String::new();
    for opset in [7, 10, 13, 17, 21] {
        config.push_str(&format!("ai.onnx;{opset};{}\n", list(&onnx, true)));
    }
    config.push_str(&format!("ai.onnx.ml;3;{}\n", list(&ml, false)));
    config.push_str(&format!("com.microsoft;1;{}\n", list(&ms, true)));
    // Drop operators that have no kernel at one of the chosen opsets (both tools would differ
    // there only by our NoKernel error) by checking with our tool first.
    let parsed = OpConfig::parse(&config).unwrap();
    let mut keep = parsed.clone();
    loop {
        let tmp = tempfile::tempdir().unwrap();
        match write_reduced_sources(&src, tmp.path(), &keep, &ReduceOptions::default()) {
            Err(crate::Error::NoKernel {
                domain,
                op_type,
                opset,
                ..
            }) => {
                keep.ops
                    .get_mut(&domain)
                    .unwrap()
                    .get_mut(&opset)
                    .unwrap()
                    .remove(&op_type);
            }
            Err(e) => panic!("{e}"),
            Ok(_) => break,
        }
    }
    let text = keep.to_string();
    let typed_options = ReduceOptions {
        type_reduction: true,
        ..Default::default()
    };
    let (report, _, _w) = compare(&text, typed_options);
    assert!(
        report.type_control_lines > 50,
        "{}",
        report.type_control_lines
    );
    compare(&text, ReduceOptions::default());
}
