package dev.gantry.sidecar.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import dev.gantry.sidecar.path.HeldUpstream;
import dev.gantry.sidecar.routing.EndpointSpec;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Shadows on a real runner: answers are compared right on real model pairs (the TorchScript model and its MLflow
 * copy agree on every row; customer-churn v1 and v2 disagree exactly where Python's reference values do), the
 * primary's answers are the same as without a shadow, and a shadow that hangs or cannot be reached changes nothing
 * about the primary's answers.
 */
class ShadowTest {
  static ModelRunner runner;
  static HeldUpstream held;
  static Sidecar sidecar;
  static Http http;
  static Http admin;
  static JsonObject reference;

  @BeforeAll
  static void start() throws Exception {
    runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    held = new HeldUpstream();
    held.hold = true;
    int closed = JavaProcess.freePort();
    EndpointSpecParser endpoints = new EndpointSpecParser();
    List<EndpointSpec> declared = List.of(
        endpoints.yaml("""
            name: ts
            variants:
              - {name: torch, model: churn-torchscript, weight: 100}
              - {name: mlflow, model: churn-mlflow, weight: 0}
            """),
        endpoints.yaml("""
            name: churn
            variants:
              - {name: champion, model: customer-churn, version: "1", weight: 100}
              - {name: challenger, model: customer-churn, version: "2", weight: 0}
            """),
        endpoints.yaml("""
            name: hung
            variants:
              - {name: main, model: customer-churn, version: "1", weight: 100}
              - {name: held, model: m, upstream: "127.0.0.1:%d", weight: 0}
            """.formatted(held.port())),
        endpoints.yaml("""
            name: gone
            variants:
              - {name: main, model: customer-churn, version: "1", weight: 100}
              - {name: away, model: customer-churn, upstream: "127.0.0.1:%d", weight: 0}
            """.formatted(closed)));
    var shadows = ShadowKind.reader();
    List<ShadowSpec> copies = List.of(
        shadows.yaml("{name: ts, variant: mlflow, percent: 100}"),
        shadows.yaml("{name: churn, variant: challenger, percent: 100, keep_disagreements: 10}"),
        shadows.yaml("{name: hung, variant: held, percent: 100, timeout_ms: 500, max_in_flight: 2}"),
        shadows.yaml("{name: gone, variant: away, percent: 100}"));
    sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null).withAdmin(Optional.empty(), declared)
        .withShadows(copies));
    await().until(() -> sidecar.health().ready());
    http = new Http(sidecar.port());
    admin = new Http(sidecar.adminPort());
    reference = new JsonObject(Files.readString(Stack.examples().getParent().resolve("expected.json")))
        .getJsonObject("customer-churn");
  }

  @AfterAll
  static void stop() throws Exception {
    sidecar.close();
    held.close();
    runner.close();
  }

  static String row(JsonArray r) {
    return Specs.v2Row(r.getDouble(0), r.getDouble(1), r.getDouble(2), r.getString(3), r.getString(4));
  }

  static double metric(String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE)
        .matcher(http.get("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  @Test
  void theTorchScriptModelAndItsMlflowCopyAgreeOnEveryRow() {
    JsonArray samples = reference.getJsonArray("samples");
    for (int i = 0; i < 20; i++) {
      JsonArray r = samples.getJsonArray(i % samples.size());
      String body = "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": ["
          + (r.getDouble(0) + i) + ", " + r.getDouble(1) + ", " + r.getDouble(2) + "]}]}";
      assertThat(http.postJson("/v2/models/ts/infer", body).status()).isEqualTo(200);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("gantry_shadow_requests_total{endpoint=\"ts\","
        + "outcome=\"compared\",shadow=\"mlflow\"}") == 20);
    assertThat(metric("gantry_shadow_agreement_total{agreement=\"agree\",endpoint=\"ts\",shadow=\"mlflow\"}"))
        .isEqualTo(20);
    assertThat(metric("gantry_shadow_agreement_total{agreement=\"disagree\",endpoint=\"ts\",shadow=\"mlflow\"}"))
        .isZero();
    assertThat(metric("gantry_shadow_max_abs_difference_max{endpoint=\"ts\",shadow=\"mlflow\"}")).isLessThan(1e-6);
  }

  @Test
  void versionsOneAndTwoDisagreeWhereTheOfflineComparisonDoes() {
    JsonArray samples = reference.getJsonArray("samples");
    List<String> disagreeing = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      String id = "row-" + i;
      Http.Reply shadowed = http.post("/v2/models/churn/infer", "application/json", row(samples.getJsonArray(i)),
          "x-request-id", id);
      assertThat(shadowed.status()).isEqualTo(200);
      // the primary's answer is the one it gives without a shadow
      Http.Reply direct = http.post("/v2/models/customer-churn/versions/1/infer", "application/json",
          row(samples.getJsonArray(i)));
      assertThat(shadowed.json().getJsonArray("outputs")).isEqualTo(direct.json().getJsonArray("outputs"));
      JsonArray v1 = reference.getJsonArray("1").getJsonArray(i);
      JsonArray v2 = reference.getJsonArray("2").getJsonArray(i);
      if ((v1.getDouble(1) > v1.getDouble(0)) != (v2.getDouble(1) > v2.getDouble(0))) {
        disagreeing.add(id);
      }
    }
    assertThat(disagreeing).hasSize(reference.getJsonArray("disagree").size()).isNotEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("gantry_shadow_requests_total{endpoint=\"churn\","
        + "outcome=\"compared\",shadow=\"challenger\"}") == samples.size());
    assertThat(metric("gantry_shadow_agreement_total{agreement=\"disagree\",endpoint=\"churn\","
        + "shadow=\"challenger\"}")).isEqualTo(disagreeing.size());
    assertThat(metric("gantry_shadow_agreement_total{agreement=\"agree\",endpoint=\"churn\",shadow=\"challenger\"}"))
        .isEqualTo(samples.size() - disagreeing.size());
    Http.Reply kept = admin.get("/admin/v1/shadows/churn/disagreements");
    assertThat(kept.status()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    kept.json().getJsonArray("items").forEach(o -> ids.add(((JsonObject) o).getString("request_id")));
    assertThat(ids).containsExactlyInAnyOrderElementsOf(disagreeing);
    JsonObject first = kept.json().getJsonArray("items").getJsonObject(0);
    assertThat(first.getJsonObject("primary").getString("version")).isEqualTo("1");
    assertThat(first.getJsonObject("shadow").getString("version")).isEqualTo("2");
  }

  @Test
  void aShadowThatHangsChangesNothingAboutThePrimaryAndIsBounded() {
    double droppedBefore = metric("gantry_shadow_requests_total{endpoint=\"hung\",outcome=\"dropped\",shadow=\"held\"}");
    List<Integer> statuses = new ArrayList<>();
    boolean answeredWhileCopiesHung = false;
    for (int i = 0; i < 6; i++) {
      statuses.add(http.post("/v2/models/hung/infer", "application/json", Specs.disputedRow()).status());
      answeredWhileCopiesHung |= sidecar.mirror().inFlight("hung") > 0;
    }
    assertThat(statuses).containsOnly(200);
    // the primaries were answered while their copies were still held by the shadow
    assertThat(answeredWhileCopiesHung).isTrue();
    assertThat(sidecar.mirror().inFlight("hung")).isLessThanOrEqualTo(2);
    assertThat(metric("gantry_shadow_requests_total{endpoint=\"hung\",outcome=\"dropped\",shadow=\"held\"}"))
        .isGreaterThan(droppedBefore);
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("gantry_shadow_requests_total{endpoint=\"hung\","
        + "outcome=\"shadow_error\",shadow=\"held\"}") >= 2 && sidecar.mirror().inFlight("hung") == 0);
    // the endpoint's own counters saw six successes and nothing else
    assertThat(metric("model_predictions_total{model=\"hung\",protocol=\"v2\",variant=\"main\",version=\"1\"}"))
        .isGreaterThanOrEqualTo(6);
    assertThat(http.get("/metrics").body()).doesNotContain("model_prediction_errors_total{error_type=\"deadline_exceeded\","
        + "model=\"hung\"");
  }

  @Test
  void aShadowThatCannotBeReachedChangesNothingAboutThePrimary() {
    for (int i = 0; i < 5; i++) {
      Http.Reply r = http.post("/v2/models/gone/infer", "application/json", Specs.disputedRow());
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("x-gantry-variant")).isEqualTo("main");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("gantry_shadow_requests_total{endpoint=\"gone\","
        + "outcome=\"shadow_error\",shadow=\"away\"}") >= 5);
    assertThat(sidecar.health().ready()).isTrue();
  }

  @Test
  void shadowSpecsAreCheckedNamingTheField() {
    Http.Reply unknownVariant = admin.request("PUT", "/admin/v1/shadows/churn", "application/json",
        "{\"variant\": \"nobody\", \"percent\": 10}");
    assertThat(unknownVariant.status()).isEqualTo(422);
    assertThat(unknownVariant.json().getJsonArray("problems").getJsonObject(0).getString("field")).isEqualTo("variant");
    assertThat(unknownVariant.json().getString("error")).contains("champion, challenger");
    Http.Reply noEndpoint = admin.request("PUT", "/admin/v1/shadows/nothing-here", "application/json",
        "{\"variant\": \"x\", \"percent\": 10}");
    assertThat(noEndpoint.status()).isEqualTo(422);
    assertThat(noEndpoint.json().getJsonArray("problems").getJsonObject(0).getString("field")).isEqualTo("name");
    Http.Reply tooMuch = admin.request("PUT", "/admin/v1/shadows/churn", "application/json",
        "{\"variant\": \"challenger\", \"percent\": 150}");
    assertThat(tooMuch.status()).isEqualTo(422);
    Http.Reply unknownKey = admin.request("PUT", "/admin/v1/shadows/churn", "application/json",
        "{\"variant\": \"challenger\", \"percent\": 10, \"sample\": true}");
    assertThat(unknownKey.status()).isEqualTo(400);
    assertThat(unknownKey.json().getString("error")).contains("sample");
    Http.Reply listed = admin.get("/admin/v1/shadows");
    assertThat(listed.json().getJsonArray("items")).hasSize(4);
    Http.Reply changed = admin.request("PUT", "/admin/v1/shadows/churn", "application/yaml",
        "variant: challenger\npercent: 100\nkeep_disagreements: 10\n", "if-match", "\"1\"");
    assertThat(changed.status()).as(changed.body()).isEqualTo(200);
    assertThat(changed.json().getString("change")).isEqualTo("unchanged");
  }
}
