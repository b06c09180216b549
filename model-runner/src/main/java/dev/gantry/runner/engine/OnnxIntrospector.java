package dev.gantry.runner.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.TensorSpec;
import dev.gantry.runner.repository.ConfigException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads the input and output tensors (names, types, full shapes) an ONNX file declares. */
final class OnnxIntrospector {
  /** Tensors with their full shapes (batch dimension included), -1 for symbolic dimensions. */
  record Described(List<TensorSpec> inputs, List<TensorSpec> outputs) {}

  private OnnxIntrospector() {}

  static Described describe(Path file) {
    // DJL's engine creates the process-wide ORT environment with its own thread pools; it must
    // come first, or DJL refuses to start later.
    ai.djl.engine.Engine.getEngine("OnnxRuntime");
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(file.toString(), options)) {
      return new Described(specs(file, session.getInputInfo()), specs(file, session.getOutputInfo()));
    } catch (OrtException e) {
      throw new ConfigException(file + ": ONNX Runtime cannot read the model: " + e.getMessage(), e);
    }
  }

  private static List<TensorSpec> specs(Path file, Map<String, NodeInfo> infos) {
    List<TensorSpec> specs = new ArrayList<>();
    for (NodeInfo node : infos.values()) {
      if (!(node.getInfo() instanceof TensorInfo info)) {
        throw new ConfigException(file + ": tensor '" + node.getName() + "' is a " + node.getInfo()
            + ", not a tensor; Gantry serves models whose inputs and outputs are tensors", null);
      }
      specs.add(new TensorSpec(node.getName(), toDataType(file, node.getName(), info.type), info.getShape()));
    }
    return specs;
  }

  private static DataType toDataType(Path file, String name, OnnxJavaType type) {
    return switch (type) {
      case FLOAT -> DataType.FP32;
      case DOUBLE -> DataType.FP64;
      case FLOAT16 -> DataType.FP16;
      case BFLOAT16 -> DataType.BF16;
      case INT8 -> DataType.INT8;
      case INT16 -> DataType.INT16;
      case INT32 -> DataType.INT32;
      case INT64 -> DataType.INT64;
      case UINT8 -> DataType.UINT8;
      case BOOL -> DataType.BOOL;
      case STRING -> DataType.BYTES;
      default -> throw new ConfigException(file + ": tensor '" + name + "' has ONNX type " + type
          + ", which Gantry does not serve", null);
    };
  }
}
