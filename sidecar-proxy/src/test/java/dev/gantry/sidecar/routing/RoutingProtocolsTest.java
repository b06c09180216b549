package dev.gantry.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One sidecar (clustering off: local state) with endpoints declared in its configuration, in front of its own runner
 * and a second runner standing for another Deployment (a remote upstream): every protocol is routed the same way and
 * says which variant answered, the metrics count each variant, and a remote upstream that goes away is a fast 503
 * naming it, counted, that leaves the pod ready.
 */
class RoutingProtocolsTest {
  static final double V1_CHURN = 0.3994646966457367;
  static final double V2_CHURN = 0.6021943092346191;
  static final String RECORD = "{\"tenure\": 24, \"monthly_charges\": 90, \"total_charges\": 2160, \"contract_type\":"
      + " \"One year\", \"payment_method\": \"Bank transfer (automatic)\"}";
  static ModelRunner local;
  static ModelRunner remote;
  static Sidecar sidecar;
  static Http http;
  static GrpcCalls grpc;

  @BeforeAll
  static void start() {
    local = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    remote = ModelRunner.start(RunnerOptions.forRepository(Stack.examples()));
    EndpointSpecParser parser = new EndpointSpecParser();
    EndpointSpec churn = parser.json(Specs.churn(90, 10).replace("stable", "champion").replace("canary", "challenger"));
    EndpointSpec split = parser.yaml("""
        name: split
        sticky_key: {cookie: uid}
        variants:
          - {name: here, model: customer-churn, version: "1", weight: 50}
          - {name: there, model: customer-churn, version: "2", upstream: "127.0.0.1:%d", weight: 50}
        """.formatted(remote.grpcPort()));
    sidecar = Sidecar.start(SidecarConfig.forRunner(local.grpcPort(), "churn").withAdmin(Optional.empty(),
        List.of(churn, split)));
    org.awaitility.Awaitility.await().until(() -> sidecar.health().ready());
    http = new Http(sidecar.port());
    grpc = new GrpcCalls(sidecar.port());
  }

  @AfterAll
  static void stop() {
    grpc.close();
    sidecar.close();
    local.close();
    if (remote != null) {
      remote.close();
    }
  }

  @Test
  void everyProtocolIsRoutedAndNamesTheVariantThatAnswered() {
    String[] pin = {"x-gantry-variant", "challenger"};
    Http.Reply v2 = http.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(), pin);
    assertThat(v2.status()).as(v2.body()).isEqualTo(200);
    assertThat(v2.header("x-gantry-variant")).isEqualTo("challenger");
    assertThat(v2.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(1))
        .isCloseTo(V2_CHURN, within(1e-5));

    // /invocations names no model: the default model, here the endpoint
    Http.Reply mlflow = http.post("/invocations", "application/json", "{\"dataframe_records\": [" + RECORD + "]}",
        pin);
    assertThat(mlflow.status()).as(mlflow.body()).isEqualTo(200);
    assertThat(mlflow.header("x-gantry-variant")).isEqualTo("challenger");
    assertThat(mlflow.json().getJsonArray("predictions").getJsonArray(0).getDouble(1)).isCloseTo(V2_CHURN,
        within(1e-5));

    Http.Reply kserve = http.post("/v1/models/churn:predict", "application/json", "{\"instances\": [" + RECORD + "]}",
        pin);
    assertThat(kserve.status()).as(kserve.body()).isEqualTo(200);
    assertThat(kserve.header("x-gantry-variant")).isEqualTo("challenger");
    assertThat(kserve.json().getJsonArray("predictions").getJsonArray(0).getDouble(1)).isCloseTo(V2_CHURN,
        within(1e-5));

    String seldonBody = "{\"data\": {\"names\": [\"tenure\", \"monthly_charges\", \"total_charges\", \"contract_type\","
        + " \"payment_method\"], \"ndarray\": [[24, 90, 2160, \"One year\", \"Bank transfer (automatic)\"]]}}";
    Http.Reply seldon = http.post("/seldon/default/churn/api/v1.0/predictions", "application/json", seldonBody, pin);
    assertThat(seldon.status()).as(seldon.body()).isEqualTo(200);
    assertThat(seldon.header("x-gantry-variant")).isEqualTo("challenger");
    // Seldon's meta.routing: the router (endpoint) to the index of the child (variant) it chose
    assertThat(seldon.json().getJsonObject("meta").getJsonObject("routing").getInteger("churn")).isEqualTo(1);
    Http.Reply seldonDefault = http.post("/api/v1.0/predictions", "application/json", seldonBody, "x-gantry-variant",
        "champion");
    assertThat(seldonDefault.json().getJsonObject("meta").getJsonObject("routing").getInteger("churn")).isZero();
    assertThat(seldonDefault.json().getJsonObject("data").getJsonArray("ndarray").getJsonArray(0).getDouble(1))
        .isCloseTo(V1_CHURN, within(1e-5));

