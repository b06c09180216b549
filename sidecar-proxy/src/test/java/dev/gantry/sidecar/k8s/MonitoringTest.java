package dev.gantry.sidecar.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.PrometheusServer;
import dev.gantry.sidecar.Load;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.routing.Specs;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitoring kit against the real tools: {@code promtool} checks and unit-tests the alerts
 * ({@code k8s/monitoring/prometheus-rules-test.yaml}), and a real Prometheus (Debian's package, which {@code .ci/run}
 * installs), scraping a real runner and sidecar under real traffic, returns data for every PromQL expression of the
 * dashboard, the alerts (their query, without the threshold), the Prometheus Adapter rules behind the HPA and the KEDA
 * trigger. A metric name Gantry does not export returns nothing and fails. Labels a PodMonitor adds in a cluster
 * ({@code namespace}, {@code pod}, {@code container}) are set on the scrape targets here.
 */
class MonitoringTest {
  static final Path PROMTOOL = Path.of("/usr/bin/promtool");
  static final ObjectMapper JSON = new ObjectMapper();
  static final YAMLMapper YAML = new YAMLMapper();
  static final Pattern THRESHOLD = Pattern.compile("\\s*(==|!=|>=|<=|>|<)\\s*[0-9.eE+-]+\\s*$");

  @TempDir
  Path dir;

  static Path monitoring() {
    return KubernetesManifestsTest.root().resolve("k8s/monitoring");
  }

