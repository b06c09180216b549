package dev.gantry.runner.grpc;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Shapes;
import dev.gantry.runner.inference.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes one input's typed {@code contents} against the element count its checked shape
 * declares: the datatype's own field, exactly that many values, each within the datatype's range.
 */
final class TypedTensors {
  private TypedTensors() {}

  /**
   * @param outOfRange the first value of this input's {@code int_contents} or {@code uint_contents}
   *     that did not fit 32 bits on the wire (protobuf truncates those silently), or null
   * @throws InferenceException INVALID_ARGUMENT naming the input and what is wrong
   */
  static Tensor decode(String name, DataType type, long[] shape, long elements, InferTensorContents c,
      String outOfRange) {
    String field = fieldFor(type);
    String carried = carriedField(c);
    if (carried != null && !carried.equals(field)) {
      throw InferenceException.invalid("input '" + name + "' is " + type + " but its data is in " + carried
          + (field == null ? "; send " + type + " data in raw_input_contents" : "; use " + field));
    }
    if (field == null) {
      throw InferenceException.invalid("input '" + name + "': " + type
          + " has no typed contents field; send its data in raw_input_contents");
    }
    int count = valueCount(type, c);
    if (count != elements) {
      if (type.isBytes()) {
        throw InferenceException.invalid("input '" + name + "': shape " + Shapes.format(shape) + " needs " + elements
            + " BYTES elements, got " + count);
      }
      throw RawTensors.sizeMismatch(name, type, shape, elements,
          (long) count * type.byteSize() + " bytes (" + count + " values in " + field + ")");
    }
    if (outOfRange != null) {
      throw InferenceException.invalid("input '" + name + "': value " + outOfRange + " does not fit " + type);
    }
    return switch (type) {
      case BOOL -> {
        byte[] b = new byte[count];
        for (int i = 0; i < count; i++) {
          b[i] = (byte) (c.getBoolContents(i) ? 1 : 0);
        }
        yield Tensor.ofBytes(name, type, shape, b);
      }
      case INT8, INT16, INT32 -> {
        ByteBuffer buf = le(count * type.byteSize());
        for (int i = 0; i < count; i++) {
          putInt(name, type, buf, c.getIntContents(i));
        }
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case UINT8, UINT16, UINT32 -> {
        ByteBuffer buf = le(count * type.byteSize());
        for (int i = 0; i < count; i++) {
          putInt(name, type, buf, c.getUintContents(i));
        }
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case INT64 -> {
        ByteBuffer buf = le(count * 8);
        c.getInt64ContentsList().forEach(buf::putLong);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case UINT64 -> {
        ByteBuffer buf = le(count * 8);
        c.getUint64ContentsList().forEach(buf::putLong);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case FP32 -> {
        ByteBuffer buf = le(count * 4);
        c.getFp32ContentsList().forEach(buf::putFloat);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case FP64 -> {
        ByteBuffer buf = le(count * 8);
        c.getFp64ContentsList().forEach(buf::putDouble);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case BYTES -> Tensor.ofStrings(name, shape,
          c.getBytesContentsList().stream().map(ByteString::toByteArray).toArray(byte[][]::new));
      default -> throw new IllegalStateException("unreachable: " + type);
    };
  }

  /** Puts a 32-bit protobuf value as the datatype's width, refusing values the datatype cannot hold. */
  private static void putInt(String name, DataType type, ByteBuffer buf, int v) {
    boolean unsigned = type == DataType.UINT8 || type == DataType.UINT16 || type == DataType.UINT32;
    long value = unsigned ? Integer.toUnsignedLong(v) : v;
    long min = switch (type) {
      case INT8 -> Byte.MIN_VALUE;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      default -> 0;
    };
    long max = switch (type) {
      case INT8 -> Byte.MAX_VALUE;
      case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE;
      case UINT8 -> 0xFFL;
      case UINT16 -> 0xFFFFL;
      default -> 0xFFFF_FFFFL;
    };
    if (value < min || value > max) {
      throw InferenceException.invalid("input '" + name + "': value " + value + " does not fit " + type);
    }
    switch (type.byteSize()) {
      case 1 -> buf.put((byte) v);
      case 2 -> buf.putShort((short) v);
      default -> buf.putInt(v);
    }
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static int valueCount(DataType type, InferTensorContents c) {
    return switch (type) {
      case BOOL -> c.getBoolContentsCount();
      case INT8, INT16, INT32 -> c.getIntContentsCount();
      case INT64 -> c.getInt64ContentsCount();
      case UINT8, UINT16, UINT32 -> c.getUintContentsCount();
      case UINT64 -> c.getUint64ContentsCount();
      case FP32 -> c.getFp32ContentsCount();
      case FP64 -> c.getFp64ContentsCount();
      case BYTES -> c.getBytesContentsCount();
      case FP16, BF16 -> 0;
    };
  }

  private static String fieldFor(DataType type) {
    return switch (type) {
      case BOOL -> "bool_contents";
      case INT8, INT16, INT32 -> "int_contents";
      case INT64 -> "int64_contents";
      case UINT8, UINT16, UINT32 -> "uint_contents";
      case UINT64 -> "uint64_contents";
      case FP32 -> "fp32_contents";
      case FP64 -> "fp64_contents";
      case BYTES -> "bytes_contents";
      case FP16, BF16 -> null;
    };
  }

  private static String carriedField(InferTensorContents c) {
    if (c.getBoolContentsCount() > 0) {
      return "bool_contents";
    }
    if (c.getIntContentsCount() > 0) {
      return "int_contents";
    }
    if (c.getInt64ContentsCount() > 0) {
      return "int64_contents";
    }
    if (c.getUintContentsCount() > 0) {
      return "uint_contents";
    }
    if (c.getUint64ContentsCount() > 0) {
      return "uint64_contents";
    }
    if (c.getFp32ContentsCount() > 0) {
      return "fp32_contents";
    }
    if (c.getFp64ContentsCount() > 0) {
      return "fp64_contents";
    }
    if (c.getBytesContentsCount() > 0) {
      return "bytes_contents";
    }
    return null;
  }
}
