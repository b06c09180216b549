package dev.gantry.runner.engine;

import dev.gantry.runner.repository.ModelConfig;
import java.nio.file.Path;

/**
 * Loads one version's model file into an engine. {@link ModelLoader} is the real one; a test
 * passes its own to see what the runner does when an engine fails in ways a real model cannot be
 * made to (see {@link LoadedModel#withRunHook}).
 */
@FunctionalInterface
public interface EngineLoader {
  /** @throws dev.gantry.runner.repository.ConfigException when the file or its config cannot be honoured */
  LoadedModel load(ModelConfig config, Path file);
}
