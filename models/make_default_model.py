"""Make models/mlp-classifier.onnx, the bundled default model of ort-compact-build.

A small classifier: features float[N,16] -> MatMul/Add/Relu -> MatMul/Add -> Softmax ->
probabilities float[N,4], ONNX opset 17, fixed-seed weights. Needs the `onnx` and `numpy`
Python packages (development only; the product never runs Python).
Run: python3 models/make_default_model.py [--seed N] [--out PATH]
(other seeds give the same graph with other weights; tests use that for weights-only changes)
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=20261121)
parser.add_argument("--out", default=os.path.join(here, "mlp-classifier.onnx"))
args = parser.parse_args()
rng = np.random.RandomState(args.seed)
w1 = numpy_helper.from_array(rng.normal(0, 0.5, (16, 32)).astype(np.float32), "w1")
b1 = numpy_helper.from_array(rng.normal(0, 0.1, (32,)).astype(np.float32), "b1")
w2 = numpy_helper.from_array(rng.normal(0, 0.5, (32, 4)).astype(np.float32), "w2")
b2 = numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), "b2")
nodes = [
    helper.make_node("MatMul", ["features", "w1"], ["h1"], name="dense1"),
    helper.make_node("Add", ["h1", "b1"], ["h1b"], name="bias1"),
    helper.make_node("Relu", ["h1b"], ["a1"], name="relu1"),
    helper.make_node("MatMul", ["a1", "w2"], ["h2"], name="dense2"),
    helper.make_node("Add", ["h2", "b2"], ["logits"], name="bias2"),
    helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=-1),
]
graph = helper.make_graph(
    nodes,
    "mlp_classifier",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 16])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 4])],
    initializer=[w1, b1, w2, b2],
)
model = helper.make_model(
    graph,
    opset_imports=[helper.make_opsetid("", 17)],
    producer_name="ort-compact-build",
    ir_version=8,
)
onnx.checker.check_model(model, full_check=True)
onnx.save(model, args.out)
print(args.out, os.path.getsize(args.out), "bytes")
