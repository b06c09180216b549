#!/usr/bin/python3
"""Trains scikit-learn classifiers and saves them as ONNX MLflow models, as skl2onnx would.

Run with Debian's interpreter (it has python3-sklearn and python3-onnx):

    /usr/bin/python3 examples/mlflow-models/make_sklearn_onnx.py

Debian has neither skl2onnx nor MLflow, so this script stands in for both:
it builds, with onnx.helper, the graph skl2onnx's converters emit for each
model, and writes the MLflow model directory that mlflow.onnx.save_model (2.9)
writes for it. Which file stands in for which converter:

  sklearn-logreg/   Pipeline(StandardScaler, LogisticRegression), binary, INT64 labels 0/1,
                    on four columns of scikit-learn's breast-cancer data.
                    Graph as skl2onnx emits it (convert_sklearn with
                    initial_types=[("input", FloatTensorType([None, 4]))]):
                      Scaler (ai.onnx.ml; StandardScaler converter: offset=mean_, scale=1/scale_)
                        input -> variable
                      LinearClassifier (ai.onnx.ml; linear classifier converter, binary case:
                        coefficients [-coef, coef], intercepts [-b, b], multi_class 0,
                        post_transform LOGISTIC, classlabels_ints) variable -> label, probabilities
                      Cast (to INT64; ZipMap converter, integer labels) label -> output_label
                      ZipMap (ai.onnx.ml, classlabels_int64s) probabilities -> output_probability
  sklearn-iris-forest/
                    RandomForestClassifier (10 trees, depth <= 3, at least 4 samples a leaf), three classes with STRING labels
                    (the iris species names), on scikit-learn's iris data.
                    Graph as skl2onnx emits it:
                      TreeEnsembleClassifier (ai.onnx.ml; random forest converter: every tree's
                        nodes, leaf class weights = leaf class fractions / number of trees,
                        thresholds adjusted as skl2onnx's sklearn_threshold does for float inputs,
                        post_transform NONE, classlabels_strings) input -> label, probabilities
                      Identity (ZipMap converter, string labels) label -> output_label
                      ZipMap (ai.onnx.ml, classlabels_strings) probabilities -> output_probability

Outputs, as skl2onnx names and types them: output_label tensor(int64) [N] or tensor(string) [N];
output_probability seq(map(int64 | string, float)).

Each directory holds model.onnx, MLmodel (onnx flavor, python_function flavor with loader_module
mlflow.onnx, a column-based input signature as infer_signature(X_df, predictions) gives), the
environment files MLflow writes, and reference.json: rows of input, the column names, the classes,
and scikit-learn's own predict() and predict_proba() for those rows (computed on the float32 values
the ONNX graph sees). The Java tests compare the runner's and the sidecar's answers with it.
The generated files come out byte-identical on every run.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ML = "ai.onnx.ml"
OPSETS = [helper.make_opsetid("", 17), helper.make_opsetid(ML, 1)]


def sklearn_threshold(threshold):
    """skl2onnx's sklearn_threshold for float inputs: a float32 w with (float)x <= t <=> (float)x <= w."""
    fy = np.float32(threshold)
    if fy == threshold or fy < threshold:
        return float(fy)
    eps = max(abs(fy), np.finfo(np.float32).eps) * 10
    return float(np.nextafter([fy], [fy - eps], dtype=np.float32)[0])


def graph_inputs(columns):
    return [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, len(columns)])]


def outputs(label_type, key_type):
    return [
        helper.make_tensor_value_info("output_label", label_type, [None]),
        helper.make_value_info("output_probability", helper.make_sequence_type_proto(map_type(key_type))),
    ]


def map_type(key_type):
    """map(key_type, tensor(float)), the element type skl2onnx declares for a ZipMap's sequence."""
    proto = onnx.TypeProto()
    proto.map_type.key_type = key_type
    proto.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return proto


def model_of(graph):
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name="skl2onnx",
                              producer_version="1.16.0", domain="ai.onnx", model_version=0)
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def logreg_graph(pipe, columns):
    scaler, clf = pipe.named_steps["scaler"], pipe.named_steps["clf"]
    coef = clf.coef_.flatten().astype(float).tolist()
    intercept = clf.intercept_.tolist()
    labels = [int(c) for c in clf.classes_]
    nodes = [
        helper.make_node("Scaler", ["input"], ["variable"], name="Scaler", domain=ML,
                         offset=scaler.mean_.astype(np.float64).tolist(),
                         scale=(1.0 / scaler.scale_).astype(np.float64).tolist()),
        helper.make_node("LinearClassifier", ["variable"], ["label", "probabilities"], name="LinearClassifier",
                         domain=ML, coefficients=[-c for c in coef] + coef,
                         intercepts=[-b for b in intercept] + intercept, multi_class=0,
                         post_transform="LOGISTIC", classlabels_ints=labels),
        helper.make_node("Cast", ["label"], ["output_label"], name="Cast", to=TensorProto.INT64),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_int64s=labels),
    ]
    graph = helper.make_graph(nodes, "pipeline_logreg", graph_inputs(columns),
                              outputs(TensorProto.INT64, TensorProto.INT64))
    return model_of(graph)


