#!/usr/bin/python3
"""Builds Gantry's example models from synthetic customer-churn data.

Run with Debian's interpreter (it has python3-torch and python3-onnx):

    /usr/bin/python3 examples/make_models.py
    /usr/bin/python3 examples/make_models.py --only customer-churn
    /usr/bin/python3 examples/make_models.py --only churn-canaries

The first writes everything listed below. The second writes only the
customer-churn entry's versions 1 and 2 and its "customer-churn" key in
examples/expected.json, leaving every other file alone: use it when only that
entry changed. The third writes only customer-churn versions 3 and 4 (the
canaries) and the "churn-canaries" key; it trains nothing but builds them on the
committed customer-churn/1/model.onnx. A full run rewrites the TorchScript files
(model.pt, model.pth) with debug information that records this script's path and
line numbers, so after any edit of the script they differ byte-wise from the
committed ones although their weights do not.
The ONNX files and expected.json come out byte-identical on every run.

It writes, under examples/models/:
  churn-onnx/1/model.onnx          ONNX pipeline over five named columns; the two
                                   string columns are one-hot encoded in the graph
  customer-churn/1/model.onnx      the same pipeline, byte-identical to churn-onnx v1
                                   (the champion)
  customer-churn/2/model.onnx      the challenger: the same graph, inputs and outputs,
                                   fitted on another synthetic sample, with churners
                                   weighted twice, weight decay and fewer steps, so
                                   that on some customers the two predict different
                                   classes (customer-churn/config.yaml is written by
                                   hand and serves all four versions)
  customer-churn/3/model.onnx      the faulty canary: v1's graph and answers, except that
                                   ONNX Runtime fails (Gather node 'canary_gather', index
                                   out of range) on every row with monthly_charges > 85.0
  customer-churn/4/model.onnx      the slow canary: v1's answers bit for bit, after
                                   ~336 MFLOP of input-dependent matrix products a row
                                   (multiplied by 0 and added to the logits)
  churn-torchscript/1/model.pt     TorchScript MLP over the three numeric columns
  churn-mlflow/                    the same MLP as an MLflow model directory
                                   (pytorch flavor saved as TorchScript, with a
                                   column-based signature)
and examples/expected.json: inputs and the probabilities Python computed
for them, which the Java tests compare with what DJL computes. Its key
"customer-churn" holds {"samples": rows in the format of the top-level "samples",
"1": and "2": each version's probabilities for them, "disagree": the indices of
the rows on which the two versions' predicted classes (argmax) differ}. Its key
"churn-canaries" holds {"samples": rows in the same format, "1": v1's probabilities
for them (v4 gives these for every row, v3 for every row it does not fail on),
"3": {"fails_if": {"column": "monthly_charges", "above": 85.0}, "fails": the
indices of the rows on which v3 fails}}.

It also writes test fixtures under model-runner/src/test/resources/fixtures/:
  gather/             a TorchScript model that picks one column per row (torch.gather),
                      so that an out-of-range index makes the engine itself fail
  dtypes/             a TorchScript model that doubles one tensor of each datatype PyTorch takes
  churn-mlflow-onnx/  the ONNX pipeline as an MLflow model directory (onnx flavor)

The generated files are committed; building and testing Gantry needs no Python.
"""
import argparse
import json
import math
import os
import random

import numpy
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "models")

CONTRACTS = ["Month-to-month", "One year", "Two year"]
PAYMENTS = ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"]
CONTRACT_EFFECT = [1.2, -0.5, -1.5]
PAYMENT_EFFECT = [0.7, 0.0, -0.2, -0.3]


def synthetic_customers(n, seed=7):
    rng = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        tenure = float(rng.randint(0, 72))
        contract = rng.choices(range(3), weights=[55, 25, 20])[0]
        payment = rng.randrange(4)
        monthly = round(rng.uniform(18.0, 120.0), 2)
        total = round(max(tenure, 1.0) * monthly * rng.uniform(0.9, 1.1), 2)
        logit = (1.0 - 0.05 * tenure + 0.025 * (monthly - 70.0)
                 + CONTRACT_EFFECT[contract] + PAYMENT_EFFECT[payment])
        p = 1.0 / (1.0 + pow(2.718281828, -logit))
        rows.append((tenure, monthly, total, contract, payment))
        labels.append(1 if rng.random() < p else 0)
    return rows, labels


def fit(model, features, labels, steps, lr, class_weight=None, weight_decay=0.0):
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weight)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(features), labels)
        loss.backward()
        opt.step()
    return float(loss)


