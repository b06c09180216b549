package dev.gantry.sidecar.measure;

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
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The error counter tells the truth: for every kind of failure, through every protocol, and
 * through a runner outage, the sidecar's {@code model_prediction_errors_total} equals the non-2xx
 * answers the clients received, and {@code model_predictions_total} the 2xx ones.
 */
class MetricsTruthTest {
  private static final String V2 =
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}";
  private static final String ROWS = "{\"instances\": [[12, 70.35, 844.2]]}";
  private static final String TOO_BIG = "{\"inputs\": [[" + "1,".repeat(40_000) + "1]]}";

  /** One REST request: path, content type (null for none), body. */
  private record Rest(String protocol, String path, String contentType, String body) {}

  private static final List<Rest> REST = List.of(
      new Rest("v2", "/v2/models/churn-torchscript/infer", "application/json", V2),
      new Rest("v2", "/v2/models/churn-torchscript/infer", "application/json", "{\"inputs\": [{"),
      new Rest("v2", "/v2/models/churn-torchscript/infer", "text/plain", V2),
      new Rest("v2", "/v2/models/churn-torchscript/infer", "application/json", ""),
      new Rest("v2", "/v2/models/ghost/infer", "application/json", V2),
      new Rest("v2", "/v2/models/churn-torchscript/versions/9/infer", "application/json", V2),
      new Rest("v2", "/v2/models/churn-torchscript/infer", "application/json", V2.replace("[1,3]", "[1,4]")),
      new Rest("v2", "/v2/models/churn-torchscript/infer", "application/json", TOO_BIG),
      new Rest("mlflow", "/invocations", "application/json", "{\"inputs\": [[12, 70.35, 844.2]]}"),
      new Rest("mlflow", "/invocations", "application/json", "not json"),
      new Rest("mlflow", "/invocations", "application/xml", "<a/>"),
      new Rest("mlflow", "/invocations", "application/json; charset=latin-1", "{\"inputs\": [[1, 2, 3]]}"),
      new Rest("mlflow", "/invocations", "application/json", "{\"inputs\": [[1, 2]]}"),
      new Rest("mlflow", "/invocations", "text/csv", "a,b\n1\n"),
      new Rest("mlflow", "/invocations", "application/json", TOO_BIG),
      new Rest("kserve-v1", "/v1/models/churn-torchscript:predict", "application/json", ROWS),
      new Rest("kserve-v1", "/v1/models/churn-torchscript:predict", "application/json", "{"),
      new Rest("kserve-v1", "/v1/models/ghost:predict", "application/json", ROWS),
      new Rest("kserve-v1", "/v1/models/churn-torchscript:predict", "application/json", "{\"instances\": []}"),
      new Rest("kserve-v1", "/v1/models/churn-torchscript:predict", "application/json", TOO_BIG),
      new Rest("seldon", "/api/v1.0/predictions", "application/json", "{\"data\": {\"ndarray\": [[12, 70.35, 844.2]]}}"),
      new Rest("seldon", "/api/v1.0/predictions", "application/json", "[1, 2"),
      new Rest("seldon", "/seldon/ns/ghost/api/v1.0/predictions", "application/json",
          "{\"data\": {\"ndarray\": [[1, 2, 3]]}}"),
      new Rest("seldon", "/api/v1.0/predictions", "application/json",
          "{\"data\":{\"tensor\":{\"shape\":[1000000,1000000,0],\"values\":[]}}}"),
      new Rest("seldon", "/api/v1.0/predictions", "application/json", TOO_BIG));

  private static ModelInferRequest grpcRequest(String model, int width) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int i = 0; i < width; i++) {
      c.addFp32Contents(i);
    }
    return ModelInferRequest.newBuilder().setModelName(model).addInputs(ModelInferRequest.InferInputTensor
        .newBuilder().setName("input").setDatatype("FP32").addShape(1).addShape(width).setContents(c)).build();
  }

  /** Client-side tally per protocol: answers with a 2xx (or gRPC OK) and the others. */
  private final Map<String, int[]> seen = new TreeMap<>();

  private void tally(String protocol, boolean ok) {
    seen.computeIfAbsent(protocol, p -> new int[2])[ok ? 0 : 1]++;
  }

  private static double sum(String metrics, String name, String protocol) {
    Matcher m = Pattern.compile("^" + name + "\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(metrics);
    double total = 0;
    while (m.find()) {
      if (m.group(1).contains("protocol=\"" + protocol + "\"")) {
        total += Double.parseDouble(m.group(2));
      }
    }
    return total;
  }

  /** An undecodable gRPC message (a framed body that is not protobuf), sent over raw HTTP/2. */
  private static int garbageGrpc(Vertx vertx, int port) {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false));
    try {
      Buffer frame = Buffer.buffer().appendByte((byte) 0).appendInt(6).appendBytes(new byte[] {(byte) 0xff, 1, 2, 3,
          (byte) 0xfe, 9});
      return client.request(HttpMethod.POST, port, "127.0.0.1", "/inference.GRPCInferenceService/ModelInfer")
          .compose(req -> {
            req.putHeader("content-type", "application/grpc").putHeader("te", "trailers");
            return req.send(frame);
          })
          .compose(resp -> resp.body().map(b -> {
            MultiMap trailers = resp.trailers();
            String status = trailers.get("grpc-status") != null ? trailers.get("grpc-status")
                : resp.headers().get("grpc-status");
            return status == null ? -1 : Integer.parseInt(status);
          }))
          .await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      client.close();
    }
  }

  @Test
  void theErrorCounterEqualsTheNon2xxAnswersClientsReceivedInEveryProtocol() throws Exception {
    int runnerPort = JavaProcess.freePort();
    JavaProcess runner = JavaProcess.runner(runnerPort, "--models", "churn-torchscript");
    Vertx vertx = Vertx.vertx();
    try (Sidecar sidecar = Sidecar.start(SidecarConfig.forRunner(runnerPort, "churn-torchscript")
        .withLimits(64 << 10, 5000, 1024)); GrpcCalls grpc = new GrpcCalls(sidecar.port())) {
      Http http = new Http(sidecar.port());
      await().atMost(Duration.ofSeconds(30)).until(() -> sidecar.health().ready()
          && sidecar.health().models().contains("churn-torchscript"));
      for (int round = 0; round < 2; round++) {
        for (Rest r : REST) {
          int status = http.post(r.path(), r.contentType(), r.body()).status();
          tally(r.protocol(), status >= 200 && status < 300);
        }
        for (ModelInferRequest req : List.of(grpcRequest("churn-torchscript", 3), grpcRequest("ghost", 3),
            grpcRequest("churn-torchscript", 4), grpcRequest("churn-torchscript", 20_000))) {
          tally("grpc", grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, req, 0).status() == GrpcStatus.OK);
        }
        int garbage = garbageGrpc(vertx, sidecar.port());
        assertThat(garbage).as("an undecodable message gets INVALID_ARGUMENT").isEqualTo(3);
        tally("grpc", false);
      }
      assertThat(seen.values()).allSatisfy(t -> assertThat(t[0]).as("some successes").isPositive());

      // an outage: every answer is a 503 / UNAVAILABLE, and every one is counted
      runner.kill();
      for (int i = 0; i < 5; i++) {
        // the first request of each protocol is the good one
        for (Rest r : List.of(REST.get(0), REST.get(8), REST.get(15), REST.get(20))) {
          assertThat(http.post(r.path(), r.contentType(), r.body()).status()).isEqualTo(503);
          tally(r.protocol(), false);
        }
        assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, grpcRequest("churn-torchscript", 3), 0)
            .status()).isEqualTo(GrpcStatus.UNAVAILABLE);
        tally("grpc", false);
      }

      String metrics = http.get("/metrics").body();
      for (Map.Entry<String, int[]> e : seen.entrySet()) {
        assertThat(sum(metrics, "model_predictions_total", e.getKey()))
            .as("%s successes counted", e.getKey()).isEqualTo(e.getValue()[0]);
        assertThat(sum(metrics, "model_prediction_errors_total", e.getKey()))
            .as("%s failures counted", e.getKey()).isEqualTo(e.getValue()[1]);
      }
    } finally {
      runner.close();
      vertx.close().await();
    }
  }
}
