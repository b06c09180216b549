package dev.gantry.sidecar.path;

import static dev.gantry.sidecar.path.HeldUpstream.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.GrpcCalls;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The request path's limits and pass-through, against a stand-in runner that can hold requests. */
class RequestPathLimitsTest {
  private static final String V2_BODY = HeldUpstream.V2_BODY;
  private HeldUpstream upstream;
  private Sidecar sidecar;
  private Http http;

  @BeforeEach
  void start() {
    upstream = new HeldUpstream();
    sidecar = upstream.sidecar(SidecarConfig.forRunner(upstream.port(), "m").withLimits(4096, 400, 2)
        .withForwardHeaders(List.of("x-tenant")));
    http = new Http(sidecar.port());
  }

  @AfterEach
  void stop() {
    sidecar.close();
    upstream.close();
  }

  @Test
  void traceContextRequestIdAndCustomMetadataReachTheRunnerWithTheDeadline() {
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      GrpcCalls.Outcome<ModelInferResponse> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 300,
          "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-request-id", "abc",
          "x-tenant", "blue");
      assertThat(o.status()).isEqualTo(GrpcStatus.OK);
      assertThat(upstream.inferHeaders.get(0).get("traceparent"))
          .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
      assertThat(upstream.inferHeaders.get(0).get("x-request-id")).isEqualTo("abc");
      assertThat(upstream.inferHeaders.get(0).get("x-tenant")).isEqualTo("blue");
      assertThat(upstream.inferTimeouts.get(0)).isBetween(1L, 300L);
    }
    Http.Reply rest = http.post("/v2/models/m/infer", "application/json", V2_BODY, "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assertThat(rest.status()).isEqualTo(200);
    assertThat(rest.header("x-request-id")).isNotBlank();
    assertThat(upstream.inferHeaders.get(1).get("traceparent"))
        .isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assertThat(upstream.inferHeaders.get(1).get("x-request-id")).isEqualTo(rest.header("x-request-id"));
    Http.Reply echoed = http.post("/v2/models/m/infer", "application/json", V2_BODY, "x-request-id", "mine-1");
    assertThat(echoed.header("x-request-id")).isEqualTo("mine-1");
  }

  @Test
  void beyondMaxInFlightRequestsAreRefusedAtOnceAndTheSidecarStaysHealthy() throws Exception {
    upstream.hold = true;
    List<CompletableFuture<Http.Reply>> held = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      held.add(CompletableFuture.supplyAsync(() -> http.postJson("/v2/models/m/infer", V2_BODY)));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.path().inFlight() == 2);
    Http.Reply refused = http.postJson("/v2/models/m/infer", V2_BODY);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.json().getString("error")).contains("too many requests in flight (limit 2)");
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      GrpcCalls.Outcome<?> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 0);
      assertThat(o.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    }
    assertThat(http.get("/livez").status()).isEqualTo(200);
    // the held ones end with the request timeout (400 ms here): 504, nothing hangs
    for (CompletableFuture<Http.Reply> f : held) {
      Http.Reply r = f.get(30, TimeUnit.SECONDS);
      assertThat(r.status()).isEqualTo(504);
      assertThat(r.json().getString("error")).contains("did not answer within 400 ms");
    }
    upstream.hold = false;
    assertThat(http.postJson("/v2/models/m/infer", V2_BODY).status()).isEqualTo(200);
  }

  @Test
  void aTimeoutIsAnsweredWithDeadlineExceededInEachProtocol() {
    upstream.hold = true;
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      GrpcCalls.Outcome<?> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(), 0);
      assertThat(o.status()).isEqualTo(GrpcStatus.DEADLINE_EXCEEDED);
    }
    Http.Reply mlflow = http.postJson("/invocations", "{\"inputs\": [[1]]}");
    assertThat(mlflow.status()).isEqualTo(504);
    assertThat(mlflow.json().getString("error_code")).isEqualTo("DEADLINE_EXCEEDED");
  }

  @Test
  void anOversizedBodyIsRefusedWith413InTheProtocolsShape() {
    String big = "{\"inputs\": [[" + "1,".repeat(3000) + "1]]}";
    Http.Reply v2 = http.postJson("/v2/models/m/infer", big);
    assertThat(v2.status()).isEqualTo(413);
    assertThat(v2.json().getString("error")).contains("larger than");
    Http.Reply mlflow = http.postJson("/invocations", big);
    assertThat(mlflow.status()).isEqualTo(413);
    assertThat(mlflow.json().getString("error_code")).isEqualTo("BAD_REQUEST");
    Http.Reply seldon = http.postJson("/api/v1.0/predictions", big);
    assertThat(seldon.status()).isEqualTo(413);
    assertThat(seldon.json().getJsonObject("status").getInteger("code")).isEqualTo(413);
    Http.Reply kserve = http.postJson("/v1/models/m:predict", big);
    assertThat(kserve.status()).isEqualTo(413);
    assertThat(kserve.json().getString("error")).contains("larger than");
    try (GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      InferTensorContents.Builder many = InferTensorContents.newBuilder();
      for (int i = 0; i < 3000; i++) {
        many.addFp32Contents(i);
      }
      ModelInferRequest huge = request().toBuilder().setInputs(0, request().getInputs(0).toBuilder()
          .clearShape().addShape(3000).addShape(1).setContents(many)).build();
      GrpcCalls.Outcome<?> o = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, huge, 0);
      assertThat(o.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    }
    assertThat(upstream.inferHeaders).isEmpty();
  }
}
