#!/usr/bin/env python3
"""Oracle for the native ONNX -> ORT converter (`ort-compact convert`).

For every model of the corpus, convert it with the given converter binary, run the original
`.onnx` and the converted `.ort` in Python onnxruntime 1.21.0 on the same inputs, and compare.

Corpus (select with --corpus, comma separated):
  datasets  onnxruntime's bundled datasets/*.onnx
  silero    silero-vad's .onnx files (site-packages/silero_vad/data)
  sklearn   a few scikit-learn models converted with skl2onnx (generated into --work)
  contrib   small models using com.microsoft operators (generated into --work)
  functions ONNX function ops without an ORT CPU kernel that the node tests lack (generated)
  local     models calling model-local functions (generated into --work; ORT inlines them)
  node      ONNX backend node tests (/usr/share/libonnx-testdata/data/node/*/model.onnx with
            test_data_set_0 inputs and expected outputs)

A model "passes from .onnx" when its .onnx loads and runs (and, where the corpus has expected
outputs, matches them within rtol 1e-3 / atol 1e-5, the backend tests' tolerance). It "passes
from .ort" when it passes from .onnx and the converted .ort loads, runs and gives the same
outputs as the .onnx within 1e-5 relative. The summary (JSON) goes to --json; one line per
failure goes to stdout.

With --structure, each converted model is also compared with the .ort that onnxruntime itself
writes for the .onnx with graph optimizations disabled (what ORT's own converter does with
ORT_CONVERT_ONNX_MODELS_TO_ORT_OPTIMIZATION_LEVEL=disable): per node op type, domain,
since-version, inputs, outputs, input arg counts, implicit inputs and attribute names (including
filled-in defaults); every value's element type; initializer names; graph inputs/outputs; and
the kernel-type-string resolver table. Shapes (ORT infers them, the converter keeps declared
ones), orderings and the names chosen for expanded functions are not compared.

Usage: compare_ort.py --converter BIN --work DIR [--json OUT] [--corpus LIST] [--filter SUBSTR]
"""

import argparse
import glob
import importlib.util
import json
import os
import subprocess
import sys
import traceback

import collections

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

# The shared scikit-learn model definitions live next to this script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklearn_models  # noqa: E402

NODE_TESTS = "/usr/share/libonnx-testdata/data/node"
REL_TOL = 1e-5
ABS_FLOOR = 1e-6  # absolute slack for values near zero


def site_dir(package):
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


# ---- corpus -------------------------------------------------------------------------------


def corpus_datasets():
    d = os.path.join(os.path.dirname(ort.__file__), "datasets")
    return [
        {"name": "datasets/" + os.path.basename(p)[:-5], "onnx": p}
        for p in sorted(glob.glob(os.path.join(d, "*.onnx")))
    ]


def corpus_silero():
    d = site_dir("silero_vad")
    if d is None:
        return []
    out = []
    for p in sorted(glob.glob(os.path.join(d, "data", "*.onnx"))):
        rng = np.random.RandomState(0)
        feeds = {
            "input": rng.randn(1, 512).astype(np.float32),
            "state": np.zeros((2, 1, 128), np.float32),
            "sr": np.array(16000, dtype=np.int64),
        }
        out.append({"name": "silero/" + os.path.basename(p)[:-5], "onnx": p, "feeds": feeds})
    return out


def corpus_sklearn(work):
    out = []
    models = sklearn_models.write_set(
        "convert_oracle", os.path.join(work, "sklearn"), skip_unconvertible=True)
    for name, path, x in models:
        out.append({"name": "sklearn/" + name, "onnx": str(path), "feeds": {"X": x[:10]}})
    return out


