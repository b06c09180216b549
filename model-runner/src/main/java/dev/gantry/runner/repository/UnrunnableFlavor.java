package dev.gantry.runner.repository;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The refusal of an MLflow model whose flavors only Python can run: a pickled scikit-learn model,
 * a custom {@code python_function}, or a framework Gantry has no engine for. The message names
 * the flavor and how to log the model so that Gantry can serve it.
 */
final class UnrunnableFlavor {
  static final String SKLEARN_TO_ONNX = "log the model with the onnx flavor: onx = skl2onnx.to_onnx(model,"
      + " X[:1].astype(numpy.float32)); mlflow.onnx.log_model(onx, \"model\", signature="
      + "mlflow.models.infer_signature(X, model.predict(X)))";
  private static final String OTHER_TO_ONNX = "log the underlying model with a flavor Gantry runs: onnx"
      + " (scikit-learn: onx = skl2onnx.to_onnx(model, X[:1].astype(numpy.float32)); PyTorch: torch.onnx.export;"
      + " then mlflow.onnx.log_model(onx, \"model\", signature=...)), pytorch saved as TorchScript, xgboost, or"
      + " lightgbm (a Booster)";

  private UnrunnableFlavor() {}

  /** The error for an MLmodel none of whose flavors Gantry runs. */
  static ConfigException refusal(Path file, JsonNode flavors) {
    List<String> names = new ArrayList<>();
    flavors.fieldNames().forEachRemaining(names::add);
    List<String> frameworks = names.stream().filter(n -> !n.equals("python_function")).toList();
    if (frameworks.equals(List.of("sklearn"))) {
      JsonNode sklearn = flavors.path("sklearn");
      return new ConfigException(file, "flavors.sklearn", "is a scikit-learn model saved as a Python pickle ("
          + sklearn.path("pickled_model").asText("model.pkl") + ", serialization_format "
          + sklearn.path("serialization_format").asText("cloudpickle") + "), which only Python can load",
          SKLEARN_TO_ONNX);
    }
    if (frameworks.isEmpty() && flavors.has("python_function")) {
      JsonNode pyfunc = flavors.path("python_function");
      String what = pyfunc.has("python_model")
          ? "python_model: " + pyfunc.path("python_model").asText()
          : "loader_module: " + pyfunc.path("loader_module").asText("?");
      return new ConfigException(file, "flavors.python_function", "is a custom Python model (" + what
          + ") and the MLmodel has no onnx, pytorch, xgboost or lightgbm flavor; Gantry cannot run Python code",
          OTHER_TO_ONNX);
    }
    return new ConfigException(file, "flavors", "has " + (frameworks.isEmpty() ? "no flavor" : "flavor(s) "
        + frameworks) + " but none that Gantry runs (onnx, pytorch, xgboost, lightgbm)", OTHER_TO_ONNX);
  }
}
