#!/usr/bin/env bash
# Two request paths side by side on the same sidecar process: the same REST v2 JSON request to the
# same model version (customer-churn v1), a baseline path A and a candidate path B that differ only
# in what the sidecar does. Third argument, the mode:
#   routing (default; routing-layer cost, issue 7): A "direct" (POST /v2/models/customer-churn/
#     versions/1/infer, no endpoint) vs B "routed" (POST /v2/models/bench/infer, an endpoint with 2
#     variants a/b at 50/50, both customer-churn v1, sticky on x-user-id, a new key per request).
#   shadow (shadow-traffic cost, issue 8): A "routed" (POST /v2/models/bench/infer, endpoint bench
#     with variants a at weight 100 and s at 0, no shadow) vs B "shadowed" (POST /v2/models/
#     benchshadow/infer, the same two variants plus a shadow, PUT through the admin API, copying
#     10 % of its requests to variant s; every variant is customer-churn v1 on the one runner).
#     After the cold shadowed interval and after the warm rounds it prints the sidecar's
#     gantry_shadow_requests_total counters and checks copies / requests sent to benchshadow ~ 10 %.
#   cold : first interval of saturation load on a fresh sidecar, one fresh sidecar per path (the
#          runner is warmed first through a throw-away sidecar, so runner JIT is not in it)
#   warm : 20 s warm-up of each path, then rounds of pairs in alternating order (A B, B A, ...):
#          saturation (wrk -t1 -c16 --latency) and a fixed 1000 req/s (h2load --h1 -c10 --rps 100)
#   CPU  : sidecar JVM utime+stime (/proc/PID/stat) per 1000 completed requests, per interval.
# Ratios B/A (routed/direct, shadowed/routed) are medians over rounds. Everything runs on
# 127.0.0.1 with free ports; the load generators share the machine, so compare ratios, not
# absolute figures.
# Rerun from anywhere:  perf/bench-routing.sh [seconds-per-interval=10] [rounds=4] [mode=routing|shadow]
# Needs the built jars (./mvnw -B -q -DskipTests package), wrk and h2load
# (apt-get install wrk nghttp2-client), curl, python3. Builds nothing; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; rounds=${2:-4}; mode=${3:-routing}
case "$mode" in # A: baseline path, B: candidate path; a path's name labels its output and picks URL_<name>
  routing) A=direct; B=routed ;;
  shadow) A=routed; B=shadowed ;;
  *) echo "mode must be routing or shadow, not $mode" >&2; exit 2 ;;
esac
RJAR=model-runner/target/model-runner.jar; SJAR=sidecar-proxy/target/sidecar-proxy.jar
for j in "$RJAR" "$SJAR"; do
  [ -f "$j" ] || { echo "missing $j: run ./mvnw -B -q -DskipTests package first" >&2; exit 1; }
done
for t in wrk h2load; do
  command -v $t >/dev/null || { echo "needs $t: apt-get install wrk nghttp2-client" >&2; exit 1; }
done
PY=$(command -v python3 || echo /usr/bin/python3)
work=$(mktemp -d /tmp/gantry-routing.XXXXXX)
runner=""; sidecar=""
stop() { # pid: TERM, then KILL after 25 s
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
}
cleanup() { stop "$sidecar"; stop "$runner"; rm -rf "$work"; }
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
TOKEN=$(head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 32)
echo "# bench-routing $(date -u +%FT%TZ) secs=$secs rounds=$rounds mode=$mode nproc=$(nproc) $(uptime | sed 's/.*load/load/')"
RP=$(freeport)
java -Dai.djl.offline=true -Xmx1g -jar "$RJAR" --model-repository examples/models --grpc-port "$RP" \
  --metrics-port 0 --models customer-churn > "$work/runner.log" 2>&1 & runner=$!
