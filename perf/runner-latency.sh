#!/usr/bin/env bash
# A lone gRPC ModelInfer's latency on the runner, before and after a change, side by side in one run: a baseline
# commit's runner and this tree's (and, optionally, this tree's with other flags), all up at once on the churn MLP
# (batching off), each measured in turn with h2load -c1 -m1 for some rounds, which one goes first rotating from
# round to round. Prints, per round and variant, p50/p90/p99 (from h2load's per-request log), calls/s, the
# runner's CPU (user + system from /proc) per call and its threads' context switches per call (each thread wake-up is
# one), then each variant's median over the rounds and its ratio to the first variant's.
#
# Usage: [VARIANTS="label=build[:flag,flag...] ..."] [JFR=1] perf/runner-latency.sh [baseline-rev=017e1f2]
#        [seconds-per-measurement=10] [rounds=5]
#   VARIANTS defaults to "baseline=baseline current=current"; build is baseline or current, the flags go to that
#   runner's command line, e.g. VARIANTS="baseline=baseline current=current nospin=current:--worker-spin-us=0".
#   JFR=1 records one more, uncounted pass per variant (settings=profile) and prints `jfr view hot-methods` of each.
#   GANTRY_LATENCY_DIR=DIR keeps the built jars in DIR and reuses the baseline's on the next run.
#   RPS=N paces the measured calls at N a second (h2load --rps; still one at a time): the runner idles between
#   calls, which is where an idle worker's spin costs CPU without being repaid in throughput.
# The runners run with model-runner/jvm.options and -Xmx1g. Needs h2load (apt-get install nghttp2-client).
# Takes /tmp/gantry-mvn.lock around its builds and its measurement: do not wrap it in that lock (it would deadlock).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rev=${1:-017e1f2}; secs=${2:-10}; rounds=${3:-5}
variants=${VARIANTS:-baseline=baseline current=current}
JFR_TOOL=${JFR_TOOL:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr}
lock=/tmp/gantry-mvn.lock
command -v h2load >/dev/null || { echo "needs h2load: apt-get install nghttp2-client" >&2; exit 1; }
work=${GANTRY_LATENCY_DIR:-$(mktemp -d /tmp/gantry-latency.XXXXXX)}
mkdir -p "$work"
pids=()
src=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -z $src ]] || git -C "$root" worktree remove --force "$src" 2>/dev/null || true
}
trap cleanup EXIT

copy_runner() { # checkout, target folder
  rm -rf "$2" && mkdir -p "$2"
  cp -r "$1/model-runner/target/model-runner.jar" "$1/model-runner/target/lib" "$2/"
}
if [[ ! -f $work/baseline/model-runner.jar ]]; then
  src=$(mktemp -d /tmp/gantry-latency-src.XXXXXX)/src
  git worktree add --detach -q "$src" "$rev"
  (cd "$src" && flock "$lock" ./mvnw -B -q -DskipTests -pl model-runner -am package)
  copy_runner "$src" "$work/baseline"
fi
flock "$lock" ./mvnw -B -q -DskipTests -pl model-runner -am package
copy_runner "$root" "$work/current"

rm -rf "$work/repo" && mkdir -p "$work/repo/mlp"
cp -r examples/models/churn-torchscript/. "$work/repo/mlp/"
sed -i '/^dynamic_batching:/,$d' "$work/repo/mlp/config.yaml"
printf 'instance_count: 1\nwarmup:\n  iterations: 2\n' >>"$work/repo/mlp/config.yaml"
perf/grpc-infer-frame.py mlp "$work/grpc.bin"   # one churn MLP row, model "mlp"

