#!/usr/bin/python3
"""Builds Gantry's tree-model examples: MLflow model directories in the xgboost and
lightgbm flavors, laid out as MLflow 2.x saves them, and the predictions each
library makes for a few sample rows.

Run with Debian's interpreter (python3-xgboost 1.7, python3-sklearn) after one
Maven build of model-runner, which puts LightGBM's library (inside the
io.github.metarank:lightgbm4j jar) in ~/.m2:

    /usr/bin/python3 examples/mlflow-models/make_trees.py

Debian has no Python LightGBM, so the LightGBM models are trained here through
LightGBM's own C API (lib_lightgbm.so from the lightgbm4j jar, the library the
runner loads), with ctypes. Their reference answers come from an independent
evaluator in this script that walks the saved text-format trees with numpy; the
script checks that LightGBM's own predictions agree with it before writing them.

It writes, under examples/mlflow-models/:
  xgb-classifier/  XGBClassifier on sklearn's breast_cancer (30 columns, classes 0/1),
                   saved as JSON (model.json, model_format: json)
  xgb-regressor/   XGBRegressor on sklearn's diabetes (10 columns), saved as UBJSON
                   (model.ubj, model_format: ubj)
  xgb-booster/     a raw xgboost.Booster (multi:softprob) on iris (4 columns, 3 classes),
                   model.json; MLflow's pyfunc answers Booster.predict, i.e. probabilities
  lgb-multiclass/  a LightGBM Booster (objective multiclass) on iris, model.lgb
  lgb-binary/      a LightGBM Booster (objective binary) on breast_cancer, model.lgb;
                   MLflow's pyfunc answers Booster.predict, i.e. P(class 1) per row
  expected.json    per model: "columns", "rows" (inputs, float32 values written as
                   decimals that round-trip), and the library's answers for those rows:
                   "label", "probabilities", "predictions" as the model has them

and, as a test fixture, model-runner/src/test/resources/fixtures/xgb-legacy-binary/: the
classifier as MLflow's default model_format "xgb" saves it with XGBoost 1.7, in XGBoost's
legacy binary format, which XGBoost 3.1 and newer no longer read.

Inputs are cast to float32 before training and predicting, since the runner takes one
FP32 tensor; for XGBoost this changes nothing (it computes in float32), for LightGBM it
makes the thresholds split float32 values, so float32 requests see the same trees.
The output is byte-identical on every run.
"""
import ctypes
import glob
import json
import os
import zipfile

import numpy
import xgboost
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "model-runner", "src", "test", "resources", "fixtures")
MLFLOW_VERSION = "2.9.2"
PYTHON_VERSION = "3.11.2"
SAMPLE_ROWS = 12
SEED = 7

MLMODEL = """artifact_path: model
flavors:
{flavors}mlflow_version: {mlflow_version}
model_uuid: {uuid}
signature:
  inputs: '{inputs}'
  outputs: '{outputs}'
  params: null
utc_time_created: '2026-11-29 00:00:00.000000'
"""

PYFUNC = """  python_function:
    data: {data}
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.{module}
    python_version: {python_version}
"""

XGB_FLAVOR = """  xgboost:
    code: null
    data: {data}
    model_class: {model_class}
    model_format: {model_format}
    xgb_version: {version}
"""

LGB_FLAVOR = """  lightgbm:
    code: null
    data: {data}
    lgb_version: {version}
    model_class: lightgbm.basic.Booster
"""

PYTHON_ENV = """python: {python_version}
build_dependencies:
- pip
dependencies:
- -r requirements.txt
"""


def dataset(loader):
    data = loader()
    x = numpy.asarray(data.data, dtype=numpy.float32)
    names = [str(n) for n in data.feature_names]
    return x, numpy.asarray(data.target), names


def samples(x):
    rng = numpy.random.RandomState(SEED)
    return x[numpy.sort(rng.choice(len(x), SAMPLE_ROWS, replace=False))]


def columns_signature(names):
    return json.dumps([{"type": "double", "name": n, "required": True} for n in names])


def tensor_signature(dtype, shape):
    return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": shape}}])


