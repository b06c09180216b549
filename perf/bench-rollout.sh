#!/usr/bin/env bash
# Canary rollouts (issue 9) on one runner + one sidecar, REST v2 JSON at a fixed rate, loopback only:
#   rollback : endpoint faulty (stable v1, canary v3, which fails in the engine on rows with monthly_charges > 85;
#              half the rows have 90), a rollout [10, 50, 100] %, interval 2s, min_requests 20,
#              check error_rate <= 0.05, once with failure_threshold 1 and once with 2. From the decision log
#              (`at`, wall clock UTC) and the client's own per-request record (send / receive time, status,
#              x-gantry-variant): first failing decision -> rollback decision -> last canary answer, and how
#              many canary answers went to requests sent after the rollback was decided.
#   CPU      : the sidecar's utime+stime (/proc/PID/stat) per 1000 requests over fixed windows of the same load on
#              endpoint steady (v1 90 %, v2 10 %), with no rollout (A) and with a rollout held at weight 10
#              (pause 10m, interval 2s, so the controller decides every 2 s) (B), in the order A B B A after a
#              warm-up that is not measured (10 s at saturation with wrk, then the fixed rate).
# The load generator is perf/rollout-load.py (open loop, one new x-user-id per request, latency from the scheduled
# send time), on the same 2 cores as the sidecar and runner: compare ratios within a run, not absolute figures.
# Rerun from anywhere:  perf/bench-rollout.sh [rate=1000] [cpu-window-seconds=30] [warm-up-seconds=25]
# On a shared machine, under the build lock:  flock /tmp/gantry-mvn.lock perf/bench-rollout.sh
# Needs the built jars (./mvnw -B -q -DskipTests package), curl, /usr/bin/python3, wrk (warm-up only; skipped
# without). Builds nothing; stops what it starts; uses free ports and a cluster name of its own (embedded Hazelcast, this sidecar its only member).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000}; win=${2:-30}; warm=${3:-25}
RJAR=model-runner/target/model-runner.jar; SJAR=sidecar-proxy/target/sidecar-proxy.jar
for j in "$RJAR" "$SJAR"; do
  [ -f "$j" ] || { echo "missing $j: run ./mvnw -B -q -DskipTests package first" >&2; exit 1; }
done
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
LOAD="$PY perf/rollout-load.py"
work=$(mktemp -d /tmp/gantry-rollout.XXXXXX)
runner=""; sidecar=""; loadpid=""
stop() { # pid: TERM, then KILL after 25 s
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
}
cleanup() { stop "$loadpid"; stop "$sidecar"; stop "$runner"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
freeport() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
waitlog() { # file pattern pid
  for _ in $(seq 1 480); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "process died; log:" >&2; tail -30 "$1" >&2; exit 1; }
    sleep 0.25
  done
  echo "timed out waiting for $2 in $1" >&2; tail -30 "$1" >&2; exit 1
}
# the jars as they are now: a build that rewrites target/ during the run does not change what runs
mkdir -p "$work/sidecar" "$work/runner"; cp -r "$SJAR" sidecar-proxy/target/lib "$work/sidecar/"
cp -r "$RJAR" model-runner/target/lib "$work/runner/"
echo "# bench-rollout $(date -u +%FT%TZ) rate=$rate cpu-window=${win}s warm-up=${warm}s nproc=$(nproc)" \
  "$(uptime | sed 's/.*load/load/')"
echo "# HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- sidecar-proxy/src/main \
  model-runner/src/main 2>/dev/null || echo ' (+ uncommitted main-source changes)'); sidecar jar built" \
  "$(date -u -r "$SJAR" +%FT%TZ)"
RP=$(freeport); SP=$(freeport); AP=$(freeport); CP=$(freeport)
java -Dai.djl.offline=true -Xmx1g -jar "$work/runner/model-runner.jar" --model-repository examples/models --grpc-port "$RP" \
  --metrics-port 0 --models customer-churn > "$work/runner.log" 2>&1 & runner=$!
