package dev.gantry.sidecar.adapter.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.proto.inference.ModelInferResponse.InferOutputTensor;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * JSON values to tensors and back: every value converted exactly or refused with a 400 naming the
 * input, the element and the value; outputs of every datatype rendered as JSON numbers, or a
 * SidecarException when they cannot be.
 */
class JsonTensorsTest {
  private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

  /** The values as the sidecar's JSON parser gives them. */
  private static List<Object> parsed(String jsonArray) {
    return new JsonArray(jsonArray).getList();
  }

  private static InferInputTensor tensor(String datatype, String jsonArray) {
    List<Object> values = parsed(jsonArray);
    return JsonTensors.tensor("x", datatype, new long[] {values.size()}, values, false);
  }

  private static void assertRefused(String datatype, String jsonArray, String... parts) {
    assertThatThrownBy(() -> tensor(datatype, jsonArray))
        .isInstanceOfSatisfying(SidecarException.class,
            e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT))
        .hasMessageContainingAll(parts);
  }

  @Test
  void uint64AboveTwoTo63IsKeptExactAndTwoTo64IsRefused() {
    InferInputTensor t = tensor("UINT64", "[18446744073709551615, 9223372036854775808, 0]");
    assertThat(t.getContents().getUint64ContentsList()).containsExactly(-1L, Long.MIN_VALUE, 0L);
    assertRefused("UINT64", "[1, 18446744073709551616]", "input 'x'", "element 1", "18446744073709551616",
        "UINT64's range");
    assertRefused("UINT64", "[-1]", "element 0", "-1", "UINT64's range");
  }

  @Test
  void int64OutOfRangeIsRefusedInsteadOfClamped() {
    InferInputTensor t = tensor("INT64", "[-9223372036854775808, 9223372036854775807]");
    assertThat(t.getContents().getInt64ContentsList()).containsExactly(Long.MIN_VALUE, Long.MAX_VALUE);
    assertRefused("INT64", "[9223372036854775808]", "element 0", "9223372036854775808", "INT64's range");
    assertRefused("INT64", "[0, -9223372036854775809]", "element 1", "-9223372036854775809");
    assertRefused("INT64", "[1e19]", "element 0", "1.0E19", "INT64's range");
    assertRefused("INT64", "[1e400]", "element 0", "INT64's range");
  }

  @Test
  void uint32AboveItsRangeIsRefusedInsteadOfTruncated() {
    InferInputTensor t = tensor("UINT32", "[4294967295, 0]");
    assertThat(t.getContents().getUintContentsList()).containsExactly(-1, 0);
    assertRefused("UINT32", "[4294967296]", "input 'x'", "element 0", "4294967296", "[0, 4294967295]");
  }

  @Test
  void int32OverflowIsAnInvalidArgumentNotAnArithmeticException() {
    assertRefused("INT32", "[1, 2147483648]", "element 1", "2147483648", "INT32's range");
  }

  @ParameterizedTest(name = "{0}: {1} and {2} fit, {3} does not")
  @CsvSource({
      "INT8, -128, 127, 128",
      "INT8, 127, -128, -129",
      "UINT8, 0, 255, 256",
      "UINT8, 255, 0, -1",
      "INT16, -32768, 32767, 32768",
      "INT16, 32767, -32768, -32769",
      "UINT16, 0, 65535, 65536",
      "UINT16, 65535, 0, -1"})
  void smallIntegerTypesAreRangeChecked(String type, long low, long high, long outside) {
    InferInputTensor t = tensor(type, "[" + low + ", " + high + "]");
    List<Long> stored = new ArrayList<>();
    (type.startsWith("U") ? t.getContents().getUintContentsList() : t.getContents().getIntContentsList())
        .forEach(v -> stored.add((long) v));
    assertThat(stored).containsExactly(low, high);
    assertRefused(type, "[" + low + ", " + outside + "]", "element 1", String.valueOf(outside), type + "'s range");
  }

  @Test
  void wholeNumbersWrittenWithAnExponentOrFractionAreAccepted() {
    assertThat(tensor("INT32", "[1e3, 3.0, -2E1]").getContents().getIntContentsList()).containsExactly(1000, 3, -20);
    assertThat(tensor("UINT64", "[1e15]").getContents().getUint64ContentsList()).containsExactly(1_000_000_000_000_000L);
    List<Object> cells = List.of("1e3", " 3.0 ", "-7", "18446744073709551615");
    assertThat(JsonTensors.tensor("x", "INT64", new long[] {3}, cells.subList(0, 3), true).getContents()
        .getInt64ContentsList()).containsExactly(1000L, 3L, -7L);
    assertThat(JsonTensors.tensor("x", "UINT64", new long[] {1}, cells.subList(3, 4), true).getContents()
        .getUint64ContentsList()).containsExactly(-1L);
  }

  @Test
  void wholeNumbersAbove2To53WrittenWithAnExponentAreRefusedRatherThanRounded() {
    assertRefused("INT64", "[1e18]", "element 0", "1.0E18", "2^53");
    assertRefused("UINT64", "[9007199254740993.0]", "element 0", "2^53");
  }

  @Test
  void fractionsAreRefusedForIntegerTypes() {
    assertRefused("INT32", "[1, 1.5]", "element 1", "1.5", "whole number");
    assertThatThrownBy(() -> JsonTensors.tensor("x", "INT64", new long[] {2}, List.of("1e-999999999", "2"), true))
        .isInstanceOf(SidecarException.class).hasMessageContainingAll("element 0", "whole number");
    assertThatThrownBy(() -> JsonTensors.tensor("x", "INT64", new long[] {1}, List.of("1e999999999"), true))
        .isInstanceOf(SidecarException.class).hasMessageContainingAll("element 0", "INT64's range");
    assertThatThrownBy(() -> JsonTensors.tensor("x", "INT8", new long[] {1}, List.of("0x10"), true))
        .isInstanceOf(SidecarException.class).hasMessageContainingAll("element 0", "\"0x10\"", "expected a number");
  }

  @Test
  void floatsTooLargeForTheirTypeAreRefusedInsteadOfBecomingInfinity() {
    assertThat(tensor("FP32", "[1.5, 3.4e38]").getContents().getFp32ContentsList()).containsExactly(1.5f, 3.4e38f);
    assertRefused("FP32", "[1, 1e39]", "element 1", "1.0E39", "FP32's range");
    assertRefused("FP64", "[1e400]", "element 0", "FP64's range");
    assertRefused("FP64", "[1" + "0".repeat(400) + "]", "element 0", "FP64's range");
    assertThat(JsonTensors.tensor("x", "FP64", new long[] {1}, List.of("-Infinity"), true).getContents()
        .getFp64Contents(0)).isEqualTo(Double.NEGATIVE_INFINITY);
  }

  @Test
  void aValueThatIsAnObjectIsNamedByItsKindNotItsText() {
    assertRefused("FP32", "[{\"a\": \"" + "b".repeat(1000) + "\"}]", "element 0 is an object, expected a number");
  }

  @Test
  void arraysRaggedInDepthAreRefusedNamingTheDepth() {
    assertThatThrownBy(() -> JsonTensors.flatten("'instances'", new JsonArray("[[1,2],[[3],[4]]]")))
        .isInstanceOf(SidecarException.class)
        .hasMessageContainingAll("'instances'", "ragged in depth", "depth 3", "depth 2");
    assertThatThrownBy(() -> JsonTensors.flatten("'instances'", new JsonArray("[[[1],[2]],[3,4]]")))
        .isInstanceOf(SidecarException.class).hasMessageContainingAll("ragged in depth", "depth 2", "depth 3");
    assertThat(JsonTensors.flatten("x", new JsonArray("[[[1],[2]],[[3],[4]]]")).shape()).containsExactly(2, 2, 1);
    assertThat(JsonTensors.flatten("x", new JsonArray("[[],[]]")).shape()).containsExactly(2, 0);
  }

  @Test
  void arraysNestedDeeperThanTheRankLimitAreRefused() {
    String deep = "[".repeat(Shapes.MAX_RANK + 1) + "1" + "]".repeat(Shapes.MAX_RANK + 1);
    assertThatThrownBy(() -> JsonTensors.flatten("x", new JsonArray(deep)))
        .isInstanceOf(SidecarException.class).hasMessageContaining("nested deeper than " + Shapes.MAX_RANK);
  }

  @Test
  void aShapeThatDoesNotHoldTheValuesIsRefused() {
    List<Object> values = parsed("[1, 2, 3]");
    assertThatThrownBy(() -> JsonTensors.tensor("x", "FP32", new long[] {2, 2}, values, false))
        .isInstanceOf(SidecarException.class).hasMessageContainingAll("input 'x'", "(4 values) but 3 values");
    assertThatThrownBy(() -> JsonTensors.tensor("x", "FP32", new long[] {1_000_000, 1_000_000, 0}, List.of(), false))
        .isInstanceOf(SidecarException.class).hasMessageContaining("empty tensor");
  }

  @Test
  void anUnknownDatatypeIsRefusedEvenWithNoValues() {
    assertThatThrownBy(() -> JsonTensors.tensor("x", "FP8", new long[] {0}, List.of(), false))
        .isInstanceOf(SidecarException.class).hasMessageContaining("unknown datatype \"FP8\"");
    assertThatThrownBy(() -> JsonTensors.tensor("x", "T".repeat(100_000), new long[] {0}, List.of(), false))
        .isInstanceOf(SidecarException.class).hasMessageContaining("T…").message().hasSizeLessThan(100);
  }

  private static ModelInferResponse typed(String datatype, InferTensorContents contents, long... shape) {
    InferOutputTensor.Builder out = InferOutputTensor.newBuilder().setName("y").setDatatype(datatype)
        .setContents(contents);
    for (long d : shape) {
      out.addShape(d);
    }
    return ModelInferResponse.newBuilder().addOutputs(out).build();
  }

  private static ModelInferResponse raw(String datatype, byte[] bytes, long... shape) {
    return typed(datatype, InferTensorContents.getDefaultInstance(), shape).toBuilder()
        .addRawOutputContents(ByteString.copyFrom(bytes)).build();
  }

  private static byte[] littleEndian(int bytesPerValue, long... values) {
    ByteBuffer b = ByteBuffer.allocate(bytesPerValue * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      switch (bytesPerValue) {
        case 2 -> b.putShort((short) v);
        case 4 -> b.putInt((int) v);
        default -> b.putLong(v);
      }
    }
    return b.array();
  }

  @Test
  void uint64OutputsAreRenderedAsExactJsonNumbers() {
    ModelInferResponse typed = typed("UINT64", InferTensorContents.newBuilder().addUint64Contents(-1L)
        .addUint64Contents(7L).build(), 2);
    assertThat(new JsonArray(JsonTensors.values(typed, 0)).encode()).isEqualTo("[18446744073709551615,7]");
    ModelInferResponse raw = raw("UINT64", littleEndian(8, Long.MIN_VALUE, 1), 2);
    assertThat(new JsonArray(JsonTensors.values(raw, 0)).encode()).isEqualTo("[9223372036854775808,1]");
    assertThat(new JsonObject().put("y", JsonTensors.nest(JsonTensors.values(raw, 0), new long[] {1, 2})).encode())
        .isEqualTo("{\"y\":[[9223372036854775808,1]]}");
  }

  @Test
  void fp16AndBf16OutputsAreRenderedAsNumbers() {
    // half: 1.0, -2.0, 65504 (largest), 2^-24 (smallest subnormal), infinity
    ModelInferResponse half = raw("FP16", littleEndian(2, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00), 5);
    assertThat(JsonTensors.values(half, 0)).containsExactly(1.0f, -2.0f, 65504.0f, 0x1p-24f,
        Float.POSITIVE_INFINITY);
    // bfloat16: 1.0, -2.5, 3.3895314e38 (largest)
    ModelInferResponse bf16 = raw("BF16", littleEndian(2, 0x3f80, 0xc020, 0x7f7f), 3);
    assertThat(JsonTensors.values(bf16, 0)).containsExactly(1.0f, -2.5f, Float.intBitsToFloat(0x7f7f0000));
    assertThat(new JsonArray(JsonTensors.values(half, 0).subList(0, 2)).encode()).isEqualTo("[1.0,-2.0]");
  }

  @Test
  void outputsThatCannotBeRenderedAreSidecarExceptionsNotUncheckedOnes() {
    List<ModelInferResponse> bad = List.of(
        raw("FP8", new byte[] {1}, 1),
        raw("FP32", new byte[] {1, 2, 3}, 1),
        raw("BYTES", littleEndian(4, 100), 1),
        raw("BYTES", littleEndian(4, -5), 1),
        raw("BYTES", new byte[] {1, 0}, 1),
        typed("FP16", InferTensorContents.getDefaultInstance(), 0));
    for (ModelInferResponse r : bad) {
      assertThatThrownBy(() -> JsonTensors.values(r, 0)).as(r.getOutputs(0).getDatatype())
          .isInstanceOfSatisfying(SidecarException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.INTERNAL))
          .hasMessageContaining("output 'y'");
    }
  }

  @Test
  void rawBytesOutputsAreDecoded() {
    ByteBuffer b = ByteBuffer.allocate(11).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(2).put((byte) 'h').put((byte) 'i').putInt(1).put((byte) '!');
    assertThat(JsonTensors.values(raw("BYTES", b.array(), 2), 0)).containsExactly("hi", "!");
  }

  @Test
  void zeroSizeShapesNestAndSplitIntoRows() {
    assertThat(JsonTensors.rows(List.of(), new long[] {0, 3})).isEmpty();
    assertThat(new JsonArray(JsonTensors.rows(List.of(), new long[] {2, 0})).encode()).isEqualTo("[[],[]]");
    assertThat(JsonTensors.nest(List.of(), new long[] {2, 0, 5}).toString()).isEqualTo("[[],[]]");
    assertThat(JsonTensors.rows(List.of(1, 2, 3, 4), new long[] {2, 2})).hasSize(2);
  }

  @Test
  void wideEmptyShapesAreRefusedWithoutBuildingTheirArrays() {
    assertThatThrownBy(() -> JsonTensors.nest(List.of(), new long[] {1_000_000, 1_000_000, 0}))
        .isInstanceOf(SidecarException.class).hasMessageContaining("empty tensor");
    // the old row split multiplied ints: 65536 * 65536 * 0 rows of 2^32 empty arrays each
    assertThatThrownBy(() -> JsonTensors.rows(List.of(), new long[] {1, 65536, 65536, 0}))
        .isInstanceOf(SidecarException.class).hasMessageContaining("empty tensor");
    assertThatThrownBy(() -> JsonTensors.rows(List.of(1), new long[] {65536, 65536, 65536, 65536}))
        .isInstanceOf(SidecarException.class).hasMessageContaining("multiply past");
  }
}
