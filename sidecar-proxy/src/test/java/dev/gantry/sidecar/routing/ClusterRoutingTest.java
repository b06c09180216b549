package dev.gantry.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import dev.gantry.sidecar.cluster.ClusterSettings;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three sidecars in one JVM, each with its own embedded Hazelcast member of one cluster, in front of one real runner:
 * a change through one admin API is applied by all, keyed requests land on the same variant on every member, weights
 * hold over 20 000 keyed requests, a ramp only moves keys onto the canary, and a member that joins late has the whole
 * state before it serves. (Killing a member with SIGKILL needs processes: {@link ClusterProcessTest}.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterRoutingTest {
  static final String TOKEN = "cluster-test-token-0123456789";
  static final String[] AUTH = {"authorization", "Bearer " + TOKEN};
  static ModelRunner runner;
  static final List<Sidecar> sidecars = new ArrayList<>();
  static final List<Http> data = new ArrayList<>();
  static ClusterSettings cluster;
  static Vertx vertx;

  @BeforeAll
  static void start() throws Exception {
    runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    int[] ports = {JavaProcess.freePort(), JavaProcess.freePort(), JavaProcess.freePort()};
    List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1], "127.0.0.1:" + ports[2]);
    cluster = new ClusterSettings(true, "routing-test-" + UUID.randomUUID(), "127.0.0.1", ports[0], members,
        Optional.empty());
    for (int port : ports) {
      Sidecar s = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null).withAdmin(Optional.of(TOKEN),
          List.of()).withCluster(at(port)));
      sidecars.add(s);
      data.add(new Http(s.port()));
    }
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> sidecars.get(0).store().members().size() == 3);
    vertx = Vertx.vertx();
  }

  static ClusterSettings at(int port) {
    return new ClusterSettings(true, cluster.name(), "127.0.0.1", port, cluster.members(), Optional.empty());
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      vertx.close().await();
    }
    sidecars.forEach(Sidecar::close);
    runner.close();
  }

  static void apply(int member, String spec, long expectedRevision) {
    Http.Reply reply = new Http(sidecars.get(member).adminPort()).request("PUT", "/admin/v1/endpoints/churn",
        "application/json", spec, AUTH);
    assertThat(reply.status()).as(reply.body()).isIn(200, 201);
    assertThat(reply.json().getLong("revision")).isEqualTo(expectedRevision);
    Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      for (Sidecar s : sidecars) {
        EndpointRecord r = s.endpoints().snapshot().records().get("churn");
        assertThat(r).isNotNull();
        assertThat(r.revision()).isEqualTo(expectedRevision);
      }
    });
  }

  @Test
  @Order(1)
  void aChangeThroughOneMembersAdminApiIsAppliedByAll() {
    apply(1, Specs.churn(90, 10), 1);
    for (int i = 0; i < 3; i++) {
      Http.Reply r = data.get(i).post("/v2/models/churn/infer", "application/json", Specs.disputedRow(),
          "x-gantry-variant", "canary");
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.header("x-gantry-variant")).isEqualTo("canary");
      // customer-churn v2 answers: P(churn) 0.602 on this row, where v1 says 0.399
      assertThat(r.json().getString("model_version")).isEqualTo("2");
      assertThat(r.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(1))
          .isCloseTo(0.6021943092346191, org.assertj.core.data.Offset.offset(1e-5));
    }
    Http.Reply list = new Http(sidecars.get(2).adminPort()).request("GET", "/admin/v1/endpoints", null, null, AUTH);
    assertThat(list.json().getJsonArray("items")).hasSize(1);
  }

  @Test
  @Order(2)
  void weightsHoldAndEveryMemberPutsAKeyOnTheSameVariant() throws Exception {
    int n = 21_000;
    Map<String, String>[] seen = send(n, "w");
    long canary = 0;
    for (int i = 0; i < n; i++) {
      String key = "w" + i;
      String variant = seen[i % 3].get(key);
      assertThat(variant).as("key %s", key).isIn("stable", "canary");
      Endpoint churn = sidecars.get(0).endpoints().snapshot().endpoints().get("churn");
      // the variant is the owner of the key's bucket, by the documented hash, whichever member answered
      int bucket = StickyHash.bucket(churn.salt(), key);
      assertThat(variant).isEqualTo(bucket >= 9000 ? "canary" : "stable");
      if (variant.equals("canary")) {
        canary++;
      }
    }
    double p = new ChiSquareTest().chiSquareTest(new double[] {0.9 * n, 0.1 * n}, new long[] {n - canary, canary});
    assertThat(p).as("chi-square p-value for %d canary of %d", canary, n).isGreaterThan(0.001);

    // the same keys asked of every member land on the same variant
    for (int i = 0; i < 300; i++) {
      Set<String> variants = new HashSet<>();
      for (Http h : data) {
        variants.add(h.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(), "x-user-id",
            "w" + i).header("x-gantry-variant"));
      }
      assertThat(variants).as("key w%d", i).hasSize(1);
    }
  }

  @Test
  @Order(3)
  void aRampOnlyMovesKeysOntoTheCanary() throws Exception {
    int n = 3000;
    Set<String> canaryAt10 = canaryKeys(send(n, "r"));
    apply(0, Specs.churn(80, 20), 2);
    Set<String> canaryAt20 = canaryKeys(send(n, "r"));
    apply(2, Specs.churn(50, 50), 3);
    Set<String> canaryAt50 = canaryKeys(send(n, "r"));
    assertThat(canaryAt10).isNotEmpty();
    assertThat(canaryAt20).containsAll(canaryAt10);
    assertThat(canaryAt50).containsAll(canaryAt20);
    assertThat(canaryAt20.size()).isGreaterThan(canaryAt10.size());
    assertThat(canaryAt50.size()).isGreaterThan(canaryAt20.size());
    // ramping down only moves keys off the canary
    apply(1, Specs.churn(90, 10), 4);
    Set<String> back = canaryKeys(send(n, "r"));
    assertThat(canaryAt50).containsAll(back);
    assertThat(back.size()).isLessThan(canaryAt20.size());
  }

  @Test
  @Order(4)
  void aMemberThatJoinsLateHasTheWholeStateBeforeItServes() throws Exception {
    int port = JavaProcess.freePort();
    Sidecar late = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), null)
        .withAdmin(Optional.of(TOKEN), List.of()).withCluster(at(port)));
    try {
      // no waiting: start returns only after the state is loaded
      EndpointRecord record = late.endpoints().snapshot().records().get("churn");
      assertThat(record).isNotNull();
      assertThat(record.revision()).isEqualTo(sidecars.get(0).endpoints().snapshot().records().get("churn")
          .revision());
      Http.Reply r = new Http(late.port()).post("/v2/models/churn/infer", "application/json", Specs.disputedRow(),
          "x-user-id", "w1");
      assertThat(r.header("x-gantry-variant")).isEqualTo(data.get(0).post("/v2/models/churn/infer",
          "application/json", Specs.disputedRow(), "x-user-id", "w1").header("x-gantry-variant"));
      assertThat(late.store().members()).hasSize(4);
    } finally {
      late.close();
    }
  }

  private static Set<String> canaryKeys(Map<String, String>[] seen) {
    Set<String> keys = new HashSet<>();
    for (Map<String, String> m : seen) {
      m.forEach((k, v) -> {
        if (v.equals("canary")) {
          keys.add(k);
        }
      });
    }
    return keys;
  }

  /**
   * Sends {@code n} keyed requests ({@code prefix + i}), request i to member i % 3, 48 at a time; returns per member
   * key → variant.
   */
  @SuppressWarnings("unchecked")
  private static Map<String, String>[] send(int n, String prefix) throws Exception {
    Map<String, String>[] seen = new Map[3];
    var clients = new ArrayList<io.vertx.core.http.HttpClient>();
    for (int m = 0; m < 3; m++) {
      seen[m] = new java.util.concurrent.ConcurrentHashMap<>();
      clients.add(vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
          .setDefaultPort(sidecars.get(m).port()), new PoolOptions().setHttp1MaxSize(16)));
    }
    Buffer body = Buffer.buffer(Specs.disputedRow());
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(n);
    List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    Runnable[] sendNext = new Runnable[1];
    sendNext[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= n) {
        return;
      }
      int member = i % 3;
      String key = prefix + i;
      clients.get(member).request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/v2/models/churn/infer")
              .putHeader("content-type", "application/json").putHeader("x-user-id", key))
          .compose(req -> req.send(body).compose(resp -> resp.body().map(b -> {
            if (resp.statusCode() != 200) {
              failures.add(resp.statusCode() + " " + b);
            } else {
              seen[member].put(key, resp.getHeader("x-gantry-variant"));
            }
            return (Void) null;
          })))
          .onComplete(ar -> {
            if (ar.failed()) {
              failures.add(String.valueOf(ar.cause()));
            }
            done.countDown();
            sendNext[0].run();
          });
    };
    for (int c = 0; c < 48; c++) {
      vertx.runOnContext(v -> sendNext[0].run());
    }
    assertThat(done.await(180, TimeUnit.SECONDS)).as("all requests answered").isTrue();
    clients.forEach(c -> c.close());
    assertThat(failures).isEmpty();
    return seen;
  }
}
