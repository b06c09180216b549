#!/usr/bin/env bash
# Two sidecar builds in front of one runner, REST v2 at saturation under wrk (1 thread, 64
# connections), measured alternately in pairs: the simplest side-by-side check of the REST path.
# Usage: perf/ab-sidecar-rest.sh [baseline-rev=9fdeab7] [pairs=4] [seconds=10]
# Needs wrk (apt-get install wrk). Takes /tmp/gantry-mvn.lock around builds and measurement. Both sidecars run
# with --cluster off and an ephemeral admin port (the baseline must have those flags: issue 7 or later).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-9fdeab7}; pairs=${2:-4}; secs=${3:-10}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d /tmp/gantry-ab.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  git worktree remove --force "$work/baseline" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
git worktree add -q "$work/baseline" "$rev"
flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy -am package
(cd "$work/baseline" && flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl sidecar-proxy -am package)
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[12,70.35,844.2]}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
exec 9>/tmp/gantry-mvn.lock
flock 9
java -Dai.djl.offline=true -Xmx1g -jar model-runner/target/model-runner.jar --grpc-port 18001 \
  --metrics-port 18002 --models churn-torchscript > "$work/runner.log" 2>&1 & pids+=($!)
java -Xmx512m -jar "$work/baseline/sidecar-proxy/target/sidecar-proxy.jar" --host 127.0.0.1 --port 18081 \
  --runner-port 18001 --event-loops 2 --admin-port 0 --cluster off > "$work/baseline.log" 2>&1 & base=$!; pids+=($base)
java -Xmx512m -jar sidecar-proxy/target/sidecar-proxy.jar --host 127.0.0.1 --port 18082 \
  --runner-port 18001 --event-loops 2 --admin-port 0 --cluster off > "$work/current.log" 2>&1 & cur=$!; pids+=($cur)
for port in 18081 18082; do
  for _ in $(seq 1 240); do curl -fs "localhost:$port/readyz" >/dev/null && break; sleep 0.5; done
done
url() { echo "http://127.0.0.1:$1/v2/models/churn-torchscript/infer"; }
for port in 18081 18082; do wrk -t1 -c64 -d15s -s "$work/post.lua" "$(url $port)" >/dev/null; done   # warm-up
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "pair build req/s cpu-ms-per-1000-req"
for i in $(seq 1 "$pairs"); do
  order="baseline current"; [ $((i % 2)) -eq 0 ] && order="current baseline"
  for build in $order; do
    if [ "$build" = baseline ]; then port=18081; pid=$base; else port=18082; pid=$cur; fi
    t0=$(ticks "$pid")
    rate=$(wrk -t1 -c64 -d"${secs}s" -s "$work/post.lua" "$(url $port)" | awk '/Requests\/sec/{print $2}')
    t1=$(ticks "$pid")
    hz=$(getconf CLK_TCK)
    echo "$i $build $rate $(awk -v t=$((t1 - t0)) -v hz="$hz" -v r="$rate" -v s="$secs" \
      'BEGIN {printf "%.1f", t / hz * 1000 / (r * s / 1000)}')"
  done
done
