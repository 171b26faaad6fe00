#!/usr/bin/env python3
"""Writes a synthetic BERT-style encoder layer (opset 17) for `cargo bench --bench fusion_bytes`:
none of the real models the benchmarks use triggers the `gelu`, `bias-gelu`, `skip-layer-norm`
and `attention` fusions, and a fusion's byte cost is that of the kernels it swaps, not of the
model. Random weights (fixed seed); the graph is written out as exporters write it:

  h  = LayerNorm(x) in elementary ops                          (layer-norm)
  a  = self-attention of h with a [B, S] padding mask          (attention)
  h1 = LayerNormalization(a·Wo + bo + h)                       (skip-layer-norm)
  f  = Gelu(h1·W1 + b1), erf formula                           (gelu, bias-gelu)
  g  = Gelu(f·W2), erf formula, no bias                        (gelu)
  y  = g·W3

Usage: scripts/dev/transformer-layer.py OUT.onnx   (needs the test oracle's `onnx` and numpy)
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

B, S, N, H = 1, 16, 4, 16
D, F = N * H, 4 * N * H
rng = np.random.default_rng(7)
inits, nodes = [], []


def const(name, value, dtype=np.float32):
    inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
    return name


def weight(name, *shape):
    return const(name, rng.normal(0, 0.1, shape))


def op(kind, inputs, out, **attrs):
    nodes.append(helper.make_node(kind, inputs, [out], name=out, **attrs))
    return out


def layer_norm_ops(x, p):
    m = op("ReduceMean", [x], p + "_mean", axes=[-1])
    d = op("Sub", [x, m], p + "_d")
    v = op("ReduceMean", [op("Pow", [d, const(p + "_two", 2.0)], p + "_sq")], p + "_var", axes=[-1])
    s = op("Sqrt", [op("Add", [v, const(p + "_eps", 1e-5)], p + "_ve")], p + "_std")
    n = op("Div", [d, s], p + "_n")
    scaled = op("Mul", [n, const(p + "_g", rng.uniform(0.5, 1.5, D))], p + "_s")
    return op("Add", [scaled, const(p + "_b", rng.normal(0, 0.1, D))], p + "_out")


def heads(x, p, perm):
    proj = op("Add", [op("MatMul", [x, weight(p + "_w", D, D)], p + "_mm"), weight(p + "_bias", D)], p + "_p")
    split = op("Reshape", [proj, const(p + "_shape", [0, 0, N, H], np.int64)], p + "_r")
    return op("Transpose", [split], p + "_t", perm=perm)


def attention(x, mask):
    q = heads(x, "q", [0, 2, 1, 3])
    k = heads(x, "k", [0, 2, 3, 1])
    v = heads(x, "v", [0, 2, 1, 3])
    scores = op("Div", [op("MatMul", [q, k], "qk"), const("sqrt_h", np.sqrt(H))], "scores")
    m = op("Unsqueeze", [mask, const("ax1", [1], np.int64)], "mask_1")
    m = op("Unsqueeze", [m, const("ax2", [2], np.int64)], "mask_2")
    m = op("Cast", [m], "mask_f", to=TensorProto.FLOAT)
    m = op("Sub", [const("one", 1.0), m], "mask_inv")
    m = op("Mul", [m, const("filter", -10000.0)], "mask_add")
    probs = op("Softmax", [op("Add", [scores, m], "masked")], "probs", axis=-1)
    ctx = op("Transpose", [op("MatMul", [probs, v], "ctx")], "ctx_t", perm=[0, 2, 1, 3])
    return op("Reshape", [ctx, const("merge", [0, 0, D], np.int64)], "att")


def gelu(x, p):
    e = op("Erf", [op("Div", [x, const(p + "_sqrt2", np.sqrt(2.0))], p + "_d")], p + "_erf")
    a = op("Add", [e, const(p + "_one", 1.0)], p + "_a")
    return op("Mul", [op("Mul", [x, a], p + "_xa"), const(p + "_half", 0.5)], p + "_out")


h = layer_norm_ops("x", "ln0")
a = attention(h, "mask")
o = op("Add", [op("MatMul", [a, weight("wo", D, D)], "o_mm"), weight("bo", D)], "o")
r = op("Add", [o, h], "residual")
h1 = op("LayerNormalization", [r, const("g1", rng.uniform(0.5, 1.5, D)), const("b1", rng.normal(0, 0.1, D))], "h1", axis=-1)
f = gelu(op("Add", [op("MatMul", [h1, weight("w1", D, F)], "f_mm"), weight("bf", F)], "f_b"), "g_bias")
g = gelu(op("MatMul", [f, weight("w2", F, D)], "g_mm"), "g_plain")
op("MatMul", [g, weight("w3", D, D)], "y")

graph = helper.make_graph(
    nodes,
    "transformer-layer",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, S, D]),
     helper.make_tensor_value_info("mask", TensorProto.INT64, [B, S])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [B, S, D])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="ort-compact-build")
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, sys.argv[1])
