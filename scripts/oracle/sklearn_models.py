#!/usr/bin/env python3
"""Real scikit-learn models converted with skl2onnx, for tests (never used by the product).

`make(dest)` trains small models on the iris data set with fixed seeds, converts them with
skl2onnx (target opset: ai.onnx 17, ai.onnx.ml 3; ZipMap off, so every output is a tensor) and
returns [(name, path)]. As a script: `sklearn_models.py DEST` prints that list as JSON.
"""
import json
import pathlib
import sys


def make(dest):
    import numpy as np
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    models = [
        ("iris_scaler_logreg", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),
        ("iris_svc", SVC(kernel="rbf", C=2.0, gamma=0.5)),
    ]
    out = []
    for name, model in models:
        model.fit(x, y)
        onx = convert_sklearn(
            model,
            initial_types=[("input", FloatTensorType([None, 4]))],
            target_opset={"": 17, "ai.onnx.ml": 3},
            options={id(model): {"zipmap": False}},
        )
        path = dest / f"{name}.onnx"
        path.write_bytes(onx.SerializeToString())
        out.append((name, str(path)))
    return out


if __name__ == "__main__":
    print(json.dumps(make(sys.argv[1])))
