package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * Where a request's sticky key comes from: a header, a cookie or a gRPC metadata key. Header and metadata names are
 * kept in lower case (they compare without case); cookie names as written.
 */
public record StickyKey(Source source, String name) {

  /** The kinds of place a sticky key can come from. */
  public enum Source { HEADER, COOKIE, METADATA }

  public StickyKey {
    requireNonNull(source, "source");
    requireNonNull(name, "name");
    if (source != Source.COOKIE) {
      name = name.toLowerCase(Locale.ROOT);
    }
  }
}
