package dev.gantry.runner.grpc;

import com.google.protobuf.ByteString;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Shapes;
import dev.gantry.runner.inference.Tensor;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes one input's {@code raw_input_contents} entry against the element count its checked
 * shape declares. A fixed-size buffer must be exactly {@code elements × byteSize} bytes; BYTES
 * content is read within that count and refused as soon as it holds more.
 */
final class RawTensors {
  private static final byte[] EMPTY = new byte[0];

  private RawTensors() {}

  /** @throws InferenceException INVALID_ARGUMENT naming the input and both sizes */
  static Tensor decode(String name, DataType type, long[] shape, long elements, ByteString bytes) {
    return type.isBytes() ? strings(name, shape, elements, bytes) : fixed(name, type, shape, elements, bytes);
  }

  private static Tensor fixed(String name, DataType type, long[] shape, long elements, ByteString bytes) {
    int size = type.byteSize();
    if (bytes.size() % size != 0 || bytes.size() / size != elements) {
      throw sizeMismatch(name, type, shape, elements, bytes.size() + " bytes");
    }
    byte[] data = bytes.toByteArray();
    if (type == DataType.BOOL) {
      for (int i = 0; i < data.length; i++) {
        if (data[i] != 0 && data[i] != 1) {
          throw InferenceException.invalid("input '" + name + "': BOOL element " + i + " is byte " + data[i]
              + "; raw BOOL elements are one byte each, 0 or 1");
        }
      }
    }
    return Tensor.ofBytes(name, type, shape, data);
  }

  /** The message for data that does not hold what the shape declares, for raw and typed contents. */
  static InferenceException sizeMismatch(String name, DataType type, long[] shape, long elements, String got) {
    BigInteger needed = BigInteger.valueOf(elements).multiply(BigInteger.valueOf(type.byteSize()));
    return InferenceException.invalid("input '" + name + "': shape " + Shapes.format(shape) + " " + type
        + " needs " + needed + " bytes (" + elements + " elements), got " + got);
  }

  private static Tensor strings(String name, long[] shape, long elements, ByteString bytes) {
    // every element has a 4-byte length prefix: a body this size cannot hold more
    if (elements > bytes.size() / 4) {
      throw InferenceException.invalid("input '" + name + "': shape " + Shapes.format(shape) + " needs " + elements
          + " BYTES elements but its " + bytes.size() + " raw bytes hold at most " + bytes.size() / 4
          + " (each element has a 4-byte length prefix)");
    }
    byte[][] out = new byte[(int) elements][];
    ByteBuffer buf = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int count = 0;
    while (buf.remaining() > 0) {
      if (count == elements) {
        throw InferenceException.invalid("input '" + name + "': BYTES raw content holds more than the " + elements
            + " elements its shape " + Shapes.format(shape) + " declares");
      }
      if (buf.remaining() < 4) {
        throw InferenceException.invalid("input '" + name + "': BYTES raw content ends inside a length prefix;"
            + " each element needs a 4-byte little-endian length, then its bytes");
      }
      int len = buf.getInt();
      if (len < 0 || len > buf.remaining()) {
        throw InferenceException.invalid("input '" + name + "': BYTES element " + count + " claims "
            + Integer.toUnsignedString(len) + " bytes but only " + buf.remaining() + " remain");
      }
      byte[] e = len == 0 ? EMPTY : new byte[len];
      buf.get(e);
      out[count++] = e;
    }
    if (count != elements) {
      throw InferenceException.invalid("input '" + name + "': shape " + Shapes.format(shape) + " needs " + elements
          + " BYTES elements, got " + count);
    }
    return Tensor.ofStrings(name, shape, out);
  }
}
