package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Load;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rollouts on one real sidecar in front of a real runner (customer-churn v1 as stable, v2 as canary), judged on the
 * sidecar's own counts of real inference: the whole plan to promotion, the decision log and metrics, a person's
 * commands, webhooks (a test server records every call), no traffic staying inconclusive, and bad specs refused.
 * The multi-sidecar behaviour (failing and slow canaries, losing the leader) is in {@code RolloutProcessTest}.
 */
class RolloutTest {
  static ModelRunner runner;
  static Sidecar sidecar;
  static Http admin;
  static Vertx vertx;
  static HttpServer hooks;
  static final List<JsonObject> calls = new CopyOnWriteArrayList<>();
  static final AtomicInteger confirmPromotionStatus = new AtomicInteger(403);
  static final AtomicInteger rollbackStatus = new AtomicInteger(404);
  static final AtomicInteger confirmRolloutStatus = new AtomicInteger(403);

  @BeforeAll
  static void start() {
    runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null).withAdmin(Optional.empty(), List.of()));
    await().until(() -> sidecar.health().ready());
    admin = new Http(sidecar.adminPort());
    vertx = Vertx.vertx();
    hooks = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      JsonObject call = body.toJsonObject().put("path", req.path());
      calls.add(call);
      int status = switch (req.path()) {
        case "/confirm-promotion" -> confirmPromotionStatus.get();
        case "/rollback" -> rollbackStatus.get();
        case "/confirm-rollout" -> confirmRolloutStatus.get();
        case "/pre-rollout" -> 500;
        default -> 200;
      };
      req.response().setStatusCode(status).end();
    })).listen(0, "127.0.0.1").await();
  }

  @AfterAll
  static void stop() {
    sidecar.close();
    runner.close();
    vertx.close().await();
  }

  /** Puts an endpoint {@code name}: stable v1 100 %, canary v2 0 %. */
  private static void endpoint(String name) {
    Http.Reply e = admin.request("PUT", "/admin/v1/endpoints/" + name, "application/json",
        Specs.churn(100, 0).replace("\"churn\"", "\"" + name + "\""));
    assertThat(e.status()).as(e.body()).isEqualTo(201);
    await().until(() -> admin.get("/admin/v1/endpoints/" + name).status() == 200);
  }

  /** Puts an endpoint {@code name} (unless there is one) and a rollout of it. */
  private static void rollout(String name, String steps, String extra) {
    if (admin.get("/admin/v1/endpoints/" + name).status() == 404) {
      endpoint(name);
    }
    Http.Reply r = admin.request("PUT", "/admin/v1/rollouts/" + name, "application/yaml",
        "endpoint: " + name + "\nstable: stable\ncanary: canary\nsteps: " + steps + "\n" + extra);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
  }

  private static JsonObject status(String name) {
    Http.Reply r = admin.get("/admin/v1/rollouts/" + name + "/status");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }

  private static int weight(String endpoint, String variant) {
    JsonArray variants = admin.get("/admin/v1/endpoints/" + endpoint).json().getJsonObject("spec")
        .getJsonArray("variants");
    for (Object o : variants) {
      if (((JsonObject) o).getString("name").equals(variant)) {
        return ((JsonObject) o).getInteger("weight");
      }
    }
    throw new AssertionError("no variant " + variant);
  }

  private static final String ANALYSIS = """
      analysis:
        interval: 1s
        min_requests: 5
        checks:
          - {metric: error_rate, max: 0.05}
          - {metric: error_rate_ratio, max: 2}
        """;

  @Test
  void aHealthyCanaryGoesThroughEveryStepOnRealTrafficAndIsPromoted() throws Exception {
    endpoint("healthy");
    try (Load load = Load.start(List.of(sidecar.port()), "/v2/models/healthy/infer", List.of(Specs.disputedRow()),
        200, 90)) {
      rollout("healthy", "[{weight: 5}, {weight: 10}, {weight: 25}, {weight: 50}, {weight: 100}]", ANALYSIS);
      await().atMost(Duration.ofSeconds(60)).until(() -> status("healthy").getString("phase").equals("SUCCEEDED"));
      load.close();
      assertThat(load.failed()).as("answers %s", load.answers()).isZero();
      assertThat(load.count("canary", 200)).isPositive();
    }
    // the state is written first, then the weights it names
    await().atMost(Duration.ofSeconds(5)).until(() -> weight("healthy", "canary") == 100);
    assertThat(weight("healthy", "stable")).isZero();
    JsonObject s = status("healthy");
    // every step in order, each entered once, then promotion and success
    List<Integer> entered = new ArrayList<>();
    for (Object o : s.getJsonArray("decisions")) {
      JsonObject d = (JsonObject) o;
      if (d.getString("result").equals("start") || (d.getString("result").equals("pass")
          && d.getString("to").equals("PROGRESSING") && d.getString("reason").contains("; step "))) {
        entered.add(d.getInteger("canary_weight"));
      }
      if (d.getString("result").equals("pass")) {
        // a passing interval shows what it measured
        assertThat(d.getJsonArray("checks")).isNotEmpty();
        for (Object c : d.getJsonArray("checks")) {
          assertThat(((JsonObject) c).getString("verdict")).isEqualTo("PASS");
          assertThat(((JsonObject) c).getDouble("value")).isNotNull();
        }
      }
    }
    assertThat(entered).containsExactly(5, 10, 25, 50, 100);
    List<String> phases = s.getJsonArray("decisions").stream().map(o -> ((JsonObject) o).getString("to")).toList();
    assertThat(phases).contains("PROMOTING").endsWith("SUCCEEDED");
    String metrics = new Http(sidecar.port()).get("/metrics").body();
    assertThat(metrics).contains("gantry_rollout_phase{phase=\"succeeded\",rollout=\"healthy\"} 1.0")
        .contains("gantry_rollout_canary_weight{rollout=\"healthy\"} 100.0")
        .contains("gantry_rollout_check_value{check=\"error_rate\",rollout=\"healthy\"}");
    long passes = s.getJsonObject("decision_counts").getLong("pass");
    assertThat(metrics).contains("gantry_rollout_decisions_total{result=\"pass\",rollout=\"healthy\"} " + passes
        + ".0");
  }

  @Test
  void withoutTrafficTheRolloutStaysInconclusiveAndNothingIsPromoted() {
    rollout("idle", "[{weight: 5}, {weight: 100}]", ANALYSIS);
    await().atMost(Duration.ofSeconds(30)).until(() -> status("idle").getJsonObject("decision_counts",
        new JsonObject()).getLong("inconclusive", 0L) >= 4);
    JsonObject s = status("idle");
    assertThat(s.getString("phase")).isEqualTo("PROGRESSING");
    assertThat(s.getInteger("step")).isZero();
    assertThat(s.getInteger("canary_weight")).isEqualTo(5);
    assertThat(s.getJsonObject("decision_counts").fieldNames()).containsOnly("start", "inconclusive");
    for (Object c : s.getJsonArray("last_checks")) {
      assertThat(((JsonObject) c).getString("verdict")).isEqualTo("INCONCLUSIVE");
      assertThat(((JsonObject) c).getValue("value")).isNull();
    }
    assertThat(weight("idle", "canary")).isEqualTo(5);
  }

  @Test
  void commandsPauseResumePromoteAbortAndRetry() {
    rollout("manual", "[{weight: 10, pause: until_promoted}, {weight: 50, pause: until_promoted}]", ANALYSIS);
    await().until(() -> status("manual").getString("phase").equals("PROGRESSING"));
    assertThat(command("manual", "pause").status()).isEqualTo(200);
    assertThat(status("manual").getString("phase")).isEqualTo("PAUSED");
    Http.Reply again = command("manual", "pause");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.body()).contains("PAUSED").contains("only a progressing rollout pauses");
    assertThat(command("manual", "resume").status()).isEqualTo(200);
    assertThat(command("manual", "promote").status()).isEqualTo(200);
    assertThat(status("manual").getInteger("canary_weight")).isEqualTo(50);
    await().until(() -> weight("manual", "canary") == 50);
    Http.Reply aborted = command("manual", "abort");
    assertThat(aborted.status()).as(aborted.body()).isEqualTo(200);
    assertThat(aborted.json().getString("phase")).isEqualTo("ABORTED");
    // all traffic goes back to stable (the command sets the weights itself, or the leader within a tick); the
    // canary stays declared
    await().atMost(Duration.ofSeconds(5)).until(() -> weight("manual", "canary") == 0);
    assertThat(weight("manual", "stable")).isEqualTo(100);
    // an aborted rollout never moves on by itself
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
        .until(() -> status("manual").getString("phase").equals("ABORTED"));
    assertThat(command("manual", "retry").status()).isEqualTo(200);
    assertThat(status("manual").getString("phase")).isEqualTo("PROGRESSING");
    await().until(() -> weight("manual", "canary") == 10);
    assertThat(admin.request("POST", "/admin/v1/rollouts/manual/promote?full=true", null, null).status())
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> status("manual").getString("phase").equals("SUCCEEDED"));
    await().atMost(Duration.ofSeconds(5)).until(() -> weight("manual", "canary") == 100);
    assertThat(command("manual", "frobnicate").status()).isEqualTo(404);
    assertThat(admin.request("POST", "/admin/v1/rollouts/nope/abort", null, null).status()).isEqualTo(404);
  }

  @Test
  void aFailingConfirmPromotionHookHoldsAndA2xxRollbackHookAborts() {
    String url = "http://127.0.0.1:" + hooks.actualPort();
    endpoint("hooked");
    try (Load load = Load.start(List.of(sidecar.port()), "/v2/models/hooked/infer", List.of(Specs.disputedRow()), 100,
        60)) {
      rollout("hooked", "[{weight: 50}]", ANALYSIS + """
          webhooks:
            - {name: gate, type: confirm-promotion, url: %s/confirm-promotion, timeout: 2s, retries: 0}
            - {name: pager, type: rollback, url: %s/rollback, timeout: 2s, retries: 0}
            - {name: log, type: event, url: %s/event}
          """.formatted(url, url, url));
      // the step passes, but the gate says no: the rollout holds at its last step
      await().atMost(Duration.ofSeconds(30)).until(() -> String.valueOf(status("hooked").getString("waiting"))
          .contains("confirm-promotion hook 'gate' answered 403"));
      await().during(Duration.ofSeconds(2)).until(() -> status("hooked").getString("phase").equals("PROGRESSING"));
      assertThat(weight("hooked", "canary")).isEqualTo(50);
      // now the rollback hook answers 200: the rollout aborts and all traffic returns to stable
      rollbackStatus.set(200);
      await().atMost(Duration.ofSeconds(10)).until(() -> status("hooked").getString("phase").equals("ABORTED"));
      await().until(() -> weight("hooked", "canary") == 0);
      load.close();
      assertThat(load.failed()).as("answers %s", load.answers()).isZero();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      rollbackStatus.set(404);
    }
    JsonObject last = status("hooked").getJsonArray("decisions").getJsonObject(status("hooked")
        .getJsonArray("decisions").size() - 1);
    assertThat(last.getString("reason")).contains("rollback hook 'pager' answered 200");
    assertThat(last.getString("result")).isEqualTo("hook");
    // every hook got the rollout's names; the event hook heard the start and the abort
    List<JsonObject> mine = calls.stream().filter(c -> "hooked".equals(c.getString("name"))).toList();
    assertThat(mine).allSatisfy(c -> assertThat(c.getString("canary")).isEqualTo("canary"));
    assertThat(mine.stream().filter(c -> c.getString("path").equals("/event")).map(c -> c.getString("phase")))
        .contains("PROGRESSING", "ABORTED");
    assertThat(mine.stream().filter(c -> c.getString("path").equals("/confirm-promotion"))).isNotEmpty();
    // the aborted canary stayed in the split at weight 0 for inspection; deleting the rollout retires it
    assertThat(admin.request("DELETE", "/admin/v1/rollouts/hooked", null, null).status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> !admin.get("/admin/v1/endpoints/hooked").body()
        .contains("\"canary\""));
    assertThat(admin.get("/admin/v1/rollouts/hooked/status").status()).isEqualTo(404);
  }

  @Test
  void aConfirmRolloutHookGatesTheStartAndAFailingPreRolloutHookFailsItBeforeTrafficMoves() {
    String url = "http://127.0.0.1:" + hooks.actualPort();
    rollout("gated", "[{weight: 50}]", ANALYSIS + """
        webhooks:
          - {name: approve, type: confirm-rollout, url: %s/confirm-rollout, timeout: 2s, retries: 0}
        """.formatted(url));
    await().atMost(Duration.ofSeconds(10)).until(() -> String.valueOf(status("gated").getString("waiting"))
        .contains("confirm-rollout hook 'approve' answered 403"));
    await().during(Duration.ofSeconds(2)).until(() -> status("gated").getString("phase").equals("PENDING"));
    assertThat(weight("gated", "canary")).isZero();
    confirmRolloutStatus.set(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> status("gated").getString("phase").equals("PROGRESSING"));
    assertThat(status("gated").getValue("waiting")).isNull();
    await().until(() -> weight("gated", "canary") == 50);

    rollout("precheck", "[{weight: 50}]", ANALYSIS + """
        webhooks:
          - {name: smoke, type: pre-rollout, url: %s/pre-rollout, timeout: 2s, retries: 1}
        """.formatted(url));
    await().atMost(Duration.ofSeconds(15)).until(() -> status("precheck").getString("phase").equals("FAILED"));
    JsonObject failed = status("precheck");
    assertThat(failed.getJsonArray("decisions").getJsonObject(0).getString("reason"))
        .contains("failed before any traffic moved").contains("pre-rollout hook 'smoke' answered 500");
    assertThat(weight("precheck", "canary")).isZero();
    // a 5xx is tried again: 1 + retries calls
    assertThat(calls.stream().filter(c -> "precheck".equals(c.getString("name"))
        && c.getString("path").equals("/pre-rollout")).count()).isEqualTo(2);
  }

  @Test
  void badSpecsAreRefusedNamingTheField() {
    Http.Reply noEndpoint = admin.request("PUT", "/admin/v1/rollouts/ghost", "application/yaml",
        "endpoint: ghost\nstable: a\ncanary: b\nsteps: [{weight: 10}]\n");
    assertThat(noEndpoint.status()).isEqualTo(422);
    assertThat(noEndpoint.body()).contains("endpoint").contains("no endpoint 'ghost'");
    Http.Reply bad = admin.request("PUT", "/admin/v1/rollouts/bad", "application/yaml", """
        endpoint: churn
        stable: stable
        canary: stable
        steps: [{weight: 50}, {weight: 20, pause: soon}]
        analysis: {interval: 10x, on_inconclusive: shrug, checks: [{metric: error_rat, max: 1}, {name: q, query: up,
          max: 1}]}
        webhooks: [{name: h, type: before, url: ftp://x}]
        """);
    assertThat(bad.status()).isEqualTo(422);
    assertThat(bad.body()).contains("canary").contains("steps[1].weight").contains("steps[1].pause")
        .contains("analysis.interval").contains("analysis.on_inconclusive").contains("error_rat")
        .contains("analysis.prometheus").contains("webhooks[0].type").contains("webhooks[0].url");
  }

  private static Http.Reply command(String name, String command) {
    return admin.request("POST", "/admin/v1/rollouts/" + name + "/" + command, null, null);
  }
}
