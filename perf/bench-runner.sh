#!/usr/bin/env bash
# Model-runner benchmark: in-process DJL ceiling vs gRPC ModelInfer, batching off/on, against this
# working tree's runner jar. Usage: perf/bench-runner.sh [seconds-per-scenario (default 10)]
# Takes /tmp/gantry-mvn.lock around its build and, separately, around its measurement (other builds
# share the machine): do not wrap it in flock (that would deadlock). Nothing is installed.
# Two builds side by side: perf/bench-compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=/tmp/gantry-mvn.lock
flock "$lock" ./mvnw -B -q -DskipTests -pl model-runner,perf -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DincludeScope=runtime
exec flock "$lock" java -Xms512m -Xmx512m -cp "perf/target/classes:$(cat perf/target/classpath.txt)" \
  dev.gantry.perf.RunnerBenchmark "${1:-10}" examples/models
