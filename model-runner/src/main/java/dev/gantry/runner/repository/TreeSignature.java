package dev.gantry.runner.repository;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.TensorSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The input of a tree model (XGBoost, LightGBM) from an MLflow signature: one FP32 tensor of
 * feature columns. The model file gives the outputs, so the signature's outputs are not read.
 */
final class TreeSignature {
  /** Name of a tree model's input when the signature does not name it. */
  static final String INPUT = "input";
  private static final Set<String> NUMERIC_COLUMNS = Set.of("double", "float", "long", "integer", "boolean");

  private TreeSignature() {}

  /** The input tensor, or none when the MLmodel has no signature (the model file then gives the width). */
  static List<TensorSpec> inputs(Path file, JsonNode signature) {
    JsonNode list = MlflowModel.signatureList(file, "signature.inputs", signature.path("inputs"));
    if (list.isEmpty()) {
      return List.of();
    }
    if ("tensor".equals(list.get(0).path("type").asText())) {
      return List.of(tensorInput(file, list));
    }
    List<String> columns = new ArrayList<>();
    for (JsonNode col : list) {
      String type = col.path("type").asText();
      String name = col.path("name").asText("c" + columns.size());
      if (!NUMERIC_COLUMNS.contains(type)) {
        throw new ConfigException(file, "signature.inputs", "has column '" + name + "' of type '" + type
            + "', but a tree model takes numbers only", "encode the column as numbers before training, or log a"
            + " pipeline with its encoder with the onnx flavor");
      }
      columns.add(name);
    }
    return List.of(new TensorSpec(INPUT, DataType.FP32, new long[] {columns.size()},
        Map.of(MlflowModel.COLUMNS_PARAMETER, String.join(",", columns))));
  }

  private static TensorSpec tensorInput(Path file, JsonNode list) {
    JsonNode shape = list.get(0).path("tensor-spec").path("shape");
    if (list.size() != 1 || shape.size() != 2 || shape.get(0).asLong() != -1 || shape.get(1).asLong() < 1) {
      throw new ConfigException(file, "signature.inputs", "is not one tensor of shape [-1, features]",
          "log the model with the feature matrix as its input example or signature");
    }
    return new TensorSpec(list.get(0).path("name").asText(INPUT), DataType.FP32,
        new long[] {shape.get(1).asLong()});
  }
}
