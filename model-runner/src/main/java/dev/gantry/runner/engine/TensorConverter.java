package dev.gantry.runner.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.InferenceException;
import dev.gantry.runner.inference.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/** Converts between Gantry tensors (little-endian bytes) and DJL's NDArrays. */
final class TensorConverter {
  private static final Map<DataType, ai.djl.ndarray.types.DataType> TO_DJL = new EnumMap<>(DataType.class);

  static {
    TO_DJL.put(DataType.BOOL, ai.djl.ndarray.types.DataType.BOOLEAN);
    TO_DJL.put(DataType.UINT8, ai.djl.ndarray.types.DataType.UINT8);
    TO_DJL.put(DataType.UINT16, ai.djl.ndarray.types.DataType.UINT16);
    TO_DJL.put(DataType.UINT32, ai.djl.ndarray.types.DataType.UINT32);
    TO_DJL.put(DataType.UINT64, ai.djl.ndarray.types.DataType.UINT64);
    TO_DJL.put(DataType.INT8, ai.djl.ndarray.types.DataType.INT8);
    TO_DJL.put(DataType.INT16, ai.djl.ndarray.types.DataType.INT16);
    TO_DJL.put(DataType.INT32, ai.djl.ndarray.types.DataType.INT32);
    TO_DJL.put(DataType.INT64, ai.djl.ndarray.types.DataType.INT64);
    TO_DJL.put(DataType.FP16, ai.djl.ndarray.types.DataType.FLOAT16);
    TO_DJL.put(DataType.FP32, ai.djl.ndarray.types.DataType.FLOAT32);
    TO_DJL.put(DataType.FP64, ai.djl.ndarray.types.DataType.FLOAT64);
    TO_DJL.put(DataType.BF16, ai.djl.ndarray.types.DataType.BFLOAT16);
    TO_DJL.put(DataType.BYTES, ai.djl.ndarray.types.DataType.STRING);
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new IllegalStateException("Gantry's engines need a little-endian machine");
    }
  }

  private TensorConverter() {}

  static ai.djl.ndarray.types.DataType toDjl(DataType type) {
    return TO_DJL.get(type);
  }

  static Optional<DataType> fromDjl(ai.djl.ndarray.types.DataType type) {
    for (Map.Entry<DataType, ai.djl.ndarray.types.DataType> e : TO_DJL.entrySet()) {
      if (e.getValue() == type) {
        return Optional.of(e.getKey());
      }
    }
    return Optional.empty();
  }

  static NDArray toNDArray(NDManager manager, Tensor tensor) {
    Shape shape = new Shape(tensor.shape());
    NDArray array;
    if (tensor.datatype().isBytes()) {
      byte[][] elements = tensor.elements();
      String[] strings = new String[elements.length];
      for (int i = 0; i < elements.length; i++) {
        strings[i] = new String(elements[i], StandardCharsets.UTF_8);
      }
      array = manager.create(strings, StandardCharsets.UTF_8, shape);
    } else {
      byte[] data = tensor.data();
      ByteBuffer buffer = ByteBuffer.allocateDirect(data.length).order(ByteOrder.nativeOrder());
      buffer.put(data).rewind();
      array = manager.create(buffer, shape, toDjl(tensor.datatype()));
    }
    array.setName(tensor.name());
    return array;
  }

  static Tensor fromNDArray(String name, NDArray array) {
    DataType type = fromDjl(array.getDataType()).orElseThrow(() -> new InferenceException(
        dev.gantry.runner.inference.ErrorKind.INTERNAL,
        "output '" + name + "' has datatype " + array.getDataType() + ", which the protocol cannot carry"));
    long[] shape = array.getShape().getShape();
    if (type.isBytes()) {
      String[] strings = array.toStringArray(StandardCharsets.UTF_8);
      byte[][] elements = new byte[strings.length][];
      for (int i = 0; i < strings.length; i++) {
        elements[i] = strings[i].getBytes(StandardCharsets.UTF_8);
      }
      return Tensor.ofStrings(name, shape, elements);
    }
    ByteBuffer buffer = array.toByteBuffer();
    byte[] data = new byte[buffer.remaining()];
    buffer.get(data);
    return Tensor.ofBytes(name, type, shape, data);
  }
}
