#!/usr/bin/env bash
# Builds Gantry and starts the model-runner and the sidecar-proxy as two processes on the
# example models. Ctrl-C stops both. Settings: examples/gantry.yaml (or GANTRY_CONFIG).
set -euo pipefail
cd "$(dirname "$0")"
export GANTRY_CONFIG="${GANTRY_CONFIG:-examples/gantry.yaml}"

echo "==> building (first time: a few minutes; Maven downloads dependencies)"
./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy,cli -am package

port=$(sed -n 's/^  port: *\([0-9]*\).*/\1/p' "$GANTRY_CONFIG" | head -n 1)
port=${GANTRY_SIDECAR_PORT:-${port:-8080}}
runner_pid=""
sidecar_pid=""
stop() {
  trap - INT TERM EXIT
  echo
  echo "==> stopping"
  [ -n "$sidecar_pid" ] && kill -TERM "$sidecar_pid" 2>/dev/null || true
  [ -n "$runner_pid" ] && kill -TERM "$runner_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "==> stopped"
}
trap stop INT TERM EXIT

# JVM settings: model-runner/jvm.options and sidecar-proxy/jvm.options (see perf/RESULTS.md, "Issue 12")
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
java @model-runner/jvm.options -Dai.djl.offline=true -jar model-runner/target/model-runner.jar &
runner_pid=$!
java @sidecar-proxy/jvm.options -jar sidecar-proxy/target/sidecar-proxy.jar &
sidecar_pid=$!

# ready once the runner has loaded the models and the sidecar has warmed up (--warmup-ms)
for _ in $(seq 1 240); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$runner_pid" 2>/dev/null || ! kill -0 "$sidecar_pid" 2>/dev/null; then
    echo "a process exited during start-up; see the log above" >&2
    exit 1
  fi
  sleep 0.5
done

cat <<TXT

==> Gantry is serving the example models on http://127.0.0.1:$port (REST and gRPC)
    models:  churn-onnx, churn-torchscript, churn-mlflow, customer-churn (versions 1-4; 3 and 4 are canaries that fail / run slower)
    endpoint: churn = customer-churn v1 "champion" 90 % / v2 "challenger" 10 %, sticky by x-user-id;
              champion's requests are copied to the challenger (shadow) and the answers compared;
              the split is an A/B experiment on clients' reward (POST /v1/feedback; ./gantry results churn)
    metrics: /metrics   probes: /livez /readyz   admin API: http://127.0.0.1:8081 (loopback: no token set)

  The churn endpoint (every answer names its variant in x-gantry-variant):
    curl -si localhost:$port/v2/models/churn/infer -H 'x-user-id: alice' -H 'content-type: application/json' -d '{"inputs": [{"name": "tenure", "shape": [1, 1], "datatype": "FP32", "data": [24]}, {"name": "monthly_charges", "shape": [1, 1], "datatype": "FP32", "data": [90]}, {"name": "total_charges", "shape": [1, 1], "datatype": "FP32", "data": [2160]}, {"name": "contract_type", "shape": [1, 1], "datatype": "BYTES", "data": ["One year"]}, {"name": "payment_method", "shape": [1, 1], "datatype": "BYTES", "data": ["Bank transfer (automatic)"]}]}'
    ./gantry get endpoints

  A canary rollout of the challenger (5/10/25/50/100 %), with load, watched with the CLI:
    examples/load.sh churn 300 50 &
    ./gantry apply -f examples/rollouts/churn-v2.yaml && ./gantry rollout status churn-v2

  MLflow (/invocations calls the default model: the churn endpoint):
    curl -si localhost:$port/invocations -H 'content-type: application/json' -d '{"dataframe_records": [{"tenure": 12, "monthly_charges": 70.35, "total_charges": 844.20, "contract_type": "Month-to-month", "payment_method": "Electronic check"}]}'
  Open Inference v2 (KServe v2):
    curl -s localhost:$port/v2/models/churn-torchscript/infer -H 'content-type: application/json' -d '{"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [12, 70.35, 844.2]}]}'
  KServe v1:
    curl -s localhost:$port/v1/models/churn-torchscript:predict -H 'content-type: application/json' -d '{"instances": [[12, 70.35, 844.2]]}'
  Seldon:
    curl -s localhost:$port/seldon/default/churn-torchscript/api/v1.0/predictions -H 'content-type: application/json' -d '{"data": {"ndarray": [[12, 70.35, 844.20]]}}'
  gRPC (inference.GRPCInferenceService on the same port): see README.md, "gRPC".

Press Ctrl-C to stop both processes.
TXT
wait
