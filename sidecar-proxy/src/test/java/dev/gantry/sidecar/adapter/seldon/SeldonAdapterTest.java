package dev.gantry.sidecar.adapter.seldon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.sidecar.Http.Reply;
import dev.gantry.sidecar.StackExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Seldon's prediction API against a real runner. */
class SeldonAdapterTest {
  @RegisterExtension
  static final StackExtension stack = new StackExtension("churn-onnx");



  @Test
  void theIssueNdarrayBodyWorksOnTheNumericModelsIngressPath() {
    Reply r = stack.http().postJson("/seldon/default/churn-torchscript/api/v1.0/predictions",
        "{\"data\": {\"ndarray\": [[12, 70.35, 844.20]]}}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonObject data = r.json().getJsonObject("data");
    assertThat(data.getJsonArray("names").getList()).containsExactly("t:0", "t:1");
    assertThat(data.getJsonArray("ndarray").getJsonArray(0).getDouble(1)).isCloseTo(0.6173408627510071, within(1e-5));
    assertThat(r.json().getJsonObject("meta").getJsonObject("requestPath").getString("churn-torchscript"))
        .isEqualTo("gantry:1");
  }

  @Test
  void tensorFormIsAnsweredInTensorForm() {
    Reply r = stack.http().postJson("/seldon/prod/churn-torchscript/api/v1.0/predictions",
        "{\"meta\": {\"puid\": \"p-1\"}, \"data\": {\"tensor\": {\"shape\": [2, 3], \"values\": [12, 70.35, 844.2, 60,"
            + " 25.1, 1506]}}}");
    assertThat(r.status()).isEqualTo(200);
    JsonObject tensor = r.json().getJsonObject("data").getJsonObject("tensor");
    assertThat(tensor.getJsonArray("shape").getList()).containsExactly(2, 2);
    assertThat(tensor.getJsonArray("values").getDouble(2)).isCloseTo(0.8796080350875854, within(1e-5));
    assertThat(r.json().getJsonObject("meta").getString("puid")).isEqualTo("p-1");
  }

  @Test
  void namedColumnsOnTheDefaultModelPath() {
    Reply r = stack.http().postJson("/api/v1.0/predictions", "{\"data\": {\"names\": [\"tenure\", \"monthly_charges\","
        + " \"total_charges\", \"contract_type\", \"payment_method\"], \"ndarray\": [[12, 70.35, 844.2,"
        + " \"Month-to-month\", \"Electronic check\"]]}}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getJsonObject("data").getJsonArray("ndarray").getJsonArray(0).getDouble(1))
        .isCloseTo(0.9092077612876892, within(1e-5));
  }

  @Test
  void errorsComeInSeldonsStatusShape() {
    Reply bad = stack.http().postJson("/seldon/default/churn-torchscript/api/v1.0/predictions",
        "{\"data\": {\"ndarray\": [[12, 70.35]]}}");
    assertThat(bad.status()).isEqualTo(400);
    JsonObject status = bad.json().getJsonObject("status");
    assertThat(status.getInteger("code")).isEqualTo(400);
    assertThat(status.getString("status")).isEqualTo("FAILURE");
    assertThat(status.getString("reason")).isEqualTo("MICROSERVICE_BAD_DATA");
    assertThat(status.getString("info")).contains("expected shape [-1, 3]");
    Reply str = stack.http().postJson("/api/v1.0/predictions", "{\"strData\": \"hello\"}");
    assertThat(str.status()).isEqualTo(400);
    assertThat(str.json().getJsonObject("status").getString("info")).contains("strData");
    Reply unknown = stack.http().postJson("/seldon/default/nope/api/v1.0/predictions",
        "{\"data\": {\"ndarray\": [[1]]}}");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getJsonObject("status").getString("info")).contains("unknown model 'nope'");
    Reply count = stack.http().postJson("/seldon/default/churn-torchscript/api/v1.0/predictions",
        "{\"data\": {\"tensor\": {\"shape\": [1, 3], \"values\": [1, 2]}}}");
    assertThat(count.json().getJsonObject("status").getString("info")).contains("(3 values) but 2 values");
  }
}
