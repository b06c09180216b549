package dev.gantry.runner.repository;

import dev.gantry.runner.inference.DataType;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The engines a model can run on, with the names the config and the metadata use. PyTorch and ONNX
 * Runtime run through DJL; XGBoost and LightGBM run in-process through their own JNI libraries.
 */
public enum Platform {
  PYTORCH("pytorch", "PyTorch", "pytorch_libtorch", List.of("model.pt"), EnumSet.of(DataType.BOOL, DataType.UINT8,
      DataType.INT8, DataType.INT32, DataType.INT64, DataType.FP16, DataType.FP32, DataType.FP64)),
  ONNXRUNTIME("onnxruntime", "OnnxRuntime", "onnxruntime_onnx", List.of("model.onnx"), EnumSet.of(DataType.BOOL,
      DataType.UINT8, DataType.INT8, DataType.INT32, DataType.INT64, DataType.FP16, DataType.BF16, DataType.FP32,
      DataType.FP64, DataType.BYTES)),
  /** XGBoost's JSON or UBJSON model files (what {@code Booster.save_model} writes for those names). */
  XGBOOST("xgboost", "XGBoost", "xgboost", List.of("model.json", "model.ubj", "model.xgb"),
      EnumSet.of(DataType.FP32, DataType.INT64)),
  /** LightGBM's text model file ({@code Booster.save_model}). */
  LIGHTGBM("lightgbm", "LightGBM", "lightgbm", List.of("model.lgb", "model.txt"),
      EnumSet.of(DataType.FP32, DataType.FP64, DataType.INT64));

  private final String configName;
  private final String djlEngine;
  private final String metadataName;
  private final List<String> fileNames;
  private final Set<DataType> datatypes;

  Platform(String configName, String djlEngine, String metadataName, List<String> fileNames,
      Set<DataType> datatypes) {
    this.configName = configName;
    this.djlEngine = djlEngine;
    this.metadataName = metadataName;
    this.fileNames = fileNames;
    this.datatypes = datatypes;
  }

  /** Whether the engine is one of DJL's; the others are tree libraries run in-process. */
  public boolean usesDjl() {
    return this == PYTORCH || this == ONNXRUNTIME;
  }

  /**
   * The tensor datatypes the engine takes through DJL (checked here: DJL's PyTorch engine aborts
   * the process on INT16, UINT16/32/64 and BF16 arrays, so those are refused when a model loads).
   */
  public Set<DataType> datatypes() {
    return EnumSet.copyOf(datatypes);
  }

  /** Name used in {@code config.yaml}. */
  public String configName() {
    return configName;
  }

  /** The engine's name: DJL's engine name for DJL's engines. */
  public String djlEngine() {
    return djlEngine;
  }

  /** Name reported in model metadata (the names Triton uses). */
  public String metadataName() {
    return metadataName;
  }

  /** Model file expected in each version folder (the first of {@link #fileNames()}). */
  public String fileName() {
    return fileNames.get(0);
  }

  /** Model file names taken in a version folder, the first one present wins. */
  public List<String> fileNames() {
    return fileNames;
  }

  /** Accepts the config name, the metadata name and a few common aliases. */
  public static Optional<Platform> parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "pytorch", "torchscript", "pytorch_libtorch", "libtorch" -> Optional.of(PYTORCH);
      case "onnxruntime", "onnx", "onnxruntime_onnx" -> Optional.of(ONNXRUNTIME);
      case "xgboost" -> Optional.of(XGBOOST);
      case "lightgbm" -> Optional.of(LIGHTGBM);
      default -> Optional.empty();
    };
  }
}