    GrpcCalls.Outcome<ModelInferResponse> call = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, grpcRow("churn"),
        0, pin);
    assertThat(call.status()).as(call.message()).isEqualTo(GrpcStatus.OK);
    assertThat(call.headers()).containsEntry("x-gantry-variant", "challenger");
    assertThat(call.value().getModelVersion()).isEqualTo("2");
    assertThat(churnProbability(call.value())).isCloseTo(V2_CHURN, within(1e-5));
  }

  @Test
  void aStickyKeyPicksTheSameVariantInEveryProtocol() {
    for (int i = 0; i < 40; i++) {
      String key = "customer-" + i;
      String expected = StickyHash.bucket("churn", key) >= 9000 ? "challenger" : "champion";
      assertThat(http.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(), "x-user-id", key)
          .header("x-gantry-variant")).isEqualTo(expected);
      assertThat(http.post("/invocations", "application/json", "{\"dataframe_records\": [" + RECORD + "]}",
          "x-user-id", key).header("x-gantry-variant")).isEqualTo(expected);
      assertThat(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, grpcRow("churn"), 0, "x-user-id", key)
          .headers()).containsEntry("x-gantry-variant", expected);
    }
  }

  @Test
  void badRoutingInputIsA400NamingWhatWasWrong() {
    Http.Reply unknown = http.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(),
        "x-gantry-variant", "nobody");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.json().getString("error")).contains("no variant 'nobody'", "champion, challenger");
    Http.Reply mlflow = http.post("/invocations", "application/json", "{\"dataframe_records\": [" + RECORD + "]}",
        "x-gantry-variant", "nobody");
    assertThat(mlflow.status()).isEqualTo(400);
    assertThat(mlflow.json().getString("error_code")).isEqualTo("BAD_REQUEST");
    Http.Reply version = http.post("/v2/models/churn/versions/1/infer", "application/json", Specs.disputedRow());
    assertThat(version.status()).isEqualTo(400);
    assertThat(version.json().getString("error")).contains("'churn' is an endpoint");
    GrpcCalls.Outcome<ModelInferResponse> call = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, grpcRow("churn"),
        0, "x-gantry-variant", "nobody");
    assertThat(call.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(call.message()).contains("no variant 'nobody'");
    // an endpoint that does not allow overrides ignores the header, so no client can take itself out of a split
    assertThat(http.post("/v2/models/split/infer", "application/json", Specs.disputedRow(), "x-gantry-variant",
        "nobody").status()).isEqualTo(200);
  }

  @Test
  void metricsCountEachVariantAsItsClientsSawIt() {
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < 200; i++) {
      Http.Reply r = http.post("/v2/models/churn/infer", "application/json", Specs.disputedRow(), "x-user-id",
          "metrics-" + i);
      assertThat(r.status()).isEqualTo(200);
      seen.merge(r.header("x-gantry-variant"), 1, Integer::sum);
    }
    String text = http.get("/metrics").body();
    assertThat(value(text, "model_predictions_total{model=\"churn\",protocol=\"v2\",variant=\"champion\","
        + "version=\"1\"}")).isGreaterThanOrEqualTo(seen.get("champion"));
    assertThat(value(text, "model_predictions_total{model=\"churn\",protocol=\"v2\",variant=\"challenger\","
        + "version=\"2\"}")).isGreaterThanOrEqualTo(seen.getOrDefault("challenger", 0));
    assertThat(text).doesNotContain("variant=\"nobody\"");
  }

  @Test
  void aRemoteUpstreamServesItsVariantAndItsOutageIsAFast503NamingIt() {
    String here = keyFor("here");
    String there = keyFor("there");
    Http.Reply fromRemote = http.post("/v2/models/split/infer", "application/json", Specs.disputedRow(), "cookie",
        "session=1; uid=" + there);
    assertThat(fromRemote.status()).as(fromRemote.body()).isEqualTo(200);
    assertThat(fromRemote.header("x-gantry-variant")).isEqualTo("there");
    assertThat(fromRemote.json().getString("model_version")).isEqualTo("2");

    remote.close();
    remote = null;
    String before = http.get("/metrics").body();
    double errorsBefore = valueOrZero(before, "model_prediction_errors_total{error_type=\"unavailable\","
        + "model=\"split\",protocol=\"v2\",variant=\"there\",version=\"\"}");
    long start = System.nanoTime();
    Http.Reply down = http.post("/v2/models/split/infer", "application/json", Specs.disputedRow(), "cookie", "uid="
        + there);
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(down.status()).as(down.body()).isEqualTo(503);
    assertThat(down.header("x-gantry-variant")).isEqualTo("there");
    assertThat(down.json().getString("error")).contains("upstream at 127.0.0.1:", "unreachable");
    // refused connections fail at once, long before the 30 s request timeout
    assertThat(tookMs).isLessThan(10_000);
    assertThat(valueOrZero(http.get("/metrics").body(), "model_prediction_errors_total{error_type=\"unavailable\","
        + "model=\"split\",protocol=\"v2\",variant=\"there\",version=\"\"}")).isEqualTo(errorsBefore + 1);
    // the other variant, on the pod's own runner, goes on; the pod stays ready
    assertThat(http.post("/v2/models/split/infer", "application/json", Specs.disputedRow(), "cookie", "uid=" + here)
        .status()).isEqualTo(200);
    assertThat(sidecar.health().ready()).isTrue();
    assertThat(http.get("/readyz").status()).isEqualTo(200);
  }

  private static String keyFor(String variant) {
    for (int i = 0; ; i++) {
      int bucket = StickyHash.bucket("split", "k" + i);
      if ((bucket < 5000) == variant.equals("here")) {
        return "k" + i;
      }
    }
  }

  static ModelInferRequest grpcRow(String model) {
    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model);
    String[] numeric = {"tenure", "monthly_charges", "total_charges"};
    float[] values = {24, 90, 2160};
    for (int i = 0; i < 3; i++) {
      b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(numeric[i]).setDatatype("FP32")
          .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder().addFp32Contents(values[i])));
    }
    b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("contract_type").setDatatype("BYTES")
        .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder()
            .addBytesContents(ByteString.copyFromUtf8("One year"))));
    b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("payment_method").setDatatype("BYTES")
        .addShape(1).addShape(1).setContents(InferTensorContents.newBuilder()
            .addBytesContents(ByteString.copyFromUtf8("Bank transfer (automatic)"))));
    return b.build();
  }

  static double churnProbability(ModelInferResponse r) {
    if (r.getOutputs(0).hasContents() && r.getOutputs(0).getContents().getFp32ContentsCount() > 0) {
      return r.getOutputs(0).getContents().getFp32Contents(1);
    }
    return ByteBuffer.wrap(r.getRawOutputContents(0).toByteArray()).order(ByteOrder.LITTLE_ENDIAN).getFloat(4);
  }

  static double value(String text, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(text);
    assertThat(m.find()).as("series %s in %s", series, text.lines().filter(l -> l.startsWith("model_")).toList())
        .isTrue();
    return Double.parseDouble(m.group(1));
  }

  static double valueOrZero(String text, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  @Test
  void anEndpointIsDescribedByItsWidestVariantUnderItsOwnName() {
    Http.Reply meta = http.get("/v2/models/churn");
    assertThat(meta.status()).as(meta.body()).isEqualTo(200);
    assertThat(meta.json().getString("name")).isEqualTo("churn");
    assertThat(meta.json().getJsonArray("inputs")).hasSize(5);
    assertThat(http.get("/v2/models/churn/ready").json().getBoolean("ready")).isTrue();
    assertThat(http.get("/v1/models/churn").json().getBoolean("ready")).isTrue();
    var grpcMeta = grpc.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        dev.gantry.proto.inference.ModelMetadataRequest.newBuilder().setName("churn").build(), 0);
    assertThat(grpcMeta.status()).isEqualTo(GrpcStatus.OK);
    assertThat(grpcMeta.value().getName()).isEqualTo("churn");
    assertThat(grpcMeta.value().getVersionsList()).contains("1");
  }

  @Test
  void aRemoteUpstreamMayBeAnotherSidecar() {
    // a second sidecar in front of this one's runner stands for another Deployment's Service
    try (Sidecar other = Sidecar.start(SidecarConfig.forRunner(local.grpcPort(), null))) {
      org.awaitility.Awaitility.await().until(() -> other.health().ready());
      Http admin = new Http(sidecar.adminPort());
      Http.Reply applied = admin.request("PUT", "/admin/v1/endpoints/via-sidecar", "application/json", """
          {"variants": [{"name": "elsewhere", "model": "customer-churn", "version": "2",
                         "upstream": "127.0.0.1:%d", "weight": 100}]}""".formatted(other.port()));
      assertThat(applied.status()).as(applied.body()).isEqualTo(201);
      Http.Reply r = http.post("/v2/models/via-sidecar/infer", "application/json", Specs.disputedRow());
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.header("x-gantry-variant")).isEqualTo("elsewhere");
      assertThat(r.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(1))
          .isCloseTo(V2_CHURN, within(1e-5));
      assertThat(admin.request("DELETE", "/admin/v1/endpoints/via-sidecar", null, null).status()).isEqualTo(200);
    }
  }
}
