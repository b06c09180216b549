package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
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
 * Malformed raw inputs among correct ones in merged batches: the malformed ones are refused alone
 * and every correct request gets exactly the answer it gets when it runs by itself.
 */
class RawBatchingTest {
  @TempDir
  Path repo;

  private static ModelInferRequest correct(int i) {
    return ChurnRequests.numericRaw("mlp", List.of(new Row(1 + i, 20 + i * 1.5f, 100 + i * 37f, "", "")))
        .toBuilder().setId("ok-" + i).build();
  }

  /** Raw buffers one byte too long or short, or a whole element too long, for shape [1,3]. */
  private static ModelInferRequest malformed(int i) {
    ByteString good = correct(i).getRawInputContents(0);
    ByteString bad = switch (i % 3) {
      case 0 -> good.concat(ByteString.copyFrom(new byte[] {0x7F}));
      case 1 -> good.substring(0, good.size() - 1);
      default -> good.concat(good.substring(0, 4));
    };
    return correct(i).toBuilder().setId("bad-" + i).setRawInputContents(0, bad).build();
  }

  @Test
  void malformedRawInputsNeverShiftTheDataOfRequestsBatchedWithThem() throws Exception {
    // a wider window, waited even while the instance is idle, so that the concurrent requests below are merged
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "mlp",
        "max_queue_delay_microseconds: 500", "max_queue_delay_microseconds: 20000\n  queue_delay_policy: always");
    try (ModelRunner runner = ModelRunner.start(RunnerOptions.forRepository(repo));
        RunnerClient client = new RunnerClient(runner.grpcPort())) {
      int correct = 32;
      List<float[]> alone = new ArrayList<>();
      for (int i = 0; i < correct; i++) {
        alone.add(ChurnRequests.floats(client.call(GRPCInferenceServiceGrpcClient.ModelInfer, correct(i)).ok()));
      }
      List<Future<RunnerClient.Outcome<ModelInferResponse>>> calls = new ArrayList<>();
      for (int i = 0; i < correct; i++) {
        calls.add(client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer, malformed(i), 0));
        calls.add(client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer, correct(i), 0));
      }
      for (int i = 0; i < correct; i++) {
        RunnerClient.Outcome<ModelInferResponse> bad = outcome(calls.get(2 * i));
        assertThat(bad.status()).as("malformed %d", i).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
        assertThat(bad.message()).contains("input 'input'", "needs 12 bytes (3 elements)");
        ModelInferResponse ok = outcome(calls.get(2 * i + 1)).ok();
        assertThat(ok.getId()).isEqualTo("ok-" + i);
        // the same answer up to float rounding, which differs with the batch size; a shift is far larger
        assertThat(ChurnRequests.floats(ok)).as("request %d batched", i).containsExactly(alone.get(i), within(1e-5f));
      }
      DistributionSummary batches = runner.metrics().registry().get("gantry.runner.batch.size")
          .tag("model", "mlp").summary();
      assertThat(batches.max()).as("the concurrent requests were merged").isGreaterThan(1);
    }
  }

  private static RunnerClient.Outcome<ModelInferResponse> outcome(Future<RunnerClient.Outcome<ModelInferResponse>> f)
      throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
