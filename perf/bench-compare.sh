#!/usr/bin/env bash
# Before / after in one run: the runner and sidecar benchmarks against a baseline commit and the
# current build, both builds' servers up side by side, each scenario measured on one and at once on
# the other (which goes first alternates), same load generators, same durations. Prints one table
# per benchmark with both figures and current / baseline.
#
# Usage: perf/bench-compare.sh [baseline-rev (default 9fdeab7)] [seconds-per-scenario (default 10)]
#                              [current-rev (default: this working tree, uncommitted changes included)]
# A rev is built in a temporary git worktree under /tmp (removed afterwards) with `package`, never
# `install`: ~/.m2's snapshots stay as they were. Needs nginx, h2load and wrk
# (apt-get install nginx-light nghttp2-client wrk).
#
# It takes /tmp/gantry-mvn.lock itself around each build and each of the two measurements, so that
# no other build runs on the machine meanwhile: do not wrap it in flock (that would deadlock).
# GANTRY_COMPARE_DIR=DIR keeps the built jars in DIR and reuses them on the next run;
# GANTRY_COMPARE_PARTS="runner sidecar" picks the benchmarks. Which build goes first alternates by
# scenario, the same way in every run; GANTRY_COMPARE_CURRENT_FIRST=1 swaps it (a second run that way
# tells an order effect from a difference between builds).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
baseline_rev=${1:-9fdeab7}
seconds=${2:-10}
current_rev=${3:-}
lock=/tmp/gantry-mvn.lock
for tool in nginx h2load wrk; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install nginx-light nghttp2-client wrk" >&2; exit 1; }
done

out=${GANTRY_COMPARE_DIR:-$(mktemp -d /tmp/gantry-compare.XXXXXX)}
mkdir -p "$out"
worktrees=()
cleanup() {
  for w in "${worktrees[@]}"; do
    git -C "$root" worktree remove --force "$w/src" && rm -rf "$w"
  done
  [[ -n ${GANTRY_COMPARE_DIR:-} ]] || rm -rf "$out"
}
trap cleanup EXIT

mvn_package() { # dir, modules, extra goals...: a locked `package`, tests not run, nothing installed
  local dir=$1 modules=$2
  shift 2
  (cd "$dir" && flock "$lock" ./mvnw -B -q -DskipTests -pl "$modules" -am package "$@")
}

copy_jars() { # source checkout, target folder, label
  for m in model-runner sidecar-proxy; do
    mkdir -p "$2/$m"
    cp -r "$1/$m/target/$m.jar" "$1/$m/target/lib" "$2/$m/"
  done
  echo "$3" >"$2/label"
}

build_rev() { # rev, target folder
  [[ -f $2/label ]] && { echo "reusing $2 ($(cat "$2/label"))" >&2; return; }
  local w
  w=$(mktemp -d /tmp/gantry-compare-src.XXXXXX)
  worktrees+=("$w")
  git -C "$root" worktree add --detach -q "$w/src" "$1"
  mvn_package "$w/src" model-runner,sidecar-proxy
  copy_jars "$w/src" "$2" "$(git -C "$root" rev-parse --short "$1")"
}

# this working tree: the harness (perf), and the current jars unless a current rev was named; all
# copied at once, before another build here can replace them
mvn_package "$root" model-runner,sidecar-proxy,perf dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DincludeScope=runtime
rm -rf "$out/harness" && mkdir -p "$out/harness/lib"
cp -r perf/target/classes "$out/harness/classes"
tr ':' '\n' <perf/target/classpath.txt | xargs -r cp -t "$out/harness/lib"
if [[ -n $current_rev ]]; then
  build_rev "$current_rev" "$out/current"
else
  rm -rf "$out/current"
  label=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- pom.xml shared-proto model-runner sidecar-proxy || label="$label + uncommitted changes"
  copy_jars "$root" "$out/current" "$label"
fi
build_rev "$baseline_rev" "$out/baseline"

for part in ${GANTRY_COMPARE_PARTS:-runner sidecar}; do
  flock "$lock" java -Xms512m -Xmx512m -Dgantry.compare.currentFirst="${GANTRY_COMPARE_CURRENT_FIRST:+true}" \
    -cp "$out/harness/classes:$out/harness/lib/*" dev.gantry.perf.CompareBenchmark \
    "$part" "$seconds" "$out/baseline" "$out/current" "$root/examples/models"
done
