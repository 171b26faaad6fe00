"""Test oracle for the verify tests (never used by the product).

Commands:
  locate                      print JSON {"sigmoid": path, "silero_vad": path} of the real models
  convert MODEL.onnx OUT_DIR  convert to ORT format with onnxruntime's own tool; prints the .ort path
  deformconv OUT.onnx         write a one-node DeformConv(19) model: ONNX Runtime 1.21 has no CPU
                              kernel for it, so every runtime refuses it with "Could not find an
                              implementation for DeformConv(19) node with name 'deform_node'"
  reference MODEL INPUTS.json OUT.json
                              run MODEL in Python onnxruntime 1.21.0 with the harness-format
                              inputs ({name: {type, dims, data}}) and write outputs the same way
  compare PAIRS.json OUT.json run both models of each pair ([{"id", "a", "b"}]) on the same
                              seeded inputs made from a's signature; write {id: {"a": error or
                              null, "b": error or null, "max_diff": largest absolute difference}}
"""
import contextlib
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

NP_TYPES = {
    "float32": np.float32, "float64": np.float64, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "bool": np.bool_,
}
TYPE_NAMES = {np.dtype(v).name: k for k, v in NP_TYPES.items()}


def locate():
    ort_dir = os.path.dirname(ort.__file__)
    spec = importlib.util.find_spec("silero_vad")  # does not import it (it needs torch)
    silero_dir = os.path.dirname(spec.origin) if spec and spec.origin else None
    print(json.dumps({
        "onnxruntime_version": ort.__version__,
        "sigmoid": os.path.join(ort_dir, "datasets", "sigmoid.onnx"),
        "silero_vad": os.path.join(silero_dir, "data", "silero_vad.onnx") if silero_dir else None,
    }))


def convert(model, out_dir):
    subprocess.run(
        [sys.executable, "-m", "onnxruntime.tools.convert_onnx_models_to_ort",
         model, "--output_dir", out_dir, "--optimization_style", "Fixed"],
        check=True, stdout=subprocess.DEVNULL)
    stem = os.path.splitext(os.path.basename(model))[0]
    print(os.path.join(out_dir, stem + ".ort"))


def optimize(model, level, out):
    """ONNX Runtime's own graph optimization of `model` at `level` (basic or extended; no
    platform-specific layouts), saved as an .ort file at `out`."""
    so = ort.SessionOptions()
    so.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    }[level]
    so.optimized_model_filepath = out
    so.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    print(out)


def deformconv(out):
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("DeformConv", ["X", "W", "offset"], ["Y"], name="deform_node", kernel_shape=[1, 1])
    graph = helper.make_graph(
        [node], "deform",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, 2, 2]),
         helper.make_tensor_value_info("W", TensorProto.FLOAT, [1, 1, 1, 1]),
         helper.make_tensor_value_info("offset", TensorProto.FLOAT, [1, 2, 2, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 1, 2, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    onnx.checker.check_model(model)
    onnx.save(model, out)


def value(v):
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def reference(model, inputs_path, out_path):
    with open(inputs_path) as f:
        inputs = json.load(f)
    feeds = {}
    for name, t in inputs.items():
        data = [float(x) if isinstance(x, str) else x for x in t["data"]]
        feeds[name] = np.array(data, dtype=NP_TYPES[t["type"]]).reshape(t["dims"])
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, feeds)
    result = {}
    for name, arr in zip(names, outs):
        arr = np.asarray(arr)
        result[name] = {
            "type": TYPE_NAMES.get(arr.dtype.name, arr.dtype.name),
            "dims": list(arr.shape),
            "data": [value(v) for v in arr.reshape(-1)],
        }
    with open(out_path, "w") as f:
        json.dump({"outputs": result}, f)


def vad(model, audio_path, out_path):
    """silero VAD over a 16 kHz recording the way silero's own streaming wrapper runs it:
    512-sample chunks, each preceded by the previous chunk's last 64 samples, state carried."""
    with open(audio_path) as f:
        audio = np.array(json.load(f), dtype=np.float32)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros(64, dtype=np.float32)
    sr = np.array(16000, dtype=np.int64)
    probabilities = []
    for start in range(0, len(audio) - 511, 512):
        chunk = audio[start:start + 512]
        x = np.concatenate([context, chunk])[None, :]
        out, state = sess.run(["output", "stateN"], {"input": x, "state": state, "sr": sr})
        probabilities.append(float(out.reshape(-1)[0]))
        context = chunk[-64:]
    with open(out_path, "w") as f:
        json.dump(probabilities, f)


ELEM_TYPES = {
    "float": np.float32, "double": np.float64, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "bool": np.bool_,
}


def synthesize(type_str, shape, rng):
    """A seeded input for a model input of type `type_str` (onnxruntime's spelling)."""
    if type_str.startswith("seq(") and type_str.endswith(")"):
        return [synthesize(type_str[4:-1], [3], rng) for _ in range(2)]
    elem = type_str[len("tensor("):-1] if type_str.startswith("tensor(") else None
    if elem not in ELEM_TYPES:
        raise ValueError(f"cannot make an input of type {type_str}")
    dims = [d if isinstance(d, int) and d > 0 else 2 for d in (shape or [])]
    dtype = ELEM_TYPES[elem]
    if dtype == np.bool_:
        return rng.random(dims) > 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 2, dims).astype(dtype)
    return rng.standard_normal(dims).astype(dtype)


