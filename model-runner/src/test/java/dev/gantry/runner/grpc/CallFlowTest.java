package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelStreamInferResponse;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerExtension;
import dev.gantry.runner.TestModels;
import io.micrometer.core.instrument.DistributionSummary;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Calls that end before their answer: those a client cancels, or whose deadline passes, give their
 * queue slots back and are never run; and a stream is read only as fast as it is answered. The models here hold requests in their queues for 10 s unless a batch
 * fills, even while their instance is idle ({@code queue_delay_policy: always}): "four" dispatches
 * at 4 rows and holds 4 requests at most, "wide" dispatches at 64 rows.
 */
class CallFlowTest {
  private static final Row ROW = new Row(12, 70.35f, 844.2f, "", "");

  @RegisterExtension
  static final RunnerExtension RUNNER = RunnerExtension.onRepository(repo -> {
    Path mlp = TestModels.examples().resolve("churn-torchscript");
    String delay = "max_queue_delay_microseconds: 500";
    String tenSeconds = "max_queue_delay_microseconds: 10000000\n  queue_delay_policy: always";
    TestModels.copyModel(mlp, repo, "four", delay, tenSeconds, "preferred_batch_sizes: [16, 32]",
        "preferred_batch_sizes: [4]", "max_queue_size: 1024", "max_queue_size: 4");
    TestModels.copyModel(mlp, repo, "wide", delay, tenSeconds, "preferred_batch_sizes: [16, 32]",
        "preferred_batch_sizes: []");
    TestModels.copyModel(mlp, repo, "mlp");
  });
  private static ModelRunner runner;
  private static RunnerClient client;
  private GrpcClient grpc;
  private SocketAddress address;

  @BeforeAll
  static void start() {
    runner = RUNNER.runner();
    client = RUNNER.client();
  }

  @BeforeEach
  void connect() {
    grpc = GrpcClient.client(client.vertx());
    address = SocketAddress.inetSocketAddress(runner.grpcPort(), "127.0.0.1");
  }

  @AfterEach
  void disconnect() {
    grpc.close().await();
  }

  private static int queueDepth(String model) {
    return runner.models().served(model).get(0).queueDepth();
  }

  private GrpcClientRequest<ModelInferRequest, ModelInferResponse> sendUnary(String model) throws Exception {
    GrpcClientRequest<ModelInferRequest, ModelInferResponse> req = grpc.request(address,
        GRPCInferenceServiceGrpcClient.ModelInfer).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    req.end(ChurnRequests.numeric(model, List.of(ROW)));
    return req;
  }

  @Test
  void cancelledUnaryCallsLeaveTheQueueAndAreNeverRun() throws Exception {
    List<GrpcClientRequest<ModelInferRequest, ModelInferResponse>> waiting = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waiting.add(sendUnary("four"));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> queueDepth("four") == 3);
    waiting.forEach(GrpcClientRequest::cancel);
    await().atMost(Duration.ofSeconds(30)).until(() -> queueDepth("four") == 0);