class ChurnMlp(torch.nn.Module):
    """Standardises the three numeric columns, then a 3-16-2 MLP with softmax."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.hidden = torch.nn.Linear(3, 16)
        self.out = torch.nn.Linear(16, 2)

    def logits(self, x):
        x = (x - self.mean) / self.std
        return self.out(torch.relu(self.hidden(x)))

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


class Logits(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner.logits(x)


def one_hot(index, size):
    v = [0.0] * size
    v[index] = 1.0
    return v


def build_torchscript(rows, labels):
    numeric = torch.tensor([[r[0], r[1], r[2]] for r in rows], dtype=torch.float32)
    mean, std = numeric.mean(0), numeric.std(0)
    mlp = ChurnMlp(mean, std)
    loss = fit(Logits(mlp), numeric, torch.tensor(labels), steps=600, lr=0.02)
    mlp.eval()
    traced = torch.jit.trace(mlp, torch.zeros(1, 3))
    print("torchscript mlp: training loss %.4f" % loss)
    return traced


def build_onnx(rows, labels, steps=800, lr=0.05, class_weight=None, weight_decay=0.0,
               name="onnx logistic pipeline"):
    numeric = torch.tensor([[r[0], r[1], r[2]] for r in rows], dtype=torch.float32)
    mean, std = numeric.mean(0), numeric.std(0)
    feats = torch.tensor([[(r[0] - mean[0].item()) / std[0].item(),
                           (r[1] - mean[1].item()) / std[1].item(),
                           (r[2] - mean[2].item()) / std[2].item()]
                          + one_hot(r[3], 3) + one_hot(r[4], 4) for r in rows], dtype=torch.float32)
    linear = torch.nn.Linear(10, 2)
    loss = fit(linear, feats, torch.tensor(labels), steps=steps, lr=lr,
               class_weight=class_weight, weight_decay=weight_decay)
    print("%s: training loss %.4f" % (name, loss))
    weight = linear.weight.detach().t().contiguous().numpy()  # [10, 2]
    bias = linear.bias.detach().numpy()

    def col(name, elem):
        return helper.make_tensor_value_info(name, elem, ["N", 1])

    inputs = [col("tenure", TensorProto.FLOAT), col("monthly_charges", TensorProto.FLOAT),
              col("total_charges", TensorProto.FLOAT), col("contract_type", TensorProto.STRING),
              col("payment_method", TensorProto.STRING)]
    outputs = [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])]
    init = [numpy_helper.from_array(mean.numpy().reshape(1, 3), "num_mean"),
            numpy_helper.from_array(std.numpy().reshape(1, 3), "num_std"),
            numpy_helper.from_array(weight, "coef"),
            numpy_helper.from_array(bias, "intercept"),
            helper.make_tensor("shape_c", TensorProto.INT64, [2], [-1, len(CONTRACTS)]),
            helper.make_tensor("shape_p", TensorProto.INT64, [2], [-1, len(PAYMENTS)])]
    nodes = [
        helper.make_node("Concat", ["tenure", "monthly_charges", "total_charges"], ["num"], axis=1),
        helper.make_node("Sub", ["num", "num_mean"], ["num_centered"]),
        helper.make_node("Div", ["num_centered", "num_std"], ["num_scaled"]),
        helper.make_node("OneHotEncoder", ["contract_type"], ["contract_3d"], domain="ai.onnx.ml",
                         cats_strings=CONTRACTS, zeros=1),
        helper.make_node("Reshape", ["contract_3d", "shape_c"], ["contract_oh"]),
        helper.make_node("OneHotEncoder", ["payment_method"], ["payment_3d"], domain="ai.onnx.ml",
                         cats_strings=PAYMENTS, zeros=1),
        helper.make_node("Reshape", ["payment_3d", "shape_p"], ["payment_oh"]),
        helper.make_node("Concat", ["num_scaled", "contract_oh", "payment_oh"], ["features"], axis=1),
        helper.make_node("Gemm", ["features", "coef", "intercept"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(nodes, "churn_pipeline", inputs, outputs, init)
    model = helper.make_model(graph, producer_name="gantry-examples",
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)

    def predict(r):
        x = torch.tensor([[(r[0] - mean[0].item()) / std[0].item(),
                           (r[1] - mean[1].item()) / std[1].item(),
                           (r[2] - mean[2].item()) / std[2].item()]
                          + one_hot(CONTRACTS.index(r[3]), 3) + one_hot(PAYMENTS.index(r[4]), 4)])
        return torch.softmax(linear(x), dim=1)[0].tolist()

    return model, predict


MLMODEL = """artifact_path: model
flavors:
  python_function:
    data: data
    env:
      virtualenv: python_env.yaml
    loader_module: mlflow.pytorch
    pickle_module_name: mlflow.pytorch.pickle_module
    python_version: 3.11.2
  pytorch:
    code: null
    model_data: data
    pytorch_version: {torch_version}
