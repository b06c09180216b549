package dev.gantry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.runner.source.MlflowStandIn;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gantry serve} as a user runs it: the command is started as its own process, which starts the model-runner
 * and the sidecar from their built jars; {@code /invocations} is called over a real socket and must answer as
 * MLflow's scoring server answers for that model ({@code {"predictions": …}}, the values of the model's own
 * library, here PyTorch through {@code examples/expected.json}); SIGTERM (what Ctrl-C's SIGINT also does) stops
 * all three processes. The registry case runs against {@link MlflowStandIn}, a stand-in for MLflow 2.x's REST API.
 */
class GantryServeTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static Path root() {
    return GantryCliTest.examples().getParent().getParent();
  }

  record Served(Process process, Path log) {}

  static Served serve(Path logDir, Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "dev.gantry.cli.Gantry", "serve"));
    command.addAll(List.of(args));
    Path log = logDir.resolve("serve.log");
    ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    b.environment().put("GANTRY_HOME", root().toString());
    // ready without the sidecar's warm-up (tested in the sidecar module): several tests share 2 cores
    b.environment().put("GANTRY_WARMUP_MS", "0");
    b.environment().putAll(env);
    Process p = b.start();
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(250)).until(() ->
        Files.readString(log).contains("Gantry is serving") || !p.isAlive());
    assertThat(p.isAlive()).as("gantry serve exited:\n" + Files.readString(log)).isTrue();
    return new Served(p, log);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static HttpResponse<String> invocations(int port, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/invocations"))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The example samples' numeric columns as MLflow's dataframe_split. */
  static String numericSamples(JsonNode expected) {
    ObjectNode split = JSON.createObjectNode();
    split.putArray("columns").add("tenure").add("monthly_charges").add("total_charges");
    ArrayNode data = split.putArray("data");
    for (JsonNode row : expected.path("samples")) {
      data.addArray().add(row.get(0).asDouble()).add(row.get(1).asDouble()).add(row.get(2).asDouble());
    }
    return JSON.createObjectNode().set("dataframe_split", split).toString();
  }

  static void assertPredictions(HttpResponse<String> r, JsonNode expected) throws IOException {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode predictions = JSON.readTree(r.body()).path("predictions");
    JsonNode want = expected.path("churn-torchscript");
    assertThat(predictions.size()).isEqualTo(want.size());
    for (int i = 0; i < want.size(); i++) {
      for (int j = 0; j < want.get(i).size(); j++) {
        assertThat(predictions.get(i).get(j).asDouble()).isCloseTo(want.get(i).get(j).asDouble(),
            org.assertj.core.data.Offset.offset(1e-5));
      }
    }
  }

  /** SIGTERM to gantry serve: it stops the runner and the sidecar, and the port is free again. */
  static void stopAndCheck(Served served, int port) throws Exception {
    List<ProcessHandle> children = served.process().descendants().toList();
    assertThat(children).hasSizeGreaterThanOrEqualTo(2);
    served.process().toHandle().destroy();
    assertThat(served.process().waitFor(90, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(60)).until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return false;
      } catch (IOException e) {
        return true;
      }
    });
  }

  @Test
  void servesAnMlflowModelDirectoryOnInvocationsAsMlflowDoes(@TempDir Path tmp) throws Exception {
    JsonNode expected = JSON.readTree(root().resolve("examples/expected.json").toFile());
    int port = freePort();
    Served served = serve(tmp, Map.of(), "-m", root().resolve("examples/models/churn-mlflow").toString(), "-p",
        String.valueOf(port), "-h", "127.0.0.1");
    try {
      String printed = Files.readString(served.log());
      assertThat(printed).contains("http://127.0.0.1:" + port + "/invocations").contains("'churn-mlflow'");
      HttpResponse<String> r = invocations(port, numericSamples(expected));
      assertPredictions(r, expected);
      assertThat(r.headers().firstValue("x-gantry-model-version")).hasValue("1");
      // a column the model does not have: MLflow's error shape, naming it
      HttpResponse<String> bad = invocations(port, "{\"dataframe_split\": {\"columns\": [\"tenure\"], \"data\": [[1]]}}");
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(bad.body()).path("error_code").asText()).isEqualTo("BAD_REQUEST");
      assertThat(bad.body()).contains("monthly_charges");
    } finally {
      stopAndCheck(served, port);
    }
  }

  @Test
  void servesARegisteredModelByStageFromTheRegistry(@TempDir Path tmp) throws Exception {
    JsonNode expected = JSON.readTree(root().resolve("examples/expected.json").toFile());
    try (MlflowStandIn mlflow = new MlflowStandIn()) {
      mlflow.requireAuthorization("Bearer serve-test-token");
      Path model = root().resolve("examples/models/churn-mlflow");
      mlflow.register("customer-churn-classifier", 1, "Archived", model);
      mlflow.register("customer-churn-classifier", 4, "Production", model);
      int port = freePort();
      Served served = serve(tmp, Map.of("MLFLOW_TRACKING_URI", mlflow.uri(), "MLFLOW_TRACKING_TOKEN",
          "serve-test-token", "GANTRY_MODEL_CACHE", tmp.resolve("cache").toString()),
          "-m", "models:/customer-churn-classifier/Production", "-p", String.valueOf(port));
      try {
        HttpResponse<String> r = invocations(port, numericSamples(expected));
        assertPredictions(r, expected);
        assertThat(r.headers().firstValue("x-gantry-model-version")).hasValue("4");
        assertThat(Files.readString(served.log())).contains("as 'customer-churn-classifier'");
      } finally {
        stopAndCheck(served, port);
      }
      assertThat(tmp.resolve("cache/customer-churn-classifier/4/MLmodel")).isRegularFile();
    }
  }

  @Test
  void servesAModelRepositoryAnsweringAsEachModelsPyfunc(@TempDir Path tmp) throws Exception {
    JsonNode expected = JSON.readTree(root().resolve("examples/mlflow-models/expected.json").toFile());
    int port = freePort();
    Served served = serve(tmp, Map.of(), "--model-repository", root().resolve("examples/mlflow-models").toString(),
        "--default-model", "xgb-classifier", "-p", String.valueOf(port));
    try {
      // an XGBClassifier's pyfunc answers predict(): the labels
      JsonNode xgb = expected.path("xgb-classifier");
      ObjectNode split = JSON.createObjectNode();
      split.set("columns", xgb.path("columns"));
      split.set("data", xgb.path("rows"));
      HttpResponse<String> labels = invocations(port, JSON.createObjectNode().set("dataframe_split", split)
          .toString());
      assertThat(labels.statusCode()).as(labels.body()).isEqualTo(200);
      JsonNode predictions = JSON.readTree(labels.body()).path("predictions");
      assertThat(predictions.size()).isEqualTo(xgb.path("label").size());
      for (int i = 0; i < predictions.size(); i++) {
        assertThat(predictions.get(i).asLong()).as("row " + i).isEqualTo(xgb.path("label").get(i).asLong());
      }
      // a LightGBM multiclass Booster's pyfunc answers Booster.predict: the probabilities (KServe v1 here)
      JsonNode lgb = expected.path("lgb-multiclass");
      HttpResponse<String> probabilities = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
              + "/v1/models/lgb-multiclass:predict")).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().set("instances", lgb.path("rows"))
              .toString())).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(probabilities.statusCode()).as(probabilities.body()).isEqualTo(200);
      JsonNode rows = JSON.readTree(probabilities.body()).path("predictions");
      assertThat(rows.size()).isEqualTo(lgb.path("probabilities").size());
      for (int i = 0; i < rows.size(); i++) {
        for (int c = 0; c < 3; c++) {
          assertThat(rows.get(i).get(c).asDouble()).isCloseTo(lgb.path("probabilities").get(i).get(c).asDouble(),
              org.assertj.core.data.Offset.offset(1e-6));
        }
      }
    } finally {
      stopAndCheck(served, port);
    }
  }
}
