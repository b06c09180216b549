package dev.gantry.runner.engine.trees;

import dev.gantry.runner.engine.LoadedModel;
import dev.gantry.runner.engine.trees.TreeFacts.Objective;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.repository.ConfigException;
import io.github.metarank.lightgbm4j.LGBMException;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * LightGBM 4.3 through the lightgbm4j jar (natives inside; see {@link LightgbmBooster}): a Booster's text model file, as
 * {@code Booster.save_model} writes it. What MLflow's pyfunc answers for it is
 * {@code Booster.predict}.
 */
final class LightgbmLibrary implements TreeLibrary {
  private static final String FIX = "give it the text file that LightGBM's Booster.save_model writes (model.lgb)";

  private final Path file;
  private final String model;
  private final String parameters;
  private final TreeFacts facts;

  private LightgbmLibrary(Path file, String model, String parameters, TreeFacts facts) {
    this.file = file;
    this.model = model;
    this.parameters = parameters;
    this.facts = facts;
  }

  /** Reads and checks the model file. */
  static LightgbmLibrary open(Path file, int threads) {
    String text;
    try {
      text = Files.readString(file);
    } catch (MalformedInputException e) {
      throw new ConfigException(file, "", "is not a LightGBM text model (it is not text)", FIX);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the LightGBM model: " + e.getMessage(), e);
    }
    Map<String, String> header = header(text);
    if (!header.containsKey("max_feature_idx") || !header.containsKey("objective")) {
      throw new ConfigException(file, "", "is not a LightGBM text model (no 'max_feature_idx' or 'objective'"
          + " line before its trees)", FIX);
    }
    String parameters = threads > 0 ? "num_threads=" + threads : "";
    LightgbmLibrary library = new LightgbmLibrary(file, text, parameters, facts(header));
    library.newPredictor().close(); // LightGBM's own check of the trees
    return library;
  }

  /** The {@code key=value} lines before the first tree. */
  private static Map<String, String> header(String text) {
    Map<String, String> header = new HashMap<>();
    for (String line : text.split("\n", 200)) {
      if (line.startsWith("Tree=")) {
        break;
      }
      int eq = line.indexOf('=');
      if (eq > 0) {
        header.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
      }
    }
    return header;
  }

  private static TreeFacts facts(Map<String, String> header) {
    int features = Integer.parseInt(header.get("max_feature_idx")) + 1;
    String objective = header.get("objective").split(" ")[0];
    int classes = Integer.parseInt(header.getOrDefault("num_class", "1"));
    return switch (objective) {
      case "binary" -> new TreeFacts(features, Objective.BINARY, List.of("0", "1"), false);
      case "multiclass", "multiclassova" -> new TreeFacts(features, Objective.MULTICLASS, indices(classes), false);
      default -> new TreeFacts(features, Objective.OTHER, List.of(), false);
    };
  }

  private static List<String> indices(int n) {
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      labels.add(Integer.toString(i));
    }
    return labels;
  }

  @Override
  public String engineName() {
    return "LightGBM";
  }

  @Override
  public TreeFacts facts() {
    return facts;
  }

  @Override
  public DataType predictionType() {
    return DataType.FP64;
  }

  @Override
  public Predictor newPredictor() {
    LightgbmBooster booster;
    try {
      booster = LightgbmBooster.load(model);
    } catch (LGBMException | RuntimeException | UnsatisfiedLinkError e) {
      throw new ConfigException(file + ": LightGBM cannot load the model: " + LoadedModel.engineMessage(e)
          + "; fix: " + FIX, e);
    }
    int features = facts.features();
    return new Predictor() {
      @Override
      public double[] predict(float[] rows, int n) throws LGBMException {
        return booster.predict(rows, n, features, parameters);
      }

      @Override
      public void close() {
        booster.close();
      }
    };
  }
}
