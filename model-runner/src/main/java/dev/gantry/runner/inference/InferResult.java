package dev.gantry.runner.inference;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The answer to one {@link InferRequest}.
 *
 * @param modelName the model that answered
 * @param modelVersion the version that answered
 * @param outputs the requested outputs (all when none were named)
 */
public record InferResult(String modelName, String modelVersion, List<Tensor> outputs) {
  public InferResult {
    requireNonNull(modelName, "modelName");
    requireNonNull(modelVersion, "modelVersion");
    outputs = List.copyOf(requireNonNull(outputs, "outputs"));
  }
}
