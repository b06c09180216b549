package dev.gantry.sidecar.adapter.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gantry.proto.inference.InferParameter;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelInferResponse.InferOutputTensor;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelMetadataResponse.TensorMetadata;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerOptions;
import dev.gantry.sidecar.Http;
import dev.gantry.sidecar.Http.Reply;
import dev.gantry.sidecar.Sidecar;
import dev.gantry.sidecar.SidecarConfig;
import dev.gantry.sidecar.Stack;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * scikit-learn classifiers converted by skl2onnx (examples/mlflow-models) behind a real runner and
 * sidecar: MLflow and KServe v1 answer as MLflow's pyfunc does (records, the probabilities a
 * {class: probability} map per row), v2 answers tensors and publishes the classes, and every answer
 * matches scikit-learn's own (reference.json).
 */
class PyfuncOutputsTest {
  private static final List<String> MODELS = List.of("sklearn-logreg", "sklearn-iris-forest");
  private static ModelRunner runner;
  private static Sidecar logreg;
  private static Sidecar forest;

  @BeforeAll
  static void start() {
    runner = ModelRunner.start(RunnerOptions.forRepository(mlflowModels(), MODELS.toArray(String[]::new)));
    logreg = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "sklearn-logreg"));
    forest = Sidecar.start(SidecarConfig.forRunner(runner.grpcPort(), "sklearn-iris-forest"));
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> logreg.health().ready()
        && forest.health().ready() && logreg.health().models().size() == 2);
  }

  @AfterAll
  static void stop() {
    forest.close();
    logreg.close();
    runner.close();
  }

  private static Path mlflowModels() {
    return Stack.examples().getParent().resolve("mlflow-models");
  }

  private static JsonObject reference(String model) {
    try {
      return new JsonObject(Files.readString(mlflowModels().resolve(model).resolve("reference.json")));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Http mlflow(String model) {
    return new Http((model.equals("sklearn-logreg") ? logreg : forest).port());
  }

  /** MLflow's records: each row's label as scikit-learn predicted it and {class: probability} as it computed. */
  private static void assertRecordsMatch(String model, Reply r) {
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonObject ref = reference(model);
    JsonArray predictions = r.json().getJsonArray("predictions");
    assertThat(predictions).hasSize(ref.getJsonArray("inputs").size());
    for (int i = 0; i < predictions.size(); i++) {
      JsonObject row = predictions.getJsonObject(i);
      assertThat(row.fieldNames()).containsExactlyInAnyOrder("output_label", "output_probability");
      assertThat(row.getValue("output_label")).as("row %d", i).isEqualTo(ref.getJsonArray("labels").getValue(i));
      JsonObject proba = row.getJsonObject("output_probability");
      List<String> keys = ref.getJsonArray("classes").stream().map(String::valueOf).toList();
      assertThat(new ArrayList<>(proba.fieldNames())).as("row %d", i).containsExactlyElementsOf(keys);
      for (int c = 0; c < keys.size(); c++) {
        assertThat(proba.getDouble(keys.get(c))).as("row %d class %s", i, keys.get(c))
            .isCloseTo(ref.getJsonArray("probabilities").getJsonArray(i).getDouble(c), within(1e-5));
      }
    }
  }

  private static String dataframeSplit(JsonObject ref) {
    return new JsonObject().put("dataframe_split", new JsonObject().put("columns", ref.getJsonArray("columns"))
        .put("data", ref.getJsonArray("inputs"))).encode();
  }

  private static String csv(JsonObject ref) {
    StringBuilder sb = new StringBuilder(String.join(",", ref.getJsonArray("columns").stream().map(String::valueOf)
        .toList())).append('\n');
    for (Object row : ref.getJsonArray("inputs")) {
      sb.append(((JsonArray) row).stream().map(String::valueOf).collect(Collectors.joining(","))).append('\n');
    }
    return sb.toString();
  }

  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void mlflowAnswersDataframeSplitAsPyfuncRecordsWithScikitLearnsValues(String model) {
    assertRecordsMatch(model, mlflow(model).postJson("/invocations", dataframeSplit(reference(model))));
  }

  /** MLflow orders a DataFrame's columns by the signature before the model sees them; so must Gantry. */
  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void columnsSentInAnotherOrderAreStackedInTheSignaturesOrder(String model) {
    JsonObject ref = reference(model);
    JsonArray columns = ref.getJsonArray("columns");
    int n = columns.size();
    JsonArray reversedColumns = new JsonArray();
    for (int c = n - 1; c >= 0; c--) {
      reversedColumns.add(columns.getValue(c));
    }
    JsonArray reversedRows = new JsonArray();
    for (Object row : ref.getJsonArray("inputs")) {
      JsonArray r = (JsonArray) row;
      JsonArray out = new JsonArray();
      for (int c = n - 1; c >= 0; c--) {
        out.add(r.getValue(c));
      }
      reversedRows.add(out);
    }
    String body = new JsonObject().put("dataframe_split", new JsonObject().put("columns", reversedColumns)
        .put("data", reversedRows)).encode();
    assertRecordsMatch(model, mlflow(model).postJson("/invocations", body));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void mlflowAnswersCsvAsPyfuncRecordsWithScikitLearnsValues(String model) {
    assertRecordsMatch(model, mlflow(model).post("/invocations", "text/csv", csv(reference(model))));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void kserveV1AnswersRecordsPerInstance(String model) {
    JsonObject ref = reference(model);
    JsonArray instances = new JsonArray();
    for (Object row : ref.getJsonArray("inputs")) {
      JsonObject instance = new JsonObject();
      for (int c = 0; c < ref.getJsonArray("columns").size(); c++) {
        instance.put(ref.getJsonArray("columns").getString(c), ((JsonArray) row).getValue(c));
      }
      instances.add(instance);
    }
    assertRecordsMatch(model, mlflow(model).postJson("/v1/models/" + model + ":predict",
        new JsonObject().put("instances", instances).encode()));
    assertRecordsMatch(model, mlflow(model).postJson("/v1/models/" + model + ":predict",
        new JsonObject().put("instances", ref.getJsonArray("inputs")).encode()));
  }

  @Test
  void theIntegerLabelsOfALogisticRegressionAreJsonNumbersAndItsClassKeysTheirText() {
    Reply r = mlflow("sklearn-logreg").postJson("/invocations", dataframeSplit(reference("sklearn-logreg")));
    JsonObject first = r.json().getJsonArray("predictions").getJsonObject(0);
    assertThat(first.getValue("output_label")).isInstanceOf(Number.class);
    assertThat(first.getJsonObject("output_probability").fieldNames()).containsExactly("0", "1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void v2AnswersPlainTensorsInClassOrder(String model) {
    JsonObject ref = reference(model);
    int rows = ref.getJsonArray("inputs").size();
    int classes = ref.getJsonArray("classes").size();
    JsonArray flat = new JsonArray();
    ref.getJsonArray("inputs").forEach(row -> ((JsonArray) row).forEach(flat::add));
    JsonObject body = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "input")
        .put("datatype", "FP32").put("shape", new JsonArray().add(rows).add(4)).put("data", flat)));
    Reply r = mlflow(model).postJson("/v2/models/" + model + "/infer", body.encode());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonObject proba = output(r.json(), "output_probability");
    assertThat(proba.getString("datatype")).isEqualTo("FP32");
    assertThat(proba.getJsonArray("shape")).containsExactly(rows, classes);
    JsonArray data = proba.getJsonArray("data");
    for (int i = 0; i < rows; i++) {
      for (int c = 0; c < classes; c++) {
        assertThat(data.getDouble(i * classes + c)).isCloseTo(
            ref.getJsonArray("probabilities").getJsonArray(i).getDouble(c), within(1e-5));
      }
    }
    JsonObject label = output(r.json(), "output_label");
    assertThat(label.getString("datatype")).isEqualTo(model.equals("sklearn-logreg") ? "INT64" : "BYTES");
    assertThat(label.getJsonArray("data")).isEqualTo(ref.getJsonArray("labels"));
  }

  private static JsonObject output(JsonObject answer, String name) {
    return answer.getJsonArray("outputs").stream().map(JsonObject.class::cast)
        .filter(o -> o.getString("name").equals(name)).findFirst().orElseThrow();
  }

  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void v2MetadataPublishesTheClassesOfTheProbabilities(String model) {
    Reply r = mlflow(model).get("/v2/models/" + model);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonObject proba = output(r.json(), "output_probability");
    JsonObject parameters = proba.getJsonObject("parameters");
    assertThat(new JsonArray(parameters.getString("classes"))).isEqualTo(reference(model).getJsonArray("classes"));
    assertThat(parameters.getString("pyfunc")).isEqualTo("zipmap");
  }

  @Test
  void aWrongTypeIsA400NamingTheInput() {
    Reply text = mlflow("sklearn-iris-forest").postJson("/invocations", "{\"dataframe_split\": {\"columns\":"
        + " [\"sepal_length\", \"sepal_width\", \"petal_length\", \"petal_width\"], \"data\": [[5.1, \"wide\", 1.4,"
        + " 0.2]]}}");
    assertThat(text.status()).isEqualTo(400);
    assertThat(text.json().getString("error_code")).isEqualTo("BAD_REQUEST");
    assertThat(text.json().getString("message")).contains("input 'input'", "wide");
    Reply v2 = mlflow("sklearn-logreg").postJson("/v2/models/sklearn-logreg/infer", "{\"inputs\": [{\"name\":"
        + " \"input\", \"datatype\": \"BYTES\", \"shape\": [1, 4], \"data\": [\"a\", \"b\", \"c\", \"d\"]}]}");
    assertThat(v2.status()).isEqualTo(400);
    assertThat(v2.json().getString("error")).contains("input 'input'", "FP32");
    Reply kserve = mlflow("sklearn-logreg").postJson("/v1/models/sklearn-logreg:predict",
        "{\"instances\": [[1, 2, 3]]}");
    assertThat(kserve.status()).isEqualTo(400);
    assertThat(kserve.json().getString("error")).contains("input 'input'");
    assertRecordsMatch("sklearn-logreg", mlflow("sklearn-logreg").postJson("/invocations",
        dataframeSplit(reference("sklearn-logreg"))));
  }

  private static TensorMetadata declared(String name, String pyfunc, String classes) {
    TensorMetadata.Builder t = TensorMetadata.newBuilder().setName(name).setDatatype("FP32");
    if (pyfunc != null) {
      t.putParameters(PyfuncOutputs.PYFUNC, InferParameter.newBuilder().setStringParam(pyfunc).build());
    }
    if (classes != null) {
      t.putParameters(PyfuncOutputs.CLASSES, InferParameter.newBuilder().setStringParam(classes).build());
    }
    return t.build();
  }

  private static InferOutputTensor floats(String name, long rows, long width, float... values) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float v : values) {
      c.addFp32Contents(v);
    }
    return InferOutputTensor.newBuilder().setName(name).setDatatype("FP32").addShape(rows).addShape(width)
        .setContents(c).build();
  }

  @Test
  void anOmittedOutputIsLeftOutOfPyfuncAnswersAndAZipmapKeysItsColumnsByClass() {
    ModelMetadataResponse meta = ModelMetadataResponse.newBuilder().setName("m")
        .addOutputs(declared("raw_scores", PyfuncOutputs.OMIT, null))
        .addOutputs(declared("proba", PyfuncOutputs.ZIPMAP, "[\"no\",\"yes\"]")).build();
    ModelInferResponse r = ModelInferResponse.newBuilder()
        .addOutputs(floats("raw_scores", 2, 2, -1f, 1f, 2f, -2f))
        .addOutputs(floats("proba", 2, 2, 0.25f, 0.75f, 0.875f, 0.125f)).build();
    JsonObject expected = new JsonObject().put("predictions", new JsonArray()
        .add(new JsonObject().put("proba", new JsonObject().put("no", 0.25f).put("yes", 0.75f)))
        .add(new JsonObject().put("proba", new JsonObject().put("no", 0.875f).put("yes", 0.125f))));
    assertThat(Predictions.of(r, false, PyfuncOutputs.of(meta))).isEqualTo(expected);
    assertThat(Predictions.of(r, true, PyfuncOutputs.of(meta))).isEqualTo(expected);
    assertThat(Predictions.of(r, false, PyfuncOutputs.NONE).getJsonObject("predictions").fieldNames())
        .containsExactly("raw_scores", "proba");
  }
}
