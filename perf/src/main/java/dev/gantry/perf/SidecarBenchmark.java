package dev.gantry.perf;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * What the sidecar adds: open-loop load at fixed rates (latency measured from each request's
 * scheduled send time, so a stall cannot hide) and closed-loop saturation, against the runner
 * directly, through the sidecar (gRPC and REST v2 JSON), and through Debian's nginx as a gRPC
 * proxy ({@code grpc_pass}) for reference. Proxy CPU comes from /proc of the proxy's processes.
 *
 * <p>Run: {@code perf/bench-sidecar.sh [seconds-per-scenario]}.
 */
public final class SidecarBenchmark {
  private static final double TICKS = 100.0;
  private static final Vertx VERTX = Vertx.vertx();

  private SidecarBenchmark() {}

  /** One measured scenario. */
  record Row(String path, String load, double achieved, double p50, double p99, long errors, double proxyCpuPer1k,
      long proxyRssMb) {}

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
    Path root = Path.of("").toAbsolutePath();
    Path repo = Files.createTempDirectory("gantry-sidecar-bench");
    Directories.copy(root.resolve("examples/models/churn-torchscript"), repo.resolve("mlp"));
    String config = Files.readString(repo.resolve("mlp/config.yaml"));
    Files.writeString(repo.resolve("mlp/config.yaml"), config.substring(0, config.indexOf("dynamic_batching:"))
        + "warmup:\n  iterations: 2\n");
    int runnerPort = freePort();
    int sidecarPort = freePort();
    int nginxPort = freePort();
    List<Process> processes = new ArrayList<>();
    Vertx vertx = VERTX;
    try {
      Process runner = start(processes, "event=runner_started", "java", "-Dai.djl.offline=true", "-Xmx1g", "-jar",
          "model-runner/target/model-runner.jar", "--model-repository", repo.toString(), "--grpc-port",
          Integer.toString(runnerPort), "--metrics-port", "0");
      Process sidecar = start(processes, "event=sidecar_started", "java",
          System.getProperty("gantry.bench.sidecarHeap", "-Xmx512m"), "-jar",
          "sidecar-proxy/target/sidecar-proxy.jar", "--host", "127.0.0.1", "--port", Integer.toString(sidecarPort),
          "--runner-port", Integer.toString(runnerPort), "--max-in-flight", "100000");
      Path nginxDir = Files.createTempDirectory("gantry-nginx");
      Files.createDirectories(nginxDir.resolve("logs"));
      Files.writeString(nginxDir.resolve("nginx.conf"), String.join("\n",
          "worker_processes 2;", "pid " + nginxDir.resolve("nginx.pid") + ";", "error_log stderr warn;",
          "events { worker_connections 4096; }",
          "http {", "  access_log off;",
          "  client_body_temp_path " + nginxDir + "/body;", "  proxy_temp_path " + nginxDir + "/proxy;",
          "  fastcgi_temp_path " + nginxDir + "/fcgi;", "  uwsgi_temp_path " + nginxDir + "/uwsgi;",
          "  scgi_temp_path " + nginxDir + "/scgi;",
          "  upstream runner { server 127.0.0.1:" + runnerPort + "; keepalive 16; }",
          "  server {", "    listen 127.0.0.1:" + nginxPort + " http2;",
          "    location / { grpc_pass grpc://runner; }", "  }", "}", ""));
      Process nginx = new ProcessBuilder("nginx", "-p", nginxDir.toString(), "-c",
          nginxDir.resolve("nginx.conf").toString(), "-g", "daemon off;").redirectErrorStream(true).start();
      processes.add(nginx);
      awaitPort(nginxPort);

      GrpcClient grpc = GrpcClient.client(vertx);
      // REST clients mostly speak HTTP/1.1 with keep-alive: so does this one
      HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(128));
      ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("mlp")
          .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
              .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                  .addFp32Contents(12).addFp32Contents(70.35f).addFp32Contents(844.2f)))
          .build();
      byte[] json = ("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\","
          + "\"data\":[12,70.35,844.2]}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      RequestOptions rest = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(sidecarPort)
          .setURI("/v2/models/mlp/infer").putHeader("content-type", "application/json");

      record Target(String name, Supplier<Future<?>> call, List<Process> proxy) {}
      List<Target> targets = List.of(
          new Target("gRPC → runner (direct)", grpcCall(grpc, runnerPort, request), List.of()),
          new Target("gRPC → sidecar → runner", grpcCall(grpc, sidecarPort, request), List.of(sidecar)),
          new Target("gRPC → nginx grpc_pass → runner", grpcCall(grpc, nginxPort, request), List.of(nginx)),
          new Target("REST v2 JSON → sidecar → runner", () -> http.request(rest)
              .compose(r -> r.send(Buffer.buffer(json))).compose(r -> r.statusCode() == 200 ? r.body()
                  : Future.failedFuture("HTTP " + r.statusCode())), List.of(sidecar)));

      List<Row> rows = new ArrayList<>();
      String only = System.getProperty("gantry.bench.only", "");
    for (Target t : targets) {
      if (!only.isEmpty() && !t.name().contains(only)) {
        continue;
      }
        // warm up: JIT, connections, pools
        closedLoop(t.call(), 64, 3);
        openLoop(t.call(), 1000, 2);
        for (int rate : new int[] {500, 1000}) {
          rows.add(measure(t.name(), rate + " req/s", t.proxy(), () -> openLoop(t.call(), rate, seconds)));
        }
        rows.add(measure(t.name(), "saturation (64 in flight)", t.proxy(), () -> closedLoop(t.call(), 64, seconds)));
      }
      if (only.isEmpty()) {
      print(rows, seconds, runner);
    } else {
      rows.forEach(System.out::println);
      String metrics = http.request(HttpMethod.GET, sidecarPort, "127.0.0.1", "/metrics")
          .compose(r -> r.send()).compose(r -> r.body()).await().toString();
      metrics.lines().filter(l -> !l.startsWith("#") && (l.contains("active_requests") || l.contains("requests_total")
          || l.contains("predictions_total"))).forEach(System.out::println);
    }
      grpc.close().await();
      http.close().await();
    } finally {
      vertx.close().await();
      for (Process p : processes) {
        p.destroy();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private static Supplier<Future<?>> grpcCall(GrpcClient grpc, int port, ModelInferRequest request) {
    GRPCInferenceServiceGrpcClient stub = GRPCInferenceServiceGrpcClient.create(grpc,
        SocketAddress.inetSocketAddress(port, "127.0.0.1"));
    return () -> stub.modelInfer(request);
  }

  /** What one run produced: latencies and counts. */
  record Run(LatencyRecorder.Result result, double seconds) {}

  private interface Load {
    Run run() throws Exception;
  }

  private static Row measure(String path, String load, List<Process> proxy, Load body) throws Exception {
    long cpu0 = cpuTicks(proxy);
    Run run = body.run();
    long cpu1 = cpuTicks(proxy);
    double achieved = run.result().operations() / run.seconds();
    double cpuPer1k = proxy.isEmpty() ? Double.NaN : ((cpu1 - cpu0) / TICKS / run.seconds()) / (achieved / 1000);
    return new Row(path, load, achieved, run.result().p50Micros(), run.result().p99Micros(), run.result().errors(),
        cpuPer1k, proxy.isEmpty() ? 0 : rssMb(proxy));
  }

  /** Sends at a fixed rate whatever the answers do; latency counts from the scheduled send time. */
  private static Run openLoop(Supplier<Future<?>> call, int rate, double seconds) throws InterruptedException {
    // calls start on one event loop, as a Vert.x client expects; this thread only keeps the schedule
    io.vertx.core.Context sender = VERTX.getOrCreateContext();
    LatencyRecorder rec = new LatencyRecorder();
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long total = (long) (rate * seconds);
    CountDownLatch done = new CountDownLatch((int) total);
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime();
    for (long i = 0; i < total; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      sender.runOnContext(v -> call.get().onComplete(ar -> {
        try {
          if (ar.succeeded()) {
            rec.record(System.nanoTime() - due);
            ok.incrementAndGet();
          } else {
            errors.incrementAndGet();
          }
        } catch (RuntimeException e) {
          e.printStackTrace();
        } finally {
          done.countDown();
        }
      }));
    }
    if (!done.await(30 + (long) seconds, TimeUnit.SECONDS)) {
      System.err.printf("open loop at %d req/s: %d of %d calls never completed (ok %d, errors %d)%n", rate,
          done.getCount(), total, ok.get(), errors.get());
    }
    double took = (System.nanoTime() - start) / 1e9;
    return new Run(rec.result("", ok.get(), ok.get(), took, errors.get()), took);
  }

  private static Run closedLoop(Supplier<Future<?>> call, int concurrency, double seconds) throws InterruptedException {
    LatencyRecorder rec = new LatencyRecorder();
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    long deadline = start + (long) (seconds * 1e9);
    CountDownLatch done = new CountDownLatch(concurrency);
    for (int i = 0; i < concurrency; i++) {
      next(call, deadline, rec, ok, errors, done);
    }
    done.await(30 + (long) seconds, TimeUnit.SECONDS);
    double took = (System.nanoTime() - start) / 1e9;
    return new Run(rec.result("", ok.get(), ok.get(), took, errors.get()), took);
  }

  private static void next(Supplier<Future<?>> call, long deadline, LatencyRecorder rec, AtomicLong ok,
      AtomicLong errors, CountDownLatch done) {
    if (System.nanoTime() >= deadline) {
      done.countDown();
      return;
    }
    long t0 = System.nanoTime();
    call.get().onComplete(ar -> {
      if (ar.succeeded()) {
        rec.record(System.nanoTime() - t0);
        ok.incrementAndGet();
      } else {
        errors.incrementAndGet();
      }
      next(call, deadline, rec, ok, errors, done);
    });
  }

  private static void print(List<Row> rows, double seconds, Process runner) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%nSidecar benchmark: churn MLP (batching off), %.0f s per scenario, %d cores, Java %s,"
        + " load generator in its own JVM on the same machine%n%n", seconds, Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version")));
    sb.append("| path | load | achieved req/s | p50 µs | p99 µs | errors | proxy CPU (cores) per 1000 req/s |"
        + " proxy RSS MB |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      sb.append(String.format("| %s | %s | %.0f | %.0f | %.0f | %d | %s | %s |%n", r.path(), r.load(), r.achieved(),
          r.p50(), r.p99(), r.errors(), Double.isNaN(r.proxyCpuPer1k()) ? "–" : String.format("%.3f", r.proxyCpuPer1k()),
          r.proxyRssMb() == 0 ? "–" : Long.toString(r.proxyRssMb())));
    }
    sb.append("\nAdded latency over the direct gRPC call at the same load (µs, p50 / p99):\n");
    for (int i = 0; i < 3; i++) {
      Row direct = rows.get(i);
      for (int t = 1; t < 4; t++) {
        Row via = rows.get(t * 3 + i);
        sb.append(String.format("- %s, %s: %+.0f / %+.0f%n", via.path(), via.load(), via.p50() - direct.p50(),
            via.p99() - direct.p99()));
      }
    }
    sb.append("\nSidecar vs nginx (gRPC), same run:\n");
    for (int i = 0; i < 3; i++) {
      Row side = rows.get(3 + i);
      Row nginx = rows.get(6 + i);
      sb.append(String.format("- %s: CPU per 1000 req/s %.2fx, p99 %.2fx, throughput %.2fx%n", side.load(),
          side.proxyCpuPer1k() / nginx.proxyCpuPer1k(), side.p99() / nginx.p99(), side.achieved() / nginx.achieved()));
    }
    System.out.println(sb);
  }

  private static long cpuTicks(List<Process> processes) throws IOException {
    long total = 0;
    for (Process p : processes) {
      List<Long> pids = new ArrayList<>();
      pids.add(p.pid());
      p.descendants().forEach(h -> pids.add(h.pid()));
      for (long pid : pids) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.exists(stat)) {
          String s = Files.readString(stat);
          String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
          total += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
      }
    }
    return total;
  }

  private static long rssMb(List<Process> processes) throws IOException {
    long kb = 0;
    for (Process p : processes) {
      List<Long> pids = new ArrayList<>();
      pids.add(p.pid());
      p.descendants().forEach(h -> pids.add(h.pid()));
      for (long pid : pids) {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        if (Files.exists(status)) {
          for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
              kb += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
          }
        }
      }
    }
    return kb / 1024;
  }

  private static Process start(List<Process> processes, String marker, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    processes.add(p);
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
    for (String line; (line = r.readLine()) != null; ) {
      if (line.contains(marker)) {
        Thread drain = new Thread(() -> {
          try {
            while (r.readLine() != null) {
              // keep the pipe empty
            }
          } catch (IOException e) {
            // process ended
          }
        });
        drain.setDaemon(true);
        drain.start();
        return p;
      }
    }
    throw new IllegalStateException("process ended before '" + marker + "': " + String.join(" ", command));
  }

  private static void awaitPort(int port) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException("nothing listens on " + port);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

}
