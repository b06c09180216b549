package dev.gantry.sidecar.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.source.MlflowStandIn;
import dev.gantry.runner.source.ModelUri;
import dev.gantry.runner.source.SourceSpec;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.routing.EndpointSpecParser;
import dev.gantry.sidecar.routing.Specs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watched alias handed over to canary rollouts, as deployed: a real runner serving
 * {@code models:/customer-churn-classifier@champion} with {@code watch: 1s} and {@code on_new_version: rollout}, from
 * a stand-in of MLflow 2.x's REST API (MLflow cannot be installed here), and a real sidecar whose endpoint has a
 * rollout policy, under steady load. The registered versions are MLflow ONNX models made of the example
 * customer-churn graphs: v2 healthy, v3 failing in the engine on rows with monthly_charges above 85.
 *
 * <p>Moving {@code @champion} to v2 starts rollout {@code churn-v2}, which promotes v2 without a failed request;
 * moving it to v3 starts {@code churn-v3}, which rolls back, and v2 keeps serving: only the canary's share of
 * requests failed, and v3 is not loaded again while the alias names it.
 */
class AliasRolloutTest {
  static final String REGISTERED = "customer-churn-classifier";
  static final List<String> ROWS = List.of(Specs.disputedRow(), Specs.v2Row(12, 50, 600, "Month-to-month",
      "Electronic check"));
  static final String ENDPOINT = """
      name: churn
      variants:
        - {name: champion, model: churn, weight: 100}
      rollout_policy:
        steps: [{weight: 20, pause: 1s}, {weight: 50, pause: 1s}, {weight: 100, pause: 1s}]
        analysis:
          interval: 1s
          min_requests: 10
          failure_threshold: 1
          checks: [{metric: error_rate, max: 0.01}]
      """;

  /** An MLflow ONNX model directory holding one of the example customer-churn graphs. */
  static Path mlflowModel(Path root, int version) throws Exception {
    Path dir = Files.createDirectories(root.resolve("v" + version));
    Files.copy(AliasFollowTest.examples().resolve("customer-churn/" + version + "/model.onnx"),
        dir.resolve("model.onnx"));
    Files.writeString(dir.resolve("MLmodel"), """
        artifact_path: model
        flavors:
          onnx:
            code: null
            data: model.onnx
            onnx_version: 1.12.0
            providers: [CPUExecutionProvider]
          python_function:
            data: model.onnx
            loader_module: mlflow.onnx
            python_version: 3.11.2
        mlflow_version: 2.9.2
        """);
    return dir;
  }

  record Answer(String variant, String version) {}