def corpus_functions(work):
    from onnx import helper, numpy_helper as nh, TensorProto
    out_dir = os.path.join(work, "functions")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.RandomState(0)
    out = []
    for opset, groups, shape, affine in [(21, 2, [2, 4, 3, 3], 4), (21, 4, [1, 8, 5], 8),
                                         (18, 2, [2, 4, 3, 3], 2)]:
        name = f"group_norm{opset}_g{groups}_r{len(shape)}"
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
        inits = [nh.from_array(rng.randn(affine).astype(np.float32), "scale"),
                 nh.from_array(rng.randn(affine).astype(np.float32), "bias")]
        node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"],
                                num_groups=groups, epsilon=1e-3)
        graph = helper.make_graph([node], name, [x],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
                                  initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        path = os.path.join(out_dir, name + ".onnx")
        onnx.save(model, path)
        out.append({"name": "functions/" + name, "onnx": path})
    return out


def corpus_local(work):
    from onnx import helper, TensorProto
    out_dir = os.path.join(work, "local")
    os.makedirs(out_dir, exist_ok=True)
    fn = helper.make_function(
        "local.fns", "AddLeaky", ["a", "b"], ["c"],
        [helper.make_node("Add", ["a", "b"], ["s"]),
         helper.make_node("LeakyRelu", ["s"], ["c"])],
        opset_imports=[helper.make_opsetid("", 17)], attributes=["alpha"])
    # LeakyRelu's alpha comes from the function attribute (a reference).
    leaky = fn.node[1]
    ref = onnx.AttributeProto()
    ref.name = "alpha"
    ref.ref_attr_name = "alpha"
    ref.type = onnx.AttributeProto.FLOAT
    leaky.attribute.append(ref)
    graph = helper.make_graph(
        [helper.make_node("AddLeaky", ["x", "y"], ["t"], domain="local.fns", alpha=0.25),
         helper.make_node("AddLeaky", ["t", "x"], ["z"], domain="local.fns", alpha=0.5)],
        "local_fn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, functions=[fn], opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("local.fns", 1)])
    model.ir_version = 8
    path = os.path.join(out_dir, "add_leaky.onnx")
    onnx.save(model, path)
    return [{"name": "local/add_leaky", "onnx": path}]


def corpus_contrib(work):
    from onnx import helper, numpy_helper as nh, TensorProto
    out_dir = os.path.join(work, "contrib")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.RandomState(0)
    f = TensorProto.FLOAT
    x = helper.make_tensor_value_info("x", f, [2, 4, 8])
    cases = {
        "gelu": ([helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft")], []),
        "fast_gelu_bias": ([helper.make_node("FastGelu", ["x", "b"], ["y"],
                                             domain="com.microsoft")],
                           [nh.from_array(rng.randn(8).astype(np.float32), "b")]),
        "fused_matmul": ([helper.make_node("FusedMatMul", ["x", "w"], ["y"], domain="com.microsoft",
                                           alpha=0.5, transB=1)],
                         [nh.from_array(rng.randn(3, 8).astype(np.float32), "w")]),
        "skip_layer_norm": ([helper.make_node("SkipLayerNormalization", ["x", "s", "g", "beta"],
                                              ["y"], domain="com.microsoft", epsilon=1e-5)],
                            [nh.from_array(rng.randn(2, 4, 8).astype(np.float32), "s"),
                             nh.from_array(rng.randn(8).astype(np.float32), "g"),
                             nh.from_array(rng.randn(8).astype(np.float32), "beta")]),
        "quick_gelu_then_add": ([helper.make_node("QuickGelu", ["x"], ["q"], domain="com.microsoft",
                                                  alpha=1.702),
                                 helper.make_node("Add", ["q", "x"], ["y"])], []),
    }
    out = []
    for name, (nodes, inits) in cases.items():
        graph = helper.make_graph(nodes, name, [x], [helper.make_tensor_value_info("y", f, None)],
                                  initializer=inits)
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        model.ir_version = 8
        path = os.path.join(out_dir, name + ".onnx")
        onnx.save(model, path)
        out.append({"name": "contrib/" + name, "onnx": path})
    return out


def corpus_node():
    out = []
    for d in sorted(glob.glob(os.path.join(NODE_TESTS, "*"))):
        model = os.path.join(d, "model.onnx")
        if not os.path.exists(model):
            continue
        data = os.path.join(d, "test_data_set_0")
        out.append({
            "name": "node/" + os.path.basename(d),
            "onnx": model,
            "inputs": sorted(glob.glob(os.path.join(data, "input_*.pb")), key=pb_index),
            "outputs": sorted(glob.glob(os.path.join(data, "output_*.pb")), key=pb_index),
        })
    return out


def pb_index(path):
    try:
        return int(os.path.basename(path).split("_")[1].split(".")[0])
    except (IndexError, ValueError):
        return 0


# ---- values ---------------------------------------------------------------------------------


def load_pb(path, type_proto):
    with open(path, "rb") as f:
        data = f.read()
    which = type_proto.WhichOneof("value") if type_proto is not None else "tensor_type"
    if which == "sequence_type":
        p = onnx.SequenceProto()
        p.ParseFromString(data)
        return numpy_helper.to_list(p)
    if which == "optional_type":
        p = onnx.OptionalProto()
        p.ParseFromString(data)
        return numpy_helper.to_optional(p)
    if which == "map_type":
        p = onnx.MapProto()
        p.ParseFromString(data)
        return numpy_helper.to_dict(p)
    p = onnx.TensorProto()
    p.ParseFromString(data)
    return numpy_helper.to_array(p)


def synthetic_feeds(session, model_path):
    rng = np.random.RandomState(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) and d >= 0 else 1 for d in (i.shape or [])]
        t = i.type
        if t == "tensor(float)":
            v = rng.randn(*shape).astype(np.float32)
        elif t == "tensor(double)":
            v = rng.randn(*shape).astype(np.float64)
        elif t == "tensor(float16)":
            v = rng.randn(*shape).astype(np.float16)
        elif t in ("tensor(int64)", "tensor(int32)", "tensor(int8)", "tensor(uint8)"):
            v = rng.randint(0, 3, size=shape).astype(t[7:-1])
        elif t == "tensor(bool)":
            v = rng.randint(0, 2, size=shape).astype(bool)
        elif t == "tensor(string)":
            v = np.array(["a"] * int(np.prod(shape)), dtype=object).reshape(shape)
        else:
            raise RuntimeError(f"no synthetic input for {i.name} of type {t} in {model_path}")
        feeds[i.name] = v
    return feeds


def close(a, b, rel, abs_tol):
    """Recursive comparison of outputs (arrays, lists, dicts, None)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            close(a[k], b[k], rel, abs_tol) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(
            close(x, y, rel, abs_tol) for x, y in zip(a, b))
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        a = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
        b = b.astype(np.complex128 if b.dtype.kind == "c" else np.float64)
        both_nan = np.isnan(a) & np.isnan(b)
        ok = np.abs(a - b) <= abs_tol + rel * np.maximum(np.abs(a), np.abs(b))
        return bool(np.all(ok | both_nan | (a == b)))
    return bool(np.array_equal(a, b))


def session(path, ort_format):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if ort_format:
        opts.add_session_config_entry("session.load_model_format", "ORT")
    return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])


# ---- structure -------------------------------------------------------------------------------


def fbs_modules():
    base = os.path.join(os.path.dirname(ort.__file__), "tools", "ort_format_model")
    if base not in sys.path:
        sys.path.insert(0, base)
    from ort_flatbuffers_py.fbs.InferenceSession import InferenceSession
    from ort_flatbuffers_py.fbs.TensorTypeAndShape import TensorTypeAndShape
    return InferenceSession, TensorTypeAndShape


def text(x):
    return x.decode() if isinstance(x, bytes) else x


def structure(path):
    """The comparable facts of an .ort file."""
    inference_session, tensor_type = fbs_modules()
    with open(path, "rb") as f:
        data = f.read()
    sess = inference_session.GetRootAsInferenceSession(data, 0)
    out = collections.defaultdict(dict)

    def graph(g, prefix):
        for i in range(g.NodeArgsLength()):
            a = g.NodeArgs(i)
            t = a.Type()
            desc = None
            if t is not None:
                desc = int(t.ValueType())
                if desc == 1:
                    tt = tensor_type()
                    tt.Init(t.Value().Bytes, t.Value().Pos)
                    desc = ("tensor", tt.ElemType())
            out["values"][prefix + text(a.Name())] = desc
        out["inputs"][prefix] = [text(g.Inputs(i)) for i in range(g.InputsLength())]
        out["outputs"][prefix] = [text(g.Outputs(i)) for i in range(g.OutputsLength())]
        out["initializers"][prefix] = sorted(
            text(g.Initializers(i).Name()) for i in range(g.InitializersLength()))
        for i in range(g.NodesLength()):
            n = g.Nodes(i)
            outputs = tuple(text(n.Outputs(k)) for k in range(n.OutputsLength()))
            counts = n.InputArgCountsAsNumpy().tolist() if n.InputArgCountsLength() else []
            out["nodes"][(prefix, outputs)] = (
                text(n.OpType()), text(n.Domain()), n.SinceVersion(),
                tuple(text(n.Inputs(k)) for k in range(n.InputsLength())), tuple(counts),
                tuple(sorted(text(n.ImplicitInputs(k)) for k in range(n.ImplicitInputsLength()))),
                tuple(sorted(text(n.Attributes(k).Name()) for k in range(n.AttributesLength()))))
            for k in range(n.AttributesLength()):
                a = n.Attributes(k)
                if a.G() is not None:
                    graph(a.G(), prefix + "/".join(outputs) + ":" + text(a.Name()) + "/")

    graph(sess.Model().Graph(), "")
    r = sess.KernelTypeStrResolver()
    for i in range(r.OpKernelTypeStrArgsLength()):
        e = r.OpKernelTypeStrArgs(i)
        entry = {}
        for k in range(e.KernelTypeStrArgsLength()):
            kts = e.KernelTypeStrArgs(k)
            entry[text(kts.KernelTypeStr())] = [
                (kts.Args(j).ArgType(), kts.Args(j).Index()) for j in range(kts.ArgsLength())]
        out["resolver"][text(e.OpId())] = entry
    return out


def ort_reference(onnx_path, out_path):
    """The .ort onnxruntime writes for a model with graph optimizations disabled."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.optimized_model_filepath = out_path
    opts.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(onnx_path, sess_options=opts, providers=["CPUExecutionProvider"])


def compare_structure(case, ours, work):
    """None when equal (or no reference could be made), else the differing parts."""
    ref = os.path.join(work, "ref", case["name"].replace("/", "__") + ".ort")
    os.makedirs(os.path.dirname(ref), exist_ok=True)
    try:
        ort_reference(case["onnx"], ref)
    except Exception:  # noqa: BLE001 - onnxruntime cannot save this one: nothing to compare
        return None
    a = structure(ref)
    b = structure(ours)
    diff = [k for k in ("nodes", "values", "initializers", "inputs", "outputs", "resolver")
            if a[k] != b[k]]
    return ", ".join(diff) if diff else None


def run_case(case, converter, work):
    """Returns (onnx_ok, ort_ok, detail)."""
    name = case["name"]
    # .onnx side
    try:
        model = onnx.load(case["onnx"], load_external_data=False)
        graph_inputs = {i.name: i.type for i in model.graph.input}
        s = session(case["onnx"], False)
        if "inputs" in case:
            names = [i.name for i in s.get_inputs()]
            feeds = {}
            declared = [i for i in model.graph.input]
            for k, pb in enumerate(case["inputs"]):
                if k >= len(declared):
                    break
                feeds[declared[k].name] = load_pb(pb, graph_inputs.get(declared[k].name))
            feeds = {k: v for k, v in feeds.items() if k in names}
        elif "feeds" in case:
            names = {i.name for i in s.get_inputs()}
            feeds = {k: v for k, v in case["feeds"].items() if k in names}
        else:
            feeds = synthetic_feeds(s, case["onnx"])
        ref = s.run(None, feeds)
        if case.get("outputs"):
            out_types = [o.type for o in model.graph.output]
            for k, pb in enumerate(case["outputs"]):
                if k >= len(ref):
                    break
                expected = load_pb(pb, out_types[k] if k < len(out_types) else None)
                if not close(ref[k], expected, 1e-3, 1e-5):
                    return False, False, "onnx output differs from expected"
    except Exception as e:  # noqa: BLE001 - any failure means "does not pass from .onnx"
        return False, False, "onnx: " + str(e).splitlines()[0][:200]

    # conversion
    out_path = os.path.join(work, "ort", name.replace("/", "__") + ".ort")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    proc = subprocess.run([converter, "convert", case["onnx"], "-o", out_path,
                           "--graph-optimization", "none"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return True, False, "convert: " + proc.stderr.strip().splitlines()[0][:1000]

    # .ort side
    try:
        got = session(out_path, True).run(None, feeds)
    except Exception as e:  # noqa: BLE001
        return True, False, "ort: " + str(e).splitlines()[0][:300]
    if len(got) != len(ref):
        return True, False, "ort: output count differs"
    for k, (a, b) in enumerate(zip(ref, got)):
        if not close(a, b, REL_TOL, ABS_FLOOR):
            return True, False, f"ort: output {k} differs from the .onnx result"
    return True, True, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--converter", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--json")
    ap.add_argument("--corpus", default="datasets,silero,sklearn,contrib,functions,local,node")
    ap.add_argument("--filter", default="")
    ap.add_argument("--structure", action="store_true",
                    help="also compare with the .ort onnxruntime writes (optimizations off)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    ort.set_default_logger_severity(3)

    cases = []
    wanted = set(args.corpus.split(","))
    if "datasets" in wanted:
        cases += corpus_datasets()
    if "silero" in wanted:
        cases += corpus_silero()
    if "sklearn" in wanted:
        cases += corpus_sklearn(args.work)
    if "contrib" in wanted:
        cases += corpus_contrib(args.work)
    if "functions" in wanted:
        cases += corpus_functions(args.work)
    if "local" in wanted:
        cases += corpus_local(args.work)
    if "node" in wanted:
        cases += corpus_node()
    cases = [c for c in cases if args.filter in c["name"]]

    summary = {"total": len(cases), "onnx_pass": 0, "ort_pass": 0, "failures": {},
               "by_corpus": {}, "structure_compared": 0, "structure_identical": 0,
               "structure_differences": {}}
    for case in cases:
        try:
            onnx_ok, ort_ok, detail = run_case(case, args.converter, args.work)
        except Exception:  # noqa: BLE001
            onnx_ok, ort_ok, detail = False, False, "driver: " + traceback.format_exc(limit=1)
        corpus = case["name"].split("/")[0]
        c = summary["by_corpus"].setdefault(corpus, {"total": 0, "onnx_pass": 0, "ort_pass": 0})
        c["total"] += 1
        summary["onnx_pass"] += onnx_ok
        summary["ort_pass"] += ort_ok
        c["onnx_pass"] += onnx_ok
        c["ort_pass"] += ort_ok
        if onnx_ok and not ort_ok:
            summary["failures"][case["name"]] = detail
            print(f"FAIL {case['name']}: {detail}")
        ours = os.path.join(args.work, "ort", case["name"].replace("/", "__") + ".ort")
        if args.structure and ort_ok and os.path.exists(ours):
            diff = compare_structure(case, ours, args.work)
            summary["structure_compared"] += 1
            if diff is None:
                summary["structure_identical"] += 1
            else:
                summary["structure_differences"][case["name"]] = diff
    print(f"total {summary['total']}: pass from .onnx {summary['onnx_pass']}, "
          f"pass from .ort {summary['ort_pass']}")
    if args.structure:
        print(f"structure: {summary['structure_identical']} of "
              f"{summary['structure_compared']} identical to onnxruntime's own .ort")
    for corpus, c in summary["by_corpus"].items():
        print(f"  {corpus}: {c['total']} models, .onnx {c['onnx_pass']}, .ort {c['ort_pass']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
