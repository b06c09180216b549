package dev.gantry.perf;

import dev.gantry.proto.inference.ModelInferRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.grpc.client.GrpcClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the sidecar adds: open-loop load at fixed rates (latency measured from each request's
 * scheduled send time, so a stall cannot hide) and closed-loop saturation, against the runner
 * directly, through the sidecar (gRPC and REST v2 JSON), and through Debian's nginx as a gRPC
 * proxy ({@code grpc_pass}) for reference. CPU comes from /proc of the proxy's processes (of the
 * runner on the direct path). {@link CompareBenchmark} runs the same scenarios against two builds.
 *
 * <p>Run: {@code perf/bench-sidecar.sh [seconds-per-scenario]}.
 */
public final class SidecarBenchmark {
  static final String REST_PATH = "/v2/models/mlp/infer";
  static final String JSON = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\","
      + "\"data\":[12,70.35,844.2]}]}";
  static final ModelInferRequest REQUEST = RunnerBenchmark.request("mlp");
  static final int[] RATES = {500, 1000};
  static final int SATURATION = 64;

  private SidecarBenchmark() {}

  /**
   * A way in; the processes whose CPU and memory it is charged ({@code measured} names them); and the
   * same saturation from a load generator we did not write.
   */
  record Target(String name, Supplier<Future<?>> call, String measured, List<Process> processes,
      String generator, External external) {}

  /** A closed loop from an outside load generator for some seconds. */
  @FunctionalInterface
  interface External {
    LatencyRecorder.Result run(double seconds) throws Exception;
  }

  /** One build's servers: the runner, the sidecar in front of it, nginx in front of it. */
  record Stack(Build build, Process runner, int runnerPort, Process sidecar, int sidecarPort, Process nginx,
      int nginxPort) {

    static Stack start(ChildProcesses processes, Build build, Path repository, String sidecarHeap) throws Exception {
      int runnerPort = ChildProcesses.freePort();
      Process runner = processes.runner(build, repository, runnerPort);
      int sidecarPort = ChildProcesses.freePort();
      Process sidecar = processes.sidecar(build, sidecarHeap, sidecarPort, runnerPort);
      int nginxPort = ChildProcesses.freePort();
      Process nginx = processes.nginx(nginxPort, runnerPort);
      return new Stack(build, runner, runnerPort, sidecar, sidecarPort, nginx, nginxPort);
    }

    List<Target> targets(GrpcClient grpc, HttpClient http) {
      return List.of(
          grpcTarget("gRPC → runner (direct)", grpc, runnerPort, "runner", runner),
          grpcTarget("gRPC → sidecar → runner", grpc, sidecarPort, "sidecar", sidecar),
          grpcTarget("gRPC → nginx grpc_pass → runner", grpc, nginxPort, "nginx", nginx),
          restTarget("REST v2 JSON → sidecar → runner", http, sidecarPort, sidecar));
    }
  }

  static Target grpcTarget(String name, GrpcClient grpc, int port, String measured, Process process) {
    var stub = RunnerBenchmark.stub(grpc, port);
    byte[] message = REQUEST.toByteArray();
    return new Target(name, () -> stub.modelInfer(REQUEST), measured, List.of(process), "h2load -c4 -m16",
        s -> ExternalLoad.h2load(port, RunnerBenchmark.INFER, message, 4, SATURATION / 4, s));
  }

  static Target restTarget(String name, HttpClient http, int port, Process sidecar) {
    RequestOptions rest = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI(REST_PATH).putHeader("content-type", "application/json");
    Buffer body = Buffer.buffer(JSON);
    return new Target(name, () -> http.request(rest).compose(r -> r.send(body))
        .compose(r -> r.statusCode() == 200 ? r.body() : Future.failedFuture("HTTP " + r.statusCode())),
        "sidecar", List.of(sidecar), "wrk -t1 -c64", s -> ExternalLoad.wrk(port, REST_PATH, JSON, SATURATION, s));
  }

