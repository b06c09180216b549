package dev.gantry.runner.repository;

import dev.gantry.runner.inference.DataType;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** The engines a model can run on, with the names the config and the metadata use. */
public enum Platform {
  PYTORCH("pytorch", "PyTorch", "pytorch_libtorch", "model.pt", EnumSet.of(DataType.BOOL, DataType.UINT8,
      DataType.INT8, DataType.INT32, DataType.INT64, DataType.FP16, DataType.FP32, DataType.FP64)),
  ONNXRUNTIME("onnxruntime", "OnnxRuntime", "onnxruntime_onnx", "model.onnx", EnumSet.of(DataType.BOOL,
      DataType.UINT8, DataType.INT8, DataType.INT32, DataType.INT64, DataType.FP16, DataType.BF16, DataType.FP32,
      DataType.FP64, DataType.BYTES));

  private final String configName;
  private final String djlEngine;
  private final String metadataName;
  private final String fileName;
  private final Set<DataType> datatypes;

  Platform(String configName, String djlEngine, String metadataName, String fileName, Set<DataType> datatypes) {
    this.configName = configName;
    this.djlEngine = djlEngine;
    this.metadataName = metadataName;
    this.fileName = fileName;
    this.datatypes = datatypes;
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

  /** DJL's engine name. */
  public String djlEngine() {
    return djlEngine;
  }

  /** Name reported in model metadata (the names Triton uses). */
  public String metadataName() {
    return metadataName;
  }

  /** Model file expected in each version folder. */
  public String fileName() {
    return fileName;
  }

  /** Accepts the config name, the metadata name and a few common aliases. */
  public static Optional<Platform> parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "pytorch", "torchscript", "pytorch_libtorch", "libtorch" -> Optional.of(PYTORCH);
      case "onnxruntime", "onnx", "onnxruntime_onnx" -> Optional.of(ONNXRUNTIME);
      default -> Optional.empty();
    };
  }
}
