#!/usr/bin/env python3
"""Where a JFR recording's CPU samples went, by component: a coarser view than `jfr view hot-methods`, whose
few hundred samples spread over hundreds of methods say little one by one.

Usage: perf/jfr-summary.py [--jfr PATH-TO-jfr-TOOL] recording.jfr [recording.jfr ...]

For each recording (jdk.ExecutionSample events, as `jfr print` writes them with 64 frames), prints:
- self: the share of samples whose top frame is in each component (where the time is spent);
- inclusive: the share of samples with at least one frame of the component on the stack;
- threads: the share of samples per thread group (event loops, workers, Hazelcast, other).
Components are matched on the frame's class name, first match wins (see COMPONENTS).
"""
import argparse
import collections
import re
import subprocess
import sys

COMPONENTS = [
    ("gantry", "dev.gantry."),
    ("micrometer/metrics", ("io.micrometer.", "io.vertx.micrometer.", "io.prometheus.")),
    ("protobuf", "com.google.protobuf."),
    ("jackson/json", ("com.fasterxml.jackson.", "io.vertx.core.json.")),
    ("vertx gRPC", "io.vertx.grpc."),
    ("vertx HTTP", "io.vertx.core.http."),
    ("vertx core", "io.vertx."),
    ("netty HTTP/2 + HPACK", "io.netty.handler.codec.http2."),
    ("netty buffers", ("io.netty.buffer.", "io.netty.util.Recycler", "io.netty.util.internal.RefCnt",
                       "io.netty.util.ReferenceCountUtil")),
    ("netty event loop + queues", ("io.netty.util.concurrent.", "io.netty.util.internal.shaded.",
                                   "io.netty.channel.")),
    ("netty other", "io.netty."),
    ("hazelcast", "com.hazelcast."),
    ("JDK I/O (sockets, selector)", ("sun.nio.", "java.nio.", "sun.net.")),
    ("JDK other", ("java.", "jdk.", "sun.")),
]


def component(frame):
    for name, prefixes in COMPONENTS:
        if frame.startswith(prefixes if isinstance(prefixes, tuple) else (prefixes,)):
            return name
    return "other"


def thread_group(name):
    if name.startswith("vert.x-eventloop"):
        return "event loops"
    if name.startswith("vert.x-worker") or name.startswith("vert.x-internal-blocking"):
        return "Vert.x workers"
    if name.startswith("hz.") or "hazelcast" in name.lower():
        return "Hazelcast"
    return "other"


def samples(jfr_tool, path):
    out = subprocess.run([jfr_tool, "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", path],
                         check=True, capture_output=True, text=True).stdout
    for event in out.split("jdk.ExecutionSample {")[1:]:
        thread = re.search(r'sampledThread = "([^"]*)"', event)
        frames = re.findall(r"^\s+([\w.$]+)\.[\w$<>]+\(", event, re.MULTILINE)
        if frames:
            yield (thread.group(1) if thread else "?"), frames


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jfr", default="/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr")
    parser.add_argument("recordings", nargs="+")
    args = parser.parse_args()
    for path in args.recordings:
        self_, inclusive, threads = collections.Counter(), collections.Counter(), collections.Counter()
        n = 0
        for thread, frames in samples(args.jfr, path):
            n += 1
            self_[component(frames[0])] += 1
            for c in {component(f) for f in frames}:
                inclusive[c] += 1
            threads[thread_group(thread)] += 1
        print(f"== {path}: {n} execution samples")
        if n == 0:
            continue
        print(f"{'component':32} {'self %':>7} {'inclusive %':>12}")
        for name, _ in sorted(self_.items(), key=lambda kv: -kv[1]):
            print(f"{name:32} {100 * self_[name] / n:7.1f} {100 * inclusive[name] / n:12.1f}")
        print("threads: " + ", ".join(f"{k} {100 * v / n:.0f} %" for k, v in threads.most_common()))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
