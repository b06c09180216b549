package dev.gantry.runner.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.TestModels;
import io.micrometer.core.instrument.Counter;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models served from URIs by a real runner, against {@link MlflowStandIn} (MLflow 2.x's documented REST API for the
 * registry, runs and proxied artifacts; MLflow itself cannot be installed here). The model files are the example
 * MLflow model {@code churn-mlflow} (TorchScript), run by the real engine.
 */
class ModelSourcesTest {
  static final String REGISTERED = "customer-churn-classifier";
  static final Row ROW = new Row(12, 70.35f, 844.2f, "", "");
  static MlflowStandIn mlflow;
  static Path churn = TestModels.examples().resolve("churn-mlflow");
  @TempDir
  static Path shared;
  static Path corrupt;

  @BeforeAll
  static void registry() throws IOException {
    corrupt = TestModels.copyModel(churn, shared, "corrupt");
    Files.write(corrupt.resolve("data").resolve("model.pth"), new byte[] {1, 2, 3, 4, 5});
    mlflow = new MlflowStandIn();
    mlflow.register(REGISTERED, 1, "Staging", churn);
    mlflow.register(REGISTERED, 2, "Production", churn);
    mlflow.register(REGISTERED, 3, "None", corrupt);
    mlflow.setAlias(REGISTERED, "champion", 1);
  }

  @AfterAll
  static void stop() {
    mlflow.close();
  }

  static Map<String, String> env() {
    return Map.of("MLFLOW_TRACKING_URI", mlflow.uri());
  }

  static SourceSpec source(String name, String uri) {
    return new SourceSpec(name, ModelUri.parse(uri), Optional.empty());
  }

  static ModelRunner runner(Path cache, Map<String, String> env, SourceSpec... sources) {
    RunnerOptions options = RunnerOptions.forRepository(TestModels.examples()).withoutRepository()
        .withSources(List.of(sources), cache);
    return ModelRunner.start(options, env);
  }

  static RunnerClient.Outcome<ModelInferResponse> infer(RunnerClient client, String model) {
    return client.call(GRPCInferenceServiceGrpcClient.ModelInfer, ChurnRequests.numeric(model, List.of(ROW)));
  }

