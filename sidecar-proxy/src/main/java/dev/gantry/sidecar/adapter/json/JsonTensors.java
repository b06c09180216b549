package dev.gantry.sidecar.adapter.json;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * JSON values to Open Inference tensors and back, shared by the REST adapters. Nested arrays are
 * flattened row-major with their shape checked to be rectangular; each value is checked against
 * the tensor's datatype, and errors name the tensor and the element.
 */
public final class JsonTensors {
  private JsonTensors() {}

  /** A flattened JSON array: its values row-major and its shape. */
  public record Flat(List<Object> values, long[] shape) {}

  /** Flattens a (possibly nested) JSON array; a scalar is a 0-d tensor. */
  public static Flat flatten(String what, Object json) {
    List<Object> values = new ArrayList<>();
    List<Long> shape = new ArrayList<>();
    if (json instanceof JsonArray || json instanceof List<?>) {
      walk(what, asList(json), 0, shape, values);
    } else {
      values.add(json);
    }
    return new Flat(values, shape.stream().mapToLong(Long::longValue).toArray());
  }

  @SuppressWarnings("unchecked")
  private static List<Object> asList(Object json) {
    return json instanceof JsonArray a ? a.getList() : (List<Object>) json;
  }

  private static void walk(String what, List<Object> list, int depth, List<Long> shape, List<Object> out) {
    if (shape.size() == depth) {
      shape.add((long) list.size());
    } else if (shape.get(depth) != list.size()) {
      throw SidecarException.invalid(what + " is ragged: an array at depth " + depth + " has " + list.size()
          + " elements where the first had " + shape.get(depth));
    }
    boolean nested = !list.isEmpty() && (list.get(0) instanceof JsonArray || list.get(0) instanceof List<?>);
    for (Object item : list) {
      boolean isList = item instanceof JsonArray || item instanceof List<?>;
      if (isList != nested) {
        throw SidecarException.invalid(what + " mixes arrays and single values at depth " + depth);
      }
      if (isList) {
        walk(what, asList(item), depth + 1, shape, out);
      } else {
        out.add(item);
      }
    }
  }

