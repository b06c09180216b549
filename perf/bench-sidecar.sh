#!/usr/bin/env bash
# Sidecar overhead: open-loop 500 and 1000 req/s and saturation, direct to the runner vs through
# the sidecar (gRPC, REST v2 JSON) vs through Debian's nginx (grpc_pass), against this working
# tree's jars. Needs nginx (apt-get install nginx-light). Usage: perf/bench-sidecar.sh [seconds-per-scenario]
# Takes /tmp/gantry-mvn.lock around its build (other builds share the machine); nothing is installed.
# Two builds side by side: perf/bench-compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || { echo "needs nginx: apt-get install nginx-light" >&2; exit 1; }
flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl model-runner,sidecar-proxy,perf -am package \
  dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -DincludeScope=runtime
exec java -Xms512m -Xmx512m ${BENCH_JAVA_OPTS:-} -cp "perf/target/classes:$(cat perf/target/classpath.txt)" \
  dev.gantry.perf.SidecarBenchmark "${1:-10}"
