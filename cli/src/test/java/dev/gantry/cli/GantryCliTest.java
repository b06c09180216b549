package dev.gantry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The gantry command against a real sidecar's admin API, in front of a real runner on the example models. */
class GantryCliTest {
  static final String TOKEN = "cli-test-token-0123456789";
  static ModelRunner runner;
  static Sidecar sidecar;

  @BeforeAll
  static void start() {
    runner = ModelRunner.start(RunnerOptions.forRepository(examples()));
    sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null).withAdmin(Optional.of(TOKEN), List.of()));
  }

  @AfterAll
  static void stop() {
    sidecar.close();
    runner.close();
  }

  static Path examples() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("examples/models"))) {
        return p.resolve("examples/models");
      }
    }
    throw new IllegalStateException("examples/models not found");
  }

  record Run(int status, String out, String err) {}

  static Run gantry(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Gantry.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    List<String> all = new ArrayList<>(List.of("--server", "http://127.0.0.1:" + sidecar.adminPort(), "--token",
        TOKEN));
    all.addAll(List.of(args));
    int status = cli.execute(all.toArray(String[]::new));
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void appliesGetsAndDeletesAnEndpointFromTheExampleSpec(@TempDir Path dir) throws Exception {
    Path spec = examples().getParent().resolve("endpoints/churn.yaml");
    Run applied = gantry("apply", "-f", spec.toString());
    assertThat(applied.status()).as(applied.err()).isZero();
    assertThat(applied.out()).contains("endpoint/churn created (revision 1)");
    assertThat(gantry("apply", "-f", spec.toString()).out()).contains("endpoint/churn unchanged (revision 1)");

    Path ramp = dir.resolve("ramp.yaml");
    Files.writeString(ramp, Files.readString(spec).replace("weight: 90", "weight: 80").replace("weight: 10",
        "weight: 20"));
    Run ramped = gantry("apply", "-f", ramp.toString(), "--if-match", "1");
    assertThat(ramped.out()).contains("endpoint/churn configured (revision 2)");
    assertThat(sidecar.endpoints().snapshot().endpoints().get("churn").weights()).containsEntry("challenger", 20);

    Run table = gantry("get", "endpoints");
    assertThat(table.status()).isZero();
    assertThat(table.out()).contains("ENDPOINT", "REVISION", "churn", "champion", "challenger", "customer-churn",
        "80%", "20%", "header x-user-id");
    Run yaml = gantry("get", "endpoint", "churn", "-o", "yaml");
    assertThat(yaml.out()).contains("kind: \"endpoint\"", "weight: 20");

    Run stale = gantry("apply", "-f", spec.toString(), "--if-match", "1");
    assertThat(stale.status()).isEqualTo(1);
    assertThat(stale.err()).contains("HTTP 412", "revision 2, not 1");

    Run deleted = gantry("delete", "endpoint", "churn");
    assertThat(deleted.status()).isZero();
    assertThat(deleted.out()).contains("endpoint/churn deleted (was revision 2)");
    assertThat(gantry("get", "endpoints").out()).contains("no endpoints");
  }

  @Test
  void explainsARefusedSpecFieldByField(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, """
        kind: endpoint
        name: broken
        variants:
          - {name: a, model: customer-churn, version: "1", weight: 70}
          - {name: b, model: customer-churn, version: "9", weight: 30}
        """);
    Run run = gantry("apply", "-f", bad.toString());
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.err()).contains("endpoint/broken refused (HTTP 422)", "variants[1].version");
  }

  @Test
  void refusesAWrongTokenAndAnUnknownKind() {
    StringWriter err = new StringWriter();
    CommandLine cli = Gantry.commandLine();
    cli.setErr(new PrintWriter(err));
    int status = cli.execute("--server", "http://127.0.0.1:" + sidecar.adminPort(), "--token", "wrong-token-0000000000",
        "get", "endpoints");
    assertThat(status).isEqualTo(1);
    assertThat(err.toString()).contains("HTTP 401");
    assertThat(gantry("get", "gizmos").status()).isEqualTo(2);
  }

  @Test
  void saysWhenNoAdminApiAnswers() throws Exception {
    int closed;
    try (var s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    StringWriter err = new StringWriter();
    CommandLine cli = Gantry.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("--server", "http://127.0.0.1:" + closed, "get", "endpoints")).isEqualTo(2);
    assertThat(err.toString()).contains("cannot connect to the admin API");
  }

  @Test
  void appliesAShadowAndShowsItsDisagreements(@TempDir Path dir) throws Exception {
    Path both = dir.resolve("churn-and-shadow.yaml");
    Files.writeString(both, Files.readString(examples().getParent().resolve("endpoints/churn.yaml")) + """
        ---
        kind: shadow
        name: churn
        variant: challenger
        percent: 100
        """);
    Run applied = gantry("apply", "-f", both.toString());
    assertThat(applied.status()).as(applied.err()).isZero();
    assertThat(applied.out()).contains("endpoint/churn created (revision 1)", "shadow/churn created (revision 1)");
    assertThat(gantry("get", "shadows").out()).contains("SHADOW VARIANT", "challenger", "100.0%");

    // alice is on the champion; her copy goes to the challenger, which disagrees on this customer
    String row = "{\"inputs\": [{\"name\": \"tenure\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [24]},"
        + " {\"name\": \"monthly_charges\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [90]},"
        + " {\"name\": \"total_charges\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [2160]},"
        + " {\"name\": \"contract_type\", \"shape\": [1, 1], \"datatype\": \"BYTES\", \"data\": [\"One year\"]},"
        + " {\"name\": \"payment_method\", \"shape\": [1, 1], \"datatype\": \"BYTES\","
        + " \"data\": [\"Bank transfer (automatic)\"]}]}";
    var http = java.net.http.HttpClient.newHttpClient();
    var answer = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
        + sidecar.port() + "/v2/models/churn/infer")).header("content-type", "application/json")
        .header("x-user-id", "alice").header("x-request-id", "alice-1")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(row)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).isEqualTo(200);
    org.awaitility.Awaitility.await().until(() -> gantry("disagreements", "churn").out().contains("alice-1"));
    assertThat(gantry("disagreements", "churn").out()).contains("champion (customer-churn@1)",
        "challenger (customer-churn@2)");
    assertThat(gantry("delete", "shadow", "churn").out()).contains("shadow/churn deleted");
    assertThat(gantry("delete", "endpoint", "churn").status()).isZero();
  }

  @Test
  void appliesAnExperimentAndPrintsItsResults(@TempDir Path dir) throws Exception {
    Path both = dir.resolve("churn-experiment.yaml");
    Files.writeString(both, Files.readString(examples().getParent().resolve("endpoints/churn.yaml")).replace(
        "name: churn", "name: ab") + "---\n" + Files.readString(examples().getParent()
        .resolve("endpoints/churn-experiment.yaml")).replace("name: churn", "name: ab"));
    Run applied = gantry("apply", "-f", both.toString());
    assertThat(applied.status()).as(applied.err()).isZero();
    assertThat(applied.out()).contains("endpoint/ab created", "experiment/ab created");
    assertThat(gantry("get", "experiments").out()).contains("EXPERIMENT", "ab", "champion", "reward");
    Run results = gantry("results", "ab");
    assertThat(results.status()).as(results.err()).isZero();
    assertThat(results.out()).contains("experiment ab: goal reward, control champion", "champion (control)",
        "challenger", "not enough data", "sample ratio: p = ");
    assertThat(gantry("results", "nothing").status()).isEqualTo(1);
    assertThat(gantry("delete", "experiment", "ab").status()).isZero();
    assertThat(gantry("delete", "endpoint", "ab").status()).isZero();
  }

  @Test
  void appliesTheFailingCanaryExampleAndSteersItsRollout() {
    try {
      steerTheFailingCanary();
    } finally {
      // the sidecar is shared by the class's tests: leave nothing behind, whatever happened
      gantry("delete", "rollout", "churn-faulty");
      gantry("delete", "endpoint", "churn-faulty");
    }
  }

  private void steerTheFailingCanary() {
    Path example = examples().getParent().resolve("rollouts/churn-faulty.yaml");
    Run applied = gantry("apply", "-f", example.toString());
    assertThat(applied.status()).as(applied.err()).isZero();
    assertThat(applied.out()).contains("endpoint/churn-faulty created", "rollout/churn-faulty created");
    assertThat(gantry("get", "rollouts").out()).contains("churn-faulty", "10/50/100", "sidecar");
    // a sidecar picks it up and starts it: step 1 of 3 at 10 %
    org.awaitility.Awaitility.await().until(() -> gantry("rollout", "status", "churn-faulty").out()
        .contains("phase PROGRESSING, step 1 of 3, canary weight 10 %"));
    Run paused = gantry("rollout", "pause", "churn-faulty");
    assertThat(paused.status()).as(paused.err()).isZero();
    assertThat(paused.out()).contains("phase PAUSED").contains("paused by hand");
    Run again = gantry("rollout", "pause", "churn-faulty");
    assertThat(again.status()).isEqualTo(1);
    assertThat(again.err()).contains("HTTP 409").contains("only a progressing rollout pauses");
    assertThat(gantry("rollout", "resume", "churn-faulty").out()).contains("phase PROGRESSING");
    assertThat(gantry("rollout", "promote", "churn-faulty").out()).contains("step 2 of 3, canary weight 50 %");
    Run aborted = gantry("rollout", "abort", "churn-faulty");
    assertThat(aborted.out()).contains("phase ABORTED", "canary weight 0 %", "aborted by hand");
    assertThat(gantry("get", "endpoint", "churn-faulty", "-o", "yaml").out()).contains("weight: 0");
    Run json = gantry("rollout", "status", "churn-faulty", "-o", "json");
    assertThat(json.out()).contains("\"phase\" : \"ABORTED\"", "\"decisions\"");
    assertThat(gantry("delete", "rollout", "churn-faulty").out()).contains("rollout/churn-faulty deleted");
    Run gone = gantry("rollout", "status", "churn-faulty");
    assertThat(gone.status()).isEqualTo(1);
    assertThat(gone.err()).contains("HTTP 404");
    assertThat(gantry("delete", "endpoint", "churn-faulty").status()).isZero();
  }
}
