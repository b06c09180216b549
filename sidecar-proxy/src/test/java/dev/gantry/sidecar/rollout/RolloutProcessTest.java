package dev.gantry.sidecar.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.Load;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Rollouts end to end, as deployed: one runner process (the example models, customer-churn v1 as stable and, as
 * canaries, v2 healthy, v3 failing in the engine on rows with monthly_charges above 85, v4 slower per row) and three
 * sidecar processes sharing cluster state, under open-loop load spread over the three.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RolloutProcessTest {
  static final String TOKEN = "rollout-test-token-0123456789";
  static final String[] AUTH = {"authorization", "Bearer " + TOKEN};
  /** v3 fails on the first (monthly_charges 90), not on the second (50). */
  static final List<String> ROWS = List.of(Specs.disputedRow(), Specs.v2Row(12, 50, 600, "Month-to-month",
      "Electronic check"));

  record Member(JavaProcess process, int clusterPort, Http data, Http admin, int dataPort) {}

  static JavaProcess runner;
  static final List<Member> sidecars = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    int runnerPort = JavaProcess.freePort();
    runner = JavaProcess.runner(runnerPort);
    String cluster = "rollout-test-" + UUID.randomUUID();
    List<Integer> clusterPorts = List.of(JavaProcess.freePort(), JavaProcess.freePort(), JavaProcess.freePort());
    String members = String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
    for (int port : clusterPorts) {
      int data = JavaProcess.freePort();
      int admin = JavaProcess.freePort();
      sidecars.add(new Member(JavaProcess.clusterSidecar(data, admin, runnerPort, TOKEN, cluster, port, members,
          "--event-loops", "1"), port, new Http(data), new Http(admin), data));
    }
    for (Member m : sidecars) {
      await().atMost(Duration.ofSeconds(60)).until(() -> m.data().get("/readyz").status() == 200);
    }
    // a JVM started cold serves a fraction of its steady throughput while C2 compiles (2 cores shared by five JVMs
    // here): the processes are warmed up on the model itself before any rollout is judged
    try (Load warmUp = Load.start(dataPorts(), "/v2/models/customer-churn/versions/1/infer", ROWS, 400, 15)) {
      assertThat(warmUp.awaitStopped(Duration.ofSeconds(40))).isTrue();
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (Member m : sidecars) {
      m.process().close();
      // kept for a post-mortem next to the surefire reports
      java.nio.file.Files.write(java.nio.file.Path.of("target", "rollout-process-sidecar-" + m.clusterPort() + ".log"),
          m.process().log());
    }
    runner.close();
  }

  static List<Integer> dataPorts() {
    return sidecars.stream().filter(m -> m.process().isAlive()).map(Member::dataPort).toList();
  }

  static Http admin() {
    return sidecars.stream().filter(m -> m.process().isAlive()).findFirst().orElseThrow().admin();
  }

  /** Endpoint {@code name}: stable customer-churn v1 at 100 %, canary the given version at 0 %, on every sidecar. */
  static void endpoint(String name, String canaryVersion) {
    Http.Reply e = admin().request("PUT", "/admin/v1/endpoints/" + name, "application/json",
        Specs.churn(100, 0).replace("\"churn\"", "\"" + name + "\"").replace("\"version\": \"2\"",
            "\"version\": \"" + canaryVersion + "\""), AUTH);
    assertThat(e.status()).as(e.body()).isEqualTo(201);
    await().atMost(Duration.ofSeconds(20)).until(() -> sidecars.stream().filter(m -> m.process().isAlive())
        .allMatch(m -> m.data().post("/v2/models/" + name + "/infer", "application/json", ROWS.get(1))
            .status() == 200));
  }

  static void rollout(String name, String yaml) {
    Http.Reply r = admin().request("PUT", "/admin/v1/rollouts/" + name, "application/yaml", yaml, AUTH);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
  }

  static JsonObject status(String name) {
    Http.Reply r = admin().request("GET", "/admin/v1/rollouts/" + name + "/status", null, null, AUTH);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }

  static int canaryWeight(String endpoint) {
    for (Object o : admin().request("GET", "/admin/v1/endpoints/" + endpoint, null, null, AUTH).json()
        .getJsonObject("spec").getJsonArray("variants")) {
      if (((JsonObject) o).getString("name").equals("canary")) {
        return ((JsonObject) o).getInteger("weight");
      }
    }
    throw new AssertionError("no canary");
  }

  static JsonObject decision(JsonObject status, String result) {
    for (Object o : status.getJsonArray("decisions")) {
      if (((JsonObject) o).getString("result").equals(result)) {
        return (JsonObject) o;
      }
    }
    throw new AssertionError("no '" + result + "' decision in " + status.encodePrettily());
  }

  static JsonObject lastDecision(JsonObject status) {
    JsonArray d = status.getJsonArray("decisions");
    return d.getJsonObject(d.size() - 1);
  }

  /** The canary weights the log shows each step entered at, in order. */
  static List<Integer> stepsEntered(JsonObject status) {
    List<Integer> out = new ArrayList<>();
    for (Object o : status.getJsonArray("decisions")) {
      JsonObject d = (JsonObject) o;
      if (d.getString("result").equals("start") || d.getString("reason").contains("; step ")) {
        out.add(d.getInteger("step"));
      }
    }
    return out;
  }

  @Test
  @Order(3)
  void aHealthyCanaryIsPromotedAtAThousandRequestsASecondWithoutAFailedRequest() throws Exception {
    endpoint("healthy", "2");
    try (Load load = Load.start(dataPorts(), "/v2/models/healthy/infer", ROWS, 1000, 120)) {
      rollout("healthy", """
          endpoint: healthy
          stable: stable
          canary: canary
          steps: [{weight: 5}, {weight: 10}, {weight: 25}, {weight: 50}, {weight: 100}]
          analysis:
            interval: 2s
            min_requests: 20
            checks: [{metric: error_rate, max: 0.01}, {metric: error_rate_ratio, max: 2}]
          """);
      await().atMost(Duration.ofSeconds(90)).until(() -> status("healthy").getString("phase").equals("SUCCEEDED"));
      load.close();
      // every weight change happened under load, and no client saw a failure
      assertThat(load.failed()).as("answers %s; sidecar warnings %s", load.answers(), warnings()).isZero();
      assertThat(load.sent()).isGreaterThan(5000);
    }
    JsonObject s = status("healthy");
    assertThat(stepsEntered(s)).containsExactly(0, 1, 2, 3, 4);
    await().atMost(Duration.ofSeconds(5)).until(() -> canaryWeight("healthy") == 100);
  }

  @Test
  @Order(1)
  void aCanaryThatFailsOnSomeInputsRollsBackWithinTheFailureThresholdAndStableServesThroughout() throws Exception {
    endpoint("faulty", "3");
    try (Load load = Load.start(dataPorts(), "/v2/models/faulty/infer", ROWS, 200, 60)) {
      rollout("faulty", """
          endpoint: faulty
          stable: stable
          canary: canary
          steps: [{weight: 10}, {weight: 50}, {weight: 100}]
          analysis:
            interval: 2s
            min_requests: 10
            failure_threshold: 2
            checks: [{metric: error_rate, max: 0.05}, {metric: error_rate_ratio, max: 2}]
          """);
      await().atMost(Duration.ofSeconds(30)).until(() -> status("faulty").getString("phase").equals("ROLLED_BACK"));
      JsonObject s = status("faulty");
      Instant started = Instant.parse(decision(s, "start").getString("at"));
      JsonObject rollback = lastDecision(s);
      Instant rolledBack = Instant.parse(rollback.getString("at"));
      assertThat(rollback.getString("reason")).contains("2 failed interval(s) in step 0");
      // within failure threshold × interval: the intervals judged between the start and the rollback are the two
      // that failed, plus at most one inconclusive first interval (the counts are flushed to the leader every second)
      List<String> judged = new ArrayList<>();
      boolean afterStart = false;
      for (Object o : s.getJsonArray("decisions")) {
        JsonObject d = (JsonObject) o;
        if (afterStart) {
          judged.add(d.getString("result"));
        }
        afterStart |= d.getString("result").equals("start");
      }
      assertThat(judged).endsWith("fail", "fail").hasSizeLessThanOrEqualTo(3)
          .allMatch(r -> r.equals("fail") || r.equals("inconclusive"));
      assertThat(started).isBefore(rolledBack);
      JsonObject errorRate = rollback.getJsonArray("checks").stream().map(JsonObject.class::cast)
          .filter(c -> c.getString("name").equals("error_rate")).findFirst().orElseThrow();
      assertThat(errorRate.getString("verdict")).isEqualTo("FAIL");
      assertThat(errorRate.getDouble("value")).isGreaterThan(0.3);
      assertThat(s.getInteger("step")).isZero();
      assertThat(canaryWeight("faulty")).isZero();
      // let traffic run on after the rollback: nothing reaches the canary once the change has spread
      long settled = rolledBack.toEpochMilli() + 1000;
      await().atMost(Duration.ofSeconds(10)).until(() -> System.currentTimeMillis() > settled + 3000);
      load.close();
      assertThat(load.answeredBy("canary", settled)).isZero();
      // stable answered every request it got, before, during and after
      assertThat(load.failed("stable")).as("answers %s", load.answers()).isZero();
      assertThat(load.count("canary", 500)).as("answers %s", load.answers()).isPositive();
    }
    // it never promotes itself again
    await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6))
        .until(() -> status("faulty").getString("phase").equals("ROLLED_BACK") && canaryWeight("faulty") == 0);
  }

  @Test
  @Order(2)
  void aSlowerCanaryFailsTheRelativeLatencyCheck() throws Exception {
    endpoint("slow", "4");
    try (Load load = Load.start(dataPorts(), "/v2/models/slow/infer", ROWS.subList(1, 2), 150, 90)) {
      rollout("slow", """
          endpoint: slow
          stable: stable
          canary: canary
          steps: [{weight: 50, pause: 1m}, {weight: 100}]
          analysis:
            interval: 2s
            min_requests: 20
            failure_threshold: 2
            checks: [{metric: error_rate, max: 0.05}, {metric: latency_p95_ratio, max: 1.4}]
          """);
      // the step is held for a minute: a tail made noisy by five JVMs on two cores may let an interval pass, but
      // the canary, about twice as slow, fails two of them long before the minute is over
      await().atMost(Duration.ofSeconds(60)).until(() -> status("slow").getString("phase").equals("ROLLED_BACK"));
      load.close();
      assertThat(load.failed()).as("answers %s", load.answers()).isZero();
    }
    JsonObject rollback = lastDecision(status("slow"));
    JsonObject latency = rollback.getJsonArray("checks").stream().map(JsonObject.class::cast)
        .filter(c -> c.getString("name").equals("latency_p95_ratio")).findFirst().orElseThrow();
    assertThat(latency.getString("verdict")).isEqualTo("FAIL");
    assertThat(latency.getDouble("value")).isGreaterThan(1.4);
    assertThat(canaryWeight("slow")).isZero();
  }

  @Test
  @Order(4)
  void whenTheLeaderIsKilledAnotherSidecarResumesAtTheSameStep() throws Exception {
    endpoint("resume", "2");
    try (Load load = Load.start(dataPorts(), "/v2/models/resume/infer", ROWS, 150, 120)) {
      rollout("resume", """
          endpoint: resume
          stable: stable
          canary: canary
          steps: [{weight: 10}, {weight: 20, pause: 10m}, {weight: 100}]
          analysis:
            interval: 10s
            min_requests: 10
            checks: [{metric: error_rate, max: 0.05}]
          """);
      await().atMost(Duration.ofSeconds(60)).until(() -> status("resume").getInteger("step", -1) == 1);
      JsonObject before = status("resume");
      String leader = before.getString("leader");
      long epoch = before.getLong("epoch");
      Member killed = sidecars.stream().filter(m -> leader.endsWith(":" + m.clusterPort())).findFirst().orElseThrow();
      int decisionsBefore = before.getJsonArray("decisions").size();
      long killedAt = System.currentTimeMillis();
      killed.process().kill();
      // another member takes the lease with the next epoch and goes on judging step 1, within two intervals
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        JsonObject s = status("resume");
        return s.getLong("epoch") > epoch && s.getJsonArray("decisions").size() > decisionsBefore;
      });
      JsonObject after = status("resume");
      assertThat(after.getString("leader")).isNotEqualTo(leader);
      JsonObject resumed = after.getJsonArray("decisions").getJsonObject(decisionsBefore);
      assertThat(resumed.getLong("epoch")).isGreaterThan(epoch);
      assertThat(resumed.getInteger("step")).isEqualTo(1);
      assertThat(Instant.parse(resumed.getString("at")).toEpochMilli() - killedAt)
          .isLessThanOrEqualTo(Duration.ofSeconds(20).toMillis());
      assertThat(after.getInteger("step")).isEqualTo(1);
      assertThat(stepsEntered(after)).containsExactly(0, 1);
      assertThat(canaryWeight("resume")).isEqualTo(20);
    }
  }

  @Test
  @Order(5)
  void aSidecarCutOffFromTheMajorityStopsAdvancingTheRollout() throws Exception {
    // two of the three members are left (the leader was killed above); the quorum is 2 (a majority of the 3 listed)
    List<Member> alive = sidecars.stream().filter(m -> m.process().isAlive()).toList();
    assertThat(alive).hasSize(2);
    Member lone = alive.get(0);
    Member frozen = alive.get(1);
    endpoint("split", "2");
    try (Load load = Load.start(List.of(lone.dataPort()), "/v2/models/split/infer", ROWS, 100, 120)) {
      Http.Reply put = lone.admin().request("PUT", "/admin/v1/rollouts/split", "application/yaml", """
          endpoint: split
          stable: stable
          canary: canary
          steps: [{weight: 10}, {weight: 20, pause: 10m}, {weight: 100}]
          analysis:
            interval: 1s
            min_requests: 5
            checks: [{metric: error_rate, max: 0.05}]
          """, AUTH);
      assertThat(put.status()).as(put.body()).isEqualTo(201);
      await().atMost(Duration.ofSeconds(30)).until(() -> statusOn(lone, "split").getInteger("step", -1) == 1);
      frozen.process().freeze(true);
      try {
        // once the lone member sees itself alone it is below the quorum: no lease renewal, no state write
        await().atMost(Duration.ofSeconds(40)).until(() -> lone.admin().request("GET", "/admin/v1/cluster", null,
            null, AUTH).json().getJsonArray("members").size() == 1);
        int decisions = statusOn(lone, "split").getJsonArray("decisions").size();
        await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(10)).until(() -> statusOn(lone, "split")
            .getJsonArray("decisions").size() == decisions);
        assertThat(statusOn(lone, "split").getString("phase")).isEqualTo("PROGRESSING");
        // the data path never waits on the cluster: the lone sidecar served throughout
        load.close();
        assertThat(load.failed()).as("answers %s", load.answers()).isZero();
      } finally {
        frozen.process().freeze(false);
      }
    }
  }

  /** The sidecars' WARN and ERROR log lines, for a failure's message. */
  static List<String> warnings() {
    return sidecars.stream().flatMap(m -> m.process().log().stream())
        .filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).limit(40).toList();
  }

  static JsonObject statusOn(Member m, String name) {
    Http.Reply r = m.admin().request("GET", "/admin/v1/rollouts/" + name + "/status", null, null, AUTH);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }
}
