package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

/**
 * One thing wrong with an endpoint spec: the field's path (e.g. {@code variants[1].weight}) and what is wrong.
 */
public record SpecProblem(String path, String message) {

  public SpecProblem {
    requireNonNull(path, "path");
    requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return path + ": " + message;
  }
}
