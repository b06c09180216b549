package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.GRPCInferenceServiceGrpcClient;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelMetadataRequest;
import dev.gantry.runner.ChurnRequests;
import dev.gantry.runner.RunnerClient;
import dev.gantry.runner.RunnerExtension;
import dev.gantry.runner.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every datatype PyTorch takes, through real gRPC and real libtorch (a model that doubles each
 * input), in typed contents and in raw bytes; and an MLflow directory with an ONNX flavor.
 */
class DatatypesTest {
  @RegisterExtension
  static final RunnerExtension RUNNER = RunnerExtension.onRepository(repo -> {
    TestModels.copyModel(TestModels.fixtures().resolve("dtypes"), repo, "dtypes");
    TestModels.copyModel(TestModels.fixtures().resolve("churn-mlflow-onnx"), repo, "churn-mlflow-onnx");
  });
  private static Path repo;
  private static RunnerClient client;

  @BeforeAll
  static void start() {
    repo = RUNNER.runner().models().repository().root();
    client = RUNNER.client();
  }

  private static InferInputTensor.Builder tensor(String name, String type) {
    return InferInputTensor.newBuilder().setName(name).setDatatype(type).addShape(2);
  }

  private static ByteString le(int bytes, java.util.function.Consumer<ByteBuffer> fill) {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    fill.accept(b);
    return ByteString.copyFrom(b.array());
  }

  /** 1.5 and -2.25 as IEEE half floats. */
  private static final short[] HALF = {0x3E00, (short) 0xC080};

  @Test
  void everyDatatypeRoundTripsThroughLibtorchAndTypedFp16IsRefused() {
    ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("dtypes")
        .addInputs(tensor("f64", "FP64").setContents(InferTensorContents.newBuilder().addFp64Contents(1.25)
            .addFp64Contents(-3.5)))
        .addInputs(tensor("i32", "INT32").setContents(InferTensorContents.newBuilder().addIntContents(7)
            .addIntContents(-100000)))
        .addInputs(tensor("i8", "INT8").setContents(InferTensorContents.newBuilder().addIntContents(5)
            .addIntContents(-60)))
        .addInputs(tensor("u8", "UINT8").setContents(InferTensorContents.newBuilder().addUintContents(100)
            .addUintContents(3)))
        .addInputs(tensor("flags", "BOOL").setContents(InferTensorContents.newBuilder().addBoolContents(true)
            .addBoolContents(false)))
        .addInputs(tensor("f16", "FP16"))
        .addInputs(tensor("i64", "INT64").setContents(InferTensorContents.newBuilder().addInt64Contents(1L << 40)
            .addInt64Contents(-9)))
        .build();
    // FP16 has no typed field: this request must go raw, every input in input order
    ModelInferRequest.Builder raw = ModelInferRequest.newBuilder().setModelName("dtypes");
    for (InferInputTensor in : req.getInputsList()) {
      raw.addInputs(in.toBuilder().clearContents());
    }
    raw.addRawInputContents(le(16, b -> b.putDouble(1.25).putDouble(-3.5)));
    raw.addRawInputContents(le(8, b -> b.putInt(7).putInt(-100000)));
    raw.addRawInputContents(le(2, b -> b.put((byte) 5).put((byte) -60)));
    raw.addRawInputContents(le(2, b -> b.put((byte) 100).put((byte) 3)));
    raw.addRawInputContents(le(2, b -> b.put((byte) 1).put((byte) 0)));
    raw.addRawInputContents(le(4, b -> b.putShort(HALF[0]).putShort(HALF[1])));
    raw.addRawInputContents(le(16, b -> b.putLong(1L << 40).putLong(-9)));
    ModelInferResponse r = client.call(GRPCInferenceServiceGrpcClient.ModelInfer, raw.build()).ok();
    assertThat(r.getOutputsList()).extracting(o -> o.getDatatype())
        .containsExactly("FP64", "INT32", "INT8", "UINT8", "BOOL", "FP16", "INT64");
    ByteBuffer f64 = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(f64.getDouble()).isEqualTo(2.5);
    assertThat(f64.getDouble()).isEqualTo(-7.0);
    ByteBuffer i32 = r.getRawOutputContents(1).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(i32.getInt()).isEqualTo(14);
    assertThat(i32.getInt()).isEqualTo(-200000);
    assertThat(r.getRawOutputContents(2).byteAt(1)).isEqualTo((byte) -120);
    assertThat(r.getRawOutputContents(3).byteAt(0)).isEqualTo((byte) 200);
    assertThat(r.getRawOutputContents(4).toByteArray()).containsExactly(0, 1);
    ByteBuffer f16 = r.getRawOutputContents(5).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(f16.getShort()).as("3.0 as half").isEqualTo((short) 0x4200);
    assertThat(f16.getShort()).as("-4.5 as half").isEqualTo((short) 0xC480);
    ByteBuffer i64 = r.getRawOutputContents(6).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(i64.getLong()).isEqualTo(1L << 41);

    // typed contents for the typed datatypes; an FP16 output forces a raw answer
    ModelInferRequest typed = req.toBuilder().setInputs(5, tensor("f16", "FP16")).build();
    RunnerClient.Outcome<ModelInferResponse> noRaw = client.call(GRPCInferenceServiceGrpcClient.ModelInfer, typed);
    assertThat(noRaw.message()).contains("input 'f16': FP16 has no typed contents field");
  }

