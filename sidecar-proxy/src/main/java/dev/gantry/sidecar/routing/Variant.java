package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A checked variant of an {@link Endpoint}: what a request routed to it is sent to.
 *
 * @param name unique in its endpoint
 * @param model the model name the upstream serves it as
 * @param version the model version; empty means the upstream's default
 * @param upstream the pod's own runner or a remote one
 * @param weight whole percent of the endpoint's traffic
 */
public record Variant(String name, String model, Optional<String> version, Upstream upstream, int weight) {

  public Variant {
    requireNonNull(name, "name");
    requireNonNull(model, "model");
    requireNonNull(version, "version");
    requireNonNull(upstream, "upstream");
  }

  static Variant of(VariantSpec spec) {
    return new Variant(spec.name(), spec.model(), Optional.ofNullable(spec.version()), Upstream.parse(spec.upstream()),
        spec.weight());
  }
}
