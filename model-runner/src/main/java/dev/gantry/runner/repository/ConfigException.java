package dev.gantry.runner.repository;

import java.nio.file.Path;

/**
 * A model configuration that cannot be used. The message names the file, the key and the fix,
 * so that it can be acted on from a log line alone.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(Path file, String key, String problem, String fix) {
    super(file + ": " + (key.isEmpty() ? "" : "'" + key + "' ") + problem + (fix.isEmpty() ? "" : "; fix: " + fix));
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