waitlog "$work/runner.log" event=runner_started "$runner"
java -Xmx512m -Duser.timezone=UTC -jar "$work/sidecar/sidecar-proxy.jar" --host 127.0.0.1 --port "$SP" --runner-port "$RP" \
  --admin-host 127.0.0.1 --admin-port "$AP" --max-in-flight 100000 --event-loops 2 \
  --cluster embedded --cluster-name "bench-rollout-$$-$RANDOM" --cluster-host 127.0.0.1 --cluster-port "$CP" \
  --cluster-members "127.0.0.1:$CP" > "$work/sidecar.log" 2>&1 & sidecar=$!
waitlog "$work/sidecar.log" event=sidecar_started "$sidecar"
for _ in $(seq 1 120); do curl -fs "127.0.0.1:$SP/readyz" >/dev/null && break; sleep 0.25; done
curl -fsS "127.0.0.1:$SP/readyz" >/dev/null
admin() { # method path content-type body: fails unless it answers 2xx
  local code; code=$(curl -sS -o "$work/admin.out" -w '%{http_code}' -X "$1" "127.0.0.1:$AP/admin/v1/$2" \
    ${3:+-H "content-type: $3"} ${4:+--data-binary "$4"})
  case "$code" in 2??) ;; *) echo "$1 /admin/v1/$2 answered $code: $(head -c 400 "$work/admin.out")" >&2; exit 1 ;; esac
}
endpoint() { # name canary-version canary-weight
  admin PUT "endpoints/$1" application/json "{\"name\": \"$1\", \"sticky_key\": {\"header\": \"x-user-id\"},
    \"allow_override\": true, \"variants\": [{\"name\": \"stable\", \"model\": \"customer-churn\", \"version\": \"1\",
    \"weight\": $((100 - $3))}, {\"name\": \"canary\", \"model\": \"customer-churn\", \"version\": \"$2\",
    \"weight\": $3}]}"
}
row() { # monthly_charges
  printf '{"inputs": [{"name": "tenure", "shape": [1, 1], "datatype": "FP32", "data": [24]}, {"name": "monthly_charges", "shape": [1, 1], "datatype": "FP32", "data": [%s]}, {"name": "total_charges", "shape": [1, 1], "datatype": "FP32", "data": [2160]}, {"name": "contract_type", "shape": [1, 1], "datatype": "BYTES", "data": ["One year"]}, {"name": "payment_method", "shape": [1, 1], "datatype": "BYTES", "data": ["Bank transfer (automatic)"]}]}\n' "$1"
}
{ row 90; row 50; } > "$work/bodies.txt" # v3 fails on the first (90 > 85), not on the second
URL="http://127.0.0.1:$SP/v2/models"
endpoint faulty 3 0
endpoint steady 2 10
echo "## checks (curl)"
for e in faulty steady; do
  code=$(curl -sS -D "$work/h" -o "$work/b" -w '%{http_code}' -H 'content-type: application/json' -H 'x-user-id: c1' \
    --data-binary "$(head -1 "$work/bodies.txt")" "$URL/$e/infer")
  echo "  $e: HTTP $code $(grep -i '^x-gantry-variant' "$work/h" | tr -d '\r') body=$(head -c 120 "$work/b")"
  [ "$code" = 200 ] || { echo "$e did not answer 200" >&2; exit 1; }
done
code=$(curl -sS -o "$work/b" -w '%{http_code}' -H 'content-type: application/json' -H 'x-gantry-variant: canary' \
  --data-binary "$(head -1 "$work/bodies.txt")" "$URL/faulty/infer")
