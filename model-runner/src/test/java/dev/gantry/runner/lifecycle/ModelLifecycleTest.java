package dev.gantry.runner.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.RepositoryIndexRequest;
import dev.gantry.proto.inference.RepositoryModelLoadRequest;
import dev.gantry.proto.inference.RepositoryModelUnloadRequest;
import dev.gantry.proto.inference.ServerReadyRequest;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.TestModels;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Load, reload and unload at run time, under traffic, through the repository RPCs. */
class ModelLifecycleTest {
  private static final Row ROW = new Row(12, 70.35f, 844.2f, "Month-to-month", "Electronic check");

  @TempDir
  Path repo;

  /** Sends requests from a few threads until stopped, counting outcomes by status. */
  private static final class Traffic implements AutoCloseable {
    final Map<GrpcStatus, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> versions = new ConcurrentHashMap<>();
    final AtomicLong lastOkAt = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads;

    Traffic(RunnerClient client, String model) {
      threads = java.util.stream.IntStream.range(0, 4).mapToObj(i -> new Thread(() -> {
        while (running.get()) {
          RunnerClient.Outcome<ModelInferResponse> o = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
              ChurnRequests.numeric(model, List.of(ROW)));
          outcomes.computeIfAbsent(o.status(), s -> new AtomicInteger()).incrementAndGet();
          if (o.status() == GrpcStatus.OK) {
            versions.computeIfAbsent(o.value().getModelVersion(), v -> new AtomicInteger()).incrementAndGet();
          }
        }
      })).toList();
      threads.forEach(Thread::start);
    }