def largest_difference(x, y):
    if isinstance(x, list):
        return max([largest_difference(p, q) for p, q in zip(x, y)] + [0.0])
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.dtype != y.dtype:
        return float("inf")
    if x.size == 0:
        return 0.0
    if x.dtype.kind in "fc":
        same = (x == y) | (np.isnan(x) & np.isnan(y))
        return float(np.where(same, 0, np.abs(x.astype(np.float64) - y.astype(np.float64))).max())
    return 0.0 if np.array_equal(x, y) else float("inf")


def compare(pairs_path, out_path):
    with open(pairs_path) as f:
        pairs = json.load(f)
    results = {}
    for pair in pairs:
        rng = np.random.default_rng(0)
        outcome = {"a": None, "b": None, "max_diff": None}
        try:
            a = ort.InferenceSession(pair["a"], providers=["CPUExecutionProvider"])
            feeds = {i.name: synthesize(i.type, i.shape, rng) for i in a.get_inputs()}
        except Exception as e:  # noqa: BLE001 (reported to the test)
            outcome["a"] = f"{type(e).__name__}: {e}"
            results[pair["id"]] = outcome
            continue
        runs = {}
        for side in ("a", "b"):
            try:
                sess = ort.InferenceSession(pair[side], providers=["CPUExecutionProvider"])
                runs[side] = sess.run(None, feeds)
            except Exception as e:  # noqa: BLE001
                outcome[side] = f"{type(e).__name__}: {e}"
        if "a" in runs and "b" in runs:
            outcome["max_diff"] = max(
                [largest_difference(x, y) for x, y in zip(runs["a"], runs["b"])] + [0.0])
        results[pair["id"]] = outcome
    with open(out_path, "w") as f:
        json.dump(results, f)


def optimize_all(models_path, level):
    with open(models_path) as f:
        models = json.load(f)
    errors = {}
    for model_id, (model, out) in models.items():
        try:
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                optimize(model, level, out)
            errors[model_id] = None
        except Exception as e:  # noqa: BLE001 (reported to the caller)
            errors[model_id] = f"{type(e).__name__}: {e}"
    print(json.dumps(errors))


def graph_nodes(graph, kinds):
    """Nodes of an ORT-format graph and its subgraphs; adds each node's "domain:op" to kinds."""
    count = 0
    for i in range(graph.NodesLength()):
        node = graph.Nodes(i)
        count += 1
        kinds.add(f"{(node.Domain() or b'ai.onnx').decode()}:{node.OpType().decode()}")
        for j in range(node.AttributesLength()):
            attr = node.Attributes(j)
            if attr.G() is not None:
                count += graph_nodes(attr.G(), kinds)
            for k in range(attr.GraphsLength()):
                count += graph_nodes(attr.Graphs(k), kinds)
    return count


def count(models_path, out_path):
    from onnxruntime.tools.ort_format_model.ort_flatbuffers_py.fbs import InferenceSession
    with open(models_path) as f:
        models = json.load(f)
    results = {}
    for model_id, path in models.items():
        with open(path, "rb") as f:
            session = InferenceSession.InferenceSession.GetRootAs(f.read(), 0)
        kinds = set()
        nodes = graph_nodes(session.Model().Graph(), kinds)
        results[model_id] = {"nodes": nodes, "kinds": sorted(kinds)}
    with open(out_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"locate": locate, "convert": convert, "reference": reference, "deformconv": deformconv, "vad": vad,
     "compare": compare, "optimize": optimize, "optimize-all": optimize_all, "count": count}[cmd](*args)