    // the queue holds 4: all four slots are free again, and four rows dispatch at once
    List<Future<RunnerClient.Outcome<ModelInferResponse>>> calls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      calls.add(client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer,
          ChurnRequests.numeric("four", List.of(ROW)), 0));
    }
    for (Future<RunnerClient.Outcome<ModelInferResponse>> call : calls) {
      assertThat(call.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).status())
          .isEqualTo(GrpcStatus.OK);
    }
    DistributionSummary batches = runner.metrics().registry().get("gantry.runner.batch.size")
        .tag("model", "four").summary();
    assertThat(batches.count()).as("one batch ran").isEqualTo(1);
    assertThat(batches.totalAmount()).as("of the four calls that were not cancelled").isEqualTo(4);
    // no cancelled call still holds the version: unloading it drains at once (then it is back for others)
    runner.models().unload("four").get(30, TimeUnit.SECONDS);
    runner.models().load("four").get(60, TimeUnit.SECONDS);
  }

  private RunnerClient.Outcome<ModelInferResponse> callWithTimeoutHeader(String model, String timeout)
      throws Exception {
    return grpc.request(address, GRPCInferenceServiceGrpcClient.ModelInfer).compose(req -> {
      req.headers().set("grpc-timeout", timeout);
      return req.end(ChurnRequests.numeric(model, List.of(ROW))).compose(v -> req.response());
    }).compose(resp -> resp.last().transform(ar -> Future.succeededFuture(new RunnerClient.Outcome<>(
        ar.succeeded() ? GrpcStatus.OK : resp.status(), String.valueOf(resp.statusMessage()),
        ar.succeeded() ? ar.result() : null))))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void aTimeoutUnderOneMillisecondIsHonouredToTheNanosecond() throws Exception {
    RunnerClient.Outcome<ModelInferResponse> nanos = callWithTimeoutHeader("mlp", "100n");
    assertThat(nanos.status()).isEqualTo(GrpcStatus.DEADLINE_EXCEEDED);
    assertThat(nanos.message()).contains("was not run");
    // 500 us in a queue that holds requests for 10 s
    RunnerClient.Outcome<ModelInferResponse> micros = callWithTimeoutHeader("four", "500u");
    assertThat(micros.status()).isEqualTo(GrpcStatus.DEADLINE_EXCEEDED);
    // passed in the queue, or (on a busy machine) already before it: never run either way
    assertThat(micros.message()).contains("deadline passed", "model 'four'", "the request was not run");
    assertThat(queueDepth("four")).isZero();
  }

  @Test
  void grpcTimeoutHeadersAreReadInTheirOwnUnits() {
    assertThat(GrpcDeadlines.timeoutNanos("100n")).isEqualTo(100);
    assertThat(GrpcDeadlines.timeoutNanos("500u")).isEqualTo(500_000);
    assertThat(GrpcDeadlines.timeoutNanos("30S")).isEqualTo(30_000_000_000L);
    assertThat(GrpcDeadlines.timeoutNanos("2H")).isEqualTo(7_200_000_000_000L);
    assertThat(GrpcDeadlines.timeoutNanos("99999999H")).as("capped").isEqualTo(365L * 24 * 3600 * 1_000_000_000L);
    assertThat(GrpcDeadlines.timeoutNanos("123456789n")).as("more than 8 digits").isEqualTo(-1);
    assertThat(GrpcDeadlines.timeoutNanos("5x")).isEqualTo(-1);
    assertThat(GrpcDeadlines.timeoutNanos(null)).isEqualTo(-1);
  }

  @Test
  void aStreamIsReadOnlyAsFastAsItIsAnsweredAndCancellingItEmptiesTheQueue() throws Exception {
    GrpcClientRequest<ModelInferRequest, ModelStreamInferResponse> stream = grpc.request(address,
        GRPCInferenceServiceGrpcClient.ModelStreamInfer).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    for (int i = 0; i < 100; i++) {
      stream.write(ChurnRequests.numeric("wide", List.of(ROW)).toBuilder().setId("s" + i).build());
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> queueDepth("wide") == StreamInferCall.MAX_OUTSTANDING);
    // and no more are read while those wait
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
        .until(() -> queueDepth("wide") == StreamInferCall.MAX_OUTSTANDING);
    stream.cancel();
    await().atMost(Duration.ofSeconds(30)).until(() -> queueDepth("wide") == 0);
    assertThat(runner.metrics().registry().find("gantry.runner.batch.size").tag("model", "wide").summary()
        .count()).as("nothing of the cancelled stream ran").isZero();
  }

  @Test
  void aStreamWhoseClientStopsReadingIsNotReadFurtherUntilItReadsAgain() throws Exception {
    int n = 3000;
    String counter = "gantry.runner.request.success";
    double before = runner.metrics().registry().get(counter).tag("model", "mlp").counter().count();
    List<ModelStreamInferResponse> received = new CopyOnWriteArrayList<>();
    GrpcClientRequest<ModelInferRequest, ModelStreamInferResponse> stream = grpc.request(address,
        GRPCInferenceServiceGrpcClient.ModelStreamInfer).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    Promise<Void> done = Promise.promise();
    var response = stream.response().onSuccess(resp -> {
      resp.pause(); // the client reads nothing for now
      resp.handler(received::add);
      resp.endHandler(done::tryComplete);
      resp.exceptionHandler(done::tryFail);
    });
    for (int i = 0; i < n; i++) {
      stream.write(ChurnRequests.numeric("mlp", List.of(ROW)).toBuilder().setId("s" + i).build());
    }
    stream.end();
    java.util.function.DoubleSupplier answered = () ->
        runner.metrics().registry().get(counter).tag("model", "mlp").counter().count() - before;
    // the runner answers until the unread answers fill the connection's window and its write
    // queue, then stops reading requests: the count settles well short of n
    await().atMost(Duration.ofSeconds(30)).until(() -> answered.getAsDouble() > 0);
    double[] last = {-1};
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      double now = answered.getAsDouble();
      boolean settled = now == last[0];
      last[0] = now;
      return settled;
    });
    assertThat(answered.getAsDouble()).as("answered while the client read nothing").isLessThan(n);
    response.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).resume();
    done.future().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(received).hasSize(n);
  }

  @Test
  void aLongStreamIsAnsweredInFullAsReadingPausesAndResumes() throws Exception {
    int n = 5 * StreamInferCall.MAX_OUTSTANDING;
    List<ModelStreamInferResponse> received = new CopyOnWriteArrayList<>();
    GrpcClientRequest<ModelInferRequest, ModelStreamInferResponse> stream = grpc.request(address,
        GRPCInferenceServiceGrpcClient.ModelStreamInfer).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    Promise<Void> done = Promise.promise();
    stream.response().onSuccess(resp -> {
      resp.handler(received::add);
      resp.endHandler(done::tryComplete);
      resp.exceptionHandler(done::tryFail);
    }).onFailure(done::tryFail);
    for (int i = 0; i < n; i++) {
      stream.write(ChurnRequests.numeric("mlp", List.of(ROW)).toBuilder().setId("s" + i).build());
    }
    stream.end();
    done.future().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(received).hasSize(n).allSatisfy(r -> assertThat(r.getErrorMessage()).isEmpty());
  }
}
