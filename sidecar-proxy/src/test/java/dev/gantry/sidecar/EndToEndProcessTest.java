package dev.gantry.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The runner and the sidecar as two OS processes, as deployed in a pod; every protocol called. */
class EndToEndProcessTest {
  private static final double ONNX = 0.9092077612876892;
  private static final double MLP = 0.6173408627510071;

  @Test
  void everyProtocolAnswersThroughTwoProcesses() throws Exception {
    int runnerPort = JavaProcess.freePort();
    int sidecarPort = JavaProcess.freePort();
    try (JavaProcess runner = JavaProcess.runner(runnerPort);
        JavaProcess sidecar = JavaProcess.start("dev.gantry.sidecar.SidecarMain", "event=sidecar_started",
            "--port", Integer.toString(sidecarPort), "--host", "127.0.0.1", "--runner-port",
            Integer.toString(runnerPort), "--default-model", "churn-onnx", "--admin-port", "0",
            "--cluster-port", Integer.toString(JavaProcess.freePort()))) {
      Http http = new Http(sidecarPort);
      await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/readyz").status() == 200);

      Http.Reply mlflow = http.postJson("/invocations", "{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\":"
          + " 70.35, \"total_charges\": 844.20, \"contract_type\": \"Month-to-month\", \"payment_method\":"
          + " \"Electronic check\"}]}");
      assertThat(mlflow.json().getJsonArray("predictions").getJsonArray(0).getDouble(1)).isCloseTo(ONNX, within(1e-5));

      Http.Reply v2 = http.postJson("/v2/models/churn-torchscript/infer",
          "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}");
      assertThat(v2.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(1))
          .isCloseTo(MLP, within(1e-5));

      Http.Reply v1 = http.postJson("/v1/models/churn-mlflow:predict", "{\"instances\": [[12, 70.35, 844.2]]}");
      assertThat(v1.json().getJsonArray("predictions").getJsonArray(0).getDouble(1)).isCloseTo(MLP, within(1e-5));

      Http.Reply seldon = http.postJson("/seldon/default/churn-torchscript/api/v1.0/predictions",
          "{\"data\": {\"ndarray\": [[12, 70.35, 844.20]]}}");
      assertThat(seldon.json().getJsonObject("data").getJsonArray("ndarray").getJsonArray(0).getDouble(1))
          .isCloseTo(MLP, within(1e-5));

      try (GrpcCalls grpc = new GrpcCalls(sidecarPort)) {
        GrpcCalls.Outcome<ModelInferResponse> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer,
            ModelInferRequest.newBuilder().setModelName("churn-torchscript")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                    .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                        .addFp32Contents(12).addFp32Contents(70.35f).addFp32Contents(844.2f)))
                .build(), 5000);
        assertThat(o.status()).isEqualTo(GrpcStatus.OK);
        assertThat((double) o.value().getOutputs(0).getContents().getFp32Contents(1)).isCloseTo(MLP, within(1e-5));
      }
      assertThat(http.get("/metrics").body()).contains("model_predictions_total{model=\"churn-onnx\",protocol=\"mlflow\"");

      assertThat(sidecar.terminate()).as("sidecar stops on SIGTERM").isTrue();
      assertThat(runner.terminate()).as("runner stops on SIGTERM").isTrue();
      assertThat(sidecar.log()).anyMatch(l -> l.contains("event=sidecar_stopped"));
      assertThat(runner.log()).anyMatch(l -> l.contains("event=runner_stopped"));
    }
  }
}
