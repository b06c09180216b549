package dev.gantry.sidecar.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Three sidecar processes share one experiment: exposures, outcomes and feedback (sent to another sidecar than the
 * one that served the request) sum exactly to what clients sent, including after one member is killed with SIGKILL
 * once its counts were flushed.
 */
class ExperimentProcessTest {
  static final String TOKEN = "experiment-test-token-0123456789";
  static final String[] AUTH = {"authorization", "Bearer " + TOKEN};

  record Member(JavaProcess process, Http data, Http admin) {}

  @Test
  void countsFromEverySidecarAddUpExactlyAndOutliveAKilledMember() throws Exception {
    int runnerPort = JavaProcess.freePort();
    List<Member> sidecars = new ArrayList<>();
    try (JavaProcess runner = JavaProcess.runner(runnerPort)) {
      startExperiment(runnerPort, 3, sidecars);
      Http admin = sidecars.get(0).admin();

      Map<String, Long> exposures = new HashMap<>();
      Map<String, Double> rewardSums = new HashMap<>();
      Map<String, Long> rewardCounts = new HashMap<>();
      int n = 300;
      for (int i = 0; i < n; i++) {
        String id = "p-" + i;
        Member served = sidecars.get(i % 3);
        Http.Reply r = served.data().post("/v2/models/churn/infer", "application/json", Specs.disputedRow(),
            "x-user-id", "u" + i, "x-request-id", id);
        assertThat(r.status()).isEqualTo(200);
        String variant = r.header("x-gantry-variant");
        exposures.merge(variant, 1L, Long::sum);
        // feedback goes to the next sidecar, not the one that served the request
        double reward = i % 4 == 0 ? 1 : 0.5;
        Http.Reply taken = sidecars.get((i + 1) % 3).data().postJson("/v1/feedback",
            new JsonObject().put("request_id", id).put("reward", reward).encode());
        assertThat(taken.status()).as(taken.body()).isEqualTo(200);
        rewardSums.merge(variant, reward, Double::sum);
        rewardCounts.merge(variant, 1L, Long::sum);
      }
      // counts are flushed every second; then the second member is killed: its counts must still be there
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertExact(admin, exposures, rewardCounts,
          rewardSums));
      sidecars.get(1).process().kill();
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertExact(sidecars.get(2).admin(), exposures,
          rewardCounts, rewardSums));
    } finally {
      for (Member m : sidecars) {
        m.process().close();
      }
    }
  }

  /**
   * A sidecar told to stop (SIGTERM, as Kubernetes stops a pod) right after its last request flushes its counts and
   * leaves the Hazelcast cluster before it exits: the other member's results hold every request it served.
   */
  @Test
  void aSidecarStoppedWithSigtermLosesNoCountsAsItLeaves() throws Exception {
    int runnerPort = JavaProcess.freePort();
    List<Member> sidecars = new ArrayList<>();
    try (JavaProcess runner = JavaProcess.runner(runnerPort)) {
      startExperiment(runnerPort, 2, sidecars);
      Map<String, Long> exposures = new HashMap<>();
      Member leaving = sidecars.get(1);
      for (int i = 0; i < 200; i++) {
        Http.Reply r = leaving.data().post("/v2/models/churn/infer", "application/json", Specs.disputedRow(),
            "x-user-id", "u" + i);
        assertThat(r.status()).isEqualTo(200);
        exposures.merge(r.header("x-gantry-variant"), 1L, Long::sum);
      }
      assertThat(leaving.process().terminate()).isTrue();
      assertThat(leaving.process().log()).anyMatch(l -> l.contains("event=sidecar_drained"));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        Http.Reply reply = sidecars.get(0).admin().request("GET", "/admin/v1/experiments/churn/results", null, null,
            AUTH);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        for (Object o : reply.json().getJsonArray("variants")) {
          JsonObject v = (JsonObject) o;
          assertThat(v.getLong("exposures")).as(v.getString("name"))
              .isEqualTo(exposures.getOrDefault(v.getString("name"), 0L));
        }
      });
    } finally {
      for (Member m : sidecars) {
        m.process().close();
      }
    }
  }

  /** Starts {@code count} sidecars sharing one cluster, with the churn endpoint and an experiment on it. */
  private static void startExperiment(int runnerPort, int count, List<Member> sidecars) throws Exception {
    String cluster = "experiment-test-" + UUID.randomUUID();
    List<Integer> clusterPorts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      clusterPorts.add(JavaProcess.freePort());
    }
    String members = String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
    for (int port : clusterPorts) {
      int data = JavaProcess.freePort();
      int admin = JavaProcess.freePort();
      sidecars.add(new Member(JavaProcess.clusterSidecar(data, admin, runnerPort, TOKEN, cluster, port, members,
          "--shutdown-grace-ms", "5000"),
          new Http(data), new Http(admin)));
    }
    for (Member m : sidecars) {
      await().atMost(Duration.ofSeconds(60)).until(() -> m.data().get("/readyz").status() == 200);
    }
    Http admin = sidecars.get(0).admin();
    assertThat(admin.request("PUT", "/admin/v1/endpoints/churn", "application/json", Specs.churn(50, 50), AUTH)
        .status()).isEqualTo(201);
    assertThat(admin.request("PUT", "/admin/v1/experiments/churn", "application/yaml",
        "control: stable\ngoal: reward\n", AUTH).status()).isEqualTo(201);
    // every sidecar has the endpoint and the experiment before the clients start (the model itself, called by
    // its own name, is no exposure)
    await().atMost(Duration.ofSeconds(20)).until(() -> sidecars.stream().allMatch(m -> m.admin().request("GET",
        "/admin/v1/experiments/churn", null, null, AUTH).status() == 200 && m.data().post(
        "/v2/models/customer-churn/versions/1/infer", "application/json", Specs.disputedRow()).status() == 200));
  }

  /** Results equal what clients saw and sent: exposures and successes by variant, rewards. */
  private static void assertExact(Http admin, Map<String, Long> exposures, Map<String, Long> rewardCounts,
      Map<String, Double> rewardSums) {
    Http.Reply reply = admin.request("GET", "/admin/v1/experiments/churn/results", null, null, AUTH);
    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    for (Object o : reply.json().getJsonArray("variants")) {
      JsonObject v = (JsonObject) o;
      String name = v.getString("name");
      assertThat(v.getLong("exposures")).as(name).isEqualTo(exposures.get(name));
      assertThat(v.getLong("successes")).as(name).isEqualTo(exposures.get(name));
      assertThat(v.getJsonObject("reward").getLong("n")).as(name).isEqualTo(rewardCounts.get(name));
      assertThat(v.getJsonObject("reward").getDouble("mean") * rewardCounts.get(name)).as(name)
          .isCloseTo(rewardSums.get(name), org.assertj.core.data.Offset.offset(1e-9));
    }
  }
}
