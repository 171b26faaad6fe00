//! The graph optimizer on a real model (silero VAD 5.1.2, as its PyPI package ships it): at
//! `basic` its constant shape and weight computations are folded and the `Identity` nodes that
//! only pass values along are gone, so it needs fewer operator kinds and is no bigger; the
//! `.ort` computes in Python onnxruntime 1.21.0 what the unoptimized `.ort` computes (to
//! 1e-6: with its gate-reordered weights now constant, ORT's LSTM kernel packs them ahead and
//! sums in another order, as it does for the folded graph stock ORT makes at load),
//! the compact runtime built for it (`Builder::graph_optimization`) matches Python on the
//! original `.onnx`, and the output manifest records the level.

use crate::model::ort::Graph;
use crate::model::OrtModel;
use crate::progress::ProgressMode;
use crate::{Builder, GraphOptimization, Rewrite};
use ort_compact_test_support::oracle::oracle_models;
use ort_compact_test_support::verify::*;
use std::path::Path;

/// Nodes of `op_type` in `g` and its subgraphs, and all nodes.
fn count(g: Graph<'_>, op_type: &str) -> (usize, usize) {
    let mut n = (0, 0);
    for node in g.nodes() {
        n.0 += usize::from(node.op_type() == Some(op_type));
        n.1 += 1;
        for a in node.attributes() {
            for sub in a.g().into_iter().chain(a.graphs()) {
                let (k, all) = count(sub, op_type);
                n = (n.0 + k, n.1 + all);
            }
        }
    }
    n
}

fn converted(onnx: &Path, level: GraphOptimization, out: &Path) -> (usize, usize) {
    let bytes = crate::ort_format::convert_with(onnx, level).unwrap();
    std::fs::write(out, &bytes).unwrap();
    let model = OrtModel::from_bytes(bytes, out).unwrap();
    count(model.graph().unwrap(), "Identity")
}

#[test]
fn basic_optimization_folds_silero_and_keeps_its_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let onnx = located("silero_vad");
    let (none_ort, basic_ort) = (tmp.path().join("none.ort"), tmp.path().join("basic.ort"));
    let (identities, nodes) = converted(&onnx, GraphOptimization::None, &none_ort);
    let (left, basic_nodes) = converted(&onnx, GraphOptimization::Basic, &basic_ort);
    eprintln!("silero: Identity {identities} → {left}, nodes {nodes} → {basic_nodes}");
    assert!(left < identities, "Identity {identities} → {left}");
    assert!(basic_nodes + 50 < nodes, "nodes {nodes} → {basic_nodes}");
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(
        size(&basic_ort) <= size(&none_ort),
        "folding must not grow the model"
    );
    let ops = |level| crate::tools::required_operators(&[&onnx], false, level).unwrap();
    let (ops_none, ops_basic) = (ops(GraphOptimization::None), ops(GraphOptimization::Basic));
    assert!(
        ops_none.contains(",Transpose,") && !ops_basic.contains("Transpose"),
        "{ops_basic}"
    );
    let before = reference(&none_ort, &silero_inputs(), tmp.path());
    let after = reference(&basic_ort, &silero_inputs(), tmp.path());
    let worst = assert_outputs_close(&after["outputs"], &before["outputs"], 1e-6, "basic vs none");
    eprintln!("silero basic vs none in Python: largest difference {worst:e}");

    let out = tmp.path().join("out");
    let a = {
        let mut b = Builder::new(&onnx);
        b.out_dir(&out)
            .graph_optimization(GraphOptimization::Basic)
            // An extended-level rewrite: recorded, and nothing changes at basic.
            .disable_rewrite(Rewrite::GemmActivation)
            .compressed_sizes(false)
            .cargo_metadata(false)
            .progress(ProgressMode::Stderr);
        b.try_build()
            .unwrap_or_else(|e| panic!("build failed: {e}"))
    };
    let ort = &a.models()[0].ort;
    assert_eq!(
        std::fs::read(ort).unwrap(),
        std::fs::read(&basic_ort).unwrap()
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.manifest()).unwrap()).unwrap();
    assert_eq!(manifest["models"][0]["graph_optimization"], "basic");
    assert_eq!(
        manifest["models"][0]["disabled_rewrites"],
        serde_json::json!(["gemm-activation"])
    );
    let expected = reference(&onnx, &silero_inputs(), tmp.path());
    let actual = run_driver_in("run-node.mjs", &out, ort, &silero_inputs(), tmp.path());
    let worst = assert_outputs_close(&actual["outputs"], &expected["outputs"], 1e-4, "runtime");
    eprintln!("silero at basic in its compact runtime: largest difference to Python {worst:e}");
}

