package dev.gantry.runner.engine.trees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelMetadataResponse.TensorMetadata;
import dev.gantry.proto.inference.RepositoryIndexRequest;
import dev.gantry.proto.inference.RepositoryIndexResponse.ModelIndex;
import dev.gantry.proto.inference.ServerReadyRequest;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerExtension;
import dev.gantry.runner.TestModels;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * XGBoost and LightGBM models through a real runner over gRPC: the MLflow model directories and
 * config.yaml versions that examples/mlflow-models/make_trees.py wrote, compared with what the
 * libraries themselves predicted for the same rows (LightGBM's through a numpy walk of its trees).
 */
class TreeModelsTest {
  private static final double FP32_TOLERANCE = 1e-6;
  private static final double FP64_TOLERANCE = 1e-9;

  @RegisterExtension
  static final RunnerExtension RUNNER = RunnerExtension.onRepository(TreeModelsTest::fill);

  private static RunnerClient client;
  private static JsonNode expected;

  static Path mlflowModels() {
    return TestModels.examples().getParent().resolve("mlflow-models");
  }

  private static void fill(Path repo) {
    for (String name : List.of("xgb-classifier", "xgb-regressor", "xgb-booster", "lgb-multiclass", "lgb-binary")) {
      TestModels.copyModel(mlflowModels().resolve(name), repo, name);
    }
    version(repo, "xgb-repo", "platform: xgboost\nmax_batch_size: 16\ninstance_count: 2\n"
        + "dynamic_batching: {max_queue_delay_microseconds: 20000}\n", "model.json",
        mlflowModels().resolve("xgb-classifier/model.json"));
    version(repo, "lgb-repo", "platform: lightgbm\n", "model.lgb", mlflowModels().resolve("lgb-multiclass/model.lgb"));
    TestModels.copyModel(TestModels.fixtures().resolve("xgb-legacy-binary"), repo, "xgb-legacy");
    Path narrow = TestModels.copyModel(mlflowModels().resolve("xgb-booster"), repo, "xgb-narrow-signature");
    try {
      String mlmodel = Files.readString(narrow.resolve("MLmodel"));
      write(narrow.resolve("MLmodel"), mlmodel.replaceFirst(", \\{\"type\": \"double\", \"name\": \"petal width \\(cm\\)\", "
          + "\"required\": true\\}", ""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TestModels.copyModel(mlflowModels().resolve("xgb-classifier"), repo, "xgb-corrupt");
    TestModels.copyModel(mlflowModels().resolve("lgb-binary"), repo, "lgb-corrupt");
    write(repo.resolve("xgb-corrupt/model.json"), "{\"learner\": {\"gradient_booster\": ");
    write(repo.resolve("lgb-corrupt/model.lgb"), "tree\nversion=v4\nmax_feature_idx=29\nobjective=binary\n"
        + "Tree=0\nnum_leaves=3\nsplit_feature=0 1\nthreshold=oops\n");
    mlmodel(repo, "sklearn-only", "  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
        + "  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n"
        + "    sklearn_version: 1.2.1\n");
    mlmodel(repo, "custom-pyfunc", "  python_function:\n    cloudpickle_version: 3.0.0\n"
        + "    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\n");
    mlmodel(repo, "lgb-sklearn", "  lightgbm:\n    data: model.pkl\n    model_class: lightgbm.sklearn.LGBMClassifier\n"
        + "  python_function:\n    loader_module: mlflow.lightgbm\n");
  }

  private static void version(Path repo, String name, String config, String file, Path model) {
    try {
      Files.createDirectories(repo.resolve(name).resolve("1"));
      Files.writeString(repo.resolve(name).resolve("config.yaml"), config);
      Files.copy(model, repo.resolve(name).resolve("1").resolve(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void mlmodel(Path repo, String name, String flavors) {
    write(repo.resolve(name).resolve("MLmodel"), "artifact_path: model\nflavors:\n" + flavors
        + "mlflow_version: 2.9.2\n");
  }

  private static void write(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @BeforeAll
  static void start() throws IOException {
    client = RUNNER.client();
    expected = new ObjectMapper().readTree(mlflowModels().resolve("expected.json").toFile());
  }

  @Test
  void xgboostClassifierAnswersLabelsAndProbabilitiesAsXgboostDoesForAllRowsInOneRequest() {
    JsonNode e = expected.get("xgb-classifier");
    ModelInferResponse response = infer("xgb-classifier", rows(e));
    assertThat(longs(response, "label")).containsExactly(longArray(e.get("label")));
    assertClose(doubles(response, "probabilities"), flatten(e.get("probabilities")), FP32_TOLERANCE);
    assertThat(output(response, "probabilities").getShapeList()).containsExactly((long) e.get("rows").size(), 2L);
  }

  @Test
  void xgboostRegressorSavedAsUbjsonAnswersAsXgboostDoes() {
    JsonNode e = expected.get("xgb-regressor");
    ModelInferResponse response = infer("xgb-regressor", rows(e));
    assertThat(response.getOutputsList()).extracting(o -> o.getName()).containsExactly("predictions");
    assertClose(doubles(response, "predictions"), flatten(e.get("predictions")), FP32_TOLERANCE * 100);
  }

  @Test
  void rawXgboostBoosterAnswersItsProbabilitiesAsPyfuncDoesAndLabelsBeside() {
    JsonNode e = expected.get("xgb-booster");
    ModelInferResponse response = infer("xgb-booster", rows(e));
    assertClose(doubles(response, "probabilities"), flatten(e.get("probabilities")), FP32_TOLERANCE);
    assertThat(longs(response, "label")).containsExactly(longArray(e.get("label")));
    ModelMetadataResponse metadata = metadata("xgb-booster");
    assertThat(params(outputMeta(metadata, "probabilities"))).containsOnlyKeys("classes");
    assertThat(params(outputMeta(metadata, "label"))).containsEntry("pyfunc", "omit");
  }

  @Test
  void lightgbmMulticlassBoosterMatchesItsTreesEvaluatedIndependently() {
    JsonNode e = expected.get("lgb-multiclass");
    ModelInferResponse response = infer("lgb-multiclass", rows(e));
    assertThat(output(response, "probabilities").getDatatype()).isEqualTo("FP64");
    assertClose(doubles(response, "probabilities"), flatten(e.get("probabilities")), FP64_TOLERANCE);
    assertThat(longs(response, "label")).containsExactly(longArray(e.get("label")));
  }

  @Test
  void lightgbmBinaryBoosterAnswersTheSecondClassProbabilityAsPyfuncDoes() {
    JsonNode e = expected.get("lgb-binary");
    ModelInferResponse response = infer("lgb-binary", rows(e));
    assertClose(doubles(response, "predictions"), flatten(e.get("predictions")), FP64_TOLERANCE);
    assertClose(doubles(response, "probabilities"), flatten(e.get("probabilities")), FP64_TOLERANCE);
    assertThat(longs(response, "label")).containsExactly(longArray(e.get("label")));
    ModelMetadataResponse metadata = metadata("lgb-binary");
    assertThat(metadata.getOutputsList()).extracting(TensorMetadata::getName)
        .containsExactly("predictions", "label", "probabilities");
    assertThat(params(outputMeta(metadata, "predictions"))).isEmpty();
    assertThat(params(outputMeta(metadata, "probabilities")))
        .containsEntry("pyfunc", "omit").containsEntry("classes", "[0,1]");
  }

  @Test
  void metadataPublishesTheColumnsTheClassesAndThatPyfuncOmitsTheProbabilities() {
    JsonNode e = expected.get("xgb-classifier");
    ModelMetadataResponse metadata = metadata("xgb-classifier");
    assertThat(metadata.getPlatform()).isEqualTo("xgboost");
    TensorMetadata input = metadata.getInputs(0);
    assertThat(input.getName()).isEqualTo("input");
    assertThat(input.getDatatype()).isEqualTo("FP32");
    assertThat(input.getShapeList()).containsExactly(-1L, 30L);
    List<String> columns = new ArrayList<>();
    e.get("columns").forEach(c -> columns.add(c.asText()));
    assertThat(params(input).get("columns")).isEqualTo(String.join(",", columns));
    assertThat(metadata.getOutputsList()).extracting(TensorMetadata::getName).containsExactly("label", "probabilities");
    assertThat(outputMeta(metadata, "label").getDatatype()).isEqualTo("INT64");
    assertThat(params(outputMeta(metadata, "label"))).isEmpty();
    assertThat(outputMeta(metadata, "probabilities").getShapeList()).containsExactly(-1L, 2L);
    assertThat(params(outputMeta(metadata, "probabilities")))
        .containsEntry("classes", "[0,1]").containsEntry("pyfunc", "omit");
  }

  @Test
  void configYamlVersionsServeTheSameModelsWithoutMlflow() {
    JsonNode xgb = expected.get("xgb-classifier");
    assertThat(longs(infer("xgb-repo", rows(xgb)), "label")).containsExactly(longArray(xgb.get("label")));
    JsonNode lgb = expected.get("lgb-multiclass");
    assertClose(doubles(infer("lgb-repo", rows(lgb)), "probabilities"), flatten(lgb.get("probabilities")),
        FP64_TOLERANCE);
    assertThat(params(metadata("lgb-repo").getInputs(0))).doesNotContainKey("columns");
  }

  @Test
  void concurrentOneRowRequestsAreBatchedTogetherAndEachGetsItsOwnAnswer() {
    JsonNode e = expected.get("xgb-classifier");
    List<float[]> rows = rows(e);
    List<Future<RunnerClient.Outcome<ModelInferResponse>>> calls = new ArrayList<>();
    for (int round = 0; round < 4; round++) {
      for (float[] row : rows) {
        calls.add(client.callAsync(GRPCInferenceServiceGrpcClient.ModelInfer, request("xgb-repo", List.of(row)), 0));
      }
    }
    Future.all(calls).toCompletionStage().toCompletableFuture().join();
    for (int i = 0; i < calls.size(); i++) {
      ModelInferResponse r = calls.get(i).result().ok();
      int row = i % rows.size();
      assertThat(longs(r, "label")).containsExactly(e.get("label").get(row).asLong());
      assertClose(doubles(r, "probabilities"), flatten(e.get("probabilities").get(row)), FP32_TOLERANCE);
    }
  }

  @Test
  void aRowOfTheWrongWidthIsInvalidArgumentNamingTheInput() {
    RunnerClient.Outcome<ModelInferResponse> o = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        request("xgb-classifier", List.of(new float[29])));
    assertThat(o.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(o.message()).contains("input 'input'", "[-1,30]", "[1,29]");
  }

  @Test
  void corruptModelFilesFailTheirLoadWithTheLibrarysReasonAndTheRunnerServesTheOthers() {
    assertThat(reason("xgb-corrupt")).contains("model.json", "XGBoost cannot load the model", "fix:");
    assertThat(reason("lgb-corrupt")).contains("model.lgb", "LightGBM cannot load the model", "fix:");
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance())
        .status()).isEqualTo(GrpcStatus.OK);
    assertThat(infer("xgb-classifier", rows(expected.get("xgb-classifier"))).getOutputsCount()).isEqualTo(2);
  }

  @Test
  void anMlflowSignatureWithAnotherNumberOfColumnsThanTheModelIsRefused() {
    assertThat(reason("xgb-narrow-signature")).contains("signature has 3 input columns", "takes 4 features",
        "fix:");
  }

  @Test
  void xgboostsLegacyBinaryFormatIsRefusedWithHowToConvertIt() {
    assertThat(reason("xgb-legacy")).contains("model.xgb", "legacy binary format", "XGBoost 3.1",
        "save_model(\"model.json\")", "model_format=\"json\"");
  }

  @Test
  void aPickledScikitLearnModelIsRefusedWithTheOnnxConversion() {
    assertThat(reason("sklearn-only")).contains("MLmodel", "'flavors.sklearn'", "pickle",
        "skl2onnx.to_onnx(model, X[:1]", "mlflow.onnx.log_model(onx, \"model\", signature=");
  }

  @Test
  void aCustomPythonFunctionIsRefusedWithTheOnnxConversion() {
    assertThat(reason("custom-pyfunc")).contains("'flavors.python_function'", "python_model: python_model.pkl",
        "cannot run Python code", "mlflow.onnx.log_model(onx");
  }

  @Test
  void aPickledLightgbmClassifierIsRefusedWithItsBoosterAsTheFix() {
    assertThat(reason("lgb-sklearn")).contains("'flavors.lightgbm.model_class'", "LGBMClassifier", "pickle",
        "mlflow.lightgbm.log_model(model.booster_");
  }

  private static String reason(String model) {
    ModelIndex entry = client.call(GRPCInferenceServiceGrpcClient.RepositoryIndex,
        RepositoryIndexRequest.getDefaultInstance()).ok().getModelsList().stream()
        .filter(m -> m.getName().equals(model)).findFirst().orElseThrow();
    assertThat(entry.getState()).isEqualTo("UNAVAILABLE");
    return entry.getReason();
  }

  private static List<float[]> rows(JsonNode model) {
    List<float[]> rows = new ArrayList<>();
    for (JsonNode r : model.get("rows")) {
      float[] row = new float[r.size()];
      for (int i = 0; i < row.length; i++) {
        row[i] = (float) r.get(i).asDouble();
      }
      rows.add(row);
    }
    return rows;
  }

  private static ModelInferRequest request(String model, List<float[]> rows) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    rows.forEach(r -> {
      for (float v : r) {
        c.addFp32Contents(v);
      }
    });
    return ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
            .addShape(rows.size()).addShape(rows.get(0).length).setContents(c))
        .build();
  }

  private static ModelInferResponse infer(String model, List<float[]> rows) {
    return client.call(GRPCInferenceServiceGrpcClient.ModelInfer, request(model, rows)).ok();
  }

  private static ModelMetadataResponse metadata(String model) {
    return client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName(model).build()).ok();
  }

  private static TensorMetadata outputMeta(ModelMetadataResponse metadata, String name) {
    return metadata.getOutputsList().stream().filter(o -> o.getName().equals(name)).findFirst().orElseThrow();
  }

  private static ModelInferResponse.InferOutputTensor output(ModelInferResponse response, String name) {
    return response.getOutputsList().stream().filter(o -> o.getName().equals(name)).findFirst().orElseThrow();
  }

  private static ByteBuffer raw(ModelInferResponse response, String name) {
    int i = response.getOutputsList().indexOf(output(response, name));
    return response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static long[] longs(ModelInferResponse response, String name) {
    ModelInferResponse.InferOutputTensor out = output(response, name);
    assertThat(out.getDatatype()).isEqualTo("INT64");
    if (response.getRawOutputContentsCount() == 0) {
      return out.getContents().getInt64ContentsList().stream().mapToLong(Long::longValue).toArray();
    }
    ByteBuffer b = raw(response, name);
    long[] v = new long[b.remaining() / 8];
    b.asLongBuffer().get(v);
    return v;
  }

  private static double[] doubles(ModelInferResponse response, String name) {
    ModelInferResponse.InferOutputTensor out = output(response, name);
    boolean fp64 = out.getDatatype().equals("FP64");
    if (response.getRawOutputContentsCount() == 0) {
      return fp64 ? out.getContents().getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray()
          : out.getContents().getFp32ContentsList().stream().mapToDouble(Float::doubleValue).toArray();
    }
    ByteBuffer b = raw(response, name);
    double[] v = new double[b.remaining() / (fp64 ? 8 : 4)];
    for (int i = 0; i < v.length; i++) {
      v[i] = fp64 ? b.getDouble() : b.getFloat();
    }
    return v;
  }

  private static double[] flatten(JsonNode values) {
    List<Double> flat = new ArrayList<>();
    if (values.isNumber()) {
      flat.add(values.asDouble());
    }
    values.forEach(v -> {
      if (v.isArray()) {
        v.forEach(x -> flat.add(x.asDouble()));
      } else {
        flat.add(v.asDouble());
      }
    });
    return flat.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static long[] longArray(JsonNode values) {
    long[] v = new long[values.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = values.get(i).asLong();
    }
    return v;
  }

  private static void assertClose(double[] actual, double[] wanted, double tolerance) {
    assertThat(actual).hasSameSizeAs(wanted);
    for (int i = 0; i < wanted.length; i++) {
      assertThat(actual[i]).as("value %d", i).isCloseTo(wanted[i], within(tolerance * Math.max(1, Math.abs(wanted[i]))));
    }
  }

  private static Map<String, String> params(TensorMetadata tensor) {
    Map<String, String> params = new java.util.TreeMap<>();
    tensor.getParametersMap().forEach((k, v) -> params.put(k, v.getStringParam()));
    return params;
  }
}
