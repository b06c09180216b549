package dev.gantry.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A runner and three sidecar processes, as three pods of one Deployment would run them, sharing state through their
 * embedded Hazelcast members: a change through one admin API reaches the others, a member killed with SIGKILL loses
 * nothing (the others keep serving, and take changes), and a member that joins late has the whole state when it
 * starts serving.
 */
class ClusterProcessTest {
  static final String TOKEN = "process-test-token-0123456789";
  static final String[] AUTH = {"authorization", "Bearer " + TOKEN};

  record Member(JavaProcess process, Http data, Http admin) {}

  @Test
  void sidecarProcessesShareStateAndSurviveAKilledMember() throws Exception {
    int runnerPort = JavaProcess.freePort();
    String cluster = "process-test-" + UUID.randomUUID();
    List<Integer> clusterPorts = List.of(JavaProcess.freePort(), JavaProcess.freePort(), JavaProcess.freePort(),
        JavaProcess.freePort());
    String members = String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
    List<Member> sidecars = new ArrayList<>();
    try (JavaProcess runner = JavaProcess.runner(runnerPort)) {
      for (int i = 0; i < 3; i++) {
        sidecars.add(sidecar(runnerPort, cluster, clusterPorts.get(i), members));
      }
      for (Member m : sidecars) {
        await().atMost(Duration.ofSeconds(60)).until(() -> m.data().get("/readyz").status() == 200);
      }
      Http.Reply created = sidecars.get(0).admin().request("PUT", "/admin/v1/endpoints/churn", "application/json",
          Specs.churn(90, 10), AUTH);
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      String rampedKey = keyInBuckets(8000, 9000);
      for (Member m : sidecars) {
        await().atMost(Duration.ofSeconds(20)).until(() -> "canary".equals(pinned(m, "canary")));
        assertThat(variantOf(m, rampedKey)).isEqualTo("stable");
      }

      sidecars.get(1).process().kill();
      List<Member> alive = List.of(sidecars.get(0), sidecars.get(2));
      for (Member m : alive) {
        // the data path never waits on the cluster: it goes on serving from its snapshot at once
        assertThat(variantOf(m, rampedKey)).isEqualTo("stable");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
          Http.Reply r = m.admin().request("GET", "/admin/v1/endpoints/churn", null, null, AUTH);
          assertThat(r.status()).isEqualTo(200);
          assertThat(r.json().getLong("revision")).isEqualTo(1);
        });
      }
      Http.Reply ramped = sidecars.get(2).admin().request("PUT", "/admin/v1/endpoints/churn", "application/json",
          Specs.churn(80, 20), "authorization", AUTH[1], "if-match", "\"1\"");
      assertThat(ramped.status()).as(ramped.body()).isEqualTo(200);
      assertThat(ramped.json().getLong("revision")).isEqualTo(2);
      for (Member m : alive) {
        await().atMost(Duration.ofSeconds(20)).until(() -> "canary".equals(variantOf(m, rampedKey)));
      }

      Member late = sidecar(runnerPort, cluster, clusterPorts.get(3), members);
      sidecars.add(late);
      // started means the state is loaded: no waiting for it
      assertThat(variantOf(late, rampedKey)).isEqualTo("canary");
      Http.Reply fromLate = late.admin().request("GET", "/admin/v1/endpoints/churn", null, null, AUTH);
      assertThat(fromLate.json().getLong("revision")).isEqualTo(2);
      Http.Reply membersSeen = late.admin().request("GET", "/admin/v1/cluster", null, null, AUTH);
      assertThat(membersSeen.json().getJsonArray("members")).hasSize(3);
    } finally {
      for (Member m : sidecars) {
        m.process().close();
      }
    }
  }

  private static Member sidecar(int runnerPort, String cluster, int clusterPort, String members) throws Exception {
    int port = JavaProcess.freePort();
    int adminPort = JavaProcess.freePort();
    JavaProcess p = JavaProcess.start("dev.gantry.sidecar.SidecarMain", "event=sidecar_started", "--host",
        "127.0.0.1", "--port", Integer.toString(port), "--runner-port", Integer.toString(runnerPort),
        "--admin-host", "127.0.0.1", "--admin-port", Integer.toString(adminPort), "--admin-token", TOKEN,
        "--cluster-name", cluster, "--cluster-host", "127.0.0.1", "--cluster-port", Integer.toString(clusterPort),
        "--cluster-members", members);
    return new Member(p, new Http(port), new Http(adminPort));
  }

  private static String pinned(Member m, String variant) {
    Http.Reply r = m.data().post("/v2/models/churn/infer", "application/json", Specs.disputedRow(),
        "x-gantry-variant", variant);
    return r.status() == 200 ? r.header("x-gantry-variant") : "HTTP " + r.status();
  }

  private static String variantOf(Member m, String key) {
    Http.Reply r = m.data().post("/v2/models/churn/infer", "application/json", Specs.disputedRow(), "x-user-id", key);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.header("x-gantry-variant");
  }

  /** A key whose bucket (under the endpoint's default salt, its name) is in [from, to). */
  private static String keyInBuckets(int from, int to) {
    for (int i = 0; ; i++) {
      int b = StickyHash.bucket("churn", "user-" + i);
      if (b >= from && b < to) {
        return "user-" + i;
      }
    }
  }
}
