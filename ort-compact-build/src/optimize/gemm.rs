//! `MatMul` followed by an `Add` of a bias becomes one `Gemm` (as ONNX Runtime's basic level
//! does): the kernel writes the bias into the output and accumulates the product onto it,
//! instead of a second pass over the output. Only where `Gemm` computes the same thing: both
//! operands of rank 2, float, and a bias `Gemm` broadcasts (`[N]`, `[1, N]`, `[M, 1]`, `[M, N]`).

use super::infer::Shape;
use super::node::is_onnx;
use super::uses::{reader_index, remove, Uses};
use super::value::dtype;
use super::Model;
use crate::model::onnx::{GraphProto, NodeProto};

/// `MatMul` + `Add` pairs of `g` fused into `Gemm`s; returns how many.
pub(super) fn matmul_add(model: &Model, g: &mut GraphProto) -> usize {
    let uses = Uses::of(g);
    let types = model.types(g);
    let shapes = model.shapes(g);
    let reader = reader_index(g);
    let mut fused: Vec<(usize, usize, String)> = Vec::new();
    let mut adds = std::collections::HashSet::new();
    for (k, n) in g.node.iter().enumerate() {
        let Some(out) = n.output.first().filter(|_| is_onnx(n, "MatMul")) else {
            continue;
        };
        if uses.readers(out) != 1 || uses.observed(out) || n.input.len() != 2 {
            continue;
        }
        let Some(&a) = reader.get(out.as_str()) else {
            continue;
        };
        let add = &g.node[a];
        if !is_onnx(add, "Add") || add.input.len() != 2 || add.input[0] == add.input[1] {
            continue;
        }
        let bias = &add.input[usize::from(add.input[0] == *out)];
        let float = |v: &str| types.get(v) == Some(&dtype::FLOAT);
        let shape = |v: &str| shapes.get(v);
        if !(float(&n.input[0]) && float(&n.input[1]) && float(bias)) {
            continue;
        }
        let (Some(x), Some(w), Some(b)) = (shape(&n.input[0]), shape(&n.input[1]), shape(bias))
        else {
            continue;
        };
        // An Add of two products fuses with one of them only.
        if x.len() == 2 && w.len() == 2 && gemm_bias(x[0], w[1], b) && adds.insert(a) {
            fused.push((k, a, bias.clone()));
        }
    }
    for (m, a, bias) in &fused {
        let (m, a, bias) = (*m, *a, bias.clone());
        let matmul = &g.node[m];
        g.node[a] = NodeProto {
            name: format!("{}/MatMulAddFusion", matmul.name),
            op_type: "Gemm".into(),
            input: vec![matmul.input[0].clone(), matmul.input[1].clone(), bias],
            output: g.node[a].output.clone(),
            ..Default::default()
        };
    }
    let matmuls: Vec<usize> = fused.iter().map(|(m, _, _)| *m).collect();
    remove(g, &matmuls)
}