  @Test
  void newVersionsUnderTheAliasAreRolledOutAndARolledBackOneLeavesTheOldVersionServing(@TempDir Path dir)
      throws Exception {
    try (MlflowStandIn mlflow = new MlflowStandIn()) {
      for (int v = 1; v <= 3; v++) {
        mlflow.register(REGISTERED, v, "None", mlflowModel(dir, v));
      }
      mlflow.setAlias(REGISTERED, "champion", 1);
      SourceSpec champion = new SourceSpec("churn", ModelUri.parse("models:/" + REGISTERED + "@champion"),
          Optional.of(Duration.ofSeconds(1)), SourceSpec.OnNewVersion.ROLLOUT);
      ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(AliasFollowTest.examples())
          .withoutRepository().withSources(List.of(champion), dir.resolve("cache")),
          Map.of("MLFLOW_TRACKING_URI", mlflow.uri()));
      Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "churn")
          .withAdmin(Optional.empty(), List.of(new EndpointSpecParser().yaml(ENDPOINT))));
      try {
        Http http = new Http(sidecar.port());
        Http admin = new Http(sidecar.adminPort());
        Map<Answer, AtomicInteger> answers = new ConcurrentHashMap<>();
        List<String> failed = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          int first = i;
          Thread t = new Thread(() -> {
            for (int n = first; !stop.get(); n++) {
              Http.Reply r = http.tryPost("/v2/models/churn/infer", "application/json", ROWS.get(n % 2));
              if (r.status() != 200) {
                failed.add(r.header("x-gantry-variant") + " " + r.status() + " " + r.body());
              } else {
                answers.computeIfAbsent(new Answer(r.header("x-gantry-variant"), r.json().getString("model_version")),
                    a -> new AtomicInteger()).incrementAndGet();
              }
            }
          });
          t.start();
          clients.add(t);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> answers.containsKey(new Answer("champion", "1")));

        // v2: rolled out step by step, then promoted; no request fails
        mlflow.setAlias(REGISTERED, "champion", 2);
        await().atMost(Duration.ofSeconds(90)).until(() -> "promoted".equals(state(admin, "churn-v2")));
        assertThat(failed).as("failed requests while v2 was rolled out").isEmpty();
        assertThat(answers).containsKey(new Answer("champion-v2", "2"));
        assertThat(variants(admin)).containsExactly("champion=100");
        assertThat(admin.get("/admin/v1/rollouts/churn-v2").status()).isEqualTo(404);
        int fromV2 = count(answers, new Answer("champion", "2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> count(answers, new Answer("champion", "2")) > fromV2 + 50);
        int v1Answers = count(answers, new Answer("champion", "1"));
        Thread.sleep(500);
        assertThat(count(answers, new Answer("champion", "1"))).as("version 1 drained").isEqualTo(v1Answers);

        // v3 fails on a row in two: its rollout rolls back, and v2 keeps serving
        mlflow.setAlias(REGISTERED, "champion", 3);
        await().atMost(Duration.ofSeconds(90)).until(() -> "rejected".equals(state(admin, "churn-v3")));
        JsonObject v3 = handoff(admin, "churn-v3");
        assertThat(v3.getLong("previous")).isEqualTo(2L);
        assertThat(v3.getString("note")).isEqualTo("rollout churn-v3 ended rolled_back");
        assertThat(failed).as("only the canary's requests failed").isNotEmpty()
            .allMatch(f -> f.startsWith("champion-v3 "));
        assertThat(variants(admin)).containsExactly("champion=100");
        int failures = failed.size();
        int fromV2Again = count(answers, new Answer("champion", "2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> count(answers, new Answer("champion", "2"))
            > fromV2Again + 50);
        stop.set(true);
        for (Thread t : clients) {
          t.join();
        }
        assertThat(failed).hasSize(failures);
        assertThat(answers.keySet()).containsOnly(new Answer("champion", "1"), new Answer("champion-v2", "2"),
            new Answer("champion", "2"), new Answer("champion-v3", "3"));

        // the runner serves v2 alone, says why v3 is not served, and does not load v3 again
        JsonObject meta = http.get("/v2/models/churn").json();
        assertThat(meta.getJsonArray("versions").getList()).containsExactly("2");
        assertThat(meta.getJsonObject("parameters").getString("update_failure"))
            .contains("version 3").contains("rejected (rollout churn-v3 ended rolled_back)")
            .contains("version 2 keeps serving");
        runner.watcher().orElseThrow().check("churn");
        assertThat(http.get("/v2/models/churn").json().getJsonArray("versions").getList()).containsExactly("2");
        String metrics = http.get("/metrics").body();
        assertThat(metrics).contains("gantry_alias_rollouts_total{endpoint=\"churn\",model=\"churn\","
            + "outcome=\"promoted\"} 1.0")
            .contains("gantry_alias_rollouts_total{endpoint=\"churn\",model=\"churn\",outcome=\"rejected\"} 1.0");
      } finally {
        sidecar.close();
        runner.close();
      }
    }
  }

  /** One pod: a runner asking its own registry stand-in, and a sidecar member of the test's cluster. */
  record Pod(ModelRunner runner, Sidecar sidecar, Http data) {
    void close() {
      sidecar.close();
      runner.close();
    }
  }

  static Pod pod(MlflowStandIn mlflow, Path cache, String cluster, int port, List<String> members) {
    SourceSpec champion = new SourceSpec("churn", ModelUri.parse("models:/" + REGISTERED + "@champion"),
        Optional.of(Duration.ofSeconds(1)), SourceSpec.OnNewVersion.ROLLOUT);
    ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(AliasFollowTest.examples())
        .withoutRepository().withSources(List.of(champion), cache), Map.of("MLFLOW_TRACKING_URI", mlflow.uri()));
    Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "churn")
        .withAdmin(Optional.empty(), List.of(new EndpointSpecParser().yaml(ENDPOINT)))
        .withCluster(new dev.gantry.sidecar.cluster.ClusterSettings(true, cluster, "127.0.0.1", port, members,
            Optional.empty())));
    return new Pod(runner, sidecar, new Http(sidecar.port()));
  }

  static List<Object> versions(Pod pod) {
    return pod.data().get("/v2/models/churn").json().getJsonArray("versions").getList();
  }

  @Test
  void everyPodLoadsTheCandidateBeforeItsRolloutAndAPodStartedAfterARollbackServesTheAcceptedVersion(
      @TempDir Path dir) throws Exception {
    // two pods whose sidecars form one cluster; each runner asks its own registry stand-in, so that the test
    // decides when the second pod's runner sees the new version
    List<MlflowStandIn> registries = List.of(new MlflowStandIn(), new MlflowStandIn());
    List<Pod> pods = new ArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> clients = new ArrayList<>();
    try {
      int[] ports = {dev.gantry.sidecar.JavaProcess.freePort(), dev.gantry.sidecar.JavaProcess.freePort()};
      List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
      String cluster = "alias-rollout-test-" + java.util.UUID.randomUUID();
      for (int i = 0; i < 2; i++) {
        for (int v = 1; v <= 3; v++) {
          registries.get(i).register(REGISTERED, v, "None", mlflowModel(dir.resolve("registry" + i), v));
        }
        registries.get(i).setAlias(REGISTERED, "champion", 1);
        pods.add(pod(registries.get(i), dir.resolve("cache" + i), cluster, ports[i], members));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> pods.get(0).sidecar().store().members().size() == 2);
      Http admin = new Http(pods.get(0).sidecar().adminPort());

      registries.get(0).setAlias(REGISTERED, "champion", 2);
      await().atMost(Duration.ofSeconds(30)).until(() -> versions(pods.get(0)).size() == 2);
      // the first pod has the candidate, the second not yet: no rollout starts, for as long as that lasts
      long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
      while (System.nanoTime() < until) {
        assertThat(handoff(admin, "churn-v2").isEmpty()).as("a rollout before every pod has the candidate").isTrue();
        assertThat(variants(admin)).containsExactly("champion=100");
        Thread.sleep(200);
      }
      // the rollout's analysis needs requests on both pods (the pods' HTTP ports stay; the second pod is replaced
      // later, so each client asks whichever pod holds its slot now)
      List<String> failed = Collections.synchronizedList(new ArrayList<>());
      for (int i = 0; i < 2; i++) {
        int slot = i;
        Thread t = new Thread(() -> {
          for (int n = 0; !stop.get(); n++) {
            Http.Reply r = pods.get(slot).data().tryPost("/v2/models/churn/infer", "application/json",
                ROWS.get(n % 2));
            if (r.status() != 200) {
              failed.add(r.header("x-gantry-variant") + " " + r.status() + " " + r.body());
            }
          }
        });
        t.start();
        clients.add(t);
      }
      registries.get(1).setAlias(REGISTERED, "champion", 2);
      await().atMost(Duration.ofSeconds(90)).until(() -> "promoted".equals(state(admin, "churn-v2")));
      assertThat(failed).isEmpty();
      for (Pod pod : pods) {
        assertThat(versions(pod)).containsExactly("2");
        assertThat(pod.data().postJson("/v2/models/churn/infer", ROWS.get(1)).json().getString("model_version"))
            .isEqualTo("2");
      }
      assertThat(variants(admin)).containsExactly("champion=100");

      // v3 is rolled back on both pods
      registries.forEach(r -> r.setAlias(REGISTERED, "champion", 3));
      await().atMost(Duration.ofSeconds(90)).until(() -> "rejected".equals(state(admin, "churn-v3")));
      assertThat(failed).isNotEmpty().allMatch(f -> f.startsWith("champion-v3 "));
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }

      // the second pod restarts while the alias still names the rejected v3: its new runner starts on v3, and is
      // made to serve v2, the version the cluster accepted, without rolling v3 out again
      pods.get(1).close();
      pods.set(1, pod(registries.get(1), dir.resolve("cache1-restarted"), cluster, ports[1], members));
      await().atMost(Duration.ofSeconds(60)).until(() -> versions(pods.get(1)).equals(List.of("2")));
      JsonObject meta = pods.get(1).data().get("/v2/models/churn").json();
      assertThat(meta.getJsonObject("parameters").getString("update_failure"))
          .contains("version 3").contains("rejected (rollout churn-v3 ended rolled_back)");
      pods.get(1).runner().watcher().orElseThrow().check("churn");
      assertThat(versions(pods.get(1))).containsExactly("2");
      assertThat(state(admin, "churn-v3")).isEqualTo("rejected");
      assertThat(variants(admin)).containsExactly("champion=100");
    } finally {
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      pods.forEach(Pod::close);
      registries.forEach(MlflowStandIn::close);
    }
  }

  static int count(Map<Answer, AtomicInteger> answers, Answer a) {
    AtomicInteger n = answers.get(a);
    return n == null ? 0 : n.get();
  }

  static JsonObject handoff(Http admin, String rollout) {
    JsonArray items = admin.get("/admin/v1/alias-rollouts").json().getJsonArray("items");
    for (int i = 0; i < items.size(); i++) {
      if (items.getJsonObject(i).getString("rollout").equals(rollout)) {
        return items.getJsonObject(i);
      }
    }
    return new JsonObject();
  }

  static String state(Http admin, String rollout) {
    return handoff(admin, rollout).getString("state");
  }

  static List<String> variants(Http admin) {
    JsonArray vs = admin.get("/admin/v1/endpoints/churn").json().getJsonObject("spec").getJsonArray("variants");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < vs.size(); i++) {
      out.add(vs.getJsonObject(i).getString("name") + "=" + vs.getJsonObject(i).getInteger("weight"));
    }
    return out;
  }
}