/// Every model of the oracle corpus that converts: it converts at `basic` and `extended` too,
/// and where an optimized `.ort` differs, Python onnxruntime 1.21.0 computes the same with it as with the
/// unoptimized one on the same seeded inputs (or, where the inputs this harness makes do not
/// suit the model, fails on both alike).
#[test]
fn corpus_models_compute_the_same_when_optimized() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pairs = Vec::new();
    for (k, m) in oracle_models().iter().enumerate() {
        let Ok(plain) = crate::ort_format::convert_with(&m.onnx(), GraphOptimization::None) else {
            continue;
        };
        let at = |level| {
            crate::ort_format::convert_with(&m.onnx(), level)
                .unwrap_or_else(|e| panic!("{}: converts plain but not at {level}: {e}", m.id))
        };
        let (basic, extended) = (
            at(GraphOptimization::Basic),
            at(GraphOptimization::Extended),
        );
        let a = tmp.path().join(format!("{k}.a.ort"));
        std::fs::write(&a, &plain).unwrap();
        for (level, optimized) in [("basic", &basic), ("extended", &extended)] {
            if *optimized == plain || (level == "extended" && extended == basic) {
                continue;
            }
            let b = tmp.path().join(format!("{k}.{level}.ort"));
            std::fs::write(&b, optimized).unwrap();
            let id = format!("{} ({level})", m.id);
            pairs.push(serde_json::json!({"id": id, "a": a, "b": b}));
        }
    }
    assert!(
        pairs.len() >= 70,
        "only {} models change when optimized",
        pairs.len()
    );
    let (list, out) = (tmp.path().join("pairs.json"), tmp.path().join("out.json"));
    std::fs::write(&list, serde_json::to_vec(&pairs).unwrap()).unwrap();
    oracle(&["compare", list.to_str().unwrap(), out.to_str().unwrap()]);
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let (mut compared, mut failures) = (0, Vec::new());
    for (id, r) in results.as_object().unwrap() {
        match (&r["a"], &r["b"], r["max_diff"].as_f64()) {
            (a, b, Some(d)) if a.is_null() && b.is_null() && d <= 1e-5 => compared += 1,
            (a, b, _) if !a.is_null() && !b.is_null() => {}
            _ => failures.push(format!("{id}: {r}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "{compared} of {} changed corpus models compared equal",
        pairs.len()
    );
    assert!(
        compared * 10 >= pairs.len() * 8,
        "{compared} of {}",
        pairs.len()
    );
}

/// Conv + BatchNormalization (with and without a Conv bias), Conv + per-channel Add and Conv +
/// per-channel Mul folded at `basic`: Python onnxruntime 1.21.0 computes with the folded `.ort`
/// what it computes with the original.
#[test]
fn folded_conv_followers_compute_what_the_pairs_did() {
    use crate::optimize::weights_tests::{conv_bn_model, conv_then, tensor as t};
    use prost::Message;
    let tmp = tempfile::tempdir().unwrap();
    let models = [
        ("bn_bias", conv_bn_model(true)),
        ("bn", conv_bn_model(false)),
        (
            "add",
            conv_then("Add", t("k", &[3, 1, 1], &[0.5, -1.5, 2.0])),
        ),
        (
            "mul",
            conv_then("Mul", t("k", &[1, 3, 1, 1], &[1.25, -0.5, 3.0])),
        ),
    ];
    for (name, model) in models {
        let onnx = tmp.path().join(format!("{name}.onnx"));
        std::fs::write(&onnx, model.encode_to_vec()).unwrap();
        let ort = tmp.path().join(format!("{name}.ort"));
        let bytes = crate::ort_format::convert_with(&onnx, GraphOptimization::Basic).unwrap();
        std::fs::write(&ort, &bytes).unwrap();
        let (_, nodes) = count(
            OrtModel::from_bytes(bytes, &ort).unwrap().graph().unwrap(),
            "",
        );
        assert_eq!(nodes, 2, "{name}: Conv and Relu");
        let x = (0..18).map(|i| f64::from(i % 7) * 0.3 - 0.9);
        let inputs = serde_json::json!({ "x": tensor("float32", &[1, 2, 3, 3], f32_values(x)) });
        let expected = reference(&onnx, &inputs, tmp.path());
        let actual = reference(&ort, &inputs, tmp.path());
        let worst = assert_outputs_close(&actual["outputs"], &expected["outputs"], 1e-5, name);
        eprintln!("{name} folded: largest difference {worst:e}");
    }
}

/// A small convolutional model whose every `Conv` is followed by an activation `FusedConv`
/// applies: x [1, 3, 8, 8] → Conv 3×3 + Relu → Conv 1×1 + HardSigmoid → Conv 3×3 + Clip(0, 6)
/// → Conv 1×1 + Sigmoid → y [1, 2, 8, 8].
fn activation_cnn() -> crate::model::onnx::ModelProto {
    use crate::model::onnx::AttributeProto;
    use crate::optimize::weights_tests::tensor;
    use crate::tests::support::onnx_protos::{float_model, node, shaped_vi};
    let weights = |name: &str, dims: &[i64]| {
        let n = dims.iter().product::<i64>() as usize;
        let v: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) * 0.05)
            .collect();
        tensor(name, dims, &v)
    };
    let conv = |k: usize, input: &str, pads: bool| {
        let (w, b, out) = (format!("w{k}"), format!("b{k}"), format!("c{k}"));
        let mut n = node(&format!("conv{k}"), "Conv", "", &[input, &w, &b], &[&out]);
        if pads {
            n.attribute.push(AttributeProto {
                name: "pads".into(),
                r#type: 7,
                ints: vec![1, 1, 1, 1],
                ..Default::default()
            });
        }
        n
    };
    let mut m = float_model(vec![
        conv(1, "x", true),
        node("a1", "Relu", "", &["c1"], &["a1"]),
        conv(2, "a1", false),
        node("a2", "HardSigmoid", "", &["c2"], &["a2"]),
        conv(3, "a2", true),
        node("a3", "Clip", "", &["c3", "lo", "hi"], &["a3"]),
        conv(4, "a3", false),
        node("a4", "Sigmoid", "", &["c4"], &["y"]),
    ]);
    let g = m.graph.as_mut().unwrap();
    g.input = vec![shaped_vi("x", 1, &[1, 3, 8, 8])];
    g.initializer = vec![
        weights("w1", &[4, 3, 3, 3]),
        weights("b1", &[4]),
        weights("w2", &[4, 4, 1, 1]),
        weights("b2", &[4]),
        weights("w3", &[4, 4, 3, 3]),
        weights("b3", &[4]),
        weights("w4", &[2, 4, 1, 1]),
        weights("b4", &[2]),
        tensor("lo", &[], &[0.0]),
        tensor("hi", &[], &[0.6]),
    ];
    m
}

