package dev.gantry.runner.grpc;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferResult;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns Open Inference protobuf messages into Gantry tensors and back. Typed contents and
 * {@code raw_input_contents} are both accepted; the answer uses raw outputs when the request
 * used raw inputs, typed contents otherwise.
 */
public final class ProtoTensors {
  private ProtoTensors() {}

  /**
   * Decodes a request.
   *
   * @throws InferenceException INVALID_ARGUMENT naming the input and what is wrong
   */
  public static InferRequest decode(ModelInferRequest request, long deadlineNanos) {
    int rawCount = request.getRawInputContentsCount();
    boolean raw = rawCount > 0;
    if (raw && rawCount != request.getInputsCount()) {
      throw InferenceException.invalid("raw_input_contents has " + rawCount + " entries but the request has "
          + request.getInputsCount() + " inputs; send one entry per input, in input order");
    }
    List<Tensor> inputs = new ArrayList<>(request.getInputsCount());
    for (int i = 0; i < request.getInputsCount(); i++) {
      ModelInferRequest.InferInputTensor input = request.getInputs(i);
      String name = input.getName();
      if (name.isEmpty()) {
        throw InferenceException.invalid("input #" + i + " has no name");
      }
      DataType type = DataType.parse(input.getDatatype()).orElseThrow(() -> InferenceException.invalid(
          "input '" + name + "': unknown datatype '" + input.getDatatype() + "'; use one of " + DataType.names()));
      long[] shape = new long[input.getShapeCount()];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = input.getShape(d);
        if (shape[d] < 0) {
          throw InferenceException.invalid("input '" + name + "': shape " + input.getShapeList()
              + " has a negative dimension");
        }
      }
      if (raw) {
        if (input.hasContents() && !input.getContents().equals(InferTensorContents.getDefaultInstance())) {
          throw InferenceException.invalid("input '" + name + "' has both contents and raw_input_contents; send one");
        }
        inputs.add(fromRaw(name, type, shape, request.getRawInputContents(i)));
      } else {
        inputs.add(fromContents(name, type, shape, input.getContents()));
      }
    }
    Set<String> outputs = new LinkedHashSet<>();
    for (ModelInferRequest.InferRequestedOutputTensor out : request.getOutputsList()) {
      outputs.add(out.getName());
    }
    return new InferRequest(request.getId(), inputs, outputs, deadlineNanos);
  }

  /** Whether the answer should carry raw outputs. */
  public static boolean wantsRaw(ModelInferRequest request) {
    return request.getRawInputContentsCount() > 0;
  }

  public static ModelInferResponse encode(InferResult result, String id, boolean raw) {
    ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
        .setModelName(result.modelName())
        .setModelVersion(result.modelVersion())
        .setId(id);
    boolean useRaw = raw || result.outputs().stream()
        .anyMatch(t -> t.datatype() == DataType.FP16 || t.datatype() == DataType.BF16);
    for (Tensor t : result.outputs()) {
      ModelInferResponse.InferOutputTensor.Builder out = ModelInferResponse.InferOutputTensor.newBuilder()
          .setName(t.name())
          .setDatatype(t.datatype().name());
      for (long d : t.shape()) {
        out.addShape(d);
      }
      if (useRaw) {
        response.addRawOutputContents(toRaw(t));
      } else {
        out.setContents(toContents(t));
      }
      response.addOutputs(out);
    }
    return response.build();
  }

  static Tensor fromRaw(String name, DataType type, long[] shape, ByteString bytes) {
    if (!type.isBytes()) {
      return Tensor.ofBytes(name, type, shape, bytes.toByteArray());
    }
    ByteBuffer buf = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> elements = new ArrayList<>();
    while (buf.remaining() > 0) {
      if (buf.remaining() < 4) {
        throw InferenceException.invalid("input '" + name + "': BYTES raw content ends inside a length prefix;"
            + " each element needs a 4-byte little-endian length, then its bytes");
      }
      int len = buf.getInt();
      if (len < 0 || len > buf.remaining()) {
        throw InferenceException.invalid("input '" + name + "': BYTES element " + elements.size() + " claims "
            + Integer.toUnsignedString(len) + " bytes but only " + buf.remaining() + " remain");
      }
      byte[] e = new byte[len];
      buf.get(e);
      elements.add(e);
    }
    return Tensor.ofStrings(name, shape, elements.toArray(byte[][]::new));
  }

  static ByteString toRaw(Tensor t) {
    if (!t.datatype().isBytes()) {
      return ByteString.copyFrom(t.data());
    }
    int size = 0;
    for (byte[] e : t.elements()) {
      size += 4 + e.length;
    }
    ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] e : t.elements()) {
      buf.putInt(e.length).put(e);
    }
    return ByteString.copyFrom(buf.array());
  }

  private static Tensor fromContents(String name, DataType type, long[] shape, InferTensorContents c) {
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
    return switch (type) {
      case BOOL -> {
        byte[] b = new byte[c.getBoolContentsCount()];
        for (int i = 0; i < b.length; i++) {
          b[i] = (byte) (c.getBoolContents(i) ? 1 : 0);
        }
        yield Tensor.ofBytes(name, type, shape, b);
      }
      case INT8, INT16, INT32 -> {
        ByteBuffer buf = le(c.getIntContentsCount() * type.byteSize());
        for (int i = 0; i < c.getIntContentsCount(); i++) {
          int v = c.getIntContents(i);
          if (type == DataType.INT8) {
            checkRange(name, type, v, Byte.MIN_VALUE, Byte.MAX_VALUE);
          } else if (type == DataType.INT16) {
            checkRange(name, type, v, Short.MIN_VALUE, Short.MAX_VALUE);
          }
          putInt(buf, type, v);
        }
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case UINT8, UINT16, UINT32 -> {
        ByteBuffer buf = le(c.getUintContentsCount() * type.byteSize());
        for (int i = 0; i < c.getUintContentsCount(); i++) {
          int v = c.getUintContents(i);
          if (type != DataType.UINT32) {
            checkRange(name, type, v, 0, type == DataType.UINT8 ? 0xFF : 0xFFFF);
          }
          putInt(buf, type, v);
        }
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case INT64 -> {
        ByteBuffer buf = le(c.getInt64ContentsCount() * 8);
        c.getInt64ContentsList().forEach(buf::putLong);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case UINT64 -> {
        ByteBuffer buf = le(c.getUint64ContentsCount() * 8);
        c.getUint64ContentsList().forEach(buf::putLong);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case FP32 -> {
        ByteBuffer buf = le(c.getFp32ContentsCount() * 4);
        c.getFp32ContentsList().forEach(buf::putFloat);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case FP64 -> {
        ByteBuffer buf = le(c.getFp64ContentsCount() * 8);
        c.getFp64ContentsList().forEach(buf::putDouble);
        yield Tensor.ofBytes(name, type, shape, buf.array());
      }
      case BYTES -> Tensor.ofStrings(name, shape,
          c.getBytesContentsList().stream().map(ByteString::toByteArray).toArray(byte[][]::new));
      default -> throw new IllegalStateException("unreachable: " + type);
    };
  }

  private static void checkRange(String name, DataType type, int v, int min, int max) {
    if (v < min || v > max) {
      throw InferenceException.invalid("input '" + name + "': value " + v + " does not fit " + type);
    }
  }

  private static void putInt(ByteBuffer buf, DataType type, int v) {
    switch (type.byteSize()) {
      case 1 -> buf.put((byte) v);
      case 2 -> buf.putShort((short) v);
      default -> buf.putInt(v);
    }
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
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

  private static InferTensorContents toContents(Tensor t) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    if (t.datatype().isBytes()) {
      for (byte[] e : t.elements()) {
        c.addBytesContents(ByteString.copyFrom(e));
      }
      return c.build();
    }
    ByteBuffer buf = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    long n = t.heldElements();
    for (long i = 0; i < n; i++) {
      switch (t.datatype()) {
        case BOOL -> c.addBoolContents(buf.get() != 0);
        case INT8 -> c.addIntContents(buf.get());
        case INT16 -> c.addIntContents(buf.getShort());
        case INT32 -> c.addIntContents(buf.getInt());
        case UINT8 -> c.addUintContents(Byte.toUnsignedInt(buf.get()));
        case UINT16 -> c.addUintContents(Short.toUnsignedInt(buf.getShort()));
        case UINT32 -> c.addUintContents(buf.getInt());
        case INT64 -> c.addInt64Contents(buf.getLong());
        case UINT64 -> c.addUint64Contents(buf.getLong());
        case FP32 -> c.addFp32Contents(buf.getFloat());
        case FP64 -> c.addFp64Contents(buf.getDouble());
        default -> throw new IllegalStateException(t.datatype() + " has no typed contents field");
      }
    }
    return c.build();
  }
}
