package dev.gantry.runner.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.TestModels;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models whose files are in S3, served by a real runner: an {@code s3://} URI, and a registry version whose
 * download URI is in S3 (an MLflow server with an S3 artifact store), against a real S3-compatible server (s3rver)
 * and {@link MlflowStandIn} for the registry.
 */
class S3SourcesTest {
  @RegisterExtension
  static final S3rverExtension S3 = new S3rverExtension();
  static final Row ROW = new Row(12, 70.35f, 844.2f, "", "");

  @Test
  void servesAnS3UriAndARegistryVersionStoredInS3(@TempDir Path cache) {
    Path churn = TestModels.examples().resolve("churn-mlflow");
    S3.bucket("mlflow");
    S3.upload(churn, "mlflow", "artifacts/7/abc/artifacts/model/");
    try (MlflowStandIn mlflow = new MlflowStandIn()) {
      mlflow.registerAt("churn-in-s3", 3, "Production", "s3://mlflow/artifacts/7/abc/artifacts/model");
      Map<String, String> env = new HashMap<>(S3.env());
      env.put("MLFLOW_TRACKING_URI", mlflow.uri());
      RunnerOptions options = RunnerOptions.forRepository(TestModels.examples()).withoutRepository().withSources(
          List.of(new SourceSpec("direct", ModelUri.parse("s3://mlflow/artifacts/7/abc/artifacts/model"),
                  Optional.empty()),
              new SourceSpec("registered", ModelUri.parse("models:/churn-in-s3/Production"), Optional.empty()),
              new SourceSpec("missing", ModelUri.parse("s3://mlflow/not/there"), Optional.empty())), cache);
      try (ModelRunner runner = ModelRunner.start(options, env);
          RunnerClient client = new RunnerClient(runner.grpcPort())) {
        ModelInferResponse direct = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
            ChurnRequests.numeric("direct", List.of(ROW))).ok();
        ModelInferResponse registered = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
            ChurnRequests.numeric("registered", List.of(ROW))).ok();
        assertThat(direct.getModelVersion()).isEqualTo("1");
        assertThat(registered.getModelVersion()).isEqualTo("3");
        assertThat(ChurnRequests.floats(registered)).containsExactly(ChurnRequests.floats(direct));
        assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
            ChurnRequests.numeric("missing", List.of(ROW))).status()).isEqualTo(GrpcStatus.UNAVAILABLE);
        assertThat(runner.models().failure("missing")).hasValueSatisfying(f -> assertThat(f)
            .contains("s3://mlflow/not/there").contains("no objects"));
      }
      assertThat(cache.resolve("churn-in-s3/3/data/model.pth")).isRegularFile();
    }
  }
}
