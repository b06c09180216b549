package dev.gantry.sidecar.adapter;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.ErrorKind;
import dev.gantry.sidecar.core.SidecarException;
import dev.gantry.sidecar.path.RequestPath;
import dev.gantry.sidecar.runner.ModelCatalog;
import dev.gantry.sidecar.runner.RunnerConnection;
import dev.gantry.sidecar.runner.RunnerHealth;
import java.util.Optional;

/**
 * What a protocol adapter may use: the request path, model metadata, the runner link for
 * non-inference calls, runner health, and the model that serves paths without one.
 */
public record AdapterContext(RequestPath path, ModelCatalog catalog, RunnerConnection runner, RunnerHealth health,
    Optional<String> defaultModel, String serverVersion) {
  public AdapterContext {
    requireNonNull(path, "path");
    requireNonNull(catalog, "catalog");
    requireNonNull(runner, "runner");
    requireNonNull(health, "health");
    requireNonNull(defaultModel, "defaultModel");
    requireNonNull(serverVersion, "serverVersion");
  }

  /** The default model, or NOT_FOUND explaining how to set one. */
  public String requireDefaultModel() {
    return defaultModel.orElseThrow(() -> new SidecarException(ErrorKind.NOT_FOUND,
        "this endpoint has no model in its path and no default model is configured; set --default-model"
            + " (GANTRY_DEFAULT_MODEL) or use a per-model endpoint"));
  }
}
