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
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the input and output tensors (names, types, full shapes) an ONNX file declares. A graph
 * output that comes from a ZipMap (scikit-learn classifiers converted by skl2onnx) is served as the
 * FP32 {@code [N, classes]} tensor that feeds it (see {@link ZipMapOutputs}), with the output
 * parameters {@value #CLASSES} and {@value #PYFUNC}.
 */
final class OnnxIntrospector {
  /** Output parameter: the class labels of a probabilities output's columns, as a JSON array. */
  static final String CLASSES = "classes";
  /** Output parameter: how MLflow's pyfunc shows the output ({@value #ZIPMAP}: a map per row). */
  static final String PYFUNC = "pyfunc";
  static final String ZIPMAP = "zipmap";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Tensors with their full shapes (batch dimension included), -1 for symbolic dimensions.
   *
   * @param served the model to load in place of the file, when its graph was rewritten
   */
  record Described(List<TensorSpec> inputs, List<TensorSpec> outputs, Optional<byte[]> served) {}

  private OnnxIntrospector() {}

  static Described describe(Path file) {
    // DJL's engine creates the process-wide ORT environment with its own thread pools; it must
    // come first, or DJL refuses to start later.
    ai.djl.engine.Engine.getEngine("OnnxRuntime");
    Optional<ZipMapOutputs.Unzipped> unzipped = unzip(file);
    Map<String, List<Object>> classes = unzipped.map(ZipMapOutputs.Unzipped::classes).orElse(Map.of());
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = unzipped.isPresent() ? env.createSession(unzipped.get().model(), options)
            : env.createSession(file.toString(), options)) {
      return new Described(specs(file, session.getInputInfo(), Map.of()),
          specs(file, session.getOutputInfo(), classes), unzipped.map(ZipMapOutputs.Unzipped::model));
    } catch (OrtException e) {
      throw new ConfigException(file + ": ONNX Runtime cannot read the model" + (unzipped.isPresent()
          ? " with its ZipMap outputs " + classes.keySet() + " served as tensors" : "") + ": " + e.getMessage(), e);
    }
  }

  private static Optional<ZipMapOutputs.Unzipped> unzip(Path file) {
    try {
      return ZipMapOutputs.unwrap(Files.readAllBytes(file));
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException(file + ": cannot read the ONNX model: " + e.getMessage()
          + " (fix: export a valid ONNX file)", e);
    }
  }

  private static List<TensorSpec> specs(Path file, Map<String, NodeInfo> infos, Map<String, List<Object>> classes) {
    List<TensorSpec> specs = new ArrayList<>();
    for (NodeInfo node : infos.values()) {
      if (!(node.getInfo() instanceof TensorInfo info)) {
        throw new ConfigException(file + ": tensor '" + node.getName() + "' is a " + node.getInfo()
            + ", not a tensor; Gantry serves models whose inputs and outputs are tensors (and a ZipMap output"
            + " of a scikit-learn classifier)", null);
      }
      List<Object> labels = classes.get(node.getName());
      Map<String, String> parameters = labels == null ? Map.of() : Map.of(CLASSES, json(labels), PYFUNC, ZIPMAP);
      specs.add(new TensorSpec(node.getName(), toDataType(file, node.getName(), info.type), info.getShape(),
          parameters));
    }
    return specs;
  }

  private static String json(List<Object> labels) {
    try {
      return JSON.writeValueAsString(labels);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("class labels are strings or numbers", e);
    }
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