mlflow_version: 2.9.2
model_uuid: 6f1c2a3b9d8e4f7a8b0c1d2e3f4a5b6c
signature:
  inputs: '[{{"type": "float", "name": "tenure", "required": true}}, {{"type": "float", "name": "monthly_charges", "required": true}}, {{"type": "float", "name": "total_charges", "required": true}}]'
  outputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, 2]}}}}]'
  params: null
utc_time_created: '2026-11-25 00:00:00.000000'
"""


class Gather(torch.nn.Module):
    def forward(self, x, idx):
        return torch.gather(x, 1, idx)


GATHER_CONFIG = """# Test fixture: picks column idx[i] of row x[i]; an index outside 0..3 makes
# libtorch fail, which the tests use as a real engine failure.
platform: pytorch
max_batch_size: 16
inputs:
  - name: x
    datatype: FP32
    dims: [4]
  - name: idx
    datatype: INT64
    dims: [1]
outputs:
  - name: picked
    datatype: FP32
    dims: [1]
dynamic_batching:
  max_queue_delay_microseconds: 100000
warmup:
  iterations: 1
"""


class Doubler(torch.nn.Module):
    def forward(self, f64, i32, i8, u8, flags, f16, i64):
        return f64 + f64, i32 + i32, i8 + i8, u8 + u8, torch.logical_not(flags), f16 + f16, i64 + i64


# the datatypes DJL's PyTorch engine takes (it has no INT16, UINT16/32/64 or BF16 arrays)
DTYPES = [("f64", "FP64"), ("i32", "INT32"), ("i8", "INT8"), ("u8", "UINT8"),
          ("flags", "BOOL"), ("f16", "FP16"), ("i64", "INT64")]

MLMODEL_ONNX = """artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_version: {onnx_version}
    providers: [CPUExecutionProvider]
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
    python_version: 3.11.2
mlflow_version: 2.9.2
signature:
  inputs: '[{{"type": "float", "name": "tenure"}}, {{"type": "float", "name": "monthly_charges"}}, {{"type": "float", "name": "total_charges"}}, {{"type": "string", "name": "contract_type"}}, {{"type": "string", "name": "payment_method"}}]'
  outputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, 2]}}}}]'
"""


def build_dtypes(fixtures):
    root = os.path.join(fixtures, "dtypes")
    os.makedirs(os.path.join(root, "1"), exist_ok=True)
    torch.jit.script(Doubler()).save(os.path.join(root, "1", "model.pt"))
    lines = ["# Test fixture: doubles each input (BOOL is negated); one tensor per datatype.",
             "platform: pytorch", "max_batch_size: 0", "inputs:"]
    lines += ["  - {name: %s, datatype: %s, dims: [2]}" % (n, t) for n, t in DTYPES]
    lines += ["outputs:"]
    lines += ["  - {name: %s_out, datatype: %s, dims: [2]}" % (n, t) for n, t in DTYPES]
    with open(os.path.join(root, "config.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def build_mlflow_onnx(fixtures, onnx_model):
    root = os.path.join(fixtures, "churn-mlflow-onnx")
    os.makedirs(root, exist_ok=True)
    onnx.save(onnx_model, os.path.join(root, "model.onnx"))
    with open(os.path.join(root, "MLmodel"), "w") as f:
        f.write(MLMODEL_ONNX.format(onnx_version=onnx.__version__))


def build_fixtures(onnx_model):
    fixtures = os.path.join(HERE, "..", "model-runner", "src", "test", "resources", "fixtures")
    build_dtypes(fixtures)
    build_mlflow_onnx(fixtures, onnx_model)
    root = os.path.join(fixtures, "gather")
    os.makedirs(os.path.join(root, "1"), exist_ok=True)
    scripted = torch.jit.script(Gather())
    scripted.save(os.path.join(root, "1", "model.pt"))
    with open(os.path.join(root, "config.yaml"), "w") as f:
        f.write(GATHER_CONFIG)


# customer-churn v2, the challenger: another synthetic sample and another fit
CHALLENGER_SEED = 2027
CHALLENGER_CUSTOMERS = 3000
CHALLENGER_FIT = dict(steps=300, lr=0.05, class_weight=[1.0, 2.0], weight_decay=1e-3)

SAMPLES = [
    (12.0, 70.35, 844.20, "Month-to-month", "Electronic check"),
    (60.0, 25.10, 1506.00, "Two year", "Credit card (automatic)"),
    (2.0, 99.65, 199.30, "Month-to-month", "Mailed check"),
    (36.0, 55.00, 1980.00, "One year", "Bank transfer (automatic)"),
]

# the top-level samples, then customers near the decision boundary on which
# the champion (v1) predicts "stay" and the challenger (v2) "churn"
CUSTOMER_CHURN_SAMPLES = SAMPLES + [
    (24.0, 90.0, 2160.0, "One year", "Bank transfer (automatic)"),
    (36.0, 45.0, 1620.0, "Month-to-month", "Bank transfer (automatic)"),
    (18.0, 75.0, 1350.0, "One year", "Mailed check"),
]


def build_challenger():
    """customer-churn v2: the v1 pipeline fitted differently (see CHALLENGER_*)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CHALLENGER_SEED)
        rows, labels = synthetic_customers(CHALLENGER_CUSTOMERS, seed=CHALLENGER_SEED)
        print("challenger synthetic churn rate: %.3f" % (sum(labels) / len(labels)))
        fit_args = dict(CHALLENGER_FIT, class_weight=torch.tensor(CHALLENGER_FIT["class_weight"]))
        return build_onnx(rows, labels, name="customer-churn v2 (challenger)", **fit_args)


