package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.proto.health.HealthCheckRequest;
import dev.gantry.proto.health.HealthCheckResponse;
import dev.gantry.proto.health.HealthGrpcClient;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelReadyRequest;
import dev.gantry.proto.inference.ModelStreamInferResponse;
import dev.gantry.proto.inference.RepositoryIndexRequest;
import dev.gantry.proto.inference.RepositoryIndexResponse;
import dev.gantry.proto.inference.ServerMetadataRequest;
import dev.gantry.proto.inference.ServerReadyRequest;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerExtension;
import dev.gantry.runner.TestModels;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The runner over real gRPC sockets, on the example models, with real DJL inference. */
class InferenceServiceTest {
  private static ModelRunner runner;
  private static RunnerClient client;
  private static JsonNode expected;
  private static List<Row> rows;

  @RegisterExtension
  static final RunnerExtension RUNNER = RunnerExtension.onExamples();

  @BeforeAll
  static void start() {
    runner = RUNNER.runner();
    client = RUNNER.client();
    expected = TestModels.expected();
    rows = new ArrayList<>();
    expected.get("samples").forEach(s -> rows.add(Row.of(s)));
  }

  private static void assertProbabilities(float[] actual, JsonNode expectedRows) {
    assertThat(actual).hasSize(expectedRows.size() * 2);
    for (int i = 0; i < expectedRows.size(); i++) {
      for (int j = 0; j < 2; j++) {
        assertThat((double) actual[i * 2 + j]).as("row %d class %d", i, j)
            .isCloseTo(expectedRows.get(i).get(j).asDouble(), within(1e-4));
      }
    }
  }

  @Test
  void onnxPipelineWithStringColumnsMatchesPythonWithTypedContents() {
    ModelInferResponse r = client.call(GRPCInferenceServiceGrpcClient.ModelInfer, ChurnRequests.onnx(rows)).ok();
    assertThat(r.getModelName()).isEqualTo("churn-onnx");
    assertThat(r.getModelVersion()).isEqualTo("1");
    assertThat(r.getOutputs(0).getName()).isEqualTo("probabilities");
    assertThat(r.getOutputs(0).getShapeList()).containsExactly(4L, 2L);
    assertThat(r.getRawOutputContentsCount()).isZero();
    assertProbabilities(ChurnRequests.floats(r), expected.get("churn-onnx"));
  }

  @Test
  void onnxPipelineMatchesPythonWithRawContentsAndAnswersRaw() {
    ModelInferResponse r = client.call(GRPCInferenceServiceGrpcClient.ModelInfer, ChurnRequests.onnxRaw(rows)).ok();
    assertThat(r.getRawOutputContentsCount()).isEqualTo(1);
    assertThat(r.getOutputs(0).hasContents()).isFalse();
    assertProbabilities(ChurnRequests.floats(r), expected.get("churn-onnx"));
  }

