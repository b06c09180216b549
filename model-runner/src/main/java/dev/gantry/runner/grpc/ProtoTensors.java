package dev.gantry.runner.grpc;

import com.google.protobuf.ByteString;
import dev.gantry.proto.inference.InferTensorContents;
import dev.gantry.proto.inference.ModelInferRequest;
import dev.gantry.proto.inference.ModelInferResponse;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.InferRequest;
import dev.gantry.runner.inference.InferResult;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.RequestValidator;
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
   * Decodes a request for a model whose signature is known. Each input's declared name, datatype
   * and shape are checked against the signature before its data is decoded, and its data must
   * hold exactly the elements the shape declares: nothing is allocated from a shape that was not
   * checked, and decoding stops as soon as the data holds more than declared.
   *
   * @throws InferenceException INVALID_ARGUMENT naming the input and what is wrong
   */
  public static InferRequest decode(InferMessage message, String model, ModelSignature signature,
      long deadlineNanos) {
    ModelInferRequest request = message.request();
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
      long[] shape = input.getShapeList().stream().mapToLong(Long::longValue).toArray();
      long elements = RequestValidator.checkDeclared(model, signature, name, type, shape);
      if (raw) {
        if (input.hasContents() && !input.getContents().equals(InferTensorContents.getDefaultInstance())) {
          throw InferenceException.invalid("input '" + name + "' has both contents and raw_input_contents; send one");
        }
        inputs.add(RawTensors.decode(name, type, shape, elements, request.getRawInputContents(i)));
      } else {
        inputs.add(TypedTensors.decode(name, type, shape, elements, input.getContents(),
            message.outOfRange().get(i)));
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

  private static InferTensorContents toContents(Tensor t) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    if (t.datatype().isBytes()) {
      for (byte[] e : t.elements()) {
        c.addBytesContents(ByteString.copyFrom(e));
      }
      return c.build();
    }
    ByteBuffer buf = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    long n = t.elementCount();
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
