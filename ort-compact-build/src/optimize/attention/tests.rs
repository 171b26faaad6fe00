//! The attention fusion on hand-made graphs: BERT's block with and without its mask, other
//! scales, layers sharing a mask, the mask formula before opset 13, and near misses.
use super::Value;
use crate::model::onnx::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
use crate::model::ModelLocation;
use crate::optimize::weights_tests::tensor;
use crate::optimize::{GraphOptimization, GraphOptimizer, Rewrite};
use crate::tests::support::onnx_protos::{float_model, int64s as ints, node, shaped_vi};
use std::path::Path;

fn ints_attr(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: 7,
        ints: ints.to_vec(),
        ..Default::default()
    }
}

fn with(mut n: NodeProto, a: AttributeProto) -> NodeProto {
    n.attribute.push(a);
    n
}

/// Weights `[8, 8]` or a bias `[8]` with values from `seed`.
fn values(name: &str, dims: &[i64], seed: usize) -> TensorProto {
    let n = dims.iter().product::<i64>() as usize;
    let v: Vec<f32> = (0..n)
        .map(|i| (((i * 7 + seed * 5) % 13) as f32 - 6.0) * 0.05)
        .collect();
    tensor(name, dims, &v)
}

/// `(1 − Cast(Unsqueeze(Unsqueeze(mask, 1), 2))) · −10000` as BERT's export writes it at
/// opset 13 and later (axes as inputs): the additive mask `mask_add`.
pub(crate) fn mask_formula() -> (Vec<NodeProto>, Vec<TensorProto>) {
    let cast = node("mask_cast", "Cast", "", &["mask_u2"], &["mask_f"]);
    let nodes = vec![
        node("mask_u1", "Unsqueeze", "", &["mask", "axis1"], &["mask_u1"]),
        node(
            "mask_u2",
            "Unsqueeze",
            "",
            &["mask_u1", "axis2"],
            &["mask_u2"],
        ),
        with(cast, int("to", 1)),
        node("mask_sub", "Sub", "", &["one", "mask_f"], &["mask_inv"]),
        node(
            "mask_mul",
            "Mul",
            "",
            &["mask_inv", "filter"],
            &["mask_add"],
        ),
    ];
    let inits = vec![
        ints("axis1", &[1]),
        ints("axis2", &[2]),
        tensor("one", &[], &[1.0]),
        tensor("filter", &[], &[-10000.0]),
    ];
    (nodes, inits)
}

fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: 2,
        i,
        ..Default::default()
    }
}

/// One self-attention block as BERT's export writes it, on `root` `[1, 4, 8]` (2 heads of
/// 4), adding the additive mask `mask` to the scores when given, writing `out`; its own
/// names start with `p`.
pub(crate) fn block(
    p: &str,
    root: &str,
    mask: Option<&str>,
    out: &str,
) -> (Vec<NodeProto>, Vec<TensorProto>) {
    let n = |name: &str| format!("{p}.{name}");
    let mut nodes = Vec::new();
    let mut inits = vec![
        ints(&n("heads"), &[0, 0, 2, 4]),
        ints(&n("hidden"), &[0, 0, 8]),
        tensor(&n("root_h"), &[], &[2.0]),
    ];
    for (i, (x, perm)) in [
        ("q", [0, 2, 1, 3]),
        ("k", [0, 2, 3, 1]),
        ("v", [0, 2, 1, 3]),
    ]
    .into_iter()
    .enumerate()
    {
        let (w, b, m, a, r, t) = (
            n(&format!("{x}_w")),
            n(&format!("{x}_b")),
            n(&format!("{x}_m")),
            n(&format!("{x}_a")),
            n(&format!("{x}_r")),
            n(&format!("{x}_t")),
        );
        inits.push(values(&w, &[8, 8], i + 1));
        inits.push(values(&b, &[8], i + 4));
        nodes.push(node(&m, "MatMul", "", &[root, &w], &[&m]));
        nodes.push(node(&a, "Add", "", &[&m, &b], &[&a]));
        nodes.push(node(&r, "Reshape", "", &[&a, &n("heads")], &[&r]));
        let transpose = node(&t, "Transpose", "", &[&r], &[&t]);
        nodes.push(with(transpose, ints_attr("perm", &perm)));
    }
    nodes.push(node(
        &n("qk"),
        "MatMul",
        "",
        &[&n("q_t"), &n("k_t")],
        &[&n("qk")],
    ));
    nodes.push(node(
        &n("sc"),
        "Div",
        "",
        &[&n("qk"), &n("root_h")],
        &[&n("sc")],
    ));
    let scores = match mask {
        Some(mask) => {
            nodes.push(node(&n("scm"), "Add", "", &[&n("sc"), mask], &[&n("scm")]));
            n("scm")
        }
        None => n("sc"),
    };
    let softmax = node(&n("p"), "Softmax", "", &[&scores], &[&n("p")]);
    nodes.push(with(softmax, int("axis", 3)));
    nodes.push(node(
        &n("ctx"),
        "MatMul",
        "",
        &[&n("p"), &n("v_t")],
        &[&n("ctx")],
    ));
    let back = node(&n("ctx_t"), "Transpose", "", &[&n("ctx")], &[&n("ctx_t")]);
    nodes.push(with(back, ints_attr("perm", &[0, 2, 1, 3])));
    nodes.push(node(
        &n("att"),
        "Reshape",
        "",
        &[&n("ctx_t"), &n("hidden")],
        &[out],
    ));
    (nodes, inits)
}

