//! Eliminations: nodes whose output is their input, bypassed and removed.

use super::node::is_onnx;
use super::uses::{bypass, initializer, remove, Uses};
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto, TensorProto};

/// ONNX `TensorProto.DataType` BOOL.
const BOOL: i32 = 9;

/// Remove the nodes `removable` picks (returning the input and output to join) wherever their
/// output is not observed.
pub(super) fn eliminate(
    g: &mut GraphProto,
    removable: impl Fn(&GraphProto, &Uses, &NodeProto) -> Option<(String, String)>,
) -> usize {
    let uses = Uses::of(g);
    let mut gone = Vec::new();
    for k in 0..g.node.len() {
        let Some((input, output)) = removable(g, &uses, &g.node[k]) else {
            continue;
        };
        if bypass(g, &uses, &input, &output) {
            gone.push(k);
        }
    }
    remove(g, &gone)
}

/// `Identity`: its readers read its input.
pub(super) fn identity(_: &Model, g: &mut GraphProto) -> usize {
    eliminate(g, |_, _, n| {
        (is_onnx(n, "Identity") && n.input.len() == 1 && n.output.len() == 1)
            .then(|| (n.input[0].clone(), n.output[0].clone()))
    })
}

/// `Dropout` in inference: the identity, when nothing reads its mask and its `training_mode`
/// input is absent or a constant false (from opset 7; before, only with `is_test=1`).
pub(super) fn dropout(model: &Model, g: &mut GraphProto) -> usize {
    eliminate(g, |g, uses, n| {
        if !is_onnx(n, "Dropout") || n.input.is_empty() || n.output.is_empty() {
            return None;
        }
        let mask_unused = n.output.get(1).is_none_or(|m| !uses.used(m));
        let training = n.input.get(2).filter(|t| !t.is_empty());
        let inference = match training {
            None => true,
            Some(name) => initializer(g, name).is_some_and(is_false),
        };
        let is_test = n.attribute.iter().any(|a| a.name == "is_test" && a.i == 1);
        let mode_known = model.opset >= 7 || is_test;
        (mask_unused && inference && mode_known).then(|| (n.input[0].clone(), n.output[0].clone()))
    })
}

