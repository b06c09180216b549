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
 * Following an alias as a client sees it: MLflow {@code /invocations} through the real sidecar, in front of a real
 * runner serving {@code models:/customer-churn-classifier@champion} with {@code watch: 1s}, while clients send a
 * steady stream of requests and {@code @champion} moves from version 1 to 2 in the registry (a stand-in for MLflow
 * 2.x's REST API, which cannot be installed here). No request fails, and the answers' version moves to 2.
 */
class AliasFollowTest {
  static Path examples() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("examples/models"))) {
        return p.resolve("examples/models");
      }
    }
    throw new IllegalStateException("examples/models not found");
  }

  @Test
  void movingChampionIsFollowedWithoutAFailedRequest(@TempDir Path cache) throws Exception {
    Path churn = examples().resolve("churn-mlflow");
    try (MlflowStandIn mlflow = new MlflowStandIn()) {
      mlflow.register("customer-churn-classifier", 1, "Production", churn);
      mlflow.register("customer-churn-classifier", 2, "Staging", churn);
      mlflow.setAlias("customer-churn-classifier", "champion", 1);
      SourceSpec champion = new SourceSpec("churn", ModelUri.parse("models:/customer-churn-classifier@champion"),
          Optional.of(Duration.ofSeconds(1)));
      ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(examples()).withoutRepository()
          .withSources(List.of(champion), cache), Map.of("MLFLOW_TRACKING_URI", mlflow.uri()));
      Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "churn"));
      try {
        Http http = new Http(sidecar.port());
        String body = "{\"dataframe_split\": {\"columns\": [\"tenure\", \"monthly_charges\", \"total_charges\"],"
            + " \"data\": [[12, 70.35, 844.2]]}}";
        Map<String, AtomicInteger> byVersion = new ConcurrentHashMap<>();
        List<String> failed = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          Thread t = new Thread(() -> {
            while (!stop.get()) {
              Http.Reply r = http.tryPost("/invocations", "application/json", body);
              if (r.status() != 200) {
                failed.add(r.status() + " " + r.body());
              } else {
                byVersion.computeIfAbsent(r.header("x-gantry-model-version"), v -> new AtomicInteger())
                    .incrementAndGet();
              }
            }
          });
          t.start();
          clients.add(t);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> byVersion.containsKey("1"));
        mlflow.setAlias("customer-churn-classifier", "champion", 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> byVersion.containsKey("2")
            && byVersion.get("2").get() > 50);
        stop.set(true);
        for (Thread t : clients) {
          t.join();
        }
        assertThat(failed).isEmpty();
        assertThat(byVersion.keySet()).containsOnly("1", "2");
        // once version 2 took over, version 1 is gone: the last answers all come from 2
        Http.Reply last = http.postJson("/invocations", body);
        assertThat(last.header("x-gantry-model-version")).isEqualTo("2");
        io.vertx.core.json.JsonObject meta = http.get("/v2/models/churn").json();
        assertThat(meta.getJsonArray("versions").getList()).containsExactly("2");
        assertThat(meta.getJsonObject("parameters").getString("source_uri"))
            .isEqualTo("models:/customer-churn-classifier@champion");
        assertThat(meta.getJsonObject("parameters").getLong("source_version")).isEqualTo(2L);
      } finally {
        sidecar.close();
        runner.close();
      }
    }
  }
}
