package dev.gantry.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.ChurnRequests.Row;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runner process where Netty's native transport cannot load (as on another OS or CPU; here
 * {@code -Dio.netty.transport.noNative=true}) falls back to NIO, says so once at start, and serves,
 * with idle workers spinning before they park.
 */
class NativeTransportFallbackTest {
  @TempDir
  Path repo;

  @Test
  void fallsBackToNioWhenTheNativeTransportIsUnavailableAndServes() throws Exception {
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp");
    try (RunnerProcess runner = RunnerProcess.start(List.of("-Dio.netty.transport.noNative=true"),
        "--model-repository", repo.toString(), "--worker-spin-us", "50", "--native-transport", "true");
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      assertThat(runner.log()).anySatisfy(line -> assertThat(line)
          .contains("event=event_loop_transport transport=nio reason=\"native transport unavailable"));
      ModelInferResponse answer = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
          ChurnRequests.numeric("mlp", List.of(new Row(12, 70.35f, 844.2f, "", "")))).ok();
      assertThat(answer.getOutputs(0).getContents().getFp32ContentsCount()).isEqualTo(2);
    }
  }
}
