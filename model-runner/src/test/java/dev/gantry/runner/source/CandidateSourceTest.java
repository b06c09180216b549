package dev.gantry.runner.source;

import static dev.gantry.runner.source.ModelSourcesTest.REGISTERED;
import static dev.gantry.runner.source.ModelSourcesTest.counter;
import static dev.gantry.runner.source.ModelSourcesTest.infer;
import static dev.gantry.runner.source.ModelSourcesTest.metadata;
import static dev.gantry.runner.source.ModelSourcesTest.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelRepositoryParameter;
import dev.gantry.proto.inference.RepositoryModelLoadRequest;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.grpc.InferenceService;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watched alias with {@code on_new_version: rollout}, on a real runner against {@link MlflowStandIn} (MLflow 2.x's
 * documented REST API; MLflow cannot be installed here): a new version is loaded beside the served one as a
 * candidate, reached only by naming its version, until RepositoryModelLoad's {@code promote_version} makes it the
 * default or {@code reject_version} unloads it for good.
 */
class CandidateSourceTest {
  static MlflowStandIn mlflow;

  @BeforeAll
  static void registry() throws Exception {
    mlflow = new MlflowStandIn();
    mlflow.register(REGISTERED, 1, "Staging", ModelSourcesTest.churn);
    mlflow.register(REGISTERED, 2, "Production", ModelSourcesTest.churn);
  }

  @AfterAll
  static void stop() {
    mlflow.close();
  }

  static Map<String, String> env() {
    return Map.of("MLFLOW_TRACKING_URI", mlflow.uri());
  }

  static RunnerClient.Outcome<ModelInferResponse> inferVersion(RunnerClient client, String version) {
    return client.call(GRPCInferenceServiceGrpcClient.ModelInfer, ChurnRequests.numeric("churn",
        List.of(ModelSourcesTest.ROW)).toBuilder().setModelVersion(version).build());
  }