  /**
   * Builds an input tensor, checking each value against the datatype.
   *
   * @param lenient accept numbers written as strings (CSV cells)
   */
  public static InferInputTensor tensor(String name, String datatype, long[] shape, List<Object> values,
      boolean lenient) {
    String type = datatype.toUpperCase(Locale.ROOT);
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int i = 0; i < values.size(); i++) {
      Object v = values.get(i);
      switch (type) {
        case "FP32" -> c.addFp32Contents((float) number(name, i, v, lenient));
        case "FP64" -> c.addFp64Contents(number(name, i, v, lenient));
        case "INT8", "INT16", "INT32" -> c.addIntContents(Math.toIntExact(integer(name, i, v, lenient)));
        case "INT64" -> c.addInt64Contents(integer(name, i, v, lenient));
        case "UINT8", "UINT16", "UINT32" -> c.addUintContents((int) unsigned(name, i, v, lenient));
        case "UINT64" -> c.addUint64Contents(unsigned(name, i, v, lenient));
        case "BOOL" -> c.addBoolContents(bool(name, i, v, lenient));
        case "BYTES" -> {
          if (!(v instanceof String s)) {
            throw SidecarException.invalid("input '" + name + "': element " + i + " is " + describe(v)
                + ", expected a string (BYTES)");
          }
          c.addBytesContents(ByteString.copyFromUtf8(s));
        }
        case "FP16", "BF16" -> throw SidecarException.invalid("input '" + name + "': " + type
            + " cannot be sent as JSON numbers here; use the gRPC API with raw_input_contents");
        default -> throw SidecarException.invalid("input '" + name + "': unknown datatype '" + datatype + "'");
      }
    }
    InferInputTensor.Builder t = InferInputTensor.newBuilder().setName(name).setDatatype(type).setContents(c);
    for (long d : shape) {
      t.addShape(d);
    }
    return t.build();
  }

  private static String describe(Object v) {
    return v instanceof String s ? "\"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\"" : String.valueOf(v);
  }

  private static double number(String name, int i, Object v, boolean lenient) {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (lenient && v instanceof String s) {
      try {
        return Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        // falls through
      }
    }
    throw SidecarException.invalid("input '" + name + "': element " + i + " is " + describe(v)
        + ", expected a number");
  }

  private static long integer(String name, int i, Object v, boolean lenient) {
    double d = number(name, i, v, lenient);
    if (d != Math.rint(d) || Double.isInfinite(d)) {
      throw SidecarException.invalid("input '" + name + "': element " + i + " is " + describe(v)
          + ", expected a whole number");
    }
    return v instanceof Long l ? l : v instanceof Integer n ? n : (long) d;
  }

  private static long unsigned(String name, int i, Object v, boolean lenient) {
    long n = integer(name, i, v, lenient);
    if (n < 0) {
      throw SidecarException.invalid("input '" + name + "': element " + i + " is " + n + ", expected >= 0");
    }
    return n;
  }

  private static boolean bool(String name, int i, Object v, boolean lenient) {
    if (v instanceof Boolean b) {
      return b;
    }
    if (lenient && v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(s);
    }
    throw SidecarException.invalid("input '" + name + "': element " + i + " is " + describe(v)
        + ", expected true or false");
  }

  /** An output's values, flat, from typed or raw contents. */
  public static List<Object> values(ModelInferResponse response, int index) {
    ModelInferResponse.InferOutputTensor out = response.getOutputs(index);
    String type = out.getDatatype();
    List<Object> values = new ArrayList<>();
    if (response.getRawOutputContentsCount() > index) {
      ByteBuffer b = response.getRawOutputContents(index).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining()) {
        switch (type) {
          case "FP32" -> values.add(b.getFloat());
          case "FP64" -> values.add(b.getDouble());
          case "INT8" -> values.add((int) b.get());
          case "INT16" -> values.add((int) b.getShort());
          case "INT32" -> values.add(b.getInt());
          case "INT64" -> values.add(b.getLong());
          case "UINT8" -> values.add(Byte.toUnsignedInt(b.get()));
          case "UINT16" -> values.add(Short.toUnsignedInt(b.getShort()));
          case "UINT32" -> values.add(Integer.toUnsignedLong(b.getInt()));
          case "UINT64" -> values.add(Long.toUnsignedString(b.getLong()));
          case "BOOL" -> values.add(b.get() != 0);
          case "BYTES" -> {
            byte[] e = new byte[b.getInt()];
            b.get(e);
            values.add(new String(e, StandardCharsets.UTF_8));
          }
          default -> throw new SidecarException(dev.gantry.sidecar.core.ErrorKind.INTERNAL, "output '"
              + out.getName() + "' has datatype " + type + ", which cannot be written as JSON");
        }
      }
      return values;
    }
    InferTensorContents c = out.getContents();
    switch (type) {
      case "FP32" -> values.addAll(c.getFp32ContentsList());
      case "FP64" -> values.addAll(c.getFp64ContentsList());
      case "INT8", "INT16", "INT32" -> values.addAll(c.getIntContentsList());
      case "INT64" -> values.addAll(c.getInt64ContentsList());
      case "UINT8", "UINT16" -> values.addAll(c.getUintContentsList());
      case "UINT32" -> c.getUintContentsList().forEach(v -> values.add(Integer.toUnsignedLong(v)));
      case "UINT64" -> c.getUint64ContentsList().forEach(v -> values.add(Long.toUnsignedString(v)));
      case "BOOL" -> values.addAll(c.getBoolContentsList());
      case "BYTES" -> c.getBytesContentsList().forEach(v -> values.add(v.toStringUtf8()));
      default -> throw new SidecarException(dev.gantry.sidecar.core.ErrorKind.INTERNAL, "output '"
          + out.getName() + "' has datatype " + type + ", which cannot be written as JSON");
    }
    return values;
  }

  public static long[] shape(ModelInferResponse.InferOutputTensor out) {
    return out.getShapeList().stream().mapToLong(Long::longValue).toArray();
  }

  /** Nests flat values by {@code shape} (row-major) into JSON arrays. */
  public static Object nest(List<Object> flat, long[] shape) {
    if (shape.length == 0) {
      return flat.isEmpty() ? null : flat.get(0);
    }
    return nest(flat, shape, 0, new int[] {0});
  }

  private static JsonArray nest(List<Object> flat, long[] shape, int dim, int[] at) {
    JsonArray a = new JsonArray();
    for (long i = 0; i < shape[dim]; i++) {
      if (dim == shape.length - 1) {
        a.add(flat.get(at[0]++));
      } else {
        a.add(nest(flat, shape, dim + 1, at));
      }
    }
    return a;
  }

  /** Rows of an output: element i is row i nested by the remaining dimensions. */
  public static List<Object> rows(List<Object> flat, long[] shape) {
    List<Object> rows = new ArrayList<>();
    if (shape.length == 0) {
      rows.add(flat.isEmpty() ? null : flat.get(0));
      return rows;
    }
    long[] rest = java.util.Arrays.copyOfRange(shape, 1, shape.length);
    int per = 1;
    for (long d : rest) {
      per *= (int) d;
    }
    for (int r = 0; r < shape[0]; r++) {
      List<Object> slice = flat.subList(r * per, (r + 1) * per);
      rows.add(rest.length == 0 ? slice.get(0) : nest(slice, rest));
    }
    return rows;
  }
}
