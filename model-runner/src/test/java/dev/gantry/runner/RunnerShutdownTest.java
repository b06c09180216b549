package dev.gantry.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.health.HealthCheckRequest;
import dev.gantry.proto.health.HealthCheckResponse.ServingStatus;
import dev.gantry.proto.health.HealthGrpcClient;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.ChurnRequests.Row;
import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM to a runner process under load: not ready at once, every call that arrived answered, then exit. */
class RunnerShutdownTest {
  private static final Row ROW = new Row(12, 70.35f, 844.2f, "", "");
  private static final long GRACE_MS = 10_000;

  @TempDir
  Path repo;

  /** Calls from a few threads until stopped, or until the runner can no longer be reached. */
  private static final class Load implements AutoCloseable {
    final Map<GrpcStatus, AtomicInteger> answered = new ConcurrentHashMap<>();
    final AtomicInteger refused = new AtomicInteger();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    Load(RunnerClient client) {
      for (int i = 0; i < 4; i++) {
        Thread t = new Thread(() -> {
          while (running.get()) {
            try {
              RunnerClient.Outcome<ModelInferResponse> o = client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer,
                  ChurnRequests.numeric("mlp", List.of(ROW)), 0).toCompletionStage().toCompletableFuture()
                  .get(60, TimeUnit.SECONDS);
              answered.computeIfAbsent(o.status(), s -> new AtomicInteger()).incrementAndGet();
            } catch (Exception e) {
              // no gRPC status: the call never reached the runner (GOAWAY, connection refused)
              refused.incrementAndGet();
              return;
            }
          }
        });
        t.start();
        threads.add(t);
      }
    }

    int ok() {
      return answered.getOrDefault(GrpcStatus.OK, new AtomicInteger()).get();
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(60_000);
      }
    }
  }

  private static double queueDepth(int metricsPort, String model) throws Exception {
    String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("^gantry_runner_queue_depth\\{model=\"" + model + "\",version=\"1\"} (\\S+)$",
        Pattern.MULTILINE).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  @Test
  void sigtermUnderLoadAnswersEveryCallThatArrivedAndExitsWithinTheGracePeriod() throws Exception {
    Path mlp = TestModels.examples().resolve("churn-torchscript");
    TestModels.copyModel(mlp, repo, "mlp");
    // "parked": a lone request waits 1 s in the queue for company (always, not only while busy), so
    // some are waiting at SIGTERM
    TestModels.copyModel(mlp, repo, "parked", "max_queue_delay_microseconds: 500",
        "max_queue_delay_microseconds: 1000000\n  queue_delay_policy: always",
        "preferred_batch_sizes: [16, 32]", "preferred_batch_sizes: []");
    try (RunnerProcess runner = RunnerProcess.start("--model-repository", repo.toString(),
        "--shutdown-grace-ms", Long.toString(GRACE_MS));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      List<ServingStatus> watched = new CopyOnWriteArrayList<>();
      AtomicBoolean watchEnded = new AtomicBoolean();
      HealthGrpcClient.create(GrpcClient.client(client.vertx()),
              SocketAddress.inetSocketAddress(runner.grpcPort(), "127.0.0.1"))
          .watch(HealthCheckRequest.getDefaultInstance())
          .onSuccess(stream -> stream.handler(r -> watched.add(r.getStatus())).endHandler(v -> watchEnded.set(true))
              .exceptionHandler(e -> watchEnded.set(true)));
      await().atMost(Duration.ofSeconds(30)).until(() -> watched.contains(ServingStatus.SERVING));

      Load load = new Load(client);
      await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > 20);
      List<Future<RunnerClient.Outcome<ModelInferResponse>>> parked = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        parked.add(client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer,
            ChurnRequests.numeric("parked", List.of(ROW)), 0));
      }
      // all six have arrived: they wait in the runner's queue
      await().atMost(Duration.ofSeconds(30)).until(() -> queueDepth(runner.metricsPort(), "parked") == 6);

      long sigterm = System.nanoTime();
      runner.terminate();
      boolean exited = runner.waitFor(GRACE_MS, TimeUnit.MILLISECONDS);
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm);
      load.close();

      assertThat(exited).as("exited within the %d ms grace period (took %d ms)", GRACE_MS, tookMs).isTrue();
      for (Future<RunnerClient.Outcome<ModelInferResponse>> call : parked) {
        assertThat(call.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).status())
            .as("a call waiting in the queue at SIGTERM").isEqualTo(GrpcStatus.OK);
      }
      // every call the runner took got its answer; the others were refused before they reached it
      assertThat(load.answered.keySet()).containsOnly(GrpcStatus.OK);
      assertThat(watched).as("the health watch heard readiness turn false")
          .containsSubsequence(ServingStatus.SERVING, ServingStatus.NOT_SERVING);
      assertThat(watchEnded).isTrue();
      assertThat(runner.log()).anyMatch(l -> l.contains("event=runner_draining grace_ms=" + GRACE_MS))
          .anyMatch(l -> l.contains("event=runner_stopped"));
    }
  }

  @Test
  void aCallLongerThanTheGracePeriodDoesNotHoldTheShutdownUp() throws Exception {
    // a lone request waits 10 s in this queue (always, not only while busy), far beyond the
    // half-second grace period below
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "slow",
        "max_queue_delay_microseconds: 500", "max_queue_delay_microseconds: 10000000\n  queue_delay_policy: always",
        "preferred_batch_sizes: [16, 32]", "preferred_batch_sizes: []");
    ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
    try (RunnerClient client = new RunnerClient(runner.grpcPort())) {
      Future<RunnerClient.Outcome<ModelInferResponse>> slow = client.callAsync(
          GRPCInferenceServiceGrpcClient.ModelInfer, ChurnRequests.numeric("slow", List.of(ROW)), 0);
      await().atMost(Duration.ofSeconds(30)).until(() -> runner.models().served("slow").get(0).queueDepth() == 1);
      long start = System.nanoTime();
      runner.shutdown(Duration.ofMillis(500));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // the grace period plus the time to close: nowhere near the 10 s the call would have taken
      assertThat(tookMs).as("shutdown took %d ms", tookMs).isLessThan(5_000);
      String ending = slow.toCompletionStage().toCompletableFuture()
          .handle((o, e) -> e != null ? "no status: " + e : o.status().name()).get(30, TimeUnit.SECONDS);
      assertThat(ending).as("the call cut off at the end of the grace period").isNotEqualTo("OK");
    }
  }
}
