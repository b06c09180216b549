package dev.gantry.runner.repository;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A model as found on disk: its config and the model file of each version to serve.
 *
 * @param config the parsed configuration
 * @param versions version number to model file, only the versions the policy selects
 * @param mlflow true when the model is an MLflow model directory
 */
public record ModelDefinition(ModelConfig config, SortedMap<Long, Path> versions, boolean mlflow) {
  public ModelDefinition {
    requireNonNull(config, "config");
    versions = Collections.unmodifiableSortedMap(new TreeMap<>(versions));
  }

  public String name() {
    return config.name();
  }
}
