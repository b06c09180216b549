#!/usr/bin/env bash
# From start to full speed, old settings against new, side by side in one run: a fresh runner and sidecar per
# setting, then 5-second windows of wrk (MLflow /invocations) and h2load (gRPC) from the moment /readyz turns true.
# Writes perf/results/warmup-<date>.{md,svg,dat}. Needs wrk, h2load (nghttp2-client), gnuplot (gnuplot-nox).
# Usage: perf/bench-warmup.sh [windows=6] [warm-seconds=90]
# Takes /tmp/gantry-mvn.lock around its build and its measurement (other builds share the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk h2load; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
J17=${J17:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}
J25=${J25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
# SKIP_BUILD=1 keeps the jars as they are (a JDK 25 AOT cache checks that its jar has not changed since training)
[ "${SKIP_BUILD:-}" = 1 ] || flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy,perf -am \
  package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -DincludeScope=runtime
out=perf/results/warmup-$(date +%F)
exec 9>/tmp/gantry-mvn.lock
flock 9
# the old settings: JDK 17, the heaps the launchers gave before, no warm-up before readiness
old="old: JDK 17 defaults, no warm-up|$J17|||GANTRY_WARMUP_MS=0"
settings=("$old" "${@:3}")
if [ ${#settings[@]} -eq 1 ]; then
  settings+=("new: jvm.options, warm-up|$J17|@model-runner/jvm.options|@sidecar-proxy/jvm.options|MALLOC_ARENA_MAX=2")
fi
java -Xmx256m ${BENCH_JAVA_OPTS:-} -cp "perf/target/classes:$(cat perf/target/classpath.txt)" dev.gantry.perf.WarmupBenchmark \
  "${1:-6}" "${2:-90}" "$out" "${settings[@]}"
