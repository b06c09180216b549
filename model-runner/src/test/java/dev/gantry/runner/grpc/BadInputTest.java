package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.ChurnRequests.Row;
import dev.gantry.runner.ModelRunner;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of bad request gets its status and a message naming what was wrong. */
class BadInputTest {
  private static final Row ROW = new Row(12, 70.35f, 844.2f, "Month-to-month", "Electronic check");
  @RegisterExtension
  static final RunnerExtension RUNNER = RunnerExtension.onExamples("churn-onnx", "churn-torchscript");
  private static ModelRunner runner;
  private static RunnerClient client;

  @BeforeAll
  static void start() {
    runner = RUNNER.runner();
    client = RUNNER.client();
  }

  private static ModelInferRequest numeric() {
    return ChurnRequests.numeric("churn-torchscript", List.of(ROW));
  }

  private static ModelInferRequest numericWith(InferInputTensor input) {
    return numeric().toBuilder().setInputs(0, input).build();
  }

  private static InferInputTensor.Builder numericInput() {
    return numeric().getInputs(0).toBuilder();
  }

  static Stream<Arguments> corpus() {
    return Stream.of(
        Arguments.of("unknown model", numeric().toBuilder().setModelName("nope").build(),
            GrpcStatus.NOT_FOUND, List.of("unknown model 'nope'")),
        Arguments.of("unknown version", numeric().toBuilder().setModelVersion("7").build(),
            GrpcStatus.NOT_FOUND, List.of("has no version '7'", "[1]")),
        Arguments.of("non-numeric version", numeric().toBuilder().setModelVersion("latest").build(),
            GrpcStatus.NOT_FOUND, List.of("has no version 'latest'")),
        Arguments.of("wrong input name", numericWith(numericInput().setName("inputs").build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("unexpected input 'inputs'", "[input]")),
        Arguments.of("missing input", ChurnRequests.onnx(List.of(ROW)).toBuilder().removeInputs(4).build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("missing input 'payment_method'")),
        Arguments.of("duplicate input", numeric().toBuilder().addInputs(numeric().getInputs(0)).build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input' is given more than once")),
        Arguments.of("wrong shape", numericWith(numericInput().clearShape().addShape(1).addShape(4)
                .setContents(InferTensorContents.newBuilder().addAllFp32Contents(List.of(1f, 2f, 3f, 4f))).build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "expected shape [-1,3]", "got [1,4]")),
        Arguments.of("wrong rank", numericWith(numericInput().clearShape().addShape(3).build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "expected shape [-1,3]", "got [3]")),
        Arguments.of("wrong datatype", numericWith(numericInput().setDatatype("FP64")
                .setContents(InferTensorContents.newBuilder().addAllFp64Contents(List.of(1d, 2d, 3d))).build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "expected datatype FP32, got FP64")),
        Arguments.of("unknown datatype", numericWith(numericInput().setDatatype("FP33").build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "unknown datatype 'FP33'")),
        Arguments.of("typed data in the wrong field", numericWith(numericInput()
                .setContents(InferTensorContents.newBuilder().addAllIntContents(List.of(1, 2, 3))).build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input' is FP32 but its data is in int_contents",
                "use fp32_contents")),
        Arguments.of("too few typed values", numericWith(numericInput()
                .setContents(InferTensorContents.newBuilder().addAllFp32Contents(List.of(1f, 2f))).build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "needs 12 bytes (3 elements)", "got 8 bytes")),
        Arguments.of("raw buffer of the wrong size", ModelInferRequest.newBuilder().setModelName("churn-torchscript")
                .addInputs(numericInput().clearContents()).addRawInputContents(ByteString.copyFrom(new byte[10]))
                .build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "needs 12 bytes", "got 10 bytes")),
        Arguments.of("raw buffer with extra bytes", ModelInferRequest.newBuilder().setModelName("churn-torchscript")
                .addInputs(numericInput().clearContents()).addRawInputContents(ByteString.copyFrom(new byte[13]))
                .build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "needs 12 bytes (3 elements)", "got 13 bytes")),
        Arguments.of("BYTES raw content with more elements than the shape declares", extraBytesElement(),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'contract_type'", "holds more than the 1 elements")),
        Arguments.of("malformed raw content for a model that does not exist",
            malformedBytes().toBuilder().setModelName("nope").build(),
            GrpcStatus.NOT_FOUND, List.of("unknown model 'nope'")),
        Arguments.of("raw entries do not match inputs", ModelInferRequest.newBuilder()
                .setModelName("churn-torchscript").addInputs(numericInput().clearContents())
                .addRawInputContents(ByteString.copyFrom(new byte[12]))
                .addRawInputContents(ByteString.copyFrom(new byte[12])).build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("raw_input_contents has 2 entries but the request has 1 inputs")),
        Arguments.of("both typed and raw data", ModelInferRequest.newBuilder().setModelName("churn-torchscript")
                .addInputs(numericInput()).addRawInputContents(ByteString.copyFrom(new byte[12])).build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input' has both contents and raw_input_contents")),
        Arguments.of("malformed BYTES raw element", malformedBytes(),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'contract_type'", "BYTES element 0 claims 1000 bytes")),
        Arguments.of("negative dimension", numericWith(numericInput().clearShape().addShape(-1).addShape(3).build()),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'input'", "negative dimension")),
        Arguments.of("batch above max_batch_size", ChurnRequests.numeric("churn-torchscript",
                Collections.nCopies(65, ROW)),
            GrpcStatus.INVALID_ARGUMENT, List.of("batch size 65 exceeds max_batch_size 64")),
        Arguments.of("inputs with different batch sizes", mixedBatch(),
            GrpcStatus.INVALID_ARGUMENT, List.of("has batch size 1 but other inputs have 2")),
        Arguments.of("unknown requested output", numeric().toBuilder().addOutputs(
                ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("logits")).build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("unknown requested output 'logits'", "[probabilities]")),
        Arguments.of("BYTES value where a number is expected", ChurnRequests.onnx(List.of(ROW)).toBuilder()
                .setInputs(0, ChurnRequests.stringColumn("tenure", List.of("twelve"))).build(),
            GrpcStatus.INVALID_ARGUMENT, List.of("input 'tenure'", "expected datatype FP32, got BYTES")));
  }

  private static ModelInferRequest malformedBytes() {
    ModelInferRequest raw = ChurnRequests.onnxRaw(List.of(ROW));
    byte[] bad = {(byte) 0xE8, 0x03, 0, 0, 'x'};
    return raw.toBuilder().setRawInputContents(3, ByteString.copyFrom(bad)).build();
  }

  private static ModelInferRequest extraBytesElement() {
    ModelInferRequest raw = ChurnRequests.onnxRaw(List.of(ROW));
    ByteString one = raw.getRawInputContents(3);
    return raw.toBuilder().setRawInputContents(3, one.concat(one)).build();
  }

  private static ModelInferRequest mixedBatch() {
    ModelInferRequest one = ChurnRequests.onnx(List.of(ROW));
    ModelInferRequest two = ChurnRequests.onnx(List.of(ROW, ROW));
    return two.toBuilder().setInputs(1, one.getInputs(1)).build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void badRequestGetsItsStatusAndAMessageNamingTheProblem(String what, ModelInferRequest request,
      GrpcStatus status, List<String> messageParts) {
    RunnerClient.Outcome<ModelInferResponse> outcome = client.call(GRPCInferenceServiceGrpcClient.ModelInfer, request);
    assertThat(outcome.status()).as(what).isEqualTo(status);
    assertThat(outcome.message()).as(what).contains(messageParts);
    // the runner keeps serving good requests
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer, numeric()).status()).isEqualTo(GrpcStatus.OK);
  }

  @Test
  void aShapeBeyondMaxBatchSizeWhoseProductOverflowsIsInvalidArgumentAndCounted() {
    String counter = "gantry.runner.request.failure";
    double before = failures(counter);
    ModelInferRequest huge = numericWith(numericInput().clearShape().addShape(4611686018427387904L).addShape(3)
        .build());
    RunnerClient.Outcome<ModelInferResponse> outcome = client.call(GRPCInferenceServiceGrpcClient.ModelInfer, huge);
    assertThat(outcome.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(outcome.message()).contains("batch size 4611686018427387904 exceeds max_batch_size 64");
    assertThat(failures(counter)).isEqualTo(before + 1);
  }

  private static double failures(String counter) {
    return runner.metrics().registry().get(counter).tags("model", "churn-torchscript", "reason", "INVALID_ARGUMENT")
        .counter().count();
  }

  @Test
  void bytesThatAreNotAModelInferRequestAreInvalidArgument() {
    // field 1 (model_name) claims 100 bytes but the message ends after 3
    RunnerClient.Outcome<ModelInferResponse> outcome = client.call(WireMessages.MODEL_INFER_BYTES,
        Buffer.buffer(new byte[] {0x0A, 100, 'a', 'b', 'c'}));
    assertThat(outcome.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(outcome.message()).contains("not a valid inference.ModelInferRequest");
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer, numeric()).status()).isEqualTo(GrpcStatus.OK);
  }

  @Test
  void metadataOfAnUnknownModelIsNotFound() {
    RunnerClient.Outcome<?> outcome = client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName("nope").build());
    assertThat(outcome.status()).isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(outcome.message()).contains("unknown model 'nope'");
  }

  @Test
  void modelInTheRepositoryButNotLoadedIsUnavailable() {
    RunnerClient.Outcome<?> outcome = client.call(GRPCInferenceServiceGrpcClient.ModelInfer,
        ChurnRequests.numeric("churn-mlflow", List.of(ROW)));
    assertThat(outcome.status()).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(outcome.message()).contains("model 'churn-mlflow' is not loaded");
  }
}
