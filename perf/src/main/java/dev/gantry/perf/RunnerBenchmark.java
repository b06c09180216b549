package dev.gantry.perf;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.HdrHistogram.Recorder;

/**
 * The model-runner benchmark: the in-process DJL ceiling (batch 1 and 32) against gRPC
 * ModelInfer over loopback at concurrency 1 and 64, with dynamic batching off and on, all on
 * the TorchScript churn MLP and all in one run so that the ratios compare like with like.
 * "Batching on" is the default {@code queue_delay_policy} (wait for more only while another
 * instance is busy); the same model with {@code queue_delay_policy: always} (a lone request waits
 * the whole delay, the runner's behaviour before issue 12) runs last, here only. The runner is the
 * built jar in a process of its own; the ceiling runs in a JVM of its own on that jar.
 * {@link CompareBenchmark} runs the same scenarios against two builds, all but the {@code always}
 * ones (a baseline build may not know the option).
 *
 * <p>Run: {@code perf/bench-runner.sh [seconds-per-scenario]}.
 */
public final class RunnerBenchmark {
  static final String INFER = "/inference.GRPCInferenceService/ModelInfer";

  private RunnerBenchmark() {}

  /** The batched model with {@code queue_delay_policy: always}. */
  static final String ALWAYS_WAITING_MODEL = "mlp-batched-always";

  /** A closed-loop gRPC scenario. */
  record Scenario(String model, int concurrency) {
    String name() {
      String batching = switch (model) {
        case "mlp-unbatched" -> "batching off";
        case ALWAYS_WAITING_MODEL -> "batching on, queue_delay_policy always";
        default -> "batching on";
      };
      return "gRPC ModelInfer, " + batching + ", concurrency " + concurrency;
    }
  }

