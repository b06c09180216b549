#!/usr/bin/env bash
# Where the sidecar's CPU goes, before and after a change: a baseline commit's sidecar and this tree's, each in
# front of this tree's runner (the churn MLP, batching off), under h2load for 20 s of gRPC ModelInfer and 20 s of
# REST v2 over h2c (4 connections x 16 streams), with a JFR recording of the sidecar; prints each one's throughput
# and its hottest methods (`jfr view hot-methods`, JDK 21+'s jfr). Raw recordings are left in the temporary folder
# it prints. Usage: [ORDER="current baseline"] perf/profile-sidecar.sh [baseline-rev=c4eb0ec] [seconds=20]
# (h2load counts a gRPC error as an HTTP 200: a gRPC run's failures show in the sidecar's metrics, not here.)
# Needs h2load (nghttp2-client). Takes /tmp/gantry-mvn.lock around builds and measurement; do not wrap it in flock.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-c4eb0ec}; secs=${2:-20}
JFR=${JFR:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr}
work=$(mktemp -d /tmp/gantry-profile.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  git worktree remove --force "$work/baseline" 2>/dev/null || true
}
trap cleanup EXIT
git worktree add -q "$work/baseline" "$rev"
flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy -am package
(cd "$work/baseline" && flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl sidecar-proxy -am package)
mkdir -p "$work/repo/mlp"
cp -r examples/models/churn-torchscript/. "$work/repo/mlp/"
sed -i '/^dynamic_batching:/,$d' "$work/repo/mlp/config.yaml"
printf '{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[12,70.35,844.2]}]}' > "$work/rest.json"
perf/grpc-infer-frame.py mlp "$work/grpc.bin"   # one churn MLP row, model "mlp"
exec 9>/tmp/gantry-mvn.lock
flock 9
java -Dai.djl.offline=true -jar model-runner/target/model-runner.jar --model-repository "$work/repo" \
  --grpc-port 18101 --metrics-port 0 > "$work/runner.log" 2>&1 & pids+=($!)
for _ in $(seq 1 120); do grep -q event=runner_started "$work/runner.log" && break; sleep 0.5; done
order=${ORDER:-baseline current}
for build in $order; do
  jar=sidecar-proxy/target/sidecar-proxy.jar
  [ "$build" = baseline ] && jar="$work/baseline/sidecar-proxy/target/sidecar-proxy.jar"
  GANTRY_WARMUP_MS=0 GANTRY_CLUSTER=off GANTRY_ADMIN_PORT=0 java @sidecar-proxy/jvm.options -jar "$jar" \
    --host 127.0.0.1 --port 18180 --runner-port 18101 --max-in-flight 100000 > "$work/$build.log" 2>&1 & sc=$!
  for _ in $(seq 1 120); do curl -fs localhost:18180/readyz >/dev/null 2>&1 && break; sleep 0.5; done
  grpc=(h2load -c4 -m16 -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/grpc.bin"
    http://127.0.0.1:18180/inference.GRPCInferenceService/ModelInfer)
  rest=(h2load -c4 -m16 -H 'content-type: application/json' -d "$work/rest.json"
    http://127.0.0.1:18180/v2/models/mlp/infer)
  "${grpc[@]}" -D 15 >/dev/null; "${rest[@]}" -D 15 >/dev/null          # warm-up
  jcmd $sc JFR.start name=p settings=profile filename="$work/$build-grpc.jfr" >/dev/null
  echo "$build gRPC: $("${grpc[@]}" -D "$secs" | grep -E '^(finished in|requests:|status codes:)' | tr '\n' ' ')"
  jcmd $sc JFR.stop name=p >/dev/null
  jcmd $sc JFR.start name=p settings=profile filename="$work/$build-rest.jfr" >/dev/null
  echo "$build REST h2c: $("${rest[@]}" -D "$secs" | grep -E '^(finished in|requests:|status codes:)' | tr '\n' ' ')"
  jcmd $sc JFR.stop name=p >/dev/null
  kill $sc; wait $sc 2>/dev/null || true
done
for f in baseline-grpc current-grpc baseline-rest current-rest; do
  echo; echo "== $f: hottest methods (share of the sidecar's execution samples)"
  "$JFR" view --width 140 hot-methods "$work/$f.jfr" | sed -n 1,16p
done
echo "recordings: $work"
