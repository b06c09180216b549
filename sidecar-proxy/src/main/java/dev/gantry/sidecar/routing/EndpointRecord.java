package dev.gantry.sidecar.routing;

import static java.util.Objects.requireNonNull;

import dev.gantry.sidecar.core.Documents;
import dev.gantry.sidecar.core.Revisioned;
import java.util.List;
import java.util.Map;

/**
 * An endpoint as cluster state keeps it (one JSON document per endpoint, in the {@code gantry.endpoints} map): the
 * spec as applied, the bucket allocation computed when it was applied, and the revision. Every sidecar rebuilds the
 * same {@link Endpoint} from it, so a key lands on the same variant everywhere.
 *
 * @param revision 1 when created, one more at each change
 * @param updatedAt when the revision was written (ISO-8601, UTC)
 * @param updatedBy the member whose admin API wrote it
 * @param spec the spec as applied
 * @param allocation which buckets each variant owns
 */
public record EndpointRecord(long revision, String updatedAt, String updatedBy, EndpointSpec spec,
    Map<String, List<BucketRange>> allocation) implements Revisioned<EndpointSpec> {
  public EndpointRecord {
    requireNonNull(updatedAt, "updatedAt");
    requireNonNull(updatedBy, "updatedBy");
    requireNonNull(spec, "spec");
    requireNonNull(allocation, "allocation");
  }

  /** The record of a checked endpoint. */
  public static EndpointRecord of(long revision, String updatedAt, String updatedBy, EndpointSpec spec,
      Endpoint endpoint) {
    return new EndpointRecord(revision, updatedAt, updatedBy, spec, endpoint.allocation().owners());
  }

  /** The endpoint this record describes. */
  public Endpoint endpoint() {
    return Endpoint.restore(spec, new BucketAllocation(allocation));
  }

  public String toJson() {
    return Documents.write(this);
  }

  /** A stored document; {@link IllegalArgumentException} when it is not one. */
  public static EndpointRecord fromJson(String json) {
    return Documents.read(json, EndpointRecord.class);
  }

  /** The spec as JSON, as the admin API and the CLI show it. */
  public Map<String, Object> specAsMap() {
    return Documents.asMap(spec);
  }
}
