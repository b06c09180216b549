package dev.gantry.runner.engine.trees;

import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.inference.ModelSignature;
import dev.gantry.runner.inference.TensorSpec;
import dev.gantry.runner.repository.ConfigException;
import dev.gantry.runner.repository.ModelConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Loads XGBoost and LightGBM model files into their own libraries (JNI, natives from their Maven
 * Central jars). The model takes one FP32 tensor [N, features], NaN for a missing value; the
 * file says what it predicts (see {@link TreeOutputs}).
 */
public final class TreeLoader {
  private final int threads;

  /** @param threads the library's threads per prediction; 0 for its default (all cores) */
  public TreeLoader(int threads) {
    this.threads = threads;
  }

  /**
   * Loads one version's model file.
   *
   * @throws ConfigException when the file cannot be loaded or does not fit the config or MLflow signature
   */
  public LoadedModel load(ModelConfig config, Path file) {
    if (config.device().gpu()) {
      throw new ConfigException("model '" + config.name() + "': 'device' asks for " + config.device() + " but "
          + config.platform().configName() + " models run on the CPU in Gantry; fix: set 'device: cpu'", null);
    }
    TreeLibrary library = switch (config.platform()) {
      case XGBOOST -> XgboostLibrary.open(file, threads);
      case LIGHTGBM -> LightgbmLibrary.open(file, threads);
      default -> throw new IllegalArgumentException(config.platform() + " is not a tree platform");
    };
    TensorSpec input = input(config, file, library.facts().features());
    TreeOutputs outputs;
    try (TreeLibrary.Predictor probe = library.newPredictor()) {
      float[] missing = new float[library.facts().features()];
      Arrays.fill(missing, Float.NaN);
      outputs = new TreeOutputs(library.facts(), width(probe, missing, file, library), library.predictionType(),
          config.maxBatchSize() > 0);
    }
    ModelSignature signature = new ModelSignature(List.of(input), outputs.specs(), config.maxBatchSize());
    return LoadedModel.of(new TreeModel(library, outputs), signature, config.platform(), config.device());
  }

  private static int width(TreeLibrary.Predictor probe, float[] row, Path file, TreeLibrary library) {
    try {
      return probe.predict(row, 1).length;
    } catch (Exception e) {
      throw new ConfigException(file + ": " + library.engineName() + " loads the model but cannot predict with"
          + " it: " + LoadedModel.engineMessage(e) + " (fix: re-save it with the library's save_model)", e);
    }
  }

  /** The MLflow signature's input, checked against the model, or one named {@code input}. */
  private static TensorSpec input(ModelConfig config, Path file, int features) {
    TensorSpec declared = config.inputs().isEmpty()
        ? new TensorSpec("input", DataType.FP32, new long[] {features})
        : config.inputs().get(0);
    long width = declared.dims()[declared.dims().length - 1];
    if (width != features) {
      throw new ConfigException(file + ": the MLflow signature has " + width + " input columns but the "
          + config.platform().configName() + " model takes " + features + " features; fix: log the model with the"
          + " signature of the data it was trained on", null);
    }
    long[] dims = config.maxBatchSize() > 0 ? new long[] {features} : new long[] {-1, features};
    return new TensorSpec(declared.name(), DataType.FP32, dims, declared.parameters());
  }
}