echo "  faulty pinned to canary (v3) on a row with monthly_charges 90: HTTP $code $(head -c 160 "$work/b")"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
cpu_rows="$work/cpu.tsv"; : > "$cpu_rows"
window() { # label phase: one CPU window of $win s at $rate on steady
  local t0 t1 out="$work/win-$1.tsv"
  t0=$(ticks "$sidecar")
  $LOAD "$URL/steady/infer" "$rate" "$win" "$work/bodies.txt" "$out" 32 "$1" > "$work/win-$1.json"
  t1=$(ticks "$sidecar")
  "$PY" - "$work/win-$1.json" "$((t1 - t0))" "$HZ" "$1" "$2" "$win" >> "$cpu_rows" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); ticks, hz, label, phase, win = int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
ok = sum(v for k, v in s["by_variant_status"].items() if k.endswith(":200"))
cpu = ticks / hz
print(f"{label}\t{phase}\t{s['achieved_rps']}\t{s['answered']}\t{ok}\t{cpu:.2f}\t{cpu / max(s['answered'], 1) * 1000:.4f}"
      f"\t{cpu / float(win):.3f}\t{s['p50_ms']}\t{s['p99_ms']}\t{json.dumps(s['by_variant_status'], sort_keys=True)}")
EOF
  tail -1 "$cpu_rows" | awk -F'\t' '{printf "  %-3s %-22s %7s req/s  n=%s (200: %s)  sidecar CPU %s s = %s s per 1000 req = %s cores" \
    "  p50 %s ms p99 %s ms  %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11}'
}
echo "## warm-up: 10 s at saturation (wrk -t1 -c16, no sticky key: random buckets), then ${warm}s at $rate req/s on steady (not measured)"
# at a fixed 1000 req/s a cold sidecar still JIT-compiles well into the first windows; saturation gets it there sooner
printf 'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = [[%s]]\n' \
  "$(head -1 "$work/bodies.txt")" > "$work/post.lua"
if command -v wrk >/dev/null; then
  wrk -t1 -c16 -d10s -s "$work/post.lua" "$URL/steady/infer" | grep -E 'Requests/sec|Non-2xx' | sed 's/^/  wrk: /' || true
fi
$LOAD "$URL/steady/infer" "$rate" "$warm" "$work/bodies.txt" "$work/warm.tsv" 32 w > "$work/warm.json"
echo "  $(cat "$work/warm.json")"
echo "## CPU: ${win}s windows at $rate req/s on steady (stable v1 90 %, canary v2 10 %), order A B B A"
window A1 "A no rollout"
admin PUT rollouts/steady-hold application/yaml "endpoint: steady
stable: stable
canary: canary
steps: [{weight: 10, pause: 10m}]
analysis:
  interval: 2s
  min_requests: 20
  checks: [{metric: error_rate, max: 0.05}]
"
sleep 1
window B1 "B rollout held at 10"
window B2 "B rollout held at 10"
curl -fsS "127.0.0.1:$AP/admin/v1/rollouts/steady-hold/status" > "$work/steady-status.json"
"$PY" - "$work/steady-status.json" <<'EOF'
import collections, json, sys
s = json.load(open(sys.argv[1]))
print(f"  rollout steady-hold during B: phase {s['phase']} step {s['step']} canary_weight {s['canary_weight']},"
      f" decisions {dict(collections.Counter(d['result'] for d in s['decisions']))}")
EOF
admin DELETE rollouts/steady-hold
sleep 1
window A2 "A no rollout"

