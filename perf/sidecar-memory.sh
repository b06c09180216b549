#!/usr/bin/env bash
# The sidecar's memory under load, settings side by side in one run: one runner, then per round and setting a fresh
# sidecar (its defaults: embedded cluster member, warm-up before readiness) serving wrk (MLflow /invocations) and
# h2load (gRPC ModelInfer); peak and final RSS, threads, classes and throughput per setting. Needs wrk and h2load.
# Usage: perf/sidecar-memory.sh [seconds=15] [rounds=2] ["label|java|sidecar JVM options|env k=v,..." ...]
# Without settings: the shipped sidecar-proxy/jvm.options with MALLOC_ARENA_MAX=2, as the launchers run it.
# Writes perf/results/sidecar-memory-<date>.md. Takes /tmp/gantry-mvn.lock around its build and its measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk h2load; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
J17=${J17:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}
flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy,perf -am package \
  dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -DincludeScope=runtime
exec 9>/tmp/gantry-mvn.lock
flock 9
settings=("${@:3}")
if [ ${#settings[@]} -eq 0 ]; then
  settings=("jvm.options|$J17|@sidecar-proxy/jvm.options|MALLOC_ARENA_MAX=2")
fi
mkdir -p perf/results
java -Xmx128m ${BENCH_JAVA_OPTS:-} -cp "perf/target/classes:$(cat perf/target/classpath.txt)" \
  dev.gantry.perf.SidecarMemory "${1:-15}" "${2:-2}" "perf/results/sidecar-memory-$(date +%F).md" "${settings[@]}"
