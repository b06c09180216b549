package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerExtension;
import dev.gantry.runner.TestModels;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcStatus;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Random and mutated ModelInferRequests (seeded, bounded in count and time) over real gRPC to a
 * real runner on the example models and the dtypes fixture, sixteen at a time so that bad requests
 * share batches with good ones. Every call must end with a status before its deadline, bad input
 * must never be INTERNAL or UNKNOWN, the runner must still answer a correct request, and the heap
 * must come back near where it started.
 */
class DecoderFuzzTest {
  private static final long SEED = 0x6A6E7472L;
  private static final int MAX_REQUESTS = 3000;
  private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int IN_FLIGHT = 16;
  private static final long CALL_TIMEOUT_MS = 10_000;
  private static final Set<GrpcStatus> NEVER = EnumSet.of(GrpcStatus.INTERNAL, GrpcStatus.UNKNOWN,
      GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED);

  @RegisterExtension
  static final RunnerExtension RUNNER = RunnerExtension.onRepository(repo -> {
    TestModels.copyModel(TestModels.fixtures().resolve("dtypes"), repo, "dtypes");
    TestModels.copyModel(TestModels.examples().resolve("churn-onnx"), repo, "churn-onnx");
    TestModels.copyModel(TestModels.examples().resolve("churn-torchscript"), repo, "churn-torchscript");
  });

  private static Future<RunnerClient.Outcome<ModelInferResponse>> send(RunnerClient client, Object request) {
    if (request instanceof byte[] bytes) {
      return client.callAsync(WireMessages.MODEL_INFER_BYTES, Buffer.buffer(bytes), CALL_TIMEOUT_MS);
    }
    return client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer, (ModelInferRequest) request, CALL_TIMEOUT_MS);
  }

  private static long heapAfterGc() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    memory.gc();
    memory.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }

  @Test
  void randomAndMutatedRequestsAllGetAStatusAndNeverAnInternalError() throws Exception {
    RunnerClient client = RUNNER.client();
    RequestFuzzer fuzzer = new RequestFuzzer(SEED);
    for (int i = 0; i < 50; i++) {
      client.call(GRPCInferenceServiceGrpcClient.ModelInfer, fuzzer.valid());
    }
    long baseline = heapAfterGc();

    List<String> wrong = new ArrayList<>();
    java.util.Map<String, Integer> statuses = new java.util.TreeMap<>();
    int sent = 0;
    int ok = 0;
    long start = System.nanoTime();
    while (sent < MAX_REQUESTS && System.nanoTime() - start < BUDGET_NANOS) {
      List<Object> requests = new ArrayList<>();
      List<Future<RunnerClient.Outcome<ModelInferResponse>>> calls = new ArrayList<>();
      for (int i = 0; i < IN_FLIGHT; i++) {
        Object request = fuzzer.next();
        requests.add(request);
        calls.add(send(client, request));
      }
      for (int i = 0; i < IN_FLIGHT; i++) {
        RunnerClient.Outcome<ModelInferResponse> outcome;
        try {
          outcome = calls.get(i).toCompletionStage().toCompletableFuture()
              .get(CALL_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
          wrong.add("request " + (sent + i) + " got no status: " + e + " for " + describe(requests.get(i)));
          continue;
        }
        statuses.merge(outcome.status().name(), 1, Integer::sum);
        if (outcome.status() == GrpcStatus.OK) {
          ok++;
        } else if (NEVER.contains(outcome.status())) {
          wrong.add("request " + (sent + i) + " got " + outcome.status() + " " + outcome.message() + " for "
              + describe(requests.get(i)));
        }
      }
      sent += IN_FLIGHT;
    }
    System.out.println("event=fuzz_done requests=" + sent + " statuses=" + statuses + " seconds="
        + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
    assertThat(wrong).as("of %d requests (%d answered OK)", sent, ok).isEmpty();
    assertThat(sent).isGreaterThan(100);

    Row row = new Row(12, 70.35f, 844.2f, "Month-to-month", "Electronic check");
    float[] p = ChurnRequests.floats(client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        ChurnRequests.onnx(List.of(row))).ok());
    assertThat((double) p[1]).isCloseTo(TestModels.expected().get("churn-onnx").get(0).get(1).asDouble(),
        within(1e-4));
    long grown = heapAfterGc() - baseline;
    assertThat(grown).as("heap growth after %d fuzzed requests", sent).isLessThan(64L << 20);
  }

  private static String describe(Object request) {
    String text = request instanceof byte[] b ? b.length + " mutated bytes" : request.toString();
    return text.length() > 600 ? text.substring(0, 600) + "…" : text;
  }
}