  /** The PrometheusRule's alert expressions by alert name. */
  static Map<String, String> alerts() throws Exception {
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode group : YAML.readTree(monitoring().resolve("prometheus-rules.yaml").toFile()).path("spec")
        .path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        out.put(rule.path("alert").asText(), rule.path("expr").asText());
      }
    }
    return out;
  }

  static int run(Path workDir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
        .redirectOutput(workDir.resolve(Path.of(command[0]).getFileName() + ".log").toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  @Test
  void promtoolChecksTheAlertsAndTheirUnitTestsPass() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(PROMTOOL), "promtool (Debian's prometheus package) is not installed;"
        + " .ci/run installs it");
    JsonNode rule = YAML.readTree(monitoring().resolve("prometheus-rules.yaml").toFile());
    YAML.writeValue(dir.resolve("gantry-alerts.rules.yaml").toFile(),
        JSON.createObjectNode().set("groups", rule.path("spec").path("groups")));
    Files.copy(monitoring().resolve("prometheus-rules-test.yaml"), dir.resolve("prometheus-rules-test.yaml"));
    assertThat(run(dir, PROMTOOL.toString(), "check", "rules", "gantry-alerts.rules.yaml"))
        .as(Files.readString(dir.resolve("promtool.log"))).isZero();
    assertThat(run(dir, PROMTOOL.toString(), "test", "rules", "prometheus-rules-test.yaml"))
        .as(Files.readString(dir.resolve("promtool.log"))).isZero();
    // every alert has a unit test
    String tests = Files.readString(dir.resolve("prometheus-rules-test.yaml"));
    for (String alert : alerts().keySet()) {
      assertThat(tests).as(alert).contains("alertname: " + alert);
    }
  }

  @Test
  void theHpaScalesOnTheMetricsTheAdapterRulesServe() throws Exception {
    List<HasMetadata> prod = KubernetesManifestsTest.render("prod");
    HorizontalPodAutoscaler hpa = KubernetesManifestsTest.one(prod, HorizontalPodAutoscaler.class, "gantry");
    List<String> served = new ArrayList<>();
    for (JsonNode r : adapterRules()) {
      served.add(r.path("name").path("as").asText());
    }
    for (MetricSpec m : hpa.getSpec().getMetrics()) {
      if (m.getType().equals("Pods")) {
        assertThat(served).contains(m.getPods().getMetric().getName());
      }
    }
  }

  static JsonNode adapterRules() throws Exception {
    JsonNode cm = YAML.readTree(monitoring().resolve("prometheus-adapter-rules.yaml").toFile());
    return YAML.readTree(cm.path("data").path("config.yaml").asText()).path("rules");
  }

  /** Every query the kit runs, with what a cluster or Grafana fills in, by where it comes from. */
  static Map<String, String> queries() throws Exception {
    Map<String, String> q = new LinkedHashMap<>();
    JsonNode dashboard = JSON.readTree(monitoring().resolve("gantry-dashboard.json").toFile());
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        q.put("dashboard '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
            target.path("expr").asText().replace("$__rate_interval", "30s").replace("$model", ".*")
                .replace("$version", ".*").replace("$variant", ".*"));
      }
    }
    alerts().forEach((name, expr) -> {
      Matcher m = THRESHOLD.matcher(expr);
      assertThat(m.find()).as(name + " ends with a threshold").isTrue();
      q.put("alert " + name, expr.substring(0, m.start()));
    });
    for (JsonNode r : adapterRules()) {
      String series = r.path("seriesQuery").asText();
      String metric = series.substring(0, series.indexOf('{'));
      q.put("adapter series of " + r.path("name").path("as").asText(), series);
      q.put("adapter metric " + r.path("name").path("as").asText(), r.path("metricsQuery").asText()
          .replace("<<.Series>>", metric).replace("<<.LabelMatchers>>", "namespace=\"models\",pod=\"gantry-0\"")
          .replace("<<.GroupBy>>", "pod"));
    }
    JsonNode keda = YAML.readTree(monitoring().resolve("keda-scaledobject.yaml").toFile());
    for (JsonNode t : keda.path("spec").path("triggers")) {
      if (t.path("type").asText().equals("prometheus")) {
        q.put("keda trigger", t.path("metadata").path("query").asText());
      }
    }
    return q;
  }

  static JsonNode query(Http prom, String promql) throws Exception {
    Http.Reply r = prom.tryGet("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    assertThat(r.status()).as(promql + ": " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).path("data").path("result");
  }

  @Test
  void everyQueryReturnsDataFromARealPrometheusScrapingGantry() throws Exception {
    Map<String, String> queries = queries();
    String serverErrorAlert = "alert GantryHighErrorRate";
    ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(KubernetesManifestsTest.root()
        .resolve("examples/models"), "customer-churn"));
    boolean runnerClosed = false;
    try (Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null)
        .withAdmin(Optional.empty(), List.of()))) {
      await().until(() -> sidecar.health().ready());
      Http admin = new Http(sidecar.adminPort());
      assertThat(admin.request("PUT", "/admin/v1/endpoints/churn", "application/json", Specs.churn(100, 0))
          .status()).isEqualTo(201);
      assertThat(admin.request("PUT", "/admin/v1/shadows/churn", "application/json",
          "{\"variant\": \"canary\", \"percent\": 100}").status()).isBetween(200, 201);
      assertThat(admin.request("PUT", "/admin/v1/rollouts/churn-v2", "application/yaml", """
          endpoint: churn
          stable: stable
          canary: canary
          steps: [{weight: 50, pause: until_promoted}]
          analysis: {interval: 1s}
          """).status()).isBetween(200, 201);
      try (PrometheusServer prometheus = PrometheusServer.start(dir, """
          - job_name: gantry
            static_configs:
              - targets: ['127.0.0.1:%d']
                labels: {namespace: models, pod: gantry-0, container: sidecar-proxy}
              - targets: ['127.0.0.1:%d']
                labels: {namespace: models, pod: gantry-0, container: model-runner}
          """.formatted(sidecar.port(), runner.metricsPort()))) {
        Http prom = prometheus.http();
        Http http = new Http(sidecar.port());
        try (Load load = Load.start(List.of(sidecar.port()), "/v2/models/churn/infer",
            List.of(Specs.disputedRow()), 50, 60)) {
          for (int i = 0; i < 5; i++) {
            // client mistakes: counted as errors (invalid_argument), which the dashboard's error rate shows
            assertThat(http.postJson("/v2/models/churn/infer", "{\"inputs\": []}").status()).isEqualTo(400);
          }
          // enough samples of every series for rates and quantiles
          await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() ->
              query(prom, "count_over_time(gantry_shadow_agreement_total[1m])").size() > 0
                  && query(prom, "count_over_time(model_predictions_total[1m])").findValues("value").stream()
                      .anyMatch(v -> v.get(1).asDouble() >= 5));
          List<String> empty = new ArrayList<>();
          for (Map.Entry<String, String> q : queries.entrySet()) {
            if (!q.getKey().equals(serverErrorAlert) && query(prom, q.getValue()).isEmpty()) {
              empty.add(q.getKey() + ": " + q.getValue());
            }
          }
          assertThat(empty).as("queries that returned no data").isEmpty();
          for (String label : List.of("model", "version", "variant")) {
            Http.Reply values = prom.tryGet("/api/v1/label/" + label + "/values?match[]=model_predictions_total");
            assertThat(JSON.readTree(values.body()).path("data").size()).as(label).isPositive();
          }
        }
        // a runner outage: the sidecar answers 503s, the server-side error rate the alert watches has data, and the
        // sidecar reports its runner not ready
        runner.close();
        runnerClosed = true;
        for (int i = 0; i < 20; i++) {
          http.tryPost("/v2/models/churn/infer", "application/json", Specs.disputedRow());
          Thread.sleep(100);
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
            .until(() -> !query(prom, queries.get(serverErrorAlert)).isEmpty());
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
            .until(() -> !query(prom, "gantry_runner_ready == 0").isEmpty());
      }
    } finally {
      if (!runnerClosed) {
        runner.close();
      }
    }
  }
}