/// Attention's scores over Swish-gated tokens, layer-normalized: with h = x·Sigmoid(x) for
/// x [1, 4, 8], LayerNorm(Softmax(Div(MatMul(Mul(h·Wq, 0.5), Transpose(h·Wk)), √8))) written out
/// → y [1, 4, 4]; at `extended` a `QuickGelu`, two `FusedMatMul`s (one scaled, one with K
/// transposed and scaled), a `MatMul`, a `Softmax` and a `LayerNormalization`.
fn attention_scores() -> crate::model::onnx::ModelProto {
    use crate::model::onnx::AttributeProto;
    use crate::optimize::weights_tests::tensor;
    use crate::tests::support::onnx_protos::{float_model, node, shaped_vi};
    let weights = |name: &str, seed: usize| {
        let v: Vec<f32> = (0..64)
            .map(|i| (((i + seed) * 29 % 13) as f32 - 6.0) * 0.1)
            .collect();
        tensor(name, &[8, 8], &v)
    };
    let mean = |name: &str, input: &str, out: &str| {
        let mut n = node(name, "ReduceMean", "", &[input], &[out]);
        n.attribute.push(AttributeProto {
            name: "axes".into(),
            r#type: 7,
            ints: vec![-1],
            ..Default::default()
        });
        n
    };
    let mut transpose = node("t", "Transpose", "", &["k"], &["kt"]);
    transpose.attribute.push(AttributeProto {
        name: "perm".into(),
        r#type: 7,
        ints: vec![0, 2, 1],
        ..Default::default()
    });
    let mut m = float_model(vec![
        node("g", "Sigmoid", "", &["x"], &["g"]),
        node("h", "Mul", "", &["x", "g"], &["h"]),
        node("q", "MatMul", "", &["h", "wq"], &["q"]),
        node("qs", "Mul", "", &["q", "half"], &["qs"]),
        node("k", "MatMul", "", &["h", "wk"], &["k"]),
        transpose,
        node("s", "MatMul", "", &["qs", "kt"], &["s"]),
        node("d", "Div", "", &["s", "root"], &["d"]),
        node("p", "Softmax", "", &["d"], &["p"]),
        mean("m", "p", "m"),
        node("c", "Sub", "", &["p", "m"], &["c"]),
        node("sq", "Pow", "", &["c", "two"], &["sq"]),
        mean("v", "sq", "v"),
        node("e", "Add", "", &["v", "eps"], &["e"]),
        node("r", "Sqrt", "", &["e"], &["r"]),
        node("n", "Div", "", &["c", "r"], &["n"]),
        node("w", "Mul", "", &["n", "gamma"], &["w"]),
        node("y", "Add", "", &["w", "beta"], &["y"]),
    ]);
    let g = m.graph.as_mut().unwrap();
    g.input = vec![shaped_vi("x", 1, &[1, 4, 8])];
    g.initializer = vec![
        weights("wq", 3),
        weights("wk", 7),
        tensor("half", &[], &[0.5]),
        tensor("root", &[], &[8f32.sqrt()]),
        tensor("two", &[], &[2.0]),
        tensor("eps", &[], &[1e-5]),
        tensor("gamma", &[4], &[0.5, 1.0, 1.5, 2.0]),
        tensor("beta", &[4], &[0.1, 0.2, 0.3, 0.4]),
    ];
    m
}

