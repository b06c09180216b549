package dev.gantry.sidecar.adapter.kserve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.sidecar.Http.Reply;
import dev.gantry.sidecar.StackExtension;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** KServe v1 (TF Serving REST form) against a real runner. */
class KServeV1AdapterTest {
  @RegisterExtension
  static final StackExtension stack = new StackExtension(null);



  @Test
  void predictsForEachInstance() {
    Reply r = stack.http().postJson("/v1/models/churn-torchscript:predict",
        "{\"instances\": [[12, 70.35, 844.2], [60, 25.1, 1506]]}");
    assertThat(r.status()).isEqualTo(200);
    JsonArray p = r.json().getJsonArray("predictions");
    assertThat(p.getJsonArray(0).getDouble(1)).isCloseTo(0.6173408627510071, within(1e-5));
    assertThat(p.getJsonArray(1).getDouble(0)).isCloseTo(0.8796080350875854, within(1e-5));
    Reply inputs = stack.http().postJson("/v1/models/churn-torchscript:predict", "{\"inputs\": [[12, 70.35, 844.2]]}");
    assertThat(inputs.json().getJsonArray("predictions").getJsonArray(0).getDouble(1))
        .isCloseTo(0.6173408627510071, within(1e-5));
  }

  @Test
  void namedInstancesFeedAModelWithNamedInputs() {
    Reply r = stack.http().postJson("/v1/models/churn-onnx:predict", "{\"instances\": [{\"tenure\": 12,"
        + " \"monthly_charges\": 70.35, \"total_charges\": 844.2, \"contract_type\": \"Month-to-month\","
        + " \"payment_method\": \"Electronic check\"}]}");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getJsonArray("predictions").getJsonArray(0).getDouble(1))
        .isCloseTo(0.9092077612876892, within(1e-5));
    Reply plainRows = stack.http().postJson("/v1/models/churn-onnx:predict",
        "{\"instances\": [[12, 70.35, 844.2, \"Month-to-month\", \"Electronic check\"]]}");
    assertThat(plainRows.json().getJsonArray("predictions").getJsonArray(0).getDouble(1))
        .isCloseTo(0.9092077612876892, within(1e-5));
  }

  @Test
  void modelStatusAndErrors() {
    Reply status = stack.http().get("/v1/models/churn-onnx");
    assertThat(status.json().getString("name")).isEqualTo("churn-onnx");
    assertThat(status.json().getBoolean("ready")).isTrue();
    Reply unknown = stack.http().postJson("/v1/models/nope:predict", "{\"instances\": [[1, 2, 3]]}");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).contains("unknown model 'nope'");
    Reply wrong = stack.http().postJson("/v1/models/churn-torchscript:predict", "{\"instances\": [[1, 2]]}");
    assertThat(wrong.status()).isEqualTo(400);
    assertThat(wrong.json().getString("error")).contains("expected shape [-1, 3]", "got [1, 2]");
    Reply neither = stack.http().postJson("/v1/models/churn-torchscript:predict", "{\"data\": [1]}");
    assertThat(neither.status()).isEqualTo(400);
    assertThat(neither.json().getString("error")).contains("exactly one of 'instances' or 'inputs'");
  }
}
