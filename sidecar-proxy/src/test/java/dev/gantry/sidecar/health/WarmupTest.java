package dev.gantry.sidecar.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The warm-up before readiness, on a real sidecar in front of a real runner serving the example models: {@code /readyz}
 * says the sidecar is warming up until its warm-up traffic has gone through every protocol to the runner, and none of
 * it is counted in the sidecar's metrics, while a client's request made meanwhile is served and counted once.
 */
class WarmupTest {
  static final String ROW = "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 3], \"datatype\": \"FP32\","
      + " \"data\": [12, 70.35, 844.2]}]}";

  @Test
  void readinessWaitsForTheWarmUpWhichGoesUncounted() throws Exception {
    ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "churn-torchscript")
        .withWarmupMs(4000));
    try {
      Http http = new Http(sidecar.port());
      List<String> reasons = new ArrayList<>();
      // a client's request while the sidecar warms up is served, and counted
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        Http.Reply r = http.get("/readyz");
        if (r.status() == 503) {
          reasons.add(r.json().getString("reason"));
        }
        return r.status() == 503 && r.json().getString("reason").startsWith("warming up");
      });
      assertThat(http.postJson("/v2/models/churn-torchscript/infer", ROW).status()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/readyz").status() == 200);

      // the runner answered the warm-up on every model, by REST, MLflow and gRPC alike
      String runnerMetrics = new Http(runner.metricsPort()).get("/metrics").body();
      for (String model : List.of("churn-torchscript", "churn-onnx", "customer-churn")) {
        assertThat(sum(runnerMetrics, "gantry_runner_request_success_total", model) + sum(runnerMetrics,
            "gantry_runner_request_failure_total", model)).as(model).isGreaterThan(20);
      }
      // the sidecar counted the one client request, and nothing of the warm-up
      String metrics = http.get("/metrics").body();
      assertThat(sum(metrics, "model_predictions_total", "churn-torchscript")).isEqualTo(1);
      assertThat(sum(metrics, "model_predictions_total", "churn-onnx")).isZero();
      assertThat(sum(metrics, "model_prediction_errors_total", "")).isZero();
      assertThat(http.postJson("/invocations", "{\"inputs\": [[12, 70.35, 844.2]]}").status()).isEqualTo(200);
      assertThat(sum(http.get("/metrics").body(), "model_predictions_total", "churn-torchscript")).isEqualTo(2);
    } finally {
      sidecar.close();
      runner.close();
    }
  }

  @Test
  void withNoBudgetTheSidecarIsReadyAsSoonAsTheRunner() throws Exception {
    ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null).withWarmupMs(0));
    try {
      Http http = new Http(sidecar.port());
      await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/readyz").status() == 200);
      String runnerMetrics = new Http(runner.metricsPort()).get("/metrics").body();
      assertThat(sum(runnerMetrics, "gantry_runner_request_success_total", "churn-onnx")).isZero();
    } finally {
      sidecar.close();
      runner.close();
    }
  }

  /** The sum of a counter's series whose labels contain {@code model="<model>"} (any model for ""). */
  static double sum(String metrics, String name, String model) {
    double total = 0;
    Matcher m = Pattern.compile("(?m)^" + name + "\\{([^}]*)\\} (\\S+)$").matcher(metrics);
    while (m.find()) {
      if (model.isEmpty() || m.group(1).contains("model=\"" + model + "\"")) {
        total += Double.parseDouble(m.group(2));
      }
    }
    return total;
  }
}