/// A transformer block's feed-forward half written out: for x [1, 4, 8],
/// h = Gelu(x·W1 + b1) with Gelu's Erf formula, f = Gelu(h·W2 + b2) with the Tanh formula as a
/// JAX export writes it, y = LayerNormalization((f + c) + x) → y [1, 4, 8]; at `extended` two
/// `MatMul`s, a `BiasGelu`, a `FastGelu` with its bias and a `SkipLayerNormalization`.
fn feed_forward() -> crate::model::onnx::ModelProto {
    use crate::optimize::weights_tests::tensor;
    use crate::tests::support::onnx_protos::{float_model, node, shaped_vi};
    let weights = |name: &str, seed: usize| {
        let v: Vec<f32> = (0..64)
            .map(|i| (((i + seed) * 31 % 11) as f32 - 5.0) * 0.12)
            .collect();
        tensor(name, &[8, 8], &v)
    };
    let vector = |name: &str, seed: usize| {
        let v: Vec<f32> = (0..8)
            .map(|i| ((i + seed) % 5) as f32 * 0.1 - 0.2)
            .collect();
        tensor(name, &[8], &v)
    };
    let mut m = float_model(vec![
        node("m1", "MatMul", "", &["x", "w1"], &["m1"]),
        node("b1", "Add", "", &["m1", "b1"], &["h"]),
        node("d", "Div", "", &["h", "sqrt2"], &["d"]),
        node("erf", "Erf", "", &["d"], &["erf"]),
        node("e1", "Add", "", &["erf", "one"], &["e1"]),
        node("hx", "Mul", "", &["h", "e1"], &["hx"]),
        node("g1", "Mul", "", &["hx", "half"], &["g1"]),
        node("m2", "MatMul", "", &["g1", "w2"], &["m2"]),
        node("b2", "Add", "", &["m2", "b2"], &["f"]),
        node("k1", "Mul", "", &["k", "f"], &["k1"]),
        node("k2", "Mul", "", &["f", "k1"], &["k2"]),
        node("k3", "Mul", "", &["f", "k2"], &["k3"]),
        node("s", "Add", "", &["f", "k3"], &["s"]),
        node("u", "Mul", "", &["c", "s"], &["u"]),
        node("t", "Tanh", "", &["u"], &["t"]),
        node("t1", "Add", "", &["one", "t"], &["t1"]),
        node("th", "Mul", "", &["half", "t1"], &["th"]),
        node("g2", "Mul", "", &["f", "th"], &["g2"]),
        node("bc", "Add", "", &["g2", "bias"], &["gb"]),
        node("res", "Add", "", &["gb", "x"], &["res"]),
        node(
            "ln",
            "LayerNormalization",
            "",
            &["res", "gamma", "beta"],
            &["y"],
        ),
    ]);
    let g = m.graph.as_mut().unwrap();
    g.input = vec![shaped_vi("x", 1, &[1, 4, 8])];
    g.output = vec![shaped_vi("y", 1, &[1, 4, 8])];
    g.initializer = vec![
        weights("w1", 3),
        vector("b1", 1),
        weights("w2", 5),
        vector("b2", 2),
        tensor("sqrt2", &[], &[std::f32::consts::SQRT_2]),
        tensor("one", &[], &[1.0]),
        tensor("half", &[], &[0.5]),
        tensor("k", &[], &[0.044_715]),
        tensor("c", &[], &[0.797_884_6]),
        vector("bias", 3),
        vector("gamma", 4),
        vector("beta", 0),
    ];
    m
}