def write_mlflow_dir(name, flavor, module, data, inputs, outputs, requirement):
    root = os.path.normpath(os.path.join(HERE, name))
    os.makedirs(root, exist_ok=True)
    pyfunc = PYFUNC.format(data=data, module=module, python_version=PYTHON_VERSION)
    # MLflow writes the MLmodel keys sorted
    flavors = flavor + pyfunc if module < "python_function" else pyfunc + flavor
    uuid = ("%032x" % (abs(hash_text(name)) % (1 << 128)))
    with open(os.path.join(root, "MLmodel"), "w") as f:
        f.write(MLMODEL.format(flavors=flavors, mlflow_version=MLFLOW_VERSION, uuid=uuid,
                               inputs=inputs, outputs=outputs))
    with open(os.path.join(root, "python_env.yaml"), "w") as f:
        f.write(PYTHON_ENV.format(python_version=PYTHON_VERSION))
    with open(os.path.join(root, "requirements.txt"), "w") as f:
        f.write("mlflow==%s\n%s\n" % (MLFLOW_VERSION, requirement))
    with open(os.path.join(root, "conda.yaml"), "w") as f:
        f.write("channels:\n- conda-forge\ndependencies:\n- python=%s\n- pip\n- pip:\n  - mlflow==%s\n  - %s\n"
                "name: mlflow-env\n" % (PYTHON_VERSION, MLFLOW_VERSION, requirement))
    return root


def hash_text(text):
    h = 1469598103934665603
    for c in text.encode():
        h = ((h ^ c) * 1099511628211) % (1 << 128)
    return h


def floats(a):
    """float32 values as the shortest decimals that read back as the same float32."""
    return [[float(repr(numpy.float32(v))) for v in row] for row in a]


def xgboost_models(expected):
    x, y, names = dataset(load_breast_cancer)
    clf = xgboost.XGBClassifier(n_estimators=20, max_depth=3, learning_rate=0.3, random_state=SEED)
    clf.fit(x, y)
    root = write_mlflow_dir("xgb-classifier", XGB_FLAVOR.format(
        data="model.json", model_class="xgboost.sklearn.XGBClassifier", model_format="json",
        version=xgboost.__version__), "xgboost", "model.json", columns_signature(names),
        tensor_signature("int64", [-1]), "xgboost==" + xgboost.__version__)
    clf.save_model(os.path.join(root, "model.json"))
    legacy = write_mlflow_dir(os.path.join(FIXTURES, "xgb-legacy-binary"), XGB_FLAVOR.format(
        data="model.xgb", model_class="xgboost.sklearn.XGBClassifier", model_format="xgb",
        version=xgboost.__version__), "xgboost", "model.xgb", columns_signature(names),
        tensor_signature("int64", [-1]), "xgboost==" + xgboost.__version__)
    clf.save_model(os.path.join(legacy, "model.xgb"))  # XGBoost 1.7 writes its legacy binary format here
    rows = samples(x)
    expected["xgb-classifier"] = {"columns": names, "rows": floats(rows),
                                  "label": clf.predict(rows).tolist(),
                                  "probabilities": clf.predict_proba(rows).tolist(),
                                  "classes": clf.classes_.tolist()}

    x, y, names = dataset(load_diabetes)
    reg = xgboost.XGBRegressor(n_estimators=30, max_depth=3, learning_rate=0.2, random_state=SEED)
    reg.fit(x, y)
    root = write_mlflow_dir("xgb-regressor", XGB_FLAVOR.format(
        data="model.ubj", model_class="xgboost.sklearn.XGBRegressor", model_format="ubj",
        version=xgboost.__version__), "xgboost", "model.ubj", columns_signature(names),
        tensor_signature("float32", [-1]), "xgboost==" + xgboost.__version__)
    reg.save_model(os.path.join(root, "model.ubj"))
    rows = samples(x)
    expected["xgb-regressor"] = {"columns": names, "rows": floats(rows), "predictions": reg.predict(rows).tolist()}

    x, y, names = dataset(load_iris)
    train = xgboost.DMatrix(x, label=y, feature_names=names)
    booster = xgboost.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2, "eta": 0.3,
                             "seed": SEED}, train, num_boost_round=10)
    root = write_mlflow_dir("xgb-booster", XGB_FLAVOR.format(
        data="model.json", model_class="xgboost.core.Booster", model_format="json",
        version=xgboost.__version__), "xgboost", "model.json", columns_signature(names),
        tensor_signature("float32", [-1, 3]), "xgboost==" + xgboost.__version__)
    booster.save_model(os.path.join(root, "model.json"))
    rows = samples(x)
    probabilities = booster.predict(xgboost.DMatrix(rows, feature_names=names))
    expected["xgb-booster"] = {"columns": names, "rows": floats(rows), "probabilities": probabilities.tolist(),
                               "label": probabilities.argmax(axis=1).tolist(), "classes": [0, 1, 2]}