  @Test
  void aRequestMissingInputsIsRefusedBeforeAnythingRuns() {
    ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("dtypes")
        .addInputs(tensor("f64", "FP64").setContents(InferTensorContents.newBuilder().addFp64Contents(1)
            .addFp64Contents(2)))
        .build();
    // a request that leaves inputs out is refused before anything runs
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelInfer, req).message())
        .contains("missing input 'i32'");
  }

  @Test
  void anInt32ValueWiderThanThirtyTwoBitsOnTheWireIsRefusedNamingTheValue() throws Exception {
    byte[] wire = WireMessages.wideVarints("dtypes", "i32", "INT32", new long[] {2},
        InferTensorContents.INT_CONTENTS_FIELD_NUMBER, 1L << 40, 1);
    RunnerClient.Outcome<ModelInferResponse> outcome = client.call(WireMessages.MODEL_INFER_BYTES,
        io.vertx.core.buffer.Buffer.buffer(wire));
    assertThat(outcome.status()).isEqualTo(io.vertx.grpc.common.GrpcStatus.INVALID_ARGUMENT);
    assertThat(outcome.message()).contains("input 'i32': value 1099511627776 does not fit INT32");
  }

  @Test
  void aDatatypeTheEngineCannotTakeIsRefusedWhenTheModelLoads() throws Exception {
    Path model = TestModels.copyModel(TestModels.fixtures().resolve("dtypes"), repo, "int16");
    java.nio.file.Files.writeString(model.resolve("config.yaml"), java.nio.file.Files.readString(
        model.resolve("config.yaml")).replace("{name: i32, datatype: INT32", "{name: i32, datatype: INT16"));
    RunnerClient.Outcome<?> load = client.call(GRPCInferenceServiceGrpcClient.RepositoryModelLoad,
        dev.gantry.proto.inference.RepositoryModelLoadRequest.newBuilder().setModelName("int16").build());
    assertThat(load.status()).isEqualTo(io.vertx.grpc.common.GrpcStatus.INVALID_ARGUMENT);
    assertThat(load.message()).contains("tensor 'i32' has datatype INT16, which the PyTorch engine cannot take",
        "fix:");
    // and the process is still here to say so
    assertThat(client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName("dtypes").build()).ok().getInputsCount()).isEqualTo(7);
  }

  @Test
  void anMlflowOnnxFlavorTakesItsTensorsFromTheGraph() {
    var meta = client.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
        ModelMetadataRequest.newBuilder().setName("churn-mlflow-onnx").build()).ok();
    assertThat(meta.getPlatform()).isEqualTo("onnxruntime_onnx");
    assertThat(meta.getInputsList()).extracting(i -> i.getName()).containsExactly("tenure", "monthly_charges",
        "total_charges", "contract_type", "payment_method");
    ModelInferRequest req = ChurnRequests.onnx(List.of(new ChurnRequests.Row(12, 70.35f, 844.2f, "Month-to-month",
        "Electronic check"))).toBuilder().setModelName("churn-mlflow-onnx").build();
    float[] p = ChurnRequests.floats(client.call(GRPCInferenceServiceGrpcClient.ModelInfer, req).ok());
    assertThat((double) p[1]).isCloseTo(0.9092077612876892, within(1e-5));
  }
}