  static RunnerClient.Outcome<?> decide(RunnerClient client, String key, long version) {
    return client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad, RepositoryModelLoadRequest.newBuilder()
        .setModelName("churn").putParameters(key, ModelRepositoryParameter.newBuilder().setInt64Param(version).build())
        .putParameters("reason", ModelRepositoryParameter.newBuilder().setStringParam("rollout churn-v3 rolled back")
            .build())
        .build(), 60_000);
  }

  @Test
  void aNewVersionWaitsBesideTheServedOneUntilItIsPromotedOrRejected(@TempDir Path cache) throws Exception {
    mlflow.setAlias(REGISTERED, "staged", 1);
    SourceSpec staged = new SourceSpec("churn", ModelUri.parse("models:/" + REGISTERED + "@staged"),
        Optional.of(Duration.ofSeconds(1)), SourceSpec.OnNewVersion.ROLLOUT);
    try (ModelRunner runner = runner(cache, env(), staged);
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      assertThat(metadata(client, "churn").getParametersMap().get("on_new_version").getStringParam())
          .isEqualTo("rollout");
      mlflow.setAlias(REGISTERED, "staged", 2);
      await().atMost(Duration.ofSeconds(30)).until(() -> metadata(client, "churn").getParametersMap()
          .containsKey("candidate_version"));
      ModelMetadataResponse meta = metadata(client, "churn");
      assertThat(meta.getVersionsList()).containsExactly("1", "2");
      assertThat(meta.getParametersMap().get("candidate_version").getInt64Param()).isEqualTo(2);
      assertThat(meta.getParametersMap().get("source_version").getInt64Param()).isEqualTo(1);
      // requests naming no version stay on version 1; the candidate answers when named
      assertThat(infer(client, "churn").ok().getModelVersion()).isEqualTo("1");
      assertThat(inferVersion(client, "2").ok().getModelVersion()).isEqualTo("2");
      assertThat(counter(runner, "candidate")).isEqualTo(1);
      assertThat(runner.metrics().registry().get("gantry.runner.model.source.candidate").tag("model", "churn")
          .gauge().value()).isEqualTo(2.0);

      // only the candidate can be promoted
      RunnerClient.Outcome<?> wrong = decide(client, InferenceService.PROMOTE, 7);
      assertThat(wrong.status()).isEqualTo(GrpcStatus.NOT_FOUND);
      assertThat(wrong.message()).contains("no candidate version 7").contains("its candidate is version 2");

      assertThat(decide(client, InferenceService.PROMOTE, 2).status()).isEqualTo(GrpcStatus.OK);
      meta = metadata(client, "churn");
      assertThat(meta.getVersionsList()).containsExactly("2");
      assertThat(meta.getParametersMap()).doesNotContainKey("candidate_version");
      assertThat(meta.getParametersMap().get("source_version").getInt64Param()).isEqualTo(2);
      assertThat(infer(client, "churn").ok().getModelVersion()).isEqualTo("2");
      // promoting again is a no-op
      assertThat(decide(client, InferenceService.PROMOTE, 2).status()).isEqualTo(GrpcStatus.OK);

      // a rejected candidate is unloaded and not loaded again while the alias stays on it
      mlflow.setAlias(REGISTERED, "staged", 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> metadata(client, "churn").getVersionsList()
          .equals(List.of("1", "2")));
      assertThat(decide(client, InferenceService.REJECT, 1).status()).isEqualTo(GrpcStatus.OK);
      meta = metadata(client, "churn");
      assertThat(meta.getVersionsList()).containsExactly("2");
      assertThat(meta.getParametersMap().get("update_failure").getStringParam())
          .contains("version 1").contains("rejected (rollout churn-v3 rolled back)")
          .contains("version 2 keeps serving");
      runner.watcher().orElseThrow().check("churn");
      assertThat(metadata(client, "churn").getVersionsList()).containsExactly("2");
      assertThat(infer(client, "churn").ok().getModelVersion()).isEqualTo("2");
      assertThat(inferVersion(client, "1").status()).isEqualTo(GrpcStatus.NOT_FOUND);
      assertThat(counter(runner, "rejected")).isEqualTo(1);
      assertThat(counter(runner, "promoted")).isEqualTo(1);

      // serve_version: the version the cluster accepted replaces the one served; refuse_current keeps it out
      RunnerClient.Outcome<?> pinned = client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad,
          RepositoryModelLoadRequest.newBuilder().setModelName("churn")
              .putParameters(InferenceService.SERVE, ModelRepositoryParameter.newBuilder().setInt64Param(1).build())
              .putParameters(InferenceService.REFUSE_CURRENT, ModelRepositoryParameter.newBuilder().setBoolParam(true)
                  .build())
              .putParameters("reason", ModelRepositoryParameter.newBuilder().setStringParam("rollout churn-v2 ended"
                  + " rolled_back").build())
              .build(), 60_000);
      assertThat(pinned.status()).as(pinned.message()).isEqualTo(GrpcStatus.OK);
      meta = metadata(client, "churn");
      assertThat(meta.getVersionsList()).containsExactly("1");
      assertThat(meta.getParametersMap().get("source_version").getInt64Param()).isEqualTo(1);
      assertThat(meta.getParametersMap().get("update_failure").getStringParam())
          .contains("version 2").contains("rejected (rollout churn-v2 ended rolled_back)");
      mlflow.setAlias(REGISTERED, "staged", 2);
      runner.watcher().orElseThrow().check("churn");
      assertThat(metadata(client, "churn").getVersionsList()).containsExactly("1");
      assertThat(counter(runner, "pinned")).isEqualTo(1);
    }
  }

  @Test
  void aModelNotNamedByAWatchedUriHasNoCandidateToDecideAbout(@TempDir Path cache) {
    try (ModelRunner runner = runner(cache, env(), ModelSourcesTest.source("churn", "models:/" + REGISTERED + "/1"));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      RunnerClient.Outcome<?> r = decide(client, InferenceService.REJECT, 1);
      assertThat(r.status()).isEqualTo(GrpcStatus.NOT_FOUND);
      assertThat(r.message()).contains("is not named by a model URI watched with on_new_version: rollout");
    }
  }

  @Test
  void rolloutNeedsAWatchedUri() {
    assertThatThrownBy(() -> new SourceSpec("churn", ModelUri.parse("models:/" + REGISTERED + "@staged"),
        Optional.empty(), SourceSpec.OnNewVersion.ROLLOUT))
        .hasMessageContaining("on_new_version: rollout needs 'watch'");
    assertThatThrownBy(() -> SourceSpec.OnNewVersion.parse("canary"))
        .hasMessageContaining("on_new_version must be swap or rollout, got 'canary'");
    assertThat(SourceSpec.OnNewVersion.parse("Rollout")).isEqualTo(SourceSpec.OnNewVersion.ROLLOUT);
  }
}
