#!/usr/bin/env bash
# Model-runner benchmark: in-process DJL ceiling vs gRPC ModelInfer, batching off/on.
# Usage: perf/bench-runner.sh [seconds-per-scenario (default 10)]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl perf -am install -DskipTests
./mvnw -B -q -pl perf dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
exec java -Dai.djl.offline=true -Xms1g -Xmx1g -cp "perf/target/classes:$(cat perf/target/classpath.txt)" \
  dev.gantry.perf.RunnerBenchmark "${1:-10}" examples/models
