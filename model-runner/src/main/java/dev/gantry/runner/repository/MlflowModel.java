package dev.gantry.runner.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An MLflow model directory: an {@code MLmodel} file with an {@code onnx} flavor, a
 * {@code pytorch} flavor saved as TorchScript, an {@code xgboost} flavor (JSON or UBJSON file) or
 * a {@code lightgbm} flavor holding a Booster's text file. Its signature gives input names, types
 * and, for a column-based signature, the column order. Flavors that only Python can run (a
 * pickled {@code sklearn} model, a custom {@code python_function}) are refused with the fix.
 *
 * @param platform the engine the flavor needs
 * @param modelFile the model file inside the directory
 * @param inputs tensors from the signature; empty for ONNX, whose file describes itself (and for a tree
 *     model without a signature)
 * @param outputs tensors from the signature; empty for ONNX and tree models, whose files describe them
 * @param defaultMaxBatchSize the batch size used unless config.yaml sets one
 */
public record MlflowModel(Platform platform, Path modelFile, List<TensorSpec> inputs, List<TensorSpec> outputs,
    int defaultMaxBatchSize, List<String> columns) {

  /** A model whose tensors need no column order beyond what {@code inputs} says. */
  public MlflowModel(Platform platform, Path modelFile, List<TensorSpec> inputs, List<TensorSpec> outputs,
      int defaultMaxBatchSize) {
    this(platform, modelFile, inputs, outputs, defaultMaxBatchSize, List.of());
  }

  /** Parameter published on a 2-D input: its columns in order, comma-separated. */
  public static final String COLUMNS_PARAMETER = "columns";
  /** Parameter published on a probabilities output [N, classes]: the class labels in column order, a JSON array. */
  public static final String CLASSES_PARAMETER = "classes";
  /**
   * Parameter published on an output: how MLflow's pyfunc shows it ({@link #PYFUNC_OMIT}, or {@code zipmap});
   * absent means as it is.
   */
  public static final String PYFUNC_PARAMETER = "pyfunc";
  /** {@link #PYFUNC_PARAMETER} value: not part of MLflow and KServe v1 answers (v2 and gRPC still carry it). */
  public static final String PYFUNC_OMIT = "omit";
  /** {@link #PYFUNC_PARAMETER} value: a column of the DataFrame an MLflow ONNX model's pyfunc answers with. */
  public static final String PYFUNC_COLUMN = "column";
  static final int DEFAULT_MAX_BATCH_SIZE = 64;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads {@code dir/MLmodel}. */
  public static MlflowModel read(Path dir) {
    Path file = dir.resolve("MLmodel");
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException(file, "", "is not valid YAML: " + e.getMessage(), "restore the file MLflow wrote");
    }
    JsonNode flavors = root.path("flavors");
    if (flavors.has("onnx")) {
      String data = flavors.path("onnx").path("data").asText("model.onnx");
      Path model = existing(file, "flavors.onnx.data", dir.resolve(data));
      // the graph describes its tensors; a column-based signature still says the order columns are stacked in
      return new MlflowModel(Platform.ONNXRUNTIME, model, List.of(), List.of(), DEFAULT_MAX_BATCH_SIZE,
          signatureColumns(file, root.path("signature").path("inputs")));
    }
    if (flavors.has("pytorch")) {
      String data = flavors.path("pytorch").path("model_data").asText("data");
      Path model = existing(file, "flavors.pytorch.model_data", dir.resolve(data).resolve("model.pth"));
      JsonNode signature = root.path("signature");
      if (signature.isMissingNode() || signature.path("inputs").isMissingNode()
          || signature.path("outputs").isMissingNode()) {
        throw new ConfigException(file, "signature", "is missing inputs or outputs; a TorchScript file does not"
            + " describe its tensors", "log the model with a signature (mlflow.models.infer_signature)");
      }
      List<TensorSpec> inputs = new ArrayList<>();
      int batch = signatureTensors(file, "signature.inputs", signature.path("inputs"), "input", inputs);
      List<TensorSpec> outputs = new ArrayList<>();
      int outBatch = signatureTensors(file, "signature.outputs", signature.path("outputs"), "predictions", outputs);
      return new MlflowModel(Platform.PYTORCH, model, inputs, outputs, Math.min(batch, outBatch));
    }
    if (flavors.has("xgboost")) {
      String data = flavors.path("xgboost").path("data").asText("model.xgb");
      Path model = existing(file, "flavors.xgboost.data", dir.resolve(data));
      return new MlflowModel(Platform.XGBOOST, model, TreeSignature.inputs(file, root.path("signature")), List.of(),
          DEFAULT_MAX_BATCH_SIZE);
    }
    if (flavors.has("lightgbm")) {
      JsonNode flavor = flavors.path("lightgbm");
      String modelClass = flavor.path("model_class").asText("lightgbm.basic.Booster");
      if (!modelClass.equals("lightgbm.basic.Booster")) {
        throw new ConfigException(file, "flavors.lightgbm.model_class", "is '" + modelClass + "', which MLflow saves"
            + " as a Python pickle (" + flavor.path("data").asText("model.pkl") + ") that only Python can load",
            "log the fitted model's Booster, whose text file Gantry runs: mlflow.lightgbm.log_model("
            + "model.booster_, \"model\", signature=...) (its pyfunc then answers Booster.predict:"
            + " probabilities for a classifier), or log it with the onnx flavor");
      }
      String data = flavor.path("data").asText("model.lgb");
      Path model = existing(file, "flavors.lightgbm.data", dir.resolve(data));
      return new MlflowModel(Platform.LIGHTGBM, model, TreeSignature.inputs(file, root.path("signature")), List.of(),
          DEFAULT_MAX_BATCH_SIZE);
    }
    throw UnrunnableFlavor.refusal(file, flavors);
  }

  /** The column names of a column-based signature's inputs, in order; empty for a tensor-based or no signature. */
  private static List<String> signatureColumns(Path file, JsonNode node) {
    JsonNode list = signatureList(file, "signature.inputs", node);
    if (list.isEmpty() || "tensor".equals(list.get(0).path("type").asText())) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    for (JsonNode col : list) {
      if (!col.hasNonNull("name")) {
        return List.of();
      }
      names.add(col.path("name").asText());
    }
    return names;
  }

  /**
   * A signature's inputs or outputs as the JSON array MLflow writes (as a string inside the YAML); an empty array when
   * the signature has none.
   */
  static JsonNode signatureList(Path file, String key, JsonNode node) {
    if (node.isMissingNode() || node.isNull()) {
      return JSON.createArrayNode();
    }
    JsonNode list;
    try {
      list = node.isTextual() ? JSON.readTree(node.asText()) : node;
    } catch (IOException e) {
      throw new ConfigException(file, key, "is not valid JSON: " + e.getMessage(), "restore the file MLflow wrote");
    }
    return list.isArray() ? list : JSON.createArrayNode();
  }

  private static Path existing(Path file, String key, Path model) {
    if (!Files.isRegularFile(model)) {
      throw new ConfigException(file, key, "points to " + model + ", which does not exist",
          "restore the model file MLflow saved");
    }
    return model;
  }

  /** Fills {@code out}; returns the max batch size the shapes allow (0 when fixed). */
  private static int signatureTensors(Path file, String key, JsonNode node, String defaultName,
      List<TensorSpec> out) {
    JsonNode list;
    try {
      list = node.isTextual() ? JSON.readTree(node.asText()) : node;
    } catch (IOException e) {
      throw new ConfigException(file, key, "is not valid JSON: " + e.getMessage(), "restore the file MLflow wrote");
    }
    if (!list.isArray() || list.isEmpty()) {
      throw new ConfigException(file, key, "is empty", "log the model with a signature");
    }
    boolean tensorBased = "tensor".equals(list.get(0).path("type").asText());
    if (!tensorBased) {
      List<String> columns = new ArrayList<>();
      DataType common = null;
      for (JsonNode col : list) {
        DataType t = columnType(file, key, col.path("type").asText());
        if (common != null && common != t) {
          throw new ConfigException(file, key, "mixes column types " + common + " and " + t
              + ", which cannot be stacked into the one tensor a TorchScript model takes",
              "cast the columns to one type before logging the model");
        }
        common = t;
        columns.add(col.path("name").asText("c" + columns.size()));
      }
      out.add(new TensorSpec(defaultName, common, new long[] {columns.size()},
          Map.of(COLUMNS_PARAMETER, String.join(",", columns))));
      return DEFAULT_MAX_BATCH_SIZE;
    }
    int batch = DEFAULT_MAX_BATCH_SIZE;
    for (int i = 0; i < list.size(); i++) {
      JsonNode t = list.get(i);
      JsonNode spec = t.path("tensor-spec");
      DataType type = numpyType(file, key, spec.path("dtype").asText());
      JsonNode shape = spec.path("shape");
      long[] full = new long[shape.size()];
      for (int d = 0; d < full.length; d++) {
        full[d] = shape.get(d).asLong();
      }
      String name = t.path("name").asText(list.size() == 1 ? defaultName : defaultName + "-" + i);
      if (full.length > 0 && full[0] == -1) {
        long[] dims = new long[full.length - 1];
        System.arraycopy(full, 1, dims, 0, dims.length);
        out.add(new TensorSpec(name, type, dims));
      } else {
        batch = 0;
        out.add(new TensorSpec(name, type, full));
      }
    }
    return batch;
  }

  private static DataType columnType(Path file, String key, String type) {
    return switch (type.toLowerCase(Locale.ROOT)) {
      case "double" -> DataType.FP64;
      case "float" -> DataType.FP32;
      case "long" -> DataType.INT64;
      case "integer" -> DataType.INT32;
      case "boolean" -> DataType.BOOL;
      case "string", "binary" -> DataType.BYTES;
      default -> throw new ConfigException(file, key, "has column type '" + type + "'",
          "use double, float, long, integer, boolean, string or binary");
    };
  }

  private static DataType numpyType(Path file, String key, String dtype) {
    return switch (dtype.toLowerCase(Locale.ROOT)) {
      case "float32" -> DataType.FP32;
      case "float64" -> DataType.FP64;
      case "float16" -> DataType.FP16;
      case "int8" -> DataType.INT8;
      case "int16" -> DataType.INT16;
      case "int32" -> DataType.INT32;
      case "int64" -> DataType.INT64;
      case "uint8" -> DataType.UINT8;
      case "bool" -> DataType.BOOL;
      case "str", "object", "bytes" -> DataType.BYTES;
      default -> throw new ConfigException(file, key, "has tensor dtype '" + dtype + "'",
          "use a numeric numpy dtype such as float32");
    };
  }
}
