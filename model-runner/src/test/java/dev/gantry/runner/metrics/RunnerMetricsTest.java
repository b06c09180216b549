package dev.gantry.runner.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.TestModels;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

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
}
