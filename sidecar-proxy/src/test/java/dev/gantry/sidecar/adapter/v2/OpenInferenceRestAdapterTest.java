package dev.gantry.sidecar.adapter.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.sidecar.Http.Reply;
import dev.gantry.sidecar.StackExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Open Inference v2 REST against a real runner on the example models. */
class OpenInferenceRestAdapterTest {
  @RegisterExtension
  static final StackExtension stack = new StackExtension("churn-onnx");



  private static final String ONNX_BODY = """
      {"id": "abc", "inputs": [
        {"name": "tenure", "shape": [2, 1], "datatype": "FP32", "data": [[12], [60]]},
        {"name": "monthly_charges", "shape": [2, 1], "datatype": "FP32", "data": [70.35, 25.1]},
        {"name": "total_charges", "shape": [2, 1], "datatype": "FP32", "data": [844.2, 1506.0]},
        {"name": "contract_type", "shape": [2, 1], "datatype": "BYTES", "data": ["Month-to-month", "Two year"]},
        {"name": "payment_method", "shape": [2, 1], "datatype": "BYTES",
         "data": ["Electronic check", "Credit card (automatic)"]}],
       "outputs": [{"name": "probabilities"}]}""";

  @Test
  void readinessOfAModelTheRunnerDoesNotKnowIs404AsInKServeAndMlServer() {
    Reply unknown = stack.http().get("/v2/models/ghost/ready");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).contains("ghost");
    assertThat(stack.http().get("/v2/models/churn-onnx/ready").status()).isEqualTo(200);
    assertThat(stack.http().get("/v2/models/churn-onnx/versions/7/ready").status()).isEqualTo(404);
  }

  @Test
  void infersWithJsonTensorsIncludingStrings() {
    Reply r = stack.http().postJson("/v2/models/churn-onnx/infer", ONNX_BODY);
    assertThat(r.status()).isEqualTo(200);
    JsonObject json = r.json();
    assertThat(json.getString("model_name")).isEqualTo("churn-onnx");
    assertThat(json.getString("model_version")).isEqualTo("1");
    assertThat(json.getString("id")).isEqualTo("abc");
    JsonObject out = json.getJsonArray("outputs").getJsonObject(0);
    assertThat(out.getString("name")).isEqualTo("probabilities");
    assertThat(out.getJsonArray("shape").getList()).containsExactly(2, 2);
    JsonArray data = out.getJsonArray("data");
    assertThat(data.getDouble(1)).isCloseTo(0.9092077612876892, within(1e-5));
    assertThat(data.getDouble(3)).isCloseTo(0.00828563142567873, within(1e-5));
  }

  @Test
  void versionedInferAndMetadataAndReadiness() {
    Reply r = stack.http().postJson("/v2/models/churn-torchscript/versions/1/infer",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[12,70.35,844.2]}]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getDouble(1))
        .isCloseTo(0.6173408627510071, within(1e-5));
    JsonObject meta = stack.http().get("/v2/models/churn-onnx").json();
    assertThat(meta.getString("platform")).isEqualTo("onnxruntime_onnx");
    assertThat(meta.getJsonArray("inputs").getJsonObject(3).getString("datatype")).isEqualTo("BYTES");
    assertThat(stack.http().get("/v2/models/churn-onnx/versions/1").status()).isEqualTo(200);
    assertThat(stack.http().get("/v2/models/churn-onnx/ready").json().getBoolean("ready")).isTrue();
    assertThat(stack.http().get("/v2/models/churn-onnx/versions/1/ready").status()).isEqualTo(200);
    assertThat(stack.http().get("/v2/health/live").status()).isEqualTo(200);
    assertThat(stack.http().get("/v2/health/ready").json().getBoolean("ready")).isTrue();
    assertThat(stack.http().get("/v2").json().getString("name")).isEqualTo("gantry");
  }

  @Test
  void errorsComeAsV2ErrorObjectsWithTheirStatus() {
    Reply unknown = stack.http().postJson("/v2/models/nope/infer",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).contains("unknown model 'nope'");

    Reply shape = stack.http().postJson("/v2/models/churn-torchscript/infer",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");
    assertThat(shape.status()).isEqualTo(400);
    assertThat(shape.json().getString("error")).contains("input 'input'", "expected shape [-1,3]", "got [1,4]");

    Reply type = stack.http().postJson("/v2/models/churn-torchscript/infer",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,\"two\",3]}]}");
    assertThat(type.status()).isEqualTo(400);
    assertThat(type.json().getString("error")).contains("input 'input'", "element 1", "expected a number");

    Reply malformed = stack.http().postJson("/v2/models/churn-torchscript/infer", "{\"inputs\": [");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.json().getString("error")).startsWith("malformed JSON");

    Reply ragged = stack.http().postJson("/v2/models/churn-torchscript/infer",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,3],\"datatype\":\"FP32\",\"data\":[[1,2,3],[4,5]]}]}");
    assertThat(ragged.status()).isEqualTo(400);
    assertThat(ragged.json().getString("error")).contains("ragged");

    Reply media = stack.http().post("/v2/models/churn-torchscript/infer", "text/plain", "hello");
    assertThat(media.status()).isEqualTo(415);
    assertThat(media.json().getString("error")).contains("content type 'text/plain'", "application/json");

    Reply missing = stack.http().get("/v2/models/nope");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json().getString("error")).contains("unknown model 'nope'");
  }
}
