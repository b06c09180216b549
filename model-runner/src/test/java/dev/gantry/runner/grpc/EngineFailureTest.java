package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.runner.TestModels;
import io.micrometer.core.instrument.DistributionSummary;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real libtorch failure (an index out of range in torch.gather) inside a merged batch fails
 * only the request that caused it, with INTERNAL and the engine's message.
 */
class EngineFailureTest {
  @TempDir
  Path repo;

  private static ModelInferRequest gather(int row, long index) {
    return ModelInferRequest.newBuilder().setModelName("gather").setId("r" + row)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(1).addShape(4).setContents(InferTensorContents.newBuilder()
                .addFp32Contents(row).addFp32Contents(row + 0.25f).addFp32Contents(row + 0.5f)
                .addFp32Contents(row + 0.75f)))
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("idx").setDatatype("INT64")
            .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder().addInt64Contents(index)))
        .build();
  }

  @Test
  void anEngineFailureInABatchFailsOnlyItsOwnRequest() throws Exception {
    // the fixture's 100 ms window, waited even while the instance is idle, so that the calls below merge
    TestModels.copyModel(TestModels.fixtures().resolve("gather"), repo, "gather",
        "max_queue_delay_microseconds: 100000", "max_queue_delay_microseconds: 100000\n  queue_delay_policy: always");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      List<Future<RunnerClient.Outcome<ModelInferResponse>>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer, gather(i, i == 5 ? 9 : i % 4), 0));
      }
      for (int i = 0; i < 8; i++) {
        RunnerClient.Outcome<ModelInferResponse> o =
            calls.get(i).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        if (i == 5) {
          assertThat(o.status()).isEqualTo(GrpcStatus.INTERNAL);
          assertThat(o.message()).contains("PyTorch failed").containsIgnoringCase("index");
        } else {
          assertThat(o.status()).as("request %d", i).isEqualTo(GrpcStatus.OK);
          assertThat(o.value().getOutputs(0).getContents().getFp32Contents(0)).isEqualTo(i + 0.25f * (i % 4));
        }
      }
      DistributionSummary batches = runner.metrics().registry().find("gantry.runner.batch.size")
          .tag("model", "gather").summary();
      // 8 rows ran merged (and failed), then each request alone: more rows than requests ran
      assertThat(batches.totalAmount()).as("the failing request shared a batch with others").isGreaterThan(8);
      // and the runner keeps serving
      assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer, gather(1, 2)).status()).isEqualTo(GrpcStatus.OK);
    }
  }
}