/// Whether a bias of shape `b` broadcasts onto an `[m, n]` product the way `Gemm` takes it:
/// `[n]`, `[1, n]`, `[m, 1]` or `[m, n]` (sizes known).
fn gemm_bias(m: Option<i64>, n: Option<i64>, b: &Shape) -> bool {
    let (Some(n), true) = (n, b.iter().all(Option::is_some)) else {
        return false;
    };
    match b.as_slice() {
        [bn] => *bn == Some(n),
        [bm, bn] => {
            (*bm == Some(1) && *bn == Some(n))
                || (m.is_some() && *bm == m && (*bn == Some(1) || *bn == Some(n)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::model::onnx::{ModelProto, TensorProto};
    use crate::optimize::value::Value;
    use crate::optimize::{optimize, GraphOptimization};
    use crate::tests::support::onnx_protos::{float_model, node, shaped_vi, tensor_vi};
    use std::path::Path;

    fn float(name: &str, dims: &[i64]) -> TensorProto {
        let n = dims.iter().product::<i64>() as usize;
        Value::new(1, dims.to_vec(), vec![0; 4 * n])
            .unwrap()
            .to_proto(name)
    }

    /// `x` (of shape `x_dims`) · `w` [4, 5] + `b` (of shape `b_dims`), then Relu; op types
    /// after `basic`.
    fn fused(x_dims: &[i64], b_dims: &[i64], edit: impl Fn(&mut ModelProto)) -> Vec<String> {
        let mut m = float_model(vec![
            node("m", "MatMul", "", &["x", "w"], &["p"]),
            node("a", "Add", "", &["p", "b"], &["s"]),
            node("r", "Relu", "", &["s"], &["y"]),
        ]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, x_dims)];
        g.initializer = vec![float("w", &[4, 5]), float("b", b_dims)];
        edit(&mut m);
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        let g = m.graph.unwrap();
        g.node.iter().map(|n| n.op_type.clone()).collect()
    }

    #[test]
    fn matmul_and_bias_become_gemm() {
        let none = |_: &mut ModelProto| {};
        assert_eq!(fused(&[-1, 4], &[5], none), ["Gemm", "Relu"]);
        assert_eq!(fused(&[-1, 4], &[1, 5], none), ["Gemm", "Relu"]);
        assert_eq!(fused(&[2, 4], &[2, 1], none), ["Gemm", "Relu"]);
        let mut m = float_model(vec![
            node("m", "MatMul", "", &["x", "w"], &["p"]),
            node("a", "Add", "", &["b", "p"], &["y"]),
        ]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[3, 4])];
        g.initializer = vec![float("w", &[4, 5]), float("b", &[5])];
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        let g = m.graph.unwrap();
        assert_eq!(g.node.len(), 1);
        assert_eq!(g.node[0].op_type, "Gemm");
        assert_eq!(g.node[0].input, ["x", "w", "b"], "bias first in the Add");
        assert_eq!(g.node[0].output, ["y"], "the graph output keeps its name");

        // The sum of two products: one of them becomes the Gemm's bias, the other stays.
        let mut m = float_model(vec![
            node("m1", "MatMul", "", &["x", "w"], &["p1"]),
            node("m2", "MatMul", "", &["x", "w"], &["p2"]),
            node("a", "Add", "", &["p1", "p2"], &["y"]),
        ]);
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[3, 4])];
        g.initializer = vec![float("w", &[4, 5])];
        let g = m.graph.as_mut().unwrap();
        g.node[1].input = vec!["x".into(), "w2".into()];
        g.initializer.push(float("w2", &[4, 5]));
        optimize(&mut m, Path::new("m.onnx"), GraphOptimization::Basic);
        let g = m.graph.unwrap();
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["MatMul", "Gemm"]);
        assert_eq!(g.node[1].input, ["x", "w", "p2"]);
    }

    #[test]
    fn pairs_gemm_does_not_compute_stay() {
        let none = |_: &mut ModelProto| {};
        let kept = ["MatMul", "Add", "Relu"];
        assert_eq!(fused(&[-1, 3, 4], &[5], none), kept, "rank 3");
        let fed_bias = |m: &mut ModelProto| {
            let g = m.graph.as_mut().unwrap();
            g.initializer.pop();
            g.input.push(shaped_vi("b", 1, &[-1, 5]));
        };
        assert_eq!(fused(&[-1, 4], &[5], fed_bias), kept, "bias rows unknown");
        assert_eq!(
            fused(&[-1, 4], &[2, 1], none),
            kept,
            "[M, 1] with M unknown"
        );
        assert_eq!(fused(&[-1, 4], &[4], none), kept, "wrong width");
        let read_twice = |m: &mut ModelProto| {
            let g = m.graph.as_mut().unwrap();
            g.output.push(tensor_vi("p", 1));
        };
        assert_eq!(
            fused(&[-1, 4], &[5], read_twice),
            kept,
            "product is an output"
        );
        let doubles = |m: &mut ModelProto| {
            let g = m.graph.as_mut().unwrap();
            g.input = vec![shaped_vi("x", 11, &[2, 4])];
        };
        assert_eq!(fused(&[2, 4], &[5], doubles), kept, "double");
    }
}
