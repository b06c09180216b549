package dev.gantry.runner.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.ErrorKind;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.TensorSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Decoding against a known signature: exact sizes, bounded work, ranges the wire format hides. */
class ProtoTensorsTest {
  private static final ModelSignature SIGNATURE = new ModelSignature(List.of(
      new TensorSpec("x", DataType.FP32, new long[] {3}),
      new TensorSpec("s", DataType.BYTES, new long[] {1}),
      new TensorSpec("u", DataType.UINT32, new long[] {2}),
      new TensorSpec("i", DataType.INT32, new long[] {2})), List.of(), 4);

  private static InferInputTensor.Builder input(String name, String type, long... shape) {
    InferInputTensor.Builder b = InferInputTensor.newBuilder().setName(name).setDatatype(type);
    for (long d : shape) {
      b.addShape(d);
    }
    return b;
  }

  private static InferenceException refusal(InferMessage message) {
    try {
      ProtoTensors.decode(message, "m", SIGNATURE, 0);
    } catch (InferenceException e) {
      return e;
    }
    throw new AssertionError("decoded without complaint");
  }

  private static InferMessage raw(InferInputTensor.Builder input, ByteString bytes) {
    return InferMessage.of(ModelInferRequest.newBuilder().setModelName("m").addInputs(input)
        .addRawInputContents(bytes).build());
  }

  @Test
  void rejectsRawBufferWithExtraBytes() {
    InferenceException e = refusal(raw(input("x", "FP32", 1, 3), ByteString.copyFrom(new byte[13])));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining("input 'x'").hasMessageContaining("needs 12 bytes (3 elements)")
        .hasMessageContaining("got 13 bytes");
  }

  @Test
  void rejectsRawBoolBytesOtherThanZeroOrOne() {
    ModelSignature bools = new ModelSignature(List.of(new TensorSpec("b", DataType.BOOL, new long[] {2})),
        List.of(), 0);
    InferMessage m = raw(input("b", "BOOL", 2), ByteString.copyFrom(new byte[] {1, 7}));
    try {
      ProtoTensors.decode(m, "m", bools, 0);
      throw new AssertionError("accepted BOOL byte 7");
    } catch (InferenceException e) {
      assertThat(e).hasMessageContaining("input 'b': BOOL element 1 is byte 7");
    }
  }

  @Test
  void bytesRawDecodingStopsAtTheDeclaredCountWithoutAllocatingPerPrefix() {
    // 4 Mi zero-length elements where the shape declares one: decoded one by one this was 4 Mi arrays
    ByteString prefixes = ByteString.copyFrom(new byte[16 << 20]);
    InferMessage m = raw(input("s", "BYTES", 1, 1), prefixes);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    InferenceException e = refusal(m);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(e).hasMessageContaining("input 's': BYTES raw content holds more than the 1 elements");
    assertThat(allocated).as("bytes allocated decoding 16 MiB of prefixes").isLessThan(1 << 20);
  }

  @Test
  void bytesRawCountMustFitTheBodyBeforeAnythingIsAllocated() {
    InferenceException e = refusal(raw(input("s", "BYTES", 4, 1), ByteString.copyFrom(new byte[8])));
    assertThat(e).hasMessageContaining("needs 4 BYTES elements but its 8 raw bytes hold at most 2");
  }

  @Test
  void typedValueCountMustMatchTheShape() {
    InferMessage m = InferMessage.of(ModelInferRequest.newBuilder().addInputs(input("x", "FP32", 1, 3)
        .setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2))).build());
    assertThat(refusal(m)).hasMessageContaining("needs 12 bytes (3 elements), got 8 bytes (2 values in fp32_contents)");
  }

  private static InferMessage parsed(byte[] wire) throws IOException {
    return new InferMessage(ModelInferRequest.parseFrom(wire), WireRanges.scan(wire), null);
  }

  @Test
  void uint32ValuesAboveTwoToThe32AreRefusedNamingTheValue() throws IOException {
    byte[] wire = WireMessages.wideVarints("m", "u", "UINT32", new long[] {1, 2},
        InferTensorContents.UINT_CONTENTS_FIELD_NUMBER, 7, (1L << 32) + 5);
    // protobuf alone keeps the low 32 bits: 4294967301 would become 5
    assertThat(ModelInferRequest.parseFrom(wire).getInputs(0).getContents().getUintContentsList())
        .containsExactly(7, 5);
    InferenceException e = refusal(parsed(wire));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining("input 'u': value 4294967301 does not fit UINT32");
  }

  @Test
  void int32ValuesBeyondThirtyTwoBitsAreRefusedAndNegativeOnesAccepted() throws IOException {
    byte[] wide = WireMessages.wideVarints("m", "i", "INT32", new long[] {1, 2},
        InferTensorContents.INT_CONTENTS_FIELD_NUMBER, 1L << 40, 1);
    assertThat(refusal(parsed(wide))).hasMessageContaining("input 'i': value 1099511627776 does not fit INT32");
    ModelSignature ints = new ModelSignature(List.of(new TensorSpec("i", DataType.INT32, new long[] {2})),
        List.of(), 4);
    byte[] negative = WireMessages.wideVarints("m", "i", "INT32", new long[] {1, 2},
        InferTensorContents.INT_CONTENTS_FIELD_NUMBER, -5, 1);
    InferRequest decoded = ProtoTensors.decode(parsed(negative), "m", ints, 0);
    assertThat(decoded.inputs().get(0).data()).containsExactly(-5, -1, -1, -1, 1, 0, 0, 0);
  }

  @Test
  void smallTypedIntegersAreRangeCheckedForTheirWidth() {
    ModelSignature small = new ModelSignature(List.of(new TensorSpec("b", DataType.UINT8, new long[] {1})),
        List.of(), 0);
    InferMessage m = InferMessage.of(ModelInferRequest.newBuilder().addInputs(input("b", "UINT8", 1)
        .setContents(InferTensorContents.newBuilder().addUintContents(256))).build());
    try {
      ProtoTensors.decode(m, "m", small, 0);
      throw new AssertionError("accepted 256 as UINT8");
    } catch (InferenceException e) {
      assertThat(e).hasMessageContaining("input 'b': value 256 does not fit UINT8");
    }
  }
}