def build_customer_churn(champion, champion_predict):
    """Writes examples/models/customer-churn/{1,2}/model.onnx; returns its expected.json entry."""
    challenger, challenger_predict = build_challenger()
    for version, model in (("1", champion), ("2", challenger)):
        d = os.path.join(MODELS, "customer-churn", version)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
    with torch.no_grad():
        v1 = [champion_predict(s) for s in CUSTOMER_CHURN_SAMPLES]
        v2 = [challenger_predict(s) for s in CUSTOMER_CHURN_SAMPLES]
    disagree = [i for i, (a, b) in enumerate(zip(v1, v2)) if (a[1] > a[0]) != (b[1] > b[0])]
    if not disagree:
        raise SystemExit("customer-churn: v1 and v2 agree on every sample")
    return {"samples": [list(s) for s in CUSTOMER_CHURN_SAMPLES], "1": v1, "2": v2, "disagree": disagree}


# customer-churn v3 and v4, the canaries: v1's graph with nodes added between its
# logits and its Softmax, so that both take and give what v1 does
FAULTY_COLUMN = "monthly_charges"
FAULTY_ABOVE = 85.0  # v3 fails on every row whose monthly_charges is greater than this
SLOW_SEED = 4
SLOW_WIDTH = 128     # v4 turns each row into a SLOW_WIDTH x SLOW_WIDTH matrix ...
SLOW_LAYERS = 80     # ... and multiplies it this many times by one of
SLOW_MATRICES = 16   # ... this many SLOW_WIDTH x SLOW_WIDTH matrices, in turn

# customer-churn's samples, then one row on v3's threshold (served) and one above it (fails)
CANARY_SAMPLES = CUSTOMER_CHURN_SAMPLES + [
    (48.0, 85.0, 4080.0, "Two year", "Mailed check"),
    (5.0, 110.0, 550.0, "Month-to-month", "Electronic check"),
]


def with_softmax_input(v1, name, extra_nodes, extra_init):
    """A copy of v1 whose Softmax reads `name` (computed by extra_nodes from v1's tensors)."""
    model = onnx.ModelProto()
    model.CopyFrom(v1)
    graph = model.graph
    softmax = [n for n in graph.node if n.op_type == "Softmax"]
    if len(softmax) != 1 or list(softmax[0].input) != ["logits"]:
        raise SystemExit("customer-churn v1: expected one Softmax over 'logits'")
    nodes = list(graph.node)
    at = nodes.index(softmax[0])
    softmax[0].input[0] = name
    del graph.node[:]
    graph.node.extend(nodes[:at] + extra_nodes + nodes[at:])
    graph.initializer.extend(extra_init)
    onnx.checker.check_model(model)
    return model