/// Whether `t` is a boolean scalar holding false.
fn is_false(t: &TensorProto) -> bool {
    let one = t.dims.iter().product::<i64>() == 1;
    let stored = match t.raw_data.is_empty() {
        false => t.raw_data.len() == 1 && t.raw_data[0] == 0,
        true => t.int32_data.len() == 1 && t.int32_data[0] == 0,
    };
    t.data_type == BOOL && one && stored && t.external_data.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::onnx::{AttributeProto, GraphProto, ModelProto, ValueInfoProto};
    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{float_model, if_node, node, tensor_vi};

    fn ops(g: &GraphProto) -> Vec<&str> {
        g.node.iter().map(|n| n.op_type.as_str()).collect()
    }

    fn basic(mut m: ModelProto) -> ModelProto {
        optimize(
            &mut m,
            std::path::Path::new("m.onnx"),
            GraphOptimization::Basic,
        );
        m
    }

    fn graph(m: &ModelProto) -> &GraphProto {
        m.graph.as_ref().unwrap()
    }

    fn bool_scalar(name: &str, value: bool) -> TensorProto {
        TensorProto {
            name: name.into(),
            data_type: BOOL,
            raw_data: vec![u8::from(value)],
            ..Default::default()
        }
    }

    #[test]
    fn identity_chains_go_and_their_readers_read_the_source() {
        let m = basic(float_model(vec![
            node("a", "Identity", "", &["x"], &["i1"]),
            node("b", "Identity", "", &["i1"], &["i2"]),
            node("r", "Relu", "", &["i2"], &["y"]),
        ]));
        assert_eq!(ops(graph(&m)), ["Relu"]);
        assert_eq!(graph(&m).node[0].input, ["x"]);
    }

    #[test]
    fn an_identity_that_is_a_graph_output_goes_when_its_producer_can_take_the_name() {
        let m = basic(float_model(vec![
            node("r", "Relu", "", &["x"], &["r"]),
            node("i", "Identity", "", &["r"], &["y"]),
        ]));
        assert_eq!(ops(graph(&m)), ["Relu"]);
        assert_eq!(graph(&m).node[0].output, ["y"]);

        // From a graph input: nothing in the graph can produce `y` instead.
        let m = basic(float_model(vec![node("i", "Identity", "", &["x"], &["y"])]));
        assert_eq!(ops(graph(&m)), ["Identity"]);

        // Its input is a graph output too: both names must stay.
        let mut both = float_model(vec![
            node("r", "Relu", "", &["x"], &["r"]),
            node("i", "Identity", "", &["r"], &["y"]),
        ]);
        both.graph.as_mut().unwrap().output.push(tensor_vi("r", 1));
        assert_eq!(ops(graph(&basic(both))), ["Relu", "Identity"]);
    }

    /// An `If` whose branches pass `branch_reads` on through an `Identity`.
    fn if_reading(cond: &str, branch_reads: &str) -> crate::model::onnx::NodeProto {
        if_node(cond, |name| GraphProto {
            name: name.into(),
            node: vec![node("in", "Identity", "", &[branch_reads], &["b"])],
            output: vec![tensor_vi("b", 1)],
            ..Default::default()
        })
    }

    #[test]
    fn a_value_a_subgraph_reads_keeps_its_identity_and_the_subgraph_is_optimized_too() {
        let mut model = float_model(vec![
            node("i", "Identity", "", &["x"], &["seen"]),
            node("c", "Cast", "", &["x"], &["cond"]),
            if_reading("cond", "seen"),
        ]);
        model.graph.as_mut().unwrap().node[1]
            .attribute
            .push(AttributeProto {
                name: "to".into(),
                r#type: 2,
                i: 9,
                ..Default::default()
            });
        let m = basic(model);
        assert_eq!(
            ops(graph(&m)),
            ["Identity", "Cast", "If"],
            "outer 'seen' is read by the branches"
        );
        let branch = graph(&m).node[2].attribute[0].g.as_ref().unwrap();
        assert_eq!(
            ops(branch),
            ["Identity"],
            "the branch's Identity is its output"
        );
    }

    fn dropout(inputs: &[&str], outputs: &[&str]) -> ModelProto {
        let mut nodes = vec![node("d", "Dropout", "", inputs, outputs)];
        nodes.push(node("r", "Relu", "", &["d"], &["y"]));
        float_model(nodes)
    }

    #[test]
    fn inference_dropout_goes_unless_its_mask_is_read_or_training_may_be_on() {
        let m = basic(dropout(&["x"], &["d"]));
        assert_eq!(ops(graph(&m)), ["Relu"]);
        assert_eq!(graph(&m).node[0].input, ["x"]);

        let m = basic(dropout(&["x"], &["d", ""]));
        assert_eq!(ops(graph(&m)), ["Relu"], "an omitted mask");

        let mut mask_read = dropout(&["x"], &["d", "mask"]);
        let g = mask_read.graph.as_mut().unwrap();
        g.output.push(tensor_vi("mask", 9));
        assert_eq!(
            ops(graph(&basic(mask_read))),
            ["Dropout", "Relu"],
            "mask is an output"
        );

        let mut off = dropout(&["x", "", "t"], &["d"]);
        off.graph
            .as_mut()
            .unwrap()
            .initializer
            .push(bool_scalar("t", false));
        assert_eq!(ops(graph(&basic(off))), ["Relu"], "training_mode = false");

        let mut on = dropout(&["x", "", "t"], &["d"]);
        on.graph
            .as_mut()
            .unwrap()
            .initializer
            .push(bool_scalar("t", true));
        assert_eq!(
            ops(graph(&basic(on))),
            ["Dropout", "Relu"],
            "training_mode = true"
        );

        let mut fed = dropout(&["x", "", "t"], &["d"]);
        fed.graph.as_mut().unwrap().input.push(tensor_vi("t", 9));
        assert_eq!(
            ops(graph(&basic(fed))),
            ["Dropout", "Relu"],
            "training_mode from outside"
        );

        let mut old = dropout(&["x"], &["d"]);
        old.opset_import[0].version = 6;
        assert_eq!(
            ops(graph(&basic(old))),
            ["Dropout", "Relu"],
            "opset 6 without is_test"
        );
    }

    #[test]
    fn level_none_changes_nothing() {
        let mut m = float_model(vec![node("i", "Identity", "", &["x"], &["y1"])]);
        m.graph.as_mut().unwrap().output = vec![ValueInfoProto {
            name: "y1".into(),
            ..Default::default()
        }];
        let before = m.clone();
        let report = optimize(
            &mut m,
            std::path::Path::new("m.onnx"),
            GraphOptimization::None,
        );
        assert_eq!(m, before);
        assert!(report.passes.is_empty());
    }
}