/// One masked block from `x` to `y`.
fn masked_block() -> (Vec<NodeProto>, Vec<TensorProto>) {
    let (mut nodes, mut inits) = mask_formula();
    let (b, w) = block("a", "x", Some("mask_add"), "y");
    nodes.extend(b);
    inits.extend(w);
    (nodes, inits)
}

/// The graph of `nodes` and `inits` on `x` `[1, 4, 8]` and the int64 `mask` `[1, 4]`,
/// changed by `edit`, after the optimizer ran `level`.
fn optimized_graph(
    (nodes, inits): (Vec<NodeProto>, Vec<TensorProto>),
    level: impl Into<GraphOptimizer>,
    edit: &dyn Fn(&mut ModelProto),
) -> GraphProto {
    let mut m = float_model(nodes);
    let g = m.graph.as_mut().unwrap();
    g.input = vec![shaped_vi("x", 1, &[1, 4, 8]), shaped_vi("mask", 7, &[1, 4])];
    g.initializer = inits;
    edit(&mut m);
    crate::optimize::optimize(&mut m, Path::new("m.onnx"), level);
    m.graph.unwrap()
}

fn optimized(
    graph: (Vec<NodeProto>, Vec<TensorProto>),
    level: impl Into<GraphOptimizer>,
    edit: &dyn Fn(&mut ModelProto),
) -> Vec<NodeProto> {
    optimized_graph(graph, level, edit).node
}

fn extended(graph: (Vec<NodeProto>, Vec<TensorProto>)) -> Vec<NodeProto> {
    optimized(graph, GraphOptimization::Extended, &|_| {})
}

fn ops(nodes: &[NodeProto]) -> Vec<&str> {
    nodes.iter().map(|n| n.op_type.as_str()).collect()
}

fn attrs(n: &NodeProto) -> Vec<(&str, f32, i64)> {
    n.attribute
        .iter()
        .map(|a| (a.name.as_str(), a.f, a.i))
        .collect()
}

