package dev.gantry.sidecar.measure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.sidecar.GrpcCalls;
import dev.gantry.sidecar.Stack;
import io.vertx.grpc.common.GrpcStatus;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Scrapes the sidecar's /metrics after real traffic through real adapters and a real runner. */
class ProxyMetricsTest {
  private static final String V2 =
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}";

  private static double value(String text, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(text);
    assertThat(m.find()).as("series %s", series).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void countsWhatReallyHappenedByModelVersionAndProtocol() {
    try (Stack stack = Stack.start("churn-onnx"); GrpcCalls grpc = new GrpcCalls(stack.sidecar.port())) {
      for (int i = 0; i < 5; i++) {
        assertThat(stack.http.postJson("/v2/models/churn-torchscript/infer", V2).status()).isEqualTo(200);
      }
      for (int i = 0; i < 2; i++) {
        assertThat(stack.http.postJson("/v2/models/churn-torchscript/infer", V2.replace("[1,3]", "[1,4]")).status())
            .isEqualTo(400);
      }
      assertThat(stack.http.postJson("/invocations", "{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\":"
          + " 70.35, \"total_charges\": 844.2, \"contract_type\": \"One year\", \"payment_method\": \"Mailed check\"}]}")
          .status()).isEqualTo(200);
      ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("churn-torchscript")
          .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
              .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                  .addFp32Contents(1).addFp32Contents(2).addFp32Contents(3))).build();
      for (int i = 0; i < 3; i++) {
        assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, req, 0).status()).isEqualTo(GrpcStatus.OK);
      }
      assertThat(stack.http.postJson("/v2/models/ghost/infer", V2).status()).isEqualTo(404);

      String text = stack.http.get("/metrics").body();
      assertThat(value(text, "model_predictions_total{model=\"churn-torchscript\",protocol=\"v2\",variant=\"\",version=\"1\"}"))
          .isEqualTo(5);
      assertThat(value(text, "model_predictions_total{model=\"churn-torchscript\",protocol=\"grpc\",variant=\"\",version=\"1\"}"))
          .isEqualTo(3);
      assertThat(value(text, "model_predictions_total{model=\"churn-onnx\",protocol=\"mlflow\",variant=\"\",version=\"1\"}"))
          .isEqualTo(1);
      assertThat(value(text, "model_prediction_errors_total{error_type=\"invalid_argument\",model=\"churn-torchscript\","
          + "protocol=\"v2\",variant=\"\",version=\"\"}")).isEqualTo(2);
      // a name the runner never served does not become a label
      assertThat(value(text, "model_prediction_errors_total{error_type=\"not_found\",model=\"unknown\","
          + "protocol=\"v2\",variant=\"\",version=\"\"}")).isEqualTo(1);
      assertThat(text).doesNotContain("model=\"ghost\"");
      assertThat(value(text, "model_prediction_latency_seconds_count{model=\"churn-torchscript\",protocol=\"v2\","
          + "variant=\"\",version=\"1\"}")).isEqualTo(5);
      assertThat(text).contains("model_prediction_latency_seconds_bucket{model=\"churn-torchscript\",protocol=\"v2\","
          + "variant=\"\",version=\"1\",le=\"0.005\"}");
      assertThat(value(text, "model_input_size_bytes_count{model=\"churn-torchscript\",protocol=\"v2\","
          + "variant=\"\",version=\"1\"}")).isEqualTo(5);
      assertThat(value(text, "model_input_size_bytes_sum{model=\"churn-torchscript\",protocol=\"v2\","
          + "variant=\"\",version=\"1\"}")).isEqualTo(5.0 * V2.length());
      assertThat(value(text, "model_active_requests{model=\"churn-torchscript\",protocol=\"v2\",version=\"\"}")).isZero();
      assertThat(text).contains("vertx_http_server_requests_total", "jvm_memory_used_bytes");
    }
  }
}
