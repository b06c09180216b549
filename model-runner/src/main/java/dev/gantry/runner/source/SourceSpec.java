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
 * @param onNewVersion what a new version under a watched URI does: replace the served one at once, or wait beside
 *     it for a rollout to promote or reject it
 */
public record SourceSpec(String name, ModelUri uri, Optional<Duration> watch, OnNewVersion onNewVersion) {
  /** What a watched URI's new version does. */
  public enum OnNewVersion {
    /** It is loaded, warmed and swapped in; the old version drains (the default). */
    SWAP,
    /**
     * It is loaded and warmed beside the served version as a candidate, which requests reach only by naming its
     * version; the sidecar rolls it out as a canary and then promotes it (it becomes the default, the old version
     * drains) or rejects it (it is unloaded, the old version keeps serving).
     */
    ROLLOUT;

    /** {@code swap} or {@code rollout}, as configuration spells them. */
    public static OnNewVersion parse(String text) {
      return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "", "swap" -> SWAP;
        case "rollout" -> ROLLOUT;
        default -> throw new IllegalArgumentException("on_new_version must be swap or rollout, got '" + text + "'");
      };
    }
  }

  /** A source whose new versions are swapped in. */
  public SourceSpec(String name, ModelUri uri, Optional<Duration> watch) {
    this(name, uri, watch, OnNewVersion.SWAP);
  }

  public SourceSpec {
    requireNonNull(name, "name");
    requireNonNull(uri, "uri");
    requireNonNull(watch, "watch");
    requireNonNull(onNewVersion, "onNewVersion");
    if (onNewVersion == OnNewVersion.ROLLOUT && watch.isEmpty()) {
      throw new IllegalArgumentException("model '" + name + "': on_new_version: rollout needs 'watch' (only a watched"
          + " stage or alias gets new versions)");
    }
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