def build_faulty(v1):
    """customer-churn v3: v1, but ONNX Runtime fails on rows with monthly_charges > FAULTY_ABOVE.

    Each row gathers element 0 of a one-element vector [0.0] (added to its logits, so
    the probabilities are v1's) unless its monthly_charges (as FP32) is greater than
    the threshold: then the index is 1, out of range, and ONNX Runtime's Gather
    fails ("indices element out of data bounds, idx=1 must be within the inclusive
    range [-1,0]"). An engine call that holds one such row fails as a whole; the
    runner then runs a failed batch's requests one by one, so only the requests
    that hold such a row fail.
    """
    init = [numpy_helper.from_array(numpy.array(FAULTY_ABOVE, dtype=numpy.float32), "canary_above"),
            numpy_helper.from_array(numpy.zeros([1], dtype=numpy.float32), "canary_zero")]
    nodes = [
        helper.make_node("Greater", [FAULTY_COLUMN, "canary_above"], ["canary_over"], name="canary_over"),
        helper.make_node("Cast", ["canary_over"], ["canary_index"], name="canary_index",
                         to=TensorProto.INT64),
        helper.make_node("Gather", ["canary_zero", "canary_index"], ["canary_gathered"], name="canary_gather",
                         axis=0),
        helper.make_node("Add", ["logits", "canary_gathered"], ["canary_logits"], name="canary_add"),
    ]
    return with_softmax_input(v1, "canary_logits", nodes, init)


def rademacher(rng, rows, cols):
    """A rows x cols float32 matrix of +-1/sqrt(rows) from rng (the same bits everywhere)."""
    scale = numpy.float32(1.0 / math.sqrt(rows))
    bits = numpy.array([rng.getrandbits(1) for _ in range(rows * cols)], dtype=numpy.float32)
    return (1.0 - 2.0 * bits).reshape(rows, cols).astype(numpy.float32) * scale


def build_slow(v1):
    """customer-churn v4: v1's probabilities, at the cost of SLOW_LAYERS matrix products a row.

    The row's ten features are spread (MatMul, Tanh) over a SLOW_WIDTH x SLOW_WIDTH
    matrix, which is multiplied SLOW_LAYERS times by random +-1/sqrt(SLOW_WIDTH)
    matrices (SLOW_MATRICES of them, taken in turn: 2 * 128^3 * 80 = 336 MFLOP a
    row); the mean of the result, times 0, is added to the logits. The Tanh bounds
    the start and each matrix stretches a vector at most ~2x, so every value stays
    finite (2^80 * 128 < 3e38), 0 is added and the probabilities are v1's bit for
    bit; the work depends on the input, so it cannot be folded away.
    """
    rng = random.Random(SLOW_SEED)
    w = SLOW_WIDTH
    init = [numpy_helper.from_array(rademacher(rng, 10, w * w), "slow_spread"),
            helper.make_tensor("slow_square", TensorProto.INT64, [3], [-1, w, w]),
            helper.make_tensor("slow_column", TensorProto.INT64, [2], [-1, 1]),
            numpy_helper.from_array(numpy.array(0.0, dtype=numpy.float32), "slow_zero")]
    nodes = [
        helper.make_node("MatMul", ["features", "slow_spread"], ["slow_wide"]),
        helper.make_node("Tanh", ["slow_wide"], ["slow_bounded"]),
        helper.make_node("Reshape", ["slow_bounded", "slow_square"], ["slow_0"]),
    ]
    for i in range(SLOW_MATRICES):
        init.append(numpy_helper.from_array(rademacher(rng, w, w), "slow_w%d" % i))
    for i in range(SLOW_LAYERS):
        nodes.append(helper.make_node("MatMul", ["slow_%d" % i, "slow_w%d" % (i % SLOW_MATRICES)],
                                      ["slow_%d" % (i + 1)]))
    nodes += [
        helper.make_node("ReduceMean", ["slow_%d" % SLOW_LAYERS], ["slow_mean"], axes=[1, 2], keepdims=0),
        helper.make_node("Reshape", ["slow_mean", "slow_column"], ["slow_mean_col"]),
        helper.make_node("Mul", ["slow_mean_col", "slow_zero"], ["slow_nothing"]),
        helper.make_node("Add", ["logits", "slow_nothing"], ["slow_logits"]),
    ]
    return with_softmax_input(v1, "slow_logits", nodes, init)