/// Two transformer layers' attention halves as BERT's export writes them: for x [1, 4, 8] and
/// an int64 padding mask [1, 4], h = LayerNormalization(x), a = self-attention of h (2 heads
/// of 4) with the mask, h1 = LayerNormalization(a·Wo + bo + h), y = self-attention of h1
/// without a mask → y [1, 4, 8]; at `extended` a `LayerNormalization`, a `Cast` of the mask,
/// two `Attention`s, a `MatMul` and a `SkipLayerNormalization`.
fn transformer_layers() -> crate::model::onnx::ModelProto {
    use crate::optimize::attention_tests::{block, mask_formula};
    use crate::optimize::weights_tests::tensor;
    use crate::tests::support::onnx_protos::{float_model, node, shaped_vi};
    let vector = |name: &str, seed: usize| {
        let v: Vec<f32> = (0..8)
            .map(|i| ((i + seed) % 5) as f32 * 0.2 + 0.3)
            .collect();
        tensor(name, &[8], &v)
    };
    let (mut nodes, mut inits) = mask_formula();
    nodes.push(node(
        "ln0",
        "LayerNormalization",
        "",
        &["x", "g0", "b0"],
        &["h"],
    ));
    let (a, a_inits) = block("a", "h", Some("mask_add"), "att_a");
    nodes.extend(a);
    nodes.extend([
        node("o", "MatMul", "", &["att_a", "wo"], &["o"]),
        node("ob", "Add", "", &["o", "bo"], &["ob"]),
        node("r", "Add", "", &["ob", "h"], &["r"]),
        node("ln1", "LayerNormalization", "", &["r", "g1", "b1"], &["h1"]),
    ]);
    let (b, b_inits) = block("b", "h1", None, "y");
    nodes.extend(b);
    let wo: Vec<f32> = (0..64)
        .map(|i| (((i * 5) % 11) as f32 - 5.0) * 0.08)
        .collect();
    inits.extend(a_inits);
    inits.extend(b_inits);
    inits.extend([
        vector("g0", 1),
        vector("b0", 2),
        tensor("wo", &[8, 8], &wo),
        vector("bo", 3),
        vector("g1", 4),
        vector("b1", 0),
    ]);
    let mut m = float_model(nodes);
    let g = m.graph.as_mut().unwrap();
    g.input = vec![shaped_vi("x", 1, &[1, 4, 8]), shaped_vi("mask", 7, &[1, 4])];
    g.output = vec![shaped_vi("y", 1, &[1, 4, 8])];
    g.initializer = inits;
    m
}

