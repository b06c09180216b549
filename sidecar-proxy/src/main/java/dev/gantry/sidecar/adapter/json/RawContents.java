package dev.gantry.sidecar.adapter.json;

import com.google.protobuf.ByteString;
import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An output's {@code raw_output_contents} (little-endian, BYTES as 4-byte length + bytes) as JSON
 * values. FP16 and BF16 become floats; UINT64 an exact number. Contents that do not divide into
 * whole elements, and datatypes JSON cannot carry, are a {@link SidecarException} (500), never an
 * unchecked exception.
 */
final class RawContents {
  private RawContents() {}

  static List<Object> decode(String name, String type, ByteString raw) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (type.equals("BYTES")) {
      return strings(name, b);
    }
    int size = elementSize(name, type);
    if (b.remaining() % size != 0) {
      throw internal("output '" + name + "' has " + b.remaining() + " bytes of raw " + type
          + " contents, not a whole number of " + size + "-byte elements");
    }
    List<Object> values = new ArrayList<>(b.remaining() / size);
    while (b.hasRemaining()) {
      values.add(switch (type) {
        case "FP16" -> halfToFloat(b.getShort());
        case "BF16" -> Float.intBitsToFloat(b.getShort() << 16);
        case "FP32" -> b.getFloat();
        case "FP64" -> b.getDouble();
        case "INT8" -> (int) b.get();
        case "INT16" -> (int) b.getShort();
        case "INT32" -> b.getInt();
        case "INT64" -> b.getLong();
        case "UINT8" -> Byte.toUnsignedInt(b.get());
        case "UINT16" -> Short.toUnsignedInt(b.getShort());
        case "UINT32" -> Integer.toUnsignedLong(b.getInt());
        case "UINT64" -> unsigned(b.getLong());
        default -> b.get() != 0; // BOOL
      });
    }
    return values;
  }

  private static int elementSize(String name, String type) {
    return switch (type) {
      case "BOOL", "INT8", "UINT8" -> 1;
      case "FP16", "BF16", "INT16", "UINT16" -> 2;
      case "FP32", "INT32", "UINT32" -> 4;
      case "FP64", "INT64", "UINT64" -> 8;
      default -> throw internal("output '" + name + "' has datatype " + type + ", which cannot be written as JSON");
    };
  }

  private static List<Object> strings(String name, ByteBuffer b) {
    List<Object> values = new ArrayList<>();
    while (b.hasRemaining()) {
      int length = b.remaining() >= 4 ? b.getInt() : -1;
      if (length < 0 || length > b.remaining()) {
        throw internal("output '" + name + "' has raw BYTES contents whose element " + values.size()
            + " does not fit in them");
      }
      byte[] e = new byte[length];
      b.get(e);
      values.add(new String(e, StandardCharsets.UTF_8));
    }
    return values;
  }

  /** A UINT64 as an exact JSON number: a Long up to 2^63 - 1, a BigInteger above. */
  static Number unsigned(long bits) {
    return bits >= 0 ? (Number) bits : new BigInteger(Long.toUnsignedString(bits));
  }

  /** IEEE 754 half precision to float (Float.float16ToFloat is Java 20). */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f80_0000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float subnormal = mantissa * 0x1p-24f;
      return sign == 0 ? subnormal : -subnormal;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  private static SidecarException internal(String message) {
    return new SidecarException(ErrorKind.INTERNAL, message);
  }
}
