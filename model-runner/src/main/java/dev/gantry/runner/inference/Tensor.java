package dev.gantry.runner.inference;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable named tensor. Fixed-size types hold their elements as little-endian bytes
 * (the Open Inference raw layout); {@link DataType#BYTES} holds one byte array per element.
 * The arrays are not copied: callers hand them over and must not change them afterwards.
 *
 * <p>A tensor always holds exactly the elements its shape describes: a fixed-size tensor's data is
 * exactly {@code elements × byteSize} bytes. Decoders check caller data against the declared
 * shape first and answer INVALID_ARGUMENT; a mismatch reaching this class is a bug
 * ({@link IllegalArgumentException}), so batches are never built from misaligned buffers.
 */
public final class Tensor {
  private final String name;
  private final DataType datatype;
  private final long[] shape;
  private final byte[] data;
  private final byte[][] elements;

  private final long elementCount;

  private Tensor(String name, DataType datatype, long[] shape, byte[] data, byte[][] elements) {
    this.name = requireNonNull(name, "name");
    this.datatype = requireNonNull(datatype, "datatype");
    this.shape = requireNonNull(shape, "shape").clone();
    this.data = data;
    this.elements = elements;
    this.elementCount = Shapes.elementCount(this.shape);
    long held = datatype.isBytes() ? elements.length : data.length / datatype.byteSize();
    if (held != elementCount || (!datatype.isBytes() && data.length % datatype.byteSize() != 0)) {
      throw new IllegalArgumentException("tensor '" + name + "' of shape " + Shapes.format(this.shape) + " "
          + datatype + " needs " + elementCount + " elements but holds "
          + (datatype.isBytes() ? elements.length + " elements" : data.length + " bytes"));
    }
  }

  /** A fixed-size tensor over little-endian bytes. */
  public static Tensor ofBytes(String name, DataType datatype, long[] shape, byte[] littleEndian) {
    if (datatype.isBytes()) {
      throw new IllegalArgumentException("use ofStrings for BYTES tensors");
    }
    return new Tensor(name, datatype, shape, requireNonNull(littleEndian, "data"), null);
  }

  /** A BYTES tensor, one array per element. */
  public static Tensor ofStrings(String name, long[] shape, byte[][] elements) {
    return new Tensor(name, DataType.BYTES, shape, null, requireNonNull(elements, "elements"));
  }

  /** Convenience for tests and warm-up: an FP32 tensor. */
  public static Tensor ofFloats(String name, long[] shape, float... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putFloat(v);
    }
    return ofBytes(name, DataType.FP32, shape, buf.array());
  }

  /** Convenience for tests: a BYTES tensor of UTF-8 strings. */
  public static Tensor ofUtf8(String name, long[] shape, String... values) {
    byte[][] e = new byte[values.length][];
    for (int i = 0; i < values.length; i++) {
      e[i] = values[i].getBytes(StandardCharsets.UTF_8);
    }
    return ofStrings(name, shape, e);
  }

  public String name() {
    return name;
  }

  public DataType datatype() {
    return datatype;
  }

  public long[] shape() {
    return shape.clone();
  }

  /** Size of the first dimension; 1 for a scalar. */
  public long rows() {
    return shape.length == 0 ? 1 : shape[0];
  }

  /** Little-endian element bytes; only for fixed-size types. */
  public byte[] data() {
    if (data == null) {
      throw new IllegalStateException("BYTES tensor has no fixed-size data");
    }
    return data;
  }

  /** One array per element; only for BYTES. */
  public byte[][] elements() {
    if (elements == null) {
      throw new IllegalStateException(datatype + " tensor has no BYTES elements");
    }
    return elements;
  }

  /** Number of elements: the product of the shape, which the data always matches. */
  public long elementCount() {
    return elementCount;
  }

  /** Payload size in bytes (for BYTES, the sum of element lengths). */
  public long byteSize() {
    if (!datatype.isBytes()) {
      return data.length;
    }
    long n = 0;
    for (byte[] e : elements) {
      n += e.length;
    }
    return n;
  }

  /** The same data under another name. */
  public Tensor renamed(String newName) {
    return new Tensor(newName, datatype, shape, data, elements);
  }

  /** Rows {@code [from, to)} along the first dimension. */
  public Tensor sliceRows(long from, long to) {
    if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
      throw new IllegalArgumentException("cannot slice rows " + from + ".." + to + " of " + Shapes.format(shape));
    }
    long rowElements = shape[0] == 0 ? 0 : elementCount / shape[0];
    long[] sliced = Shapes.withFirst(shape, to - from);
    int a = Math.toIntExact(from * rowElements);
    int b = Math.toIntExact(to * rowElements);
    if (datatype.isBytes()) {
      return ofStrings(name, sliced, Arrays.copyOfRange(elements, a, b));
    }
    int size = datatype.byteSize();
    return ofBytes(name, datatype, sliced, Arrays.copyOfRange(data, a * size, b * size));
  }

  /** Joins tensors of equal trailing dimensions along the first dimension. */
  public static Tensor concatRows(List<Tensor> parts) {
    Tensor first = parts.get(0);
    if (parts.size() == 1) {
      return first;
    }
    long rows = 0;
    for (Tensor t : parts) {
      rows += t.rows();
    }
    long[] shape = Shapes.withFirst(first.shape, rows);
    if (first.datatype.isBytes()) {
      byte[][] all = new byte[Math.toIntExact(Shapes.elementCount(shape))][];
      int at = 0;
      for (Tensor t : parts) {
        System.arraycopy(t.elements, 0, all, at, t.elements.length);
        at += t.elements.length;
      }
      return ofStrings(first.name, shape, all);
    }
    int total = 0;
    for (Tensor t : parts) {
      total = Math.addExact(total, t.data.length);
    }
    byte[] all = new byte[total];
    int at = 0;
    for (Tensor t : parts) {
      System.arraycopy(t.data, 0, all, at, t.data.length);
      at += t.data.length;
    }
    return ofBytes(first.name, first.datatype, shape, all);
  }

  /** Reads the elements as floats (FP32 only); for tests and logs. */
  public float[] asFloats() {
    if (datatype != DataType.FP32) {
      throw new IllegalStateException("not FP32: " + datatype);
    }
    float[] out = new float[data.length / 4];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  @Override
  public String toString() {
    return "Tensor[" + name + " " + datatype + " " + Shapes.format(shape) + "]";
  }
}
