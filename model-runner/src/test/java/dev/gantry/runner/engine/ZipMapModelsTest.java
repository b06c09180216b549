package dev.gantry.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelInferResponse.InferOutputTensor;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.proto.inference.ModelMetadataResponse;
import dev.gantry.proto.inference.ModelMetadataResponse.TensorMetadata;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerExtension;
import dev.gantry.runner.TestModels;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * scikit-learn classifiers in skl2onnx's form (ZipMap probabilities) served by the runner: the
 * labels and probabilities scikit-learn itself gives (examples/mlflow-models/…/reference.json),
 * the class labels published on the probabilities, and bad input refused without harm.
 */
class ZipMapModelsTest {
  private static final List<String> MODELS = List.of("sklearn-logreg", "sklearn-iris-forest");

  @RegisterExtension
  static final RunnerExtension RUNNER = RunnerExtension.onRepository(repo -> MODELS.forEach(
      m -> TestModels.copyModel(mlflowModels().resolve(m), repo, m)));

  static Path mlflowModels() {
    return TestModels.examples().getParent().resolve("mlflow-models");
  }

  static JsonNode reference(String model) {
    try {
      return new ObjectMapper().readTree(mlflowModels().resolve(model).resolve("reference.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static RunnerClient client() {
    return RUNNER.client();
  }

  private static InferInputTensor.Builder input(JsonNode rows) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    rows.forEach(row -> row.forEach(v -> c.addFp32Contents((float) v.asDouble())));
    return InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
        .addShape(rows.size()).addShape(rows.get(0).size()).setContents(c);
  }

  private static ModelInferResponse infer(String model, InferInputTensor.Builder input) {
    return client().call(GRPCInferenceServiceGrpcClient.ModelInfer,
        ModelInferRequest.newBuilder().setModelName(model).addInputs(input).build()).ok();
  }

  private static InferOutputTensor output(ModelInferResponse r, String name) {
    return r.getOutputsList().stream().filter(o -> o.getName().equals(name)).findFirst().orElseThrow();
  }

  private static List<String> labels(InferOutputTensor label) {
    List<String> out = new ArrayList<>();
    if (label.getDatatype().equals("BYTES")) {
      label.getContents().getBytesContentsList().forEach(b -> out.add(b.toStringUtf8()));
    } else {
      label.getContents().getInt64ContentsList().forEach(v -> out.add(Long.toString(v)));
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void givesTheLabelsAndProbabilitiesScikitLearnGives(String model) {
    JsonNode ref = reference(model);
    int rows = ref.get("inputs").size();
    int classes = ref.get("classes").size();
    ModelInferResponse r = infer(model, input(ref.get("inputs")));

    InferOutputTensor proba = output(r, "output_probability");
    assertThat(proba.getDatatype()).isEqualTo("FP32");
    assertThat(proba.getShapeList()).containsExactly((long) rows, (long) classes);
    List<Float> p = proba.getContents().getFp32ContentsList();
    for (int i = 0; i < rows; i++) {
      for (int c = 0; c < classes; c++) {
        assertThat((double) p.get(i * classes + c)).as("row %d class %s", i, ref.get("classes").get(c))
            .isCloseTo(ref.get("probabilities").get(i).get(c).asDouble(), within(1e-5));
      }
    }
    List<String> expected = new ArrayList<>();
    ref.get("labels").forEach(l -> expected.add(l.asText()));
    InferOutputTensor label = output(r, "output_label");
    assertThat(label.getShapeList()).containsExactly((long) rows);
    assertThat(labels(label)).containsExactlyElementsOf(expected);
  }

  @Test
  void labelsKeepTheirTypeIntegersAsInt64AndStringsAsBytes() {
    assertThat(output(infer("sklearn-logreg", input(reference("sklearn-logreg").get("inputs"))), "output_label")
        .getDatatype()).isEqualTo("INT64");
    assertThat(output(infer("sklearn-iris-forest", input(reference("sklearn-iris-forest").get("inputs"))),
        "output_label").getDatatype()).isEqualTo("BYTES");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sklearn-logreg", "sklearn-iris-forest"})
  void metadataPublishesTheClassesInColumnOrderAndHowPyfuncShowsThem(String model) throws IOException {
    ModelMetadataResponse meta = client().call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName(model).build()).ok();
    TensorMetadata proba = meta.getOutputsList().stream().filter(o -> o.getName().equals("output_probability"))
        .findFirst().orElseThrow();
    JsonNode classes = reference(model).get("classes");
    assertThat(proba.getDatatype()).isEqualTo("FP32");
    assertThat(proba.getShapeList()).containsExactly(-1L, (long) classes.size());
    assertThat(new ObjectMapper().readTree(proba.getParametersMap().get("classes").getStringParam()))
        .isEqualTo(classes);
    assertThat(proba.getParametersMap().get("pyfunc").getStringParam()).isEqualTo("zipmap");
    TensorMetadata label = meta.getOutputsList().stream().filter(o -> o.getName().equals("output_label"))
        .findFirst().orElseThrow();
    // an MLflow ONNX model: the label is a column of the DataFrame its pyfunc answers with
    assertThat(label.getParametersMap()).containsOnlyKeys("pyfunc");
    assertThat(label.getParametersMap().get("pyfunc").getStringParam()).isEqualTo("column");
  }

  @Test
  void badInputIsInvalidArgumentNamingTheInputAndTheModelKeepsServing() {
    JsonNode rows = reference("sklearn-iris-forest").get("inputs");
    var wrongType = client().call(GRPCInferenceServiceGrpcClient.ModelInfer, ModelInferRequest.newBuilder()
        .setModelName("sklearn-iris-forest").addInputs(InferInputTensor.newBuilder().setName("input")
            .setDatatype("BYTES").addShape(1).addShape(4).setContents(InferTensorContents.newBuilder()
                .addBytesContents(com.google.protobuf.ByteString.copyFromUtf8("a"))
                .addBytesContents(com.google.protobuf.ByteString.copyFromUtf8("b"))
                .addBytesContents(com.google.protobuf.ByteString.copyFromUtf8("c"))
                .addBytesContents(com.google.protobuf.ByteString.copyFromUtf8("d")))).build());
    assertThat(wrongType.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(wrongType.message()).contains("input 'input'", "FP32", "BYTES");

    InferTensorContents.Builder three = InferTensorContents.newBuilder().addAllFp32Contents(List.of(1f, 2f, 3f));
    var wrongWidth = client().call(GRPCInferenceServiceGrpcClient.ModelInfer, ModelInferRequest.newBuilder()
        .setModelName("sklearn-logreg").addInputs(InferInputTensor.newBuilder().setName("input")
            .setDatatype("FP32").addShape(1).addShape(3).setContents(three)).build());
    assertThat(wrongWidth.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(wrongWidth.message()).contains("input 'input'", "got [1,3]");

    ModelInferResponse after = infer("sklearn-iris-forest", input(rows));
    assertThat(labels(output(after, "output_label"))).hasSize(rows.size());
  }
}