def forest_graph(forest, columns):
    attrs = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                             "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                             "nodes_hitrates", "class_treeids", "class_nodeids", "class_ids", "class_weights")}
    weight = 1.0 / len(forest.estimators_)
    for tree_id, est in enumerate(forest.estimators_):
        tree = est.tree_
        for i in range(tree.node_count):
            branch = tree.children_left[i] > i or tree.children_right[i] > i
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(i)
            attrs["nodes_featureids"].append(int(tree.feature[i]) if branch else 0)
            attrs["nodes_modes"].append("BRANCH_LEQ" if branch else "LEAF")
            attrs["nodes_values"].append(sklearn_threshold(tree.threshold[i]) if branch else 0.0)
            attrs["nodes_truenodeids"].append(int(tree.children_left[i]) if branch else 0)
            attrs["nodes_falsenodeids"].append(int(tree.children_right[i]) if branch else 0)
            attrs["nodes_missing_value_tracks_true"].append(0)
            attrs["nodes_hitrates"].append(1.0)
            if not branch:
                counts = tree.value[i].flatten()
                total = counts.sum()
                factor = weight / (total if total != 0 else 1.0)
                for class_id, w in enumerate(counts):
                    attrs["class_treeids"].append(tree_id)
                    attrs["class_nodeids"].append(i)
                    attrs["class_ids"].append(class_id)
                    attrs["class_weights"].append(float(w * factor))
    for k in ("nodes_values", "class_weights", "nodes_hitrates"):
        attrs[k] = np.array(attrs[k], dtype=np.float32).tolist()
    labels = [str(c) for c in forest.classes_]
    nodes = [
        helper.make_node("TreeEnsembleClassifier", ["input"], ["label", "probabilities"],
                         name="TreeEnsembleClassifier", domain=ML, post_transform="NONE",
                         classlabels_strings=labels, **attrs),
        helper.make_node("Identity", ["label"], ["output_label"], name="Identity"),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_strings=labels),
    ]
    graph = helper.make_graph(nodes, "random_forest_iris", graph_inputs(columns),
                              outputs(TensorProto.STRING, TensorProto.STRING))
    return model_of(graph)


def mlmodel(columns, output_dtype, uuid):
    inputs = json.dumps([{"type": "float", "name": c, "required": True} for c in columns])
    outs = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": output_dtype, "shape": [-1]}}])
    return f"""artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: {onnx.__version__}
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.2
mlflow_version: 2.9.2
model_uuid: {uuid}
signature:
  inputs: '{inputs}'
  outputs: '{outs}'
  params: null
utc_time_created: '2026-11-29 00:00:00.000000'
"""


ENV_FILES = {
    "python_env.yaml": "python: 3.11.2\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n",
    "requirements.txt": f"mlflow==2.9.2\nonnx=={onnx.__version__}\nonnxruntime\n",
    "conda.yaml": ("channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip\n- pip:\n  - mlflow==2.9.2\n"
                   f"  - onnx=={onnx.__version__}\n  - onnxruntime\nname: mlflow-env\n"),
}


def save(name, model, columns, output_dtype, uuid, classes, x, labels, proba):
    root = os.path.join(HERE, name)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    with open(os.path.join(root, "MLmodel"), "w") as f:
        f.write(mlmodel(columns, output_dtype, uuid))
    for file, text in ENV_FILES.items():
        with open(os.path.join(root, file), "w") as f:
            f.write(text)
    reference = {
        "columns": columns,
        "classes": classes,
        "inputs": [[float(v) for v in row] for row in x],  # as written in the data set
        "labels": labels,
        "probabilities": [[float(p) for p in row] for row in proba],
    }
    with open(os.path.join(root, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


def as_seen_by_onnx(x):
    """The float32 values the graph gets, back in float64 for scikit-learn."""
    return x.astype(np.float32).astype(np.float64)


def build_logreg():
    data = load_breast_cancer()
    columns = ["mean_radius", "mean_texture", "mean_perimeter", "mean_area"]
    y = data.target.astype(np.int64)
    x_train, x_test, y_train, _ = train_test_split(data.data[:, :4], y, test_size=24, random_state=7, stratify=y)
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
    pipe.fit(as_seen_by_onnx(x_train), y_train)
    seen = as_seen_by_onnx(x_test)
    save("sklearn-logreg", logreg_graph(pipe, columns), columns, "int64", "3c1e0d8a5b7f4e2a9c6d1b0e8f7a6c5d",
         [int(c) for c in pipe.classes_], x_test, [int(v) for v in pipe.predict(seen)], pipe.predict_proba(seen))


def build_forest():
    data = load_iris()
    columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    y = np.array([str(data.target_names[t]) for t in data.target], dtype=object)
    x_train, x_test, y_train, _ = train_test_split(data.data, y, test_size=30, random_state=3, stratify=y)
    forest = RandomForestClassifier(n_estimators=10, max_depth=3, min_samples_leaf=4, random_state=0)
    forest.fit(as_seen_by_onnx(x_train), y_train)
    seen = as_seen_by_onnx(x_test)
    save("sklearn-iris-forest", forest_graph(forest, columns), columns, "str", "9a8b7c6d5e4f40312a1b2c3d4e5f6071",
         [str(c) for c in forest.classes_], x_test, [str(v) for v in forest.predict(seen)],
         forest.predict_proba(seen))


if __name__ == "__main__":
    build_logreg()
    build_forest()