  /** REST clients mostly speak HTTP/1.1 with keep-alive: so does this one. */
  static HttpClient restClient(Vertx vertx) {
    return vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(128));
  }

  /** Fills {@code repo} with the churn MLP as {@code mlp}, batching off. */
  static Path repository(Path examples, Path repo) throws IOException {
    Directories.copy(examples.resolve("churn-torchscript"), repo.resolve("mlp"));
    String config = Files.readString(repo.resolve("mlp/config.yaml"));
    Files.writeString(repo.resolve("mlp/config.yaml"), config.substring(0, config.indexOf("dynamic_batching:"))
        + "warmup:\n  iterations: 2\n");
    return repo;
  }

  /** JIT, connections, pools: 3 s at saturation, 2 s at 1000 req/s. */
  static void warmUp(LoadGenerator load, Target t) throws InterruptedException {
    load.closedLoop(t.call(), SATURATION, 3);
    load.openLoop(t.call(), 1000, 2);
  }

  /** The three loads on one path: 500 and 1000 req/s, then saturation. */
  static List<String> loads() {
    List<String> loads = new ArrayList<>();
    for (int rate : RATES) {
      loads.add(rate + " req/s");
    }
    loads.add("saturation (" + SATURATION + " in flight)");
    return loads;
  }

  static Sample measure(LoadGenerator load, Target t, int loadIndex, double seconds) throws Exception {
    return Sample.measure(t.processes(), () -> loadIndex < RATES.length
        ? load.openLoop(t.call(), RATES[loadIndex], seconds) : load.closedLoop(t.call(), SATURATION, seconds));
  }

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
    Path root = Path.of("").toAbsolutePath();
    Vertx vertx = Vertx.vertx();
    try (ChildProcesses processes = new ChildProcesses()) {
      Path repo = repository(root.resolve("examples/models"), processes.temporaryDirectory("gantry-sidecar-bench"));
      Stack stack = Stack.start(processes, Build.workingTree(root), repo,
          System.getProperty("gantry.bench.sidecarHeap", "-Xmx512m"));
      GrpcClient grpc = GrpcClient.client(vertx);
      HttpClient http = restClient(vertx);
      LoadGenerator load = new LoadGenerator(vertx);
      List<Target> targets = stack.targets(grpc, http);
      List<String> loads = loads();
      List<Sample> rows = new ArrayList<>();
      String only = System.getProperty("gantry.bench.only", "");
      for (Target t : targets) {
        if (!only.isEmpty() && !t.name().contains(only)) {
          continue;
        }
        warmUp(load, t);
        for (int l = 0; l < loads.size(); l++) {
          rows.add(measure(load, t, l, seconds));
        }
      }
      if (only.isEmpty()) {
        print(targets, loads, rows, seconds);
      } else {
        rows.forEach(System.out::println);
        String metrics = http.request(HttpMethod.GET, stack.sidecarPort(), "127.0.0.1", "/metrics")
            .compose(r -> r.send()).compose(r -> r.body()).await().toString();
        metrics.lines().filter(l -> !l.startsWith("#") && (l.contains("active_requests")
            || l.contains("requests_total") || l.contains("predictions_total"))).forEach(System.out::println);
      }
    } finally {
      vertx.close().await();
    }
  }

  private static void print(List<Target> targets, List<String> loads, List<Sample> rows, double seconds) {
    int n = loads.size();
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%nSidecar benchmark: churn MLP (batching off), %.0f s per scenario, %d cores, Java %s,"
        + " load generator in its own JVM on the same machine%n%n", seconds, Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version")));
    sb.append("| path | load | achieved req/s | p50 µs | p99 µs | errors | CPU (cores) per 1000 req/s | RSS MB "
        + "| of |\n"
        + "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int t = 0; t < targets.size(); t++) {
      for (int l = 0; l < n; l++) {
        Sample r = rows.get(t * n + l);
        sb.append(String.format("| %s | %s | %.0f | %.0f | %.0f | %d | %.3f | %d | %s |%n", targets.get(t).name(),
            loads.get(l), r.perSecond(), r.p50Micros(), r.p99Micros(), r.errors(), r.cpuPer1k(), r.rssMb(),
            targets.get(t).measured()));
      }
    }
    sb.append("\nAdded latency over the direct gRPC call at the same load (µs, p50 / p99):\n");
    for (int l = 0; l < n; l++) {
      Sample direct = rows.get(l);
      for (int t = 1; t < targets.size(); t++) {
        Sample via = rows.get(t * n + l);
        sb.append(String.format("- %s, %s: %+.0f / %+.0f%n", targets.get(t).name(), loads.get(l),
            via.p50Micros() - direct.p50Micros(), via.p99Micros() - direct.p99Micros()));
      }
    }
    sb.append("\nSidecar vs nginx (gRPC), same run:\n");
    for (int l = 0; l < n; l++) {
      Sample side = rows.get(n + l);
      Sample nginx = rows.get(2 * n + l);
      sb.append(String.format("- %s: CPU per 1000 req/s %.2fx, p99 %.2fx, throughput %.2fx%n", loads.get(l),
          side.cpuPer1k() / nginx.cpuPer1k(), side.p99Micros() / nginx.p99Micros(),
          side.perSecond() / nginx.perSecond()));
    }
    System.out.println(sb);
  }
}
