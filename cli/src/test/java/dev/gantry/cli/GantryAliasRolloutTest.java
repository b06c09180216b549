package dev.gantry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.source.MlflowStandIn;
import dev.gantry.runner.source.ModelUri;
import dev.gantry.runner.source.SourceSpec;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code gantry rollout aliases} against a real sidecar whose endpoint has a rollout policy, in front of a real
 * runner following {@code @champion} with {@code on_new_version: rollout} in a stand-in of MLflow 2.x's REST API
 * (MLflow cannot be installed here), while a client sends MLflow {@code /invocations} requests.
 */
class GantryAliasRolloutTest {
  static final String TOKEN = "cli-alias-token-0123456789";
  static final String REGISTERED = "customer-churn-classifier";

  static String gantry(int adminPort, String... args) {
    StringWriter out = new StringWriter();
    CommandLine cli = Gantry.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(new StringWriter()));
    List<String> all = new ArrayList<>(List.of("--server", "http://127.0.0.1:" + adminPort, "--token", TOKEN));
    all.addAll(List.of(args));
    assertThat(cli.execute(all.toArray(String[]::new))).isZero();
    return out.toString();
  }

  @Test
  void listsTheRolloutsOfAWatchedAliasesNewVersions(@TempDir Path cache) throws Exception {
    Path churn = GantryCliTest.examples().resolve("churn-mlflow");
    try (MlflowStandIn mlflow = new MlflowStandIn()) {
      mlflow.register(REGISTERED, 1, "None", churn);
      mlflow.register(REGISTERED, 2, "None", churn);
      mlflow.setAlias(REGISTERED, "champion", 1);
      ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(GantryCliTest.examples())
          .withoutRepository().withSources(List.of(new SourceSpec("churn", ModelUri.parse("models:/" + REGISTERED
              + "@champion"), Optional.of(Duration.ofSeconds(1)), SourceSpec.OnNewVersion.ROLLOUT)), cache),
          Map.of("MLFLOW_TRACKING_URI", mlflow.uri()));
      Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "churn").withAdmin(
          Optional.of(TOKEN), List.of(new EndpointSpecParser().yaml("""
              name: churn
              variants:
                - {name: champion, model: churn, weight: 100}
              rollout_policy:
                steps: [{weight: 50, pause: 1s}, {weight: 100, pause: 1s}]
                analysis: {interval: 1s, min_requests: 5, checks: [{metric: error_rate, max: 0.01}]}
              """))));
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger failed = new AtomicInteger();
      Thread client = new Thread(() -> {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port()
                + "/invocations"))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"dataframe_split\": {\"columns\": [\"tenure\","
                + " \"monthly_charges\", \"total_charges\"], \"data\": [[12, 70.35, 844.2]]}}"))
            .build();
        while (!stop.get()) {
          try {
            if (http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() != 200) {
              failed.incrementAndGet();
            }
          } catch (Exception e) {
            failed.incrementAndGet();
          }
        }
      });
      try {
        client.start();
        assertThat(gantry(sidecar.adminPort(), "rollout", "aliases")).startsWith("no alias rollouts");
        mlflow.setAlias(REGISTERED, "champion", 2);
        await().atMost(Duration.ofSeconds(60)).until(() -> gantry(sidecar.adminPort(), "rollout", "aliases")
            .contains("promoted"));
        String table = gantry(sidecar.adminPort(), "rollout", "aliases");
        assertThat(table.lines().toList()).hasSize(2);
        assertThat(table.lines().findFirst().orElseThrow()).startsWith("ROLLOUT").contains("ENDPOINT", "MODEL",
            "VERSION", "FROM", "STATE", "NOTE");
        assertThat(table.lines().skip(1).findFirst().orElseThrow().split("\\s+")).startsWith("churn-v2", "churn",
            "churn", "2", "1", "promoted");
        assertThat(gantry(sidecar.adminPort(), "rollout", "aliases", "-o", "json")).contains("\"state\" : \"promoted\"");
        assertThat(gantry(sidecar.adminPort(), "get", "endpoints")).contains("champion").contains("100%")
            .doesNotContain("champion-v2");
        assertThat(failed.get()).isZero();
      } finally {
        stop.set(true);
        client.join();
        sidecar.close();
        runner.close();
      }
    }
  }
}
