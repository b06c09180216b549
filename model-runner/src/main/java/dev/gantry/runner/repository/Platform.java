package dev.gantry.runner.repository;

import java.util.Locale;
import java.util.Optional;

/** The engines a model can run on, with the names the config and the metadata use. */
public enum Platform {
  PYTORCH("pytorch", "PyTorch", "pytorch_libtorch", "model.pt"),
  ONNXRUNTIME("onnxruntime", "OnnxRuntime", "onnxruntime_onnx", "model.onnx");

  private final String configName;
  private final String djlEngine;
  private final String metadataName;
  private final String fileName;

  Platform(String configName, String djlEngine, String metadataName, String fileName) {
    this.configName = configName;
    this.djlEngine = djlEngine;
    this.metadataName = metadataName;
    this.fileName = fileName;
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
