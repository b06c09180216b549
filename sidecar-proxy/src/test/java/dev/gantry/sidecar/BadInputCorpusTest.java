package dev.gantry.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input on every REST protocol: malformed JSON, wrong shapes and types, unknown models,
 * oversized bodies, wrong content types. Each gets a 4xx in its protocol's shape (never a 5xx),
 * and the sidecar keeps serving.
 */
class BadInputCorpusTest {
  @RegisterExtension
  static final StackExtension stack = new StackExtension("churn-onnx");
  private static final String BIG = "{\"x\": \"" + "a".repeat(11 << 20) + "\"}";



  static Stream<Arguments> corpus() {
    List<String[]> endpoints = List.of(
        new String[] {"/v2/models/churn-torchscript/infer", "v2"},
        new String[] {"/invocations", "mlflow"},
        new String[] {"/v1/models/churn-torchscript:predict", "kserve"},
        new String[] {"/seldon/default/churn-torchscript/api/v1.0/predictions", "seldon"});
    List<String[]> bodies = List.of(
        new String[] {"malformed JSON", "application/json", "{\"inputs\": [1, 2"},
        new String[] {"JSON that is not an object", "application/json", "[1, 2, 3]"},
        new String[] {"empty body", "application/json", ""},
        new String[] {"wrong content type", "application/x-www-form-urlencoded", "a=1"},
        new String[] {"wrong shape", "application/json", "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2],"
            + "\"datatype\":\"FP32\",\"data\":[1,2]}], \"instances\": [[1,2]], \"data\": {\"ndarray\": [[1,2]]}}"},
        new String[] {"strings for numbers", "application/json", "{\"instances\": [[\"a\",\"b\",\"c\"]]}"},
        new String[] {"nulls", "application/json", "{\"inputs\": null, \"data\": null}"},
        new String[] {"oversized body", "application/json", BIG});
    return endpoints.stream().flatMap(e -> bodies.stream().map(b -> Arguments.of(e[1] + ": " + b[0], e[0], b[1],
        b[2])));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void badInputGetsA4xxAndTheSidecarKeepsServing(String what, String path, String type, String body) {
    Http.Reply r = stack.http().post(path, type, body);
    assertThat(r.status()).as(what + ": " + r.body()).isBetween(400, 499);
    assertThat(r.body()).as(what).startsWith("{");
    assertThat(stack.http().get("/livez").status()).isEqualTo(200);
  }

  @ParameterizedTest(name = "unknown model on {0}")
  @MethodSource("unknownModel")
  void unknownModelsAre404(String path, String body) {
    assertThat(stack.http().postJson(path, body).status()).isEqualTo(404);
  }

  static Stream<Arguments> unknownModel() {
    return Stream.of(
        Arguments.of("/v2/models/ghost/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
            + "\"data\":[1]}]}"),
        Arguments.of("/v1/models/ghost:predict", "{\"instances\": [[1]]}"),
        Arguments.of("/seldon/default/ghost/api/v1.0/predictions", "{\"data\": {\"ndarray\": [[1]]}}"),
        Arguments.of("/v2/models/ghost/versions/3/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],"
            + "\"datatype\":\"FP32\",\"data\":[1]}]}"),
        Arguments.of("/no/such/endpoint", "{}"));
  }
}
