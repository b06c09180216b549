package dev.gantry.sidecar.adapter.json;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest.InferInputTensor;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.sidecar.core.SidecarException;
import io.vertx.core.json.JsonArray;
import dev.gantry.sidecar.adapter.json.Numbers.Whole;
import dev.gantry.sidecar.core.ErrorKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * JSON values to Open Inference tensors and back, shared by the REST adapters. Nested arrays are
 * flattened row-major with their shape checked to be rectangular; each value is checked against
 * the tensor's datatype, and errors name the tensor and the element.
 */
public final class JsonTensors {
  private static final Set<String> TYPES = Set.of("FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8",
      "UINT16", "UINT32", "UINT64", "BOOL", "BYTES");

  private JsonTensors() {}

  /** A flattened JSON array: its values row-major and its shape. */
  public record Flat(List<Object> values, long[] shape) {}

  /**
   * Flattens a (possibly nested) JSON array; a scalar is a 0-d tensor. Refuses arrays that are
   * ragged in length or in depth, or nested deeper than {@link Shapes#MAX_RANK}.
   */
  public static Flat flatten(String what, Object json) {
    List<Object> values = new ArrayList<>();
    List<Long> shape = new ArrayList<>();
    if (isArray(json)) {
      new Walk(what, shape, values).walk(asList(json), 0);
    } else {
      values.add(json);
    }
    return new Flat(values, shape.stream().mapToLong(Long::longValue).toArray());
  }

  private static boolean isArray(Object json) {
    return json instanceof JsonArray || json instanceof List<?>;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> asList(Object json) {
    return json instanceof JsonArray a ? a.getList() : (List<Object>) json;
  }

  /** One flattening: the shape found so far and the depth at which the first values sat. */
  private static final class Walk {
    private final String what;
    private final List<Long> shape;
    private final List<Object> out;
    private int valueDepth = -1;

    Walk(String what, List<Long> shape, List<Object> out) {
      this.what = what;
      this.shape = shape;
      this.out = out;
    }

    void walk(List<Object> list, int depth) {
      if (shape.size() == depth) {
        if (depth == Shapes.MAX_RANK) {
          throw SidecarException.invalid(what + " is nested deeper than " + Shapes.MAX_RANK + " levels");
        }
        if (valueDepth >= 0) {
          throw raggedInDepth(depth + 1);
        }
        shape.add((long) list.size());
      } else if (shape.get(depth) != list.size()) {
        throw SidecarException.invalid(what + " is ragged: an array at depth " + depth + " has " + list.size()
            + " elements where the first had " + shape.get(depth));
      }
      boolean nested = !list.isEmpty() && isArray(list.get(0));
      if (!list.isEmpty() && !nested) {
        if (valueDepth < 0) {
          valueDepth = depth + 1;
        } else if (valueDepth != depth + 1) {
          throw raggedInDepth(depth + 1);
        }
      }
      for (Object item : list) {
        if (isArray(item) != nested) {
          throw SidecarException.invalid(what + " mixes arrays and single values at depth " + depth);
        }
        if (nested) {
          walk(asList(item), depth + 1);
        } else {
          out.add(item);
        }
      }
    }

    private SidecarException raggedInDepth(int depth) {
      return SidecarException.invalid(what + " is ragged in depth: it has elements at depth " + depth
          + " where the first values were at depth " + valueDepth);
    }
  }

  /**
   * Builds an input tensor, checking the shape against the number of values and each value
   * against the datatype; a value is converted exactly or refused.
   *
   * @param lenient accept numbers written as strings (CSV cells)
   */
  public static InferInputTensor tensor(String name, String datatype, long[] shape, List<Object> values,
      boolean lenient) {
    String type = datatype.toUpperCase(Locale.ROOT);
    if (type.equals("FP16") || type.equals("BF16")) {
      throw SidecarException.invalid("input '" + name + "': " + type
          + " cannot be sent as JSON numbers here; use the gRPC API with raw_input_contents");
    }
    if (!TYPES.contains(type)) {
      throw SidecarException.invalid("input '" + name + "': unknown datatype " + Numbers.describe(datatype));
    }
    Shapes.check("input '" + name + "'", shape, values.size());
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int i = 0; i < values.size(); i++) {
      Object v = values.get(i);
      switch (type) {
        case "FP32" -> c.addFp32Contents(Numbers.fp32(name, i, v, lenient));
        case "FP64" -> c.addFp64Contents(Numbers.fp64(name, i, v, lenient));
        case "INT8", "INT16", "INT32" -> c.addIntContents((int) Numbers.whole(Whole.valueOf(type), name, i, v, lenient));
        case "INT64" -> c.addInt64Contents(Numbers.whole(Whole.INT64, name, i, v, lenient));
        case "UINT8", "UINT16", "UINT32" ->
            c.addUintContents((int) Numbers.whole(Whole.valueOf(type), name, i, v, lenient));
        case "UINT64" -> c.addUint64Contents(Numbers.whole(Whole.UINT64, name, i, v, lenient));
        case "BOOL" -> c.addBoolContents(Numbers.bool(name, i, v, lenient));
        default -> c.addBytesContents(ByteString.copyFromUtf8(Numbers.string(name, i, v)));
      }
    }
    InferInputTensor.Builder t = InferInputTensor.newBuilder().setName(name).setDatatype(type).setContents(c);
    for (long d : shape) {
      t.addShape(d);
    }
    return t.build();
  }

