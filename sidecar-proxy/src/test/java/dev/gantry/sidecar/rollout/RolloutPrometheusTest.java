package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.PrometheusServer;
import dev.gantry.sidecar.Load;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollout judged by PromQL alone: a real Prometheus (Debian's {@code prometheus} package, which {@code .ci/run}
 * installs; started here on loopback) scrapes the real sidecar every second, and the rollout's checks query it over
 * its HTTP API, with the endpoint and variant names templated in. While Prometheus answers, the canary's error ratio
 * has a value and steps pass; once Prometheus is stopped, every interval is inconclusive and nothing is promoted.
 */
class RolloutPrometheusTest {

  @TempDir
  Path dir;

  @Test
  void promqlChecksReadFromARealPrometheusAndAnOutageIsInconclusiveNotAPass() throws Exception {
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
        Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null)
            .withAdmin(Optional.empty(), List.of()))) {
      await().until(() -> sidecar.health().ready());
      try (PrometheusServer prometheus = PrometheusServer.start(dir, """
          - job_name: gantry-sidecar
            static_configs: [{targets: ['127.0.0.1:%d']}]
          """.formatted(sidecar.port()))) {
        int promPort = prometheus.port();
        Http admin = new Http(sidecar.adminPort());
        assertThat(admin.request("PUT", "/admin/v1/endpoints/promchurn", "application/json",
            Specs.churn(100, 0).replace("\"churn\"", "\"promchurn\"")).status()).isEqualTo(201);
        try (Load load = Load.start(List.of(sidecar.port()), "/v2/models/promchurn/infer",
            List.of(Specs.disputedRow()), 100, 90)) {
          // the canary's error ratio over the last 10 s; with no canary answers the division has no series (no
          // value), never 0
          Http.Reply put = admin.request("PUT", "/admin/v1/rollouts/promchurn", "application/yaml", """
              endpoint: promchurn
              stable: stable
              canary: canary
              steps: [{weight: 20}, {weight: 50, pause: 8s}, {weight: 100}]
              analysis:
                interval: 1s
                prometheus: {url: 'http://127.0.0.1:%d', timeout: 2s}
                sequential: {enabled: false}
                checks:
                  - name: canary-error-ratio
                    query: >-
                      (sum(rate(model_prediction_errors_total{model="{{endpoint}}",variant="{{canary}}"}[10s]))
                      or vector(0))
                      / sum(rate(model_predictions_total{model="{{endpoint}}",variant="{{canary}}"}[10s]))
                    max: 0.01
              """.formatted(promPort));
          assertThat(put.status()).as(put.body()).isEqualTo(201);
          await().atMost(Duration.ofSeconds(40)).until(() -> status(admin).getInteger("step", 0) == 1);
          // the step was passed on a real value read from Prometheus
          JsonObject passed = status(admin).getJsonArray("decisions").stream().map(JsonObject.class::cast)
              .filter(d -> d.getString("result").equals("pass")).reduce((a, b) -> b).orElseThrow();
          JsonObject check = passed.getJsonArray("checks").getJsonObject(0);
          assertThat(check.getString("name")).isEqualTo("canary-error-ratio");
          assertThat(check.getDouble("value")).isEqualTo(0.0);
          assertThat(prometheus.stop()).isTrue();
          long stoppedAt = System.currentTimeMillis();
          // the step's pause runs out, but without Prometheus nothing can pass: inconclusive, and no promotion
          await().atMost(Duration.ofSeconds(30)).until(() -> System.currentTimeMillis() > stoppedAt + 10_000
              && status(admin).getJsonObject("decision_counts").getLong("inconclusive", 0L) >= 5);
          JsonObject s = status(admin);
          assertThat(s.getString("phase")).isEqualTo("PROGRESSING");
          assertThat(s.getInteger("step")).isEqualTo(1);
          assertThat(s.getInteger("canary_weight")).isEqualTo(50);
          JsonObject last = s.getJsonArray("last_checks").getJsonObject(0);
          assertThat(last.getString("verdict")).isEqualTo("INCONCLUSIVE");
          assertThat(last.getValue("value")).isNull();
          assertThat(last.getString("threshold")).contains("Prometheus did not answer");
        }
      }
    }
  }

  private static JsonObject status(Http admin) {
    return admin.get("/admin/v1/rollouts/promchurn/status").json();
  }
}