class LightGbm:
    """The few LightGBM C API calls this script needs."""

    def __init__(self):
        jars = sorted(glob.glob(os.path.expanduser(
            "~/.m2/repository/io/github/metarank/lightgbm4j/*/lightgbm4j-*.jar")))
        if not jars:
            raise SystemExit("lightgbm4j is not in ~/.m2: build model-runner once (it depends on it)")
        self.version = os.path.basename(os.path.dirname(jars[-1])).split("-")[0]
        target = os.path.join("/tmp", "gantry-lightgbm-" + self.version)
        os.makedirs(target, exist_ok=True)
        with zipfile.ZipFile(jars[-1]) as jar:
            jar.extract("lightgbm4j/linux/x86_64/lib_lightgbm.so", target)
        self.lib = ctypes.CDLL(os.path.join(target, "lightgbm4j/linux/x86_64/lib_lightgbm.so"))
        self.lib.LGBM_GetLastError.restype = ctypes.c_char_p

    def call(self, name, *args):
        if getattr(self.lib, name)(*args) != 0:
            raise RuntimeError(name + ": " + self.lib.LGBM_GetLastError().decode())

    def train(self, x, y, names, params, rounds):
        x = numpy.ascontiguousarray(x, dtype=numpy.float32)
        dataset = ctypes.c_void_p()
        self.call("LGBM_DatasetCreateFromMat", x.ctypes.data_as(ctypes.c_void_p), 0, ctypes.c_int32(x.shape[0]),
                  ctypes.c_int32(x.shape[1]), 1, params.encode(), None, ctypes.byref(dataset))
        label = numpy.ascontiguousarray(y, dtype=numpy.float32)
        self.call("LGBM_DatasetSetField", dataset, b"label", label.ctypes.data_as(ctypes.c_void_p), len(label), 0)
        encoded = [n.replace(" ", "_").encode() for n in names]
        self.call("LGBM_DatasetSetFeatureNames", dataset, (ctypes.c_char_p * len(encoded))(*encoded), len(encoded))
        booster = ctypes.c_void_p()
        self.call("LGBM_BoosterCreate", dataset, params.encode(), ctypes.byref(booster))
        finished = ctypes.c_int()
        for _ in range(rounds):
            self.call("LGBM_BoosterUpdateOneIter", booster, ctypes.byref(finished))
        return booster, dataset

    def save(self, booster, path):
        self.call("LGBM_BoosterSaveModel", booster, 0, -1, 0, path.encode())

    def predict(self, booster, rows, width):
        rows = numpy.ascontiguousarray(rows, dtype=numpy.float32)
        out = numpy.zeros(rows.shape[0] * width, dtype=numpy.float64)
        length = ctypes.c_int64()
        self.call("LGBM_BoosterPredictForMat", booster, rows.ctypes.data_as(ctypes.c_void_p), 0,
                  ctypes.c_int32(rows.shape[0]), ctypes.c_int32(rows.shape[1]), 1, 0, 0, -1, b"",
                  ctypes.byref(length), out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
        assert length.value == out.size
        return out.reshape(rows.shape[0], width)

    def free(self, booster, dataset):
        self.call("LGBM_BoosterFree", booster)
        self.call("LGBM_DatasetFree", dataset)


def read_lightgbm_text(path):
    """The header and trees of a LightGBM text model, as dicts of strings."""
    header, trees, current = {}, [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line == "end of trees":
                break
            if line.startswith("Tree="):
                current = {}
                trees.append(current)
            elif "=" in line:
                key, value = line.split("=", 1)
                (current if current is not None else header)[key] = value
    return header, trees


def evaluate_lightgbm_text(path, rows):
    """Predicts with the saved trees alone (numerical splits, as these models have)."""
    header, trees = read_lightgbm_text(path)
    per_iteration = int(header["num_tree_per_iteration"])
    raw = numpy.zeros((len(rows), per_iteration), dtype=numpy.float64)
    for t, tree in enumerate(trees):
        leaves = [float(v) for v in tree["leaf_value"].split()]
        if int(tree["num_leaves"]) == 1:
            raw[:, t % per_iteration] += leaves[0]
            continue
        assert int(tree.get("num_cat", "0")) == 0, "categorical splits are not evaluated here"
        feature = [int(v) for v in tree["split_feature"].split()]
        threshold = [float(v) for v in tree["threshold"].split()]
        decision = [int(v) for v in tree["decision_type"].split()]
        left = [int(v) for v in tree["left_child"].split()]
        right = [int(v) for v in tree["right_child"].split()]
        for r, row in enumerate(rows):
            node = 0
            while node >= 0:
                value = float(row[feature[node]])
                missing = (decision[node] >> 2) & 3
                if numpy.isnan(value) and missing != 2:
                    value = 0.0
                if (missing == 1 and abs(value) <= 1e-35) or (missing == 2 and numpy.isnan(value)):
                    go_left = bool(decision[node] & 2)
                else:
                    go_left = value <= threshold[node]
                node = left[node] if go_left else right[node]
            raw[r, t % per_iteration] += leaves[~node]
    objective = header["objective"].split()
    if objective[0] == "binary":
        sigmoid = float(dict(p.split(":") for p in objective[1:]).get("sigmoid", "1"))
        return 1.0 / (1.0 + numpy.exp(-sigmoid * raw[:, 0]))
    if objective[0] == "multiclass":
        e = numpy.exp(raw - raw.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return raw[:, 0]


def lightgbm_models(expected):
    lgb = LightGbm()
    x, y, names = dataset(load_iris)
    root = write_mlflow_dir("lgb-multiclass", LGB_FLAVOR.format(data="model.lgb", version=lgb.version),
                            "lightgbm", "model.lgb", columns_signature(names), tensor_signature("float64", [-1, 3]),
                            "lightgbm==" + lgb.version)
    params = "objective=multiclass num_class=3 num_leaves=7 learning_rate=0.2 min_data_in_leaf=5 " \
             "seed=%d deterministic=true force_row_wise=true num_threads=1 verbose=-1" % SEED
    booster, data = lgb.train(x, y, names, params, 15)
    path = os.path.join(root, "model.lgb")
    lgb.save(booster, path)
    rows = samples(x)
    independent = evaluate_lightgbm_text(path, rows)
    numpy.testing.assert_allclose(lgb.predict(booster, rows, 3), independent, rtol=1e-12, atol=1e-12)
    lgb.free(booster, data)
    expected["lgb-multiclass"] = {"columns": names, "rows": floats(rows), "probabilities": independent.tolist(),
                                  "label": independent.argmax(axis=1).tolist(), "classes": [0, 1, 2]}

    x, y, names = dataset(load_breast_cancer)
    root = write_mlflow_dir("lgb-binary", LGB_FLAVOR.format(data="model.lgb", version=lgb.version),
                            "lightgbm", "model.lgb", columns_signature(names), tensor_signature("float64", [-1]),
                            "lightgbm==" + lgb.version)
    params = "objective=binary num_leaves=7 learning_rate=0.2 min_data_in_leaf=10 " \
             "seed=%d deterministic=true force_row_wise=true num_threads=1 verbose=-1" % SEED
    booster, data = lgb.train(x, y, names, params, 20)
    path = os.path.join(root, "model.lgb")
    lgb.save(booster, path)
    rows = samples(x)
    independent = evaluate_lightgbm_text(path, rows)
    numpy.testing.assert_allclose(lgb.predict(booster, rows, 1)[:, 0], independent, rtol=1e-12, atol=1e-12)
    lgb.free(booster, data)
    expected["lgb-binary"] = {"columns": names, "rows": floats(rows), "predictions": independent.tolist(),
                              "probabilities": [[1.0 - p, p] for p in independent.tolist()],
                              "label": [int(p > 0.5) for p in independent.tolist()], "classes": [0, 1]}


def main():
    expected = {}
    xgboost_models(expected)
    lightgbm_models(expected)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
