package dev.gantry.sidecar.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An A/B experiment on a real sidecar and runner: exposures, outcomes and rewards sent through both feedback APIs
 * add up exactly to what the clients saw and sent, the comparison is the always-valid one over those numbers, and
 * bad feedback is a 4xx naming what is wrong.
 */
class ExperimentTest {
  static ModelRunner runner;
  static Sidecar sidecar;
  static Http http;
  static Http admin;

  @BeforeAll
  static void start() {
    runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    EndpointSpecParser parser = new EndpointSpecParser();
    sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null).withAdmin(Optional.empty(), List.of(
        parser.json(Specs.churn(50, 50).replace("stable", "champion").replace("canary", "challenger")),
        parser.json(Specs.churn(50, 50).replace("\"churn\"", "\"quick\"")),
        parser.json(Specs.churn(50, 50).replace("\"churn\"", "\"other\"")))));
    await().until(() -> sidecar.health().ready());
    http = new Http(sidecar.port());
    admin = new Http(sidecar.adminPort());
    assertThat(admin.request("PUT", "/admin/v1/experiments/churn", "application/yaml",
        "control: champion\ngoal: reward\nmin_samples: 50\nplanned_samples: 600\n").status()).isEqualTo(201);
    assertThat(admin.request("PUT", "/admin/v1/experiments/quick", "application/yaml",
        "control: stable\ngoal: error_rate\nfeedback_window_s: 1\n").status()).isEqualTo(201);
    assertThat(admin.request("PUT", "/admin/v1/experiments/other", "application/yaml",
        "control: stable\ngoal: reward\n").status()).isEqualTo(201);
  }

  @AfterAll
  static void stop() {
    sidecar.close();
    runner.close();
  }

  @Test
  void countsAndRewardsAddUpToWhatClientsSawAndSent() {
    SplittableRandom random = new SplittableRandom(11);
    Map<String, Long> exposures = new HashMap<>();
    Map<String, Summary> rewards = new HashMap<>();
    for (int i = 0; i < 600; i++) {
      String id = "exp-" + i;
      Http.Reply r = http.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(), "x-user-id",
          "user-" + i, "x-request-id", id);
      assertThat(r.status()).isEqualTo(200);
      String variant = r.header("x-gantry-variant");
      exposures.merge(variant, 1L, Long::sum);
      if (i % 3 == 0) {
        continue;
      }
      double reward = random.nextDouble() < (variant.equals("challenger") ? 0.35 : 0.15) ? 1 : 0;
      Http.Reply taken = i % 2 == 0
          ? http.postJson("/v1/feedback", new JsonObject().put("request_id", id).put("reward", reward).encode())
          : http.postJson("/api/v1.0/feedback", new JsonObject().put("response", new JsonObject()
              .put("meta", new JsonObject().put("puid", id))).put("reward", reward).encode());
      assertThat(taken.status()).as(taken.body()).isEqualTo(200);
      assertThat(taken.json().getString("variant")).isEqualTo(variant);
      rewards.merge(variant, Summary.EMPTY.add(reward), Summary::merge);
    }
    JsonObject results = admin.get("/admin/v1/experiments/churn/results").json();
    for (Object o : results.getJsonArray("variants")) {
      JsonObject v = (JsonObject) o;
      String name = v.getString("name");
      assertThat(v.getLong("exposures")).as(name).isEqualTo(exposures.get(name));
      assertThat(v.getLong("successes")).as(name).isEqualTo(exposures.get(name));
      assertThat(v.getLong("errors")).isZero();
      assertThat(v.getJsonObject("reward").getLong("n")).as(name).isEqualTo(rewards.get(name).n());
      assertThat(v.getJsonObject("reward").getDouble("mean")).isCloseTo(rewards.get(name).mean(), within(1e-12));
      assertThat(v.getJsonObject("latency_ms").getDouble("p50")).isPositive();
    }
    JsonObject c = results.getJsonArray("comparisons").getJsonObject(0);
    ConfidenceSequence.Difference expected = ConfidenceSequence.compare(rewards.get("champion"),
        rewards.get("challenger"), 0.05, 600);
    assertThat(c.getString("variant")).isEqualTo("challenger");
    assertThat(c.getDouble("difference")).isCloseTo(expected.difference(), within(1e-12));
    assertThat(c.getDouble("lower")).isCloseTo(expected.lower(), within(1e-12));
    assertThat(c.getDouble("p_value")).isCloseTo(expected.pValue(), within(1e-12));
    assertThat(c.getString("verdict")).isEqualTo(expected.significant() ? "better" : "no difference yet");
    assertThat(results.getJsonObject("sample_ratio").getDouble("p_value")).isCloseTo(SampleRatio.check(
        new long[] {exposures.get("champion"), exposures.get("challenger")}, new double[] {50, 50}).pValue(),
        within(1e-12));
  }

  @Test
  void badFeedbackIsA4xxNamingWhatIsWrong() {
    Http.Reply unknown = http.postJson("/v1/feedback", "{\"request_id\": \"never-served\", \"reward\": 1}");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).contains("never-served");
    Http.Reply malformed = http.postJson("/v1/feedback", "{\"request_id\": \"x\", \"reward\": \"lots\"}");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.json().getString("error")).contains("'reward' must be a finite number");
    assertThat(http.postJson("/v1/feedback", "{\"reward\": 1}").status()).isEqualTo(400);
    assertThat(http.postJson("/v1/feedback", "{not json").status()).isEqualTo(400);
    Http.Reply seldon = http.postJson("/api/v1.0/feedback", "{\"reward\": 1}");
    assertThat(seldon.status()).isEqualTo(400);
    assertThat(seldon.json().getJsonObject("status").getString("info")).contains("puid");

    assertThat(http.post("/v2/models/other/infer", "application/json", Specs.disputedRow(), "x-request-id", "twice")
        .status()).isEqualTo(200);
    assertThat(http.postJson("/v1/feedback", "{\"request_id\": \"twice\", \"reward\": 1}").status()).isEqualTo(200);
    assertThat(http.postJson("/v1/feedback", "{\"request_id\": \"twice\", \"reward\": 1}").status()).isEqualTo(409);

    // a window of 1 s: feedback after it is too late, and said so (410), not unknown
    assertThat(http.post("/v2/models/quick/infer", "application/json", Specs.disputedRow(), "x-request-id", "late")
        .status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() ->
        http.postJson("/v1/feedback", "{\"request_id\": \"late\", \"reward\": 0}").status() == 410);
  }

  @Test
  void experimentSpecsAreCheckedNamingTheField() {
    Http.Reply noEndpoint = admin.request("PUT", "/admin/v1/experiments/nothing", "application/json",
        "{\"control\": \"a\", \"goal\": \"reward\"}");
    assertThat(noEndpoint.status()).isEqualTo(422);
    assertThat(noEndpoint.json().getJsonArray("problems").getJsonObject(0).getString("field")).isEqualTo("name");
    Http.Reply noControl = admin.request("PUT", "/admin/v1/experiments/churn", "application/json",
        "{\"control\": \"nobody\", \"goal\": \"reward\"}");
    assertThat(noControl.status()).isEqualTo(422);
    assertThat(noControl.json().getJsonArray("problems").getJsonObject(0).getString("field")).isEqualTo("control");
    Http.Reply badGoal = admin.request("PUT", "/admin/v1/experiments/churn", "application/json",
        "{\"control\": \"champion\", \"goal\": \"vibes\"}");
    assertThat(badGoal.status()).isEqualTo(422);
    assertThat(admin.get("/admin/v1/experiments/nothing/results").status()).isEqualTo(404);
  }
}