  static ModelMetadataResponse metadata(RunnerClient client, String model) {
    return client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName(model).build()).ok();
  }

  @Test
  void servesEveryUriFormThroughTheRegistryAndTheArtifactProxy(@TempDir Path cache) throws IOException {
    Path local = TestModels.copyModel(churn, shared, "local-copy");
    try (ModelRunner runner = runner(cache, env(),
            source("prod", "models:/" + REGISTERED + "/Production"),
            source("staging", "models:/" + REGISTERED + "/staging"),
            source("pinned", "models:/" + REGISTERED + "/1"),
            source("newest", "models:/" + REGISTERED + "/latest"),
            source("champion", "models:/" + REGISTERED + "@champion"),
            source("from-run", "runs:/run-" + REGISTERED + "-2/model"),
            source("proxied", "mlflow-artifacts:/1/run-" + REGISTERED + "-1/artifacts/model"),
            source("on-disk", local.toUri().toString()),
            source("plain-path", local.toString()));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      Map<String, String> expected = Map.of("prod", "2", "staging", "1", "pinned", "1", "champion", "1",
          "from-run", "1", "proxied", "1", "on-disk", "1", "plain-path", "1");
      float[] reference = ChurnRequests.floats(infer(client, "plain-path").ok());
      expected.forEach((name, version) -> {
        ModelInferResponse r = infer(client, name).ok();
        assertThat(r.getModelVersion()).as(name).isEqualTo(version);
        assertThat(ChurnRequests.floats(r)).as(name).containsExactly(reference);
      });
      // latest is the newest version whatever its stage: 3, whose files are corrupt: a clear load failure
      assertThat(infer(client, "newest").status()).isEqualTo(GrpcStatus.UNAVAILABLE);
      assertThat(runner.models().failure("newest")).hasValueSatisfying(f -> assertThat(f)
          .contains("is not a TorchScript archive"));
      ModelMetadataResponse meta = metadata(client, "prod");
      assertThat(meta.getParametersMap().get("source_uri").getStringParam())
          .isEqualTo("models:/" + REGISTERED + "/Production");
      assertThat(meta.getParametersMap().get("source_version").getInt64Param()).isEqualTo(2);
      assertThat(meta.getVersionsList()).containsExactly("2");
    }
    // registry versions are cached by registered name and version, complete (marker written last)
    assertThat(cache.resolve(REGISTERED).resolve("2").resolve(ModelCache.COMPLETE)).isRegularFile();
    assertThat(cache.resolve(REGISTERED).resolve("1").resolve("data").resolve("model.pth")).isRegularFile();
  }

  @Test
  void fetchOnlyFillsTheCacheForTheRunnerThatStartsNext(@TempDir Path cache) {
    RunnerOptions options = RunnerOptions.forRepository(TestModels.examples()).withoutRepository().withSources(
        List.of(source("prod", "models:/" + REGISTERED + "/Production"),
            source("missing", "models:/" + REGISTERED + "@nobody")), cache);
    List<String> failed = ModelRunner.fetchOnly(options, env());
    assertThat(failed).singleElement().asString().startsWith("missing: ").contains("alias nobody not found");
    assertThat(cache.resolve(REGISTERED).resolve("2").resolve(ModelCache.COMPLETE)).isRegularFile();
    int downloads = mlflow.fileDownloads();
    try (ModelRunner runner = runner(cache, env(), source("prod", "models:/" + REGISTERED + "/Production"))) {
      assertThat(runner.models().ready()).isTrue();
    }
    assertThat(mlflow.fileDownloads()).isEqualTo(downloads);
  }

  @Test
  void aCachedVersionIsNotDownloadedAgain(@TempDir Path cache) {
    try (ModelRunner runner = runner(cache, env(), source("prod", "models:/" + REGISTERED + "/Production"))) {
      assertThat(runner.models().ready()).isTrue();
    }
    int downloads = mlflow.fileDownloads();
    try (ModelRunner runner = runner(cache, env(), source("prod", "models:/" + REGISTERED + "/Production"))) {
      assertThat(runner.models().ready()).isTrue();
    }
    assertThat(mlflow.fileDownloads()).isEqualTo(downloads);
  }

  @Test
  void registryDownAtStartServesTheNewestCompleteCachedVersionNeverAHalfWrittenOne(@TempDir Path cache)
      throws IOException {
    try (ModelRunner runner = runner(cache, env(), source("prod", "models:/" + REGISTERED + "/Production"))) {
      assertThat(runner.models().ready()).isTrue();
    }
    // a newer download cut short: files there, no completion marker
    Path half = cache.resolve(REGISTERED).resolve("7");
    TestModels.copyModel(churn, half.getParent(), "7");
    assertThat(half.resolve("MLmodel")).isRegularFile();
    Map<String, String> down = Map.of("MLFLOW_TRACKING_URI", "http://127.0.0.1:1");
    try (ModelRunner runner = runner(cache, down,
            source("champion", "models:/" + REGISTERED + "@champion"),
            source("never-cached", "models:/another-model/Production"));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      assertThat(infer(client, "champion").ok().getModelVersion()).isEqualTo("2");
      // nothing cached: not served, with the reason naming the URI; the runner is up for the rest
      RunnerClient.Outcome<ModelInferResponse> none = infer(client, "never-cached");
      assertThat(none.status()).isEqualTo(GrpcStatus.UNAVAILABLE);
      assertThat(runner.models().failure("never-cached")).hasValueSatisfying(f -> assertThat(f)
          .contains("models:/another-model/Production").contains("could not be reached"));
    }
  }

  @Test
  void badSourcesAreClearErrorsAndTheOthersServe(@TempDir Path cache) throws IOException {
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--model-uri", "models:/"}, Map.of()))
        .hasMessageContaining("is not a registry URI").hasMessageContaining("models:/<name>@<alias>");
    assertThatThrownBy(() -> RunnerOptions.parse(new String[] {"--model-uri", "models:/m/1", "--watch", "30s"},
        Map.of())).hasMessageContaining("always names the same files");
    Path notAModel = Files.createDirectories(shared.resolve("not-a-model"));
    Files.writeString(notAModel.resolve("README.txt"), "no MLmodel here");
    mlflow.register("loose-files", 1, "Production", notAModel);
    try (ModelRunner runner = runner(cache, env(),
            source("good", "models:/" + REGISTERED + "/2"),
            source("no-alias", "models:/" + REGISTERED + "@nobody"),
            source("no-model", "models:/nothing-registered/1"),
            source("corrupt", "models:/" + REGISTERED + "/3"),
            source("not-mlflow", "models:/loose-files/1"));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      assertThat(infer(client, "good").ok().getModelVersion()).isEqualTo("2");
      Function<String, String> failure = name -> runner.models().failure(name).orElseThrow();
      assertThat(failure.apply("no-alias")).contains("'models:/" + REGISTERED + "@nobody'")
          .contains("RESOURCE_DOES_NOT_EXIST").contains("alias nobody not found");
      assertThat(failure.apply("no-model")).contains("'models:/nothing-registered/1'").contains("not found");
      assertThat(failure.apply("corrupt")).contains("is not a TorchScript archive");
      assertThat(failure.apply("not-mlflow")).contains("has no MLmodel file");
      for (String bad : List.of("no-alias", "no-model", "corrupt", "not-mlflow")) {
        assertThat(infer(client, bad).status()).as(bad).isEqualTo(GrpcStatus.UNAVAILABLE);
      }
      assertThat(infer(client, "good").ok().getModelVersion()).isEqualTo("2");
    }
    // a download that fails its check leaves nothing in the cache
    try (var entries = Files.list(cache.resolve("loose-files"))) {
      assertThat(entries.toList()).isEmpty();
    }
  }

  @Test
  void followsAnAliasUnderLoadWithoutAFailedRequestAndKeepsServingWhenTheNextVersionCannotLoad(
      @TempDir Path cache) throws Exception {
    mlflow.setAlias(REGISTERED, "moving", 1);
    SourceSpec watched = new SourceSpec("churn", ModelUri.parse("models:/" + REGISTERED + "@moving"),
        Optional.of(Duration.ofSeconds(1)));
    try (ModelRunner runner = runner(cache, env(), watched);
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      Map<String, AtomicInteger> answeredBy = new ConcurrentHashMap<>();
      List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> clients = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Thread t = new Thread(() -> {
          while (!stop.get()) {
            RunnerClient.Outcome<ModelInferResponse> r = infer(client, "churn");
            if (r.status() != GrpcStatus.OK) {
              failures.add(r.status() + ": " + r.message());
            } else {
              answeredBy.computeIfAbsent(r.value().getModelVersion(), v -> new AtomicInteger()).incrementAndGet();
            }
          }
        });
        t.start();
        clients.add(t);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> answeredBy.containsKey("1"));
      mlflow.setAlias(REGISTERED, "moving", 2);
      await().atMost(Duration.ofSeconds(30)).until(() -> metadata(client, "churn").getVersionsList().equals(List.of("2")));
      int fromV2 = answered(answeredBy, "2");
      await().atMost(Duration.ofSeconds(10)).until(() -> answered(answeredBy, "2") > fromV2 + 20);
      // the next version cannot load: the old one keeps serving, and the failure shows
      mlflow.setAlias(REGISTERED, "moving", 3);
      await().atMost(Duration.ofSeconds(30)).until(() -> counter(runner, "load_failed") >= 1);
      int afterFailure = answered(answeredBy, "2");
      await().atMost(Duration.ofSeconds(10)).until(() -> answered(answeredBy, "2") > afterFailure + 20);
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      assertThat(failures).isEmpty();
      assertThat(answeredBy.keySet()).containsOnly("1", "2");
      ModelMetadataResponse meta = metadata(client, "churn");
      assertThat(meta.getVersionsList()).containsExactly("2");
      assertThat(meta.getParametersMap().get("source_version").getInt64Param()).isEqualTo(2);
      assertThat(meta.getParametersMap().get("update_failure").getStringParam())
          .contains("version 3").contains("version 2 keeps serving").contains("is not a TorchScript archive");
      assertThat(counter(runner, "loaded")).isEqualTo(1);
      // a failed version is not tried again while the alias stays on it
      runner.watcher().orElseThrow().check("churn");
      assertThat(counter(runner, "load_failed")).isEqualTo(1);
      assertThat(runner.metrics().registry().get("gantry.runner.model.source.version").tag("model", "churn")
          .gauge().value()).isEqualTo(2.0);
      // moving back to a good version recovers, and clears the failure
      mlflow.setAlias(REGISTERED, "moving", 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> metadata(client, "churn").getVersionsList().equals(List.of("1")));
      assertThat(metadata(client, "churn").getParametersMap()).doesNotContainKey("update_failure");
    }
  }

  static int answered(Map<String, AtomicInteger> answeredBy, String version) {
    AtomicInteger n = answeredBy.get(version);
    return n == null ? 0 : n.get();
  }

  static double counter(ModelRunner runner, String result) {
    Counter c = runner.metrics().registry().find("gantry.runner.model.source.updates").tag("model", "churn")
        .tag("result", result).counter();
    return c == null ? 0 : c.count();
  }
}
