package dev.gantry.sidecar.path;

import static dev.gantry.sidecar.path.HeldUpstream.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.GrpcCalls;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sidecar's link to the runner, against a stand-in runner that can hold answers, change its
 * served version and signature, and answer what no engine produces: deadlines and cancellation,
 * what is forwarded, answers that cannot be rendered, and requests pinned to the version whose
 * metadata built them.
 */
class RunnerLinkTest {
  private static final String V2_BODY = HeldUpstream.V2_BODY;
  private HeldUpstream upstream;
  private Sidecar sidecar;
  private Http http;

  @BeforeEach
  void start() {
    upstream = new HeldUpstream();
    sidecar = upstream.sidecar(SidecarConfig.forRunner(upstream.port(), "m").withLimits(1 << 20, 400, 16));
    http = new Http(sidecar.port());
  }

  @AfterEach
  void stop() {
    sidecar.close();
    upstream.close();
  }

  @Test
  void aCallThatTimesOutIsCancelledAtTheRunnerNotLeftRunning() {
    upstream.hold = true;
    assertThat(http.postJson("/v2/models/m/infer", V2_BODY).status()).isEqualTo(504);
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 200).status())
          .isEqualTo(GrpcStatus.DEADLINE_EXCEEDED);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> upstream.cancelled.get() >= 2);
    assertThat(sidecar.path().inFlight()).isZero();
  }

  @Test
  void callsUpToTheInFlightLimitReachTheRunnerAtOnceAndNoneIsSentAfterItsDeadline() throws Exception {
    sidecar.close();
    // 250 held calls: more than one HTTP/2 connection's 100 streams
    sidecar = Sidecar.start(SidecarConfig.forRunner(upstream.port(), "m").withLimits(1 << 20, 3000, 300));
    await().atMost(Duration.ofSeconds(20)).until(() -> sidecar.health().ready());
    upstream.hold = true;
    java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
        .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> calls =
        java.util.stream.IntStream.range(0, 250).mapToObj(i -> client.sendAsync(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + sidecar.port() + "/v2/models/m/infer"))
            .header("content-type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(V2_BODY))
            .build(), java.net.http.HttpResponse.BodyHandlers.ofString())).toList();
    await().atMost(Duration.ofSeconds(20)).until(() -> upstream.inferRequests.size() == 250);
    for (var call : calls) {
      var reply = call.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(reply.statusCode()).as(reply.body()).isEqualTo(504);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> upstream.cancelled.get() == 250);
    assertThat(upstream.inferRequests).hasSize(250);
  }

  @Test
  void aCallerThatCancelsCancelsItsCallAtTheRunnerAndIsCountedAsCancelled() {
    sidecar.close();
    sidecar = Sidecar.start(SidecarConfig.forRunner(upstream.port(), "m").withLimits(1 << 20, 30_000, 16));
    http = new Http(sidecar.port());
    await().atMost(Duration.ofSeconds(20)).until(() -> sidecar.health().ready());
    upstream.hold = true;
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.grpc.client.GrpcClient client = io.vertx.grpc.client.GrpcClient.client(vertx);
      var call = client.request(io.vertx.core.net.SocketAddress.inetSocketAddress(sidecar.port(), "127.0.0.1"),
          GRPCInferenceServiceGrpcClient.ModelInfer).await();
      call.end(request());
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.inferRequests.size() == 1);
      call.cancel();
      // long before the 30 s timeout would have cancelled it
      await().atMost(Duration.ofSeconds(5)).until(() -> upstream.cancelled.get() == 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.path().inFlight() == 0);
      await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/metrics").body().contains(
          "model_prediction_errors_total{error_type=\"cancelled\",model=\"m\",protocol=\"grpc\",variant=\"\",version=\"\"} 1.0"));
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aSubMillisecondGrpcDeadlineIsHonouredNotReplacedByTheDefault() {
    upstream.hold = true;
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      GrpcCalls.Outcome<ModelInferResponse> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 0,
          "grpc-timeout", "700u");
      assertThat(o.status()).isEqualTo(GrpcStatus.DEADLINE_EXCEEDED);
      // the sidecar's own timeout here is 400 ms; the caller asked for 0.7 ms
      assertThat(o.message()).contains("within 0.700 ms");
    }
  }

  @Test
  void grpcRequestIdsAreCheckedAsRestOnesAre() {
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      String tooLong = "r".repeat(201);
      GrpcCalls.Outcome<ModelInferResponse> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 0,
          "x-request-id", tooLong);
      assertThat(o.status()).isEqualTo(GrpcStatus.OK);
      assertThat(o.headers().get("x-request-id")).isNotEqualTo(tooLong).hasSizeLessThanOrEqualTo(200);
      assertThat(upstream.inferHeaders.get(0).get("x-request-id")).isEqualTo(o.headers().get("x-request-id"));
      GrpcCalls.Outcome<ModelInferResponse> spaced = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 0,
          "x-request-id", "has space");
      assertThat(spaced.headers().get("x-request-id")).isNotEqualTo("has space");
      GrpcCalls.Outcome<ModelInferResponse> kept = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 0,
          "x-request-id", "order-42");
      assertThat(kept.headers().get("x-request-id")).isEqualTo("order-42");
    }
    Http.Reply rest = http.post("/v2/models/m/infer", "application/json", V2_BODY, "x-request-id", "has space");
    assertThat(rest.header("x-request-id")).isNotEqualTo("has space");
  }

  @Test
  void onlyAllowListedHeadersWithinTheirLimitsReachTheRunner() {
    String baggage = "k=" + "v".repeat(7800);
    Http.Reply r = http.post("/v2/models/m/infer", "application/json", V2_BODY, "baggage", baggage, "x-secret", "s",
        "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(r.status()).isEqualTo(200);
    var forwarded = upstream.inferHeaders.get(0);
    assertThat(forwarded.get("traceparent")).isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(forwarded.contains("baggage")).as("oversized baggage is not passed on").isFalse();
    assertThat(forwarded.contains("x-secret")).as("headers not on the allow-list stay here").isFalse();
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      // (the sidecar's own HTTP/2 header limit is 8 KiB: a caller's 6 KB baggage reaches it, and stops there)
      assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 0, "x-secret", "s", "baggage",
          "k=" + "v".repeat(6000)).status()).isEqualTo(GrpcStatus.OK);
    }
    assertThat(upstream.inferHeaders.get(1).contains("x-secret")).isFalse();
    assertThat(upstream.inferHeaders.get(1).contains("baggage")).isFalse();
  }

  @Test
  void anAnswerThatCannotBeRenderedIsAnErrorInEachProtocolNeverAHang() {
    upstream.answer = req -> ModelInferResponse.newBuilder().setModelName("m").setModelVersion("1")
        .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP8")
            .addShape(1).addShape(1))
        .addRawOutputContents(ByteString.copyFrom(new byte[] {1}))
        .build();
    Http.Reply v2 = http.postJson("/v2/models/m/infer", V2_BODY);
    assertThat(v2.status()).isEqualTo(500);
    assertThat(v2.json().getString("error")).contains("FP8");
    Http.Reply mlflow = http.postJson("/invocations", "{\"inputs\": [[1]]}");
    assertThat(mlflow.status()).isEqualTo(500);
    assertThat(mlflow.json().getString("error_code")).isEqualTo("INTERNAL_ERROR");
    Http.Reply kserve = http.postJson("/v1/models/m:predict", "{\"instances\": [[1]]}");
    assertThat(kserve.status()).isEqualTo(500);
    Http.Reply seldon = http.postJson("/api/v1.0/predictions", "{\"data\": {\"ndarray\": [[1]]}}");
    assertThat(seldon.status()).isEqualTo(500);
    assertThat(seldon.json().getJsonObject("status").getString("status")).isEqualTo("FAILURE");
    assertThat(sidecar.path().inFlight()).isZero();
  }

  @Test
  void aRequestIsPinnedToTheVersionWhoseSignatureOrderedItsColumns() {
    upstream.columns = List.of("a", "b");
    String record = "{\"dataframe_records\": [{\"b\": 2, \"a\": 1}]}";
    assertThat(http.postJson("/invocations", record).status()).isEqualTo(200);
    ModelInferRequest first = upstream.inferRequests.get(0);
    assertThat(first.getModelVersion()).isEqualTo("1");
    assertThat(first.getInputs(0).getContents().getFp32ContentsList()).containsExactly(1f, 2f);

    // a reload: version 2 orders the columns the other way, and version 1 is gone at once
    upstream.columns = List.of("b", "a");
    upstream.version = "2";
    Http.Reply after = http.postJson("/invocations", record);
    assertThat(after.status()).isEqualTo(200);
    ModelInferRequest last = upstream.inferRequests.get(upstream.inferRequests.size() - 1);
    assertThat(last.getModelVersion()).isEqualTo("2");
    assertThat(last.getInputs(0).getContents().getFp32ContentsList()).containsExactly(2f, 1f);
  }

  @Test
  void aReloadThatKeepsTheOldVersionServingInvalidatesTheMetadataWithinOneProbe() {
    upstream.columns = List.of("a", "b");
    String record = "{\"dataframe_records\": [{\"b\": 2, \"a\": 1}]}";
    assertThat(http.postJson("/invocations", record).status()).isEqualTo(200);
    upstream.alsoServed = List.of("1");
    upstream.columns = List.of("b", "a");
    upstream.version = "2";
    // the probe runs every 200 ms here; the old 10 s TTL would keep version 1 far longer
    await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).until(() -> {
      assertThat(http.postJson("/invocations", record).status()).isEqualTo(200);
      return upstream.inferRequests.get(upstream.inferRequests.size() - 1).getModelVersion().equals("2");
    });
    ModelInferRequest last = upstream.inferRequests.get(upstream.inferRequests.size() - 1);
    assertThat(last.getInputs(0).getContents().getFp32ContentsList()).containsExactly(2f, 1f);
    // every request was answered by the version whose signature ordered it
    for (ModelInferRequest r : upstream.inferRequests) {
      List<Float> values = r.getInputs(0).getContents().getFp32ContentsList();
      assertThat(values).isEqualTo(r.getModelVersion().equals("1") ? List.of(1f, 2f) : List.of(2f, 1f));
    }
  }
}
