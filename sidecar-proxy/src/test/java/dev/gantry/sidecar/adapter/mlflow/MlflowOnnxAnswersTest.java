package dev.gantry.sidecar.adapter.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MLflow {@code /invocations} answers for MLflow ONNX models as MLflow's scoring server gives them. Its ONNX flavor's
 * pyfunc answers a DataFrame (dataframe_split, dataframe_records, CSV) with a DataFrame, one column per output, a
 * {@code [N, 1]} output flattened to one value a row: {@code {"predictions": [{"variable": 212.7}]}}; and tensor
 * input ({@code instances}, {@code inputs}) with a dict of arrays by output name:
 * {@code {"predictions": {"variable": [[212.7]]}}}. Checked on a LinearRegression logged without a signature and on
 * a random forest with a ZipMap output, against scikit-learn's own predictions.
 */
class MlflowOnnxAnswersTest {
  static ModelRunner runner;
  static Sidecar linreg;
  static Sidecar forest;

  static Path models() {
    return Stack.examples().getParent().resolve("mlflow-models");
  }

  static JsonObject reference(String model) throws Exception {
    return new JsonObject(Files.readString(models().resolve(model).resolve("reference.json")));
  }

  @BeforeAll
  static void start() {
    runner = ModelRunner.start(RunnerOptions.forRepository(models(), "sklearn-linreg-nosig",
        "sklearn-iris-forest"));
    linreg = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "sklearn-linreg-nosig"));
    forest = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "sklearn-iris-forest"));
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> linreg.health().ready() && forest.health().ready());
  }

  @AfterAll
  static void stop() {
    forest.close();
    linreg.close();
    runner.close();
  }

  @Test
  void aDataFrameIsAnsweredWithOneRecordPerRowAndATensorWithArraysByOutputName() throws Exception {
    JsonObject ref = reference("sklearn-linreg-nosig");
    JsonArray rows = ref.getJsonArray("inputs");
    JsonArray want = ref.getJsonArray("predictions");
    Http http = new Http(linreg.port());
    for (String body : new String[] {
        new JsonObject().put("dataframe_split", new JsonObject().put("data", rows)).encode(),
        new JsonObject().put("dataframe_split", new JsonObject().put("columns", new JsonArray().add("input"))
            .put("data", new JsonArray(rows.stream().map(r -> new JsonArray().add(r)).toList()))).encode()}) {
      Http.Reply r = http.postJson("/invocations", body);
      if (body.contains("\"columns\"")) {
        // one column holding whole rows is not how this model's input can be filled: a clear 400
        assertThat(r.status()).isEqualTo(400);
        continue;
      }
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      JsonArray records = r.json().getJsonArray("predictions");
      assertThat(records).hasSize(want.size());
      for (int i = 0; i < want.size(); i++) {
        JsonObject record = records.getJsonObject(i);
        assertThat(record.fieldNames()).containsExactly("variable");
        assertThat(record.getDouble("variable")).as("row %d", i).isCloseTo(want.getDouble(i), within(1e-3));
      }
    }
    for (String key : new String[] {"instances", "inputs"}) {
      Http.Reply r = http.postJson("/invocations", new JsonObject().put(key, rows).encode());
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      JsonArray column = r.json().getJsonObject("predictions").getJsonArray("variable");
      assertThat(column).hasSize(want.size());
      for (int i = 0; i < want.size(); i++) {
        assertThat(column.getJsonArray(i).getDouble(0)).as("%s row %d", key, i).isCloseTo(want.getDouble(i),
            within(1e-3));
      }
    }
  }

  @Test
  void aZipMapModelGivenTensorsAnswersArraysByOutputName() throws Exception {
    JsonObject ref = reference("sklearn-iris-forest");
    Http.Reply r = new Http(forest.port()).postJson("/invocations", new JsonObject()
        .put("instances", ref.getJsonArray("inputs")).encode());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonObject byName = r.json().getJsonObject("predictions");
    assertThat(byName.fieldNames()).containsExactlyInAnyOrder("output_label", "output_probability");
    JsonArray labels = byName.getJsonArray("output_label");
    JsonArray probabilities = byName.getJsonArray("output_probability");
    for (int i = 0; i < labels.size(); i++) {
      assertThat(labels.getValue(i)).isEqualTo(ref.getJsonArray("labels").getValue(i));
      assertThat(probabilities.getJsonObject(i).getDouble("virginica")).isCloseTo(ref.getJsonArray("probabilities")
          .getJsonArray(i).getDouble(2), within(1e-5));
    }
  }
}
