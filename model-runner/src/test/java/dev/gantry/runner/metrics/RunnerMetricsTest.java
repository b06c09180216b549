package dev.gantry.runner.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.TestModels;
import dev.gantry.runner.lifecycle.ServedVersion;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scrapes the runner's /metrics over HTTP after real traffic and checks what it counted. */
class RunnerMetricsTest {
  private static final Row ROW = new Row(12, 70.35f, 844.2f, "Month-to-month", "Electronic check");

  private static String scrape(int port) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    return r.body();
  }

  private static double value(String text, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(text);
    assertThat(m.find()).as("series %s in%n%s", series, text).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void countersHistogramsAndGaugesReflectRealTraffic() throws Exception {
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(TestModels.examples(), "churn-onnx"));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      String before = scrape(runner.metricsPort());
      String ok = "gantry_runner_request_success_total{model=\"churn-onnx\",version=\"1\"}";
      String invalid = "gantry_runner_request_failure_total{model=\"churn-onnx\",reason=\"INVALID_ARGUMENT\","
          + "version=\"1\"}";
      assertThat(value(before, ok)).isZero();
      for (int i = 0; i < 7; i++) {
        assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
            ChurnRequests.onnx(List.of(ROW, ROW))).status()).isEqualTo(GrpcStatus.OK);
      }
      for (int i = 0; i < 3; i++) {
        assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
            ChurnRequests.onnx(List.of(ROW)).toBuilder().removeInputs(0).build()).status())
            .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      }
      String after = scrape(runner.metricsPort());
      assertThat(value(after, ok)).isEqualTo(7);
      assertThat(value(after, invalid)).isEqualTo(3);
      String tags = "{model=\"churn-onnx\",version=\"1\"}";
      assertThat(value(after, "gantry_runner_batch_size_count" + tags)).isEqualTo(7);
      assertThat(value(after, "gantry_runner_batch_size_sum" + tags)).isEqualTo(14);
      assertThat(value(after, "gantry_runner_compute_duration_seconds_count" + tags)).isEqualTo(7);
      assertThat(value(after, "gantry_runner_queue_duration_seconds_count" + tags)).isEqualTo(7);
      assertThat(after).contains("gantry_runner_compute_duration_seconds_bucket{model=\"churn-onnx\",version=\"1\",le=");
      assertThat(value(after, "gantry_runner_queue_depth" + tags)).isZero();
      assertThat(value(after, "gantry_runner_model_load_duration_seconds" + tags)).isPositive();
      assertThat(after).contains("jvm_memory_used_bytes", "jvm_threads_live_threads", "process_uptime_seconds");
    }
  }

  @Test
  void theLoadDurationGaugeFollowsTheLatestLoad(@TempDir Path repo) throws Exception {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo))) {
      String series = "gantry_runner_model_load_duration_seconds{model=\"mlp\",version=\"1\"}";
      double first = value(scrape(runner.metricsPort()), series);
      List<ServedVersion> reloaded = runner.models().load("mlp").get(60, TimeUnit.SECONDS);
      Duration second = reloaded.get(0).loadTime().plus(reloaded.get(0).warmupTime());
      double scraped = value(scrape(runner.metricsPort()), series);
      assertThat(scraped).isNotEqualTo(first).isEqualTo(second.toNanos() / 1e9, within(1e-9));
    }
  }

  @Test
  void theQueueDepthGaugeReadsTheServingBatcherAfterAReloadFailsPartWay(@TempDir Path repo) throws Exception {
    // two versions; a lone request waits 2 s in the queue for company (always, not only while busy)
    Path model = TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp",
        "max_queue_delay_microseconds: 500", "max_queue_delay_microseconds: 2000000\n  queue_delay_policy: always",
        "warmup:", "version_policy: {all: true}\nwarmup:");
    TestModels.copyModel(model.resolve("1"), model, "2");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      // version 2's file breaks: a reload starts version 1 afresh, fails on 2 and keeps the old ones
      Files.write(model.resolve("2").resolve("model.pt"), new byte[] {1, 2, 3});
      assertThat(runner.models().load("mlp").handle((v, e) -> e).get(60, TimeUnit.SECONDS)).isNotNull();
      var held = client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer,
          ChurnRequests.numeric("mlp", List.of(ROW)).toBuilder().setModelVersion("1").build(), 0);
      ServedVersion serving = runner.models().served("mlp").get(0);
      await().atMost(Duration.ofSeconds(30)).until(() -> serving.queueDepth() == 1);
      assertThat(value(scrape(runner.metricsPort()), "gantry_runner_queue_depth{model=\"mlp\",version=\"1\"}"))
          .isEqualTo(1);
      assertThat(held.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).status())
          .isEqualTo(GrpcStatus.OK);
    }
  }
}
