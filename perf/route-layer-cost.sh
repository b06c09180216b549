#!/usr/bin/env bash
# The route layer's own CPU per request (in process, one thread, cold and warm), beside the same
# call for a name that is no endpoint. Usage: perf/route-layer-cost.sh [warm-calls, default 5000000]
# Compare with the sidecar's CPU per request from perf/bench-routing.sh (perf/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
flock /tmp/gantry-mvn.lock ./mvnw -B -q -DskipTests -pl perf -am package \
  dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -DincludeScope=runtime
exec java -Xms256m -Xmx256m -cp "perf/target/classes:$(cat perf/target/classpath.txt)" \
  dev.gantry.perf.RouteLayerCost "${1:-5000000}"
