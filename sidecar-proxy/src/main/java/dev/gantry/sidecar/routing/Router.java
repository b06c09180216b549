package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.SidecarException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/**
 * Chooses a request's variant from an immutable snapshot of endpoints: a pure function of the snapshot, the request's
 * model name, sticky key and override, and a random source. Build a new router for each new snapshot.
 *
 * <ul>
 *   <li>A model name that is no endpoint is not routed (empty): it goes straight to the runner.</li>
 *   <li>{@code x-gantry-variant: <name>} pins the request to that variant, whatever its weight (0 included), where
 *       the endpoint allows overrides; a name the endpoint does not have is an invalid argument. Where the endpoint
 *       does not allow overrides the header is ignored, so that a client cannot take itself out of an experiment,
 *       and turning overrides off never breaks a client that still sends it.</li>
 *   <li>Otherwise a request with a sticky key lands in bucket {@link StickyHash#bucket}(salt, key), one without (or
 *       with an empty one) in a random bucket, and goes to the bucket's owner in the endpoint's allocation.</li>
 * </ul>
 */
public final class Router {
  /** The request header (and gRPC metadata key) that names a variant to pin a request to. */
  public static final String OVERRIDE_HEADER = "x-gantry-variant";

  private final Map<String, BucketTable> tables;

  /**
   * A router over a snapshot.
   *
   * @param endpoints endpoint name to endpoint; each key must be its endpoint's name
   */
  public Router(Map<String, Endpoint> endpoints) {
    requireNonNull(endpoints, "endpoints");
    Map<String, BucketTable> tables = new HashMap<>();
    endpoints.forEach((name, endpoint) -> {
      if (!name.equals(endpoint.name())) {
        throw new IllegalArgumentException("endpoint " + endpoint.name() + " is filed under " + name);
      }
      tables.put(name, new BucketTable(endpoint));
    });
    this.tables = Map.copyOf(tables);
  }

  /**
   * The variant for a request, or empty when {@code model} is not an endpoint.
   *
   * @param model the model name the request called
   * @param stickyKey the request's sticky key, or null (or empty) when it has none
   * @param override the value of {@value #OVERRIDE_HEADER}, or null when the request has none
   * @param random where random buckets come from
   * @throws SidecarException invalid argument when the override names no variant of an endpoint that allows them
   */
  public Optional<Assignment> route(String model, String stickyKey, String override, RandomGenerator random) {
    requireNonNull(model, "model");
    requireNonNull(random, "random");
    BucketTable table = tables.get(model);
    if (table == null) {
      return Optional.empty();
    }
    Endpoint endpoint = table.endpoint;
    if (override != null && endpoint.overrideAllowed()) {
      Variant pinned = endpoint.variant(override).orElseThrow(() -> SidecarException.invalid("endpoint '" + model
          + "' has no variant '" + override + "' (" + OVERRIDE_HEADER + "); its variants are "
          + endpoint.variants().stream().map(Variant::name).collect(Collectors.joining(", "))));
      return Optional.of(new Assignment(endpoint, pinned, Assignment.By.OVERRIDE));
    }
    if (stickyKey != null && !stickyKey.isEmpty()) {
      Variant v = table.owner(StickyHash.bucket(endpoint.salt(), stickyKey));
      return Optional.of(new Assignment(endpoint, v, Assignment.By.STICKY_KEY));
    }
    Variant v = table.owner(random.nextInt(BucketAllocation.BUCKETS));
    return Optional.of(new Assignment(endpoint, v, Assignment.By.RANDOM));
  }

  /** An endpoint's ranges flattened and sorted by start, for a binary search per request. */
  private static final class BucketTable {
    private final Endpoint endpoint;
    private final int[] starts;
    private final Variant[] owners;

    BucketTable(Endpoint endpoint) {
      this.endpoint = endpoint;
      record Owned(BucketRange range, Variant variant) {}
      Owned[] owned = endpoint.variants().stream()
          .flatMap(v -> endpoint.allocation().owners().get(v.name()).stream().map(r -> new Owned(r, v)))
          .sorted(Comparator.comparingInt(o -> o.range().start()))
          .toArray(Owned[]::new);
      this.starts = Arrays.stream(owned).mapToInt(o -> o.range().start()).toArray();
      this.owners = Arrays.stream(owned).map(Owned::variant).toArray(Variant[]::new);
    }

    Variant owner(int bucket) {
      int i = Arrays.binarySearch(starts, bucket);
      return owners[i >= 0 ? i : -i - 2];
    }
  }
}
