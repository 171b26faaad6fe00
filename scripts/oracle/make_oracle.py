#!/usr/bin/env python3
"""Make oracle data for ort-compact-build's operator analysis with ONNX Runtime 1.21.0.

For every model of the corpus, this converts the .onnx model with ORT's own tool
(`onnxruntime.tools.convert_onnx_models_to_ort`, Fixed optimization style, default level) and
keeps what the tool writes: `model.ort` and `model.required_operators.config`; the type-reduced
config (`model.required_operators_and_types.config`) comes from the tool's own
`create_config_from_models(..., enable_type_reduction=True)` on the same `.ort`, which is what
`--enable_type_reduction` runs.

Corpus: silero-vad's .onnx files, onnxruntime's `datasets/*.onnx`, three scikit-learn models
converted with skl2onnx (iris LogisticRegression, RandomForest, StandardScaler+LogisticRegression
pipeline) and the Debian libonnx-testdata models (node, simple, pytorch-converted,
pytorch-operator).

Output (default ~/.cache/ort-compact-build/oracle, or $ORT_COMPACT_ORACLE_DIR, or --out):
    <out>/<corpus>/<name>/model.onnx, model.ort, model.required_operators.config,
    model.required_operators_and_types.config, status.json
    <out>/manifest.json   (written last; its presence means the data is complete)

Models are converted in worker subprocesses, so a model that crashes ONNX Runtime is recorded
as failed instead of stopping the run. Models ORT cannot convert are recorded with the error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys

# The shared scikit-learn model definitions live next to this script.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import sklearn_models  # noqa: E402

ORT_VERSION = "1.21.0"
ORACLE_FORMAT = 1
TESTDATA = pathlib.Path("/usr/share/libonnx-testdata/data")
TESTDATA_SETS = ["node", "simple", "pytorch-converted", "pytorch-operator"]


def default_out_dir() -> pathlib.Path:
    env = os.environ.get("ORT_COMPACT_ORACLE_DIR")
    if env:
        return pathlib.Path(env)
    return pathlib.Path.home() / ".cache" / "ort-compact-build" / "oracle"


def package_dir(name: str) -> pathlib.Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(list(spec.submodule_search_locations)[0])


def make_sklearn_models(dest: pathlib.Path) -> list[tuple[str, pathlib.Path]]:
    """Train three small iris models and convert them with skl2onnx (fixed opsets); a model
    file already in `dest` is kept."""
    return [(name, path) for name, path, _ in sklearn_models.write_set("ops_oracle", dest, reuse=True)]


def corpus(work: pathlib.Path) -> list[tuple[str, str, pathlib.Path]]:
    """(corpus, name, source .onnx) for every model."""
    items: list[tuple[str, str, pathlib.Path]] = []
    silero = package_dir("silero_vad")
    if silero is not None:
        for p in sorted((silero / "data").glob("*.onnx")):
            items.append(("silero-vad", p.stem, p))
    ort_dir = package_dir("onnxruntime")
    if ort_dir is not None:
        for p in sorted((ort_dir / "datasets").glob("*.onnx")):
            items.append(("ort-datasets", p.stem, p))
    try:
        for name, p in make_sklearn_models(work / "sklearn-src"):
            items.append(("sklearn", name, p))
    except ImportError as e:
        print(f"warning: scikit-learn models skipped: {e}", file=sys.stderr)
    for subset in TESTDATA_SETS:
        base = TESTDATA / subset
        if base.is_dir():
            for p in sorted(base.glob("*/model.onnx")):
                items.append((f"testdata-{subset}", p.parent.name, p))
    return items


def convert_one(model_dir: pathlib.Path) -> dict:
    """Convert model_dir/model.onnx with ORT's tool; write configs; return the status."""
    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort
    from onnxruntime.tools.ort_format_model.utils import create_config_from_models

    onnx_path = model_dir / "model.onnx"
    ort_path = model_dir / "model.ort"
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            convert_onnx_models_to_ort(
                onnx_path,
                output_dir=model_dir,
                optimization_styles=[OptimizationStyle.Fixed],
                enable_type_reduction=False,
            )
            if not ort_path.is_file():
                raise RuntimeError("the tool wrote no .ort file")
            create_config_from_models(
                [ort_path], model_dir / "model.required_operators_and_types.config", True
            )
        return {"ok": True}
    except Exception as e:  # noqa: BLE001 - any failure is recorded as the model's status
        for p in model_dir.glob("model.*"):
            if p.name != "model.onnx":
                p.unlink()
        return {"ok": False, "error": f"{type(e).__name__}: {e}".strip()[:2000]}


def worker(list_file: pathlib.Path) -> None:
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    for line in list_file.read_text().splitlines():
        model_dir = pathlib.Path(line)
        status_path = model_dir / "status.json"
        if status_path.exists():
            continue
        (model_dir / "in_progress").write_text("")
        status = convert_one(model_dir)
        status_path.write_text(json.dumps(status))
        (model_dir / "in_progress").unlink()


def run(out: pathlib.Path, jobs: int) -> int:
    import onnxruntime as ort

    if ort.__version__ != ORT_VERSION:
        print(f"error: onnxruntime {ORT_VERSION} is required, found {ort.__version__}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest_path.unlink()
    items = corpus(out / "_work")
    dirs = []
    for corpus_name, name, src in items:
        d = out / corpus_name / name
        d.mkdir(parents=True, exist_ok=True)
        dst = d / "model.onnx"
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
            for p in d.iterdir():
                if p.name != "model.onnx":
                    p.unlink()
        # A model that crashed a worker earlier is recorded as a crash.
        if (d / "in_progress").exists():
            (d / "status.json").write_text(json.dumps({"ok": False, "error": "onnxruntime crashed"}))
            (d / "in_progress").unlink()
        dirs.append(d)

    while True:
        todo = [d for d in dirs if not (d / "status.json").exists()]
        if not todo:
            break
        chunks = [todo[i::jobs] for i in range(jobs)]
        procs = []
        for n, chunk in enumerate(c for c in chunks if c):
            lf = out / f"_work/list{n}.txt"
            lf.parent.mkdir(parents=True, exist_ok=True)
            lf.write_text("\n".join(str(d) for d in chunk))
            procs.append(subprocess.Popen([sys.executable, __file__, "--worker", str(lf)]))
        for p in procs:
            p.wait()
        for d in todo:
            if (d / "in_progress").exists():
                (d / "status.json").write_text(json.dumps({"ok": False, "error": "onnxruntime crashed"}))
                (d / "in_progress").unlink()

    entries = []
    for (corpus_name, name, src), d in zip(items, dirs):
        status = json.loads((d / "status.json").read_text())
        entries.append({"corpus": corpus_name, "name": name, "source": str(src), "dir": str(d.relative_to(out)), **status})
    ok = sum(1 for e in entries if e["ok"])
    manifest = {
        "format": ORACLE_FORMAT,
        "onnxruntime": ort.__version__,
        "models": entries,
        "converted": ok,
        "failed": len(entries) - ok,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1))
    print(f"oracle: {ok} of {len(entries)} models converted by onnxruntime {ort.__version__} into {out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=None, help="output directory")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--worker", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return 0
    return run((args.out or default_out_dir()).resolve(), max(1, args.jobs))


if __name__ == "__main__":
    sys.exit(main())