waitlog "$work/runner.log" event=runner_started "$runner"
n_sidecar=0
admin_put() { # kind name json: PUT an admin spec; fails unless it answers 200 or 201
  local code; code=$(curl -sS -o "$work/admin.out" -w '%{http_code}' -X PUT "127.0.0.1:$AP/admin/v1/$1/$2" \
    -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$3")
  case "$code" in 200|201) ;; *) echo "PUT /admin/v1/$1/$2 answered $code: $(head -c 300 "$work/admin.out")" >&2; exit 1 ;; esac
}
start_sidecar() { # stops the current one, starts a fresh one on fresh ports, creates the endpoint(s)
  stop "$sidecar"; n_sidecar=$((n_sidecar + 1))
  SP=$(freeport); AP=$(freeport); log="$work/sidecar$n_sidecar.log"
  GANTRY_CLUSTER=off java -Xmx256m -jar "$SJAR" --host 127.0.0.1 --port "$SP" --runner-port "$RP" \
    --admin-host 127.0.0.1 --admin-port "$AP" --admin-token "$TOKEN" --max-in-flight 100000 \
    --event-loops 2 > "$log" 2>&1 & sidecar=$!
  waitlog "$log" event=sidecar_started "$sidecar"
  for _ in $(seq 1 120); do curl -fs "127.0.0.1:$SP/readyz" >/dev/null && break; sleep 0.25; done
  curl -fsS "127.0.0.1:$SP/readyz" >/dev/null
  sent_shadowed=0 # requests sent to the shadowed path on this sidecar, for the copy-share check
  if [ "$mode" = routing ]; then
    curl -fsS -o /dev/null -X PUT "127.0.0.1:$AP/admin/v1/endpoints/bench" -H "authorization: Bearer $TOKEN" \
      -H 'content-type: application/json' -d '{"sticky_key": {"header": "x-user-id"}, "variants": [{"name": "a", "model": "customer-churn", "version": "1", "weight": 50}, {"name": "b", "model": "customer-churn", "version": "1", "weight": 50}]}'
  else # bench and benchshadow identical (a 100, s 0); only benchshadow gets the 10 % shadow to s
    for e in bench benchshadow; do
      admin_put endpoints "$e" '{"sticky_key": {"header": "x-user-id"}, "variants": [{"name": "a", "model": "customer-churn", "version": "1", "weight": 100}, {"name": "s", "model": "customer-churn", "version": "1", "weight": 0}]}'
    done
    admin_put shadows benchshadow '{"variant": "s", "percent": 10}'
  fi
  URL_direct="http://127.0.0.1:$SP/v2/models/customer-churn/versions/1/infer"
  URL_routed="http://127.0.0.1:$SP/v2/models/bench/infer"
  URL_shadowed="http://127.0.0.1:$SP/v2/models/benchshadow/infer"
}
count_sent() { # path wrk-output: adds what wrk completed on the shadowed path to sent_shadowed
  [ "$1" = shadowed ] || return 0
  sent_shadowed=$((sent_shadowed + $(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$2")))
}
shadow_counts() { # label: the sidecar's shadow counters, and copies / requests sent to the shadowed path
  sleep 2 # let copies still in flight end (a copy's own timeout is 1 s)
  echo "  $1: requests sent to the shadowed path on this sidecar: $sent_shadowed"
  # heap state, so that copies kept alive (a leak) show: RSS, old generation, full GCs
  echo "  sidecar JVM: RSS $(awk '/VmRSS/{print $2, $3}' "/proc/$sidecar/status")$( { command -v jstat >/dev/null && \
    timeout 10 jstat -gcutil "$sidecar" | awk 'NR==2{printf ", old gen %s %% full, %s full GCs (%s s)", $4, $9, $10}'; } || true)"
  if ! curl -fsS --max-time 10 "127.0.0.1:$SP/metrics" > "$work/metrics.txt"; then
    echo "  NOT OK: the sidecar's /metrics did not answer within 10 s"; return 0
  fi
  grep '^gantry_shadow_requests_total' "$work/metrics.txt" | sed 's/^/  /' || echo "  no gantry_shadow_requests_total"
  "$PY" - "$work/metrics.txt" "$sent_shadowed" <<'EOF'
import math, re, sys
sent = int(sys.argv[2]); by = {}
for l in open(sys.argv[1]):
    m = re.match(r'gantry_shadow_requests_total\{(.*)\}\s+(\S+)', l)
    if m:
        tags = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        by[(tags.get("endpoint"), tags.get("outcome"))] = float(m.group(2))
other = sum(v for (e, o), v in by.items() if e != "benchshadow")
decided = sum(v for (e, o), v in by.items() if e == "benchshadow")
compared = by.get(("benchshadow", "compared"), 0)
share = decided / sent if sent else float("nan")
tol = 4 * math.sqrt(0.1 * 0.9 / sent) if sent else float("nan")
# a copy whose primary the client cancelled (wrk stops mid-request at the end of an interval) ends
# as primary_error; a handful (up to one per wrk connection per interval) is expected
ok = sent > 0 and abs(share - 0.10) <= tol and decided - compared <= max(0.01 * decided, 16) and other == 0
print(f"  copies on benchshadow {decided:.0f} (compared {compared:.0f} = {compared / max(decided, 1):.2%}), "
      f"on other endpoints {other:.0f}; copies / requests sent = {share:.4f} "
      f"(expected 0.1000 +- {tol:.4f}, 4 sd): {'OK' if ok else 'NOT OK'}")
EOF
}
BODY='{"inputs": [{"name": "tenure", "shape": [1, 1], "datatype": "FP32", "data": [24]}, {"name": "monthly_charges", "shape": [1, 1], "datatype": "FP32", "data": [90]}, {"name": "total_charges", "shape": [1, 1], "datatype": "FP32", "data": [2160]}, {"name": "contract_type", "shape": [1, 1], "datatype": "BYTES", "data": ["One year"]}, {"name": "payment_method", "shape": [1, 1], "datatype": "BYTES", "data": ["Bank transfer (automatic)"]}]}'
printf '%s' "$BODY" > "$work/body.json"
# One Lua script for both paths: the same per-request work in wrk (a new x-user-id each request,
# which the direct path ignores), so the load generator costs the same on both.
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$BODY]]
wrk.headers["content-type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  wrk.headers["x-user-id"] = "u" .. counter
  return wrk.format()
end
LUA
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
res="$work/results.tsv"; : > "$res"
measure() { # phase path load(sat|1000) round
  local url out t0 t1; url=$(eval echo "\$URL_$2"); out="$work/$1-$2-$3-$4.txt"
  t0=$(ticks "$sidecar")
  if [ "$3" = sat ]; then
    wrk -t1 -c16 -d"${secs}s" --latency -s "$work/post.lua" "$url" > "$out" 2>&1
  else
    h2load --h1 -c 10 --rps 100 -D "$secs" -m 1 -H 'content-type: application/json' \
      -H 'x-user-id: u1' -d "$work/body.json" "$url" > "$out" 2>&1
  fi
  t1=$(ticks "$sidecar")
  "$PY" - "$out" "$3" "$((t1 - t0))" "$HZ" "$1" "$2" "$4" >> "$res" <<'EOF'
import re, sys
f, kind, dt, hz, phase, path, rnd = sys.argv[1:]
t = open(f).read()
def ms(v, u): return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[u]
if kind == "sat":
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    n = int(re.search(r"(\d+) requests in", t).group(1))
    lat = dict((p, ms(v, u)) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M))
    bad = int((re.search(r"Non-2xx or 3xx responses: (\d+)", t) or [0, 0])[1])
    err = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
    a, b, c = lat["50"], lat["99"], 0.0
else:
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", t).group(1))
    req = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", t)
    st = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", t)
    n = int(st.group(1)); bad = int(st.group(2)) + int(st.group(3)) + int(st.group(4))
    err = int(req.group(4)) + int(req.group(5))
    m = re.search(r"time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", t)
    a, b, c = ms(m.group(5), m.group(6)), ms(m.group(3), m.group(4)), ms(m.group(1), m.group(2))
cpu = int(dt) / int(hz) * 1000 / max(n, 1) * 1000
print(f"{phase}\t{path}\t{kind}\t{rnd}\t{rps:.0f}\t{a:.3f}\t{b:.3f}\t{cpu:.1f}\t{n}\t{bad}\t{err}")
EOF
  if [ "$2" = shadowed ]; then sent_shadowed=$((sent_shadowed + $(tail -1 "$res" | cut -f9))); fi
  tail -1 "$res" | awk -F'\t' '{printf "  %-5s %-6s %-4s r%s  %6s req/s  %s=%7s ms  %s=%8s ms  cpu %6s ms/1000req  n=%s non2xx=%s err=%s\n", \
    $1, $2, $3, $4, $5, ($3=="sat"?"p50":"mean"), $6, ($3=="sat"?"p99":"max"), $7, $8, $9, $10, $11}'
}
echo "## warming the runner through a throw-away sidecar (not measured)"
start_sidecar
wrk -t1 -c16 -d"${secs}s" -s "$work/post.lua" "$(eval echo "\$URL_$B")" > /dev/null
wrk -t1 -c16 -d"${secs}s" -s "$work/post.lua" "$(eval echo "\$URL_$A")" > /dev/null
echo "## cold: first ${secs}s of saturation on a fresh sidecar, one fresh sidecar per path"
for p in $A $B; do
  start_sidecar; measure cold "$p" sat 0
  if [ "$p" = shadowed ]; then shadow_counts "cold shadowed sidecar"; fi
done
echo "## checks (curl, on the sidecar used for warm rounds)"
for p in $A $B; do
  url=$(eval echo "\$URL_$p")
  code=$(curl -sS -D "$work/h-$p" -o "$work/b-$p" -w '%{http_code}' -H 'content-type: application/json' \
    -H 'x-user-id: u1' --data-binary @"$work/body.json" "$url")
  echo "  $p: HTTP $code $(grep -i '^x-gantry-variant' "$work/h-$p" | tr -d '\r' || true) body=$(head -c 160 "$work/b-$p")"
  [ "$code" = 200 ] || { echo "$p did not answer 200" >&2; exit 1; }
  if [ "$p" = shadowed ]; then sent_shadowed=$((sent_shadowed + 1)); fi
done
for p in $A $B; do # every path but direct goes through an endpoint and names its variant
  [ "$p" = direct ] || grep -qi '^x-gantry-variant' "$work/h-$p" || { echo "$p answer has no x-gantry-variant" >&2; exit 1; }
done
echo "## warm-up: 20 s per path at saturation"
for p in $A $B; do
  wrk -t1 -c16 -d20s -s "$work/post.lua" "$(eval echo "\$URL_$p")" > "$work/warmup-$p.txt"
  count_sent "$p" "$work/warmup-$p.txt"
done
echo "## warm rounds (order alternates: $A $B, $B $A, ...)"
for r in $(seq 1 "$rounds"); do
  order="$A $B"; [ $((r % 2)) -eq 0 ] && order="$B $A"
  for p in $order; do measure warm "$p" sat "$r"; measure warm "$p" 1000 "$r"; done
done
if [ "$mode" = shadow ]; then
  echo "## shadow counters of the warm sidecar (requests sent: warm-up, check, warm rounds)"
  shadow_counts "warm sidecar"
fi
echo "## WARN/ERROR lines in the runner and sidecar logs (first 10):"
grep -hE 'WARN|ERROR|Exception' "$work"/*.log | cut -c1-240 | head -10 || true
echo "## summary (medians over rounds; sat: p50/p99 from wrk; 1000 req/s: mean/max from h2load, which prints no percentiles)"
"$PY" - "$res" "$A" "$B" <<'EOF'
import sys, statistics as st
A, B = sys.argv[2], sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print(f"{'phase':6} {'load':6} {'path':7} {'req/s':>7} {'p50|mean ms':>12} {'p99|max ms':>11} {'cpu ms/1000':>12} {'non2xx':>7} {'err':>4}")
ratios = {}
for phase, load in (("cold", "sat"), ("warm", "sat"), ("warm", "1000")):
    med = {}
    for path in (A, B):
        sel = [r for r in rows if r[0] == phase and r[2] == load and r[1] == path]
        if not sel: continue
        m = [st.median(float(r[i]) for r in sel) for i in (4, 5, 6, 7)]
        med[path] = m
        bad = sum(int(r[9]) for r in sel); err = sum(int(r[10]) for r in sel)
        print(f"{phase:6} {load:6} {path:7} {m[0]:7.0f} {m[1]:12.3f} {m[2]:11.3f} {m[3]:12.1f} {bad:7d} {err:4d}")
    if len(med) == 2:
        ratios[(phase, load)] = [r / d if d else float("nan") for r, d in zip(med[B], med[A])]
print(f"\nratios {B}/{A} (of the medians): throughput, p50|mean, p99|max, CPU per 1000 requests")
for (phase, load), q in ratios.items():
    print(f"  {phase} {load:5}: {q[0]:.3f}  {q[1]:.3f}  {q[2]:.3f}  {q[3]:.3f}")
for load in ("sat", "1000"):
    per = []
    for r in sorted({r[3] for r in rows if r[0] == "warm"}):
        d = [float(x[7]) for x in rows if x[0] == "warm" and x[2] == load and x[3] == r and x[1] == A]
        o = [float(x[7]) for x in rows if x[0] == "warm" and x[2] == load and x[3] == r and x[1] == B]
        if d and o: per.append(o[0] / d[0])
    print(f"  per-round CPU ratio, warm {load}: {' '.join(f'{p:.3f}' for p in per)} (median {st.median(per):.3f})")
EOF
echo "# done $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
