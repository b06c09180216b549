#!/usr/bin/env bash
# The sidecar's CPU per request at a fixed rate, against Debian's nginx (grpc_pass) in the same run: one runner
# (the churn MLP, batching off), nginx and one or more sidecar settings in front of it, all up at once; then rounds
# in which each proxy in turn gets h2load's gRPC ModelInfer at a fixed rate (4 connections, --rps each) while its
# process's CPU time is read from /proc. Prints cores per 1000 req/s per round and the median ratio to nginx; then
# each path's saturation throughput (h2load -c4 -m16) against calling the runner directly, and each sidecar's peak RSS.
# Usage: perf/cpu-sidecar.sh [rounds=3] [seconds=20] [rate=1000] ["label|java|JVM options|ENV=v ENV2=v|jar" ...]
#   the default setting is this tree's sidecar as shipped: "current|java|@sidecar-proxy/jvm.options|"; a setting's
#   jar defaults to this tree's (another build's: git worktree add /tmp/base <rev>, build it, name its jar).
#   SKIP_BUILD=1 uses the jars as they are. RUNNER_SOCKET=1 also serves the runner on a Unix domain socket
#   (--grpc-socket, which puts the runner on the epoll transport for every path) and replaces {socket} in a
#   setting's environment with its path, e.g. "uds|java|@sidecar-proxy/jvm.options|GANTRY_RUNNER_SOCKET={socket}|".
# Needs h2load (nghttp2-client) and nginx (nginx-light). Takes /tmp/gantry-mvn.lock around its build only.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; secs=${2:-20}; rate=${3:-1000}
shift $(( $# < 3 ? $# : 3 ))
settings=("$@")
[ ${#settings[@]} -gt 0 ] || settings=("current|java|@sidecar-proxy/jvm.options|")
command -v h2load >/dev/null && command -v nginx >/dev/null || { echo "needs h2load and nginx" >&2; exit 1; }
[ "${SKIP_BUILD:-}" = 1 ] || flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy -am package
work=$(mktemp -d /tmp/gantry-cpu.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
mkdir -p "$work/repo/mlp" "$work/nginx/logs"
cp -r examples/models/churn-torchscript/. "$work/repo/mlp/"
sed -i '/^dynamic_batching:/,$d' "$work/repo/mlp/config.yaml"
perf/grpc-infer-frame.py mlp "$work/grpc.bin"   # one churn MLP row, model "mlp"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 240); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.5; done; return 1; }
runner_port=$(port)
socket_args=(); [ "${RUNNER_SOCKET:-}" = 1 ] && socket_args=(--grpc-socket "$work/runner.sock")
java -Dai.djl.offline=true @model-runner/jvm.options -jar model-runner/target/model-runner.jar \
  --model-repository "$work/repo" --grpc-port "$runner_port" --metrics-port 0 "${socket_args[@]}" \
  > "$work/runner.log" 2>&1 & pids+=($!)
wait_port "$runner_port"
nginx_port=$(port)
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 2; pid $work/nginx/nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/f;
  uwsgi_temp_path $work/nginx/u; scgi_temp_path $work/nginx/s;
  upstream runner { server 127.0.0.1:$runner_port; keepalive 16; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$nginx_port http2; location / { grpc_pass grpc://runner; } } }
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' > "$work/nginx.log" 2>&1 & pids+=($!)
labels=(nginx); ports=($nginx_port); procs=($!)
for s in "${settings[@]}"; do
  IFS='|' read -r label javabin opts envs jar <<< "$s"
  envs=${envs//\{socket\}/$work/runner.sock}
  p=$(port)
  # shellcheck disable=SC2086
  env GANTRY_WARMUP_MS=0 GANTRY_CLUSTER=off GANTRY_ADMIN_PORT=0 MALLOC_ARENA_MAX=2 $envs "$javabin" $opts \
    -jar "${jar:-sidecar-proxy/target/sidecar-proxy.jar}" --host 127.0.0.1 --port "$p" --runner-port "$runner_port" \
    > "$work/$label.log" 2>&1 & pids+=($!)
  labels+=("$label"); ports+=("$p"); procs+=($!)
done
for p in "${ports[@]}"; do wait_port "$p"; done
# CPU ticks of a process and its children (nginx's workers); $2: the /proc stat fields summed (user + system by
# default; '$15' for system alone)
ticks() {
  local total=0 t
  for pid in $1 $(pgrep -P "$1" || true); do
    t=$(awk "{print ${2:-\$14 + \$15}}" "/proc/$pid/stat" 2>/dev/null || echo 0); total=$((total + t))
  done
  echo "$total"
}
sys_ticks() { ticks "$1" '$15'; }
hz=$(getconf CLK_TCK)
for i in "${!labels[@]}"; do   # warm each path at saturation first (C2 is still busy after 20 s)
  h2load -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/grpc.bin" -c4 -m16 -D 40 \
    "http://127.0.0.1:${ports[$i]}/inference.GRPCInferenceService/ModelInfer" > /dev/null
done
echo "# $rounds rounds of ${secs}s at $rate req/s (h2load -c4 --rps $((rate / 4))); cores per 1000 req/s; $(date -u +%F)"
: > "$work/results"
for r in $(seq 1 "$rounds"); do
  for i in "${!labels[@]}"; do
    before=$(ticks "${procs[$i]}"); sys_before=$(sys_ticks "${procs[$i]}")
    out=$(h2load -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/grpc.bin" -c4 -m1 \
      --rps $((rate / 4)) -D "$secs" "http://127.0.0.1:${ports[$i]}/inference.GRPCInferenceService/ModelInfer")
    after=$(ticks "${procs[$i]}"); sys_after=$(sys_ticks "${procs[$i]}")
    done_=$(grep -oE '[0-9]+ succeeded' <<< "$out" | head -1 | cut -d' ' -f1)
    # h2load counts a gRPC error (a trailers-only answer, no data) as a success: every answer must carry data
    data=$(grep -oE '\(([0-9]+)\) data' <<< "$out" | tr -d '()' | cut -d' ' -f1)
    [ "${data:-0}" -ge $((done_ * 10)) ] || { echo "${labels[$i]}: $done_ answers but $data data bytes: errors" >&2; exit 1; }
    per=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$done_" 'BEGIN { printf "%.3f", (t / hz) / (n / 1000) }')
    echo "round $r ${labels[$i]}: $done_ answers, $(( (after - before) )) ticks ($((sys_after - sys_before)) in the kernel)," \
      "$per cores per 1000 req/s"
    echo "${labels[$i]} $per" >> "$work/results"
  done
done
echo
awk '{ v[$1] = v[$1] " " $2 } END { for (k in v) print k, v[k] }' "$work/results" | while read -r label vals; do
  med=$(tr ' ' '\n' <<< "$vals" | sort -n | awk '{a[NR]=$1} END { print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2 }')
  echo "$label $med"
done | sort > "$work/medians"
ng=$(awk '$1 == "nginx" { print $2 }' "$work/medians")
while read -r label med; do
  echo "median $label: $med cores per 1000 req/s, $(awk -v a="$med" -v b="$ng" 'BEGIN { printf "%.2f", a / b }')x nginx"
done < "$work/medians"
# saturation: each path in turn, the runner called directly included; then each sidecar's peak RSS (VmHWM)
echo
for i in direct "${!labels[@]}"; do
  if [ "$i" = direct ]; then name=direct; p=$runner_port; else name=${labels[$i]}; p=${ports[$i]}; fi
  out=$(h2load -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/grpc.bin" -c4 -m16 -D "$secs" \
    "http://127.0.0.1:$p/inference.GRPCInferenceService/ModelInfer")
  rps=$(grep -oE 'finished in [0-9.]+s, [0-9.]+ req/s' <<< "$out" | awk '{print $4}')
  [ "$name" = direct ] && direct=$rps
  echo "saturation $name: $rps req/s, $(awk -v a="$rps" -v b="$direct" 'BEGIN { printf "%.0f", 100 * a / b }') % of direct"
done
for i in "${!labels[@]}"; do
  [ "${labels[$i]}" = nginx ] && continue
  echo "peak RSS ${labels[$i]}: $(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/${procs[$i]}/status")"
done
echo "logs: $work"
