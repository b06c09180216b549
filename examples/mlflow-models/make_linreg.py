#!/usr/bin/python3
"""A scikit-learn LinearRegression saved as an ONNX MLflow model without a signature, as skl2onnx and
mlflow.onnx.save_model (2.8) write it: the shape of a regression model a team logs with mlflow.onnx and no
signature. Run with Debian's interpreter (python3-sklearn, python3-onnx):

    /usr/bin/python3 examples/mlflow-models/make_linreg.py

Debian has neither skl2onnx nor MLflow: the graph is the one skl2onnx's linear regressor converter emits
(convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 10]))])): one ai.onnx.ml LinearRegressor
from `input` (FP32 [N, 10]) to `variable` (FP32 [N, 1]), opsets ai.onnx 18 and ai.onnx.ml 1. The MLmodel has the
onnx and python_function flavors and no signature. reference.json holds input rows and scikit-learn's predict().
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "sklearn-linreg-nosig")


def main():
    data = load_diabetes()
    x = data.data.astype(np.float32)
    model = LinearRegression().fit(x, data.target)
    node = helper.make_node("LinearRegressor", ["input"], ["variable"], domain="ai.onnx.ml",
                            coefficients=[float(c) for c in model.coef_], intercepts=[float(model.intercept_)],
                            name="LinearRegressor")
    graph = helper.make_graph([node], "diabetes_linreg",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 10])],
                              [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])])
    onx = helper.make_model(graph, producer_name="skl2onnx", producer_version="1.15.0",
                            opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", 1)])
    onx.ir_version = 8
    onnx.checker.check_model(onx)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(onx, os.path.join(OUT, "model.onnx"))
    with open(os.path.join(OUT, "MLmodel"), "w") as f:
        f.write("""flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.15.0
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
mlflow_version: 2.8.1
model_size_bytes: %d
model_uuid: 3c5d0c1e8f8a4b6f9d2e7a1b0c4d5e6f
utc_time_created: '2026-11-29 00:00:00.000000'
""" % os.path.getsize(os.path.join(OUT, "model.onnx")))
    with open(os.path.join(OUT, "conda.yaml"), "w") as f:
        f.write("channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip\n- pip:\n  - mlflow==2.8.1\n"
                "  - onnx==1.15.0\n  - onnxruntime\nname: mlflow-env\n")
    with open(os.path.join(OUT, "python_env.yaml"), "w") as f:
        f.write("python: 3.11.2\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n")
    with open(os.path.join(OUT, "requirements.txt"), "w") as f:
        f.write("mlflow==2.8.1\nonnx==1.15.0\nonnxruntime\n")
    rows = x[:3]
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"input": "input", "output": "variable", "inputs": rows.tolist(),
                   "predictions": [float(v) for v in model.predict(rows)]}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