exec 9>"$lock"
flock 9
labels=(); ports=(); runner_pids=()
port=18301
for v in $variants; do
  label=${v%%=*}; spec=${v#*=}; build=${spec%%:*}; flags=""
  [[ $spec == *:* ]] && flags=${spec#*:}
  java @model-runner/jvm.options -Xmx1g -Dai.djl.offline=true -jar "$work/$build/model-runner.jar" \
    --model-repository "$work/repo" --grpc-port $port --metrics-port 0 ${flags//,/ } >"$work/$label.log" 2>&1 &
  pids+=($!); runner_pids+=($!); labels+=("$label"); ports+=($port)
  port=$((port + 1))
done
for i in "${!labels[@]}"; do
  for _ in $(seq 1 240); do grep -q event=runner_started "$work/${labels[$i]}.log" && break; sleep 0.5; done
  grep -q event=runner_started "$work/${labels[$i]}.log" || { cat "$work/${labels[$i]}.log"; exit 1; }
  grep -hoE 'event=(runner_started|event_loop_transport).*' "$work/${labels[$i]}.log" | sed "s/^/${labels[$i]}: /"
done

# every runner answers the request (h2load counts a gRPC error, a trailers-only answer, as a 200), and all answer
# the same bytes; h2load's data bytes per answer then tell answers from errors in each measurement
url() { echo "http://127.0.0.1:$1/inference.GRPCInferenceService/ModelInfer"; }
for i in "${!labels[@]}"; do
  curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$work/grpc.bin" \
    -D "$work/trial.headers" -o "$work/${labels[$i]}.answer" "$(url "${ports[$i]}")"
  if [[ $(stat -c %s "$work/${labels[$i]}.answer") -le 5 ]] || grep -qiE '^grpc-status: [1-9]' "$work/trial.headers"; then
    echo "${labels[$i]} answers with an error:" >&2; cat "$work/trial.headers" >&2; exit 1
  fi
  cmp -s "$work/${labels[0]}.answer" "$work/${labels[$i]}.answer" \
    || { echo "${labels[$i]} answers differently from ${labels[0]}" >&2; exit 1; }
done
bytes_per_answer=$(stat -c %s "$work/${labels[0]}.answer")
echo "every runner answers the same $bytes_per_answer bytes"

h2() { # port, seconds, log file
  h2load -c1 -m1 ${RPS:+--rps "$RPS"} -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/grpc.bin" \
    -D "$2" --log-file="$3" "http://127.0.0.1:$1/inference.GRPCInferenceService/ModelInfer"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { # the runner's context switches so far, all its threads, voluntary (a thread parks) and not
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n}'
}
# warm-up: every runner at 16 in flight, then one at a time, unmeasured
for i in "${!labels[@]}"; do
  h2load -c1 -m16 -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/grpc.bin" -D 10 \
    "http://127.0.0.1:${ports[$i]}/inference.GRPCInferenceService/ModelInfer" >/dev/null
  h2 "${ports[$i]}" 5 /dev/null >/dev/null
done
n=${#labels[@]}
hz=$(getconf CLK_TCK)
results=$work/results.tsv
: >"$results"
printf '%-6s %-12s %8s %8s %8s %9s %8s %14s %14s\n' round variant p50_us p90_us p99_us calls/s answers \
  'runner_CPU_us/call' 'switches/call'
for r in $(seq 1 "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    i=$(((k + r - 1) % n))
    label=${labels[$i]}
    t0=$(ticks "${runner_pids[$i]}"); c0=$(switches "${runner_pids[$i]}")
    rm -f "$work/h2.log"   # h2load appends to its log file
    h2 "${ports[$i]}" "$secs" "$work/h2.log" >"$work/h2.out"
    t1=$(ticks "${runner_pids[$i]}"); c1=$(switches "${runner_pids[$i]}")
    line=$(python3 - "$work/h2.log" "$((t1 - t0))" "$hz" "$label" "$r" "$work/h2.out" "$((c1 - c0))" "$bytes_per_answer" <<'PY'
import re, sys
log, ticks, hz, label, rnd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
out = open(sys.argv[6]).read()
switches = int(sys.argv[7])
data = int(re.search(r"\((\d+)\) data", out).group(1))
took = re.search(r"finished in ([0-9.]+)(ms|s),", out)
secs = float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)
done = int(re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out).group(1))
ok = min(done, data // int(sys.argv[8]))  # answers with data; the rest were gRPC errors
if ok < done:
    print(f"{label}: {done - ok} of {done} calls answered with a gRPC error", file=sys.stderr)
lat = sorted(int(l.split("\t")[2]) for l in open(log) if l.count("\t") == 2 and l.split("\t")[1] == "200")
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"{rnd}\t{label}\t{pct(.5)}\t{pct(.9)}\t{pct(.99)}\t{ok / secs:.0f}\t{ok}\t{ticks / hz * 1e6 / ok:.1f}\t{switches / ok:.2f}")
PY
)
    echo "$line" >>"$results"
    echo "$line" | awk -F'\t' '{printf "%-6s %-12s %8s %8s %8s %9s %8s %14s %14s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'
  done
done
echo
echo "Medians over $rounds rounds of ${secs} s (ratio to ${labels[0]}'s):"
python3 - "$results" "${labels[@]}" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
labels = sys.argv[2:]
med = {v: [statistics.median(float(r[c]) for r in rows if r[1] == v) for c in (2, 3, 4, 5, 7, 8)] for v in labels}
base = med[labels[0]]
names = ("p50 µs", "p90 µs", "p99 µs", "calls/s", "runner CPU µs/call", "runner context switches/call")
for v in labels:
    print(f"- {v}: " + "; ".join(f"{n} {x:.1f} ({x / b:.2f})" for n, x, b in zip(names, med[v], base)))
PY
if [[ ${JFR:-} == 1 ]]; then
  # one more pass per variant, recorded and not counted above (the recording costs the runner some CPU)
  for i in "${!labels[@]}"; do
    jcmd "${runner_pids[$i]}" JFR.start name=p settings=profile filename="$work/${labels[$i]}.jfr" >/dev/null
    h2 "${ports[$i]}" "$secs" /dev/null >/dev/null
    jcmd "${runner_pids[$i]}" JFR.stop name=p >/dev/null
  done
  for label in "${labels[@]}"; do
    echo; echo "== $label: hottest methods (share of the runner's execution samples, last round)"
    "$JFR_TOOL" view --width 160 hot-methods "$work/$label.jfr" | sed -n 1,22p
  done
fi
echo "raw: $work"
