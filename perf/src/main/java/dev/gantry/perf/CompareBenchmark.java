package dev.gantry.perf;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.grpc.client.GrpcClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Before and after: the runner or the sidecar benchmark's scenarios against two builds in one
 * run. Both builds' servers run side by side; each scenario is measured on one build and at once on
 * the other, the first of the two alternating from scenario to scenario, with the same load
 * generator and duration. What it prints is one table with both figures and current / baseline.
 *
 * <p>Arguments: {@code runner|sidecar seconds baseline-dir current-dir [examples-dir]}, the folders
 * as {@code perf/bench-compare.sh} fills them (see {@link Build#copiedTo}).
 */
public final class CompareBenchmark {
  private static final String SIDECAR_HEAP = "-Xmx512m";
  private static final int COLD_STARTS = 3;

  private final Build[] builds;
  private final double seconds;
  private final Path examples;
  private final LoadGenerator load;
  private final List<Pair> pairs = new ArrayList<>();
  /** Scenario n is measured on the baseline first when n + turn is even; -Dgantry.compare.currentFirst flips it. */
  private int turn = Boolean.getBoolean("gantry.compare.currentFirst") ? 1 : 0;

  /** One scenario measured on both builds. */
  record Pair(String path, String load, String generator, String measured, Sample baseline, Sample current) {}

  /** One build's measurement of a scenario; {@code build} is 0 for the baseline, 1 for the current one. */
  @FunctionalInterface
  private interface PerBuild {
    Sample run(int build) throws Exception;
  }

  private CompareBenchmark(Build baseline, Build current, double seconds, Path examples, LoadGenerator load) {
    this.builds = new Build[] {requireNonNull(baseline, "baseline"), requireNonNull(current, "current")};
    this.seconds = seconds;
    this.examples = requireNonNull(examples, "examples");
    this.load = requireNonNull(load, "load");
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4 || !List.of("runner", "sidecar").contains(args[0])) {
      System.err.println("usage: CompareBenchmark runner|sidecar seconds baseline-dir current-dir [examples-dir]");
      System.exit(2);
    }
    Vertx vertx = Vertx.vertx();
    try {
      CompareBenchmark run = new CompareBenchmark(Build.copiedTo(Path.of(args[2])), Build.copiedTo(Path.of(args[3])),
          Double.parseDouble(args[1]), Path.of(args.length > 4 ? args[4] : "examples/models").toAbsolutePath(),
          new LoadGenerator(vertx));
      if (args[0].equals("runner")) {
        run.runner(vertx);
      } else {
        run.sidecar(vertx);
      }
      run.print(args[0]);
    } finally {
      vertx.close().await();
    }
  }

  /** The runner benchmark's scenarios, then the saturation ones again from h2load. */
  private void runner(Vertx vertx) throws Exception {
    for (int batch : new int[] {1, 32}) {
      both("in-process DJL predictor, batch " + batch, "1 thread", "own loop", "its JVM",
          b -> RunnerBenchmark.ceiling(builds[b], examples, batch, seconds));
    }
    try (ChildProcesses processes = new ChildProcesses()) {
      Path repo = RunnerBenchmark.repository(examples, processes.temporaryDirectory("gantry-bench"));
      int[] ports = new int[2];
      List<List<Process>> runners = new ArrayList<>();
      GrpcClient client = GrpcClient.client(vertx);
      for (int b = 0; b < 2; b++) {
        ports[b] = ChildProcesses.freePort();
        runners.add(List.of(processes.runner(builds[b], repo, ports[b])));
      }
      var stubs = List.of(RunnerBenchmark.stub(client, ports[0]), RunnerBenchmark.stub(client, ports[1]));
      // both runners, and this JVM's client, past their first seconds before anything is measured:
      // otherwise the build measured first also pays for warming the client
      for (int b = 0; b < 2; b++) {
        RunnerBenchmark.warmUp(load, stubs.get(b), RunnerBenchmark.GRPC, seconds);
      }
      for (RunnerBenchmark.Scenario s : RunnerBenchmark.GRPC) {
        both(s.name(), s.concurrency() + " in flight", "Vert.x", "runner",
            b -> RunnerBenchmark.grpc(load, stubs.get(b), s, runners.get(b), seconds));
      }
      for (RunnerBenchmark.Scenario s : RunnerBenchmark.GRPC) {
        if (s.concurrency() == SidecarBenchmark.SATURATION) {
          byte[] message = RunnerBenchmark.request(s.model()).toByteArray();
          both(s.name(), s.concurrency() + " in flight", "h2load -c4 -m16", "runner",
              b -> Sample.measure(runners.get(b), () -> ExternalLoad.h2load(ports[b], RunnerBenchmark.INFER, message,
                  4, s.concurrency() / 4, seconds)));
        }
      }
    }
  }

  /**
   * The sidecar benchmark's scenarios with both builds' runner, sidecar and nginx up at once; then
   * saturation from h2load and wrk; then fresh sidecars ({@value #COLD_STARTS} per build and protocol),
   * each measured over its first seconds against its build's warm runner.
   */
  private void sidecar(Vertx vertx) throws Exception {
    try (ChildProcesses processes = new ChildProcesses()) {
      Path repo = SidecarBenchmark.repository(examples, processes.temporaryDirectory("gantry-sidecar-bench"));
      GrpcClient grpc = GrpcClient.client(vertx);
      HttpClient http = SidecarBenchmark.restClient(vertx);
      List<SidecarBenchmark.Stack> stacks = new ArrayList<>();
      List<List<SidecarBenchmark.Target>> targets = new ArrayList<>();
      for (Build build : builds) {
        SidecarBenchmark.Stack stack = SidecarBenchmark.Stack.start(processes, build, repo, SIDECAR_HEAP);
        stacks.add(stack);
        targets.add(stack.targets(grpc, http));
      }
      // the first minute of a JVM on 2 cores is not its steady state: run both sidecar paths (and
      // with them the runner) at saturation before anything is measured
      double warm = Math.max(5, seconds);
      for (int b = 0; b < 2; b++) {
        for (SidecarBenchmark.Target t : targets.get(b)) {
          if (t.measured().equals("sidecar")) {
            load.closedLoop(t.call(), SidecarBenchmark.SATURATION, warm);
          }
        }
      }
      List<String> loads = SidecarBenchmark.loads();
      for (int i = 0; i < targets.get(0).size(); i++) {
        int t = i;
        for (int b = 0; b < 2; b++) {
          SidecarBenchmark.warmUp(load, targets.get(b).get(t));
        }
        for (int l = 0; l < loads.size(); l++) {
          int loadIndex = l;
          SidecarBenchmark.Target target = targets.get(0).get(t);
          both(target.name(), loads.get(l), "Vert.x", target.measured(),
              b -> SidecarBenchmark.measure(load, targets.get(b).get(t), loadIndex, seconds));
        }
      }
      for (int i = 0; i < targets.get(0).size(); i++) {
        int t = i;
        SidecarBenchmark.Target target = targets.get(0).get(t);
        both(target.name(), loads.get(loads.size() - 1), target.generator(), target.measured(),
            b -> {
              SidecarBenchmark.Target on = targets.get(b).get(t);
              return Sample.measure(on.processes(), () -> on.external().run(seconds));
            });
      }
      // a JVM's first seconds vary from start to start far more than its steady state: three starts each
      double cold = Math.min(5, seconds);
      String coldLoad = "1000 req/s, first " + Math.round(cold) + " s after start";
      for (int start = 1; start <= COLD_STARTS; start++) {
        both("gRPC → sidecar (cold, start " + start + ") → runner", coldLoad, "Vert.x", "sidecar", b -> {
          int port = ChildProcesses.freePort();
          Process sidecar = processes.sidecar(builds[b], SIDECAR_HEAP, port, stacks.get(b).runnerPort());
          return coldRun(processes, SidecarBenchmark.grpcTarget("", grpc, port, "sidecar", sidecar), cold);
        });
      }
      for (int start = 1; start <= COLD_STARTS; start++) {
        both("REST v2 JSON → sidecar (cold, start " + start + ") → runner", coldLoad, "Vert.x", "sidecar", b -> {
          int port = ChildProcesses.freePort();
          Process sidecar = processes.sidecar(builds[b], SIDECAR_HEAP, port, stacks.get(b).runnerPort());
          return coldRun(processes, SidecarBenchmark.restTarget("", http, port, sidecar), cold);
        });
      }
    }
  }

  private Sample coldRun(ChildProcesses processes, SidecarBenchmark.Target t, double cold) throws Exception {
    try {
      return Sample.measure(t.processes(), () -> load.openLoop(t.call(), 1000, cold));
    } finally {
      processes.stop(t.processes().get(0));
    }
  }

  /** Measures one scenario on both builds, the baseline first on every other scenario. */
  private void both(String path, String loadName, String generator, String measured, PerBuild run) throws Exception {
    Sample[] s = new Sample[2];
    int first = turn++ % 2;
    s[first] = run.run(first);
    s[1 - first] = run.run(1 - first);
    pairs.add(new Pair(path, loadName, generator, measured, s[0], s[1]));
    System.err.printf("%s, %s, %s: %.0f / %.0f per s%n", path, loadName, generator, s[0].perSecond(),
        s[1].perSecond());
  }

  private void print(String part) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%n%s benchmark, before / after in one run: baseline %s, current %s; %.0f s per scenario, "
        + "%d cores, Java %s. Each cell: baseline → current (current / baseline).%n%n",
        part.equals("runner") ? "Model-runner" : "Sidecar", builds[0].label(), builds[1].label(), seconds,
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version")));
    sb.append("| path | load | generator | req/s | p50 µs | p99 µs | errors | CPU (cores) per 1000 req/s | RSS MB "
        + "| CPU, RSS of |\n|---|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (Pair p : pairs) {
      Sample a = p.baseline();
      Sample b = p.current();
      sb.append(String.format("| %s | %s | %s | %s | %s | %s | %d / %d | %s | %s | %s |%n", p.path(), p.load(),
          p.generator(), cell("%.0f", a.perSecond(), b.perSecond()), cell("%.0f", a.p50Micros(), b.p50Micros()),
          cell("%.0f", a.p99Micros(), b.p99Micros()), a.errors(), b.errors(),
          cell("%.3f", a.cpuPer1k(), b.cpuPer1k()), cell("%.0f", a.rssMb(), b.rssMb()), p.measured()));
    }
    List<Pair> warm = pairs.stream().filter(p -> !p.path().contains("(cold")).toList();
    // at a fixed rate the throughput is the rate: only closed loops say what a build can serve
    List<Pair> closed = warm.stream().filter(p -> !p.load().endsWith("req/s")).toList();
    sb.append(String.format("%nGeometric means of current / baseline: throughput %.3f over the %d closed-loop rows; "
        + "p50 %.3f, p99 %.3f, CPU per request %.3f over the %d warm rows%n", geomean(closed, Sample::perSecond),
        closed.size(), geomean(warm, Sample::p50Micros), geomean(warm, Sample::p99Micros),
        geomean(warm.stream().filter(p -> !Double.isNaN(p.baseline().cpuPer1k())).toList(), Sample::cpuPer1k),
        warm.size()));
    System.out.println(sb);
  }

  private static String cell(String format, double baseline, double current) {
    if (Double.isNaN(baseline) || Double.isNaN(current)) {
      return "–";
    }
    return String.format(format + " → " + format + " (%.2f)", baseline, current, current / baseline);
  }

  private static double geomean(List<Pair> rows, java.util.function.ToDoubleFunction<Sample> f) {
    double logs = 0;
    for (Pair p : rows) {
      logs += Math.log(f.applyAsDouble(p.current()) / f.applyAsDouble(p.baseline()));
    }
    return Math.exp(logs / rows.size());
  }
}
