package dev.gantry.perf;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.engine.ModelLoader;
import dev.gantry.runner.inference.Tensor;
import dev.gantry.runner.repository.ModelDefinition;
import dev.gantry.runner.repository.ModelRepository;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The model-runner benchmark: the in-process DJL ceiling (batch 1 and 32) against gRPC
 * ModelInfer over loopback at concurrency 1 and 64, with dynamic batching off and on, all on
 * the TorchScript churn MLP and all in one run so that the ratios compare like with like.
 *
 * <p>Run: {@code perf/bench-runner.sh [seconds-per-scenario]}.
 */
public final class RunnerBenchmark {
  private RunnerBenchmark() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("ai.djl.offline", "true");
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
    Path examples = Path.of(args.length > 1 ? args[1] : "examples/models").toAbsolutePath();
    List<LatencyRecorder.Result> results = new ArrayList<>();

    ModelDefinition def = new ModelRepository(examples, Optional.empty()).read("churn-torchscript");
    try (LoadedModel model = new ModelLoader().load(def.config(), def.versions().get(1L));
        LoadedModel.Instance instance = model.newInstance()) {
      results.add(inProcess(instance, 1, seconds));
      results.add(inProcess(instance, 32, seconds));
    }

    Path repo = Files.createTempDirectory("gantry-bench");
    Directories.copy(examples.resolve("churn-torchscript"), repo.resolve("mlp-unbatched"));
    Path batched = Directories.copy(examples.resolve("churn-torchscript"), repo.resolve("mlp-batched"));
    Path unbatchedConfig = repo.resolve("mlp-unbatched/config.yaml");
    String config = Files.readString(unbatchedConfig);
    Files.writeString(unbatchedConfig, config.substring(0, config.indexOf("dynamic_batching:"))
        + "instance_count: 1\nwarmup:\n  iterations: 2\n");
    Files.writeString(batched.resolve("config.yaml"), config.replace("max_queue_delay_microseconds: 500",
        "max_queue_delay_microseconds: 1000"));
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo))) {
      Vertx vertx = Vertx.vertx();
      GrpcClient client = GrpcClient.client(vertx);
      GRPCInferenceServiceGrpcClient stub = GRPCInferenceServiceGrpcClient.create(client,
          SocketAddress.inetSocketAddress(runner.grpcPort(), "127.0.0.1"));
      for (String model : List.of("mlp-unbatched", "mlp-batched")) {
        for (int concurrency : new int[] {1, 64}) {
          results.add(grpc(stub, model, concurrency, seconds));
        }
      }
      client.close().await();
      vertx.close().await();
    }

    print(results, seconds);
  }

  private static LatencyRecorder.Result inProcess(LoadedModel.Instance instance, int batch, double seconds) {
    float[] values = new float[batch * 3];
    for (int i = 0; i < batch; i++) {
      values[i * 3] = i % 72;
      values[i * 3 + 1] = 20 + i % 100;
      values[i * 3 + 2] = 100 * (i + 1);
    }
    List<Tensor> inputs = List.of(Tensor.ofFloats("input", new long[] {batch, 3}, values));
    runFor(() -> instance.run(inputs), 2);
    LatencyRecorder rec = new LatencyRecorder();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    long calls = 0;
    while (System.nanoTime() < deadline) {
      long t0 = System.nanoTime();
      instance.run(inputs);
      rec.record(System.nanoTime() - t0);
      calls++;
    }
    double took = (System.nanoTime() - start) / 1e9;
    return rec.result("in-process DJL predictor, batch " + batch, calls, calls * batch, took, 0);
  }

  private static void runFor(Runnable r, double seconds) {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < deadline) {
      r.run();
    }
  }

  /** Closed loop: {@code concurrency} callers, each sending its next request when the last answers. */
  private static LatencyRecorder.Result grpc(GRPCInferenceServiceGrpcClient stub, String model, int concurrency,
      double seconds) throws InterruptedException {
    ModelInferRequest request = ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
            .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                .addFp32Contents(12).addFp32Contents(70.35f).addFp32Contents(844.2f)))
        .build();
    LatencyRecorder warm = new LatencyRecorder();
    loop(stub, request, concurrency, 2, warm, new AtomicLong(), new AtomicLong());
    LatencyRecorder rec = new LatencyRecorder();
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    double took = loop(stub, request, concurrency, seconds, rec, ok, errors);
    String name = "gRPC ModelInfer, " + (model.endsWith("unbatched") ? "batching off" : "batching on")
        + ", concurrency " + concurrency;
    return rec.result(name, ok.get(), ok.get(), took, errors.get());
  }

  private static double loop(GRPCInferenceServiceGrpcClient stub, ModelInferRequest request, int concurrency,
      double seconds, LatencyRecorder rec, AtomicLong ok, AtomicLong errors) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + (long) (seconds * 1e9);
    CountDownLatch done = new CountDownLatch(concurrency);
    for (int i = 0; i < concurrency; i++) {
      next(stub, request, deadline, rec, ok, errors, done);
    }
    done.await(5 + (long) seconds * 2, TimeUnit.SECONDS);
    return (System.nanoTime() - start) / 1e9;
  }

  private static void next(GRPCInferenceServiceGrpcClient stub, ModelInferRequest request, long deadline,
      LatencyRecorder rec, AtomicLong ok, AtomicLong errors, CountDownLatch done) {
    if (System.nanoTime() >= deadline) {
      done.countDown();
      return;
    }
    long t0 = System.nanoTime();
    stub.modelInfer(request).onComplete(ar -> {
      if (ar.succeeded()) {
        rec.record(System.nanoTime() - t0);
        ok.incrementAndGet();
      } else {
        errors.incrementAndGet();
      }
      next(stub, request, deadline, rec, ok, errors, done);
    });
  }

  private static void print(List<LatencyRecorder.Result> r, double seconds) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%nModel-runner benchmark: churn-torchscript (3-16-2 MLP), %.0f s per scenario, "
        + "%d cores, Java %s%n%n", seconds, Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version")));
    sb.append(LatencyRecorder.header()).append('\n');
    r.forEach(x -> sb.append(x.row()).append('\n'));
    LatencyRecorder.Result ip1 = r.get(0);
    LatencyRecorder.Result ip32 = r.get(1);
    LatencyRecorder.Result off1 = r.get(2);
    LatencyRecorder.Result off64 = r.get(3);
    LatencyRecorder.Result on1 = r.get(4);
    LatencyRecorder.Result on64 = r.get(5);
    sb.append(String.format("%nRatios (same run):%n"));
    sb.append(String.format("- in-process batch 32 vs batch 1, rows/s: %.1fx%n", ip32.rowsPerSecond() / ip1.rowsPerSecond()));
    sb.append(String.format("- gRPC (batching off, c=1) vs in-process batch 1, rows/s: %.2f%n",
        off1.rowsPerSecond() / ip1.rowsPerSecond()));
    sb.append(String.format("- gRPC (batching on, c=64) vs in-process batch 32 ceiling, rows/s: %.2f%n",
        on64.rowsPerSecond() / ip32.rowsPerSecond()));
    sb.append(String.format("- batching on vs off at c=64: throughput %.2fx, p99 %.2fx%n",
        on64.rowsPerSecond() / off64.rowsPerSecond(), on64.p99Micros() / off64.p99Micros()));
    sb.append(String.format("- batching on vs off at c=1: throughput %.2fx, p50 %.2fx%n",
        on1.rowsPerSecond() / off1.rowsPerSecond(), on1.p50Micros() / off1.p50Micros()));
    System.out.println(sb);
  }
}
