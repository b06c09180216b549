package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

/**
 * The variant a request is routed to, and why.
 *
 * @param endpoint the endpoint the request called
 * @param variant the variant chosen
 * @param by how it was chosen
 */
public record Assignment(Endpoint endpoint, Variant variant, By by) {

  /** How a variant was chosen. */
  public enum By {
    /** The request's sticky key hashed into a bucket. */
    STICKY_KEY,
    /** The request had no sticky key; a random bucket. */
    RANDOM,
    /** The request named the variant in {@code x-gantry-variant} and the endpoint allows it. */
    OVERRIDE
  }

  public Assignment {
    requireNonNull(endpoint, "endpoint");
    requireNonNull(variant, "variant");
    requireNonNull(by, "by");
  }
}
