package dev.gantry.sidecar.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.sidecar.GrpcCalls;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.JavaProcess;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A runner that stops answering without dying (SIGSTOP: a long GC pause, a frozen container)
 * under load: every client still gets an answer within its deadline, readiness drops within the
 * probe budget, and all recovers when the runner goes on (SIGCONT).
 */
class FrozenRunnerTest {
  private static final long TIMEOUT_MS = 1500;
  /** What "within its deadline" allows beyond the deadline itself: scheduling on a loaded 2-core machine. */
  private static final long SLACK_MS = 1500;
  private static final String V2 =
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}";
  private static final String MLFLOW = "{\"inputs\": [[12, 70.35, 844.2]]}";

  private record Call(String protocol, long startNanos, long tookMs, int status) {}

  private static void signal(long pid, String signal) throws Exception {
    assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor()).isZero();
  }

  @Test
  void aFrozenRunnerMeansAnswersWithinTheDeadlineAndNotReadyWithinTheProbeBudget() throws Exception {
    int port = JavaProcess.freePort();
    JavaProcess runner = JavaProcess.runner(port, "--models", "churn-torchscript");
    SidecarConfig config = SidecarConfig.forRunner(port, "churn-torchscript").withLimits(10 << 20, TIMEOUT_MS, 1024)
        .withRunnerKeepaliveMs(300);
    try (Sidecar sidecar = Sidecar.start(config); GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      Http http = new Http(sidecar.port());
      await().atMost(Duration.ofSeconds(30)).until(() -> sidecar.health().ready());
      List<Call> calls = new CopyOnWriteArrayList<>();
      Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
      AtomicBoolean running = new AtomicBoolean(true);
      ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("churn-torchscript")
          .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
              .addShape(1).addShape(3).setContents(InferTensorContents.newBuilder()
                  .addFp32Contents(12).addFp32Contents(70.35f).addFp32Contents(844.2f))).build();
      List<Thread> clients = IntStream.range(0, 3).mapToObj(i -> new Thread(() -> {
        while (running.get()) {
          long start = System.nanoTime();
          int status;
          String protocol = switch (i) {
            case 0 -> "v2";
            case 1 -> "mlflow";
            default -> "grpc";
          };
          status = switch (i) {
            case 0 -> http.postJson("/v2/models/churn-torchscript/infer", V2).status();
            case 1 -> http.postJson("/invocations", MLFLOW).status();
            default -> grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request, 0).status().code;
          };
          long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
          calls.add(new Call(protocol, start, took, status));
          statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
        }
      })).toList();
      clients.forEach(Thread::start);
      await().atMost(Duration.ofSeconds(30)).until(() -> calls.stream().filter(c -> c.status() == 200
          || c.status() == 0).count() > 60);

      signal(runner.pid(), "STOP");
      // taken once kill(1) has returned: a call sent while the signal was still on its way may be answered
      long frozenAt = System.nanoTime();
      try {
        // the probe budget: three probes (200 ms apart, each with its own deadline) or one unanswered PING
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
            .until(() -> !sidecar.health().ready());
        long notReadyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
        // a PING unanswered for 300 ms closes the connection, which also ends the probes in flight on it: the
        // reason names one or the other
        assertThat(sidecar.health().reason()).containsAnyOf("no answer to an HTTP/2 PING within 300 ms",
            "ended the call without an answer", "did not answer within");
        assertThat(http.get("/readyz").status()).isEqualTo(503);
        assertThat(http.get("/livez").status()).isEqualTo(200);
        // let the clients meet the frozen runner for a while
        int before = calls.size();
        await().atMost(Duration.ofSeconds(30)).until(() -> calls.size() > before + 9);
        List<Call> whileFrozen = calls.stream().filter(c -> c.startNanos() > frozenAt).toList();
        assertThat(whileFrozen).isNotEmpty().allSatisfy(c -> {
          assertThat(c.tookMs()).as("%s answered within its deadline", c.protocol())
              .isLessThanOrEqualTo(TIMEOUT_MS + SLACK_MS);
          // 504 (deadline), 503 (not ready), or the gRPC codes for the same: 4, 14
          assertThat(c.status()).isIn(503, 504, 4, 14);
        });
        assertThat(notReadyMs).as("readiness dropped within the probe budget").isLessThan(5000);
      } finally {
        signal(runner.pid(), "CONT");
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> sidecar.health().ready());
      int okBefore = (int) calls.stream().filter(c -> c.status() == 200 || c.status() == 0).count();
      await().atMost(Duration.ofSeconds(30)).until(() -> calls.stream().filter(c -> c.status() == 200
          || c.status() == 0).count() > okBefore + 30);
      running.set(false);
      for (Thread t : clients) {
        t.join(60_000);
        assertThat(t.isAlive()).as("no client is left hanging").isFalse();
      }
    } finally {
      runner.close();
    }
  }
}
