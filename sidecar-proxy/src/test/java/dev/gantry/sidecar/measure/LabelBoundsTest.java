package dev.gantry.sidecar.measure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.sidecar.GrpcCalls;
import dev.gantry.sidecar.StackExtension;
import io.vertx.grpc.common.GrpcStatus;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Callers cannot grow the metric label set or the sidecar's caches with names they make up. */
class LabelBoundsTest {
  private static final String V2 =
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}";

  @RegisterExtension
  static final StackExtension stack = new StackExtension("churn-torchscript");

  @Test
  void madeUpVersionsAndModelsBecomeUnknownNotLabels() {
    for (int i = 0; i < 40; i++) {
      String version = UUID.randomUUID().toString();
      assertThat(stack.http().postJson("/v2/models/churn-torchscript/versions/" + version + "/infer", V2).status())
          .isEqualTo(404);
      assertThat(stack.http().postJson("/v2/models/" + version + "/infer", V2).status()).isEqualTo(404);
      assertThat(stack.http().get("/v2/models/churn-torchscript/versions/" + "0".repeat(i) + "1").status())
          .isEqualTo(200);
    }
    String huge = "v".repeat(2 << 20);
    ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("churn-torchscript").setModelVersion(huge)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
            .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                .addFp32Contents(1).addFp32Contents(2).addFp32Contents(3))).build();
    try (GrpcCalls grpc = new GrpcCalls(stack.sidecar().port())) {
      assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, req, 0).status())
          .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    }
    String text = stack.http().get("/metrics").body();
    assertThat(text.length()).as("/metrics stays small").isLessThan(200_000);
    assertThat(text).doesNotContain(huge.substring(0, 100));
    long errorSeries = text.lines().filter(l -> l.startsWith("model_prediction_errors_total{")).count();
    assertThat(errorSeries).isLessThanOrEqualTo(4);
    assertThat(text).contains("model_prediction_errors_total{error_type=\"not_found\",model=\"churn-torchscript\","
        + "protocol=\"v2\",variant=\"\",version=\"unknown\"} 40.0");
    assertThat(text).contains("model_prediction_errors_total{error_type=\"not_found\",model=\"unknown\","
        + "protocol=\"v2\",variant=\"\",version=\"\"} 40.0");
  }
}
