package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.SidecarException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A checked endpoint with its bucket allocation: the immutable form the {@link Router} reads. Build one from a spec
 * with {@link #initial} (first version) or {@link #revise} (a change, moving as few keys as it can).
 *
 * @param name the model name clients call
 * @param salt what sticky keys are hashed with
 * @param stickyKey where a request's sticky key comes from; empty means every request is assigned at random
 * @param overrideAllowed whether {@code x-gantry-variant} may pin a request to a variant
 * @param variants in declared order
 * @param allocation which buckets each variant owns; names exactly the variants, each owning weight × 100 buckets
 */
public record Endpoint(String name, String salt, Optional<StickyKey> stickyKey, boolean overrideAllowed,
    List<Variant> variants, BucketAllocation allocation) {

  public Endpoint {
    requireNonNull(name, "name");
    requireNonNull(salt, "salt");
    requireNonNull(stickyKey, "stickyKey");
    variants = List.copyOf(variants);
    requireNonNull(allocation, "allocation");
    if (!allocation.owners().keySet().equals(weights(variants).keySet())) {
      throw new IllegalArgumentException("allocation of " + name + " names " + allocation.owners().keySet()
          + ", the variants are " + weights(variants).keySet());
    }
    for (Variant v : variants) {
      if (allocation.bucketCount(v.name()) != v.weight() * BucketAllocation.BUCKETS_PER_PERCENT) {
        throw new IllegalArgumentException("allocation of " + name + " gives " + v.name() + " "
            + allocation.bucketCount(v.name()) + " buckets, its weight " + v.weight() + " needs "
            + v.weight() * BucketAllocation.BUCKETS_PER_PERCENT);
      }
    }
  }

  /**
   * The endpoint a spec describes, its buckets laid out afresh ({@link BucketAllocation#initial}).
   *
   * @throws SidecarException invalid argument, naming every problem's field, when the spec is not valid
   */
  public static Endpoint initial(EndpointSpec spec) {
    List<Variant> variants = check(spec);
    return of(spec, variants, BucketAllocation.initial(weights(variants)));
  }

  /**
   * The endpoint a changed spec describes, its buckets moved as little as they can be from {@code previous}'s
   * ({@link BucketAllocation#next}): raising a variant's weight only moves keys onto it.
   *
   * @throws SidecarException invalid argument when the spec is not valid or names another endpoint
   */
  public static Endpoint revise(Endpoint previous, EndpointSpec spec) {
    requireNonNull(previous, "previous");
    List<Variant> variants = check(spec);
    if (!previous.name().equals(spec.name())) {
      throw SidecarException.invalid("endpoint spec: name: '" + spec.name() + "' cannot revise endpoint '"
          + previous.name() + "'");
    }
    return of(spec, variants, BucketAllocation.next(previous.allocation(), weights(variants)));
  }

  /**
   * The endpoint a stored spec and its stored allocation describe: how every sidecar rebuilds the same endpoint from
   * cluster state.
   *
   * @throws SidecarException invalid argument when the spec is not valid
   * @throws IllegalArgumentException when the allocation does not fit the spec's weights
   */
  public static Endpoint restore(EndpointSpec spec, BucketAllocation allocation) {
    requireNonNull(allocation, "allocation");
    return of(spec, check(spec), allocation);
  }

  /** The variant of this name, if the endpoint has one. */
  public Optional<Variant> variant(String variantName) {
    return variants.stream().filter(v -> v.name().equals(variantName)).findFirst();
  }

  /** Variant names to weights, in declared order. */
  public Map<String, Integer> weights() {
    return weights(variants);
  }

  private static List<Variant> check(EndpointSpec spec) {
    requireNonNull(spec, "spec");
    List<SpecProblem> problems = spec.problems();
    if (!problems.isEmpty()) {
      throw SidecarException.invalid("endpoint spec" + (spec.name() == null ? "" : " '" + spec.name() + "'") + ": "
          + problems.stream().map(SpecProblem::toString).collect(Collectors.joining("; ")));
    }
    return spec.variants().stream().map(Variant::of).toList();
  }

  private static Endpoint of(EndpointSpec spec, List<Variant> variants, BucketAllocation allocation) {
    Optional<StickyKey> stickyKey = Optional.ofNullable(spec.stickyKey()).map(Endpoint::stickyKey);
    return new Endpoint(spec.name(), spec.salt() == null ? spec.name() : spec.salt(), stickyKey,
        Boolean.TRUE.equals(spec.allowOverride()), variants, allocation);
  }

  private static StickyKey stickyKey(StickyKeySpec spec) {
    if (spec.header() != null) {
      return new StickyKey(StickyKey.Source.HEADER, spec.header());
    }
    return spec.cookie() != null ? new StickyKey(StickyKey.Source.COOKIE, spec.cookie())
        : new StickyKey(StickyKey.Source.METADATA, spec.metadata());
  }

  private static Map<String, Integer> weights(List<Variant> variants) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    variants.forEach(v -> weights.put(v.name(), v.weight()));
    return Collections.unmodifiableMap(weights);
  }
}