/// At `extended`, a convolutional model's Conv + activation pairs, the default model's Gemm and
/// Relu, and attention's Swish gate and transposed and scaled MatMuls run as ONNX Runtime's
/// contrib `FusedConv`, `FusedGemm`, `QuickGelu` and `FusedMatMul`, a written-out layer
/// normalization as one `LayerNormalization`, a feed-forward block's Gelus with their biases as
/// `BiasGelu` and `FastGelu` and its residual layer normalization as `SkipLayerNormalization`,
/// two transformer layers' self-attention (one with a padding mask) as `Attention`:
/// the optimized `.ort`
/// computes in Python onnxruntime 1.21.0 what the original `.onnx` computes, and one compact
/// runtime built for both (only the contrib kernels they use) runs them with the same outputs.
#[test]
fn extended_optimization_runs_fused_kernels_in_the_compact_runtime() {
    use prost::Message;
    let tmp = tempfile::tempdir().unwrap();
    let cnn = tmp.path().join("cnn.onnx");
    std::fs::write(&cnn, activation_cnn().encode_to_vec()).unwrap();
    let attention = tmp.path().join("attention.onnx");
    std::fs::write(&attention, attention_scores().encode_to_vec()).unwrap();
    let ffn = tmp.path().join("feed-forward.onnx");
    std::fs::write(&ffn, feed_forward().encode_to_vec()).unwrap();
    let layers = tmp.path().join("layers.onnx");
    std::fs::write(&layers, transformer_layers().encode_to_vec()).unwrap();
    let mlp = workspace().join("models/mlp-classifier.onnx");
    let models = [&cnn, &mlp, &attention, &ffn, &layers];
    let ops =
        crate::tools::required_operators(&models, false, GraphOptimization::Extended).unwrap();
    assert!(
        ops.contains(
            "com.microsoft;1;Attention,BiasGelu,FastGelu,FusedConv,FusedGemm,FusedMatMul,\
             QuickGelu,SkipLayerNormalization"
        ),
        "{ops}"
    );
    assert!(ops.contains("LayerNormalization"), "{ops}");
    for gone in [
        "ReduceMean",
        "Pow",
        "Relu",
        "HardSigmoid",
        "Clip",
        "Sigmoid",
        "Conv,",
        "Transpose",
        "Mul",
        "Div",
        "Erf",
        "Tanh",
        "Add",
    ] {
        assert!(
            !ops.contains(&format!(";{gone}")) && !ops.contains(&format!(",{gone}")),
            "{gone} in {ops}"
        );
    }

    let out = tmp.path().join("out");
    let a = {
        let mut b = Builder::new(&cnn);
        b.model(&mlp)
            .model(&attention)
            .model(&ffn)
            .model(&layers)
            .out_dir(&out)
            .graph_optimization(GraphOptimization::Extended)
            .compressed_sizes(false)
            .cargo_metadata(false)
            .progress(ProgressMode::Stderr);
        b.try_build()
            .unwrap_or_else(|e| panic!("build failed: {e}"))
    };
    let x = (0..192).map(|i| f64::from(i % 11) * 0.2 - 1.0);
    let features = (0..16).map(|i| f64::from(i) * 0.1 - 0.7);
    let tokens = (0..32).map(|i| f64::from(i % 9) * 0.25 - 1.0);
    let cases = [
        (
            &cnn,
            serde_json::json!({ "x": tensor("float32", &[1, 3, 8, 8], f32_values(x)) }),
        ),
        (
            &mlp,
            serde_json::json!({ "features": tensor("float32", &[1, 16], f32_values(features)) }),
        ),
        (
            &attention,
            serde_json::json!({ "x": tensor("float32", &[1, 4, 8], f32_values(tokens.clone())) }),
        ),
        (
            &ffn,
            serde_json::json!({ "x": tensor("float32", &[1, 4, 8], f32_values(tokens.clone())) }),
        ),
        (
            &layers,
            serde_json::json!({
                "x": tensor("float32", &[1, 4, 8], f32_values(tokens)),
                "mask": tensor("int64", &[1, 4], vec![1.into(), 1.into(), 1.into(), 0.into()]),
            }),
        ),
    ];
    for ((onnx, inputs), model) in cases.iter().zip(a.models()) {
        let expected = reference(onnx, inputs, tmp.path());
        let python = reference(&model.ort, inputs, tmp.path());
        let worst = assert_outputs_close(&python["outputs"], &expected["outputs"], 1e-5, "Python");
        let actual = run_driver_in("run-node.mjs", &out, &model.ort, inputs, tmp.path());
        let runtime =
            assert_outputs_close(&actual["outputs"], &expected["outputs"], 1e-5, "runtime");
        eprintln!(
            "{}: extended .ort in Python {worst:e}, in the compact runtime {runtime:e}",
            model.name
        );
    }
}