  static final List<Scenario> GRPC = List.of(new Scenario("mlp-unbatched", 1), new Scenario("mlp-unbatched", 64),
      new Scenario("mlp-batched", 1), new Scenario("mlp-batched", 64));
  /** Only in this benchmark: a baseline build in {@link CompareBenchmark} may not know the option. */
  static final List<Scenario> ALWAYS_WAITING = List.of(new Scenario(ALWAYS_WAITING_MODEL, 1),
      new Scenario(ALWAYS_WAITING_MODEL, 64));

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
    Path examples = Path.of(args.length > 1 ? args[1] : "examples/models").toAbsolutePath();
    Build build = Build.workingTree(Path.of(""));
    List<String> names = new ArrayList<>();
    List<Sample> results = new ArrayList<>();
    for (int batch : new int[] {1, 32}) {
      names.add("in-process DJL predictor, batch " + batch);
      results.add(ceiling(build, examples, batch, seconds));
    }
    Vertx vertx = Vertx.vertx();
    try (ChildProcesses processes = new ChildProcesses()) {
      Path repo = alwaysWaiting(repository(examples, processes.temporaryDirectory("gantry-bench")));
      int port = ChildProcesses.freePort();
      Process runner = processes.runner(build, repo, port);
      GrpcClient client = GrpcClient.client(vertx);
      LoadGenerator load = new LoadGenerator(vertx);
      List<Scenario> scenarios = Stream.concat(GRPC.stream(), ALWAYS_WAITING.stream()).toList();
      // without this, the first scenario measured (batching off, concurrency 1) also pays for
      // warming up the runner and this JVM's client
      warmUp(load, stub(client, port), scenarios, seconds);
      for (Scenario s : scenarios) {
        names.add(s.name());
        results.add(grpc(load, stub(client, port), s, List.of(runner), seconds));
      }
    } finally {
      vertx.close().await();
    }
    print(names, results, seconds);
  }

  /** Fills {@code repo} with the churn MLP without batching and with a 1000 µs batching delay. */
  static Path repository(Path examples, Path repo) throws IOException {
    Directories.copy(examples.resolve("churn-torchscript"), repo.resolve("mlp-unbatched"));
    Path batched = Directories.copy(examples.resolve("churn-torchscript"), repo.resolve("mlp-batched"));
    Path unbatchedConfig = repo.resolve("mlp-unbatched/config.yaml");
    String config = Files.readString(unbatchedConfig);
    Files.writeString(unbatchedConfig, config.substring(0, config.indexOf("dynamic_batching:"))
        + "instance_count: 1\nwarmup:\n  iterations: 2\n");
    Files.writeString(batched.resolve("config.yaml"), config.replace("max_queue_delay_microseconds: 500",
        "max_queue_delay_microseconds: 1000"));
    return repo;
  }

  /** Adds {@value #ALWAYS_WAITING_MODEL}: {@code mlp-batched} with {@code queue_delay_policy: always}. */
  static Path alwaysWaiting(Path repo) throws IOException {
    Path always = Directories.copy(repo.resolve("mlp-batched"), repo.resolve(ALWAYS_WAITING_MODEL));
    String config = Files.readString(always.resolve("config.yaml"));
    if (!config.contains("dynamic_batching:\n")) {
      throw new IOException(always.resolve("config.yaml") + " has no dynamic_batching section to add the policy to");
    }
    Files.writeString(always.resolve("config.yaml"), config.replace("dynamic_batching:\n",
        "dynamic_batching:\n  queue_delay_policy: always\n"));
    return repo;
  }

  /** One batch-1 row of the churn MLP. */
  static ModelInferRequest request(String model) {
    return ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
            .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                .addFp32Contents(12).addFp32Contents(70.35f).addFp32Contents(844.2f)))
        .build();
  }

  static GRPCInferenceServiceGrpcClient stub(GrpcClient client, int port) {
    return GRPCInferenceServiceGrpcClient.create(client, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
  }

  /**
   * Runs each scenario's model at saturation and then one call at a time, unmeasured: the first
   * seconds of a runner and of the client's JVM are not their steady state, and the paths taken
   * only when calls come one by one (a worker parking on an empty queue, an idle event loop) are
   * not compiled by saturation alone; without the second pass the first concurrency-1 scenario
   * measured paid for them (p50 three to four times that of the same scenario measured later).
   */
  static void warmUp(LoadGenerator load, GRPCInferenceServiceGrpcClient stub, List<Scenario> scenarios,
      double seconds) throws InterruptedException {
    for (String model : scenarios.stream().map(Scenario::model).distinct().toList()) {
      ModelInferRequest request = request(model);
      for (int concurrency : new int[] {SidecarBenchmark.SATURATION, 1}) {
        load.closedLoop(() -> stub.modelInfer(request), concurrency, Math.max(5, seconds) / 2);
      }
    }
  }

  /** The in-process ceiling on {@code build}'s runner jar, in a JVM of its own ({@link EngineCeiling}). */
  static Sample ceiling(Build build, Path examples, int batch, double seconds)
      throws IOException, InterruptedException {
    String classpath = String.join(File.pathSeparator, location(EngineCeiling.class), build.runnerJar().toString(),
        location(Recorder.class));
    Process p = new ProcessBuilder("java", "-Dai.djl.offline=true", "-Xms1g", "-Xmx1g", "-cp", classpath,
        EngineCeiling.class.getName(), Integer.toString(batch), Double.toString(seconds), examples.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    String line = out.lines().filter(l -> l.startsWith("sample ")).findFirst()
        .orElseThrow(() -> new IOException("the in-process ceiling printed no result:\n" + out));
    return Sample.parse(line);
  }

  private static String location(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Closed loop at the scenario's concurrency after a 2 s warm-up; CPU and memory are the runner's. */
  static Sample grpc(LoadGenerator load, GRPCInferenceServiceGrpcClient stub, Scenario s, List<Process> runner,
      double seconds) throws Exception {
    ModelInferRequest request = request(s.model());
    load.closedLoop(() -> stub.modelInfer(request), s.concurrency(), 2);
    return Sample.measure(runner, () -> load.closedLoop(() -> stub.modelInfer(request), s.concurrency(), seconds));
  }

  private static void print(List<String> names, List<Sample> r, double seconds) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%nModel-runner benchmark: churn-torchscript (3-16-2 MLP), %.0f s per scenario, "
        + "%d cores, Java %s%n%n", seconds, Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version")));
    sb.append("| scenario | calls/s | rows/s | p50 µs | p99 µs | errors | CPU (cores) per 1000 calls/s | RSS MB |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < r.size(); i++) {
      Sample x = r.get(i);
      int batch = i == 1 ? 32 : 1;
      sb.append(String.format("| %s | %.0f | %.0f | %.0f | %.0f | %d | %.3f | %d |%n", names.get(i), x.perSecond(),
          x.perSecond() * batch, x.p50Micros(), x.p99Micros(), x.errors(), x.cpuPer1k(), x.rssMb()));
    }
    double ip1 = r.get(0).perSecond();
    double ip32 = r.get(1).perSecond() * 32;
    Sample off1 = r.get(2);
    Sample off64 = r.get(3);
    Sample on1 = r.get(4);
    Sample on64 = r.get(5);
    Sample always1 = r.get(6);
    Sample always64 = r.get(7);
    sb.append(String.format("%nRatios (same run):%n"));
    sb.append(String.format("- in-process batch 32 vs batch 1, rows/s: %.1fx%n", ip32 / ip1));
    sb.append(String.format("- gRPC (batching off, c=1) vs in-process batch 1, rows/s: %.2f%n",
        off1.perSecond() / ip1));
    sb.append(String.format("- gRPC (batching on, c=64) vs in-process batch 32 ceiling, rows/s: %.2f%n",
        on64.perSecond() / ip32));
    sb.append(String.format("- batching on vs off at c=64: throughput %.2fx, p99 %.2fx%n",
        on64.perSecond() / off64.perSecond(), on64.p99Micros() / off64.p99Micros()));
    sb.append(String.format("- batching on vs off at c=1: throughput %.2fx, p50 %.2fx%n",
        on1.perSecond() / off1.perSecond(), on1.p50Micros() / off1.p50Micros()));
    sb.append(String.format("- batching on (queue_delay_policy always) vs off at c=1: throughput %.2fx, p50 %.2fx%n",
        always1.perSecond() / off1.perSecond(), always1.p50Micros() / off1.p50Micros()));
    sb.append(String.format("- batching on, default vs always, at c=1: throughput %.2fx, p50 %.2fx; at c=64: "
        + "throughput %.2fx, p99 %.2fx%n", on1.perSecond() / always1.perSecond(),
        on1.p50Micros() / always1.p50Micros(), on64.perSecond() / always64.perSecond(),
        on64.p99Micros() / always64.p99Micros()));
    System.out.println(sb);
  }
}
