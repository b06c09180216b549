package dev.gantry.runner.engine.trees;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.gantry.runner.engine.trees.TreeFacts.Objective;
import dev.gantry.runner.inference.DataType;
import dev.gantry.runner.repository.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * XGBoost through xgboost4j (3.4, natives in its jar). It reads the JSON and UBJSON formats; the
 * legacy binary format (what XGBoost before 2.0 wrote for a {@code .xgb} or {@code .bst} name) was
 * removed in XGBoost 3.1 and is refused with the way to convert it.
 */
final class XgboostLibrary implements TreeLibrary {
  static final String CONVERT = "re-save the model as JSON with the XGBoost that wrote it (1.0 or newer): "
      + "booster.load_model(\"model.xgb\"); booster.save_model(\"model.json\"), or log it again with "
      + "mlflow.xgboost.log_model(model, \"model\", model_format=\"json\")";
  /** The scikit-learn API's metadata holds {@code "missing": NaN}, which strict JSON has no word for. */
  private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  private final Path file;
  private final byte[] model;
  private final int threads;
  private final TreeFacts facts;

  private XgboostLibrary(Path file, byte[] model, int threads, TreeFacts facts) {
    this.file = file;
    this.model = model;
    this.threads = threads;
    this.facts = facts;
  }

  /** Reads and checks the model file. */
  static XgboostLibrary open(Path file, int threads) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the XGBoost model: " + e.getMessage(), e);
    }
    if (bytes.length >= 4 && new String(bytes, 0, 4, StandardCharsets.ISO_8859_1).equals("binf")) {
      throw new ConfigException(file, "", "is in XGBoost's legacy binary format, which XGBoost 3.1 and newer"
          + " (the runner's xgboost4j " + version() + ") no longer read", CONVERT);
    }
    Booster booster = load(file, bytes);
    try {
      return new XgboostLibrary(file, bytes, threads, facts(file, booster));
    } finally {
      booster.dispose();
    }
  }

  private static Booster load(Path file, byte[] bytes) {
    try {
      return XGBoost.loadModel(bytes);
    } catch (XGBoostError | IOException | RuntimeException e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      String message = String.valueOf(root.getMessage());
      String fix = message.contains("binary format") ? CONVERT
          : "give it a model file that XGBoost's Booster.save_model wrote as JSON (model.json) or UBJSON (model.ubj)";
      throw new ConfigException(file + ": XGBoost cannot load the model: " + firstLine(message) + "; fix: " + fix, e);
    }
  }

  private static TreeFacts facts(Path file, Booster booster) {
    JsonNode learner;
    try {
      learner = JSON.readTree(booster.toByteArray("json")).path("learner");
    } catch (XGBoostError | IOException e) {
      throw new ConfigException(file + ": XGBoost loads the model but cannot describe it: " + e.getMessage(), e);
    }
    JsonNode params = learner.path("learner_model_param");
    int features = params.path("num_feature").asInt();
    int classes = params.path("num_class").asInt();
    String objective = learner.path("objective").path("name").asText();
    JsonNode sklearn = sklearnMeta(learner.path("attributes").path("scikit_learn"));
    boolean classifier = "classifier".equals(sklearn.path("_estimator_type").asText());
    return switch (objective) {
      case "binary:logistic" -> new TreeFacts(features, Objective.BINARY, labels(sklearn, 2), classifier);
      case "multi:softprob" -> new TreeFacts(features, Objective.MULTICLASS, labels(sklearn, classes), classifier);
      default -> new TreeFacts(features, Objective.OTHER, List.of(), false);
    };
  }

  private static JsonNode sklearnMeta(JsonNode text) {
    try {
      return text.isTextual() ? JSON.readTree(text.asText()) : text;
    } catch (IOException e) {
      return JSON.createObjectNode(); // not written by the scikit-learn API: a raw Booster
    }
  }

  /** The scikit-learn API's {@code classes_} when it has them, else 0 … n-1. */
  private static List<String> labels(JsonNode sklearn, int n) {
    List<String> labels = new ArrayList<>();
    JsonNode classes = sklearn.path("classes_");
    for (int i = 0; i < n; i++) {
      labels.add(classes.isArray() && classes.size() == n ? classes.get(i).toString() : Integer.toString(i));
    }
    return labels;
  }

  /** The first line of XGBoost's message, without its "[time] source.cc:line: " prefix. */
  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).replaceFirst("^\\[[0-9:]+\\] \\S+: ", "").trim();
  }

  private static String version() {
    String v = XGBoost.class.getPackage().getImplementationVersion();
    return v == null ? "3.4" : v;
  }

  @Override
  public String engineName() {
    return "XGBoost";
  }

  @Override
  public TreeFacts facts() {
    return facts;
  }

  @Override
  public DataType predictionType() {
    return DataType.FP32;
  }

  @Override
  public Predictor newPredictor() {
    Booster booster = load(file, model);
    if (threads > 0) {
      try {
        booster.setParam("nthread", threads);
      } catch (XGBoostError e) {
        booster.dispose();
        throw new ConfigException(file + ": XGBoost refuses nthread=" + threads + ": " + e.getMessage(), e);
      }
    }
    int features = facts.features();
    return new Predictor() {
      @Override
      public double[] predict(float[] rows, int n) throws XGBoostError {
        float[][] out = booster.inplace_predict(rows, n, features, Float.NaN);
        int width = out.length == 0 ? 0 : out[0].length;
        double[] flat = new double[n * width];
        for (int r = 0; r < n; r++) {
          for (int c = 0; c < width; c++) {
            flat[r * width + c] = out[r][c];
          }
        }
        return flat;
      }

      @Override
      public void close() {
        booster.dispose();
      }
    };
  }
}
