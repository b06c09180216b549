package dev.gantry.sidecar.adapter.seldon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gantry.sidecar.Http.Reply;
import dev.gantry.sidecar.StackExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Seldon's {@code data.tensor}: the declared shape is checked before anything is built from it. */
class SeldonTensorShapeTest {
  private static final String PATH = "/seldon/default/churn-torchscript/api/v1.0/predictions";
  @RegisterExtension
  static final StackExtension stack = new StackExtension("churn-onnx");

  private static String info(Reply r) {
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    JsonObject status = r.json().getJsonObject("status");
    assertThat(status.getString("reason")).isEqualTo("MICROSERVICE_BAD_DATA");
    return status.getString("info");
  }

  @Test
  void aZeroDimensionWithHugeOthersIsRefusedWithoutBuildingEmptyArrays() {
    String body = "{\"data\":{\"tensor\":{\"shape\":[1000000,1000000,0],\"values\":[]}}}";
    assertThat(info(stack.http().postJson(PATH, body))).contains("[1000000, 1000000, 0]", "holds no values");
    assertThat(info(stack.http().postJson("/api/v1.0/predictions", body))).contains("holds no values");
    assertThat(stack.http().get("/livez").status()).isEqualTo(200);
  }

  @Test
  void aShapeWhoseProductOverflowsIsRefused() {
    Reply r = stack.http().postJson(PATH, "{\"data\":{\"tensor\":{\"shape\":[4294967296,4294967296],\"values\":[1]}}}");
    assertThat(info(r)).contains("multiply past");
  }

  @Test
  void dimensionsThatAreNotSizesAreRefusedByPosition() {
    assertThat(info(stack.http().postJson(PATH, "{\"data\":{\"tensor\":{\"shape\":[1,-3],\"values\":[]}}}")))
        .contains("'data.tensor.shape' dimension 1 is -3");
    assertThat(info(stack.http().postJson(PATH, "{\"data\":{\"tensor\":{\"shape\":[1,2.5],\"values\":[1,2]}}}")))
        .contains("dimension 1 is 2.5");
    assertThat(info(stack.http().postJson(PATH,
        "{\"data\":{\"tensor\":{\"shape\":[18446744073709551617,1],\"values\":[1]}}}"))).contains("too large");
  }

  @Test
  void nestedValuesAreRefusedSinceTheShapeNestsThem() {
    assertThat(info(stack.http().postJson(PATH, "{\"data\":{\"tensor\":{\"shape\":[1,1],\"values\":[[1,2,3]]}}}")))
        .contains("'data.tensor.values' element 0");
  }
}