#[test]
fn bert_self_attention_with_its_mask_becomes_one_attention() {
    let nodes = extended(masked_block());
    assert_eq!(ops(&nodes), ["Cast", "Attention"], "{nodes:#?}");
    let (cast, att) = (&nodes[0], &nodes[1]);
    assert_eq!(cast.input, ["mask"]);
    assert_eq!(attrs(cast), [("to", 0.0, 6)]);
    assert_eq!(att.domain, "com.microsoft");
    assert_eq!(att.output, ["y"]);
    assert_eq!(att.input[0], "x");
    assert_eq!(att.input[3], cast.output[0]);
    assert_eq!(
        attrs(att),
        [("num_heads", 0.0, 2), ("mask_filter_value", -10000.0, 0)]
    );
    // The merged weights: row i is row i of Wq, Wk and Wv in turn; the biases one after
    // the other.
    let g = optimized_graph(masked_block(), GraphOptimization::Extended, &|_| {});
    let value = |name: &str| {
        let t = g.initializer.iter().find(|t| t.name == name).unwrap();
        let v = Value::of(t, &ModelLocation::new(Path::new("m.onnx"))).unwrap();
        (v.dims.clone(), v.floats().unwrap())
    };
    let (dims, w) = value(&g.node[1].input[1]);
    assert_eq!(dims, [8, 24]);
    let row = |seed: usize, r: usize| -> Vec<f32> {
        (0..8)
            .map(|c| ((((r * 8 + c) * 7 + seed * 5) % 13) as f32 - 6.0) * 0.05)
            .collect()
    };
    for r in [0, 5] {
        assert_eq!(
            w[r * 24..r * 24 + 24],
            [row(1, r), row(2, r), row(3, r)].concat()
        );
    }
    let (dims, b) = value(&g.node[1].input[2]);
    assert_eq!(dims, [24]);
    assert_eq!(b[..8], row(4, 0)[..]);
    assert_eq!(b[16..], row(6, 0)[..]);
}

#[test]
fn unmasked_and_rescaled_attention_and_layers_sharing_a_mask() {
    // No mask: three inputs, no filter value.
    let nodes = extended(block("a", "x", None, "y"));
    assert_eq!(ops(&nodes), ["Attention"]);
    assert_eq!(nodes[0].input.len(), 3);
    assert_eq!(attrs(&nodes[0]), [("num_heads", 0.0, 2)]);
    // A Mul by 1/√H is the default scale; a Div by 3 is written out.
    let rescaled = |op: &str, c: f32| {
        let (mut nodes, mut inits) = block("a", "x", None, "y");
        let sc = nodes.iter_mut().find(|n| n.op_type == "Div").unwrap();
        sc.op_type = op.into();
        inits.retain(|t| t.name != "a.root_h");
        inits.push(tensor("a.root_h", &[1], &[c]));
        extended((nodes, inits))
    };
    let nodes = rescaled("Mul", 0.5);
    assert_eq!(attrs(&nodes[0]), [("num_heads", 0.0, 2)]);
    let nodes = rescaled("Div", 3.0);
    assert_eq!(
        attrs(&nodes[0]),
        [("num_heads", 0.0, 2), ("scale", 1.0 / 3.0, 0)]
    );
    // Two layers reading one mask: one Cast, two Attentions.
    let (mut nodes, mut inits) = masked_block();
    nodes.last_mut().unwrap().output = vec!["h".into()];
    let (b, w) = block("b", "h", Some("mask_add"), "y");
    nodes.extend(b);
    inits.extend(w);
    let nodes = extended((nodes, inits));
    assert_eq!(ops(&nodes), ["Cast", "Attention", "Attention"]);
    assert_eq!(nodes[1].input[3], nodes[2].input[3]);
    assert_eq!(nodes[2].input[0], "h");
}

#[test]
fn the_mask_formula_before_opset_13_and_with_one_unsqueeze() {
    // Opset 11: the Unsqueezes' axes are attributes.
    let (mut nodes, mut inits) = masked_block();
    for n in nodes.iter_mut().filter(|n| n.op_type == "Unsqueeze") {
        let axis = if n.input[1] == "axis1" { 1 } else { -2 };
        n.input.truncate(1);
        n.attribute.push(ints_attr("axes", &[axis]));
    }
    inits.retain(|t| !t.name.starts_with("axis"));
    let opset_11 = |m: &mut ModelProto| m.opset_import[0].version = 11;
    let nodes = optimized((nodes, inits), GraphOptimization::Extended, &opset_11);
    assert_eq!(ops(&nodes), ["Cast", "Attention"]);
    // One Unsqueeze of axes [1, 2]; a bool mask.
    let (mut nodes, mut inits) = masked_block();
    nodes.retain(|n| n.name != "mask_u1");
    nodes[0].input = vec!["mask".into(), "axes".into()];
    inits.push(ints("axes", &[1, -2]));
    let bool_mask = |m: &mut ModelProto| {
        m.graph.as_mut().unwrap().input[1] = shaped_vi("mask", 9, &[1, 4]);
    };
    let nodes = optimized((nodes, inits), GraphOptimization::Extended, &bool_mask);
    assert_eq!(ops(&nodes), ["Cast", "Attention"]);
}

