#!/usr/bin/env python3
"""Real scikit-learn models converted with skl2onnx, for tests (never used by the product).

Every test's scikit-learn models are defined here, as named sets (`estimators(which)`):
  runtime         e2e_runtime test and runtime bench: iris StandardScaler+LogisticRegression
                  pipeline and RBF SVC, input "input" [N, 4], ZipMap off (every output a tensor)
  ops_oracle      make_oracle.py: iris LogisticRegression, RandomForest, StandardScaler +
                  LogisticRegression pipeline (skl2onnx defaults)
  convert_oracle  compare_ort.py: classifiers and regressors covering more ai.onnx.ml operators

`write_set(which, dest)` trains a set with fixed seeds and converts it (target opset: ai.onnx 17,
ai.onnx.ml 3). `make(dest)` writes the runtime set and returns [(name, path)]. As a script:
`sklearn_models.py DEST` prints that list as JSON.
"""
import json
import pathlib
import sys
import warnings

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
SETS = ("runtime", "ops_oracle", "convert_oracle")


def patch_bool_list_attributes():
    """skl2onnx 1.18 with numpy 2 passes lists of numpy bools for integer-list attributes
    (TreeEnsemble*), which onnx 1.17 rejects; pass them as integers, as older numpy did."""
    import onnx.helper

    original = onnx.helper.make_attribute
    if getattr(original, "_ort_compact_patched", False):
        return

    def make_attribute(key, value, *args, **kwargs):
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, bool) for v in value):
            value = [int(v) for v in value]
        return original(key, value, *args, **kwargs)

    make_attribute._ort_compact_patched = True
    onnx.helper.make_attribute = make_attribute


def _data():
    """Training data by key: iris (float32 features, int labels), iris with string labels, and a
    small float32 regression problem."""
    import numpy as np
    from sklearn.datasets import load_iris, make_regression

    x_cls, y_cls = load_iris(return_X_y=True)
    x_cls = x_cls.astype(np.float32)
    x_reg, y_reg = make_regression(n_samples=60, n_features=5, random_state=0)
    x_reg = x_reg.astype(np.float32)
    names = np.array(["setosa", "versicolor", "virginica"])[y_cls]
    return {
        "iris": (x_cls, y_cls),
        "iris_names": (x_cls, names),
        "regression": (x_reg, y_reg),
    }


def estimators(which):
    """The named set's models: [(name, unfitted estimator, data key, skl2onnx options)]."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, StandardScaler
    from sklearn.svm import SVC, LinearSVC
    from sklearn.tree import DecisionTreeRegressor

    def logreg():
        return LogisticRegression(max_iter=500)

    def forest():
        return RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)

    def scaler_logreg():
        return make_pipeline(StandardScaler(), logreg())

    if which == "runtime":
        no_zipmap = {"zipmap": False}
        return [
            ("iris_scaler_logreg", scaler_logreg(), "iris", no_zipmap),
            ("iris_svc", SVC(kernel="rbf", C=2.0, gamma=0.5), "iris", no_zipmap),
        ]
    if which == "ops_oracle":
        return [
            ("iris_logreg", logreg(), "iris", {}),
            ("iris_random_forest", forest(), "iris", {}),
            ("iris_scaler_logreg", scaler_logreg(), "iris", {}),
        ]
    if which == "convert_oracle":
        return [
            ("logreg", logreg(), "iris", {}),
            ("logreg_nozipmap", logreg(), "iris", {"zipmap": False}),
            ("logreg_string_labels", logreg(), "iris_names", {}),
            ("mlp", MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0), "iris", {}),
            ("knn", KNeighborsClassifier(n_neighbors=3), "iris", {}),
            ("pca_logreg", make_pipeline(StandardScaler(), PCA(n_components=2), logreg()), "iris", {}),
            ("normalizer_linearsvc", make_pipeline(Normalizer(), LinearSVC(random_state=0)), "iris", {}),
            ("forest", forest(), "iris", {}),
            ("scaler_svc", make_pipeline(StandardScaler(), SVC(probability=False)), "iris", {}),
            ("linreg", LinearRegression(), "regression", {}),
            ("tree_reg", DecisionTreeRegressor(max_depth=4, random_state=0), "regression", {}),
            ("gbr", GradientBoostingRegressor(n_estimators=5, random_state=0), "regression", {}),
        ]
    raise ValueError(f"unknown model set {which!r}; sets: {', '.join(SETS)}")


def convert(estimator, x, options=None, input_name=None):
    """A fitted estimator as an ONNX model. The input is named `input_name` with shape
    [None, features] when given, else skl2onnx's default (`X`, from `x[:1]`)."""
    from skl2onnx import convert_sklearn, to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    patch_bool_list_attributes()
    options = {id(estimator): options} if options else None
    if input_name is None:
        return to_onnx(estimator, x[:1], options=options, target_opset=TARGET_OPSET)
    return convert_sklearn(
        estimator,
        initial_types=[(input_name, FloatTensorType([None, x.shape[1]]))],
        target_opset=TARGET_OPSET,
        options=options,
    )


def write_set(which, dest, input_name=None, reuse=False, skip_unconvertible=False):
    """Trains and converts the named set into `dest/<name>.onnx`; returns [(name, path, x)]
    with `x` the training features. `reuse`: keep a model file that already exists.
    `skip_unconvertible`: leave out (with a note on stdout) models skl2onnx cannot convert."""
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    data = _data()
    out = []
    for name, estimator, key, options in estimators(which):
        x, y = data[key]
        path = dest / f"{name}.onnx"
        if not (reuse and path.exists()):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimator.fit(x, y)
            try:
                onx = convert(estimator, x, options, input_name)
            except (TypeError, ValueError, NameError, RuntimeError) as e:
                if not skip_unconvertible:
                    raise
                print(f"note: skl2onnx cannot convert {name}: {str(e).splitlines()[0][:100]}")
                continue
            path.write_bytes(onx.SerializeToString())
        out.append((name, path, x))
    return out


def make(dest):
    """The runtime set (input "input", ZipMap off) in `dest`: [(name, path)]."""
    return [(name, str(path)) for name, path, _ in write_set("runtime", dest, input_name="input")]


if __name__ == "__main__":
    print(json.dumps(make(sys.argv[1])))
