package dev.gantry.runner.repository;

import java.nio.file.Path;
import java.util.Set;

/**
 * Models that come from a model URI rather than from the repository directory: each is, once fetched, an MLflow
 * model directory on local disk, served under its own name at the version its source gave.
 */
public interface SourcedModels {
  /** No sourced models. */
  SourcedModels NONE = new SourcedModels() {
    @Override
    public Set<String> names() {
      return Set.of();
    }

    @Override
    public Sourced current(String name) {
      throw new ConfigException("no model source named '" + name + "'", null);
    }
  };

  /** What a sourced model serves now. */
  record Sourced(String uri, long version, Path dir) {}

  /** The names of the sourced models. Must not block. */
  Set<String> names();

  /**
   * The version to serve now and its directory.
   *
   * @throws ConfigException saying why the source has nothing to serve (it could not be resolved or fetched)
   */
  Sourced current(String name);

  /**
   * A version loaded beside the current one while a rollout decides about it (a source with
   * {@code on_new_version: rollout}); requests reach it only by naming its version.
   */
  default java.util.Optional<Sourced> candidate(String name) {
    return java.util.Optional.empty();
  }

  /** Why the last attempt to move this model to a new version failed, while the old one kept serving. */
  default java.util.Optional<String> updateFailure(String name) {
    return java.util.Optional.empty();
  }
}