rollback_run() { # threshold: one rollout of faulty under load; the load runs 14 s, the rollout starts after 2 s
  local name="faulty-t$1"
  endpoint faulty 3 0
  $LOAD "$URL/faulty/infer" "$rate" 14 "$work/bodies.txt" "$work/$name.tsv" 32 "$name" > "$work/$name.json" &
  loadpid=$!
  sleep 2
  admin PUT "rollouts/$name" application/yaml "endpoint: faulty
stable: stable
canary: canary
steps: [{weight: 10}, {weight: 50}, {weight: 100}]
analysis:
  interval: 2s
  min_requests: 20
  failure_threshold: $1
  checks: [{metric: error_rate, max: 0.05}]
"
  wait "$loadpid"; loadpid=""
  curl -fsS "127.0.0.1:$AP/admin/v1/rollouts/$name/status" > "$work/$name-status.json"
  # the sidecar's own log from this rollout's first transition on: when the status and the endpoint were written
  grep -E "event=rollout_transition rollout=$name|event=endpoint_changed name=faulty" "$work/sidecar.log" \
    | awk -v r="rollout=$name " 'index($0, r) { on = 1 } on' > "$work/$name-log.txt" || true
  "$PY" - "$work/$name-status.json" "$work/$name.tsv" "$work/$name.json" "$work/$name-log.txt" "$1" \
    >> "$work/rollback.tsv" <<'EOF'
import datetime as dt, json, sys
st = json.load(open(sys.argv[1])); summary = json.load(open(sys.argv[3])); thr = sys.argv[5]
rec = [l.split("\t") for l in open(sys.argv[2]) if l.strip()]
rec = [(float(a), float(b), float(c), int(d), e.strip()) for a, b, c, d, e in rec]
at = lambda d: dt.datetime.fromisoformat(d["at"].replace("Z", "+00:00")).timestamp()
ds = st["decisions"]
print(f"  t{thr}: load {summary}", file=sys.stderr)
for d in ds:
    checks = ", ".join(f"{c['name']}={c['value']} {c['verdict']}" for c in d["checks"])
    print(f"  t{thr}: decision {d['at']} {d['result']:8} {d['from']}->{d['to']} step {d['step']} w {d['canary_weight']}"
          f" {d['reason'][:90]!r} [{checks}]", file=sys.stderr)
logs = [l.strip() for l in open(sys.argv[4]) if l.strip()]
for l in logs:
    print(f"  t{thr}: log {l[:170]}", file=sys.stderr)
start = next((at(d) for d in ds if d["result"] == "start"), None)
fail = next((at(d) for d in ds if d["result"] == "fail"), None)
rb = next((at(d) for d in ds if d["to"] == "ROLLED_BACK"), None)
# log times are HH:MM:SS.mmm of the sidecar's JVM, run with -Duser.timezone=UTC: on the decision's day
def logtime(l):
    day = dt.datetime.fromtimestamp(rb, dt.timezone.utc).date()
    return dt.datetime.combine(day, dt.time.fromisoformat(l.split()[0]), dt.timezone.utc).timestamp()
i = next((k for k, l in enumerate(logs) if "to=ROLLED_BACK" in l), None)
w_status = logtime(logs[i]) - rb if i is not None and rb else float("nan")
# the endpoint change that took the canary to 0: the one nearest the rollback (a rollback sets the weights before
# it writes the status, so it may come first)
ends = [k for k, l in enumerate(logs) if "endpoint_changed" in l]
j = min(ends, key=lambda k: abs(logtime(logs[k]) - rb)) if ends and rb else None
w_endpoint = logtime(logs[j]) - rb if j is not None else float("nan")
canary = [r for r in rec if r[4] == "canary"]
if st["phase"] != "ROLLED_BACK" or fail is None or rb is None:
    print(f"  t{thr}: NOT ROLLED BACK: phase {st['phase']}", file=sys.stderr)
    print(f"{thr}\tnan\tnan\tnan\tnan\tnan\tnan\tnan\tnan\t{summary['achieved_rps']}\tnan\tnan"); sys.exit(0)
last_recv = max(r[2] for r in canary); last_sent = max(r[1] for r in canary)
after_rb = [r for r in canary if r[1] > rb]; after_fail = [r for r in canary if r[1] > fail]
stable_bad = sum(1 for r in rec if r[4] == "stable" and r[3] != 200)
other_bad = sum(1 for r in rec if r[4] not in ("stable", "canary"))
tail = max(r[2] for r in rec) - rb
print(f"  t{thr}: start->first fail {fail - start:.3f} s, first fail->rollback decision {rb - fail:.3f} s,"
      f" first fail->last canary answer (received) {last_recv - fail:.3f} s, rollback decision->last canary answer"
      f" {last_recv - rb:.3f} s (last canary request sent {last_sent - rb:+.3f} s from the decision);"
      f" canary answers to requests sent after the rollback decision: {len(after_rb)} (after the first fail: "
      f"{len(after_fail)}), of which errors {sum(1 for r in after_rb if r[3] != 200)}; canary answers in all"
      f" {len(canary)} ({sum(1 for r in canary if r[3] != 200)} errors); stable errors {stable_bad};"
      f" no-variant answers {other_bad}; load ran {tail:.1f} s past the decision; after the rollback decision the"
      f" status was written at {w_status * 1000:+.0f} ms and the endpoint at {w_endpoint * 1000:+.0f} ms (sidecar"
      f" log, ms resolution)", file=sys.stderr)
print(f"{thr}\t{fail - start:.3f}\t{rb - fail:.3f}\t{last_recv - fail:.3f}\t{last_recv - rb:.3f}\t{len(after_rb)}"
      f"\t{len(canary)}\t{stable_bad}\t{last_sent - rb:.3f}\t{summary['achieved_rps']}\t{w_status:.3f}\t{w_endpoint:.3f}")
EOF
  admin DELETE "rollouts/$name"
  sleep 1
}
echo "## rollback: endpoint faulty (stable v1, canary v3), $rate req/s, rows alternate monthly_charges 90 (v3 fails) / 50"
: > "$work/rollback.tsv"
rollback_run 1 2>&1
rollback_run 2 2>&1
echo "## WARN/ERROR lines in the runner and sidecar logs (first 10, v3's expected engine failures left out):"
grep -hE 'WARN|ERROR|Exception' "$work"/*.log | grep -v -i 'monthly_charges\|customer-churn.*3\|version=3' \
  | cut -c1-240 | head -10 || true
echo "## summary"
"$PY" - "$cpu_rows" "$work/rollback.tsv" <<'EOF'
import statistics as stt, sys
cpu = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
per = {r[0]: float(r[6]) for r in cpu}
rps = {r[0]: float(r[2]) for r in cpu}
a = [per[k] for k in ("A1", "A2") if k in per]; b = [per[k] for k in ("B1", "B2") if k in per]
print("CPU (sidecar utime+stime per 1000 requests, warm; windows A1 B1 B2 A2):")
for r in cpu:
    print(f"  {r[0]} {r[1]:22} {float(r[2]):7.1f} req/s  {float(r[6]):.4f} CPU s per 1000 req  ({r[7]} cores)")
if a and b:
    print(f"  mean A {stt.mean(a):.4f}, mean B {stt.mean(b):.4f} CPU s per 1000 req; B/A {stt.mean(b) / stt.mean(a):.3f};"
          f" per pair B1/A1 {per['B1'] / per['A1']:.3f}, B2/A2 {per['B2'] / per['A2']:.3f}")
    cores = {r[0]: float(r[7]) for r in cpu}
    extra = (cores["B1"] + cores["B2"] - cores["A1"] - cores["A2"]) / 2
    print(f"  B - A: {extra * 1000:+.0f} ms of sidecar CPU per second of load ({extra:+.3f} cores)")
    print(f"  achieved rate: {min(rps.values()):.0f}-{max(rps.values()):.0f} req/s")
print("rollback (seconds; decision times from the status, answers from the client's record):")
print("  threshold  start->fail  fail->rollback  fail->last-canary  rollback->last-canary  rollback->status-write"
      "  rollback->endpoint-write  canary-after-rollback  canary-total  stable-errors  achieved-req/s")
for r in (l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()):
    print(f"  {r[0]:>9}  {r[1]:>11}  {r[2]:>14}  {r[3]:>17}  {r[4]:>21}  {r[10]:>22}  {r[11]:>24}  {r[5]:>21}"
          f"  {r[6]:>12}  {r[7]:>13}  {r[9]:>14}")
EOF
echo "# done $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