#[test]
fn attention_that_almost_matches_is_left_alone() {
    let unfused = |nodes: &[NodeProto]| !ops(nodes).contains(&"Attention");
    let edited_with = |edit: &dyn Fn(&mut Vec<NodeProto>, &mut Vec<TensorProto>),
                       model: &dyn Fn(&mut ModelProto)| {
        let (mut nodes, mut inits) = masked_block();
        edit(&mut nodes, &mut inits);
        optimized((nodes, inits), GraphOptimization::Extended, model)
    };
    let edited =
        |edit: &dyn Fn(&mut Vec<NodeProto>, &mut Vec<TensorProto>)| edited_with(edit, &|_| {});
    let node = |nodes: &mut Vec<NodeProto>, name: &str| -> usize {
        nodes.iter().position(|n| n.name == name).unwrap()
    };
    // The key not transposed for the product.
    let nodes = edited(&|nodes, _| {
        let k = node(nodes, "a.k_t");
        nodes[k].attribute = vec![ints_attr("perm", &[0, 2, 1, 3])];
    });
    assert!(unfused(&nodes));
    // Queries split into other heads than keys and values.
    let nodes = edited(&|nodes, inits| {
        let q = node(nodes, "a.q_r");
        nodes[q].input[1] = "other_heads".into();
        inits.push(ints("other_heads", &[0, 0, 4, 2]));
    });
    assert!(unfused(&nodes));
    // Rows of the batch merged by the head split.
    let nodes = edited(&|_, inits| {
        let heads = inits.iter_mut().find(|t| t.name == "a.heads").unwrap();
        heads.int64_data = vec![2, -1, 2, 4];
    });
    assert!(unfused(&nodes));
    // A softmax over another axis.
    let nodes = edited(&|nodes, _| {
        let p = node(nodes, "a.p");
        nodes[p].attribute = vec![int("axis", 2)];
    });
    assert!(unfused(&nodes));
    // The scores a graph output too.
    let nodes = edited_with(&|nodes, _| nodes.push(node_reading("a.sc")), &|m| {
        m.graph
            .as_mut()
            .unwrap()
            .output
            .push(shaped_vi("y2", 1, &[]))
    });
    assert!(unfused(&nodes));
    // A mask of 1 that broadcasts over the sequence; a mask of something else than 1 − m.
    let broadcast = |m: &mut ModelProto| {
        m.graph.as_mut().unwrap().input[1] = shaped_vi("mask", 7, &[1, 1]);
    };
    let nodes = optimized(masked_block(), GraphOptimization::Extended, &broadcast);
    assert!(unfused(&nodes));
    let nodes = edited(&|_, inits| {
        let one = inits.iter_mut().find(|t| t.name == "one").unwrap();
        *one = tensor("one", &[], &[2.0]);
    });
    assert!(unfused(&nodes));
    // A float mask (it can hold fractions the kernel would read as "attend").
    let float_mask = |m: &mut ModelProto| {
        m.graph.as_mut().unwrap().input[1] = shaped_vi("mask", 1, &[1, 4]);
    };
    let nodes = edited_with(
        &|nodes, _| {
            nodes.retain(|n| n.name != "mask_cast");
            let sub = node(nodes, "mask_sub");
            nodes[sub].input[1] = "mask_u2".into();
        },
        &float_mask,
    );
    assert!(unfused(&nodes));
    // Turned off by name, and at `basic`.
    let mut off = GraphOptimizer::from(GraphOptimization::Extended);
    off.disable(Rewrite::Attention);
    assert!(unfused(&optimized(masked_block(), off, &|_| {})));
    let basic = optimized(masked_block(), GraphOptimization::Basic, &|_| {});
    assert!(unfused(&basic));
}

/// A node reading `value` into the graph's output `y2`.
fn node_reading(value: &str) -> NodeProto {
    node("reader", "Relu", "", &[value], &["y2"])
}