def pipeline_predict(model, row):
    """What build_onnx's graph computes for one row, in float32 from the model's initializers."""
    w = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    num = (torch.tensor([[row[0], row[1], row[2]]], dtype=torch.float32) - w["num_mean"]) / w["num_std"]
    cat = torch.tensor([one_hot(CONTRACTS.index(row[3]), 3) + one_hot(PAYMENTS.index(row[4]), 4)])
    logits = torch.cat([num, cat], dim=1) @ w["coef"] + w["intercept"]
    return torch.softmax(logits, dim=1)[0].tolist()


def build_canaries(champion):
    """Writes examples/models/customer-churn/{3,4}/model.onnx from v1 (champion); returns its
    expected.json entry."""
    for version, model in (("3", build_faulty(champion)), ("4", build_slow(champion))):
        d = os.path.join(MODELS, "customer-churn", version)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
    with torch.no_grad():
        v1 = [pipeline_predict(champion, s) for s in CANARY_SAMPLES]
    column = ["tenure", "monthly_charges", "total_charges"].index(FAULTY_COLUMN)
    fails = [i for i, s in enumerate(CANARY_SAMPLES) if s[column] > FAULTY_ABOVE]
    return {"samples": [list(s) for s in CANARY_SAMPLES], "1": v1,
            "3": {"fails_if": {"column": FAULTY_COLUMN, "above": FAULTY_ABOVE}, "fails": fails}}


def write_expected(expected):
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["customer-churn", "churn-canaries"],
                        help="write only this entry (churn-canaries: customer-churn versions 3 and 4)"
                             " and its key in expected.json")
    args = parser.parse_args()

    if args.only == "churn-canaries":
        # built on the committed v1 file: nothing is trained
        champion = onnx.load(os.path.join(MODELS, "customer-churn", "1", "model.onnx"))
        with open(os.path.join(HERE, "expected.json")) as f:
            expected = json.load(f)
        expected["churn-canaries"] = build_canaries(champion)
        write_expected(expected)
        print(json.dumps(expected["churn-canaries"], indent=1))
        return

    # everything is trained, in the same order, whatever is written, so that
    # customer-churn v1 comes out as churn-onnx v1 does
    torch.manual_seed(11)
    rows, labels = synthetic_customers(4000)
    print("synthetic churn rate: %.3f" % (sum(labels) / len(labels)))
    mlp = build_torchscript(rows, labels)
    if args.only == "customer-churn":
        onnx_model, onnx_predict = build_onnx(rows, labels)
        with open(os.path.join(HERE, "expected.json")) as f:
            expected = json.load(f)
        expected["customer-churn"] = build_customer_churn(onnx_model, onnx_predict)
        write_expected(expected)
        print(json.dumps(expected["customer-churn"], indent=1))
        return

    # saved as soon as trained, as before: what TorchScript writes depends on
    # what still holds the tensors when it is saved
    ts_dir = os.path.join(MODELS, "churn-torchscript", "1")
    os.makedirs(ts_dir, exist_ok=True)
    mlp.save(os.path.join(ts_dir, "model.pt"))

    ml_dir = os.path.join(MODELS, "churn-mlflow")
    os.makedirs(os.path.join(ml_dir, "data"), exist_ok=True)
    torch.jit.save(mlp, os.path.join(ml_dir, "data", "model.pth"))
    with open(os.path.join(ml_dir, "MLmodel"), "w") as f:
        f.write(MLMODEL.format(torch_version=torch.__version__))
    with open(os.path.join(ml_dir, "python_env.yaml"), "w") as f:
        f.write("python: 3.11.2\ndependencies:\n- torch=={}\n".format(torch.__version__))

    onnx_model, onnx_predict = build_onnx(rows, labels)
    onnx_dir = os.path.join(MODELS, "churn-onnx", "1")
    os.makedirs(onnx_dir, exist_ok=True)
    onnx.save(onnx_model, os.path.join(onnx_dir, "model.onnx"))

    customer_churn = build_customer_churn(onnx_model, onnx_predict)
    churn_canaries = build_canaries(onnx_model)

    samples = SAMPLES
    with torch.no_grad():
        mlp_out = mlp(torch.tensor([[s[0], s[1], s[2]] for s in samples])).tolist()
    expected = {
        "columns": ["tenure", "monthly_charges", "total_charges", "contract_type", "payment_method"],
        "samples": [list(s) for s in samples],
        "churn-onnx": [onnx_predict(s) for s in samples],
        "churn-torchscript": mlp_out,
        "customer-churn": customer_churn,
        "churn-canaries": churn_canaries,
    }
    write_expected(expected)
    build_fixtures(onnx_model)
    print(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main()