    int count(GrpcStatus s) {
      return outcomes.getOrDefault(s, new AtomicInteger()).get();
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(60_000);
      }
    }
  }

  @Test
  void reloadUnderTrafficSwapsVersionsWithoutAFailedRequest() throws Exception {
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      Traffic traffic = new Traffic(client, "mlp");
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.count(GrpcStatus.OK) > 50);
      // a new version appears on disk; a reload brings it up, warms it and swaps it in
      TestModels.copyModel(model.resolve("1"), model, "2");
      client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad,
          RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build()).ok();
      int okAfterSwap = traffic.count(GrpcStatus.OK);
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.versions.containsKey("2")
          && traffic.count(GrpcStatus.OK) > okAfterSwap + 50);
      // and a plain reload of the same files, again under traffic
      client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad,
          RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build()).ok();
      int okAfterReload = traffic.count(GrpcStatus.OK);
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.count(GrpcStatus.OK) > okAfterReload + 50);
      traffic.close();
      assertThat(traffic.outcomes.keySet()).containsExactly(GrpcStatus.OK);
      assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
          ModelMetadataRequest.newBuilder().setName("mlp").build()).ok().getVersionsList()).containsExactly("2");
    }
  }

  @Test
  void unloadWaitsForInFlightRequestsThenRefusesAndLoadBringsTheModelBack() throws Exception {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      Traffic traffic = new Traffic(client, "mlp");
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.count(GrpcStatus.OK) > 50);
      client.call(GRPCInferenceServiceGrpcClient.RepositoryModelUnload,
          RepositoryModelUnloadRequest.newBuilder().setModelName("mlp").build()).ok();
      int okAtUnload = traffic.count(GrpcStatus.OK);
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.count(GrpcStatus.UNAVAILABLE) > 20);
      traffic.close();
      // requests either finished before the unload completed or were refused cleanly after it
      assertThat(traffic.outcomes.keySet()).containsOnly(GrpcStatus.OK, GrpcStatus.UNAVAILABLE);
      assertThat(traffic.count(GrpcStatus.OK)).isLessThanOrEqualTo(okAtUnload + 4);
      assertThat(client.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance())
          .ok().getReady()).isTrue();
      assertThat(client.call(GRPCInferenceServiceGrpcClient.RepositoryIndex,
          RepositoryIndexRequest.getDefaultInstance()).ok().getModels(0).getState()).isEqualTo("UNAVAILABLE");

      client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad,
          RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build()).ok();
      assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
          ChurnRequests.numeric("mlp", List.of(ROW))).status()).isEqualTo(GrpcStatus.OK);
    }
  }

  @Test
  void aBrokenConfigFailsTheLoadWithItsReasonAndKeepsTheOldVersionServing() throws Exception {
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      Files.writeString(model.resolve("config.yaml"), Files.readString(model.resolve("config.yaml"))
          .replace("max_batch_size: 64", "max_batch_size: lots"));
      RunnerClient.Outcome<?> load = client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad,
          RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build());
      assertThat(load.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      assertThat(load.message()).contains("config.yaml", "'max_batch_size'", "whole number");
      assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
          ChurnRequests.numeric("mlp", List.of(ROW))).status()).isEqualTo(GrpcStatus.OK);
    }
  }

  @Test
  void instanceCountStartsThatManyInstancesEachOnItsOwnThread() throws Exception {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp",
        "instance_count: 1", "instance_count: 3");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      java.util.Set<String> workers = new java.util.TreeSet<>();
      Thread.getAllStackTraces().keySet().forEach(t -> {
        if (t.getName().startsWith("gantry-batcher-model-mlp-version-1-")) {
          workers.add(t.getName());
        }
      });
      assertThat(workers).hasSize(3);
      Traffic traffic = new Traffic(client, "mlp");
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.count(GrpcStatus.OK) > 100);
      traffic.close();
      assertThat(traffic.outcomes.keySet()).containsExactly(GrpcStatus.OK);
    }
  }

  @Test
  void healthWatchFollowsAModelFromServingToNotServing() throws Exception {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      io.vertx.grpc.client.GrpcClient grpc = io.vertx.grpc.client.GrpcClient.client(client.vertx());
      List<dev.gantry.proto.health.HealthCheckResponse.ServingStatus> seen =
          new java.util.concurrent.CopyOnWriteArrayList<>();
      dev.gantry.proto.health.HealthGrpcClient.create(grpc,
              io.vertx.core.net.SocketAddress.inetSocketAddress(runner.grpcPort(), "127.0.0.1"))
          .watch(dev.gantry.proto.health.HealthCheckRequest.newBuilder().setService("mlp").build())
          .onSuccess(stream -> stream.handler(r -> seen.add(r.getStatus())));
      await().atMost(Duration.ofSeconds(30)).until(() -> !seen.isEmpty());
      assertThat(seen.get(0)).isEqualTo(dev.gantry.proto.health.HealthCheckResponse.ServingStatus.SERVING);
      client.call(GRPCInferenceServiceGrpcClient.RepositoryModelUnload,
          RepositoryModelUnloadRequest.newBuilder().setModelName("mlp").build()).ok();
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains(
          dev.gantry.proto.health.HealthCheckResponse.ServingStatus.NOT_SERVING));
      grpc.close().await();
    }
  }

  @Test
  void loadingMadeUpNamesNeverFlipsReadiness() throws Exception {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    for (int i = 0; i < 2000; i++) {
      // folders without a model: listing the repository takes a while, as a large one does
      Files.createDirectory(repo.resolve("empty-" + i));
    }
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo))) {
      AtomicBoolean watching = new AtomicBoolean(true);
      AtomicInteger notReady = new AtomicInteger();
      Thread probe = new Thread(() -> {
        while (watching.get()) {
          if (!runner.models().ready()) {
            notReady.incrementAndGet();
          }
        }
      });
      probe.start();
      for (int i = 0; i < 30; i++) {
        Throwable e = runner.models().load("ghost-" + i).handle((v, error) -> error).get(30, TimeUnit.SECONDS);
        assertThat(e).hasMessageContaining("unknown model 'ghost-" + i + "'");
      }
      watching.set(false);
      probe.join();
      assertThat(notReady.get()).as("readiness probes that saw false").isZero();
    }
  }

  @Test
  void anUnloadThatDrainsLateKeepsTheReasonOfALoadThatCameAfterIt() throws Exception {
    // a lone request waits 1 s in the queue for company (always, not only while busy), holding the
    // version while it is unloaded
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp",
        "max_queue_delay_microseconds: 500", "max_queue_delay_microseconds: 1000000\n  queue_delay_policy: always");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      var held = client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer,
          ChurnRequests.numeric("mlp", List.of(ROW)), 0);
      await().atMost(Duration.ofSeconds(30)).until(() -> runner.models().served("mlp").get(0).queueDepth() == 1);
      var unloaded = runner.models().unload("mlp");
      Files.writeString(model.resolve("config.yaml"), Files.readString(model.resolve("config.yaml"))
          .replace("max_batch_size: 64", "max_batch_size: lots"));
      Throwable loadFailure = runner.models().load("mlp").handle((v, e) -> e).get(30, TimeUnit.SECONDS);
      assertThat(loadFailure).hasMessageContaining("max_batch_size");
      assertThat(unloaded).as("the unload is still draining").isNotDone();

      assertThat(held.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).status())
          .isEqualTo(GrpcStatus.OK);
      unloaded.get(30, TimeUnit.SECONDS);
      assertThat(runner.models().index(false)).singleElement().satisfies(entry -> {
        assertThat(entry.state()).isEqualTo(ModelState.UNAVAILABLE);
        assertThat(entry.reason()).contains("max_batch_size").doesNotContain("unloaded");
      });
    }
  }

  @Test
  void loadingAnUnknownModelIsNotFound() throws IOException {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      RunnerClient.Outcome<?> load = client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad,
          RepositoryModelLoadRequest.newBuilder().setModelName("ghost").build());
      assertThat(load.status()).isEqualTo(GrpcStatus.NOT_FOUND);
      assertThat(load.message()).contains("unknown model 'ghost'");
      assertThat(client.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance())
          .ok().getReady()).isTrue();
    }
  }
}