  @Test
  void torchScriptMlpMatchesPythonTypedAndRaw() {
    ModelInferResponse typed = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        ChurnRequests.numeric("churn-torchscript", rows)).ok();
    assertProbabilities(ChurnRequests.floats(typed), expected.get("churn-torchscript"));
    ModelInferResponse raw = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        ChurnRequests.numericRaw("churn-torchscript", rows)).ok();
    assertProbabilities(ChurnRequests.floats(raw), expected.get("churn-torchscript"));
  }

  @Test
  void mlflowDirectoryServesTheSameMlpUnderItsSignature() {
    ModelInferResponse r = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        ChurnRequests.numeric("churn-mlflow", rows)).ok();
    assertThat(r.getOutputs(0).getName()).isEqualTo("predictions");
    assertProbabilities(ChurnRequests.floats(r), expected.get("churn-torchscript"));
  }

  @Test
  void predictionsMoveWithTheInputs() {
    float[] p = ChurnRequests.floats(client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        ChurnRequests.onnx(rows)).ok());
    // a new month-to-month customer on electronic check churns more than a two-year veteran
    assertThat(p[1]).isGreaterThan(0.5f);
    assertThat(p[3]).isLessThan(0.5f);
    float[] longer = ChurnRequests.floats(client.call(GRPCInferenceServiceGrpcClient.ModelInfer, ChurnRequests.onnx(
        List.of(new Row(60, 70.35f, 4221f, "Month-to-month", "Electronic check")))).ok());
    assertThat(longer[1]).isLessThan(p[1]);
  }

  @Test
  void requestIdIsEchoedAndRequestedOutputsAreHonoured() {
    ModelInferRequest req = ChurnRequests.numeric("churn-torchscript", rows).toBuilder().setId("req-42")
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("probabilities")).build();
    ModelInferResponse r = client.call(GRPCInferenceServiceGrpcClient.ModelInfer, req).ok();
    assertThat(r.getId()).isEqualTo("req-42");
    assertThat(r.getOutputsCount()).isEqualTo(1);
  }

  @Test
  void modelMetadataDescribesTheOnnxGraphWithoutAConfigListingIt() {
    ModelMetadataResponse m = client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName("churn-onnx").build()).ok();
    assertThat(m.getPlatform()).isEqualTo("onnxruntime_onnx");
    assertThat(m.getVersionsList()).containsExactly("1");
    assertThat(m.getInputsList()).extracting(ModelMetadataResponse.TensorMetadata::getName)
        .containsExactly("tenure", "monthly_charges", "total_charges", "contract_type", "payment_method");
    assertThat(m.getInputs(3).getDatatype()).isEqualTo("BYTES");
    assertThat(m.getInputs(0).getShapeList()).containsExactly(-1L, 1L);
    assertThat(m.getOutputs(0).getShapeList()).containsExactly(-1L, 2L);
    assertThat(m.getParametersMap().get("max_batch_size").getInt64Param()).isEqualTo(64);
  }

  @Test
  void mlflowMetadataPublishesTheSignatureColumnOrder() {
    ModelMetadataResponse m = client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName("churn-mlflow").build()).ok();
    assertThat(m.getPlatform()).isEqualTo("pytorch_libtorch");
    assertThat(m.getInputs(0).getShapeList()).containsExactly(-1L, 3L);
    assertThat(m.getInputs(0).getParametersMap().get("columns").getStringParam())
        .isEqualTo("tenure,monthly_charges,total_charges");
  }

  @Test
  void readinessAndServerMetadataTellTheTruth() {
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance())
        .ok().getReady()).isTrue();
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelReady,
        ModelReadyRequest.newBuilder().setName("churn-onnx").setVersion("1").build()).ok().getReady()).isTrue();
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelReady,
        ModelReadyRequest.newBuilder().setName("churn-onnx").setVersion("2").build()).ok().getReady()).isFalse();
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelReady,
        ModelReadyRequest.newBuilder().setName("nope").build()).ok().getReady()).isFalse();
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ServerMetadata,
        ServerMetadataRequest.getDefaultInstance()).ok().getExtensionsList()).contains("model_repository");
  }

  @Test
  void repositoryIndexListsEveryModelAsReady() {
    RepositoryIndexResponse index = client.call(GRPCInferenceServiceGrpcClient.RepositoryIndex,
        RepositoryIndexRequest.newBuilder().setReady(true).build()).ok();
    assertThat(index.getModelsList()).extracting(m -> m.getName() + "@" + m.getVersion())
        .containsExactlyInAnyOrder("churn-mlflow@1", "churn-onnx@1", "churn-torchscript@1", "customer-churn@1",
            "customer-churn@2", "customer-churn@3", "customer-churn@4");
    assertThat(index.getModelsList()).allSatisfy(m -> assertThat(m.getState()).isEqualTo("READY"));
  }

  @Test
  void healthServiceReportsServingAndRejectsUnknownServices() {
    assertThat(client.call(HealthGrpcClient.Check, HealthCheckRequest.getDefaultInstance()).ok().getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(client.call(HealthGrpcClient.Check, HealthCheckRequest.newBuilder().setService("churn-onnx").build())
        .ok().getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(client.call(HealthGrpcClient.Check, HealthCheckRequest.newBuilder().setService("nope").build())
        .status()).isEqualTo(GrpcStatus.NOT_FOUND);
  }

  @Test
  void streamInferAnswersEveryRequestIncludingErrors() throws Exception {
    GrpcClient grpc = GrpcClient.client(client.vertx());
    try {
      List<ModelStreamInferResponse> received = new CopyOnWriteArrayList<>();
      // the answers' handler is set before anything is sent: the unknown model's error comes back at once, and a
      // handler set after the request went out could miss it
      grpc.request(SocketAddress.inetSocketAddress(runner.grpcPort(), "127.0.0.1"),
          GRPCInferenceServiceGrpcClient.ModelStreamInfer).compose(ws -> {
            io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
            ws.response().onSuccess(stream -> {
              stream.handler(received::add);
              stream.exceptionHandler(done::tryFail);
              stream.endHandler(done::tryComplete);
            }).onFailure(done::tryFail);
            ws.write(ChurnRequests.numeric("churn-torchscript", rows.subList(0, 1)).toBuilder().setId("a").build());
            ws.write(ChurnRequests.numeric("nope", rows.subList(0, 1)).toBuilder().setId("b").build());
            ws.write(ChurnRequests.onnx(rows.subList(1, 2)).toBuilder().setId("c").build());
            ws.end();
            return done.future();
          }).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(received).hasSize(3);
      assertThat(received).filteredOn(r -> !r.getErrorMessage().isEmpty()).singleElement()
          .satisfies(r -> assertThat(r.getErrorMessage()).contains("NOT_FOUND").contains("unknown model 'nope'"));
      assertThat(received).filteredOn(ModelStreamInferResponse::hasInferResponse)
          .extracting(r -> r.getInferResponse().getId()).containsExactlyInAnyOrder("a", "c");
    } finally {
      grpc.close();
    }
  }
}
