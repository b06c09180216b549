package dev.gantry.sidecar.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.GrpcCalls;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner served on a Unix domain socket ({@code --grpc-socket}) and a sidecar reaching it there
 * ({@code --runner-socket}): real inference on the example models, answered exactly as a sidecar on TCP answers, and
 * the socket's file removed when the runner stops. Runs where Netty's epoll transport loads (Linux x86-64).
 */
class UnixSocketRunnerTest {
  @TempDir
  Path dir;

  @Test
  void aSidecarOnTheRunnersUnixSocketAnswersWhatOneOnTcpAnswers() {
    Path socket = dir.resolve("run/runner.sock");
    ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()).withGrpcSocket(socket));
    // port 1: nothing listens there, so every answer of this sidecar came over the socket
    Sidecar onSocket = Sidecar.start(SidecarConfig.forRunner(1, "churn-onnx").withRunnerSocket(socket.toString()));
    Sidecar onTcp = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "churn-onnx"));
    try (GrpcCalls grpcSocket = new GrpcCalls(onSocket.port()); GrpcCalls grpcTcp = new GrpcCalls(onTcp.port())) {
      assertThat(socket).exists();
      await().atMost(Duration.ofSeconds(30)).until(() -> onSocket.health().ready() && onTcp.health().ready());
      Http viaSocket = new Http(onSocket.port());
      Http viaTcp = new Http(onTcp.port());
      String mlflow = "{\"dataframe_records\": [{\"tenure\": 12, \"monthly_charges\": 70.35, \"total_charges\":"
          + " 844.20, \"contract_type\": \"Month-to-month\", \"payment_method\": \"Electronic check\"}]}";
      String v2 = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}";
      for (String[] call : new String[][] {{"/invocations", mlflow}, {"/v2/models/churn-torchscript/infer", v2}}) {
        Http.Reply a = viaSocket.postJson(call[0], call[1]);
        Http.Reply b = viaTcp.postJson(call[0], call[1]);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.body()).as(call[0]).isEqualTo(b.body());
      }
      ModelInferRequest row = ModelInferRequest.newBuilder().setModelName("churn-torchscript")
          .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
              .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder().addFp32Contents(12)
                  .addFp32Contents(70.35f).addFp32Contents(844.2f)))
          .build();
      GrpcCalls.Outcome<ModelInferResponse> a = grpcSocket.call(GRPCInferenceServiceGrpcClient.ModelInfer, row, 0);
      GrpcCalls.Outcome<ModelInferResponse> b = grpcTcp.call(GRPCInferenceServiceGrpcClient.ModelInfer, row, 0);
      assertThat(a.status()).as(a.message()).isEqualTo(GrpcStatus.OK);
      assertThat(a.value().getOutputsList()).isEqualTo(b.value().getOutputsList());
      assertThat(a.value().getRawOutputContentsList()).isEqualTo(b.value().getRawOutputContentsList());
    } finally {
      onSocket.close();
      onTcp.close();
      runner.close();
    }
    assertThat(socket).doesNotExist();
  }

  @Test
  void aSocketNobodyServesIsReportedUnreachableByItsPath() {
    Path socket = dir.resolve("nobody.sock");
    Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(1, "churn-onnx").withRunnerSocket(socket.toString()));
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.health().reason() != null
          && sidecar.health().reason().contains("unix:" + socket));
      assertThat(sidecar.health().ready()).isFalse();
      Http.Reply refused = new Http(sidecar.port()).tryPost("/v2/models/churn-torchscript/infer", "application/json",
          "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}");
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.body()).contains("unix:" + socket);
    } finally {
      sidecar.close();
    }
  }
}