  /** An output's values, flat, from typed or raw contents; a datatype JSON cannot carry is a 500. */
  public static List<Object> values(ModelInferResponse response, int index) {
    ModelInferResponse.InferOutputTensor out = response.getOutputs(index);
    if (response.getRawOutputContentsCount() > index) {
      return RawContents.decode(out.getName(), out.getDatatype(), response.getRawOutputContents(index));
    }
    InferTensorContents c = out.getContents();
    List<Object> values = new ArrayList<>();
    switch (out.getDatatype()) {
      case "FP32" -> values.addAll(c.getFp32ContentsList());
      case "FP64" -> values.addAll(c.getFp64ContentsList());
      case "INT8", "INT16", "INT32" -> values.addAll(c.getIntContentsList());
      case "INT64" -> values.addAll(c.getInt64ContentsList());
      case "UINT8", "UINT16" -> values.addAll(c.getUintContentsList());
      case "UINT32" -> c.getUintContentsList().forEach(v -> values.add(Integer.toUnsignedLong(v)));
      case "UINT64" -> c.getUint64ContentsList().forEach(v -> values.add(RawContents.unsigned(v)));
      case "BOOL" -> values.addAll(c.getBoolContentsList());
      case "BYTES" -> c.getBytesContentsList().forEach(v -> values.add(v.toStringUtf8()));
      default -> throw new SidecarException(ErrorKind.INTERNAL, "output '" + out.getName() + "' has datatype "
          + out.getDatatype() + " in typed contents, which cannot be written as JSON");
    }
    return values;
  }

  public static long[] shape(ModelInferResponse.InferOutputTensor out) {
    return out.getShapeList().stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Nests flat values by {@code shape} (row-major) into JSON arrays. The shape must hold exactly
   * the values given (callers check request shapes first); otherwise this is a 500.
   */
  public static Object nest(List<Object> flat, long[] shape) {
    Shapes.check(ErrorKind.INTERNAL, "a tensor", shape, flat.size());
    if (shape.length == 0) {
      return flat.get(0);
    }
    return nest(flat, shape, 0, new int[] {0});
  }

  private static JsonArray nest(List<Object> flat, long[] shape, int dim, int[] at) {
    JsonArray a = new JsonArray(new ArrayList<>((int) Math.min(shape[dim], 1024)));
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
    Shapes.check(ErrorKind.INTERNAL, "a tensor", shape, flat.size());
    List<Object> rows = new ArrayList<>();
    if (shape.length == 0) {
      rows.add(flat.get(0));
      return rows;
    }
    long[] rest = Arrays.copyOfRange(shape, 1, shape.length);
    int per = shape[0] == 0 ? 0 : flat.size() / (int) shape[0];
    for (int r = 0; r < shape[0]; r++) {
      List<Object> slice = flat.subList(r * per, (r + 1) * per);
      rows.add(rest.length == 0 ? slice.get(0) : nest(slice, rest));
    }
    return rows;
  }
}
