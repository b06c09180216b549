package dev.gantry.sidecar.adapter.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.proto.health.HealthCheckRequest;
import dev.gantry.proto.health.HealthCheckResponse;
import dev.gantry.proto.health.HealthGrpcClient;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelReadyRequest;
import dev.gantry.proto.inference.ServerLiveRequest;
import dev.gantry.proto.inference.ServerReadyRequest;
import dev.gantry.sidecar.GrpcCalls;
import dev.gantry.sidecar.StackExtension;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Open Inference gRPC API through the sidecar, on the same port as REST. */
class GrpcFrontTest {
  @RegisterExtension
  static final StackExtension stack = new StackExtension(null);
  private static GrpcCalls grpc;

  @BeforeAll
  static void start() {
    grpc = new GrpcCalls(stack.sidecar().port());
  }

  @AfterAll
  static void stop() {
    grpc.close();
  }

  static ModelInferRequest numeric(String model) {
    return ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
            .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                .addFp32Contents(12).addFp32Contents(70.35f).addFp32Contents(844.2f)))
        .build();
  }

  @Test
  void modelInferIsForwardedAndTheRequestIdComesBack() {
    GrpcCalls.Outcome<ModelInferResponse> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        numeric("churn-torchscript"), 0, "x-request-id", "req-7", "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(o.status()).isEqualTo(GrpcStatus.OK);
    assertThat(o.headers().get("x-request-id")).isEqualTo("req-7");
    assertThat(o.value().getOutputs(0).getContents().getFp32Contents(1)).isCloseTo(0.6173408f, within(1e-5f));
  }

  @Test
  void runnerErrorsKeepTheirStatusAndMessage() {
    GrpcCalls.Outcome<ModelInferResponse> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, numeric("nope"), 0);
    assertThat(o.status()).isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(o.message()).contains("unknown model 'nope'");
    assertThat(o.headers().get("x-request-id")).isNotBlank();
  }

  @Test
  void metadataReadinessAndHealthComeFromTheRunner() {
    assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName("churn-onnx").build(), 0).value().getInputsCount()).isEqualTo(5);
    assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelReady,
        ModelReadyRequest.newBuilder().setName("churn-onnx").build(), 0).value().getReady()).isTrue();
    assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance(), 0)
        .value().getReady()).isTrue();
    assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ServerLive, ServerLiveRequest.getDefaultInstance(), 0)
        .value().getLive()).isTrue();
    assertThat(grpc.call(HealthGrpcClient.Check, HealthCheckRequest.getDefaultInstance(), 0).value().getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }
}
