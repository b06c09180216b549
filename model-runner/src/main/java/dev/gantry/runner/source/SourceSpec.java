package dev.gantry.runner.source;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * One model named by URI in the runner's configuration ({@code runner.sources} or {@code --model-uri}).
 *
 * @param name the name the model is served under
 * @param uri where it comes from
 * @param watch how often to ask the registry again what a stage, an alias or {@code latest} names; empty: never
 */
public record SourceSpec(String name, ModelUri uri, Optional<Duration> watch) {
  public SourceSpec {
    requireNonNull(name, "name");
    requireNonNull(uri, "uri");
    requireNonNull(watch, "watch");
    if (name.isBlank() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
      throw new IllegalArgumentException("model name '" + name + "' for " + uri.text() + " must be one path segment"
          + " (letters, digits, '-', '_', '.'), not starting with '.'");
    }
    if (watch.isPresent() && !(uri instanceof ModelUri.Registered r && r.moves())) {
      throw new IllegalArgumentException("model '" + name + "': 'watch' is set but " + uri.text() + " always names"
          + " the same files; watch a stage, an alias or latest (models:/<name>/Production, models:/<name>@champion)");
    }
    if (watch.isPresent() && (watch.get().isNegative() || watch.get().compareTo(Duration.ofSeconds(1)) < 0)) {
      throw new IllegalArgumentException("model '" + name + "': 'watch' must be at least 1s, got " + watch.get());
    }
  }

  /**
   * The name a URI's model is served under when none is given: the registered model's name, the last path segment
   * of any other URI.
   */
  public static String defaultName(ModelUri uri) {
    if (uri instanceof ModelUri.Registered r) {
      return r.name();
    }
    String t = uri.text().replaceAll("[/\\\\]+$", "");
    String last = t.substring(Math.max(t.lastIndexOf('/'), t.lastIndexOf('\\')) + 1);
    last = last.contains(":") ? last.substring(last.indexOf(':') + 1) : last;
    return last.isEmpty() || last.startsWith(".") ? "model" : last;
  }
}
